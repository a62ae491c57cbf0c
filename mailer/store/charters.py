"""Store verbs for project charters: versions, decisions (kept for audit), team, updates, feedback.

Tables: ``charters`` (one row per charter: its status and current version), ``charter_versions``
(the full charter as submitted, per version, with what changed), ``charter_decisions`` (every
answer an approver gave, never overwritten: approver, decision, comment, at, version, inbound
Message-ID, authentication result; ``held`` when it waits for the approver's confirmation),
``charter_team`` (who is on the team since when), ``charter_updates`` (check-in replies, per
round; ``shareable`` unless marked #private), ``charter_feedback`` (replies to project news) and
``charter_news_stops`` (who replied "stop" to a project's news).
Times are ISO-8601 UTC text, as in the outbox.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from mailer.errors import NotFoundError
from mailer.store.charter_plans import plan_marks, replan_on_news_resumed
from mailer.store.outbox import parse_ts, ts
from mailer.store.rows import scrub

# charter_decisions.held: 0 counted, 1 held until the approver confirms, 2 disowned by them
HELD, DISOWNED = 1, 2
STATUSES = ("pending", "approved", "rejected", "changes_requested", "expired", "withdrawn", "completed")


# The tables of a charter: its versions, the approvers' decisions, its team, progress updates
# and sponsors' feedback. One statement each, run in order by ``_create``.
_SCHEMA = (
    """
        CREATE TABLE charters (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            status_at TEXT NOT NULL,
            started_at TEXT,
            completed_at TEXT,
            call_id INTEGER,
            meetup_id INTEGER
        )""",
    """
        CREATE TABLE charter_versions (
            charter_id INTEGER NOT NULL REFERENCES charters(id),
            version INTEGER NOT NULL,
            spec TEXT NOT NULL,
            changes TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            PRIMARY KEY (charter_id, version)
        )""",
    """
        CREATE TABLE charter_decisions (
            id INTEGER PRIMARY KEY,
            charter_id INTEGER NOT NULL REFERENCES charters(id),
            version INTEGER NOT NULL,
            approver_id INTEGER NOT NULL REFERENCES people(id),
            decision TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            message_id TEXT,
            auth TEXT NOT NULL DEFAULT '',
            held INTEGER NOT NULL DEFAULT 0
        )""",
    "CREATE INDEX charter_decisions_by_version ON charter_decisions(charter_id, version)",
    """
        CREATE TABLE charter_team (
            charter_id INTEGER NOT NULL REFERENCES charters(id),
            person_id INTEGER NOT NULL REFERENCES people(id),
            joined_at TEXT NOT NULL,
            PRIMARY KEY (charter_id, person_id)
        )""",
    """
        CREATE TABLE charter_updates (
            id INTEGER PRIMARY KEY,
            charter_id INTEGER NOT NULL REFERENCES charters(id),
            round INTEGER NOT NULL,
            person_id INTEGER NOT NULL REFERENCES people(id),
            text TEXT NOT NULL,
            shareable INTEGER NOT NULL,
            received_at TEXT NOT NULL,
            message_id TEXT
        )""",
    """
        CREATE TABLE charter_feedback (
            id INTEGER PRIMARY KEY,
            charter_id INTEGER NOT NULL REFERENCES charters(id),
            round INTEGER NOT NULL,
            person_id INTEGER NOT NULL REFERENCES people(id),
            text TEXT NOT NULL,
            received_at TEXT NOT NULL,
            message_id TEXT
        )""",
)


def _create(db: Database) -> None:
    for statement in _SCHEMA:
        db.execute(statement)


def _news_stops(db: Database) -> None:
    db.execute("""
        CREATE TABLE charter_news_stops (
            charter_id INTEGER NOT NULL REFERENCES charters(id),
            person_id INTEGER NOT NULL REFERENCES people(id),
            at TEXT NOT NULL,
            PRIMARY KEY (charter_id, person_id)
        )""")


def _news_round(db: Database) -> None:
    db.execute("ALTER TABLE charter_updates ADD COLUMN news_round INTEGER")


MIGRATIONS = [("charters-001", _create), ("charters-002-news-stops", _news_stops),
              ("charters-003-news-round", _news_round), ("charters-004-plan-marks", plan_marks),
              ("charters-005-replan-on-resume", replan_on_news_resumed)]


# -- charters and versions ------------------------------------------------------------------

def create_charter(db: Database, spec: dict[str, Any], team: list[int], now: datetime) -> int:
    """Store a new charter (version 1, pending) and its team; return its id."""
    with db.atomic():
        charter_id = db["charters"].insert({"title": spec["title"], "status": "pending", "version": 1,
                                            "created_at": ts(now), "status_at": ts(now)}).last_pk
        db["charter_versions"].insert({"charter_id": charter_id, "version": 1, "spec": json.dumps(spec),
                                       "changes": "[]", "created_at": ts(now)})
        for person_id in team:
            add_member(db, charter_id, person_id, now)
    return charter_id


def _charter_row(db: Database, row: dict) -> dict:
    version = next(db.query("SELECT spec, changes FROM charter_versions WHERE charter_id = ? AND version = ?",
                            [row["id"], row["version"]]))
    row["spec"] = json.loads(version["spec"])
    row["changes"] = json.loads(version["changes"])
    for key in ("created_at", "status_at", "started_at", "completed_at"):
        row[key] = parse_ts(row[key])
    return row


def get_charter(db: Database, charter_id: int) -> dict:
    """The charter with its current version's spec and changes; NotFoundError if none."""
    rows = list(db.query("SELECT * FROM charters WHERE id = ?", [charter_id]))
    if not rows:
        raise NotFoundError(f"no charter with id {charter_id}")
    return _charter_row(db, rows[0])


