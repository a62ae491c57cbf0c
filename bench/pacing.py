"""Pacing benchmark: a 12,000-recipient day under the Exchange Online preset, on an injected clock.

    .venv/bin/python -m bench.pacing [--count 12000] [--json]

A fresh home (real SQLite, real Maildir transport, pace = "exchange-online": 30 a minute,
10,000 a day) gets ``--count`` emails queued at T0; the real ``worker.tick`` then runs at the
moments ``worker.next_wake`` chooses, the clock advancing to each. Printed: the most emails
sent in any 60 seconds and in any 24 hours, when the last one went against the earliest the
limits allow, and how far ``status``'s forecast (``drained_by``) was from the truth when asked
at T0 and after every 1,000 sends. It prints figures; it asserts nothing about time.
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

from mailer import outbox, pacing, worker  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.flows.base import PlannedEmail  # noqa: E402
from mailer.store import open_db, people  # noqa: E402
from mailer.store import outbox as store  # noqa: E402
from mailer.transports import make_transport  # noqa: E402

T0 = datetime(2027, 1, 4, 6, 0, tzinfo=timezone.utc)


def most_in_any(times: list[datetime], length: timedelta) -> int:
    """The largest number of sends inside any window of ``length`` (a send at t counts until t + length)."""
    best, first = 0, 0
    for last, moment in enumerate(times):
        while times[first] <= moment - length:
            first += 1
        best = max(best, last - first + 1)
    return best


def run(count: int, workdir: Path) -> dict:
    """Queue ``count`` emails at T0 and let the paced worker send them all."""
    (workdir / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n\n'
                                         '[transport]\npace = "exchange-online"\n', encoding="utf-8")
    settings = load_settings(workdir, env={})
    db = open_db(settings.db_path)
    with db.atomic():
        for n in range(count):
            people.add_person(db, f"member{n:05d}@example.test", f"Member {n}", "UTC")
    outbox.enqueue(db, [PlannedEmail(key=f"bench:{n}", to=f"member{n:05d}@example.test", subject=f"Note {n}",
                                     template="system/unrouted", context={"their_subject": str(n)})
                        for n in range(count)], T0, settings)
    transport, now, forecasts, ticks, mark = make_transport(settings), T0, [], 0, 0
    begin = time.perf_counter()
    while store.due_count(db, now) or store.counts(db).get("sending"):
        sent_before = store.sent_after(db, T0 - timedelta(seconds=1))
        if sent_before >= mark:  # ask status at T0 and each time another 1,000 have gone
            forecasts.append((sent_before, now, outbox.drain_eta(db, now, settings)))
            mark = sent_before - sent_before % 1000 + 1000
        worker.tick(db, transport, now, settings, "bench", clock=lambda: now)
        ticks += 1
        now = worker.next_wake(db, now, settings)
    times = store.send_times_after(db, T0 - timedelta(seconds=1))
    finish = times[-1]
    ideal = pacing.drain_at([], count, T0, pacing.windows(*settings.rate_limits))
    return {"count": count, "sent": len(times), "ticks": ticks, "wall_s": time.perf_counter() - begin,
            "most_in_a_minute": most_in_any(times, timedelta(minutes=1)),
            "most_in_a_day": most_in_any(times, timedelta(days=1)),
            "finished": finish.isoformat(), "earliest_possible": ideal.isoformat(),
            "late_by_s": (finish - ideal).total_seconds(),
            "forecast_errors_s": [{"after_sent": n, "asked_at": at.isoformat(),
                                   "error_s": (eta - finish).total_seconds() if eta else None}
                                  for n, at, eta in forecasts]}


def main(argv: list[str] | None = None) -> None:
    """Run it and print the figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=12000, help="emails queued at T0")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cop-pacing-") as tmp:
        r = run(args.count, Path(tmp))
    if args.json:
        print(json.dumps(r, indent=2))
        return
    worst = max(abs(f["error_s"]) for f in r["forecast_errors_s"])
    print(f"pacing, exchange-online (30/min, 10,000/24 h), {r['count']:,} queued at {T0:%H:%M} UTC, "
          f"injected clock, Maildir transport")
    print(f"  sent {r['sent']:,} in {r['ticks']:,} ticks ({r['wall_s']:.0f} s of real time)")
    print(f"  most in any 60 s: {r['most_in_a_minute']}   most in any 24 h: {r['most_in_a_day']:,}")
    print(f"  last sent {r['finished'][:19]}Z; earliest the limits allow {r['earliest_possible'][:19]}Z "
          f"(late by {r['late_by_s']:.0f} s)")
    print(f"  status forecast error, asked at T0 and after every 1,000 sends: worst {worst:.0f} s "
          f"({len(r['forecast_errors_s'])} forecasts)")


if __name__ == "__main__":
    main()
