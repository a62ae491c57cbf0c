"""Meetup benchmark: planning and enqueueing invitations for a large community, and a quiet tick.

    .venv/bin/python -m bench.meetup [--invitees 2000] [--json]

Builds a real SQLite home with N members, schedules one meetup inviting the role "member", then
times: the first ``due`` + ``enqueue`` (N invitations, each with its own iCalendar part, rendered
and stored), a quiet ``due`` afterwards (what every 30-second tick costs), and a move (N updates).
Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailer import outbox  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.flows import meetup  # noqa: E402
from mailer.flows.meetup import actions  # noqa: E402
from mailer.store import open_db, people  # noqa: E402

UTC = timezone.utc
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo")


def timed(fn) -> tuple[float, object]:
    """(seconds, result) of one call."""
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def run(invitees: int) -> dict:
    """Figures for one community of ``invitees`` members."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n', encoding="utf-8")
        settings = load_settings(home, env={})
        db = open_db(settings.db_path)
        with db.atomic():
            for n in range(invitees):
                people.add_person(db, f"p{n}@corp.example.com", f"Person {n}", ZONES[n % len(ZONES)], ("member",))
        spec = {"title": "Report-back", "start": NOW + timedelta(days=20), "timezone": "Europe/London",
                "duration_minutes": 60, "location": "Room 4", "invite": "member", "source": "bench"}
        meetup_id = meetup.schedule_meetup(db, spec, NOW)
        first, plans = timed(lambda: list(meetup.due(db, NOW, settings)))
        enqueue, _ = timed(lambda: outbox.enqueue(db, plans, NOW, settings))
        quiet, again = timed(lambda: list(meetup.due(db, NOW + timedelta(minutes=1), settings)))
        actions.move_meetup(db, meetup_id, NOW + timedelta(days=21), None, NOW + timedelta(hours=1))
        moved, updates = timed(lambda: outbox.enqueue(db, meetup.due(db, NOW + timedelta(hours=1), settings),
                                                      NOW + timedelta(hours=1), settings))
        db.close()
    return {"invitees": invitees, "plan_s": round(first, 3), "enqueue_s": round(enqueue, 3),
            "quiet_tick_s": round(quiet, 4), "quiet_plans": len(again), "move_s": round(moved, 3),
            "updates": updates, "per_invitation_ms": round(1000 * (first + enqueue) / max(invitees, 1), 3)}


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitees", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.invitees)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['invitees']} invitees: plan {figures['plan_s']} s + enqueue {figures['enqueue_s']} s "
          f"({figures['per_invitation_ms']} ms an invitation); quiet tick {figures['quiet_tick_s']} s "
          f"({figures['quiet_plans']} plans); move: {figures['updates']} updates in {figures['move_s']} s")


if __name__ == "__main__":
    main()