def list_charters(db: Database) -> list[dict]:
    """Every charter, oldest first."""
    return [_charter_row(db, r) for r in db.query("SELECT * FROM charters ORDER BY id")]


def add_version(db: Database, charter_id: int, spec: dict[str, Any], changes: list[Any],
                now: datetime) -> int:
    """Make the next version current (pending again); return its number."""
    charter = get_charter(db, charter_id)
    version = charter["version"] + 1
    with db.atomic():
        db["charter_versions"].insert({"charter_id": charter_id, "version": version, "spec": json.dumps(spec),
                                       "changes": json.dumps(changes), "created_at": ts(now)})
        db.execute("UPDATE charters SET version = ?, title = ?, status = 'pending', status_at = ? WHERE id = ?",
                   [version, spec["title"], ts(now), charter_id])
    return version


def set_status(db: Database, charter_id: int, status: str, now: datetime) -> None:
    """Set the charter's status; approval also marks the start, completion its end."""
    if status not in STATUSES:
        raise ValueError(f"unknown charter status {status!r}")
    extra = {"approved": ", started_at = :now", "completed": ", completed_at = :now"}.get(status, "")
    with db.atomic():
        db.execute(f"UPDATE charters SET status = :status, status_at = :now{extra} WHERE id = :id",
                   {"status": status, "now": ts(now), "id": charter_id})


def set_link(db: Database, charter_id: int, column: str, value: int) -> None:
    """Remember the volunteer call (``call_id``) or report-back meetup (``meetup_id``) opened for it."""
    if column not in ("call_id", "meetup_id"):
        raise ValueError(f"unknown charter link {column!r}")
    with db.atomic():
        db.execute(f"UPDATE charters SET {column} = ? WHERE id = ?", [value, charter_id])


# -- decisions -------------------------------------------------------------------------------

def add_decision(db: Database, charter_id: int, version: int, approver_id: int, decision: str,
                 comment: str, at: datetime, message_id: str | None, auth: str, held: bool = False) -> int:
    """Keep one answer of an approver (never overwritten); return its id."""
    with db.atomic():
        return db["charter_decisions"].insert({
            "charter_id": charter_id, "version": version, "approver_id": approver_id, "decision": decision,
            "comment": comment, "at": ts(at), "message_id": message_id, "auth": auth,
            "held": HELD if held else 0}).last_pk


def decisions(db: Database, charter_id: int, version: int | None = None) -> list[dict]:
    """Every answer kept (one version, or all), oldest first, with the approver's email and name."""
    where, args = ("AND d.version = ?", [charter_id, version]) if version else ("", [charter_id])
    rows = db.query(f"""SELECT d.*, p.email AS approver, p.name AS approver_name FROM charter_decisions d
                        JOIN people p ON p.id = d.approver_id WHERE d.charter_id = ? {where}
                        ORDER BY d.at, d.id""", args)
    return [_decision_row(r) for r in rows]


