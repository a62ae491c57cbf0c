"""Store verbs for a transport's reading position: an EWS folder sync state, a Graph delta link.

A transport that reads incrementally keeps where it got to here, under a key of its own
(``exchange:inbox``, ``graph:inbox``), so a restarted worker goes on from the same place.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import ts


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")


MIGRATIONS = [("sync-state-001", _create)]


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
