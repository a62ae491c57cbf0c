"""Store verbs for sponsor digests: each recipient's cadence, and when they became one.

What was sent, and which period it covered, is read back from the outbox's idempotency keys
(``digest:person:ID:until:…``); this module only keeps the cadence a person asked for.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store import people
from mailer.store.outbox import parse_ts, ts

CADENCES = ("daily", "weekly", "monthly", "off")


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE digest_prefs (
            person_id INTEGER PRIMARY KEY REFERENCES people(id),
            cadence TEXT NOT NULL
        )""")


def _recipients(db: Database) -> None:
    db.execute("""
        CREATE TABLE digest_recipients (
            person_id INTEGER PRIMARY KEY REFERENCES people(id),
            first_seen TEXT NOT NULL
        )""")


def _leads_index(db: Database) -> None:
    # Every tick reads the digest's recipients: the leads come from this partial index (a
    # handful of rows), not from a scan of every person (issue 25: 50,000 rows a tick).
    db.execute(f"CREATE INDEX people_leads ON people(email) WHERE {people.HAS_LEAD_ROLE}")


MIGRATIONS = [("digests-001", _create), ("digests-002", _recipients), ("digests-003-leads-index", _leads_index)]


def set_cadence(db: Database, person_id: int, cadence: str) -> None:
    """Remember how often ``person_id`` wants a digest (daily, weekly, monthly or off)."""
    db.execute("INSERT INTO digest_prefs VALUES (?, ?) ON CONFLICT(person_id) DO UPDATE SET "
               "cadence = excluded.cadence", [person_id, cadence])


def cadences(db: Database) -> dict[int, str]:
    """Person id -> cadence, for those who chose one (the rest follow ``[digests] cadence``)."""
    return {row[0]: row[1] for row in db.execute("SELECT person_id, cadence FROM digest_prefs")}


def first_seen(db: Database, person_ids: list[int], now: datetime) -> dict[int, datetime]:
    """When each of these people first became a digest recipient (``now`` for the new ones).

    A new sponsor's first digest covers the first whole period after this moment: nobody gets
    a digest for a period that began before they were a recipient.
    """
    with db.atomic():
        db.conn.executemany("INSERT OR IGNORE INTO digest_recipients VALUES (?, ?)",
                            [(pid, ts(now)) for pid in person_ids])
    return {pid: parse_ts(seen) for pid, seen in db.execute("SELECT person_id, first_seen FROM digest_recipients")}


def erase_person(db: Database, person_id: int) -> dict[str, int]:
    """Delete this person's digest cadence and recipient record (an erasure)."""
    return {table: db.execute(f"DELETE FROM {table} WHERE person_id = ?", [person_id]).rowcount
            for table in ("digest_prefs", "digest_recipients")}
