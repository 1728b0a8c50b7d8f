"""The state stores' records: the command line's password hash is werkzeug's format, so the
server checks accounts it did not create; the stores' files are in WAL mode and private where
they hold secrets."""

from __future__ import annotations

import sqlite3
import stat

from werkzeug.security import check_password_hash, generate_password_hash

from datasets.records import accounts as account_records
from datasets.records import db
from datasets.records import throttle as counters
from server.accounts import Accounts

PASSWORD = "correct horse battery"


def test_the_standard_library_hash_is_one_werkzeug_checks():
    hashed = account_records.hash_password(PASSWORD)
    method, salt, digest = hashed.split("$")
    assert method == "scrypt:32768:8:1" and len(salt) == 16 and len(digest) == 128
    assert check_password_hash(hashed, PASSWORD)
    assert not check_password_hash(hashed, PASSWORD + "!")
    assert hashed != account_records.hash_password(PASSWORD)  # salted


def test_an_account_whose_hash_werkzeug_made_still_logs_in(tmp_path):
    accounts = Accounts(tmp_path)
    accounts.add("ana", "a placeholder password")
    with sqlite3.connect(accounts.path) as con:
        con.execute(
            "UPDATE analysts SET password_hash = ? WHERE name = 'ana'",
            (generate_password_hash(PASSWORD, method="scrypt:32768:8:1"),),
        )
    assert accounts.verify("ana", PASSWORD) == "ana"
    assert accounts.verify("ana", "a placeholder password") is None


def test_every_store_is_in_wal_mode_and_the_secret_ones_are_private(tmp_path):
    Accounts(tmp_path)
    counters.create(tmp_path / counters.THROTTLE_FILE)
    for name in (account_records.ACCOUNTS_FILE, counters.THROTTLE_FILE):
        with db.connect(tmp_path / name) as con:
            assert con.execute("PRAGMA journal_mode").fetchone()["journal_mode"] == "wal"
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_a_failed_transaction_leaves_nothing(tmp_path):
    path = tmp_path / "t.sqlite"
    db.create(path, "CREATE TABLE t (x INTEGER);")
    try:
        with db.transaction(path) as con:
            con.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("stop")
    except RuntimeError:
        pass
    with db.connect(path) as con:
        assert con.execute("SELECT COUNT(*) AS n FROM t").fetchone()["n"] == 0


def test_a_counter_starts_again_once_its_window_has_passed(tmp_path):
    path = tmp_path / counters.THROTTLE_FILE
    counters.create(path)
    assert [counters.increment(path, "k", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.increment(path, "gone", -1) == 1  # a window that ended at once
    assert counters.live(path, "gone") is None
    assert counters.increment(path, "gone", 60) == 1
    assert counters.clear(path, "k") == 1 and counters.live(path, "k") is None
