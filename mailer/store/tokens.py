"""Store verbs for reply tokens: the capability each reply-expecting email carries.

A token is bound to one recipient, one purpose and one record, and expires. It travels in
Reply-To as ``local+TOKEN@domain``; the Message-ID of the email that carried it is kept so
In-Reply-To/References can find it when a server drops the plus-address.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import parse_ts, ts
from mailer.store.rows import select


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE tokens (
            token TEXT PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id),
            purpose TEXT NOT NULL,
            ref TEXT NOT NULL,
            message_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX tokens_message ON tokens(message_id)")


MIGRATIONS = [("tokens-001", _create)]


def add_token(db: Database, token: str, person_id: int, purpose: str, ref: str,
              message_id: str, now: datetime, expires_at: datetime) -> None:
    """Remember a token issued in the email with ``message_id``."""
    db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?)",
               [token, person_id, purpose, ref, message_id, ts(now), ts(expires_at)])


def add_tokens(db: Database, issued: list[tuple[str, int, str, str, str, datetime, datetime]]) -> None:
    """``add_token`` for many (token, person id, purpose, ref, Message-ID, now, expires at): one
    statement for each 100 (the outbox stores a batch of composed emails at once)."""
    for i in range(0, len(issued), 100):
        chunk = issued[i:i + 100]
        db.conn.execute(f"INSERT INTO tokens VALUES {','.join(['(?,?,?,?,?,?,?)'] * len(chunk))}",
                        [v for *head, now, expires in chunk for v in (*head, ts(now), ts(expires))])


def get_token(db: Database, token: str) -> dict | None:
    """The token's record (expired or not), or None."""
    rows = select(db, "SELECT * FROM tokens WHERE token = ?", [token.lower()])
    return _with_times(rows[0]) if rows else None


def token_for_message_ids(db: Database, message_ids: list[str]) -> dict | None:
    """The token carried by the newest of our emails among ``message_ids`` (In-Reply-To, References)."""
    if not message_ids:
        return None
    marks = ",".join("?" * len(message_ids))
    rows = select(db, f"SELECT * FROM tokens WHERE message_id IN ({marks}) ORDER BY created_at DESC, "
                  "rowid DESC LIMIT 1", message_ids)
    return _with_times(rows[0]) if rows else None


def tokens_with_prefix(db: Database, prefix: str) -> list[dict]:
    """Tokens starting with the short reference printed in an email body."""
    rows = select(db, "SELECT * FROM tokens WHERE token >= ? AND token < ? LIMIT 2", [prefix, prefix + "\x7f"])
    return [_with_times(r) for r in rows]


def _with_times(row: dict) -> dict:
    row["created_at"] = parse_ts(row["created_at"])
    row["expires_at"] = parse_ts(row["expires_at"])
    return row


def erase_person(db: Database, person_id: int) -> dict[str, int]:
    """Delete every reply token issued to this person (an erasure)."""
    return {"tokens": db.execute("DELETE FROM tokens WHERE person_id = ?", [person_id]).rowcount}
