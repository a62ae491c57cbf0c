"""Store verbs for people: members, leads, approvers, sponsors, each with a time zone."""
from __future__ import annotations

import json
import re
from datetime import datetime

from sqlite_utils import Database

from mailer.errors import NotFoundError
from mailer.store.outbox import ts
from mailer.store.rows import select


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            timezone TEXT NOT NULL,
            roles TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active',
            bounce_count INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        )""")
    db.execute("""
        CREATE TABLE aliases (
            alias TEXT PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id)
        )""")


def _language(db: Database) -> None:
    # The language a person reads (en, de, fr, es, ja); NULL: the community's default.
    db.execute("ALTER TABLE people ADD COLUMN language TEXT")


def _held(db: Database) -> None:
    # Emails planned for someone deactivated: not sent, recorded here so a lead can see them.
    db.execute("""
        CREATE TABLE held_mail (
            key TEXT PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id),
            subject TEXT NOT NULL,
            held_at TEXT NOT NULL
        )""")
    # What each erasure removed (never whom): when, by whom, how many rows per table.
    db.execute("""
        CREATE TABLE erasures (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            counts TEXT NOT NULL
        )""")


MIGRATIONS = [("people-001", _create), ("people-002", _language), ("people-003", _held)]
# Statuses that get no mail at all: a dead mailbox, someone let go, someone erased.
UNMAILED = ("bounced", "inactive", "erased")
FORMER_MEMBER = "a former member"


def add_person(db: Database, email: str, name: str, timezone: str, roles=()) -> int:
    """Insert a person, or update name/time zone/roles of the one with this email; return the id."""
    email = email.strip().lower()
    roles_text = ",".join(r.strip() for r in roles if r.strip())
    with db.atomic():
        db.execute(
            """INSERT INTO people (email, name, timezone, roles) VALUES (?, ?, ?, ?)
               ON CONFLICT(email) DO UPDATE SET name=excluded.name,
               timezone=excluded.timezone, roles=excluded.roles""",
            [email, name, timezone, roles_text])
    return find_person(db, email)["id"]


def import_fields(db: Database) -> dict[str, tuple[str, str, str, str | None]]:
    """Every person's (name, time zone, roles, language) by email, in one query (for an import
    to compare)."""
    return {row[0]: (row[1], row[2], row[3], row[4])
            for row in db.execute("SELECT email, name, timezone, roles, language FROM people").fetchall()}


def insert_people(db: Database, rows: list[tuple[str, str, str, str, str | None]]) -> None:
    """Add many new people at once: (email, name, time zone, roles text, language) each; one batch."""
    db["people"].insert_all(({"email": e, "name": n, "timezone": t, "roles": r, "language": lang}
                             for e, n, t, r, lang in rows), batch_size=1000)


def update_people(db: Database, rows: list[tuple[str, str, str, str, str | None]]) -> None:
    """Set name, time zone, roles and language of many existing people at once
    (email, name, tz, roles, language); a language of None keeps the one stored."""
    db.conn.executemany("UPDATE people SET name = ?, timezone = ?, roles = ?, language = COALESCE(?, language) "
                        "WHERE email = ?", [(n, t, r, lang, e) for e, n, t, r, lang in rows])


def get_person(db: Database, person_id: int) -> dict:
    """The person with this id; NotFoundError if there is none."""
    rows = select(db, "SELECT * FROM people WHERE id = ?", [person_id])
    if not rows:
        raise NotFoundError(f"no person with id {person_id}")
    return rows[0]


def find_person(db: Database, email: str) -> dict | None:
    """The person with this address (or alias), case-insensitively, or None."""
    email = email.strip().lower()
    rows = select(db, """SELECT * FROM people WHERE email = ?
           UNION ALL SELECT p.* FROM aliases a JOIN people p ON p.id = a.person_id WHERE a.alias = ?""",
                  [email, email])
    return rows[0] if rows else None


def get_people(db: Database, ids: list[int]) -> list[dict]:
    """The people with these ids, in the order given (unknown ids are left out)."""
    found: dict[int, dict] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        found.update((row["id"], row) for row in db.query(
            f"SELECT * FROM people WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    return [found[i] for i in ids if i in found]


def find_people(db: Database, emails: set[str]) -> dict[str, dict]:
    """The people with these addresses (or aliases), keyed by the address as given lower-cased."""
    wanted = {e.strip().lower(): e for e in emails}
    found: dict[str, dict] = {}
    keys = sorted(wanted)
    for i in range(0, len(keys), 500):  # SQLite caps bound parameters; 500 is well inside
        chunk = keys[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.query(
                f"""SELECT p.*, p.email AS _as FROM people p WHERE p.email IN ({marks})
                    UNION ALL SELECT p.*, a.alias AS _as FROM aliases a JOIN people p ON p.id = a.person_id
                    WHERE a.alias IN ({marks})""", [*chunk, *chunk]):
            found.setdefault(row.pop("_as"), row)
    return found


def newest_id(db: Database) -> int:
    """The highest person id (the rowid: one look-up); it grows with every new person, so a
    plan mark that kept it sees an import without a trigger on each inserted row."""
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM people").fetchone()[0]


def list_people(db: Database) -> list[dict]:
    """Everyone, ordered by email."""
    return list(db.query("SELECT * FROM people ORDER BY email"))


def add_alias(db: Database, person_id: int, alias: str) -> None:
    """Record another address that speaks for this person (replies from it are accepted)."""
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", [alias.strip().lower(), person_id])


def record_bounce(db: Database, email: str, hard: bool, threshold: int) -> dict | None:
    """Count a bounce for this address; past ``threshold`` the person is marked bounced.

    A hard bounce counts as ``threshold`` soft ones would: mailing a dead mailbox again only
    hurts our sender reputation. Returns the updated person, or None for an unknown address.
    """
    person = find_person(db, email)
    if person is None:
        return None
    step = threshold if hard else 1
    with db.atomic():
        db.execute(
            """UPDATE people SET bounce_count = bounce_count + ?,
               status = CASE WHEN bounce_count + ? >= ? THEN 'bounced' ELSE status END
               WHERE id = ?""", [step, step, threshold, person["id"]])
    return get_person(db, person["id"])


def set_status(db: Database, person_id: int, status: str) -> None:
    """Set a person's status ('active', 'bounced' or 'inactive'); 'active' also clears the bounce count."""
    with db.atomic():
        db.execute("UPDATE people SET status = ?, bounce_count = CASE WHEN ? = 'active' THEN 0 "
                   "ELSE bounce_count END WHERE id = ?", [status, status, person_id])


