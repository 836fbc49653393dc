"""Transaction receipts as plain dataclasses, with their logs decoded into named events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address

from app.chain.abi import Event
from app.chain.diamond_abi import EVENTS_BY_TOPIC
from app.errors import ChainError


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = str(value)
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


@dataclass(frozen=True)
class DecodedEvent:
    """One log we know the ABI of: ``name`` and ``args`` (parameter name → value)."""

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int


def decode_log(entry: Mapping[str, Any], events: Mapping[bytes, Event] = EVENTS_BY_TOPIC) -> DecodedEvent | None:
    """Decode one raw log, or None if its topic0 is not a known event."""
    topics = [_bytes(t) for t in entry.get("topics", [])]
    if not topics:
        return None
    spec = events.get(topics[0])
    if spec is None:
        return None
    try:
        args = spec.decode(topics, _bytes(entry.get("data", b"")))
    except Exception:  # a log with our topic0 but another layout (e.g. a foreign contract): not ours
        return None
    return DecodedEvent(
        name=spec.name,
        args=args,
        address=to_checksum_address(entry["address"]),
        block_number=int(entry.get("blockNumber") or 0),
        tx_hash=_hex(entry.get("transactionHash", b"")),
        log_index=int(entry.get("logIndex") or 0),
    )


@dataclass(frozen=True)
class TxReceipt:
    """A mined transaction: status 1 only (status 0 is raised as a decoded revert)."""

    tx_hash: str
    block_number: int
    gas_used: int
    effective_gas_price: int
    contract_address: str | None
    events: tuple[DecodedEvent, ...] = field(default_factory=tuple)

    @classmethod
    def from_rpc(cls, raw: Mapping[str, Any]) -> TxReceipt:
        events = tuple(e for e in (decode_log(entry) for entry in raw.get("logs", [])) if e is not None)
        created = raw.get("contractAddress")
        return cls(
            tx_hash=_hex(raw["transactionHash"]),
            block_number=int(raw["blockNumber"]),
            gas_used=int(raw.get("gasUsed") or 0),
            effective_gas_price=int(raw.get("effectiveGasPrice") or 0),
            contract_address=to_checksum_address(created) if created else None,
            events=events,
        )

    def find(self, name: str, address: str | None = None) -> list[DecodedEvent]:
        """All events called ``name`` (optionally emitted by ``address``)."""
        return [e for e in self.events if e.name == name and (address is None or e.address.lower() == address.lower())]

    def one(self, name: str, address: str | None = None) -> DecodedEvent:
        """The single event called ``name``; a ChainError if the receipt has none."""
        found = self.find(name, address)
        if not found:
            raise ChainError(f"Transaction {self.tx_hash} succeeded but emitted no {name} event.")
        return found[-1]
