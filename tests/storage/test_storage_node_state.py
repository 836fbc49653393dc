"""Node state kept across restarts: session cache, pending transactions, provider stats, settings; async facade."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.errors import StorageError
from app.storage import AsyncStorage, CachedSession, ProviderRequest, Storage

MODEL = "0x" + "ab" * 32
USER = "0x" + "aa" * 20
PROV_A = "0x" + "a1" * 20
PROV_B = "0x" + "b2" * 20


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Storage]:
    s = Storage(tmp_path / "node.sqlite3")
    yield s
    s.close()


def _session(sid: str, *, ends_at: int, closed_at: int | None = None) -> CachedSession:
    return CachedSession(
        id=sid, user=USER, provider=PROV_A, model_id=MODEL, bid_id="0x" + "cc" * 32, stake_wei=25 * 10**18,
        price_per_second_wei=10**13, opened_at=1000, ends_at=ends_at, closed_at=closed_at, failover=False,
        provider_url="127.0.0.1:3333", provider_pubkey="04" + "ee" * 64,
    )


def test_cached_session_round_trips_with_exact_amounts(store: Storage) -> None:
    session = _session("0x" + "01" * 32, ends_at=5000)
    store.sessions.save(session)
    assert store.sessions.get(session.id) == session


def test_open_sessions_exclude_closed_and_ended_ones(store: Storage) -> None:
    live = _session("0x" + "01" * 32, ends_at=5000)
    store.sessions.save(live)
    store.sessions.save(_session("0x" + "02" * 32, ends_at=1500))
    store.sessions.save(_session("0x" + "03" * 32, ends_at=9000, closed_at=2000))
    assert [s.id for s in store.sessions.open_sessions(USER, now_s=2000)] == [live.id]
    assert {s.id for s in store.sessions.unclosed_sessions(USER)} == {live.id, "0x" + "02" * 32}
    assert store.sessions.mark_closed(live.id, 2500)
    assert store.sessions.open_sessions(USER, now_s=2000) == []


def test_pending_transactions_are_found_again_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite3"
    first = Storage(path)
    first.pending_txs.add("0x" + "dd" * 32, nonce=7, purpose="openSession", at=1)
    first.pending_txs.add("0x" + "ee" * 32, nonce=6, purpose="approve", at=2)
    first.pending_txs.set_state("0x" + "ee" * 32, "mined")
    first.close()
    second = Storage(path)
    assert [(t.hash, t.nonce, t.purpose) for t in second.pending_txs.pending()] == [
        ("0x" + "dd" * 32, 7, "openSession"),
    ]
    with pytest.raises(StorageError, match="Invalid transaction state"):
        second.pending_txs.set_state("0x" + "dd" * 32, "lost")
    second.close()


def test_provider_stats_aggregate_every_request(store: Storage) -> None:
    store.provider_stats.record(ProviderRequest(PROV_A, MODEL, at=1, ok=True, ttft_ms=100.0, tps=30.0))
    store.provider_stats.record(ProviderRequest(PROV_A, MODEL, at=2, ok=True, ttft_ms=300.0, tps=50.0))
    store.provider_stats.record(ProviderRequest(PROV_A, MODEL, at=3, ok=False, reason="connection refused"))
    stats = store.provider_stats.stats(PROV_A, MODEL)
    assert stats is not None
    assert (stats.requests, stats.successes, stats.failures) == (3, 2, 1)
    assert (stats.mean_ttft_ms, stats.mean_tps) == (200.0, 40.0)
    assert stats.success_rate == pytest.approx(2 / 3)
    assert (stats.failed_at, stats.last_failure_reason) == (3, "connection refused")
    assert [r.at for r in store.provider_stats.requests(PROV_A, MODEL)] == [3, 2, 1]
    assert set(store.provider_stats.stats_for_model(MODEL)) == {PROV_A}


def test_cool_down_lists_recently_failed_providers_until_cleared(store: Storage) -> None:
    store.provider_stats.record(ProviderRequest(PROV_A, MODEL, at=10_000, ok=False, reason="timeout"))
    store.provider_stats.record(ProviderRequest(PROV_B, MODEL, at=1_000, ok=False, reason="timeout"))
    assert store.provider_stats.cooling_down(MODEL, now=12_000, window_ms=5_000) == {PROV_A}
    store.provider_stats.clear_cooldown(PROV_A, MODEL)
    assert store.provider_stats.cooling_down(MODEL, now=12_000, window_ms=5_000) == set()


def test_settings_store_strings_by_key(store: Storage) -> None:
    assert store.settings.get("failover", "true") == "true"
    store.settings.set("failover", "false")
    store.settings.set("theme", "dark")
    assert store.settings.all() == {"failover": "false", "theme": "dark"}
    assert store.settings.delete("theme")
    assert not store.settings.delete("theme")


async def test_async_facade_runs_sqlite_off_the_event_loop_thread(tmp_path: Path) -> None:
    astore = await AsyncStorage.open(tmp_path / "node.sqlite3")
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def where() -> int:
        seen.append(threading.get_ident())
        return len(seen)

    assert await astore.run(where) == 1
    assert seen[0] != loop_thread
    chat = await astore.run(astore.sync.chats.create_chat, "async", MODEL)
    answer = await astore.run(astore.sync.chats.add_message, chat.id, "assistant", "")
    # Appends queued concurrently still land in submission order (one storage thread).
    await asyncio.gather(*(astore.append_to_message(answer.id, f"{i},") for i in range(50)))
    message = await astore.run(astore.sync.chats.get_message, answer.id)
    assert message is not None
    assert message.content == "".join(f"{i}," for i in range(50))
    await astore.close()


async def test_async_facade_passes_storage_errors_through(tmp_path: Path) -> None:
    astore = await AsyncStorage.open(tmp_path / "node.sqlite3")
    with pytest.raises(StorageError, match="No message"):
        await astore.append_to_message(12345, "x")
    await astore.close()
