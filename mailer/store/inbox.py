"""Store verbs for the inbox: every incoming message kept raw before anything reads it.

States: new -> done (effect recorded), ignored (auto-reply, bounce counted, refused sender),
quarantined (processing failed; kept with its reason, can be replayed).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Callable

from sqlite_utils import Database

from mailer.errors import NotFoundError
from mailer.store.outbox import ts
from mailer.store.rows import select


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY,
            dedupe_key TEXT NOT NULL UNIQUE,
            transport_id TEXT,
            raw BLOB NOT NULL,
            size INTEGER NOT NULL,
            from_addr TEXT,
            subject TEXT,
            state TEXT NOT NULL DEFAULT 'new',
            kind TEXT,
            rule TEXT,
            reason TEXT,
            received_at TEXT NOT NULL,
            processed_at TEXT
        )""")
    db.execute("CREATE UNIQUE INDEX inbox_transport ON inbox(transport_id) WHERE transport_id IS NOT NULL")
    db.execute("""
        CREATE TABLE auto_answers (
            person_email TEXT NOT NULL, reason TEXT NOT NULL, day TEXT NOT NULL,
            PRIMARY KEY (person_email, reason, day)
        )""")


def _new_index(db: Database) -> None:
    # Every tick asks which messages are still unprocessed: without this it read the whole
    # inbox, raw bytes and all (135 ms a tick once 11,000 replies were kept; issue 25).
    db.execute("CREATE INDEX inbox_unprocessed ON inbox(id) WHERE state = 'new'")


MIGRATIONS = [("inbox-001", _create), ("inbox-003-unprocessed", _new_index)]


