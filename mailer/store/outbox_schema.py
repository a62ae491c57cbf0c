"""The outbox's tables and their migrations (``mailer.store.outbox`` holds the verbs on them):
``outbox`` (one row per logical email and its state), ``outbox_data`` (its bytes, apart), and
``outbox_sent_log`` (kept for logs left by older workers)."""
from __future__ import annotations

from sqlite_utils import Database


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            message_id TEXT NOT NULL UNIQUE,
            to_addr TEXT NOT NULL,
            subject TEXT NOT NULL,
            data BLOB NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            lease_owner TEXT,
            lease_expires_at TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""")
    db.execute("CREATE INDEX outbox_due ON outbox(state, next_attempt_at)")
    db.execute("CREATE INDEX outbox_sent ON outbox(sent_at)")


def _sent_log(db: Database) -> None:
    # Sends were once recorded by appending one row here per email, applied to the outbox in bulk
    # by ``settle_sent``. They are now recorded a group at a time in the outbox itself
    # (``record_sent_many``); a log left by a worker of that time is still settled before any
    # lease is declared uncertain.
    db.execute("""CREATE TABLE outbox_sent_log (
                      row_id INTEGER PRIMARY KEY, owner TEXT NOT NULL, sent_at TEXT NOT NULL)""")


def _bytes_apart(db: Database) -> None:
    # The email's bytes in their own table, keyed by the outbox row's id: SQLite rewrites a whole
    # record on every UPDATE, and a row is leased, then settled, so keeping ~4 KB of email beside
    # the state copied those bytes twice per send (bench/README.md, send path).
    db.execute("CREATE TABLE outbox_data (id INTEGER PRIMARY KEY REFERENCES outbox(id), data BLOB NOT NULL)")
    db.execute("INSERT INTO outbox_data (id, data) SELECT id, data FROM outbox")
    db.execute("ALTER TABLE outbox DROP COLUMN data")


def _priority(db: Database) -> None:
    # 0 answers, 1 time-bound, 2 the rest (mailer.flows.base). Rows queued before this migration
    # count as the rest. The partial index holds only rows waiting to be sent, so ``claim`` seeks
    # each priority's due rows in order instead of scanning the whole queue.
    db.execute("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 2")
    db.execute("CREATE INDEX outbox_claim ON outbox(priority, next_attempt_at, id) "
               "WHERE state IN ('pending','failed')")


MIGRATIONS = [("outbox-001", _create), ("outbox-002", _sent_log), ("outbox-003-bytes-apart", _bytes_apart),
              ("outbox-004-priority", _priority)]
