"""Store verbs for a transport's reading position (an EWS folder sync state, a Graph delta link)
and for a wait the provider asked for (Graph's 429 ``Retry-After``).

A transport that reads incrementally keeps where it got to here, under a key of its own
(``exchange:inbox``, ``graph:inbox``), so a restarted worker goes on from the same place. A
wait is kept here too, not in one process's memory, so that every process (the worker, a
``flush`` from the command line, a restarted worker) honours it.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import parse_ts, ts


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")


def _waits(db: Database) -> None:
    db.execute("""
        CREATE TABLE transport_waits (
            key TEXT PRIMARY KEY,
            until TEXT NOT NULL,
            reason TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")


MIGRATIONS = [("sync-state-001", _create), ("sync-state-002-waits", _waits)]


def get_sync_state(db: Database, key: str) -> str | None:
    """The saved position under ``key``, or None when there is none yet."""
    row = db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_sync_state(db: Database, key: str, value: str | None, now: datetime) -> None:
    """Save (or, with ``value=None``, forget) the position under ``key``."""
    if value is None:
        db.execute("DELETE FROM sync_state WHERE key = ?", [key])
        return
    db.execute("INSERT INTO sync_state VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
               "value = excluded.value, updated_at = excluded.updated_at", [key, value, ts(now)])


def get_wait(db: Database, key: str) -> datetime | None:
    """Until when the provider under ``key`` asked us to send it nothing (None: no wait kept)."""
    row = db.execute("SELECT until FROM transport_waits WHERE key = ?", [key]).fetchone()
    return parse_ts(row[0]) if row else None


def set_wait(db: Database, key: str, until: datetime, reason: str, now: datetime) -> None:
    """Keep a wait the provider asked for; a later ``until`` already kept stays."""
    db.execute("INSERT INTO transport_waits VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
               "until = max(until, excluded.until), reason = excluded.reason, updated_at = excluded.updated_at",
               [key, ts(until), reason, ts(now)])


class SyncState:
    """The store's sync-state verbs bound to one database, handed to a transport at build time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> str | None:
        """The saved position under ``key``."""
        return get_sync_state(self.db, key)

    def set(self, key: str, value: str | None, now: datetime) -> None:
        """Save the position under ``key``."""
        set_sync_state(self.db, key, value, now)

    def wait_until(self, key: str) -> datetime | None:
        """Until when the provider asked us to wait."""
        return get_wait(self.db, key)

    def wait(self, key: str, until: datetime, reason: str, now: datetime) -> None:
        """Keep a wait the provider asked for."""
        set_wait(self.db, key, until, reason, now)
