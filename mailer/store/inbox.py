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


# What waits for a person: in one place, as the partial index below and its queries spell it
# (SQLite uses a partial index only for a query repeating its WHERE term).
WAITING = "(outcome IN ('kept', 'none') OR state = 'quarantined')"


def _outcome_column(db: Database) -> None:
    # Which of the three outcomes a handled message ended in (``OUTCOMES``); NULL for rows
    # handled before this column existed, and for messages not handled yet. The index holds
    # only what waits for a person, so listing it never reads the raw bytes of the rest (the
    # columns after ``raw`` sit behind its overflow pages).
    db.execute("ALTER TABLE inbox ADD COLUMN outcome TEXT")
    db.execute(f"CREATE INDEX inbox_waiting ON inbox(received_at) WHERE {WAITING}")


def _new_index(db: Database) -> None:
    # Every tick asks which messages are still unprocessed: without this it read the whole
    # inbox, raw bytes and all (135 ms a tick once 11,000 replies were kept; issue 25).
    db.execute("CREATE INDEX inbox_unprocessed ON inbox(id) WHERE state = 'new'")


MIGRATIONS = [("inbox-001", _create), ("inbox-002-outcome", _outcome_column),
              ("inbox-003-unprocessed", _new_index)]

# What a handled message ended in (DESIGN.md principle 10): a change the person can see, one
# answer sent to them, a record kept for the lead with its reason; "none" is a handler's bug.
OUTCOMES = ("change", "answer", "kept", "none")
# The outcomes a person (the lead) has to look at: ``inbox list --for-lead`` and the lead's digest.
FOR_LEAD = ("kept", "none")


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
                  subject: str, outcome: tuple, now: datetime) -> int:
    """Keep an incoming message together with how it was handled (state, kind, rule, reason
    and, when given, its outcome),
    in the transaction that holds its effect; return its id.

    One write instead of a row stored and then updated (an update rewrites the whole raw
    message). A message we already have raises IntegrityError: its effect must not be kept twice.
    """
    cur = db.execute(
        """INSERT INTO inbox (dedupe_key, transport_id, raw, size, from_addr, subject, received_at,
                              state, kind, rule, reason, outcome, processed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [dedupe_key, transport_id, raw, len(raw), from_addr[:500], subject[:500], ts(now), *_five(outcome),
         ts(now)])
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


class rehearsal:  # noqa: N801 - used like a function: ``with rehearsal(db):``
    """A unit of work that is always undone: what handling a message would do, without doing it."""

    def __init__(self, db: Database) -> None:
        self.conn = db.conn
        self.nested = db.conn.in_transaction

    def __enter__(self) -> None:
        self.conn.execute("SAVEPOINT inbox_rehearsal" if self.nested else "BEGIN")

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.conn.in_transaction:
            return  # an error ended the transaction already: nothing is left to undo
        if self.nested:
            self.conn.execute("ROLLBACK TO inbox_rehearsal")
            self.conn.execute("RELEASE inbox_rehearsal")
        else:
            self.conn.execute("ROLLBACK")


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
                reason: str | None, now: datetime, outcome: str | None = None) -> None:
    """Record how a message was handled (done, ignored, quarantined), which rule decided and
    which outcome (``OUTCOMES``) it ended in."""
    db.execute("UPDATE inbox SET state=?, kind=?, rule=?, reason=?, outcome=?, processed_at=? WHERE id=?",
               [state, kind, rule, reason, outcome, ts(now), msg_id])


def _five(outcome: tuple) -> tuple:
    """(state, kind, rule, reason, outcome) from a handled tuple with or without its outcome."""
    return tuple(outcome) + (None,) * (5 - len(outcome))


RAW_GONE = ("message {id} keeps no raw bytes any more (removed after inbox.keep_raw_days, or erased "
            "with its sender): only its record is left")


def reset_for_replay(db: Database, msg_id: int) -> None:
    """Put a quarantined message back in line to be processed again; one whose raw bytes are
    gone cannot be (NotFoundError)."""
    if not get_message(db, msg_id)["raw"]:
        raise NotFoundError(RAW_GONE.format(id=msg_id) + ": nothing to replay")
    with db.atomic():
        db.execute("UPDATE inbox SET state='new', reason=NULL, outcome=NULL, processed_at=NULL WHERE id=?",
                   [msg_id])


def list_messages(db: Database, state: str | None = None, limit: int = 50) -> list[dict]:
    """Recent messages without raw bytes, newest first, each with the ``intent`` acted on."""
    where, args = ("WHERE state = ?", [state]) if state else ("", [])
    rows = db.query(
        f"""SELECT id, from_addr, subject, state, kind, rule, reason, outcome, size, received_at
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


def waiting_for_lead(db: Database, since: datetime | None = None, until: datetime | None = None,
                     limit: int = 50) -> list[dict]:
    """Handled messages that wait for a person, newest first: records kept for the lead, messages
    handled without an outcome (a bug, shown) and quarantined ones, received in [since, until)."""
    rows = db.query(
        f"""SELECT id, from_addr, subject, state, kind, rule, reason, outcome, received_at FROM inbox
            WHERE {WAITING} AND received_at >= ? AND received_at < ? ORDER BY received_at DESC, id DESC
            LIMIT ?""", [*_period(since, until), limit])
    return [{**row, "intent": intent_of(row["rule"])} for row in rows]


def count_waiting(db: Database, since: datetime | None = None, until: datetime | None = None) -> int:
    """How many messages received in [since, until) wait for a person (from the index alone)."""
    return db.execute(f"SELECT count(*) FROM inbox WHERE {WAITING} AND received_at >= ? AND received_at < ?",
                      _period(since, until)).fetchone()[0]


def _period(since: datetime | None, until: datetime | None) -> list[str]:
    return [ts(since) if since else "", ts(until) if until else "~"]  # "~" sorts after every timestamp


def _index_raw_kept(db: Database) -> None:
    # Only rows that still hold their raw bytes: the retention step finds what has expired with
    # one index search instead of reading every stored message (its state lies beyond the raw
    # bytes in each row).
    db.execute("CREATE INDEX inbox_raw_kept ON inbox(processed_at, state) WHERE length(raw) > 0")


# Run after MIGRATIONS (mailer.store lists them in that order).
RETENTION_MIGRATIONS = [("inbox-raw-retention-001", _index_raw_kept)]


def raw_expired(db: Database, before: datetime, limit: int = 500) -> list[tuple[int, str | None]]:
    """(id, transport id) of handled messages that still hold their raw bytes and were handled
    before ``before``, oldest first; unhandled and quarantined messages keep theirs (replay)."""
    return [(row[0], row[1]) for row in db.execute(
        """SELECT id, transport_id FROM inbox
           WHERE length(raw) > 0 AND processed_at < ? AND state NOT IN ('new', 'quarantined')
           ORDER BY processed_at LIMIT ?""", [ts(before), limit])]


def drop_raw(db: Database, msg_ids: list[int]) -> None:
    """Empty the raw bytes of these messages; who sent them, subject, size, outcome and reason
    stay. Freed pages are overwritten with zeros (``secure_delete``), so the text is gone from
    the file, not only from the table."""
    db.execute("PRAGMA secure_delete = ON")
    try:
        with db.atomic():
            for start in range(0, len(msg_ids), 500):  # SQLite caps the number of parameters
                part = msg_ids[start:start + 500]
                db.execute(f"UPDATE inbox SET raw = x'' WHERE id IN ({','.join('?' * len(part))})", part)
    finally:
        db.execute("PRAGMA secure_delete = OFF")
