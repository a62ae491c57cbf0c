"""Store verbs for files people sent with an entry: a journal entry, a project update, a meetup highlight.

Tables: ``files`` holds each distinct content once (by sha256; ``data`` is NULL for types kept
as a name and size only) and ``entry_files`` links a file, under the name it came with, to an
entry and its author. Files belong to their entry's author, like the entry itself.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import ts


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE files (
            sha256 TEXT PRIMARY KEY,
            mime_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            data BLOB,
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE entry_files (
            id INTEGER PRIMARY KEY,
            entry_kind TEXT NOT NULL,
            entry_id INTEGER NOT NULL,
            person_id INTEGER NOT NULL REFERENCES people(id),
            sha256 TEXT NOT NULL REFERENCES files(sha256),
            filename TEXT NOT NULL,
            position INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX entry_files_entry ON entry_files(entry_kind, entry_id)")


MIGRATIONS = [("files-001", _create)]


def attach(db: Database, entry_kind: str, entry_id: int, person_id: int,
           files: list[tuple[str, str, bytes | None, str, int]], now: datetime) -> None:
    """Link files to an entry: (filename, mime type, data or None, sha256, size) each, in order."""
    if not files:
        return  # most entries: not even a savepoint
    with db.atomic():
        for position, (name, mime, data, sha, size) in enumerate(files):
            db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET "
                       "data = COALESCE(files.data, excluded.data)", [sha, mime, size, data, ts(now)])
            db.execute("INSERT INTO entry_files (entry_kind, entry_id, person_id, sha256, filename, position) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [entry_kind, entry_id, person_id, sha, name, position])


def files_of(db: Database, entry_kind: str, entry_ids: list[int], with_data: bool = False,
             person_ids: list[int] | None = None) -> dict[int, list[dict]]:
    """Entry id -> its files (filename, mime_type, size, sha256, kept, person_id, and data when
    asked), in order; ``person_ids`` keeps only files those people sent."""
    if not entry_ids:
        return {}
    marks = ",".join("?" * len(entry_ids))
    data = "f.data" if with_data else "NULL AS data"
    by_person = f" AND ef.person_id IN ({','.join('?' * len(person_ids))})" if person_ids else ""
    rows = db.query(f"""SELECT ef.entry_id, ef.person_id, ef.filename, f.mime_type, f.size, f.sha256,
                               f.data IS NOT NULL AS kept, {data}
                        FROM entry_files ef JOIN files f ON f.sha256 = ef.sha256
                        WHERE ef.entry_kind = ? AND ef.entry_id IN ({marks}){by_person}
                        ORDER BY ef.entry_id, ef.position""",
                    [entry_kind, *entry_ids, *(person_ids or [])])
    found: dict[int, list[dict]] = {}
    for row in rows:
        row["kept"] = bool(row["kept"])
        found.setdefault(row.pop("entry_id"), []).append(row)
    return found


def hashes_of(db: Database, person_id: int) -> set[str]:
    """The sha256 of every file this person sent with an entry."""
    return {r[0] for r in db.execute("SELECT sha256 FROM entry_files WHERE person_id = ?", [person_id])}


def erase_person(db: Database, person_id: int) -> dict[str, int]:
    """Delete the files this person sent (a content nobody else sent too goes with them)."""
    hashes = sorted(hashes_of(db, person_id))
    links = db.execute("DELETE FROM entry_files WHERE person_id = ?", [person_id]).rowcount
    gone = sum(db.execute("DELETE FROM files WHERE sha256 = ? AND NOT EXISTS "
                          "(SELECT 1 FROM entry_files WHERE sha256 = ?)", [sha, sha]).rowcount for sha in hashes)
    return {"entry_files": links, "files": gone}
