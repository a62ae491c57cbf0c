"""Store verbs for volunteer calls: the call, its roles with their places, and who signed up.

Tables: ``calls`` (one row per call), ``call_roles`` (its roles in order; ``places`` NULL for
unlimited) and ``call_signups`` (one row per sign-up, its id the order of arrival; status
``confirmed``, ``waitlisted`` or ``withdrawn``).

Places are taken in SQL, not in Python: ``take_place`` decides confirmed or waitlisted inside
the one INSERT that records the sign-up, in an IMMEDIATE transaction, and two triggers refuse
any write that would confirm more people than a role has places. So two replies for the last
place, in one tick or from two workers, give exactly one confirmation and one waitlist entry.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator

from sqlite_utils import Database

from mailer.errors import NotFoundError
from mailer.store.outbox import parse_ts, ts
from mailer.store.rows import scrub

CALL_STATES = ("open", "closed")
ACTIVE = ("confirmed", "waitlisted")

_FULL = """(SELECT places FROM call_roles WHERE call_id = NEW.call_id AND name = NEW.role) IS NOT NULL
           AND (SELECT COUNT(*) FROM call_signups WHERE call_id = NEW.call_id AND role = NEW.role
                AND status = 'confirmed')
               >= (SELECT places FROM call_roles WHERE call_id = NEW.call_id AND name = NEW.role)"""


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            to_spec TEXT NOT NULL,
            closes TEXT NOT NULL,
            feeds TEXT NOT NULL DEFAULT '',
            sender TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL DEFAULT 'open',
            created_at TEXT NOT NULL,
            closed_at TEXT
        )""")
    db.execute("""
        CREATE TABLE call_roles (
            call_id INTEGER NOT NULL REFERENCES calls(id),
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            places INTEGER CHECK (places IS NULL OR places >= 1),
            description TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (call_id, name)
        )""")
    db.execute("""
        CREATE TABLE call_signups (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL REFERENCES calls(id),
            role TEXT NOT NULL,
            person_id INTEGER NOT NULL REFERENCES people(id),
            status TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'withdrawn')),
            created_at TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            promoted_at TEXT,
            fed INTEGER NOT NULL DEFAULT 0,  -- the call's target took them in (undone on withdrawal)
            FOREIGN KEY (call_id, role) REFERENCES call_roles(call_id, name)
        )""")
    # One active sign-up per person and role: volunteering twice changes nothing.
    db.execute("CREATE UNIQUE INDEX call_signups_active ON call_signups(call_id, role, person_id) "
               "WHERE status != 'withdrawn'")
    db.execute(f"""CREATE TRIGGER call_signups_full_insert BEFORE INSERT ON call_signups
                   WHEN NEW.status = 'confirmed' AND {_FULL}
                   BEGIN SELECT RAISE(ABORT, 'call role is full'); END""")
    db.execute(f"""CREATE TRIGGER call_signups_full_update BEFORE UPDATE OF status ON call_signups
                   WHEN NEW.status = 'confirmed' AND OLD.status != 'confirmed' AND {_FULL}
                   BEGIN SELECT RAISE(ABORT, 'call role is full'); END""")


def _plan_marks(db: Database) -> None:
    # Planning once per change (issue 25): a pass that found nothing due keeps the recipients'
    # time zones (when the closing day ends), the newest people id it saw and who was already in
    # the call's target; ticks before the closing skip the call while those hold. A change of a
    # person (status, roles, zone, address) or of the call's state clears the mark.
    for column in ("plan_checked_at TEXT", "plan_zones TEXT", "plan_people_seen INTEGER", "plan_inside TEXT"):
        db.execute(f"ALTER TABLE calls ADD COLUMN {column}")
    clear_all = "UPDATE calls SET plan_checked_at = NULL WHERE plan_checked_at IS NOT NULL"
    db.execute(f"""CREATE TRIGGER call_replan_person AFTER UPDATE OF status, roles, timezone, email ON people
                   WHEN OLD.status IS NOT NEW.status OR OLD.roles IS NOT NEW.roles
                   OR OLD.timezone IS NOT NEW.timezone OR OLD.email IS NOT NEW.email BEGIN {clear_all}; END""")
    # A sign-up counts the confirmed places of its role, and every reply reads the counts per
    # role: from this index alone, not from the sign-up rows.
    db.execute("CREATE INDEX call_signups_by_role ON call_signups(call_id, role, status)")
    db.execute("""CREATE TRIGGER call_replan_state AFTER UPDATE OF state ON calls
                  BEGIN UPDATE calls SET plan_checked_at = NULL WHERE id = NEW.id; END""")


