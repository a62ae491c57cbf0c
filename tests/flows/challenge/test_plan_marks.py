"""The plan mark (skip a challenge until something can fall due) never changes what is sent.

Two identical homes live through the same 16 days and the same random events (journal
replies, pause, resume, stop, join, a new member, a move to another time zone, a bounce and
its clearing); one plans with the mark, the other recomputes everything on every tick. After
every tick both outboxes must hold exactly the same emails.
"""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from mailer import outbox
from mailer.flows.challenge import flow as challenge
from mailer.flows.challenge.definition import start_challenge
from mailer.store import challenges as store
from mailer.store import open_db, people
from tests.flows.challenge.conftest import BEFORE, CREW, challenge_toml, routed

ZONES = ("Asia/Tokyo", "Asia/Kolkata", "Europe/London", "America/New_York", "Pacific/Auckland",
         "America/Los_Angeles")


def _home(path, settings, challenge_file):
    db = open_db(path)
    for email, name, tz in CREW:
        people.add_person(db, email, name, tz, ("member",))
    start_challenge(db, challenge_file, BEFORE)
    return db


def _event(db, rng: random.Random, now, settings, step: int) -> list:
    everyone = list(db.query("SELECT * FROM people ORDER BY id"))
    person = rng.choice(everyone)
    action = rng.choice(("journal", "journal", "pause", "resume", "stop", "join", "new", "move", "bounce"))
    if action == "new":
        people.add_person(db, f"new{step}@corp.example.com", f"New {step}", rng.choice(ZONES), ("member",))
        return []
    if action == "move":
        people.add_person(db, person["email"], person["name"], rng.choice(ZONES), ("member",))
        return []
    if action == "bounce":
        people.set_status(db, person["id"], "active" if person["status"] == "bounced" else "bounced")
        return []
    ref = f"challenge:1:day:{rng.randint(1, 12)}" if action == "journal" else "challenge:1"
    text = "Did the thing today." if action == "journal" else action
    return challenge.handle_reply(db, routed(person, ref, text, action, now), now, settings)


@pytest.mark.parametrize("seed", [1, 3])
def test_the_plan_mark_sends_exactly_what_recomputing_every_tick_sends(tmp_path, settings, seed, monkeypatch):
    path = tmp_path / "challenge.toml"
    path.write_text(challenge_toml(length=12), encoding="utf-8")
    marked, always = _home(tmp_path / "a.db", settings, path), _home(tmp_path / "b.db", settings, path)
    rng_a, rng_b = random.Random(seed), random.Random(seed)
    now, step, skipped = BEFORE + timedelta(hours=1), 0, 0
    while now < BEFORE + timedelta(days=32):
        for db, rng, recompute in ((marked, rng_a, False), (always, rng_b, True)):
            answers = _event(db, rng, now, settings, step) if rng.random() < 0.04 else []
            outbox.enqueue(db, answers, now, settings)
            with monkeypatch.context() as patch:
                if recompute:
                    patch.setattr(store, "nothing_due", lambda d, c, n: False)
                elif all(store.nothing_due(db, c, now) for c in store.list_challenges(db)):
                    skipped += 1
                outbox.enqueue(db, challenge.due(db, now, settings), now, settings)
        keys = [{r[0] for r in db.execute("SELECT key FROM outbox")} for db in (marked, always)]
        assert keys[0] == keys[1], (now, keys[0] ^ keys[1])
        now += timedelta(minutes=20)
        step += 1
    assert skipped > step / 2  # the mark did skip most ticks
    assert any(":summary:" in k for k in keys[0]) and any(":nudge:" in k for k in keys[0])
