"""Store verbs for report-back meetups: the event, who is invited, their answers, who came.

Tables: ``meetups`` (one row per meetup: its calendar UID, never regenerated, and SEQUENCE, the
version calendars compare), ``meetup_invitees`` (one row per invited person: their current
answer, the version it answered, attendance and the highlight they shared) and
``meetup_answers`` (every answer as it came, including answers to older versions, COUNTER
proposals and answers from addresses we could not tie to an invitee: kept for the organiser,
never turned into an attendee). Times are ISO-8601 UTC text, as in the outbox.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Iterator

from sqlite_utils import Database

from mailer.errors import NotFoundError
from mailer.store.outbox import parse_ts, ts
from mailer.store.meetup_plans import plan_marks
from mailer.store.rows import one_unit, scrub, select

PARTSTATS = ("needs-action", "accepted", "declined", "tentative")


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE meetups (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            sequence INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'scheduled',
            title TEXT NOT NULL,
            start TEXT NOT NULL,
            duration_minutes INTEGER NOT NULL,
            timezone TEXT NOT NULL,
            location TEXT NOT NULL DEFAULT '',
            online_url TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            invite_spec TEXT NOT NULL DEFAULT '[]',
            sponsors TEXT NOT NULL DEFAULT '[]',
            source TEXT NOT NULL DEFAULT '',
            cancel_reason TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE meetup_invitees (
            meetup_id INTEGER NOT NULL REFERENCES meetups(id),
            person_id INTEGER NOT NULL REFERENCES people(id),
            speaker INTEGER NOT NULL DEFAULT 0,
            partstat TEXT NOT NULL DEFAULT 'needs-action',
            answered_version INTEGER,
            answered_stamp TEXT,
            answered_at TEXT,
            comment TEXT NOT NULL DEFAULT '',
            attended INTEGER NOT NULL DEFAULT 0,
            highlight TEXT,
            highlight_at TEXT,
            added_at TEXT NOT NULL,
            PRIMARY KEY (meetup_id, person_id)
        )""")
    db.execute("""
        CREATE TABLE meetup_answers (
            id INTEGER PRIMARY KEY,
            meetup_id INTEGER NOT NULL REFERENCES meetups(id),
            person_id INTEGER REFERENCES people(id),
            address TEXT NOT NULL,
            kind TEXT NOT NULL,
            partstat TEXT,
            version INTEGER NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            proposed_start TEXT,
            stamp TEXT,
            received_at TEXT NOT NULL,
            message_id TEXT
        )""")
    db.execute("CREATE INDEX meetup_answers_by_meetup ON meetup_answers(meetup_id, received_at)")


