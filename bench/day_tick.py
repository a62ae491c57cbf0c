"""The whole day-1 tick over SMTP against a plain smtplib loop sending the same bytes (issue 25).

    .venv/bin/python -m bench.day_tick [--count 5000] [--runs 2] [--profile] [--json]

One process does what the worker does when day 1 of the sample challenge falls due for every
member: ``worker.tick`` plans, pairs, renders, builds the MIME bytes, stores them and sends them
through ``SmtpImapTransport`` to the loopback sink of ``bench.send_path`` (its own process).
Beside it, in the same run, raw ``smtplib.sendmail`` over one reused connection sends the very
bytes the outbox stored for those emails to the same sink. The ratio is the loop's time over the
tick's (goal: 0.8 or better); the loop runs right after the tick (it needs the tick's bytes). Also printed: the tick's
CPU and where it went by stage (``--profile``: the cProfile of the first run's tick).
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout import cpu, print_profile  # noqa: E402
from bench.pipeline import CHALLENGE, fresh_db, moments, write_home  # noqa: E402
from bench.send_path import Sink, raw_smtplib  # noqa: E402
from mailer import worker  # noqa: E402
from mailer.flows.challenge.definition import start_challenge  # noqa: E402
from mailer.transports import make_transport  # noqa: E402


def one_run(workdir: Path, sink: Sink, count: int, run: int, profile: bool) -> dict[str, float]:
    """The day-1 tick, then the smtplib loop over the bytes it stored."""
    settings = write_home(workdir, sink)
    started, announce, day1 = moments()
    db = fresh_db(workdir, f"tick{run}", count)
    start_challenge(db, CHALLENGE, started)
    transport = make_transport(settings)
    worker.tick(db, transport, announce, settings, "bench")
    figures: dict[str, float] = {}

    def tick() -> None:
        prof = cProfile.Profile() if profile else None
        begin, begin_cpu = time.perf_counter(), cpu()
        if prof:
            prof.enable()
        result = worker.tick(db, transport, day1, settings, "bench")
        if prof:
            prof.disable()
        figures.update(tick_s=time.perf_counter() - begin, tick_cpu_s=cpu() - begin_cpu, sent=result.sent,
                       **{f"{stage}_s": value for stage, value in result.seconds.items()})
        if prof:
            print_profile(prof, cumulative=40, tottime=25)

    def loop() -> None:
        data = [r[0] for r in db.execute("SELECT d.data FROM outbox o JOIN outbox_data d USING (id) "
                                         "WHERE o.key GLOB 'challenge:*:day:1:*' ORDER BY o.id")]
        begin = time.perf_counter()
        raw_smtplib(sink, data)
        figures.update(smtplib_s=time.perf_counter() - begin, loop_emails=len(data))

    tick()
    loop()
    transport.close()
    db.close()
    figures["ratio"] = figures["smtplib_s"] / figures["tick_s"]
    return figures


def main(argv: list[str] | None = None) -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="members (all on day 1)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="print the cProfile of the first run's tick")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="cop-daytick-") as tmp, Sink() as sink:
        for run in range(args.runs):
            rows.append(one_run(Path(tmp) / f"run{run}", sink, args.count, run, args.profile and run == 0))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"day-1 tick over SMTP, {args.count:,} members, load average {os.getloadavg()[0]:.1f}")
    for n, r in enumerate(rows):
        print(f"run {n}: tick {r['tick_s']:.1f} s (CPU {r['tick_cpu_s']:.1f} s, {r['tick_cpu_s'] * 1000 / args.count:.2f} "
              f"ms a participant; sent {r['sent']:,}), smtplib loop {r['smtplib_s']:.1f} s over "
              f"{r['loop_emails']:,} emails: ratio {r['ratio']:.2f}")
        print(f"       stages: " + ", ".join(f"{k[:-2]} {v:.2f} s" for k, v in r.items()
                                             if k[:-2] in ("inbound", "planning", "sending", "after_planning")))
    print(f"median ratio {statistics.median(r['ratio'] for r in rows):.2f} (goal 0.8)")


if __name__ == "__main__":
    main()