def is_mailable(person: dict) -> bool:
    """Whether we may send to this person at all (bounced, deactivated and erased people get nothing)."""
    return person.get("status") not in UNMAILED


def set_active(db: Database, person_id: int, active: bool) -> None:
    """Deactivate a person (no mail of any kind; their history stays) or make them active again
    (which also clears a bounce count, as a fresh start)."""
    set_status(db, person_id, "active" if active else "inactive")


def hold_mail(db: Database, person_id: int, key: str, subject: str, now: datetime) -> None:
    """Record an email not sent because its recipient is deactivated (once per key)."""
    db.execute("INSERT OR IGNORE INTO held_mail VALUES (?, ?, ?, ?)", [key, person_id, subject, ts(now)])


def held_counts(db: Database) -> dict[int, int]:
    """Person id -> how many emails were held back while they were deactivated."""
    return dict(db.execute("SELECT person_id, COUNT(*) FROM held_mail GROUP BY person_id").fetchall())


# The test for the lead role, written out: the digest's partial index ``people_leads`` has this
# very expression, which is what lets SQLite read the leads from it instead of every person.
HAS_LEAD_ROLE = "(',' || REPLACE(roles, ' ', '') || ',') LIKE '%,lead,%'"


def with_role_or_email(db: Database, role: str, emails: set[str]) -> list[dict]:
    """People who have ``role`` or one of these addresses, by email (one query, no per-person loop;
    for ``lead`` from an index of the leads and the addresses' index: no scan of people)."""
    if not re.fullmatch(r"[a-z_]+", role):
        raise ValueError(f"not a role name: {role!r}")
    wanted = sorted(e.strip().lower() for e in emails)
    marks = ",".join("?" * len(wanted)) or "NULL"
    has_role = HAS_LEAD_ROLE.replace(",lead,", f",{role},")
    return list(db.query(f"SELECT * FROM people WHERE {has_role} UNION "
                         f"SELECT * FROM people WHERE email IN ({marks}) ORDER BY email", wanted))


def count_with_status(db: Database, status: str) -> int:
    """How many people have this status ('active' or 'bounced')."""
    return db.execute("SELECT COUNT(*) FROM people WHERE status = ?", [status]).fetchone()[0]


def tombstone_address(person_id: int) -> str:
    """The address an erased person's row (and every spec that named them) carries instead."""
    return f"erased-{person_id}@erased.invalid"


def addresses_of(db: Database, person_id: int) -> list[str]:
    """The person's address and every alias of theirs."""
    person = get_person(db, person_id)
    aliases = [r[0] for r in db.execute("SELECT alias FROM aliases WHERE person_id = ? ORDER BY alias", [person_id])]
    return [person["email"], *aliases]


def erase_person(db: Database, person_id: int) -> dict[str, int]:
    """Forget who this person was: aliases and held mail deleted; their row stays (so counts
    and decisions keep their numbers) as "a former member" with a tombstone address."""
    counts = {"aliases": db.execute("DELETE FROM aliases WHERE person_id = ?", [person_id]).rowcount,
              "held_mail": db.execute("DELETE FROM held_mail WHERE person_id = ?", [person_id]).rowcount}
    db.execute("UPDATE people SET email = ?, name = ?, timezone = 'UTC', roles = '', status = 'erased', "
               "language = NULL, bounce_count = 0 WHERE id = ?", [tombstone_address(person_id), FORMER_MEMBER, person_id])
    return {**counts, "people": 1}


def record_erasure(db: Database, now: datetime, by: str, counts: dict[str, int]) -> int:
    """Keep that an erasure happened: when, by whom and how many rows per table (never whose)."""
    return db.execute("INSERT INTO erasures (at, by, counts) VALUES (?, ?, ?)",
                      [ts(now), by, json.dumps(counts, sort_keys=True)]).lastrowid


def erasures(db: Database) -> list[dict]:
    """Every erasure record, oldest first, with its counts as a dict."""
    return [{**row, "counts": json.loads(row["counts"])} for row in select(db, "SELECT * FROM erasures ORDER BY id")]