def store_raw(db: Database, dedupe_key: str, transport_id: str | None, raw: bytes,
              from_addr: str, subject: str, now: datetime) -> int | None:
    """Keep an incoming message; None if we already have it (same Message-ID or transport id)."""
    # OR IGNORE covers both unique keys (dedupe_key, transport_id); every column is given.
    cur = db.execute(
        """INSERT OR IGNORE INTO inbox (dedupe_key, transport_id, raw, size, from_addr, subject, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [dedupe_key, transport_id, raw, len(raw), from_addr[:500], subject[:500], ts(now)])
    return cur.lastrowid if cur.rowcount else None


def store_handled(db: Database, dedupe_key: str, transport_id: str | None, raw: bytes, from_addr: str,
                  subject: str, outcome: tuple[str, str | None, str | None, str | None], now: datetime) -> int:
    """Keep an incoming message together with how it was handled (state, kind, rule, reason),
    in the transaction that holds its effect; return its id.

    One write instead of a row stored and then updated (an update rewrites the whole raw
    message). A message we already have raises IntegrityError: its effect must not be kept twice.
    """
    cur = db.execute(
        """INSERT INTO inbox (dedupe_key, transport_id, raw, size, from_addr, subject, received_at,
                              state, kind, rule, reason, processed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [dedupe_key, transport_id, raw, len(raw), from_addr[:500], subject[:500], ts(now), *outcome, ts(now)])
    return cur.lastrowid


def has_dedupe_key(db: Database, dedupe_key: str) -> bool:
    """Whether a message with this dedupe key (Message-ID, else hash) is already kept."""
    return db.execute("SELECT 1 FROM inbox WHERE dedupe_key = ?", [dedupe_key]).fetchone() is not None


def kept_dedupe_keys(db: Database, keys: list[str]) -> set[str]:
    """Which of these dedupe keys are already kept (one indexed query for a whole batch)."""
    return _present(db, "dedupe_key", keys)


class savepoint:  # noqa: N801 - used like a function: ``with savepoint(db):``
    """A savepoint around one message's handling: its writes are undone if it raises.

    What ``db.atomic()`` does inside a transaction, without its random savepoint name and
    generator (measurable once per message on a 10,000-reply tick). Nested ones may share the
    name: SQLite rolls back to and releases the innermost savepoint of that name.
    """

    def __init__(self, db: Database) -> None:
        self.conn = db.conn

    def __enter__(self) -> None:
        self.conn.execute("SAVEPOINT inbox_message")

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("RELEASE inbox_message")
        elif self.conn.in_transaction:  # an error may have ended the transaction already
            self.conn.execute("ROLLBACK TO inbox_message")
            self.conn.execute("RELEASE inbox_message")


def seen_transport_id(db: Database, transport_id: str) -> bool:
    """Whether the server's id for a message was already stored (a re-poll)."""
    return db.execute("SELECT 1 FROM inbox WHERE transport_id = ?", [transport_id]).fetchone() is not None


def seen_transport_ids(db: Database, transport_ids: list[str]) -> set[str]:
    """Which of these server ids were already stored (one indexed query for a whole batch)."""
    return _present(db, "transport_id", transport_ids)


def _present(db: Database, column: str, values: list[str]) -> set[str]:
    seen: set[str] = set()
    for start in range(0, len(values), 500):  # SQLite caps the number of parameters
        part = values[start:start + 500]
        marks = ",".join("?" * len(part))
        seen.update(r[0] for r in db.conn.execute(f"SELECT {column} FROM inbox WHERE {column} IN ({marks})", part))
    return seen


def unprocessed(db: Database) -> list[int]:
    """Ids of stored messages not processed yet, oldest first (a crash mid-pass leaves some)."""
    return [r[0] for r in db.execute("SELECT id FROM inbox WHERE state = 'new' ORDER BY id")]


def get_message(db: Database, msg_id: int) -> dict:
    """One stored message with its raw bytes; NotFoundError if absent."""
    rows = select(db, "SELECT * FROM inbox WHERE id = ?", [msg_id])
    if not rows:
        raise NotFoundError(f"no inbox message with id {msg_id}")
    return rows[0]


def set_outcome(db: Database, msg_id: int, state: str, kind: str | None, rule: str | None,
                reason: str | None, now: datetime) -> None:
    """Record how a message was handled (done, ignored, quarantined) and which rule decided."""
    db.execute("UPDATE inbox SET state=?, kind=?, rule=?, reason=?, processed_at=? WHERE id=?",
               [state, kind, rule, reason, ts(now), msg_id])


def reset_for_replay(db: Database, msg_id: int) -> None:
    """Put a quarantined message back in line to be processed again."""
    get_message(db, msg_id)
    with db.atomic():
        db.execute("UPDATE inbox SET state='new', reason=NULL, processed_at=NULL WHERE id=?", [msg_id])


def list_messages(db: Database, state: str | None = None, limit: int = 50) -> list[dict]:
    """Recent messages without raw bytes, newest first, each with the ``intent`` acted on."""
    where, args = ("WHERE state = ?", [state]) if state else ("", [])
    rows = db.query(
        f"""SELECT id, from_addr, subject, state, kind, rule, reason, size, received_at
            FROM inbox {where} ORDER BY id DESC LIMIT ?""", [*args, limit])
    return [{**row, "intent": intent_of(row["rule"])} for row in rows]


def intent_of(rule: str | None) -> str | None:
    """The intent a handled reply was acted on, from its recorded rule ("route: token; intent:
    journal" -> "journal"); None when it was not acted on as a reply."""
    found = re.search(r"(?:^|; )intent: ([\w-]+)", rule or "")
    return found.group(1) if found else None


def counts(db: Database) -> dict[str, int]:
    """Number of messages per state."""
    return {s: n for s, n in db.execute("SELECT state, count(*) FROM inbox GROUP BY state")}


def claim_auto_answer(db: Database, person_email: str, reason: str, day: str) -> bool:
    """True the first time (person, reason, day) is claimed: at most one such answer a day."""
    cur = db.execute("INSERT OR IGNORE INTO auto_answers VALUES (?, ?, ?)", [person_email, reason, day])
    return cur.rowcount == 1


def erase_person(db: Database, addresses: list[str], mentions: Callable[[bytes], bool]) -> dict[str, int]:
    """Delete the raw messages from these addresses, and any other that ``mentions`` the person;
    each row keeps only its dedupe key (so the message is never taken in again) and its state."""
    marks = ",".join("?" * len(addresses))
    ids = {r[0] for r in db.execute(f"SELECT id FROM inbox WHERE lower(from_addr) IN ({marks})", addresses)}
    ids |= {row_id for row_id, raw in db.execute("SELECT id, raw FROM inbox") if mentions(raw)}
    db.conn.executemany("UPDATE inbox SET raw = x'', size = 0, from_addr = NULL, subject = NULL, rule = NULL, "
                        "reason = 'erased with the person it was from or about' WHERE id = ?", [(i,) for i in ids])
    answered = db.execute(f"DELETE FROM auto_answers WHERE lower(person_email) IN ({marks})", addresses).rowcount
    return {"inbox": len(ids), "auto_answers": answered}
