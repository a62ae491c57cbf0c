"""Store verbs for 30-day challenges: the programme, its participants, partner groups, journals.

Tables: ``challenges`` (one row per started programme), ``challenge_days`` (its activities),
``challenge_participants`` (who takes part and whether they are active, paused or stopped),
``challenge_pairs`` (accountability groups: one row per member, ``ended_at`` set when the
group breaks up) and ``journal_entries`` (one row per reply; two replies on one day are two
rows, read back in order). Times are ISO-8601 UTC text, as in the outbox.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any, Iterable

from sqlite_utils import Database

from mailer.errors import NotFoundError
from mailer.store.outbox import parse_ts, ts
from mailer.store.rows import scrub, select

PARTICIPANT_STATES = ("active", "paused", "stopped")
CHALLENGE_STATES = ("active", "paused", "removed")


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE challenges (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            domain TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            start TEXT NOT NULL,
            length INTEGER NOT NULL,
            send_hour INTEGER NOT NULL,
            send_minute INTEGER NOT NULL DEFAULT 0,
            partners INTEGER NOT NULL DEFAULT 1,
            participants_spec TEXT NOT NULL,
            sponsors TEXT NOT NULL DEFAULT '[]',
            source TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL DEFAULT 'active',
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE challenge_days (
            challenge_id INTEGER NOT NULL REFERENCES challenges(id),
            day INTEGER NOT NULL,
            title TEXT NOT NULL,
            activity TEXT NOT NULL,
            PRIMARY KEY (challenge_id, day)
        )""")
    db.execute("""
        CREATE TABLE challenge_participants (
            challenge_id INTEGER NOT NULL REFERENCES challenges(id),
            person_id INTEGER NOT NULL REFERENCES people(id),
            status TEXT NOT NULL DEFAULT 'active',
            from_start INTEGER NOT NULL DEFAULT 1,
            joined_at TEXT NOT NULL,
            last_activity_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (challenge_id, person_id)
        )""")
    db.execute("""
        CREATE TABLE challenge_pairs (
            id INTEGER PRIMARY KEY,
            challenge_id INTEGER NOT NULL REFERENCES challenges(id),
            group_no INTEGER NOT NULL,
            person_id INTEGER NOT NULL REFERENCES people(id),
            formed_at TEXT NOT NULL,
            ended_at TEXT
        )""")
    db.execute("CREATE INDEX challenge_pairs_current ON challenge_pairs(challenge_id, ended_at)")
    db.execute("""
        CREATE TABLE journal_entries (
            id INTEGER PRIMARY KEY,
            challenge_id INTEGER NOT NULL REFERENCES challenges(id),
            person_id INTEGER NOT NULL REFERENCES people(id),
            day INTEGER NOT NULL,
            text TEXT NOT NULL,
            shareable INTEGER NOT NULL DEFAULT 0,
            received_at TEXT NOT NULL,
            message_id TEXT
        )""")
    db.execute("CREATE INDEX journal_by_person ON journal_entries(challenge_id, person_id, day)")


def _plan_marks(db: Database) -> None:
    # When planning last ran, the next moment it can have anything to do, and the newest person
    # it saw: a tick in between skips the challenge without reading its participants. A change
    # that could make an email due sooner clears the mark: these triggers catch someone enrolled,
    # paused/resumed/stopped, or a person bounced, un-bounced, given roles or moved to another
    # zone; a new person shows as a higher people id (no trigger on INSERT: an import of 50,000
    # rows would fire it 50,000 times).
    db.execute("ALTER TABLE challenges ADD COLUMN plan_checked_at TEXT")
    db.execute("ALTER TABLE challenges ADD COLUMN next_plan_at TEXT")
    db.execute("ALTER TABLE challenges ADD COLUMN plan_people_seen INTEGER")
    clear_one = "UPDATE challenges SET next_plan_at = NULL WHERE id = {}.challenge_id; END"
    clear_all = "UPDATE challenges SET next_plan_at = NULL WHERE next_plan_at IS NOT NULL; END"
    for name, event, action in (
            ("participant_added", "INSERT ON challenge_participants", clear_one.format("NEW")),
            ("participant_changed", "UPDATE OF status ON challenge_participants", clear_one.format("NEW")),
            ("participant_removed", "DELETE ON challenge_participants", clear_one.format("OLD")),
            ("person_changed", "UPDATE OF status, roles, timezone, email ON people", clear_all)):
        db.execute(f"CREATE TRIGGER challenge_replan_{name} AFTER {event} BEGIN {action}")


