"""The store: SQLite through sqlite-utils. All SQL of cop-mailer lives in this package.

``open_db(path)`` opens the database in WAL mode and runs the versioned migrations that have
not run yet. Each submodule (people, outbox, inbox, tokens, challenges, …) owns its tables,
declares its migrations as ``MIGRATIONS = [(name, fn), …]`` and offers named verbs that take
the ``Database`` as their first argument; nothing outside this package writes SQL.
The connection autocommits; a unit of work spanning several verbs is ``with db.atomic():``
(sqlite-utils nests it with savepoints, so verbs may use it too).
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

from sqlite_utils import Database

from mailer import private
from mailer.errors import StoreError

Migration = tuple[str, Callable[[Database], None]]
# How long a statement waits for another process's write lock before "database is locked".
BUSY_TIMEOUT_MS = 10_000


def _all_migrations() -> list[Migration]:
    # Order matters: later modules may reference earlier tables.
    from mailer.store import (calls, challenges, charters, digests, files, inbox, meetups, outbox_schema, people,
                              planning, preferences, sync_state, tokens)
    from mailer.store import lead_access

    return [*people.MIGRATIONS, *outbox_schema.MIGRATIONS, *inbox.MIGRATIONS, *inbox.RETENTION_MIGRATIONS, *tokens.MIGRATIONS,
            *challenges.MIGRATIONS, *sync_state.MIGRATIONS,
            *digests.MIGRATIONS, *files.MIGRATIONS, *calls.MIGRATIONS, *charters.MIGRATIONS,
            *meetups.MIGRATIONS, *planning.MIGRATIONS, *preferences.MIGRATIONS,
            *lead_access.MIGRATIONS]


class StoreDatabase(Database):
    """sqlite-utils' Database whose outermost ``atomic()`` takes the write lock when it begins
    (BEGIN IMMEDIATE; nested blocks stay savepoints). A deferred transaction that has read and
    then writes fails at once with "database is locked" when another connection committed in
    between (WAL cannot upgrade a stale snapshot, and busy_timeout does not apply); taken at
    BEGIN, the lock is waited for instead. `serve` beside the worker writes at any moment."""

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        """A transaction (a savepoint inside one): committed at the end, rolled back on error."""
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise


def open_db(path: Path | str) -> Database:
    """Open (creating if needed) the database at ``path``, check it (``PRAGMA quick_check``) and
    bring its schema up to date. Every SQLite failure becomes a ``StoreError`` (``db_error``).

    The file is owner-only (0600), and so are its -wal and -shm, which SQLite creates with the
    database file's mode; an older database found wider is tightened."""
    make_private(path)
    try:
        db = StoreDatabase(str(path))
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        check_integrity(db, path)
        db.enable_wal()
        _connection_settings(db)
        migrate(db)
    except sqlite3.Error as exc:
        raise db_error(exc, path) from exc
    return db


def _connection_settings(db: Database) -> None:
    """What every connection to the file sets for itself (the WAL mode is the file's own)."""
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


def file_of(db: Database) -> str | None:
    """The file behind ``db`` (None for a database in memory), for ``open_again``."""
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] if row and row[2] else None


def open_again(path: str) -> Database:
    """Another connection to a database ``open_db`` already opened (checked and migrated), for
    the outbox's sending thread: SQLite connections stay in the thread that opened them."""
    try:
        db = StoreDatabase(path)
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _connection_settings(db)
        # The sending thread's connection claims and records the newest outbox rows and reads
        # each email's bytes once: a 16 MB cache would only fill with bytes already sent (up to
        # 16 MB more peak memory in a 50,000-email tick). 2 MB holds the outbox's index pages.
        db.conn.execute("PRAGMA cache_size = -2000")
    except sqlite3.Error as exc:
        raise db_error(exc, path) from exc
    return db


def make_private(path: Path | str) -> None:
    """Create the database file owner-only before SQLite does (0644 by default); tighten an
    existing one and its -wal and -shm."""
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    path = Path(path)
    try:
        created = private.create_empty(path)
    except OSError:
        return  # no folder, or not writable: SQLite's own error says so (db_error)
    if not created:
        private.tighten_all([path, Path(f"{path}-wal"), Path(f"{path}-shm")])


def check_integrity(db: Database, path: Path | str) -> None:
    """Raise ``StoreError`` when ``PRAGMA quick_check`` finds the file damaged: nothing may read
    mail into a database that cannot be trusted to keep it."""
    found = [" ".join(str(row[0]).split()) for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    if found != ["ok"]:
        raise StoreError(f"database {path} is corrupt ({'; '.join(found)[:160]}); nothing was read "
                         "or sent. Keep the file, and restore a backup or move it away")


# SQLite's primary result codes (sqlite3.Error.sqlite_errorname) -> what a person should hear.
_PROBLEMS = (
    (("SQLITE_BUSY", "SQLITE_LOCKED"), "is locked by another process; try again in a moment"),
    (("SQLITE_READONLY",), "is read-only: check the permissions of the file and its folder"),
    (("SQLITE_FULL",), "cannot grow: the disk is full"),
    (("SQLITE_CORRUPT", "SQLITE_NOTADB"), "is corrupt or not a database; restore a backup or move it away"),
    (("SQLITE_CANTOPEN",), "cannot be opened: check that its folder exists and is writable"),
    (("SQLITE_IOERR",), "could not be read or written (is the disk full or failing?)"),
)


def db_error(exc: sqlite3.Error, path: Path | str) -> StoreError:
    """A one-line ``StoreError`` for an SQLite failure on the database at ``path``."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    for codes, problem in _PROBLEMS:
        if name.startswith(codes):
            return StoreError(f"database {path} {problem} ({exc})")
    text = str(exc).lower()
    for needle, problem in (("locked", _PROBLEMS[0][1]), ("readonly", _PROBLEMS[1][1]),
                            ("full", _PROBLEMS[2][1]), ("not a database", _PROBLEMS[3][1]),
                            ("malformed", _PROBLEMS[3][1])):
        if needle in text:
            return StoreError(f"database {path} {problem} ({exc})")
    return StoreError(f"database {path}: {exc}")


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



def secure_delete(db: Database, on: bool) -> None:
    """Have SQLite overwrite what is deleted with zeros (an erasure must leave no bytes behind
    in free pages)."""
    db.conn.execute(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}")


def checkpoint(db: Database) -> bool:
    """Copy the write-ahead log into the database file and empty it; False when another
    process's open read kept part of it (it empties at a later checkpoint)."""
    busy = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    return busy == 0
