"""Seeds the demo marketplace with a history of real closed sessions, once, and records that in the devnet folder.

A consumer dev account opens short sessions with each demo provider through the real :class:`ConsumerService`,
sends one real prompt to the local model and closes with the provider's signed report. The flaky provider's
scheduled failures (see ``demo_proxy``) cut one of its answers and refuse one of its reports, so that session is
closed with a self-signed receipt (a dispute) and its on-chain success rate ends lower than the others'.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.chain.client import ChainClient
from app.devnet.demo_chain import DemoAccount, ensure_funds
from app.devnet.deployment import Deployment, devnet_dir
from app.devnet.faucet import Faucet
from app.errors import AppError, DevnetError
from app.router.consumer.failover import ChunkItem
from app.router.consumer.prompt import content_of
from app.router.consumer.service import ConsumerService, ConsumerSettings
from app.storage.store import AsyncStorage

__all__ = ["SEED_FILE", "SeedReport", "SeedTarget", "SeededSession", "load_seed_record", "seed_history"]

log = logging.getLogger(__name__)

SEED_FILE = "demo-seed.json"
# A little above the contract's 5-minute minimum (the stake is computed a block or two before it is mined), so the
# stakes stay small; every session is closed right after its prompt anyway.
SEED_SESSION_S = 360
SEED_CONSUMER_MOR = 100 * 10**18
PROMPTS = (
    "Name one colour of the rainbow.",
    "What is 2 + 2? Answer with one word.",
    "Say hello in French.",
)


@dataclass(frozen=True)
class SeedTarget:
    """A provider to seed: its address, bid and how long its answers may be (``max_tokens``)."""

    name: str
    address: str
    bid_id: bytes
    max_tokens: int


@dataclass(frozen=True)
class SeededSession:
    """One seeded session as it ended."""

    provider: str
    session_id: str
    answered: bool
    disputed: bool
    note: str = ""


@dataclass(frozen=True)
class SeedReport:
    """What seeding did, as recorded in ``devnet/demo-seed.json``."""

    chain_id: int
    diamond: str
    consumer: str
    sessions: tuple[SeededSession, ...]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "sessions": [asdict(s) for s in self.sessions]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeedReport:
        sessions = tuple(SeededSession(**s) for s in data["sessions"])
        return cls(int(data["chain_id"]), str(data["diamond"]), str(data["consumer"]), sessions,
                   float(data["seconds"]))


def seed_path(data_dir: Path) -> Path:
    return devnet_dir(data_dir) / SEED_FILE


def load_seed_record(data_dir: Path) -> SeedReport | None:
    """The recorded seeding, or None when there is none or it is unreadable (then the history is seeded again)."""
    path = seed_path(data_dir)
    if not path.exists():
        return None
    try:
        return SeedReport.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("ignoring the unreadable demo seed record %s: %s", path, e)
        return None


def save_seed_record(data_dir: Path, report: SeedReport) -> None:
    path = seed_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


async def is_seeded(data_dir: Path, consumer: DemoAccount, deployment: Deployment) -> bool:
    """True when the record matches this chain: same Diamond, and its first session exists there, opened by us."""
    record = await asyncio.to_thread(load_seed_record, data_dir)
    if record is None or record.chain_id != deployment.chain_id or not record.sessions:
        return False
    if record.diamond.lower() != deployment.diamond.lower():
        return False
    session = await consumer.diamond.get_session(bytes.fromhex(record.sessions[0].session_id.removeprefix("0x")))
    return session.exists and session.user.lower() == consumer.address.lower()


async def seed_history(
    client: ChainClient,
    deployment: Deployment,
    faucet: Faucet,
    consumer: DemoAccount,
    targets: Sequence[SeedTarget],
    data_dir: Path,
    *,
    sessions_per_provider: int = 2,
) -> SeedReport:
    """Open, prompt and close ``sessions_per_provider`` real sessions with each target; record and return them."""
    started = time.monotonic()
    await ensure_funds(faucet, client, consumer.address, SEED_CONSUMER_MOR)
    db_path = devnet_dir(data_dir) / "demo-seed.sqlite3"
    await asyncio.to_thread(_remove_database, db_path)  # left over by an interrupted seeding
    storage = await AsyncStorage.open(db_path)  # a scratch database: the user's own history stays untouched
    seeded: list[SeededSession] = []
    try:
        service = ConsumerService(
            consumer.signer, consumer.diamond, consumer.token, client, storage,
            settings=ConsumerSettings(failover_enabled=False, first_message_timeout_s=60.0),
        )
        for round_ in range(sessions_per_provider):
            for target in targets:
                seeded.append(await _one_session(service, target, PROMPTS[round_ % len(PROMPTS)]))
    finally:
        await storage.close()
        await asyncio.to_thread(_remove_database, db_path)
    report = SeedReport(deployment.chain_id, deployment.diamond, consumer.address, tuple(seeded),
                        round(time.monotonic() - started, 2))
    await asyncio.to_thread(save_seed_record, data_dir, report)
    return report


def _remove_database(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


async def _one_session(service: ConsumerService, target: SeedTarget, prompt: str) -> SeededSession:
    try:
        session = await service.open_session(bid_id="0x" + target.bid_id.hex(), duration_s=SEED_SESSION_S,
                                              failover=False)
    except AppError as e:
        raise DevnetError(f"seeding could not open a session with demo provider {target.name}: {e.user_message}") from e
    answered, note = True, ""
    try:
        params = {"max_tokens": target.max_tokens, "temperature": 0}
        items = service.chat(prompt=prompt, session_id=session.id, failover=False, params=params, store=False)
        text = ""
        async with aclosing(items):
            async for item in items:
                if isinstance(item, ChunkItem):
                    text += content_of(item.data)
        log.info("seeding: %s answered %r", target.name, text[:80])
    except AppError as e:
        answered, note = False, e.user_message[:200]
        log.info("seeding: %s failed the prompt: %s", target.name, note)
    result = await service.close_session(session.id)
    return SeededSession(target.address, session.id, answered, result.disputed, note or result.reason[:200])
