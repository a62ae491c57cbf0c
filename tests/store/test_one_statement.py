"""A one-statement verb takes no savepoint inside a transaction, and is still its own
transaction outside one: committed alone, undone with the message whose handling failed."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from mailer.store import inbox as inbox_store
from mailer.store import meetups, open_db

NOW = datetime(2027, 3, 1, 9, tzinfo=timezone.utc)


@pytest.fixture
def db(tmp_path):
    db = open_db(tmp_path / "m.db")
    meetup_id = meetups.create_meetup(db, {"uid": "m-1@example.test", "title": "Report-back", "start": NOW,
                                           "duration_minutes": 60, "timezone": "UTC", "location": "",
                                           "online_url": "", "description": "", "invite_spec": [],
                                           "sponsors": [], "source": ""}, NOW)
    db.meetup_id = meetup_id
    return db


def statements(db, action) -> list[str]:
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        action()
    finally:
        db.conn.set_trace_callback(None)
    return seen


def test_alone_it_is_committed(db, tmp_path):
    meetups.keep_answer(db, db.meetup_id, None, "ana@example.test", "unattributed", "accepted", 0, NOW)
    other = sqlite3.connect(tmp_path / "m.db")
    assert other.execute("SELECT address FROM meetup_answers").fetchall() == [("ana@example.test",)]


def test_inside_a_message_it_takes_no_savepoint_and_goes_with_the_message(db):
    def handle_then_fail():
        with pytest.raises(RuntimeError), inbox_store.savepoint(db):
            meetups.keep_answer(db, db.meetup_id, None, "ana@example.test", "unattributed", "accepted", 0, NOW)
            raise RuntimeError("the handler failed after writing")

    with db.atomic():
        seen = statements(db, handle_then_fail)
    assert [s.split()[0] for s in seen] == ["SAVEPOINT", "INSERT", "ROLLBACK", "RELEASE"]
    assert db.execute("SELECT COUNT(*) FROM meetup_answers").fetchone() == (0,)