def tally(db: Database, charter_id: int, version: int, approvers: list[str]) -> tuple[int, dict[str, int]]:
    """(how many of these approver addresses, lower-cased, are known people or aliases; how many
    of those people's latest counted answers on the version say each decision). One statement
    over the version's answers, so an approval costs the same among 10 approvers as among 1,000
    (issue 25: it read every answer and looked up every approver in Python, twice)."""
    wanted = json.dumps(approvers)
    rows = db.execute("""
        WITH ids AS MATERIALIZED (SELECT COALESCE((SELECT id FROM people WHERE email = j.value),
                                     (SELECT person_id FROM aliases WHERE alias = j.value)) AS id
                     FROM json_each(?) j),
             latest AS (SELECT approver_id, decision, ROW_NUMBER() OVER (
                            PARTITION BY approver_id ORDER BY at DESC, id DESC) AS n
                        FROM charter_decisions WHERE charter_id = ? AND version = ? AND held = 0)
        SELECT NULL, COUNT(id) FROM ids
        UNION ALL SELECT decision, COUNT(*) FROM latest
        WHERE n = 1 AND approver_id IN (SELECT id FROM ids WHERE id IS NOT NULL) GROUP BY decision""",
                      [wanted, charter_id, version]).fetchall()
    return rows[0][1], {decision: count for decision, count in rows[1:]}


def get_decision(db: Database, decision_id: int) -> dict | None:
    """One kept answer, or None."""
    rows = list(db.query("SELECT * FROM charter_decisions WHERE id = ?", [decision_id]))
    return _decision_row(rows[0]) if rows else None


def disown_decision(db: Database, decision_id: int) -> None:
    """The approver says a held answer was not theirs: it stays for audit, held for ever."""
    with db.atomic():
        db.execute("UPDATE charter_decisions SET held = ? WHERE id = ? AND held = ?",
                   [DISOWNED, decision_id, HELD])


def _decision_row(row: dict) -> dict:
    return {**row, "at": parse_ts(row["at"]), "held": bool(row["held"]), "disowned": row["held"] == DISOWNED}


# -- team --------------------------------------------------------------------------------------

