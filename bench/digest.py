"""Digest benchmark: time and memory to build sponsor digests of one large challenge.

    .venv/bin/python -m bench.digest [--participants 5000] [--days 12] [--json]

Builds a real SQLite home with one challenge of N participants who journaled on most of the
first D days (some entries marked #share), then times building the sponsor's digest (what the
worker does once a period per sponsor) and the lead's, and reports peak memory. Prints figures;
asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailer import outbox  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.flows import digest  # noqa: E402
from mailer.store import challenges, open_db, people  # noqa: E402

UTC = timezone.utc
START = datetime(2027, 1, 4, tzinfo=UTC)
FIRST = ("Aiko", "Oliver", "Priya", "Sam", "Chloé", "Jonas", "Grace", "Lucas", "Nora", "Wei", "María", "Liam")
LAST = ("Tanaka", "Bennett", "Sharma", "Carter", "Martin", "Weber", "Okafor", "Silva", "Lindqvist", "Chen")
ZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo")


def build_home(home: Path, participants: int, days: int, seed: int, share_rate: float = 0.05) -> tuple:
    """A home with one challenge of ``participants`` people and their entries for ``days`` days."""
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n', encoding="utf-8")
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    rng = random.Random(seed)
    sponsor = people.add_person(db, "sponsor@corp.example.com", "Dana Sponsor", "America/Chicago", ("sponsor",))
    lead = people.add_person(db, "lead@corp.example.com", "Lia Lead", "Europe/Paris", ("lead",))
    with db.atomic():
        cid = challenges.create_challenge(db, {
            "title": "DevOps 30-day challenge", "domain": "DevOps", "description": "", "start": "2027-01-04",
            "length": 30, "send_hour": 8, "send_minute": 0, "partners": False, "participants_spec": "all",
            "sponsors": ["sponsor@corp.example.com"], "source": "bench"},
            [(f"Day {n}", "Do it.") for n in range(1, 31)], START - timedelta(days=7))
        for n in range(participants):
            name = f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}"
            pid = people.add_person(db, f"p{n}@corp.example.com", name, ZONES[n % len(ZONES)], ("member",))
            challenges.add_participant(db, cid, pid, START - timedelta(days=7), from_start=True)
            for day in range(1, days + 1):
                if rng.random() < 0.7:
                    text = f"Entry of day {day}." + (" #share" if rng.random() < share_rate else "")
                    challenges.add_entry(db, cid, pid, day, text, "#share" in text,
                                         START + timedelta(days=day - 1, hours=20), None)
    return db, settings, people.get_person(db, sponsor), people.get_person(db, lead)


def measure(db, settings, person: dict, until: datetime) -> tuple[float, float]:
    """Seconds to build and render one digest for ``person``: (build, render)."""
    t0 = time.perf_counter()
    plan = digest.build(db, person, until - timedelta(days=7), until, settings, key="bench")
    t1 = time.perf_counter()
    outbox.render_plan(plan, person, None, settings)
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    """Print the figures (or JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db, settings, sponsor, lead = build_home(Path(tmp), args.participants, args.days, args.seed)
        setup = time.perf_counter() - t0
        until = START + timedelta(days=args.days)
        sponsor_build, sponsor_render = measure(db, settings, sponsor, until)
        lead_build, lead_render = measure(db, settings, lead, until)
    figures = {"participants": args.participants, "days": args.days, "setup_s": round(setup, 2),
               "sponsor_build_s": round(sponsor_build, 3), "sponsor_render_s": round(sponsor_render, 3),
               "lead_build_s": round(lead_build, 3), "lead_render_s": round(lead_render, 3),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if args.json:
        print(json.dumps(figures))
        return
    print(f"digest of a {args.participants}-participant challenge after {args.days} days "
          f"(setup {figures['setup_s']} s):")
    print(f"  sponsor: build {figures['sponsor_build_s']} s, render {figures['sponsor_render_s']} s")
    print(f"  lead:    build {figures['lead_build_s']} s, render {figures['lead_render_s']} s")
    print(f"  peak RSS {figures['peak_rss_mb']} MB (whole process, setup included)")


if __name__ == "__main__":
    main()
