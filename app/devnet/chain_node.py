"""The handle of a running devnet chain: where to reach it, which engine runs it, and how to stop it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

Engine = Literal["anvil", "eth-tester"]


@dataclass
class ChainNode:
    """A chain served over JSON-RPC on 127.0.0.1; ``persistent`` says whether its state survives a restart."""

    rpc_url: str
    chain_id: int
    engine: Engine
    persistent: bool
    pid: int | None = None  # the child process serving the chain (anvil or eth-tester)
    _stopper: Callable[[], Awaitable[None]] | None = field(default=None, repr=False, compare=False)

    async def stop(self) -> None:
        """Stop the chain (anvil dumps its state first). Safe to call more than once."""
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            await stopper()

    @property
    def running(self) -> bool:
        """False once :meth:`stop` has been called."""
        return self._stopper is not None