def _said(db: Database) -> None:
    # A call opened by a charter keeps its fixed sentences as their parts (JSON from
    # mailer.locale.stored: title, description, each role's description), said in each
    # recipient's language; title and description hold their English (issue 23).
    db.execute("ALTER TABLE calls ADD COLUMN said TEXT")


MIGRATIONS = [("calls-001", _create), ("calls-002-plan-marks", _plan_marks), ("calls-003-said", _said)]


@contextmanager
def _immediate(db: Database) -> Iterator[None]:
    """A write transaction taken at once (BEGIN IMMEDIATE), or a savepoint inside an open one.

    IMMEDIATE takes the write lock before reading, so another connection cannot slip a
    confirmation in between our count and our insert (it waits on busy_timeout instead).
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


# -- calls ------------------------------------------------------------------------------------

def create_call(db: Database, fields: dict[str, Any], roles: list[dict], now: datetime) -> int:
    """Insert a call (``fields``: title, description, to_spec, closes, feeds, sender, source, said)
    and its roles (name, places or None, description), in order; return its id."""
    row = {**fields, "to_spec": json.dumps(fields["to_spec"]), "state": "open", "created_at": ts(now)}
    with db.atomic():
        call_id = db["calls"].insert(row).last_pk
        db["call_roles"].insert_all(
            {"call_id": call_id, "position": n, "name": r["name"], "places": r.get("places"),
             "description": r.get("description") or ""} for n, r in enumerate(roles, start=1))
    return call_id


def _call_row(row: dict) -> dict:
    row["to_spec"] = json.loads(row["to_spec"])
    row["created_at"] = parse_ts(row["created_at"])
    row["closed_at"] = parse_ts(row["closed_at"])
    return row


def get_call(db: Database, call_id: int) -> dict:
    """The call with this id; NotFoundError if there is none."""
    rows = list(db.query("SELECT * FROM calls WHERE id = ?", [call_id]))
    if not rows:
        raise NotFoundError(f"no call with id {call_id}")
    return _call_row(rows[0])


def list_calls(db: Database, state: str | None = None) -> list[dict]:
    """Every call (or those in ``state``), oldest first."""
    where, args = ("WHERE state = ?", [state]) if state else ("", [])
    return [_call_row(r) for r in db.query(f"SELECT * FROM calls {where} ORDER BY id", args)]


def find_call(db: Database, title: str, closes: str) -> dict | None:
    """A call with this title and closing date (ISO), or None."""
    rows = list(db.query("SELECT * FROM calls WHERE title = ? AND closes = ?", [title, closes]))
    return _call_row(rows[0]) if rows else None


def close_call(db: Database, call_id: int, now: datetime) -> bool:
    """Close a call now; False when it was already closed."""
    get_call(db, call_id)
    with db.atomic():
        cur = db.execute("UPDATE calls SET state = 'closed', closed_at = ? WHERE id = ? AND state = 'open'",
                         [ts(now), call_id])
    return cur.rowcount == 1


def set_plan_mark(db: Database, call_id: int, checked_at: datetime, zones: set[str], people_seen: int,
                  inside: set[int]) -> None:
    """A planning pass at ``checked_at`` found nothing due for these recipients' ``zones``, with
    every person up to id ``people_seen`` and ``inside`` already in the call's target."""
    db.execute("UPDATE calls SET plan_checked_at = ?, plan_zones = ?, plan_people_seen = ?, plan_inside = ? "
               "WHERE id = ?", [ts(checked_at), json.dumps(sorted(zones)), people_seen,
                                json.dumps(sorted(inside)), call_id])


