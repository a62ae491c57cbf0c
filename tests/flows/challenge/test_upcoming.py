"""The idle worker's line: when the next day email is planned, from the store."""
from __future__ import annotations

import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from mailer import worker
from mailer.cli import _next_send_line
from mailer.flows.challenge import flow as challenge
from mailer.store import challenges as store
from tests.flows.challenge.conftest import BEFORE, UTC

ROOT = Path(__file__).resolve().parents[3]


def test_before_the_start_the_next_send_is_day_1_in_the_first_zone(db, started):
    found = worker.next_send(db, BEFORE)
    assert found == (datetime(2027, 1, 3, 23, 0, tzinfo=UTC), "Asia/Tokyo")
    assert _next_send_line(found, BEFORE) == "next send Mon 4 Jan 08:00 Asia/Tokyo"


def test_mid_challenge_the_next_send_is_the_next_local_morning(db, started):
    now = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)  # 09:00 London on day 2: New York's 08:00 is next
    found = worker.next_send(db, now)
    assert found == (datetime(2027, 1, 5, 13, 0, tzinfo=UTC), "America/New_York")
    assert _next_send_line(found, now) == "next send 08:00 America/New_York"


def test_paused_participants_and_finished_challenges_plan_nothing(db, crew, started):
    for person_id in crew.values():
        if person_id != crew["aiko@corp.example.com"]:
            challenge.set_participant_status(db, started.challenge_id, person_id, "paused", BEFORE)
    assert worker.next_send(db, BEFORE)[1] == "Asia/Tokyo"
    after = datetime(2027, 3, 1, tzinfo=UTC)
    assert worker.next_send(db, after) is None and _next_send_line(None, after) == "nothing planned"
    assert store.active_zones(db, started.challenge_id) == ["Asia/Tokyo"]


def test_the_idle_worker_says_so_each_wake(home):
    proc = subprocess.Popen([sys.executable, "run.py", "--home", str(home)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first, wake = proc.stdout.readline(), proc.stdout.readline()  # lines on a pipe: no clock
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert "Ctrl-C to stop" in first
    assert wake.rstrip().endswith("Z  nothing due; nothing planned")
