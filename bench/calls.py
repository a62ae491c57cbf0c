"""Volunteer-call benchmark: planning a call to N members, a quiet tick, and sign-ups by reply.

    .venv/bin/python -m bench.calls [--count 2000] [--json]

Everything runs against a real SQLite file in a temporary home with the Maildir transport's
outbox left alone (nothing is flushed): the figures are the flow's and the store's own cost.
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
from mailer.flows.base import RoutedReply  # noqa: E402
from mailer.flows.call import flow  # noqa: E402
from mailer.flows.call.definition import open_call  # noqa: E402
from mailer.inbound.message import ParsedMessage  # noqa: E402
from mailer.store import open_db, people  # noqa: E402

ZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo")
NOW = datetime(2027, 1, 10, 9, tzinfo=timezone.utc)


def reply(person: dict, call_id: int, text: str, n: int) -> RoutedReply:
    """A routed reply as the inbox would hand it over."""
    message = ParsedMessage(message_id=f"<b{n}@example.test>", from_addr=person["email"], from_name="",
                            subject="Volunteers wanted", in_reply_to=[], references=[], recipients=[],
                            headers=[], content_type="text/plain", text=text)
    return RoutedReply(person_id=person["id"], person_email=person["email"], purpose="volunteer",
                       ref=f"call:{call_id}", message=message, reply_text=text, intent="volunteer")


def timed(fn) -> tuple[float, object]:
    """Seconds taken by ``fn()`` and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(count: int) -> dict:
    """Plan a call to ``count`` members, tick again quietly, then sign up every one of them."""
    home = Path(tempfile.mkdtemp(prefix="bench-calls-"))
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n', encoding="utf-8")
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    with db.atomic():
        for n in range(count):
            people.add_person(db, f"m{n:05d}@example.test", f"Member {n}", ZONES[n % len(ZONES)], ("member",))
    call_id = open_call(db, {"title": "Bench", "closes": "2027-01-20", "sender": "m00000@example.test",
                             "roles": [{"name": "writer", "places": count // 2},
                                       {"name": "reviewer", "places": count // 4}]}, NOW)
    plan_s, plans = timed(lambda: list(flow.due(db, NOW, settings)))
    enqueue_s, _ = timed(lambda: outbox.enqueue(db, plans, NOW, settings))
    quiet_s, again = timed(lambda: list(flow.due(db, NOW + timedelta(minutes=1), settings)))
    everyone = people.list_people(db)

    def sign_up_all() -> None:
        for n, person in enumerate(everyone):
            with db.atomic():  # as the inbox does: one transaction per message
                flow.handle_reply(db, reply(person, call_id, "Count me in as a writer", n), NOW, settings)
    replies_s, _ = timed(sign_up_all)
    return {"members": count, "plan_invites_s": round(plan_s, 3), "enqueue_invites_s": round(enqueue_s, 3),
            "quiet_tick_s": round(quiet_s, 4), "planned_again": len(again),
            "replies_per_s": round(count / replies_s, 1)}


def main() -> None:
    """Print the figures plainly or as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.count)
    print(json.dumps(figures) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
