"""Store verbs for the lead's page: one-time sign-in links and sessions (no passwords anywhere).

Only SHA-256 digests of the link nonces and session ids are kept: a copy of the database lets
no one sign in. A link is used once (``use_link`` marks it in the same statement that reads it)
and expires; a session expires and ends at sign-out.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import ts


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE lead_links (
            digest TEXT PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        )""")
    db.execute("""
        CREATE TABLE lead_sessions (
            digest TEXT PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            started_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        )""")


MIGRATIONS = [("lead-access-001", _create)]


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a nonce or session id is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def add_link(db: Database, nonce: str, person_id: int, now: datetime, expires_at: datetime) -> None:
    """Remember a sign-in link issued to ``person_id`` (its nonce, as a digest)."""
    db.execute("INSERT INTO lead_links VALUES (?, ?, ?, ?, NULL)",
               [digest(nonce), person_id, ts(now), ts(expires_at)])


def links_since(db: Database, person_id: int, since: datetime) -> int:
    """How many sign-in links ``person_id`` was sent after ``since`` (to cap requests)."""
    return db.execute("SELECT count(*) FROM lead_links WHERE person_id = ? AND issued_at > ?",
                      [person_id, ts(since)]).fetchone()[0]


def use_link(db: Database, nonce: str, person_id: int, now: datetime) -> bool:
    """Spend the link once: True only for an unexpired, unused link issued to ``person_id``."""
    cur = db.execute("UPDATE lead_links SET used_at = ? WHERE digest = ? AND person_id = ? "
                     "AND used_at IS NULL AND expires_at > ?", [ts(now), digest(nonce), person_id, ts(now)])
    return cur.rowcount == 1


def start_session(db: Database, session_id: str, person_id: int, now: datetime, expires_at: datetime) -> None:
    """Record a session begun by spending a sign-in link."""
    db.execute("INSERT INTO lead_sessions VALUES (?, ?, ?, ?, NULL)",
               [digest(session_id), person_id, ts(now), ts(expires_at)])


def session_person(db: Database, session_id: str, now: datetime) -> int | None:
    """The person id of a live session (not ended, not expired), or None."""
    row = db.execute("SELECT person_id FROM lead_sessions WHERE digest = ? AND ended_at IS NULL "
                     "AND expires_at > ?", [digest(session_id), ts(now)]).fetchone()
    return row[0] if row else None


def end_session(db: Database, session_id: str, now: datetime) -> None:
    """Sign out: the session id no longer opens anything."""
    db.execute("UPDATE lead_sessions SET ended_at = ? WHERE digest = ? AND ended_at IS NULL",
               [ts(now), digest(session_id)])


def counts(db: Database, person_id: int | None = None) -> dict[str, int]:
    """How many links and sessions are kept (one person's, or everyone's), for tests that check
    a request changed nothing."""
    where, args = ("WHERE person_id = ?", [person_id]) if person_id is not None else ("", [])
    return {"links": db.execute(f"SELECT count(*) FROM lead_links {where}", args).fetchone()[0],
            "sessions": db.execute(f"SELECT count(*) FROM lead_sessions {where}", args).fetchone()[0]}


def erase_person(db: Database, person_id: int) -> dict[str, int]:
    """Delete this person's sign-in links and sessions (an erasure)."""
    links = db.execute("DELETE FROM lead_links WHERE person_id = ?", [person_id]).rowcount
    sessions = db.execute("DELETE FROM lead_sessions WHERE person_id = ?", [person_id]).rowcount
    return {"lead_links": links, "lead_sessions": sessions}
