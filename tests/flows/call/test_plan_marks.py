"""Issue 25: a call is planned once per change, and its recipients still follow the people.

A quiet tick reads the same statements for 6 recipients as for 1,000 (SQLite's trace callback:
counts, never times); after the mark, a new member, a member given back their mail, a changed
role and the closing moment are all still seen.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from mailer.flows.call import flow
from mailer.store import calls as store
from mailer.store import people
from tests.flows.call.conftest import AIKO, LENA, OPENED, UTC

LATER = OPENED + timedelta(hours=1)


def statements(db, now: datetime) -> int:
    """How many SQL statements one quiet pass of the call flow runs at ``now``."""
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        assert list(flow.due(db, now)) == []
    finally:
        db.conn.set_trace_callback(None)
    return len(seen)


def test_a_quiet_tick_reads_the_same_for_6_and_1000_recipients(db, sim, opened):
    assert len(sim.tick(OPENED)) == 5 and sim.tick(LATER) == []  # the invitations, then the mark
    few = statements(db, LATER + timedelta(minutes=1))
    people.insert_people(db, [(f"m{n}@corp.example.com", f"M {n}", "Europe/London", "member", None)
                              for n in range(994)])
    assert len(sim.tick(LATER + timedelta(minutes=2))) == 994  # the new members are invited
    assert sim.tick(LATER + timedelta(minutes=3)) == []
    assert statements(db, LATER + timedelta(minutes=4)) == few


def test_after_the_mark_new_people_roles_and_mail_status_are_seen(db, sim, opened):
    sim.tick(OPENED)
    assert sim.tick(LATER) == []
    people.add_person(db, "new@corp.example.com", "New", "Europe/Paris", ("member",))
    assert [p.to for p in sim.tick(LATER + timedelta(minutes=1))] == ["new@corp.example.com"]
    people.add_person(db, "sponsor@corp.example.com", "Sofia Sponsor", "Europe/Madrid", ("sponsor", "member"))
    assert [p.to for p in sim.tick(LATER + timedelta(minutes=2))] == ["sponsor@corp.example.com"]
    bounced = people.add_person(db, "gone@corp.example.com", "Gone", "UTC", ("member",))
    people.set_status(db, bounced, "bounced")
    assert sim.tick(LATER + timedelta(minutes=3)) == []
    people.set_active(db, bounced, True)  # mail again: the invitation follows
    assert [p.to for p in sim.tick(LATER + timedelta(minutes=4))] == ["gone@corp.example.com"]


def test_the_list_still_goes_at_closing_and_after_call_close(db, sim, opened):
    sim.tick(OPENED)
    sim.tick(LATER)
    sim.reply(AIKO, opened, "Count me in as a writer", LATER)
    closing = datetime(2027, 1, 21, 12, 0, tzinfo=UTC)  # the 20th has ended everywhere
    assert sim.tick(closing - timedelta(hours=8)) == []
    (listing,) = sim.tick(closing)
    assert listing.to == LENA and listing.key.endswith(":list")


def test_closing_by_hand_clears_the_mark(db, sim, opened):
    sim.tick(OPENED)
    assert sim.tick(LATER) == [] and store.plan_mark(store.get_call(db, opened), LATER) is not None
    store.close_call(db, opened, LATER + timedelta(minutes=1))
    assert store.plan_mark(store.get_call(db, opened), LATER) is None
    assert [p.to for p in sim.tick(LATER + timedelta(minutes=2))] == [LENA]


def test_invitations_are_made_one_at_a_time_as_the_worker_takes_them(db, sim, opened, monkeypatch):
    # the worker composes a batch at a time: a 50,000-member call's invitations never sit in memory
    made = []
    real = flow.mail.invite
    monkeypatch.setattr(flow.mail, "invite", lambda *a: made.append(1) or real(*a))
    plans = flow.due(db, OPENED, sim.settings)
    first = next(plans)
    assert len(made) == 1 and first.key.startswith(f"call:{opened}:invite:person:")
    assert len(made) + sum(1 for _ in plans) == 5 and len(made) == 5
