"""The pending-transaction journal: rows carry sender and chain, and a v2 database migrates without losing rows."""

from __future__ import annotations

from pathlib import Path

from app.storage import Storage
from app.storage.database import Database
from app.storage.schema import CURRENT_VERSION

ALICE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
H1, H2, H3 = ("0x" + c * 64 for c in "abc")


def test_pending_is_filtered_by_sender_and_chain(tmp_path: Path) -> None:
    store = Storage(tmp_path / "node.sqlite3")
    store.pending_txs.add(H1, 3, "approving MOR", sender=ALICE, chain_id=8453)
    store.pending_txs.add(H2, 4, "opening a session", sender=ALICE, chain_id=31337)
    store.pending_txs.add(H3, 3, "sending 1 ETH", sender=BOB, chain_id=8453)

    assert [t.hash for t in store.pending_txs.pending(ALICE.upper().replace("0X", "0x"), 8453)] == [H1]
    assert [t.hash for t in store.pending_txs.pending(chain_id=8453)] == [H1, H3]
    [mine] = store.pending_txs.pending(sender=ALICE, chain_id=31337)
    assert (mine.sender, mine.chain_id, mine.nonce, mine.purpose) == (ALICE.lower(), 31337, 4, "opening a session")
    store.close()


def test_settled_transactions_leave_pending_but_stay_readable(tmp_path: Path) -> None:
    store = Storage(tmp_path / "node.sqlite3")
    store.pending_txs.add(H1, 3, "approving MOR", sender=ALICE, chain_id=1)
    assert store.pending_txs.set_state(H1.upper().replace("0X", "0x"), "replaced")
    assert store.pending_txs.pending(ALICE, 1) == []
    row = store.pending_txs.get(H1)
    assert row is not None and row.state == "replaced"
    assert store.pending_txs.get(H2) is None
    store.close()


def test_v2_journal_rows_survive_the_migration_with_an_unknown_owner(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = Database(path, target_version=2)
    with old.write() as conn:
        conn.execute("INSERT INTO pending_transactions (hash, nonce, purpose, created) VALUES (?, 9, 'x', 5)", (H1,))
    old.close()

    store = Storage(path)
    assert store.db.schema_version() == CURRENT_VERSION
    [row] = store.pending_txs.pending()
    assert (row.hash, row.nonce, row.sender, row.chain_id, row.state) == (H1, 9, "", 0, "pending")
    assert store.pending_txs.pending(ALICE, 1) == []  # an unowned row is never resumed for some wallet
    store.close()


RAW = bytes.fromhex("02f8") + b"\x11" * 100  # stands in for a signed type-2 transaction
DAY_MS = 24 * 3600 * 1000


def test_the_raw_signed_transaction_is_kept_but_not_shown_in_the_row_repr(tmp_path: Path) -> None:
    store = Storage(tmp_path / "node.sqlite3")
    store.pending_txs.add(H1, 3, "approving MOR", sender=ALICE, chain_id=1, raw=RAW)
    [row] = store.pending_txs.pending(ALICE, 1)
    assert row.raw == RAW
    assert RAW.hex() not in repr(row) and "11111111" not in repr(row)
    store.close()


def test_leaving_pending_stamps_the_settled_time_and_going_back_clears_it(tmp_path: Path) -> None:
    store = Storage(tmp_path / "node.sqlite3")
    store.pending_txs.add(H1, 3, "approving MOR", sender=ALICE, chain_id=1, at=1_000)
    assert store.pending_txs.set_state(H1, "mined", at=5_000)
    assert (row := store.pending_txs.get(H1)) is not None and (row.state, row.settled) == ("mined", 5_000)
    assert store.pending_txs.set_state(H1, "pending")
    assert (row := store.pending_txs.get(H1)) is not None and (row.state, row.settled) == ("pending", None)
    store.close()


def test_v3_journal_migrates_and_its_rows_have_no_raw_bytes_or_settled_time(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = Database(path, target_version=3)
    with old.write() as conn:
        conn.execute("INSERT INTO pending_transactions (hash, nonce, purpose, created, sender, chain_id)"
                     " VALUES (?, 9, 'x', 5, ?, 1)", (H1, ALICE.lower()))
    old.close()

    store = Storage(path)
    assert store.db.schema_version() == CURRENT_VERSION == 4
    [row] = store.pending_txs.pending(ALICE, 1)
    assert (row.hash, row.nonce, row.state, row.raw, row.settled) == (H1, 9, "pending", None, None)
    store.close()


def test_pruning_deletes_only_settled_rows_older_than_30_days_and_never_pending_ones(tmp_path: Path) -> None:
    store = Storage(tmp_path / "node.sqlite3")
    now = 100 * DAY_MS
    rows = {  # hash: (state, created, settled)
        "0x" + "01" * 32: ("mined", now - 40 * DAY_MS, now - 31 * DAY_MS),  # settled long ago: pruned
        "0x" + "02" * 32: ("failed", now - 40 * DAY_MS, now - 31 * DAY_MS),
        "0x" + "03" * 32: ("dropped", now - 40 * DAY_MS, now - 31 * DAY_MS),
        "0x" + "04" * 32: ("replaced", now - 40 * DAY_MS, now - 31 * DAY_MS),
        "0x" + "05" * 32: ("mined", now - 40 * DAY_MS, now - 29 * DAY_MS),  # old tx, settled recently: kept
        "0x" + "06" * 32: ("dropped", now - DAY_MS, now - DAY_MS),  # recent: kept
        "0x" + "07" * 32: ("pending", now - 400 * DAY_MS, None),  # pending, however old: kept
    }
    for i, (tx_hash, (state, created, settled)) in enumerate(rows.items()):
        store.pending_txs.add(tx_hash, i, "x", sender=ALICE, chain_id=1, at=created)
        if settled is not None:
            store.pending_txs.set_state(tx_hash, state, at=settled)
    with store.db.write() as conn:  # a row settled before schema v4 has no stamp: it ages from created
        conn.execute("INSERT INTO pending_transactions (hash, nonce, purpose, created, state) VALUES (?, 8, 'x', ?,"
                     " 'mined')", ("0x" + "08" * 32, now - 31 * DAY_MS))

    assert store.pending_txs.prune_settled(now=now) == 5

    with store.db.read() as conn:
        left = sorted(r[0][2:4] for r in conn.execute("SELECT hash FROM pending_transactions"))
    assert left == ["05", "06", "07"]
    store.close()


def test_opening_the_database_prunes_settled_rows_older_than_30_days(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite3"
    store = Storage(path)
    store.pending_txs.add(H1, 1, "old", sender=ALICE, chain_id=1, at=1)
    store.pending_txs.set_state(H1, "mined", at=1)
    store.pending_txs.add(H2, 2, "stuck", sender=ALICE, chain_id=1, at=1)
    store.close()

    reopened = Storage(path)
    assert reopened.pending_txs.get(H1) is None
    assert [t.hash for t in reopened.pending_txs.pending()] == [H2]
    reopened.close()