def _translations(db: Database) -> None:
    # What a lead wrote in other languages (issue 23): JSON {"title": {"de": "…"}, …} beside the
    # default text in title / activity; NULL: none.
    db.execute("ALTER TABLE challenges ADD COLUMN translations TEXT")
    db.execute("ALTER TABLE challenge_days ADD COLUMN translations TEXT")


def _pairs_by_person(db: Database) -> None:
    # Taking one person out of their group (a stop, by reply or one-click) read every current
    # pair of the challenge: 24 ms at 50,000 participants (bench/web_unsubscribe.py).
    db.execute("CREATE INDEX challenge_pairs_person ON challenge_pairs(challenge_id, person_id) "
               "WHERE ended_at IS NULL")


MIGRATIONS = [("challenges-001", _create), ("challenges-002", _plan_marks),
              ("challenges-translations", _translations), ("challenges-003-pairs-by-person", _pairs_by_person)]
NEVER = "9999-12-31T00:00:00+00:00"


# -- challenges ---------------------------------------------------------------------------

def create_challenge(db: Database, fields: dict[str, Any], days: Iterable[tuple[str, str]],
                     created_at: datetime, day_translations: Iterable[dict] = ()) -> int:
    """Insert a challenge (``fields``: title, domain, description, start, length, send_hour,
    send_minute, partners, participants_spec, sponsors, source, optionally translations) and
    its days (with each day's translations, if any); return its id."""
    row = {**fields, "participants_spec": json.dumps(fields["participants_spec"]),
           "sponsors": json.dumps(list(fields.get("sponsors", ()))),
           "partners": int(bool(fields["partners"])), "created_at": ts(created_at),
           "translations": json.dumps(fields["translations"]) if fields.get("translations") else None}
    translated = list(day_translations)
    with db.atomic():
        challenge_id = db["challenges"].insert(row).last_pk
        db["challenge_days"].insert_all(
            {"challenge_id": challenge_id, "day": n, "title": title, "activity": activity,
             "translations": json.dumps(translated[n - 1]) if n <= len(translated) and translated[n - 1] else None}
            for n, (title, activity) in enumerate(days, start=1))
    return challenge_id


def _challenge_row(row: dict) -> dict:
    row["participants_spec"] = json.loads(row["participants_spec"])
    row["sponsors"] = json.loads(row["sponsors"])
    row["partners"] = bool(row["partners"])
    row["translations"] = json.loads(row.get("translations") or "{}")
    return row


def get_challenge(db: Database, challenge_id: int) -> dict:
    """The challenge with this id; NotFoundError if there is none."""
    rows = select(db, "SELECT * FROM challenges WHERE id = ?", [challenge_id])
    if not rows:
        raise NotFoundError(f"no challenge with id {challenge_id}")
    return _challenge_row(rows[0])


def challenge_head(db: Database, challenge_id: int) -> dict:
    """The id, state and length of the challenge with this id (what a journal entry needs, without
    the row's JSON texts); NotFoundError if there is none."""
    rows = select(db, "SELECT id, state, length FROM challenges WHERE id = ?", [challenge_id])  # read per reply
    if not rows:
        raise NotFoundError(f"no challenge with id {challenge_id}")
    return rows[0]


def find_challenge(db: Database, title: str, start: str) -> dict | None:
    """A challenge not removed with this title and start date (ISO), or None."""
    rows = list(db.query("SELECT * FROM challenges WHERE title = ? AND start = ? AND state != 'removed'",
                         [title, start]))
    return _challenge_row(rows[0]) if rows else None


def list_challenges(db: Database, include_removed: bool = False) -> list[dict]:
    """Every challenge, oldest first (removed ones only when asked)."""
    where = "" if include_removed else "WHERE state != 'removed'"
    return [_challenge_row(r) for r in db.query(f"SELECT * FROM challenges {where} ORDER BY id")]


def set_challenge_state(db: Database, challenge_id: int, state: str) -> None:
    """Set a challenge to active, paused or removed."""
    if state not in CHALLENGE_STATES:
        raise ValueError(f"unknown challenge state {state!r}")
    get_challenge(db, challenge_id)
    with db.atomic():
        db.execute("UPDATE challenges SET state = ?, next_plan_at = NULL WHERE id = ?", [state, challenge_id])


