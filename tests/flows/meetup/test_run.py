"""The meetup on an injected clock: invitations, one update per move, one cancellation, reminders
to the right people, latecomers getting the current version, and highlights after it."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from mailer.errors import ConfigError
from mailer.flows import meetup
from mailer.flows.meetup import actions
from mailer.store import meetups as store
from mailer.store.people import add_person, set_status
from tests.flows.meetup.conftest import CREW, SCHEDULED_AT, UTC, spec

START = datetime(2027, 3, 30, 17, 0, tzinfo=UTC)  # 18:00 in London
ANA, BOB, CHEN, DORA = (e for e, _, _ in CREW)
HOUR = timedelta(hours=1)


@pytest.fixture
def meetup_id(db, crew) -> int:
    return meetup.schedule_meetup(db, spec(START), SCHEDULED_AT)


def per_person(sim, kind: str) -> Counter:
    return Counter(p.to for _, p in sim.planned if f":{kind}:" in p.key)


def test_each_invitee_gets_one_invitation_however_often_the_worker_ticks(sim, meetup_id):
    sim.run(SCHEDULED_AT, SCHEDULED_AT + 5 * HOUR, step=timedelta(minutes=10))
    assert per_person(sim, "invite") == {ANA: 1, BOB: 1, CHEN: 1}
    assert all(p.reply_purpose == "meetup" and p.reply_ref == f"meetup:{meetup_id}:seq:0"
               for _, p in sim.planned)


def test_move_then_cancel_sends_each_invitee_one_update_and_one_cancellation(db, sim, meetup_id):
    sim.run(SCHEDULED_AT, SCHEDULED_AT + 3 * HOUR)
    moved_at = SCHEDULED_AT + 4 * HOUR
    actions.move_meetup(db, meetup_id, START + 2 * HOUR, None, moved_at)
    sim.run(moved_at, moved_at + 3 * HOUR)
    actions.cancel_meetup(db, meetup_id, "", moved_at + 4 * HOUR)
    sim.run(moved_at + 4 * HOUR, START + 5 * HOUR)
    updates = [p for _, p in sim.planned if p.subject.startswith("Updated:")]
    assert Counter(p.to for p in updates) == {ANA: 1, BOB: 1, CHEN: 1}
    assert per_person(sim, "cancel") == {ANA: 1, BOB: 1, CHEN: 1}
    assert per_person(sim, "reminder") == {}
    assert all(p.context["_calendar"][0] == "CANCEL" for _, p in sim.planned if ":cancel:" in p.key)


def test_two_moves_between_ticks_make_one_update_with_the_latest_time(db, sim, meetup_id):
    sim.tick(SCHEDULED_AT)
    actions.move_meetup(db, meetup_id, START + HOUR, None, SCHEDULED_AT + HOUR)
    actions.move_meetup(db, meetup_id, START + 2 * HOUR, 90, SCHEDULED_AT + HOUR)
    sim.run(SCHEDULED_AT + HOUR, SCHEDULED_AT + 4 * HOUR)
    assert sorted(sim.keys(":invite:seq:2:")) == sorted(sim.keys(":invite:")[3:])
    assert per_person(sim, "invite") == {ANA: 2, BOB: 2, CHEN: 2}


def test_a_move_resets_every_answer(db, sim, meetup_id, crew):
    sim.tick(SCHEDULED_AT)
    sim.reply(ANA, f"meetup:{meetup_id}:seq:0", "accept", SCHEDULED_AT + HOUR, "See you there!")
    assert store.get_invitee(db, meetup_id, crew[ANA])["partstat"] == "accepted"
    actions.move_meetup(db, meetup_id, START + HOUR, None, SCHEDULED_AT + 2 * HOUR)
    assert {p["partstat"] for p in store.list_invitees(db, meetup_id)} == {"needs-action"}


def test_reminders_go_24_hours_before_only_to_accepted_and_unanswered(db, sim, meetup_id):
    sim.tick(SCHEDULED_AT)
    ref = f"meetup:{meetup_id}:seq:0"
    sim.reply(ANA, ref, "accept", SCHEDULED_AT + HOUR, "yes")
    sim.reply(BOB, ref, "decline", SCHEDULED_AT + HOUR, "can't make it")
    sim.run(START - 26 * HOUR, START - 24 * HOUR - timedelta(minutes=1), step=timedelta(minutes=30))
    assert per_person(sim, "reminder") == {}
    sim.run(START - 24 * HOUR, START + 2 * HOUR, step=timedelta(minutes=30))
    assert per_person(sim, "reminder") == {ANA: 1, CHEN: 1}
    (first,) = [when for when, p in sim.planned if ":reminder:" in p.key and p.to == ANA]
    assert first == START - 24 * HOUR


def test_tentative_gets_no_reminder(db, sim, meetup_id):
    sim.tick(SCHEDULED_AT)
    sim.reply(CHEN, f"meetup:{meetup_id}:seq:0", "tentative", SCHEDULED_AT + HOUR, "maybe")
    sim.run(START - 25 * HOUR, START, step=HOUR)
    assert CHEN not in per_person(sim, "reminder")


def test_someone_invited_later_gets_the_current_version_as_an_invitation(db, sim, meetup_id, crew):
    sim.tick(SCHEDULED_AT)
    actions.move_meetup(db, meetup_id, START + HOUR, None, SCHEDULED_AT + HOUR)
    actions.add_speaker(db, meetup_id, crew[DORA], SCHEDULED_AT + 2 * HOUR)
    sim.tick(SCHEDULED_AT + 2 * HOUR)
    (dora,) = sim.sent_to(DORA, "invite")
    assert dora.key.endswith(f"seq:1:person:{crew[DORA]}") and dora.subject.startswith("Invitation:")
    assert dora.context["update"] is False
    bob = sim.sent_to(BOB, "invite")
    assert [p.context["update"] for p in bob] == [False, True]


def test_a_role_invite_picks_up_people_added_later(db, sim, crew):
    meetup_id = meetup.schedule_meetup(db, spec(START, invite="member"), SCHEDULED_AT)
    sim.tick(SCHEDULED_AT)
    add_person(db, "eve@corp.example.com", "Eve Evans", "Europe/Paris", ("member",))
    sim.tick(SCHEDULED_AT + HOUR)
    assert [p.key for p in sim.sent_to("eve@corp.example.com", "invite")] \
        == [f"meetup:{meetup_id}:invite:seq:0:person:{store.list_invitees(db, meetup_id)[-1]['person_id']}"]


def test_bounced_invitees_are_not_planned(db, sim, meetup_id, crew):
    set_status(db, crew[BOB], "bounced")
    sim.tick(SCHEDULED_AT)
    assert BOB not in per_person(sim, "invite")


def test_nothing_is_sent_for_a_meetup_that_already_began(db, sim, meetup_id):
    sim.tick(START + timedelta(minutes=5))
    assert sim.planned == []


def test_a_meetup_that_took_place_cannot_be_cancelled(db, meetup_id):
    with pytest.raises(ConfigError, match="already took place"):
        actions.cancel_meetup(db, meetup_id, "", START + 2 * HOUR)


def test_cancelling_before_any_invitation_sends_nothing(db, sim, meetup_id):
    actions.cancel_meetup(db, meetup_id, "", SCHEDULED_AT)
    sim.run(SCHEDULED_AT, SCHEDULED_AT + 3 * HOUR)
    assert sim.planned == []


def test_those_who_came_are_asked_once_for_a_highlight(db, sim, meetup_id, crew):
    sim.tick(SCHEDULED_AT)
    with pytest.raises(ConfigError, match="not started"):
        actions.record_attendance(db, meetup_id, [ANA], START - HOUR)
    actions.record_attendance(db, meetup_id, [ANA, DORA], START + 2 * HOUR)
    sim.run(START + 2 * HOUR, START + 6 * HOUR)
    assert per_person(sim, "highlight") == {ANA: 1, DORA: 1}
    (ask,) = sim.sent_to(ANA, "highlight")
    assert ask.reply_purpose == "meetup_highlight" and ask.template == "meetup/highlight"
    sim.reply(ANA, f"meetup:{meetup_id}:highlight", "journal", START + 7 * HOUR,
              "The flaky-test hunt halved our build time.", purpose="meetup_highlight")
    sim.reply(BOB, f"meetup:{meetup_id}:highlight", "journal", START + 7 * HOUR, "I wasn't there",
              purpose="meetup_highlight")
    shared = {p["email"]: p["highlight"] for p in store.list_invitees(db, meetup_id)}
    assert shared[ANA] == "The flaky-test hunt halved our build time." and shared[BOB] is None


def test_scheduling_twice_or_in_the_past_is_refused(db, crew, meetup_id):
    with pytest.raises(ConfigError, match="already scheduled"):
        meetup.schedule_meetup(db, spec(START), SCHEDULED_AT)
    with pytest.raises(ConfigError, match="already past"):
        meetup.schedule_meetup(db, spec(SCHEDULED_AT - HOUR, title="Old"), SCHEDULED_AT)
    with pytest.raises(ConfigError, match="not a known person"):
        meetup.schedule_meetup(db, spec(START, invite=["nobody@corp.example.com"], title="X"), SCHEDULED_AT)


def test_a_person_with_a_broken_time_zone_gets_the_meetups_own_time(db, sim, crew):
    add_person(db, "zed@corp.example.com", "Zed Zee", "Mars/Olympus", ("member",))
    meetup.schedule_meetup(db, spec(START, invite=["zed@corp.example.com", ANA], title="Z"), SCHEDULED_AT)
    sim.tick(SCHEDULED_AT)
    (zed,) = sim.sent_to("zed@corp.example.com", "invite")
    assert zed.context["zone"] == "Europe/London, BST" and len(sim.sent_to(ANA, "invite")) == 1


def test_a_volunteer_call_feeding_the_meetup_adds_and_removes_speakers(db, sim, meetup_id, crew):
    from mailer.flows.call import feeds

    assert feeds.problem(f"meetup:{meetup_id}") is None
    assert feeds.feed(db, f"meetup:{meetup_id}", crew[DORA], SCHEDULED_AT) is True
    assert feeds.feed(db, f"meetup:{meetup_id}", crew[DORA], SCHEDULED_AT) is False  # already a speaker
    sim.tick(SCHEDULED_AT)
    assert sim.sent_to(DORA, "invite")[0].context["speakers"] == ["Dora Diaz"]
    assert feeds.unfeed(db, f"meetup:{meetup_id}", crew[DORA], SCHEDULED_AT + HOUR) is True
    assert store.get_invitee(db, meetup_id, crew[DORA])["speaker"] is False
    assert meetup.add_speaker(db, meetup_id, crew[DORA], START + HOUR) is False  # too late
