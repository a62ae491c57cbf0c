"""Store verbs for challenges, on a real SQLite file."""
from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.errors import NotFoundError
from mailer.store import challenges as store
from mailer.store.people import add_person

FIELDS = {"title": "T", "domain": "D", "description": "", "start": "2027-01-04", "length": 2, "send_hour": 8,
          "send_minute": 0, "partners": True, "participants_spec": "all", "sponsors": ["s@x.test"],
          "source": "t.toml"}


@pytest.fixture
def cid(db, now):
    return store.create_challenge(db, FIELDS, [("One", "a"), ("Two", "b")], now)


def test_a_challenge_round_trips(db, cid):
    row = store.get_challenge(db, cid)
    assert row["sponsors"] == ["s@x.test"] and row["partners"] is True and row["participants_spec"] == "all"
    assert [d["title"] for d in store.challenge_days(db, cid)] == ["One", "Two"]
    assert store.find_challenge(db, "T", "2027-01-04")["id"] == cid
    with pytest.raises(NotFoundError):
        store.get_challenge(db, cid + 1)


def test_removed_challenges_are_hidden_unless_asked(db, cid):
    store.set_challenge_state(db, cid, "removed")
    assert store.list_challenges(db) == []
    assert [c["id"] for c in store.list_challenges(db, include_removed=True)] == [cid]
    assert store.find_challenge(db, "T", "2027-01-04") is None


def test_participants_enrol_once_and_change_status(db, cid, now):
    pid = add_person(db, "a@x.test", "A", "Europe/London")
    assert store.add_participant(db, cid, pid, now, from_start=True)
    assert not store.add_participant(db, cid, pid, now + timedelta(days=1), from_start=False)
    store.set_participant_status(db, cid, pid, "paused", now + timedelta(days=2))
    row = store.get_participant(db, cid, pid)
    assert row["status"] == "paused" and row["from_start"] is True
    assert row["last_activity_at"] == now + timedelta(days=2)
    store.touch_participant(db, cid, pid, now)  # an older moment never moves the clock back
    assert store.get_participant(db, cid, pid)["last_activity_at"] == now + timedelta(days=2)
    assert store.list_participants(db, cid)[0]["email"] == "a@x.test"


def test_groups_form_grow_and_shrink(db, cid, now):
    a, b, c = (add_person(db, f"{n}@x.test", n, "UTC") for n in "abc")
    number = store.form_group(db, cid, [a, b], now)
    store.join_group(db, cid, number, c, now)
    assert store.current_groups(db, cid) == {number: [a, b, c]}
    store.leave_group(db, cid, b, now)
    assert store.current_groups(db, cid) == {number: [a, c]}
    assert store.form_group(db, cid, [b], now) == number + 1
    assert set(store.group_formed_at(db, cid)) == {a, b, c}


def test_entries_keep_order_and_the_share_mark(db, cid, now):
    pid = add_person(db, "a@x.test", "A", "UTC")
    store.add_entry(db, cid, pid, 2, "later", False, now + timedelta(hours=1), "<2@x>")
    store.add_entry(db, cid, pid, 2, "first", True, now, "<1@x>")
    store.add_entry(db, cid, pid, 1, "day one", False, now + timedelta(hours=2), None)
    assert [e["text"] for e in store.entries(db, pid, cid)] == ["day one", "first", "later"]
    assert store.journaled_days(db, cid) == {pid: {1, 2}}
    assert [e["text"] for e in store.shareable_entries(db, cid)] == ["first"]
    assert store.challenges_of(db, pid) == [cid]