def set_plan_mark(db: Database, challenge_id: int, checked_at: datetime, next_at: datetime | None) -> None:
    """Planning ran at ``checked_at`` and nothing can fall due before ``next_at`` (None: never,
    unless the participants or people change)."""
    db.execute("UPDATE challenges SET plan_checked_at = ?, next_plan_at = ?, "
               "plan_people_seen = (SELECT COALESCE(MAX(id), 0) FROM people) WHERE id = ?",
               [ts(checked_at), ts(next_at) if next_at else NEVER, challenge_id])


def nothing_due(db: Database, challenge: dict, now: datetime) -> bool:
    """Whether planning already ran for this challenge and nothing can be due yet at ``now``."""
    checked, next_at = challenge.get("plan_checked_at"), challenge.get("next_plan_at")
    if not (checked and next_at and checked <= ts(now) < next_at):
        return False
    newest = db.execute("SELECT COALESCE(MAX(id), 0) FROM people").fetchone()[0]  # the rowid: O(1)
    return newest == challenge.get("plan_people_seen")


def challenge_days(db: Database, challenge_id: int) -> list[dict]:
    """The challenge's days in order: day, title, activity, translations (JSON text or None)."""
    return list(db.query("SELECT day, title, activity, translations FROM challenge_days WHERE challenge_id = ? "
                         "ORDER BY day", [challenge_id]))


# -- participants -------------------------------------------------------------------------