def add_member(db: Database, charter_id: int, person_id: int, now: datetime) -> bool:
    """Put a person on the team; False when they already are."""
    with db.atomic():
        cur = db.execute("INSERT INTO charter_team VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                         [charter_id, person_id, ts(now)])
    return cur.rowcount == 1


def remove_member(db: Database, charter_id: int, person_id: int) -> bool:
    """Take a person off the team (their updates are kept); False when they were not on it."""
    with db.atomic():
        cur = db.execute("DELETE FROM charter_team WHERE charter_id = ? AND person_id = ?", [charter_id, person_id])
    return cur.rowcount == 1


def members(db: Database, charter_id: int) -> list[dict]:
    """The team with each member's email, name, time zone, status and joined_at, by join time."""
    rows = db.query("""SELECT t.person_id, t.joined_at, p.email, p.name, p.timezone, p.status
                       FROM charter_team t JOIN people p ON p.id = t.person_id
                       WHERE t.charter_id = ? ORDER BY t.joined_at, p.email""", [charter_id])
    return [{**r, "joined_at": parse_ts(r["joined_at"])} for r in rows]


# -- updates and feedback ------------------------------------------------------------------------

def add_update(db: Database, charter_id: int, round_no: int, person_id: int, text: str, shareable: bool,
               received_at: datetime, message_id: str | None) -> int:
    """Keep a check-in reply as a dated, attributed update; return its id."""
    with db.atomic():
        return db["charter_updates"].insert({
            "charter_id": charter_id, "round": round_no, "person_id": person_id, "text": text,
            "shareable": int(shareable), "received_at": ts(received_at), "message_id": message_id}).last_pk


def updates(db: Database, charter_id: int, round_no: int | None = None, shareable_only: bool = True,
            since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """Updates with their author's name and email, oldest first; by default only shareable ones."""
    sql = ["SELECT u.*, p.name, p.email FROM charter_updates u JOIN people p ON p.id = u.person_id "
           "WHERE u.charter_id = ?"]
    args: list[Any] = [charter_id]
    for clause, value in (("u.round = ?", round_no), ("u.received_at >= ?", since and ts(since)),
                          ("u.received_at < ?", until and ts(until))):
        if value is not None:
            sql.append(f"AND {clause}")
            args.append(value)
    if shareable_only:
        sql.append("AND u.shareable = 1")
    rows = db.query(" ".join(sql) + " ORDER BY u.received_at, u.id", args)
    return [{**r, "received_at": parse_ts(r["received_at"]), "shareable": bool(r["shareable"])} for r in rows]


def news_updates(db: Database, charter_id: int, round_no: int) -> list[dict]:
    """The shareable updates project news ``round_no`` carries: those it already carried, and any
    shareable update of that round or an earlier one that no news has carried yet (a late reply)."""
    with db.atomic():
        db.execute("""UPDATE charter_updates SET news_round = ? WHERE charter_id = ? AND news_round IS NULL
                      AND shareable = 1 AND round <= ?""", [round_no, charter_id, round_no])
    rows = db.query("""SELECT u.*, p.name, p.email FROM charter_updates u JOIN people p ON p.id = u.person_id
                       WHERE u.charter_id = ? AND u.news_round = ? AND u.shareable = 1
                       ORDER BY u.received_at, u.id""", [charter_id, round_no])
    return [{**r, "received_at": parse_ts(r["received_at"]), "shareable": True} for r in rows]


def add_feedback(db: Database, charter_id: int, round_no: int, person_id: int, text: str,
                 received_at: datetime, message_id: str | None) -> int:
    """Keep a reply to project news as feedback for the team; return its id."""
    with db.atomic():
        return db["charter_feedback"].insert({
            "charter_id": charter_id, "round": round_no, "person_id": person_id, "text": text,
            "received_at": ts(received_at), "message_id": message_id}).last_pk


def stop_news(db: Database, charter_id: int, person_id: int, now: datetime) -> bool:
    """Send this person no more news of this project; False when they had already stopped it."""
    with db.atomic():
        cur = db.execute("INSERT INTO charter_news_stops VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                         [charter_id, person_id, ts(now)])
    return cur.rowcount == 1


def resume_news(db: Database, charter_id: int, person_id: int) -> bool:
    """Send this person the project's news again (the preferences page); False when they had not stopped it."""
    cur = db.execute("DELETE FROM charter_news_stops WHERE charter_id = ? AND person_id = ?", [charter_id, person_id])
    return cur.rowcount == 1


def news_stopped(db: Database, charter_id: int) -> set[int]:
    """Who asked for no more news of this project."""
    return {r["person_id"] for r in db.query("SELECT person_id FROM charter_news_stops WHERE charter_id = ?",
                                             [charter_id])}


def feedback(db: Database, charter_id: int) -> list[dict]:
    """Feedback with its author's name and email, oldest first."""
    rows = db.query("""SELECT f.*, p.name, p.email FROM charter_feedback f JOIN people p ON p.id = f.person_id
                       WHERE f.charter_id = ? ORDER BY f.received_at, f.id""", [charter_id])
    return [{**r, "received_at": parse_ts(r["received_at"])} for r in rows]


def written_by(db: Database, person_id: int) -> list[str]:
    """Every update, feedback and decision comment this person wrote (for an erasure)."""
    rows = db.execute("""SELECT text FROM charter_updates WHERE person_id = ?
                         UNION ALL SELECT text FROM charter_feedback WHERE person_id = ?
                         UNION ALL SELECT comment FROM charter_decisions WHERE approver_id = ?""",
                      [person_id] * 3)
    return [r[0] for r in rows if r[0]]


def erase_person(db: Database, person_id: int, addresses: list[str], tombstone: str) -> dict[str, int]:
    """Forget what this person wrote on charters: texts and comments deleted; their decisions,
    team places and update rows stay, by "a former member"; versions naming them rewritten."""
    return {
        "charter_decisions": db.execute("UPDATE charter_decisions SET comment = '', message_id = NULL, auth = '' "
                                        "WHERE approver_id = ?", [person_id]).rowcount,
        "charter_updates": db.execute("UPDATE charter_updates SET text = '', shareable = 0, message_id = NULL "
                                      "WHERE person_id = ?", [person_id]).rowcount,
        "charter_feedback": db.execute("UPDATE charter_feedback SET text = '', message_id = NULL "
                                       "WHERE person_id = ?", [person_id]).rowcount,
        "charter_versions": scrub(db, "charter_versions", ("spec", "changes"), addresses, tombstone),
    }
