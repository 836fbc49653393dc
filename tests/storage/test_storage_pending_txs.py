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
