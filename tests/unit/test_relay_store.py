"""The mailbox store on a real SQLite file: ids, sequence numbers, dedup, quotas (refused whole), retention, reopening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from p2p.relay.config import RelayLimits
from p2p.relay.errors import RelayQuotaError
from p2p.relay.mailbox_store import FILE_NAME, MailboxStore, cost, mailbox_id

A, B = b"a" * 32, b"b" * 32


def store(tmp_path: Path, **limits: float) -> MailboxStore:
    return MailboxStore(tmp_path, RelayLimits(**limits))  # type: ignore[arg-type]


def test_put_get_in_order_with_the_last_number(tmp_path: Path) -> None:
    s = store(tmp_path)
    assert s.put(A, [b"one", b"two"], 100.0) == [1, 2]
    assert s.put(A, [b"three"], 101.0) == [3]
    assert s.get(A, 0, 10, 1 << 20) == ([(1, b"one"), (2, b"two"), (3, b"three")], 3)
    assert s.get(A, 2, 10, 1 << 20) == ([(3, b"three")], 3)
    assert s.get(A, 1, 1, 1 << 20) == ([(2, b"two")], 3)
    assert s.get(B, 0, 10, 1 << 20) == ([], 0)  # another auth: another (empty) mailbox


def test_duplicates_are_stored_once_and_keep_their_number(tmp_path: Path) -> None:
    s = store(tmp_path)
    assert s.put(A, [b"x", b"y", b"x"], 1.0) == [1, 2, 1]
    assert s.put(A, [b"y", b"z"], 2.0) == [2, 3]
    assert s.put(B, [b"x"], 3.0) == [1]  # per mailbox
    assert s.counts() == (2, 4)


def test_only_the_id_is_stored_never_the_auth(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.put(A, [b"payload"], 1.0)
    s.close()
    raw = (tmp_path / FILE_NAME).read_bytes()
    db = sqlite3.connect(tmp_path / FILE_NAME)
    ids = [r[0] for r in db.execute("SELECT id FROM mailboxes")]
    assert ids == [mailbox_id(A)] and mailbox_id(A) != A
    assert A not in raw and not any(A in Path(p).read_bytes() for p in tmp_path.iterdir())


def test_a_put_over_the_mailbox_quota_is_refused_whole(tmp_path: Path) -> None:
    s = store(tmp_path, mailbox_quota=3 * cost(b"x" * 1000))
    s.put(A, [b"1" * 1000, b"2" * 1000], 1.0)
    with pytest.raises(RelayQuotaError, match="mailbox is full"):
        s.put(A, [b"3" * 1000, b"4" * 1000], 2.0)
    assert s.get(A, 0, 10, 1 << 20)[1] == 2  # nothing of the refused batch
    assert s.put(A, [b"3" * 1000], 3.0) == [3]
    assert s.put(B, [b"5" * 1000], 3.0) == [1]  # another mailbox has its own quota


def test_the_total_quota_holds_across_mailboxes(tmp_path: Path) -> None:
    s = store(tmp_path, total_quota=2 * cost(b"x" * 500))
    s.put(A, [b"1" * 500], 1.0)
    s.put(B, [b"2" * 500], 1.0)
    with pytest.raises(RelayQuotaError, match="disk quota"):
        s.put(b"c" * 32, [b"3" * 500], 1.0)


def test_retention_deletes_old_envelopes_and_frees_the_quota(tmp_path: Path) -> None:
    s = store(tmp_path, retention=100.0, mailbox_quota=2 * cost(b"x" * 100))
    s.put(A, [b"o" * 100], 0.0)
    s.put(A, [b"n" * 100], 60.0)
    with pytest.raises(RelayQuotaError):
        s.put(A, [b"m" * 100], 70.0)
    assert s.sweep(150.0) == 1
    assert s.get(A, 0, 10, 1 << 20) == ([(2, b"n" * 100)], 2)
    assert s.put(A, [b"m" * 100], 151.0) == [3]  # numbers never go back
    assert s.sweep(1000.0) == 2 and s.total_bytes == 0


def test_a_get_stops_near_its_byte_budget_but_returns_at_least_one(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.put(A, [bytes([i]) * 1000 for i in range(10)], 1.0)
    got, last = s.get(A, 0, 10, 3100)
    assert [seq for seq, _ in got] == [1, 2, 3] and last == 10
    assert len(s.get(A, 0, 10, 10)[0]) == 1


def test_everything_survives_reopening(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.put(A, [b"kept"], 1.0)
    total = s.total_bytes
    s.close()
    again = store(tmp_path)
    assert again.get(A, 0, 10, 1 << 20) == ([(1, b"kept")], 1)
    assert again.total_bytes == total and again.put(A, [b"kept"], 2.0) == [1]
    db = sqlite3.connect(tmp_path / FILE_NAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
