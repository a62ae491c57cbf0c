"""The scratch world ``preview`` renders from: a copy of the home's database, filled in with
the sample community's records where the home has none of a kind.

Nothing here touches the home: the home's database is read once (SQLite's online backup, on a
connection that may only read) into a file in a temporary folder, and every record the previews need is added there.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlite_utils import Database

from mailer.bootstrap import import_people
from mailer.errors import ConfigError
from mailer.flows.call.definition import open_call
from mailer.flows.challenge.definition import start_challenge
from mailer.flows.challenge.programmes import SAMPLE
from mailer.flows.charter import lifecycle
from mailer.flows.meetup import schedule_meetup
from mailer.store import calls, challenges, charters, meetups, open_db, people

DATA = SAMPLE.parents[1]
SAMPLE_CHARTER = DATA / "charters" / "observability-playbook.toml"
# The sample's moment: three days before the sample challenge starts, with every deadline ahead.
SAMPLE_NOW = datetime(2027, 1, 1, 9, 0, tzinfo=timezone.utc)
SAMPLE_CALL = {"title": "Observability playbook writers", "closes": "2027-01-22", "to": "all",
               "description": "Help write the first chapters of the platform teams' observability "
                              "playbook: two hours a week for eight weeks.",
               "roles": [{"name": "writer", "places": 2, "description": "Drafts two chapters"},
                         {"name": "reviewer", "places": 1, "description": "Reviews every chapter once"}]}
SAMPLE_MEETUP = {"title": "Report-back: the first week of the DevOps challenge",
                 "start": datetime(2027, 1, 13, 17, 0, tzinfo=timezone.utc), "timezone": "Europe/London",
                 "duration_minutes": 45, "location": "Room 4 and online",
                 "online_url": "https://meet.example.com/report-back",
                 "description": "Three participants share what they found in their first week; "
                                "questions welcome.",
                 "invite": "all", "speakers": ["sam.carter@corp.example.com"],
                 "sponsors": ["dana.sponsor@corp.example.com"], "source": "preview sample"}
SAMPLE_ENTRIES = ("Mapped our pipeline: seven steps, two of them waiting on a person.",
                  "Lead time for three changes: 2 days, 5 days, 9 days. Most of it was waiting for review.",
                  "Twelve deploys last month. Twice as often would need a faster test stage.",
                  "Our last incident was noticed by a customer, not by an alert. Writing that down hurt.",
                  "Walked Chloé through our pipeline; she asked why we build twice. No good answer.",
                  "The slowest step is the integration suite: 14 minutes, no cache at all.")
SAMPLE_SHARED = {(1, 1), (4, 2), (6, 3)}  # (participant, day) entries marked #share


@dataclass(frozen=True)
class World:
    """The scratch database and the records the previews show."""

    db: Database
    now: datetime
    challenge: dict
    charter: dict
    call: dict
    meetup: dict


def scratch(home_db: Path | None, folder: Path, now: datetime | None) -> World:
    """Copy ``home_db`` (when it exists) into ``folder`` and add what is missing from the sample."""
    target = folder / "preview.db"
    if home_db is not None and home_db.exists():
        # Not mode=ro: a read-only connection to a WAL database leaves -wal and -shm files
        # behind; an ordinary one that only reads removes them when it closes, as it found them.
        source = sqlite3.connect(home_db)
        source.execute("PRAGMA query_only = 1")
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    db = open_db(target)
    moment = now or SAMPLE_NOW
    if not people.list_people(db):
        _sample_people(db)
    return World(db, moment, _challenge(db), _charter(db), _call(db), _meetup(db))


def _sample_people(db: Database) -> None:
    import_people(db, DATA / "people.csv")


def _with_sample_people(db: Database, make) -> int:
    """Add a sample record; the sample people come along when the home's people cannot carry it."""
    try:
        return make()
    except ConfigError:  # the home's people do not fit the sample record: add the sample's
        _sample_people(db)
        return make()


def _challenge(db: Database) -> dict:
    found = challenges.list_challenges(db, include_removed=True)
    if found:
        return found[-1]
    cid = _with_sample_people(db, lambda: start_challenge(db, SAMPLE, SAMPLE_NOW).challenge_id)
    _sample_entries(db, cid)
    return challenges.get_challenge(db, cid)


def _sample_entries(db: Database, challenge_id: int) -> None:
    """A few days of journaling, so the digest and the summary have something to show."""
    start = datetime.fromisoformat(challenges.get_challenge(db, challenge_id)["start"]).replace(tzinfo=timezone.utc)
    for n, participant in enumerate(challenges.list_participants(db, challenge_id)):
        for day in range(1, 4 + n % 5):
            if (n + day) % 4:
                shared = (n, day) in SAMPLE_SHARED
                text = SAMPLE_ENTRIES[(n + day) % len(SAMPLE_ENTRIES)] + (" #share" if shared else "")
                challenges.add_entry(db, challenge_id, participant["person_id"], day, text, shared,
                                     start + timedelta(days=day - 1, hours=18), None)


def _charter(db: Database) -> dict:
    found = charters.list_charters(db)
    if found:
        return found[-1]
    return charters.get_charter(db, _with_sample_people(db, lambda: lifecycle.submit(db, SAMPLE_CHARTER, SAMPLE_NOW)))


def _call(db: Database) -> dict:
    found = calls.list_calls(db)
    if found:
        return found[-1]
    return calls.get_call(db, _with_sample_people(db, lambda: open_call(db, dict(SAMPLE_CALL), SAMPLE_NOW)))


def _meetup(db: Database) -> dict:
    found = meetups.list_meetups(db)
    if found:
        return found[-1]
    return meetups.get_meetup(db, _with_sample_people(db, lambda: schedule_meetup(db, dict(SAMPLE_MEETUP), SAMPLE_NOW)))
