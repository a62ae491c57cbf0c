"""A meetup's invitees read a page at a time (issue 25: 50,000 invitee rows held as one list were
the day-1 tick's peak memory): the same rows in the same order as the whole list, writes between
pages allowed, and the flow planning the same invitations page by page as at once."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mailer.flows.meetup import invitees
from mailer.flows.meetup.actions import schedule_meetup
from mailer.store import meetups as store
from mailer.store import people
from tests.flows.meetup.conftest import SCHEDULED_AT, UTC, spec

# Addresses whose email order differs from the order they are added in (person ids).
ADDRESSES = [f"{name}@corp.example.com" for name in
             ("zoe", "adam", "mia", "bea", "yusuf", "carl", "lena", "omar", "dina", "eve", "kai")]


@pytest.fixture
def many(db) -> dict[str, int]:
    """Eleven people; Mia and Eve are speakers' material, Carl's address bounced."""
    ids = {a: people.add_person(db, a, a.split("@")[0].title(), "Europe/London", ("member",)) for a in ADDRESSES}
    people.set_status(db, ids["carl@corp.example.com"], "bounced")
    return ids


def _meetup(db, many) -> int:
    return schedule_meetup(db, spec(datetime(2027, 3, 30, 17, 0, tzinfo=UTC), invite=ADDRESSES,
                                    speakers=["mia@corp.example.com", "eve@corp.example.com",
                                              "carl@corp.example.com"]), SCHEDULED_AT)


@pytest.mark.parametrize("page", [1, 2, 3, 10, 11, 2000])
def test_the_stream_gives_the_whole_list_in_its_order(db, many, page):
    meetup_id = _meetup(db, many)
    whole = store.list_invitees(db, meetup_id)
    assert [r["email"] for r in whole] == sorted(ADDRESSES)  # by email, not by id
    assert list(store.stream_invitees(db, meetup_id, page=page)) == whole


def test_writes_between_pages_do_not_break_the_walk(db, many):
    meetup_id = _meetup(db, many)
    walked = []
    for row in store.stream_invitees(db, meetup_id, page=2):
        walked.append(row["email"])
        store.set_speaker(db, meetup_id, row["person_id"], True)  # a write while the stream is open
    assert walked == sorted(ADDRESSES)
    assert all(r["speaker"] for r in store.list_invitees(db, meetup_id))


def test_mailable_leaves_out_the_unmailed_and_names_the_speakers_by_email(db, many, monkeypatch):
    meetup_id = _meetup(db, many)
    monkeypatch.setattr(store, "INVITEE_PAGE", 2)
    mailable = invitees.mailable(db, {"id": meetup_id})
    rows = list(mailable)
    assert [r["email"] for r in rows] == sorted(set(ADDRESSES) - {"carl@corp.example.com"})
    assert all(r["id"] == r["person_id"] == many[r["email"]] for r in rows)
    assert list(mailable) == rows  # walked again: read again, the same
    assert mailable.speakers() == ["Eve", "Mia"]  # Carl bounced: no invitation names him


def test_the_flow_plans_the_same_invitations_page_by_page(db, many, sim, monkeypatch):
    _meetup(db, many)
    monkeypatch.setattr(store, "INVITEE_PAGE", 3)
    plans = sim.tick(SCHEDULED_AT + timedelta(minutes=5))
    assert [p.to for p in plans] == sorted(set(ADDRESSES) - {"carl@corp.example.com"})
    assert {tuple(p.context["speakers"]) for p in plans} == {("Eve", "Mia")}
    assert sim.tick(SCHEDULED_AT + timedelta(minutes=10)) == []  # planned once
