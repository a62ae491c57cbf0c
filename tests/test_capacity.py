"""Say it before it happens (issue 24): the load a command adds against the transport's pace.

The forecast's arithmetic on waves, then the issue's example on a real home of 12,000 people
with ``pace = "exchange-online"``: ``challenge start --check`` refuses with the figures and the
ways out, ``--over-limit`` goes ahead and names the waves that take over an hour, ``status``
says the backlog grows; the other sending commands count the running challenge's emails.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer import pacing
from mailer.capacity import forecast, words
from mailer.capacity.forecast import Wave
from mailer.cli import main
from mailer.config import load_settings
from mailer.flows.base import ANSWER, BULK, TIMELY
from mailer.store import open_db, people
from tests.test_challenge_e2e import ROOT
from tests.test_outbox_priority import queue_day_emails

UTC = timezone.utc
EXCHANGE = pacing.windows(30, 10_000)
T = datetime(2027, 1, 3, 23, 0, tzinfo=UTC)  # 08:00 on Mon 4 Jan in Tokyo
BEFORE = "2026-12-28T09:00:00Z"  # a week before the sample challenge's day 1
ZONES = ("Asia/Tokyo", "Europe/Berlin", "Europe/London", "America/New_York")


def wave(at: datetime, count: int, priority: int = TIMELY, zone: str = "Asia/Tokyo", new: bool = True) -> Wave:
    return Wave(at, count, "day 1", priority, (zone,), new, zone)


def test_tokyos_3000_day_emails_take_100_minutes_at_30_a_minute():
    run = forecast.simulate([wave(T, 3_000)], EXCHANGE, per_send=pacing.ASSUMED_PER_SEND)
    (sent,) = run.sent
    assert sent.first == T and T + timedelta(minutes=99) < sent.last < T + timedelta(minutes=100)
    assert words.late_lines([sent], words.rate(EXCHANGE, pacing.ASSUMED_PER_SEND)) == [
        "Asia/Tokyo: 3,000 emails 08:00–09:40 local at 30/min (day 1, Mon 4 Jan)"]
    assert forecast.late_waves(run) == [sent]
    assert not forecast.late_waves(forecast.simulate([wave(T, 1_800)], EXCHANGE))  # 60 minutes: within the hour


def test_a_wave_waits_for_the_one_before_it_and_answers_go_first():
    berlin, london = wave(T + timedelta(hours=8), 3_000, zone="Europe/Berlin"), wave(T + timedelta(hours=9), 3_000,
                                                                                       zone="Europe/London")
    answer = wave(T + timedelta(hours=9, minutes=10), 1, ANSWER, zone="Europe/London")
    run = forecast.simulate([london, answer, berlin], EXCHANGE)
    last = {s.wave: s.last for s in run.sent}
    assert last[answer] == T + timedelta(hours=9, minutes=10)  # not behind the 3,000
    assert last[berlin] == T + timedelta(hours=8, minutes=100)  # 100 minutes, one slot to the answer
    assert last[london] == T + timedelta(hours=11, minutes=20)  # after Berlin's: 08:40-10:20 UTC
    assert words.span(next(s for s in run.sent if s.wave == london)) == "08:00–10:20 local"


def test_12000_a_day_against_10000_a_day_grows_the_backlog_by_2000_a_day():
    waves = [wave(T + n * forecast.DAY, 12_000) for n in range(4)]
    run = forecast.simulate(waves, EXCHANGE)
    assert [run.backlog_at(waves, T + n * forecast.DAY + timedelta(hours=23)) for n in range(4)] == [
        2_000, 4_000, 6_000, 8_000]
    assert forecast.day_limit(EXCHANGE) == 10_000
    assert forecast.day_limit(pacing.windows(30, 0)) == 43_200  # 30 a minute is at most 43,200 a day
    assert forecast.day_limit(pacing.windows(0, 0)) is None


def test_the_busiest_day_counts_what_is_scheduled_beside_the_new_waves():
    running = [wave(T + n * forecast.DAY, 6_000, new=False) for n in range(3)]
    added = wave(T + timedelta(days=1, hours=2), 5_000, BULK)
    assert forecast.peak_day(running)[0] == 0  # nothing new: nothing to refuse
    peak, busiest = forecast.peak_day(running + [added])
    assert peak == 11_000 and added in busiest
    assert forecast.days_over(running + [added], 10_000) == [T.date() + timedelta(days=2)]


def big_home(tmp_path: Path, count: int, pace: str = "exchange-online") -> Path:
    """A home of ``count`` members, a quarter in each of ``ZONES``, inserted in one batch."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "mailer.toml").write_text(f'[mailer]\ndata = "none"\naddress = "cop@example.test"\n'
                                      f'[transport]\npace = "{pace}"\n')
    db = open_db(load_settings(home, env={}).db_path)
    people.insert_people(db, [(f"p{n}@corp.example.com", f"Person {n}", ZONES[n % 4], "member", None)
                              for n in range(count)])
    db.close()
    return home


