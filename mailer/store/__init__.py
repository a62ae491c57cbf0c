"""The store: SQLite through sqlite-utils. All SQL of cop-mailer lives in this package.

``open_db(path)`` opens the database in WAL mode and runs the versioned migrations that have
not run yet. Each submodule (people, outbox, inbox, tokens, challenges, …) owns its tables,
declares its migrations as ``MIGRATIONS = [(name, fn), …]`` and offers named verbs that take
the ``Database`` as their first argument; nothing outside this package writes SQL.
The connection autocommits; a unit of work spanning several verbs is ``with db.atomic():``
(sqlite-utils nests it with savepoints, so verbs may use it too).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from sqlite_utils import Database

from mailer.errors import StoreError

Migration = tuple[str, Callable[[Database], None]]


def _all_migrations() -> list[Migration]:
    # Order matters: later modules may reference earlier tables.
    from mailer.store import challenges, inbox, outbox, people, planning, sync_state, tokens

    return [*people.MIGRATIONS, *outbox.MIGRATIONS, *inbox.MIGRATIONS, *tokens.MIGRATIONS,
            *challenges.MIGRATIONS, *sync_state.MIGRATIONS,
            *planning.MIGRATIONS]


def open_db(path: Path | str) -> Database:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
    try:
        db = Database(str(path))
        db.conn.execute("PRAGMA busy_timeout = 10000")
        db.enable_wal()
        # In WAL mode NORMAL still survives a process crash (kill -9); only a power cut can lose
        # the last commits, and those sends come back as 'unknown' and are reconciled. 2x faster.
        db.conn.execute("PRAGMA synchronous = NORMAL")
        # A 16 MB page cache keeps the outbox's indexes in memory during a 50,000-email day, and
        # a checkpoint every 4,000 pages (not 1,000) writes a page changed by many sends once.
        # Together they halve the SQLite time of a large tick (bench/README.md).
        db.conn.execute("PRAGMA cache_size = -16000")
        db.conn.execute("PRAGMA wal_autocheckpoint = 4000")
        db.conn.execute("PRAGMA foreign_keys = ON")
        # Autocommit outside db.atomic(): a bare write is never left in an open implicit
        # transaction (lost at a kill -9); units of work use db.atomic(), which nests.
        db.conn.isolation_level = None
    except Exception as exc:  # sqlite3 errors: a locked or corrupt file
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    migrate(db)
    return db


def memory_db() -> Database:
    """A migrated in-memory database, for pure-logic tests that still want real SQL."""
    db = Database(memory=True)
    db.conn.isolation_level = None
    migrate(db)
    return db


def migrate(db: Database) -> list[str]:
    """Run every migration not yet recorded in ``migrations``; return the names applied."""
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    done = {row[0] for row in db.execute("SELECT name FROM migrations").fetchall()}
    applied = []
    for name, fn in _all_migrations():
        if name in done:
            continue
        with db.atomic():
            fn(db)
            db.execute("INSERT INTO migrations VALUES (?, datetime('now'))", [name])
        applied.append(name)
    return applied