def plan_mark(call: dict, now: datetime) -> dict | None:
    """The call's plan mark (zones, people_seen, inside as sets and an int) when a pass at or
    before ``now`` left one, else None."""
    checked = call.get("plan_checked_at")
    if not checked or checked > ts(now):
        return None
    return {"zones": set(json.loads(call["plan_zones"] or "[]")), "people_seen": call["plan_people_seen"],
            "inside": set(json.loads(call["plan_inside"] or "[]"))}


def call_roles(db: Database, call_id: int) -> list[dict]:
    """The call's roles in order: name, places (None: unlimited), description."""
    return list(db.query("SELECT name, places, description FROM call_roles WHERE call_id = ? "
                         "ORDER BY position", [call_id]))


# -- sign-ups ---------------------------------------------------------------------------------

def _signup_row(row: dict) -> dict:
    for key in ("created_at", "changed_at", "promoted_at"):
        row[key] = parse_ts(row.get(key))
    return row


def signups(db: Database, call_id: int, include_withdrawn: bool = False) -> list[dict]:
    """Sign-ups in order of arrival, with the person's email, name and time zone."""
    where = "" if include_withdrawn else "AND s.status != 'withdrawn'"
    rows = db.query(f"""SELECT s.*, p.email, p.name, p.timezone FROM call_signups s
                        JOIN people p ON p.id = s.person_id WHERE s.call_id = ? {where}
                        ORDER BY s.id""", [call_id])
    return [_signup_row(r) for r in rows]


def signup_counts(db: Database, call_id: int) -> dict[str, tuple[int, int]]:
    """Role -> (confirmed, waitlisted) counts, without reading each sign-up."""
    rows = db.execute("SELECT role, SUM(status = 'confirmed'), SUM(status = 'waitlisted') FROM call_signups "
                      "WHERE call_id = ? AND status != 'withdrawn' GROUP BY role", [call_id])
    return {role: (confirmed, waiting) for role, confirmed, waiting in rows}


def signup_zones(db: Database, call_id: int) -> set[str]:
    """The time zones of everyone signed up (for when the closing day ends everywhere)."""
    return {r[0] for r in db.execute("SELECT DISTINCT p.timezone FROM call_signups s JOIN people p "
                                     "ON p.id = s.person_id WHERE s.call_id = ?", [call_id])}


def active_signups(db: Database, call_id: int, person_id: int) -> list[dict]:
    """A person's confirmed or waitlisted sign-ups in a call, in order."""
    rows = db.query("SELECT * FROM call_signups WHERE call_id = ? AND person_id = ? "
                    "AND status != 'withdrawn' ORDER BY id", [call_id, person_id])
    return [_signup_row(r) for r in rows]


def take_place(db: Database, call_id: int, role: str, person_id: int, now: datetime) -> dict | None:
    """Sign a person up for a role: confirmed while places are left, else waitlisted.

    The choice is made inside the INSERT, so it cannot race with another sign-up. Returns the
    new sign-up with its waitlist ``position`` (0 when confirmed), or None when the person
    already holds or waits for this role (nothing changes).
    """
    stamp = ts(now)
    with _immediate(db):
        rows = db.execute(
            """INSERT INTO call_signups (call_id, role, person_id, status, created_at, changed_at)
               SELECT r.call_id, r.name, ?,
                      CASE WHEN r.places IS NULL OR (SELECT COUNT(*) FROM call_signups c
                           WHERE c.call_id = r.call_id AND c.role = r.name
                           AND c.status = 'confirmed') < r.places
                      THEN 'confirmed' ELSE 'waitlisted' END, ?, ?
               FROM call_roles r WHERE r.call_id = ? AND r.name = ?
               ON CONFLICT DO NOTHING RETURNING id""",
            [person_id, stamp, stamp, call_id, role]).fetchall()
        return _with_position(db, rows[0][0]) if rows else None


