"""Listening TCP sockets of a process and its children, read from /proc (Linux)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Listener:
    pid: int
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.host).is_loopback


def _family_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            todo += [int(c) for c in children]
    return pids


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _decode(hex_address: str, v6: bool) -> tuple[str, int]:
    host_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(host_hex)
    # /proc stores each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    host = str(ipaddress.IPv6Address(words)) if v6 else str(ipaddress.IPv4Address(words))
    return host, int(port_hex, 16)


def listeners(pid: int | None = None) -> list[Listener]:
    """Every TCP socket in LISTEN state owned by ``pid`` (default: this process) or any of its descendants."""
    found: list[Listener] = []
    for owner in _family_tree(pid or os.getpid()):
        inodes = _socket_inodes(owner)
        for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    host, port = _decode(fields[1], v6)
                    found.append(Listener(owner, host, port))
    return found