def add_participant(db: Database, challenge_id: int, person_id: int, now: datetime,
                    from_start: bool) -> bool:
    """Enrol a person (active); returns False when they already take part (nothing changes)."""
    stamp = ts(now)
    with db.atomic():
        cur = db.execute(
            """INSERT INTO challenge_participants
               (challenge_id, person_id, status, from_start, joined_at, last_activity_at, updated_at)
               VALUES (?, ?, 'active', ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            [challenge_id, person_id, int(from_start), stamp, stamp, stamp])
    return cur.rowcount == 1


def _participant_row(row: dict, parsed: dict[str, datetime] | None = None) -> dict:
    # ``parsed``: one datetime per distinct stamp of a listing. A challenge started for 50,000
    # people enrols them all at one moment, so most rows share their three stamps: 7 MB of
    # equal datetimes at 50,000 (issue 25's day-1 tick memory) become a handful.
    for key in ("joined_at", "last_activity_at", "updated_at"):
        if parsed is None:
            row[key] = parse_ts(row[key])
        else:
            stamp = row[key]
            row[key] = parsed.get(stamp) or parsed.setdefault(stamp, parse_ts(stamp))
    for key in ("status", "timezone", "person_status"):  # a few values shared by 50,000 rows
        if isinstance(row.get(key), str):
            row[key] = sys.intern(row[key])
    row["from_start"] = bool(row["from_start"])
    return row


def get_participant(db: Database, challenge_id: int, person_id: int) -> dict | None:
    """One participant row (times as datetimes), or None if the person does not take part."""
    rows = list(db.query("SELECT * FROM challenge_participants WHERE challenge_id = ? AND person_id = ?",
                         [challenge_id, person_id]))
    return _participant_row(rows[0]) if rows else None


def list_participants(db: Database, challenge_id: int) -> list[dict]:
    """Participants with their person's email, name, time zone and mail status, by email."""
    rows = db.query(
        """SELECT cp.*, p.email, p.name, p.timezone, p.status AS person_status, p.send_hour
           FROM challenge_participants cp JOIN people p ON p.id = cp.person_id
           WHERE cp.challenge_id = ? ORDER BY p.email""", [challenge_id])
    parsed: dict[str, datetime] = {}
    return [_participant_row(r, parsed) for r in rows]


def set_participant_status(db: Database, challenge_id: int, person_id: int, status: str,
                           now: datetime) -> None:
    """Set active, paused or stopped; it counts as activity (the silence clock restarts)."""
    if status not in PARTICIPANT_STATES:
        raise ValueError(f"unknown participant status {status!r}")
    with db.atomic():
        db.execute("""UPDATE challenge_participants SET status = ?, updated_at = ?, last_activity_at = ?
                      WHERE challenge_id = ? AND person_id = ?""",
                   [status, ts(now), ts(now), challenge_id, person_id])


def touch_participant(db: Database, challenge_id: int, person_id: int, now: datetime) -> None:
    """Record that the participant wrote to us (restarts the 7-day silence clock)."""
    db.execute("""UPDATE challenge_participants SET last_activity_at = MAX(last_activity_at, ?)
                  WHERE challenge_id = ? AND person_id = ?""", [ts(now), challenge_id, person_id])


# -- partner groups -----------------------------------------------------------------------

def current_groups(db: Database, challenge_id: int) -> dict[int, list[int]]:
    """Partner groups now in force: group number -> person ids."""
    groups: dict[int, list[int]] = {}
    for group_no, person_id in db.execute(
            "SELECT group_no, person_id FROM challenge_pairs WHERE challenge_id = ? AND ended_at IS NULL "
            "ORDER BY group_no, id", [challenge_id]):
        groups.setdefault(group_no, []).append(person_id)
    return groups


def group_formed_at(db: Database, challenge_id: int) -> dict[int, datetime]:
    """Person id -> when they joined their current group."""
    return {pid: parse_ts(formed) for pid, formed in db.execute(
        "SELECT person_id, formed_at FROM challenge_pairs WHERE challenge_id = ? AND ended_at IS NULL",
        [challenge_id])}


def form_group(db: Database, challenge_id: int, person_ids: Iterable[int], now: datetime) -> int:
    """Start a new partner group of these people; return its number."""
    with db.atomic():
        row = db.execute("SELECT COALESCE(MAX(group_no), 0) + 1 FROM challenge_pairs WHERE challenge_id = ?",
                         [challenge_id]).fetchone()
        for person_id in person_ids:
            db.execute("INSERT INTO challenge_pairs (challenge_id, group_no, person_id, formed_at) "
                       "VALUES (?, ?, ?, ?)", [challenge_id, row[0], person_id, ts(now)])
    return row[0]


def form_groups(db: Database, challenge_id: int, groups: list[list[int]], now: datetime) -> list[int]:
    """Start many new partner groups at once (one number look-up, one batch insert); their numbers."""
    with db.atomic():
        first = db.execute("SELECT COALESCE(MAX(group_no), 0) + 1 FROM challenge_pairs WHERE challenge_id = ?",
                           [challenge_id]).fetchone()[0]
        stamp = ts(now)
        db.conn.executemany(
            "INSERT INTO challenge_pairs (challenge_id, group_no, person_id, formed_at) VALUES (?, ?, ?, ?)",
            [(challenge_id, first + n, pid, stamp) for n, group in enumerate(groups) for pid in group])
    return list(range(first, first + len(groups)))


def join_group(db: Database, challenge_id: int, group_no: int, person_id: int, now: datetime) -> None:
    """Add one person to an existing group (a pair becomes a trio)."""
    with db.atomic():
        db.execute("INSERT INTO challenge_pairs (challenge_id, group_no, person_id, formed_at) "
                   "VALUES (?, ?, ?, ?)", [challenge_id, group_no, person_id, ts(now)])


def leave_group(db: Database, challenge_id: int, person_id: int, now: datetime) -> None:
    """Take a person out of their current group (the others stay together)."""
    with db.atomic():
        db.execute("UPDATE challenge_pairs SET ended_at = ? WHERE challenge_id = ? AND person_id = ? "
                   "AND ended_at IS NULL", [ts(now), challenge_id, person_id])


# -- journal ------------------------------------------------------------------------------

def add_entry(db: Database, challenge_id: int, person_id: int, day: int, text: str,
              shareable: bool, received_at: datetime, message_id: str | None) -> int:
    """Store one journal entry (a reply) for a day; return its id."""
    cur = db.execute(  # one statement: atomic by itself, no savepoint needed (one per reply)
        """INSERT INTO journal_entries (challenge_id, person_id, day, text, shareable, received_at, message_id)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [challenge_id, person_id, day, text, int(shareable), ts(received_at), message_id])
    return cur.lastrowid


def _entry_row(row: dict) -> dict:
    row["shareable"] = bool(row["shareable"])
    row["received_at"] = parse_ts(row["received_at"])
    return row


def entries(db: Database, person_id: int, challenge_id: int | None = None) -> list[dict]:
    """A person's journal entries (optionally of one challenge), by challenge, day, arrival."""
    where, args = ("AND challenge_id = ?", [challenge_id]) if challenge_id is not None else ("", [])
    rows = db.query(f"SELECT * FROM journal_entries WHERE person_id = ? {where} "
                    "ORDER BY challenge_id, day, received_at, id", [person_id, *args])
    return [_entry_row(r) for r in rows]


def journaled_days(db: Database, challenge_id: int) -> dict[int, set[int]]:
    """Person id -> the days they have written an entry for (no text: for progress lines)."""
    days: dict[int, set[int]] = {}
    for person_id, day in db.execute("SELECT DISTINCT person_id, day FROM journal_entries "
                                     "WHERE challenge_id = ?", [challenge_id]):
        days.setdefault(person_id, set()).add(day)
    return days


def shareable_entries(db: Database, challenge_id: int) -> list[dict]:
    """Entries their authors marked #share, oldest first: the only ones digests may quote."""
    rows = db.query("SELECT * FROM journal_entries WHERE challenge_id = ? AND shareable = 1 "
                    "ORDER BY received_at, id", [challenge_id])
    return [_entry_row(r) for r in rows]


def challenges_of(db: Database, person_id: int) -> list[int]:
    """Ids of the challenges a person takes part in or has journaled in."""
    rows = db.execute("""SELECT challenge_id FROM challenge_participants WHERE person_id = ?
                         UNION SELECT challenge_id FROM journal_entries WHERE person_id = ?
                         ORDER BY 1""", [person_id, person_id])
    return [r[0] for r in rows]


def active_zones(db: Database, challenge_id: int) -> list[str]:
    """The time zones of the participants who still get day emails (active; not bounced, deactivated or erased)."""
    rows = db.execute("""SELECT DISTINCT p.timezone FROM challenge_participants cp
                         JOIN people p ON p.id = cp.person_id
                         WHERE cp.challenge_id = ? AND cp.status = 'active'
                         AND p.status NOT IN ('bounced', 'inactive', 'erased')
                         ORDER BY 1""", [challenge_id])
    return [r[0] for r in rows]


def entries_between(db: Database, challenge_id: int, since: datetime, until: datetime) -> tuple[int, int]:
    """How many entries arrived in ``[since, until)``, and from how many people (no text)."""
    row = db.execute("SELECT COUNT(*), COUNT(DISTINCT person_id) FROM journal_entries WHERE challenge_id = ? "
                     "AND received_at >= ? AND received_at < ?", [challenge_id, ts(since), ts(until)]).fetchone()
    return row[0], row[1]


def shareable_between(db: Database, challenge_id: int, since: datetime, until: datetime,
                      limit: int) -> list[dict]:
    """The newest entries marked #share that arrived in ``[since, until)``, with the author's name."""
    rows = db.query("""SELECT j.*, p.name AS author FROM journal_entries j JOIN people p ON p.id = j.person_id
                       WHERE j.challenge_id = ? AND j.shareable = 1 AND j.received_at >= ? AND j.received_at < ?
                       ORDER BY j.received_at DESC, j.id DESC LIMIT ?""",
                    [challenge_id, ts(since), ts(until), limit])
    return [_entry_row(r) for r in rows]


def count_entries(db: Database, challenge_id: int) -> int:
    """How many journal entries the challenge holds (no text read)."""
    return db.execute("SELECT COUNT(*) FROM journal_entries WHERE challenge_id = ?", [challenge_id]).fetchone()[0]


def written_by(db: Database, person_id: int) -> list[str]:
    """Every journal entry text of this person (for an erasure to look for elsewhere)."""
    return [r[0] for r in db.execute("SELECT text FROM journal_entries WHERE person_id = ?", [person_id])]


def erase_person(db: Database, person_id: int, addresses: list[str], tombstone: str) -> dict[str, int]:
    """Forget this person's journal: each entry's text is deleted, its row stays, and so does
    their place in the challenge (so counts keep their numbers, by "a former member"; no mail
    reaches an erased person); specs naming them are rewritten."""
    entries = db.execute("UPDATE journal_entries SET text = '', shareable = 0, message_id = NULL "
                         "WHERE person_id = ?", [person_id]).rowcount
    return {"journal_entries": entries,
            "challenges": scrub(db, "challenges", ("participants_spec", "sponsors", "source"), addresses, tombstone)}
