"""`status` after a kill says what is in flight and until when; pacing forecasts are exact."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from mailer import outbox, pacing
from mailer.cli import main
from mailer.config import load_settings
from mailer.flows.base import PlannedEmail
from mailer.store import outbox as store
from mailer.store import people

T0 = datetime(2027, 1, 4, 12, 0, tzinfo=timezone.utc)


def test_status_names_the_rows_in_flight_and_when_their_lease_ends(db, settings, home):
    people.add_person(db, "a@corp.example.com", "A", "UTC")
    outbox.enqueue(db, [PlannedEmail(key=f"k{i}", to="a@corp.example.com", subject="s",
                                     template="system/unrouted", context={"their_subject": "x"})
                        for i in range(3)], T0, settings)
    store.claim(db, "host:123:dead", T0, 600, 2)  # a worker claimed two, then was killed
    out = CliRunner().invoke(main, ["--home", str(home), "status", "--now", T0.isoformat(), "--json"]).output
    data = json.loads(out)
    assert data["in_flight"] == [{"owner": "host:123:dead", "count": 2, "lease_ends": "2027-01-04T12:10:00+00:00"}]
    assert data["drained_by"] is not None
    text = CliRunner().invoke(main, ["--home", str(home), "status", "--now", T0.isoformat()]).output
    assert "in flight: 2 held by worker host:123:dead until 2027-01-04T12:10:00" in text


def test_the_forecast_replays_the_windows_over_the_last_day():
    wins = pacing.windows(30, 10_000)
    assert pacing.drain_at([], 12_000, T0, wins) == T0 + timedelta(days=1, minutes=66)  # 10,000 then 2,000
    assert pacing.drain_at([], 30, T0, wins) == T0
    sent = [T0 - timedelta(seconds=20)] * 30  # the minute is full until 40 s from now
    assert pacing.room(sent, T0, wins) == 0
    assert pacing.next_room_at(sent, T0, wins) == T0 + timedelta(seconds=40)
    assert pacing.drain_at(sent, 31, T0, wins) == T0 + timedelta(seconds=100)


def test_the_worker_wakes_when_the_pace_frees_room(db, home):
    from mailer import worker

    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n[transport]\npace = "exchange-online"\n')
    paced = load_settings(home, env={})
    people.add_person(db, "a@corp.example.com", "A", "UTC")
    outbox.enqueue(db, [PlannedEmail(key=f"k{i}", to="a@corp.example.com", subject="s",
                                     template="system/unrouted", context={"their_subject": "x"})
                        for i in range(40)], T0, paced)
    assert worker.next_wake(db, T0, paced) == T0 + timedelta(seconds=1)  # room now: soon
    for row in store.claim(db, "w", T0, 60, 30):
        store.finish(db, row["id"], "w", "sent", T0 + timedelta(seconds=5))
    assert worker.next_wake(db, T0 + timedelta(seconds=6), paced) == T0 + timedelta(seconds=36)  # interval
    assert worker.next_wake(db, T0 + timedelta(seconds=50), paced) == T0 + timedelta(seconds=65)


def test_with_no_pace_a_queue_that_is_not_empty_never_drains_now(db, settings, home):
    people.add_person(db, "a@corp.example.com", "A", "UTC")
    outbox.enqueue(db, [PlannedEmail(key=f"q{i}", to="a@corp.example.com", subject="s",
                                     template="system/unrouted", context={"their_subject": "x"})
                        for i in range(10_000)], T0, settings)
    assert settings.rate_limits == (0, 0)
    eta = outbox.drain_eta(db, T0, settings)  # no sends yet to time: the assumed 0.2 s each
    assert eta == T0 + 10_000 * pacing.ASSUMED_PER_SEND
    out = CliRunner().invoke(main, ["--home", str(home), "status", "--now", T0.isoformat()]).output
    assert "queue drained by 2027-01-04 12:33:20 UTC with no pace set" in out
    for row in store.claim(db, "w", T0, 60, 100):  # 100 sent 50 ms apart: the transport's speed
        store.finish(db, row["id"], "w", "sent", T0 + timedelta(milliseconds=50 * row["id"]))
    later = T0 + timedelta(seconds=10)
    assert outbox.drain_eta(db, later, settings) == later + 9_900 * timedelta(milliseconds=50)


def test_the_time_a_send_takes_comes_from_bursts_of_sends():
    burst = [T0 + timedelta(milliseconds=20 * n) for n in range(30)]
    after_a_pause = [T0 + timedelta(hours=1, milliseconds=20 * n) for n in range(30)]
    assert pacing.send_interval(burst + after_a_pause) == timedelta(milliseconds=20)  # the hour is no send
    assert pacing.send_interval(burst[:10]) is None  # too few to go by
    assert pacing.send_interval([T0] * 40) == timedelta(milliseconds=1)  # same instant: at least 1 ms
    wins = pacing.windows(30, 0)
    assert pacing.drain_at([], 30, T0, wins, timedelta(seconds=1)) == T0 + timedelta(seconds=30)
    assert pacing.drain_at([], 60, T0, wins, timedelta(seconds=1)) == T0 + timedelta(minutes=1)
