"""Replies to challenge emails: journal entries, pause/resume/stop, join, empty replies, nudges."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mailer.errors import InboundError
from mailer.flows.challenge import flow as challenge
from mailer.store import challenges as store
from mailer.store import outbox as outbox_store
from mailer.store.people import add_person, set_status
from tests.flows.challenge.conftest import BEFORE, UTC, routed

FIRST_TICK = datetime(2027, 1, 3, 12, 0, tzinfo=UTC)
OLIVER, SAM = "oliver@corp.example.com", "sam@corp.example.com"


def at(day: int, hour: int = 12) -> datetime:
    """Noon UTC on the date of day ``day`` (after everyone's 08:00 but New York's)."""
    return datetime(2027, 1, 3 + day, hour, 0, tzinfo=UTC)


def ref(started, day: int) -> str:
    return f"challenge:{started.challenge_id}:day:{day}"


def days_sent(sim, email: str) -> list[int]:
    return sorted(int(p.key.split(":")[3]) for _, p in sim.planned if p.to == email and ":day:" in p.key)


def test_a_late_reply_is_the_entry_for_the_day_it_answers(sim, started, crew):
    sim.run(FIRST_TICK, at(5))
    assert sim.reply(OLIVER, ref(started, 3), "Found the cache miss.", "journal", at(5)) == []
    entries = store.entries(sim.db, crew[OLIVER], started.challenge_id)
    assert [(e["day"], e["text"]) for e in entries] == [(3, "Found the cache miss.")]


def test_two_replies_in_a_day_are_appended_in_order_with_line_breaks(sim, started, crew):
    sim.run(FIRST_TICK, at(2))
    sim.reply(OLIVER, ref(started, 2), "First thought.\n\n  indented line\nlast line\n\n", "journal", at(2, 9))
    sim.reply(OLIVER, ref(started, 2), "Second thought.", "journal", at(2, 17))
    exported = challenge.journal.by_day(store.entries(sim.db, crew[OLIVER], started.challenge_id))
    assert exported == {2: "First thought.\n\n  indented line\nlast line\n\nSecond thought."}


def test_no_acknowledgement_per_entry(sim, started):
    sim.run(FIRST_TICK, at(1))
    before = outbox_store.counts(sim.db)
    assert sim.reply(OLIVER, ref(started, 1), "Mapped it.", "journal", at(1)) == []
    assert outbox_store.counts(sim.db) == before


def test_an_empty_reply_gets_one_short_answer_a_day(sim, started, crew):
    sim.run(FIRST_TICK, at(2))
    first = sim.reply(OLIVER, ref(started, 2), "", "empty", at(2, 10))
    again = sim.reply(OLIVER, ref(started, 1), "   \n", "journal", at(2, 20))
    assert [p.key for p in first] == [p.key for p in again]
    assert first[0].auto_reply and first[0].in_reply_to
    assert len(outbox_store.existing_keys(sim.db, f"challenge:{started.challenge_id}:couldnt:")) == 1
    sim.reply(OLIVER, ref(started, 3), "", "empty", at(3, 10))
    assert len(outbox_store.existing_keys(sim.db, f"challenge:{started.challenge_id}:couldnt:")) == 2
    assert store.entries(sim.db, crew[OLIVER], started.challenge_id) == []


def test_pause_skips_days_and_resume_continues_with_the_current_day(sim, started):
    sim.run(FIRST_TICK, at(3))
    confirm = sim.reply(OLIVER, ref(started, 3), "pause", "pause", at(3))
    assert confirm and confirm[0].context["change"] == "paused"
    sim.run(at(3), at(6, 7))
    assert days_sent(sim, OLIVER) == [1, 2, 3]
    sim.reply(OLIVER, ref(started, 3), "resume", "resume", at(6, 10))  # 10:00 in London: day 6 is open
    sim.tick(at(6, 10) + timedelta(minutes=1))
    assert days_sent(sim, OLIVER) == [1, 2, 3, 6]
    sim.run(at(6, 11), at(9))
    assert days_sent(sim, OLIVER) == [1, 2, 3, 6, 7, 8, 9]


def test_pausing_twice_sends_one_confirmation(sim, started):
    sim.run(FIRST_TICK, at(1))
    assert sim.reply(OLIVER, ref(started, 1), "pause", "pause", at(1))
    assert sim.reply(OLIVER, ref(started, 1), "pause please", "pause", at(1, 13)) == []


def test_stop_ends_day_emails_and_the_summary(sim, started):
    sim.run(FIRST_TICK, at(2))
    sim.reply(SAM, ref(started, 1), "stop", "stop", at(2))
    sim.run(at(2), datetime(2027, 2, 6, tzinfo=UTC), step=timedelta(hours=1))
    assert days_sent(sim, SAM) == [1]
    assert not [p for _, p in sim.planned if p.to == SAM and ":summary:" in p.key]
    assert [p for _, p in sim.planned if p.to == OLIVER and ":summary:" in p.key]


def test_a_bounced_participant_stops_receiving(sim, started, crew):
    sim.run(FIRST_TICK, at(3))
    set_status(sim.db, crew[SAM], "bounced")  # what the spine does after a hard bounce
    sim.run(at(3), datetime(2027, 2, 6, tzinfo=UTC), step=timedelta(hours=1))
    assert days_sent(sim, SAM) == [1, 2]  # New York's day 3 opens at 13:00 UTC on 6 Jan
    assert not [p for t, p in sim.planned if p.to == SAM and t >= at(3)]


def test_one_gentle_nudge_after_seven_silent_days_not_daily(sim, started):
    sim.run(FIRST_TICK, at(5))
    for day in range(1, 6):
        sim.reply(OLIVER, ref(started, day), f"Day {day} done.", "journal", at(day, 20))
    sim.run(at(5), datetime(2027, 2, 6, tzinfo=UTC))
    nudges = {p.to: p for _, p in sim.planned if ":nudge:" in p.key}
    silent = [p.to for _, p in sim.planned if ":nudge:" in p.key]
    # Three never wrote: one nudge each on day 8; Oliver stopped after day 5: one, a week later.
    assert sorted(silent) == sorted(["aiko@corp.example.com", "priya@corp.example.com", SAM, OLIVER])
    assert nudges[SAM].context["day"] == 8
    assert nudges[OLIVER].context["day"] == 12


def test_a_reply_restarts_the_silence_clock(sim, started):
    sim.run(FIRST_TICK, at(9))
    first = [p for _, p in sim.planned if p.to == OLIVER and ":nudge:" in p.key]
    sim.reply(OLIVER, ref(started, 9), "Back.", "journal", at(9, 13))
    sim.run(at(9, 13), at(16, 7))
    assert [p for _, p in sim.planned if p.to == OLIVER and ":nudge:" in p.key] == first
    sim.run(at(16, 7), at(17))
    assert len([p for _, p in sim.planned if p.to == OLIVER and ":nudge:" in p.key]) == 2


def test_join_by_reply_starts_with_the_next_day_and_is_paired(sim, db, crew, write_challenge):
    from mailer.flows.challenge.definition import start_challenge
    from tests.flows.challenge.conftest import challenge_toml

    text = challenge_toml(participants='["aiko@corp.example.com", "priya@corp.example.com", '
                                       '"oliver@corp.example.com"]')
    started = start_challenge(db, write_challenge(text), BEFORE)
    sim.tick(BEFORE)
    invite = next(p for _, p in sim.planned if p.to == SAM and ":announce:" in p.key)
    assert not invite.context["enrolled"] and invite.reply_purpose == "challenge_join"
    sim.run(FIRST_TICK, at(3))
    person = db["people"].get(crew[SAM])
    answer = challenge.handle_reply(db, routed(person, f"challenge:{started.challenge_id}", "join", "join",
                                               at(3, 14)), at(3, 14), None)
    assert answer[0].context["first_day"] == "Day 4 arrives Thu 7 Jan at 08:00 your time."
    assert store.get_participant(db, started.challenge_id, crew[SAM])["status"] == "active"
    sim.run(at(3, 14), at(4, 14))
    assert days_sent(sim, SAM) == [4]
    groups = store.current_groups(db, started.challenge_id)
    assert sorted(len(g) for g in groups.values()) == [2, 2]
    day4 = next(p for _, p in sim.planned if p.to == SAM and ":day:4:" in p.key)
    assert day4.context["partner_line"].startswith("Meet your accountability partner:")


def test_a_reply_to_the_announcement_that_is_not_join_gets_how_to_join(sim, db, crew, write_challenge):
    from mailer.flows.challenge.definition import start_challenge
    from tests.flows.challenge.conftest import challenge_toml

    started = start_challenge(db, write_challenge(challenge_toml(participants='["aiko@corp.example.com"]')),
                              BEFORE)
    person = db["people"].get(crew[SAM])
    answer = challenge.handle_reply(db, routed(person, f"challenge:{started.challenge_id}", "sounds fun",
                                               "journal", BEFORE), BEFORE, None)
    assert [p.template for p in answer] == ["challenge/join_help"]
    assert store.get_participant(db, started.challenge_id, crew[SAM]) is None


def test_an_earlier_entry_comes_back_with_its_real_date(sim, started):
    sim.run(FIRST_TICK, at(2))
    sim.reply(OLIVER, ref(started, 1), "Seven stages, two manual gates.", "journal", at(1, 20))
    sim.run(at(2), at(8))
    day8 = next(p for _, p in sim.planned if p.to == OLIVER and ":day:8:" in p.key)
    assert day8.context["memory"]["day"] == 1 and day8.context["memory"]["date_label"] == "Mon 4 Jan"
    row = outbox_store.latest_to(sim.db, OLIVER)
    assert "On day 1 (Mon 4 Jan) you wrote:" in row["data"].decode("utf-8", "replace")


def test_partner_line_says_whether_the_partner_journaled_never_what(sim, started, crew):
    sim.run(FIRST_TICK, at(2))
    groups = store.current_groups(sim.db, started.challenge_id)
    partner_of_oliver = next(m for g in groups.values() if crew[OLIVER] in g for m in g if m != crew[OLIVER])
    partner = sim.db["people"].get(partner_of_oliver)
    sim.reply(partner["email"], ref(started, 2), "Secret: our deploy is held together by tape.", "journal",
              at(2, 22))
    sim.run(at(2), at(3))
    day3 = next(p for _, p in sim.planned if p.to == OLIVER and ":day:3:" in p.key)
    first = partner["name"].split()[0]
    assert day3.context["partner_line"] == f"{first} journaled yesterday."


def test_a_shareable_entry_is_marked(sim, started, crew):
    sim.run(FIRST_TICK, at(1))
    sim.reply(OLIVER, ref(started, 1), "Cut build time in half! #share", "journal", at(1))
    sim.reply(OLIVER, ref(started, 1), "Also: I was nervous.", "journal", at(1, 13))
    shared = store.shareable_entries(sim.db, started.challenge_id)
    assert [e["text"] for e in shared] == ["Cut build time in half! #share"]


def test_replies_to_unknown_challenges_or_days_are_refused(db, crew, started):
    person = db["people"].get(crew[OLIVER])
    with pytest.raises(InboundError):
        challenge.handle_reply(db, routed(person, "challenge:999:day:1", "hi", "journal", BEFORE), BEFORE, None)
    with pytest.raises(InboundError):
        challenge.handle_reply(db, routed(person, f"challenge:{started.challenge_id}:day:31", "hi", "journal",
                                          BEFORE), BEFORE, None)


def test_people_added_later_hear_about_the_challenge_once(sim, started):
    sim.tick(BEFORE)
    add_person(sim.db, "new@corp.example.com", "Nia New", "Europe/Paris", ("member",))
    add_person(sim.db, "funder@corp.example.com", "Fay Funder", "Europe/Paris", ("sponsor",))
    sim.tick(at(2))
    sim.tick(at(2, 13))
    assert [p.subject for _, p in sim.planned if p.to == "new@corp.example.com"] == [
        'DevOps 30-day challenge is under way: reply "join" to take part']
    assert not [p for _, p in sim.planned if p.to == "funder@corp.example.com"]