def _with_position(db: Database, signup_id: int) -> dict:
    row = _signup_row(next(db.query("SELECT * FROM call_signups WHERE id = ?", [signup_id])))
    row["position"] = 0
    if row["status"] == "waitlisted":
        row["position"] = db.execute(
            "SELECT COUNT(*) FROM call_signups WHERE call_id = ? AND role = ? AND status = 'waitlisted' "
            "AND id <= ?", [row["call_id"], row["role"], signup_id]).fetchone()[0]
    return row


def withdraw(db: Database, call_id: int, person_id: int, role: str | None,
             now: datetime) -> tuple[list[dict], list[dict]]:
    """Take a person off (one role, or every role they hold or wait for) and fill each place
    freed from the front of that role's waitlist. Returns (withdrawn, promoted) sign-ups."""
    with _immediate(db):
        mine = [s for s in active_signups(db, call_id, person_id) if role is None or s["role"] == role]
        promoted: list[dict] = []
        for signup in mine:
            db.execute("UPDATE call_signups SET status = 'withdrawn', changed_at = ? WHERE id = ?",
                       [ts(now), signup["id"]])
            if signup["status"] == "confirmed":
                promoted += promote(db, call_id, signup["role"], now)
    return mine, promoted


def promote(db: Database, call_id: int, role: str, now: datetime) -> list[dict]:
    """Confirm the first waiting people of a role while it has places left; return them."""
    promoted: list[dict] = []
    with _immediate(db):
        while True:
            rows = db.execute(
                """UPDATE call_signups SET status = 'confirmed', promoted_at = ?, changed_at = ?
                   WHERE id = (SELECT id FROM call_signups WHERE call_id = ? AND role = ?
                               AND status = 'waitlisted' ORDER BY id LIMIT 1)
                   AND ((SELECT places FROM call_roles WHERE call_id = ? AND name = ?) IS NULL
                        OR (SELECT COUNT(*) FROM call_signups WHERE call_id = ? AND role = ?
                            AND status = 'confirmed')
                           < (SELECT places FROM call_roles WHERE call_id = ? AND name = ?))
                   RETURNING id""",
                [ts(now), ts(now), call_id, role, *(call_id, role) * 3]).fetchall()
            if not rows:
                return promoted
            promoted.append(_with_position(db, rows[0][0]))


def mark_fed(db: Database, signup_id: int) -> None:
    """Record that the call's target (a challenge, a team) took this volunteer in."""
    db.execute("UPDATE call_signups SET fed = 1 WHERE id = ?", [signup_id])


def confirmed_people(db: Database, call_id: int) -> list[int]:
    """Person ids confirmed in a call, in the order they signed up (each person once)."""
    rows = db.execute("SELECT person_id FROM call_signups WHERE call_id = ? AND status = 'confirmed' "
                      "GROUP BY person_id ORDER BY MIN(id)", [call_id])
    return [r[0] for r in rows]


def changes_between(db: Database, call_id: int, since: datetime, until: datetime) -> dict[str, int]:
    """How many signed up, were promoted and withdrew in ``[since, until)``."""
    a, b = ts(since), ts(until)
    row = db.execute(
        """SELECT SUM(created_at >= ? AND created_at < ?),
                  SUM(promoted_at IS NOT NULL AND promoted_at >= ? AND promoted_at < ?),
                  SUM(status = 'withdrawn' AND changed_at >= ? AND changed_at < ?)
           FROM call_signups WHERE call_id = ?""", [a, b, a, b, a, b, call_id]).fetchone()
    return {"signed_up": row[0] or 0, "promoted": row[1] or 0, "withdrew": row[2] or 0}


def erase_person(db: Database, addresses: list[str], tombstone: str) -> dict[str, int]:
    """Rewrite calls that name this person's address; their sign-ups stay (places and counts
    hold), by "a former member"."""
    return {"calls": scrub(db, "calls", ("to_spec", "sender", "source"), addresses, tombstone)}