def run_cli(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


SAMPLE = str(ROOT / "data" / "challenges" / "devops-30.toml")


def test_starting_the_sample_challenge_for_12000_people_on_exchange_online_is_refused_with_the_figures(tmp_path):
    home = big_home(tmp_path, 12_000)
    for check in (["--check"], []):
        result = run_cli(home, "challenge", "start", SAMPLE, *check, "--now", BEFORE)
        assert result.exit_code == 2, result.output
        said = result.output
        assert 'over the sending limit of pace = "exchange-online"' in said
        assert "12,000 emails fall due in a day" in said and "over the pace's 10,000 a day" in said
        assert "the queue grows by up to 2,000 a day, so the last of day 30 of DevOps 30-day challenge" in said
        assert "Asia/Tokyo: 3,000 emails 08:00–09:40 local at 30/min (day 1 of DevOps 30-day challenge, Mon 4 Jan)" \
            in said
        assert "Europe/London: 3,000 emails 08:00–10:20 local" in said  # behind Berlin's wave
        assert "docs/hve.md" in said and "docs/relay.md" in said and "--over-limit" in said
    assert "(no challenges)" in run_cli(home, "challenge", "list").output  # nothing was started


def test_over_limit_starts_it_anyway_and_status_says_the_backlog_grows(tmp_path):
    home = big_home(tmp_path, 12_000)
    result = run_cli(home, "challenge", "start", SAMPLE, "--over-limit", "--now", BEFORE)
    assert result.exit_code == 0, result.output
    assert "started challenge 1" in result.output
    assert "warning: going ahead over the limit (--over-limit): 12,000 emails fall due in a day" in result.output
    assert "warning: Asia/Tokyo: 3,000 emails 08:00–09:40 local at 30/min" in result.output

    text = run_cli(home, "status", "--now", "2027-01-05T22:00:00Z").output
    assert "next 24 hours at 30/min:" in text
    assert "  Asia/Tokyo: 3,000 emails 08:00–09:40 local (day 3 of DevOps 30-day challenge)  (over an hour)" in text
    assert "backlog grows from day to day: 12,000 emails fall due a day against 10,000 allowed" in text
    data = json.loads(run_cli(home, "status", "--json", "--now", "2027-01-05T22:00:00Z").output)["forecast"]
    assert data["grows"] and data["backlog"] == [0, 2_000, 4_000, 6_000]
    assert [w["where"] for w in data["waves"]] == ["Asia/Tokyo", "Europe/Berlin", "Europe/London", "America/New_York"]


def test_within_the_day_limit_the_check_passes_and_warns_of_the_slow_waves(tmp_path):
    home = big_home(tmp_path, 8_000)
    result = run_cli(home, "challenge", "start", SAMPLE, "--check", "--now", BEFORE)
    assert result.exit_code == 0, result.output
    assert "warning: Asia/Tokyo: 2,000 emails 08:00–09:07 local at 30/min" in result.output
    assert "over the pace" not in result.output
    text = run_cli(home, "status", "--now", "2027-01-05T22:00:00Z").output
    assert "backlog" not in text  # nothing started, nothing scheduled


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


CALL = 'title = "Playbook writers"\ndescription = "Help write it."\nto = "all"\ncloses = 2027-01-20\n' \
       '[[roles]]\nname = "writer"\nplaces = 2\n'
MEETUP = 'title = "Kick-off"\nstart = 2027-01-05T18:00:00\ntimezone = "Europe/London"\ninvite = "all"\n'


@pytest.mark.parametrize("command, name, text, new", [
    (("call", "open"), "call.toml", CALL, "8,000 new (the call Playbook writers)"),
    (("meetup", "schedule"), "meetup.toml", MEETUP,  # the reminders go 24 hours before: the same day
     "16,000 new (the invitations to Kick-off, the reminders of Kick-off)")])
def test_a_call_or_meetup_for_everyone_counts_the_running_challenges_day_emails(tmp_path, command, name, text, new):
    home = big_home(tmp_path, 8_000)
    assert run_cli(home, "challenge", "start", SAMPLE, "--now", BEFORE).exit_code == 0
    now = "2027-01-04T12:00:00Z"
    result = run_cli(home, *command, write(tmp_path, name, text), "--check", "--now", now)
    assert result.exit_code == 2, result.output
    assert "already scheduled (day 1 of DevOps 30-day challenge" in result.output
    assert new in result.output
    assert run_cli(home, *command, write(tmp_path, name, text), "--over-limit", "--now", now).exit_code == 0


def test_a_charter_says_its_requests_wait_behind_a_full_queue(tmp_path):
    home = big_home(tmp_path, 10)
    db = open_db(load_settings(home, env={}).db_path)
    queue_day_emails(db, 1, 9_000, datetime(2027, 1, 4, 12, tzinfo=UTC))
    people.add_person(db, "jonas.weber@corp.example.com", "Jonas Weber", "Europe/Berlin", ("approver",))
    people.add_person(db, "dana.sponsor@corp.example.com", "Dana", "Europe/Berlin", ("sponsor", "approver"))
    for address in ("sam.carter@corp.example.com", "chloe.martin@corp.example.com", "oliver.bennett@corp.example.com"):
        people.add_person(db, address, "Team", "Europe/Paris", ("member",))
    db.close()
    charter = str(ROOT / "data" / "charters" / "observability-playbook.toml")
    result = run_cli(home, "charter", "submit", charter, "--check", "--now", "2027-01-04T12:00:00Z")
    assert result.exit_code == 0, result.output
    assert ("warning: Europe/Berlin: 2 emails 13:00–18:01 local at 30/min (the approval requests for "
            "Observability playbook, Mon 4 Jan)") in result.output  # behind 9,000 day emails: 5 hours
    text = run_cli(home, "status", "--now", "2027-01-04T12:00:00Z").output
    assert "  time-bound emails queued now: 9,000 emails 12:00–17:00 UTC  (over an hour)" in text
    assert "backlog: what is queued is sent within the day; it does not grow" in text
