"""Fan-out benchmark: the day-1 tick and a tick with nothing due, for a whole community.

    .venv/bin/python -m bench.fanout [--sizes 5000,20000,50000,50001] [--profile N] [--report-back] [--languages] [--json]

Each size runs in a fresh process (so its peak memory is its own) on a fresh home: real SQLite
file, the real Maildir transport, members spread over 14 time zones (UTC-5 .. UTC+9), the
sample challenge started for all of them. Three ticks are timed with ``worker.tick`` at an
injected clock: the announcement tick, the day-1 tick (day 1 due for everyone: pairing,
planning, rendering, sending) and a tick one minute later with nothing due. Figures: wall
seconds, CPU seconds (user + system of this process), CPU ms per participant, seconds from
the start of the tick to the first email sent, peak RSS. ``--profile N`` prints the cProfile
of the day-1 tick at N members; ``--languages`` gives the members the five languages in turn
(en, de, fr, es, ja) instead of English alone. It prints figures; it asserts nothing about time.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline import CHALLENGE, fresh_db, moments  # noqa: E402
from mailer import worker  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.flows.challenge.definition import start_challenge  # noqa: E402
from mailer.locale import LANGUAGES  # noqa: E402
from mailer.outbound import shared  # noqa: E402
from mailer.transports import make_transport  # noqa: E402


def cpu() -> float:
    """CPU seconds (user + system) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def print_profile(prof: cProfile.Profile, cumulative: int, tottime: int) -> None:
    """A profile's top functions by cumulative and by own time, on stderr (the report is stdout)."""
    stats = pstats.Stats(prof, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(cumulative)
    stats.sort_stats("tottime").print_stats(tottime)


def sys_cpu() -> float:
    """System CPU seconds alone (file creation, fsync and rename of the Maildir transport)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def timed_tick(db, transport, now, settings, profile: cProfile.Profile | None = None) -> dict:
    """One worker tick at ``now``: wall and CPU seconds, time to the first send, what it did."""
    begin, begin_cpu, begin_sys, first = time.perf_counter(), cpu(), sys_cpu(), []

    def progress(n: int) -> None:
        if not first:
            first.append(time.perf_counter() - begin)

    if profile:
        profile.enable()
    result = worker.tick(db, transport, now, settings, "bench", progress=progress)
    if profile:
        profile.disable()
    return {"wall_s": time.perf_counter() - begin, "cpu_s": cpu() - begin_cpu, "sys_s": sys_cpu() - begin_sys,
            "first_send_s": first[0] if first else None, "enqueued": result.enqueued, "sent": result.sent,
            "dead": result.dead, "notes": result.notes[:3]}


def one_size(count: int, workdir: Path, profile: bool, report_back: bool = False,
             languages: tuple[str, ...] = ()) -> dict:
    """All figures for one community size (run in its own process); ``report_back``: the
    challenge has a ``[report_back]`` meetup inviting everyone (issue 25); ``languages``: members
    read these languages in turn (issue 23)."""
    home = workdir / f"home{count}"
    home.mkdir(parents=True)
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n\n'
                                      "[outbox]\nbatch = 1000000\n", encoding="utf-8")
    settings = load_settings(home, env={})
    started, announce, day1 = moments()
    db = fresh_db(home, "mailer", count, languages)
    if report_back:
        from bench.live import challenge_file  # bench.live imports this module: import late

        start_challenge(db, challenge_file(home), started)
    else:
        start_challenge(db, CHALLENGE, started)
    transport = make_transport(settings)
    prof = cProfile.Profile() if profile else None
    figures = {"members": count, "report_back": report_back, "announce": timed_tick(db, transport, announce, settings),
               "day1": timed_tick(db, transport, day1, settings, prof),
               "idle": timed_tick(db, transport, day1 + timedelta(minutes=1), settings)}
    figures["cpu_ms_per_participant"] = figures["day1"]["cpu_s"] * 1000 / count
    # The announcement tick: every member's announcement (and, with a report-back meetup, every
    # invitation with its calendar): CPU per email enqueued and sent.
    figures["announce_cpu_ms_per_email"] = figures["announce"]["cpu_s"] * 1000 / max(figures["announce"]["enqueued"], 1)
    figures["render"] = dict(shared.STATS)  # emails filled from a shape, rendered per person, shapes
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if prof:
        print_profile(prof, cumulative=30, tottime=25)
    return figures


def print_report(rows: list[dict]) -> None:
    """The figures as an aligned table."""
    print("day-1 tick (pair, plan, render, send to Maildir) and an idle tick; fresh process per size"
          + ("; with a report-back meetup inviting everyone" if rows and rows[0].get("report_back") else ""))
    print(f"{'members':>8} {'day-1 wall':>11} {'day-1 CPU':>10} {'CPU ms/p':>9} {'1st send':>9} "
          f"{'(system)':>9} {'idle tick':>10} {'announce':>9} {'ann. ms/email':>13} {'peak RSS':>9}")
    for r in rows:
        d, i, a = r["day1"], r["idle"], r["announce"]
        first = f"{d['first_send_s']:.2f} s" if d["first_send_s"] is not None else "-"
        print(f"{r['members']:>8,} {d['wall_s']:>9.1f} s {d['cpu_s']:>8.1f} s {r['cpu_ms_per_participant']:>9.3f} "
              f"{first:>9} {d['sys_s']:>7.1f} s {i['wall_s'] * 1000:>7.0f} ms {a['wall_s']:>7.1f} s "
              f"{r.get('announce_cpu_ms_per_email', 0):>13.3f} {r['peak_rss_mb']:>6.0f} MB")
        if r.get("render"):
            print(f"         render: {r['render']}")
        if d["sent"] < r["members"] or i["enqueued"]:
            print(f"         ! day 1 sent {d['sent']} of {r['members']}; idle enqueued {i['enqueued']}; "
                  f"{d['notes']}")


def main(argv: list[str] | None = None) -> None:
    """Run each size in a child process and print the figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,50000,50001", help="member counts, comma separated")
    parser.add_argument("--profile", type=int, help="print the cProfile of the day-1 tick at this size")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--report-back", action="store_true",
                        help="the challenge has a report-back meetup inviting every participant")
    parser.add_argument("--languages", action="store_true", help="members in en, de, fr, es, ja in turn")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child mode: one size, JSON out
    args = parser.parse_args(argv)
    if args.one:
        with tempfile.TemporaryDirectory(prefix="cop-fanout-") as tmp:
            print(json.dumps(one_size(args.one, Path(tmp), args.profile == args.one, args.report_back,
                                      LANGUAGES if args.languages else ())))
        return
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        # The previous size's files (hundreds of MB, deleted at its end) are still being written
        # back and unlinked by the kernel: without this, its fsyncs and journal commits land
        # on the next size's day-1 tick (50,001 after 50,000: twice the system time).
        os.sync()
        cmd = [sys.executable, "-m", "bench.fanout", "--one", str(size)]
        if args.profile == size:
            cmd += ["--profile", str(size)]
        if args.report_back:
            cmd.append("--report-back")
        if args.languages:
            cmd += ["--languages"]
        out = subprocess.run(cmd, check=True, capture_output=False, stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[1]).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps(rows, indent=2) if args.json else "", end="")
    if not args.json:
        print_report(rows)


if __name__ == "__main__":
    main()
