"""Copying a live database: SQLite's online backup API, safe while the worker writes.

A plain ``cp`` of ``mailer.db`` misses what still sits in ``mailer.db-wal`` (the latest
entries, until a checkpoint); the backup API reads one consistent snapshot through SQLite
itself, writers carrying on meanwhile in WAL mode. The copy is a single owner-only file
(rollback journal, no -wal beside it), checked before it is called done.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from mailer import private
from mailer.errors import StoreError
from mailer.store import BUSY_TIMEOUT_MS, db_error


def copy_database(source: Path, dest: Path) -> None:
    """Copy the database at ``source`` into the new file ``dest`` (0600) as one snapshot.

    ``StoreError`` when ``dest`` exists, the source cannot be read, or the copy does not pass
    ``PRAGMA quick_check``; a failed copy is removed.
    """
    if not Path(source).is_file():
        raise StoreError(f"no database at {source}")
    try:
        created = private.create_empty(dest)
    except OSError as exc:
        raise StoreError(f"cannot write {dest}: {exc.strerror}") from exc
    if not created:
        raise StoreError(f"{dest} exists; back up into a new place")
    try:
        _copy(source, dest)
    except (sqlite3.Error, StoreError) as exc:
        with contextlib.suppress(OSError):
            Path(dest).unlink()
        if isinstance(exc, StoreError):
            raise
        raise db_error(exc, source) from exc


def _copy(source: Path, dest: Path) -> None:
    reader = sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)
    writer = sqlite3.connect(dest, isolation_level=None)
    try:
        reader.backup(writer, pages=-1)  # every page in one step: one read snapshot of the source
        writer.execute("PRAGMA journal_mode = DELETE")  # one file: nothing left in a -wal beside it
        found = [row[0] for row in writer.execute("PRAGMA quick_check(3)")]
        if found != ["ok"]:
            raise StoreError(f"the copy {dest} does not check out ({'; '.join(map(str, found))[:160]})")
    finally:
        writer.close()
        reader.close()