def _native(db: Database) -> None:
    # One row per meetup mirrored to a native calendar (Exchange or Graph with native_meetings):
    # the server's event id and UID, the meetup version and attendees it shows, and a fingerprint
    # of everything it says, so a change is pushed once. ``refused`` (the server would not take it)
    # sends that meetup back to iMIP invitations.
    db.execute("""
        CREATE TABLE meetup_native (
            meetup_id INTEGER PRIMARY KEY REFERENCES meetups(id),
            transport TEXT NOT NULL,
            state TEXT NOT NULL,
            event_id TEXT NOT NULL DEFAULT '',
            event_uid TEXT NOT NULL DEFAULT '',
            sequence INTEGER NOT NULL DEFAULT 0,
            sequence_at TEXT,
            attendees TEXT NOT NULL DEFAULT '[]',
            fingerprint TEXT NOT NULL DEFAULT '',
            responses_at TEXT,
            reason TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX meetup_native_by_uid ON meetup_native(event_uid)")


def _moved_from(db: Database) -> None:
    # The time before the last move, so the update can say "was … now …".
    db.execute("ALTER TABLE meetups ADD COLUMN moved_from_start TEXT")
    db.execute("ALTER TABLE meetups ADD COLUMN moved_from_minutes INTEGER")


MIGRATIONS = [("meetups-001", _create), ("meetups-002-native", _native), ("meetups-003-moved-from", _moved_from),
              ("meetups-004-plan-marks", plan_marks)]


# -- meetups ------------------------------------------------------------------------------

def create_meetup(db: Database, fields: dict[str, Any], now: datetime) -> int:
    """Insert a meetup (``fields``: uid, title, start (aware), duration_minutes, timezone,
    location, online_url, description, invite_spec, sponsors, source); return its id."""
    row = {**fields, "start": ts(fields["start"]), "invite_spec": json.dumps(fields.get("invite_spec", [])),
           "sponsors": json.dumps(list(fields.get("sponsors", ()))), "created_at": ts(now), "updated_at": ts(now)}
    with db.atomic():
        return db["meetups"].insert(row).last_pk


def _meetup_row(row: dict) -> dict:
    row["start"] = parse_ts(row["start"])
    row["end"] = row["start"] + timedelta(minutes=row["duration_minutes"])
    row["moved_from_start"] = parse_ts(row.get("moved_from_start"))
    row["invite_spec"] = json.loads(row["invite_spec"])
    row["sponsors"] = json.loads(row["sponsors"])
    row["created_at"], row["updated_at"] = parse_ts(row["created_at"]), parse_ts(row["updated_at"])
    return row


def get_meetup(db: Database, meetup_id: int) -> dict:
    """The meetup with this id (start/end as datetimes); NotFoundError if there is none."""
    rows = select(db, "SELECT * FROM meetups WHERE id = ?", [meetup_id])  # read once per reply
    if not rows:
        raise NotFoundError(f"no meetup with id {meetup_id}")
    return _meetup_row(rows[0])


def find_by_uid(db: Database, uid: str) -> dict | None:
    """The meetup whose calendar UID is ``uid`` (as calendars send it back), or None.

    A native event made by Graph carries a UID Exchange chose, so that one is looked up too.
    """
    rows = select(db, "SELECT * FROM meetups WHERE uid = ?", [uid.strip()]) or list(db.query(
        "SELECT m.* FROM meetups m JOIN meetup_native n ON n.meetup_id = m.id WHERE n.event_uid = ? "
        "AND n.event_uid != ''", [uid.strip()]))
    return _meetup_row(rows[0]) if rows else None


def find_meetup(db: Database, title: str, start: datetime) -> dict | None:
    """A meetup not cancelled with this title and start, or None (scheduling twice is refused)."""
    rows = list(db.query("SELECT * FROM meetups WHERE title = ? AND start = ? AND state != 'cancelled'",
                         [title, ts(start)]))
    return _meetup_row(rows[0]) if rows else None


def list_meetups(db: Database, since: datetime | None = None) -> list[dict]:
    """Every meetup by start (only those changed or ending after ``since`` when given)."""
    if since is None:
        return [_meetup_row(r) for r in db.query("SELECT * FROM meetups ORDER BY start, id")]
    rows = db.query("SELECT * FROM meetups WHERE updated_at >= ? OR "
                    "datetime(start, '+' || duration_minutes || ' minutes') >= datetime(?) ORDER BY start, id",
                    [ts(since), ts(since)])
    return [_meetup_row(r) for r in rows]


def move_meetup(db: Database, meetup_id: int, start: datetime, duration_minutes: int, now: datetime) -> int:
    """A new time: SEQUENCE + 1, and every answer back to needs-action (RFC 5546 §2.1.4); returns the new SEQUENCE.

    The time it had is kept (``moved_from_start``, ``moved_from_minutes``) for the update's
    "was … now …"; the answers to it stay in ``meetup_answers`` with their version."""
    with db.atomic():
        db.execute("UPDATE meetups SET moved_from_start = start, moved_from_minutes = duration_minutes, "
                   "start = ?, duration_minutes = ?, sequence = sequence + 1, updated_at = ?, next_plan_at = NULL "
                   "WHERE id = ?", [ts(start), duration_minutes, ts(now), meetup_id])
        db.execute("UPDATE meetup_invitees SET partstat = 'needs-action', answered_version = NULL, "
                   "answered_stamp = NULL, answered_at = NULL, comment = '' WHERE meetup_id = ?", [meetup_id])
    return get_meetup(db, meetup_id)["sequence"]


def cancel_meetup(db: Database, meetup_id: int, reason: str, now: datetime) -> int:
    """Cancel it: state cancelled, SEQUENCE + 1 (the CANCEL must outrank the last REQUEST)."""
    with db.atomic():
        db.execute("UPDATE meetups SET state = 'cancelled', cancel_reason = ?, sequence = sequence + 1, "
                   "updated_at = ?, next_plan_at = NULL WHERE id = ?", [reason, ts(now), meetup_id])
    return get_meetup(db, meetup_id)["sequence"]


# -- invitees -----------------------------------------------------------------------------

def add_invitee(db: Database, meetup_id: int, person_id: int, now: datetime, speaker: bool = False) -> bool:
    """Invite a person (a speaker is also an invitee); False when already invited (a speaker flag is kept)."""
    with db.atomic():
        cur = db.execute("INSERT INTO meetup_invitees (meetup_id, person_id, speaker, added_at) "
                         "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [meetup_id, person_id, int(speaker), ts(now)])
        if speaker and cur.rowcount == 0:
            db.execute("UPDATE meetup_invitees SET speaker = 1 WHERE meetup_id = ? AND person_id = ?",
                       [meetup_id, person_id])
    return cur.rowcount == 1


def add_invitees(db: Database, meetup_id: int, person_ids: list[int], now: datetime) -> int:
    """Invite these people (those already invited stay as they are); how many were new."""
    with db.atomic():
        return sum(db.execute("INSERT INTO meetup_invitees (meetup_id, person_id, added_at) VALUES (?, ?, ?) "
                              "ON CONFLICT DO NOTHING", [meetup_id, pid, ts(now)]).rowcount for pid in person_ids)


def invitee_ids(db: Database, meetup_id: int) -> set[int]:
    """The person ids invited to a meetup (one indexed column, nothing parsed)."""
    return {row[0] for row in db.execute("SELECT person_id FROM meetup_invitees WHERE meetup_id = ?", [meetup_id])}


def is_invited(db: Database, meetup_id: int, person_id: int) -> bool:
    """Whether this person is invited to this meetup (one primary-key look-up)."""
    return db.execute("SELECT 1 FROM meetup_invitees WHERE meetup_id = ? AND person_id = ?",
                      [meetup_id, person_id]).fetchone() is not None


class Invited:
    """A meetup's invitees as a container: ``person_id in invited`` is one primary-key look-up,
    so a calendar answer costs the same among 10 invitees as among 50,000."""

    def __init__(self, db: Database, meetup_id: int) -> None:
        self.db, self.meetup_id = db, meetup_id

    def __contains__(self, person_id: object) -> bool:
        return isinstance(person_id, int) and is_invited(self.db, self.meetup_id, person_id)


def invited_to(db: Database, meetup_id: int) -> Invited:
    """The invitees of a meetup to test membership in, one look-up per test (never a listing)."""
    return Invited(db, meetup_id)


def _invitee_row(row: dict) -> dict:
    for key in ("answered_stamp", "answered_at", "highlight_at", "added_at"):
        row[key] = parse_ts(row[key])
    row["speaker"], row["attended"] = bool(row["speaker"]), bool(row["attended"])
    return row


def list_invitees(db: Database, meetup_id: int) -> list[dict]:
    """Invitees with their person's email, name, time zone and mail status, by email."""
    rows = db.query("""SELECT i.*, p.email, p.name, p.timezone, p.language, p.status AS person_status
                       FROM meetup_invitees i JOIN people p ON p.id = i.person_id
                       WHERE i.meetup_id = ? ORDER BY p.email""", [meetup_id])
    return [_invitee_row(r) for r in rows]


# The same columns and order as ``list_invitees``, a page at a time from the email index: people
# are walked by email (CROSS JOIN keeps SQLite from sorting the whole meetup per page) and each
# page starts after the last email of the one before, so no read stays open between pages.
_INVITEE_PAGE_SQL = """SELECT i.*, p.email, p.name, p.timezone, p.language, p.status AS person_status
                       FROM people p CROSS JOIN meetup_invitees i ON i.meetup_id = ? AND i.person_id = p.id
                       WHERE p.email > ? ORDER BY p.email LIMIT ?"""


def count_invitees(db: Database, meetup_id: int) -> int:
    """How many people a meetup invites (a count over its primary-key range)."""
    return db.execute("SELECT count(*) FROM meetup_invitees WHERE meetup_id = ?", [meetup_id]).fetchone()[0]


INVITEE_PAGE = 2000  # invitee rows read at once by ``stream_invitees`` (~3 MB as dicts)


def stream_invitees(db: Database, meetup_id: int, page: int | None = None) -> Iterator[dict]:
    """``list_invitees`` as a stream: the same rows in the same order, ``page`` rows held at a
    time (50,000 invitee rows as dicts are ~70 MB). A small meetup is one ``list_invitees``;
    writes between pages are safe (no statement stays open)."""
    page = page or INVITEE_PAGE
    if count_invitees(db, meetup_id) <= page:
        yield from list_invitees(db, meetup_id)
        return
    after = ""
    while rows := [_invitee_row(r) for r in db.query(_INVITEE_PAGE_SQL, [meetup_id, after, page])]:
        yield from rows
        after = rows[-1]["email"]


def speaker_names(db: Database, meetup_id: int, unmailed: tuple[str, ...]) -> list[str]:
    """The names of a meetup's speakers by email, leaving out people whose status is in
    ``unmailed`` (they get no mail, so no invitation names them either)."""
    marks = ",".join("?" * len(unmailed))
    return [r[0] for r in db.execute(
        f"""SELECT p.name FROM meetup_invitees i JOIN people p ON p.id = i.person_id
            WHERE i.meetup_id = ? AND i.speaker = 1 AND p.status NOT IN ({marks}) ORDER BY p.email""",
        [meetup_id, *unmailed])]


def get_invitee(db: Database, meetup_id: int, person_id: int) -> dict | None:
    """One invitee row, or None when the person is not invited."""
    rows = select(db, "SELECT * FROM meetup_invitees WHERE meetup_id = ? AND person_id = ?", [meetup_id, person_id])
    return _invitee_row(rows[0]) if rows else None


def set_answer(db: Database, meetup_id: int, person_id: int, partstat: str, version: int,
               stamp: datetime, now: datetime, comment: str) -> None:
    """Make this the invitee's current answer (the caller decided it outranks the stored one)."""
    if partstat not in PARTSTATS:
        raise ValueError(f"unknown answer {partstat!r}")
    with one_unit(db):  # once per answer: no savepoint of its own inside the inbox's
        db.execute("UPDATE meetup_invitees SET partstat = ?, answered_version = ?, answered_stamp = ?, "
                   "answered_at = ?, comment = ? WHERE meetup_id = ? AND person_id = ?",
                   [partstat, version, ts(stamp), ts(now), comment, meetup_id, person_id])


def set_speaker(db: Database, meetup_id: int, person_id: int, speaker: bool) -> None:
    """Mark an invitee as a speaker or not."""
    with db.atomic():
        db.execute("UPDATE meetup_invitees SET speaker = ? WHERE meetup_id = ? AND person_id = ?",
                   [int(speaker), meetup_id, person_id])


def set_attended(db: Database, meetup_id: int, person_id: int) -> None:
    """Record that the invitee came (an RSVP is not attendance)."""
    with db.atomic():
        db.execute("UPDATE meetup_invitees SET attended = 1 WHERE meetup_id = ? AND person_id = ?",
                   [meetup_id, person_id])


def set_highlight(db: Database, meetup_id: int, person_id: int, text: str, now: datetime) -> None:
    """The highlight an attendee chose to share (their reply to the highlight question)."""
    with db.atomic():
        db.execute("UPDATE meetup_invitees SET highlight = ?, highlight_at = ? WHERE meetup_id = ? AND person_id = ?",
                   [text, ts(now), meetup_id, person_id])


# -- answers as they came ---------------------------------------------------------------------

def keep_answer(db: Database, meetup_id: int, person_id: int | None, address: str, kind: str,
                partstat: str | None, version: int, now: datetime, *, comment: str = "",
                stamp: datetime | None = None, proposed_start: datetime | None = None,
                message_id: str | None = None) -> int:
    """Keep one answer as it came (kind: calendar, text, counter, unattributed); return its id."""
    with one_unit(db):
        cur = db.execute(
            """INSERT INTO meetup_answers (meetup_id, person_id, address, kind, partstat, version, comment,
               proposed_start, stamp, received_at, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [meetup_id, person_id, address, kind, partstat, version, comment,
             ts(proposed_start) if proposed_start else None, ts(stamp) if stamp else None, ts(now), message_id])
    return cur.lastrowid


def answers(db: Database, meetup_id: int, kinds: tuple[str, ...] | None = None) -> list[dict]:
    """Answers kept for a meetup, oldest first (only ``kinds`` when given)."""
    rows = list(db.query("SELECT * FROM meetup_answers WHERE meetup_id = ? ORDER BY received_at, id", [meetup_id]))
    for row in rows:
        for key in ("proposed_start", "stamp", "received_at"):
            row[key] = parse_ts(row[key])
    return [r for r in rows if kinds is None or r["kind"] in kinds]


# -- native calendar events -----------------------------------------------------------------------

NATIVE_STATES = ("live", "cancelled", "imip")  # imip: this meetup's invitations go out as email
NATIVE_FIELDS = {"transport", "state", "event_id", "event_uid", "sequence", "sequence_at", "attendees",
                 "fingerprint", "responses_at", "reason"}


def native_event(db: Database, meetup_id: int) -> dict | None:
    """The native calendar event mirroring a meetup (attendees as a set of person ids), or None."""
    rows = list(db.query("SELECT * FROM meetup_native WHERE meetup_id = ?", [meetup_id]))
    if not rows:
        return None
    row = rows[0]
    row["attendees"] = set(json.loads(row["attendees"]))
    for key in ("sequence_at", "responses_at", "updated_at"):
        row[key] = parse_ts(row[key])
    return row


def save_native_event(db: Database, meetup_id: int, fields: dict[str, Any], now: datetime) -> None:
    """Create or change a meetup's native event row (``fields``: transport, state, event_id,
    event_uid, sequence, sequence_at, attendees, fingerprint, responses_at, reason; only those given)."""
    if set(fields) - NATIVE_FIELDS:
        raise ValueError(f"unknown native event fields {sorted(set(fields) - NATIVE_FIELDS)}")
    if "state" in fields and fields["state"] not in NATIVE_STATES:
        raise ValueError(f"unknown native event state {fields['state']!r}")
    row = {**fields, "updated_at": ts(now)}
    if "attendees" in row:
        row["attendees"] = json.dumps(sorted(row["attendees"]))
    for key in ("sequence_at", "responses_at"):
        if row.get(key) is not None:
            row[key] = ts(row[key])
    with db.atomic():  # change the row if there is one, else make it (transport and state then needed)
        cur = db.execute(f"UPDATE meetup_native SET {', '.join(f'{key} = ?' for key in row)} WHERE meetup_id = ?",
                         [*row.values(), meetup_id])
        if cur.rowcount == 0:
            db.execute(f"INSERT INTO meetup_native (meetup_id, {', '.join(row)}) VALUES (?{', ?' * len(row)})",
                       [meetup_id, *row.values()])


def written_by(db: Database, person_id: int) -> list[str]:
    """Every RSVP comment and highlight this person wrote (for an erasure)."""
    rows = db.execute("""SELECT comment FROM meetup_invitees WHERE person_id = ?
                         UNION ALL SELECT highlight FROM meetup_invitees WHERE person_id = ?
                         UNION ALL SELECT comment FROM meetup_answers WHERE person_id = ?""", [person_id] * 3)
    return [r[0] for r in rows if r[0]]


def erase_person(db: Database, person_id: int, addresses: list[str], tombstone: str) -> dict[str, int]:
    """Forget this person's words at meetups: comments and highlights deleted, answers kept
    without their address (RSVP counts hold); meetups and native events naming them rewritten."""
    marks = ",".join("?" * len(addresses))
    return {
        "meetup_invitees": db.execute("UPDATE meetup_invitees SET comment = '', highlight = NULL, highlight_at = NULL "
                                      "WHERE person_id = ?", [person_id]).rowcount,
        "meetup_answers": db.execute(f"UPDATE meetup_answers SET address = ?, comment = '', message_id = NULL "
                                     f"WHERE person_id = ? OR lower(address) IN ({marks})",
                                     [tombstone, person_id, *addresses]).rowcount,
        "meetups": scrub(db, "meetups", ("invite_spec", "sponsors", "source", "description"), addresses, tombstone),
        "meetup_native": scrub(db, "meetup_native", ("attendees",), addresses, tombstone),
    }
