"""A whole 30-day challenge on an injected clock through real SQLite and the real outbox."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from mailer.store import outbox as outbox_store
from tests.flows.challenge.conftest import BEFORE, CREW, UTC

START = date(2027, 1, 4)
FIRST_TICK = datetime(2027, 1, 3, 12, 0, tzinfo=UTC)
LAST_TICK = datetime(2027, 2, 5, 0, 0, tzinfo=UTC)
TZ = {email: tz for email, _, tz in CREW}
DAY_KEY = re.compile(r"^challenge:\d+:day:(\d+):person:\d+$")


def day_plans(sim):
    """(tick time, plan, day number) for every day email planned."""
    return [(t, p, int(DAY_KEY.match(p.key).group(1))) for t, p in sim.planned if DAY_KEY.match(p.key)]


def test_each_participant_gets_exactly_30_day_emails_each_in_their_local_morning(sim, started):
    sim.tick(BEFORE)
    sim.run(FIRST_TICK, LAST_TICK)
    per_person = defaultdict(list)
    for moment, plan, day in day_plans(sim):
        local = moment.astimezone(ZoneInfo(TZ[plan.to]))
        per_person[plan.to].append(day)
        assert local.date() == START + timedelta(days=day - 1), (plan.key, local)
        assert 8 <= local.hour < 9, (plan.key, local)  # within the tick after 08:00 local
        assert f"Day {day} of 30" in plan.subject
    assert set(per_person) == set(TZ)
    for email, days in per_person.items():
        assert sorted(days) == list(range(1, 31)), email
    sent = outbox_store.existing_keys(sim.db, f"challenge:{started.challenge_id}:day:")
    assert len(sent) == 4 * 30


def test_the_first_send_is_tokyo_at_2300_utc_on_sunday(sim, started):
    sim.run(FIRST_TICK, datetime(2027, 1, 4, 14, 0, tzinfo=UTC), step=timedelta(minutes=15))
    firsts = {plan.to: moment for moment, plan, day in day_plans(sim) if day == 1}
    assert firsts["aiko@corp.example.com"] == datetime(2027, 1, 3, 23, 0, tzinfo=UTC)
    assert firsts["priya@corp.example.com"] == datetime(2027, 1, 4, 2, 30, tzinfo=UTC)
    assert firsts["oliver@corp.example.com"] == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    assert firsts["sam@corp.example.com"] == datetime(2027, 1, 4, 13, 0, tzinfo=UTC)


def test_ticking_twice_changes_nothing(sim, started):
    sim.run(FIRST_TICK, datetime(2027, 1, 10, 0, 0, tzinfo=UTC))
    moment = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    first = sim.tick(moment)
    assert first, "London's and Tokyo's day 7 should be due by now"
    counts = outbox_store.counts(sim.db)
    assert sim.tick(moment) == []
    assert sim.tick(moment + timedelta(seconds=30)) == []
    assert outbox_store.counts(sim.db) == counts


def test_a_two_day_outage_sends_the_current_day_once_not_a_burst(sim, started):
    down = (datetime(2027, 1, 8, 0, 0, tzinfo=UTC), datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    sim.run(FIRST_TICK, LAST_TICK, down=down)
    plans = day_plans(sim)
    back = [(plan.to, day) for moment, plan, day in plans if moment == down[1]]
    # Tokyo, Kolkata and London are past 08:00 on 10 Jan: they get day 7, and only day 7.
    assert sorted(back) == [("aiko@corp.example.com", 7), ("oliver@corp.example.com", 7),
                            ("priya@corp.example.com", 7)]
    for email, tz in TZ.items():
        moments = [(m, day) for m, plan, day in plans if plan.to == email]
        local_dates = [m.astimezone(ZoneInfo(tz)).date() for m, _ in moments]
        assert len(local_dates) == len(set(local_dates)), f"{email} got two days on one local date"
        days = [day for _, day in moments]
        assert len(days) == len(set(days)), email
        assert 7 in days and 30 in days
    missed = Counter(plan.to for _, plan, _ in plans)
    assert missed["oliver@corp.example.com"] == 28  # days 5 and 6 fell in the outage (London)
    assert missed["sam@corp.example.com"] == 28  # New York: days 5 and 6 (8 and 9 Jan) too


def test_after_the_last_day_each_participant_gets_one_summary_with_the_journal_attached(sim, started):
    sim.run(FIRST_TICK, datetime(2027, 1, 5, 0, 0, tzinfo=UTC))
    ref = f"challenge:{started.challenge_id}:day:1"
    sim.reply("oliver@corp.example.com", ref, "Seven stages.\nTwo manual gates.", "journal",
              datetime(2027, 1, 4, 18, 0, tzinfo=UTC))
    sim.run(datetime(2027, 1, 5, 0, 0, tzinfo=UTC), LAST_TICK)
    summaries = [(t, p) for t, p in sim.planned if ":summary:" in p.key]
    assert sorted(p.to for _, p in summaries) == sorted(TZ)
    for moment, plan in summaries:
        local = moment.astimezone(ZoneInfo(TZ[plan.to]))
        assert local.date() == date(2027, 2, 3) and local.hour == 8
        assert plan.attachments and plan.attachments[0].mime_type == "text/markdown"
    oliver = next(p for _, p in summaries if p.to == "oliver@corp.example.com")
    assert oliver.context["days_journaled"] == 1 and oliver.context["longest_streak"] == 1
    markdown = oliver.attachments[0].data.decode()
    assert "## Day 1 · Mon 4 Jan 2027 · Practice 1\n\nSeven stages.\nTwo manual gates." in markdown
    row = outbox_store.latest_to(sim.db, "oliver@corp.example.com")
    assert b"Content-Disposition: attachment" in row["data"]
    sim.run(LAST_TICK, LAST_TICK + timedelta(days=3), step=timedelta(hours=1))
    assert len([p for _, p in sim.planned if ":summary:" in p.key]) == 4


def test_the_sample_programme_runs_start_to_end(db, crew, sim):
    from pathlib import Path

    from mailer.flows.challenge.definition import start_challenge

    sample = Path(__file__).resolve().parents[3] / "data" / "challenges" / "devops-30.toml"
    started = start_challenge(db, sample, BEFORE)
    assert "4 participants, day 1 goes out on Mon 4 Jan at 08:00 local" in started.summary
    sim.run(FIRST_TICK, LAST_TICK, step=timedelta(hours=1))
    subjects = {p.subject for _, p in sim.planned if ":day:" in p.key}
    assert "Day 5 of 30: Pair on a pipeline" in subjects
    assert len(subjects) == 30
