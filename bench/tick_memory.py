"""Peak memory of a real ``tick`` process: the announcement tick and the day-1 tick, each run as
``run.py --home H tick --now T`` in its own process, for a whole community.

    .venv/bin/python -m bench.tick_memory [--sizes 5000,50000] [--report-back] [--json]

The home is made as ``bench/fanout.py`` makes it (a real SQLite file, the Maildir transport,
members over 14 time zones, the sample challenge started for all of them; ``--report-back``
adds the meetup inviting every participant). The set-up runs in this process; each tick runs
in a child, and its peak resident memory (``ru_maxrss`` from ``wait4`` for that child alone),
CPU and wall time are printed. This is the figure a person running ``tick`` from cron sees;
``bench/fanout.py``'s peak also holds the set-up of 50,000 members in the same process. It
prints figures; it asserts nothing about time or memory.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline import CHALLENGE, fresh_db, moments  # noqa: E402
from mailer.flows.challenge.definition import start_challenge  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def make_home(home: Path, count: int, report_back: bool) -> None:
    """A fresh home with ``count`` members and the sample challenge started (as bench/fanout)."""
    home.mkdir(parents=True)
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n\n'
                                      "[outbox]\nbatch = 1000000\n", encoding="utf-8")
    started = moments()[0]
    db = fresh_db(home, "mailer", count)
    if report_back:
        from bench.live import challenge_file  # bench.live imports bench.fanout: import late

        start_challenge(db, challenge_file(home), started)
    else:
        start_challenge(db, CHALLENGE, started)
    db.close()


def run_tick(home: Path, now: datetime) -> dict:
    """One ``run.py tick`` child process at ``now``: its peak RSS, CPU, wall time and summary."""
    begin = time.perf_counter()
    child = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--home", str(home), "tick",
                              "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ"), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    out = child.stdout.read() if child.stdout else b""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"tick at {now} exited {child.returncode}")
    summary = json.loads(out.decode().strip().splitlines()[-1])
    return {"wall_s": round(time.perf_counter() - begin, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "enqueued": summary.get("enqueued"), "sent": summary.get("sent")}


def one_size(count: int, workdir: Path, report_back: bool) -> dict:
    """The announcement tick and the day-1 tick at ``count`` members, each its own process."""
    home = workdir / f"home{count}"
    make_home(home, count, report_back)
    _, announce, day1 = moments()
    return {"members": count, "report_back": report_back,
            "announce": run_tick(home, announce), "day1": run_tick(home, day1)}


def main(argv: list[str] | None = None) -> None:
    """Run every size and print the figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000", help="member counts, comma separated")
    parser.add_argument("--report-back", action="store_true",
                        help="the challenge has a report-back meetup inviting every participant")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="cop-tickmem-") as tmp:
            rows.append(one_size(size, Path(tmp), args.report_back))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("tick processes (run.py tick), peak RSS of each" + ("; with a report-back meetup" if args.report_back else ""))
    for r in rows:
        for name in ("announce", "day1"):
            t = r[name]
            print(f"{r['members']:>8,} {name:>8}: {t['enqueued']} enqueued, {t['sent']} sent, "
                  f"{t['wall_s']:.1f} s wall, {t['cpu_s']:.1f} s CPU, peak {t['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
