"""Store verbs for what members change themselves on the web pages (`serve`).

``web_changes`` records every change made there (who, which series, what, how: ``one-click``
from a mail provider or the unsubscribe page, ``page`` from the preferences page), the way the
inbox keeps a reply that stopped someone: the lead can see why a person stopped getting mail.
The person's time zone and own send hour live on ``people`` (``send_hour`` is added here);
``set_timezone`` and ``set_send_hour`` are the verbs that change them from the web.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import parse_ts, ts


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE web_changes (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id),
            series TEXT NOT NULL,
            action TEXT NOT NULL,
            via TEXT NOT NULL,
            at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX web_changes_by_person ON web_changes(person_id, at)")


def _send_hour(db: Database) -> None:
    # A person's own local hour for their day emails (NULL: each challenge's send_hour). A change
    # may make an email due sooner: it clears the challenges' plan marks, as a new time zone does
    # (challenge_replan_person_changed in store/challenges.py).
    db.execute("ALTER TABLE people ADD COLUMN send_hour INTEGER")
    db.execute("CREATE TRIGGER challenge_replan_send_hour AFTER UPDATE OF send_hour ON people BEGIN "
               "UPDATE challenges SET next_plan_at = NULL WHERE next_plan_at IS NOT NULL; END")


MIGRATIONS = [("preferences-001", _create), ("preferences-002-send-hour", _send_hour)]


def record_change(db: Database, person_id: int, series: str, action: str, via: str, now: datetime) -> None:
    """Keep one change a member made on the web (``series``: ``challenge:7``, ``charter:3``,
    ``digest``, ``timezone``; ``action``: stop, pause, resume, off, a cadence or a zone)."""
    db.execute("INSERT INTO web_changes (person_id, series, action, via, at) VALUES (?, ?, ?, ?, ?)",
               [person_id, series, action, via, ts(now)])


def changes_of(db: Database, person_id: int) -> list[dict]:
    """What this person changed on the web, oldest first (``at`` as a datetime)."""
    rows = db.query("SELECT series, action, via, at FROM web_changes WHERE person_id = ? ORDER BY at, id",
                    [person_id])
    return [{**r, "at": parse_ts(r["at"])} for r in rows]


def changes_between(db: Database, since: datetime, until: datetime) -> list[dict]:
    """Every web change in ``[since, until)``, oldest first (for the lead's page)."""
    rows = db.query("SELECT person_id, series, action, via, at FROM web_changes WHERE at >= ? AND at < ? "
                    "ORDER BY at, id", [ts(since), ts(until)])
    return [{**r, "at": parse_ts(r["at"])} for r in rows]


def set_timezone(db: Database, person_id: int, timezone: str) -> None:
    """Move a person to another IANA time zone (checked by the caller); the challenges' plan
    marks are cleared by their trigger, so the next day email is planned at the new local hour."""
    db.execute("UPDATE people SET timezone = ? WHERE id = ?", [timezone, person_id])


def set_send_hour(db: Database, person_id: int, hour: int | None) -> None:
    """Give a person their own local hour (0-23) for day emails, or None: each challenge's own."""
    db.execute("UPDATE people SET send_hour = ? WHERE id = ?", [hour, person_id])


def erase_person(db: Database, person_id: int) -> dict[str, int]:
    """Delete this person's web changes (an erasure)."""
    cur = db.execute("DELETE FROM web_changes WHERE person_id = ?", [person_id])
    return {"web_changes": cur.rowcount}
