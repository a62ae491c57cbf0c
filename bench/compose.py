"""Composing one email: a flow's builder (the plan) and ``outbox._compose`` (render, headers, MIME).

    .venv/bin/python -m bench.compose [--count 2000] [--kinds announcement,day,call,invite,reminder] [--profile]

Each kind of the sample community (``run.py preview``'s kinds) is planned and composed for
``--count`` recipients: names in ASCII, with accents and in CJK, the five languages in turn and
fourteen time zones, as a fan-out's recipients are. Figures: CPU microseconds an email (user +
system of this process) for the plan and for composing, and the bytes' total as a check that
two runs composed the same amount. Nothing is stored or sent. It asserts nothing about time.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailer import outbox  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.locale import LANGUAGES  # noqa: E402
from mailer.preview import kinds  # noqa: E402
from mailer.preview.world import scratch  # noqa: E402

ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
         "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Helsinki", "Africa/Nairobi", "Asia/Kolkata",
         "Asia/Singapore", "Asia/Tokyo", "UTC")
# Kinds the preview plans only for the sample's own participants: planned once, composed for each.
PLANNED_ONCE = {"day", "partner", "nudge", "summary"}
NAMES = ("Anna Smith", "Ben O'Neil", "Zoë Müller", "Ünal Çelik-Øster", "李 小龍", "Jean-Pierre Dupont")


def cpu() -> float:
    """CPU seconds (user + system) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def recipients(base: dict, count: int) -> list[dict]:
    """``count`` people like ``base``: names, languages and zones in turn."""
    return [{**base, "id": 10_000 + n, "email": f"member{n}@example.org", "name": f"{NAMES[n % len(NAMES)]} {n}",
             "language": LANGUAGES[n % len(LANGUAGES)], "timezone": ZONES[n % len(ZONES)]} for n in range(count)]


def one_kind(world, settings, name: str, count: int) -> tuple[float, float, int]:
    """CPU seconds to plan and to compose ``name`` for ``count`` recipients, and the bytes made."""
    kind = kinds.BY_NAME[name]
    people = recipients(kind.default(world), count)
    began = cpu()
    if name in PLANNED_ONCE:
        once = kind.build(world, kind.default(world), settings)
        plans = [replace(once, to=person["email"]) for person in people]
    else:
        plans = [replace(kind.build(world, person, settings), to=person["email"]) for person in people]
    planned = cpu()
    size = sum(len(outbox._compose(plan, person, f"<{n}@x.test>", "abcdefghijklmnopqrstuvwx", world.now, settings))
               for n, (plan, person) in enumerate(zip(plans, people)))
    return planned - began, cpu() - planned, size


def main() -> None:
    """Plan and compose each kind and print CPU per email."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--kinds", default="announcement,day,call,invite,reminder")
    parser.add_argument("--profile", action="store_true", help="print the cProfile of the whole run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp) / "home")
        world = scratch(None, Path(tmp), None)
        prof = cProfile.Profile() if args.profile else None
        if prof:
            prof.enable()
        print(f"{'kind':<14} {'plan us':>8} {'compose us':>11} {'bytes':>12}")
        total = [0.0, 0.0]
        for name in args.kinds.split(","):
            plan_s, compose_s, size = one_kind(world, settings, name, args.count)
            total[0] += plan_s
            total[1] += compose_s
            print(f"{name:<14} {plan_s / args.count * 1e6:>8.0f} {compose_s / args.count * 1e6:>11.0f} {size:>12,}")
        count = args.count * len(args.kinds.split(","))
        print(f"{'all':<14} {total[0] / count * 1e6:>8.0f} {total[1] / count * 1e6:>11.0f}")
        if prof:
            prof.disable()
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
        world.db.close()


if __name__ == "__main__":
    main()
