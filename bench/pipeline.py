"""End-to-end send-path benchmark: enqueue, flush, and a challenge tick, against raw smtplib.

    .venv/bin/python -m bench.pipeline [--count 2000] [--runs 3] [--json]

notes/performance.md asks for the service's messages/s end to end divided by raw smtplib over
one reused connection on the same sink, in the same run: absolute numbers depend on the
machine, the ratio does not (much). Everything runs against real SQLite files in a temporary
home and the loopback sink of ``bench.send_path`` (in its own process). This script prints
figures; it asserts nothing about time.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Callable, Iterator

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import email.policy  # noqa: E402
import functools  # noqa: E402
import secrets  # noqa: E402
from email.mime.multipart import MIMEMultipart  # noqa: E402

from sqlite_utils import Database  # noqa: E402

from bench.send_path import Sink, rate, raw_smtplib, sample_message  # noqa: E402
from mailer import outbox, worker  # noqa: E402
from mailer.config import Settings, load_settings  # noqa: E402
from mailer.flows.challenge import flow as challenge  # noqa: E402
from mailer.flows.challenge import timing as ct  # noqa: E402
from mailer.flows.base import PlannedEmail  # noqa: E402
from mailer.flows.challenge.definition import load_definition, start_challenge  # noqa: E402
from mailer.outbound import envelope  # noqa: E402
from mailer.store import open_db, people  # noqa: E402
from mailer.transports import make_transport  # noqa: E402

CHALLENGE = Path(__file__).resolve().parents[1] / "data" / "challenges" / "devops-30.toml"
# UTC-5 .. UTC+9: a day's email is due from the send hour to local midnight, so with send_hour 8
# there is a moment day 1 is due for everyone only when the zones span less than 16 hours.
ZONES = ("America/New_York", "America/Sao_Paulo", "Atlantic/Azores", "Europe/London",
         "Europe/Berlin", "Europe/Athens", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi",
         "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Singapore", "Asia/Tokyo")
OWNER = "bench"


# -- setting up ----------------------------------------------------------------------------

def write_home(home: Path, sink: Sink) -> Settings:
    """A mailer.toml that sends to the sink with no pace and a batch larger than any run."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "mailer.toml").write_text(
        '[mailer]\ndata = "none"\n\n[transport]\nkind = "smtp-imap"\n\n'
        f'[smtp]\nhost = "{sink.host}"\nport = {sink.port}\nsecurity = "none"\n\n'
        "[outbox]\nbatch = 100000\n", encoding="utf-8")
    return load_settings(home, env={})


def fresh_db(home: Path, name: str, count: int, languages: tuple[str, ...] = ()) -> Database:
    """A new migrated SQLite file holding ``count`` members spread over ZONES (and over
    ``languages`` when given: member n reads languages[n % len])."""
    path = home / f"{name}.db"
    for leftover in home.glob(f"{name}.db*"):
        leftover.unlink()
    db = open_db(path)
    with db.atomic():
        if languages:
            people.insert_people(db, [(f"member{n:05d}@example.test", f"Member {n:05d}", ZONES[n % len(ZONES)],
                                       "member", languages[n % len(languages)]) for n in range(count)])
            return db
        for n in range(count):
            people.add_person(db, f"member{n:05d}@example.test", f"Member {n:05d}",
                              ZONES[n % len(ZONES)], ("member",))
    return db


def moments() -> tuple[datetime, datetime, datetime]:
    """(when the challenge is started, the announcement tick, a moment day 1 is due everywhere)."""
    definition = load_definition(CHALLENGE)
    opens = [ct.opens_at(definition.start, 1, definition.send, tz) for tz in ZONES]
    day1 = max(opens) + timedelta(minutes=1)
    midnight = min(ct.opens_at(definition.start, 2, dtime(0), tz) for tz in ZONES)
    if day1 >= midnight:
        raise RuntimeError("ZONES are too far apart: day 1 is never due everywhere at once")
    started = min(opens) - timedelta(days=3)
    return started, started + timedelta(hours=1), day1


def day_plans(home: Path, count: int) -> list[PlannedEmail]:
    """The challenge flow's own day-1 emails for ``count`` members (what enqueue is fed)."""
    started, _, day1 = moments()
    db = fresh_db(home, "plans", count)
    start_challenge(db, CHALLENGE, started)
    plans = [plan for plan in challenge.due(db, day1) if ":day:1:" in plan.key]
    db.close()
    if len(plans) != count:
        raise RuntimeError(f"expected {count} day-1 emails, the flow planned {len(plans)}")
    return plans


# -- timed pieces -------------------------------------------------------------------------

def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Seconds one call takes, and what it returned."""
    begin = time.perf_counter()
    value = fn()
    return time.perf_counter() - begin, value


def do_flush(db: Database, settings: Settings, now: datetime, count: int) -> None:
    """One flush through the configured transport; it must send all ``count``."""
    transport = make_transport(settings)
    try:
        result = outbox.flush(db, transport, now, settings, OWNER)
    finally:
        transport.close()
    if result.sent != count:
        raise RuntimeError(f"flush sent {result.sent} of {count}: {result.errors[:3]}")


def do_enqueue(db: Database, plans: list[PlannedEmail], now: datetime, settings: Settings) -> None:
    """Enqueue every plan; all must be new."""
    new = outbox.enqueue(db, plans, now, settings)
    if new != len(plans):
        raise RuntimeError(f"enqueue stored {new} of {len(plans)}")


class _Nowhere:
    """A transport that accepts everything at once: what is left is the flush's own cost."""

    kind, keeps_sent, calendar, max_message_bytes = "nowhere", False, None, None

    def send(self, mail: object) -> None:
        """Accept the message."""

    def close(self) -> None:
        """Nothing to close."""


def own_cost_us(home: Path, settings: Settings, plans: list[PlannedEmail], run: int) -> float:
    """Microseconds per email of a flush whose transport does nothing (lease, log, settle):
    the share of the send path that is ours, free of the sink's noise."""
    _, _, now = moments()
    db = fresh_db(home, f"own{run}", len(plans))
    do_enqueue(db, plans, now, settings)
    seconds, result = timed(lambda: outbox.flush(db, _Nowhere(), now, settings, OWNER))
    db.close()
    if result.sent != len(plans):
        raise RuntimeError(f"flush sent {result.sent} of {len(plans)}")
    return seconds / len(plans) * 1e6


def stage_rates(home: Path, settings: Settings, sink: Sink, plans: list[PlannedEmail],
                run: int) -> dict[str, float]:
    """msg/s of enqueue alone, flush alone, and enqueue+flush on a second fresh file."""
    _, _, now = moments()
    count = len(plans)
    db = fresh_db(home, f"stages{run}", count)
    enqueue_s, _ = timed(lambda: do_enqueue(db, plans, now, settings))
    placeholders = [b""] * count  # rate() only counts them against the sink
    flush_rate = rate(lambda s, m: do_flush(db, settings, now, count), sink, placeholders)
    db.close()
    db = fresh_db(home, f"pipeline{run}", count)
    whole = rate(lambda s, m: (do_enqueue(db, plans, now, settings),
                               do_flush(db, settings, now, count)), sink, placeholders)
    db.close()
    return {"enqueue": count / enqueue_s, "flush": flush_rate, "pipeline": whole}


class _TimedFlow:
    """Stands in for a flow module in ``worker.FLOWS`` and adds up the time its ``due`` takes
    (``due`` is a generator: the time spent producing each plan is what counts)."""

    def __init__(self, flow: object) -> None:
        self.flow, self.seconds, self.__name__ = flow, 0.0, flow.__name__  # type: ignore[attr-defined]

    def due(self, *args: object) -> Iterator[PlannedEmail]:
        """The flow's ``due``, timed."""
        plans = iter(self.flow.due(*args))  # type: ignore[attr-defined]
        while True:
            begin = time.perf_counter()
            plan = next(plans, None)
            self.seconds += time.perf_counter() - begin
            if plan is None:
                return
            yield plan


@contextmanager
def flows_timed() -> Iterator[list[_TimedFlow]]:
    """Time the flows' planning apart from the enqueue that ``plan_due`` does after it."""
    saved = worker.FLOWS
    wrapped = [_TimedFlow(flow) for flow in saved]
    worker.FLOWS = tuple(wrapped)  # type: ignore[assignment]
    try:
        yield wrapped
    finally:
        worker.FLOWS = saved


def challenge_tick(home: Path, settings: Settings, count: int, run: int) -> dict[str, float]:
    """Seconds of ``worker.plan_due`` when day 1 falls due for all, then when nothing is due."""
    started, announce, day1 = moments()
    db = fresh_db(home, f"tick{run}", count)
    start_challenge(db, CHALLENGE, started)
    announce_s, announced = timed(lambda: worker.plan_due(db, announce, settings))
    with flows_timed() as wrapped:
        due_s, planned = timed(lambda: worker.plan_due(db, day1, settings))
        plan_only = sum(w.seconds for w in wrapped)
        idle_s, idle = timed(lambda: worker.plan_due(db, day1 + timedelta(minutes=1), settings))
    db.close()
    if (announced, planned, idle) != (count, count, 0):
        raise RuntimeError(f"ticks planned {announced}, {planned}, {idle}; expected {count}, {count}, 0")
    return {"announce_s": announce_s, "day1_s": due_s, "day1_flow_due_s": plan_only, "idle_s": idle_s}


# -- what-if: candidate fixes, patched into this process only ------------------------------

class _PlainFold(email.policy.Compat32):
    """compat32 that writes a short one-line ASCII header as is instead of through ``Header``.

    compat32 re-encodes every header with ``email.header.Header`` even when nothing needs
    folding; for our headers (ASCII, under 998 characters) the output is the same text.
    """

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (isinstance(value, str) and value.isascii() and "\r" not in value and "\n" not in value
                and len(name) + 2 + len(value) <= (self.max_line_length or 998)):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


class _BoundedMultipart(MIMEMultipart):
    """MIMEMultipart with its boundary chosen up front, so the generator does not search for one.

    The stdlib generator otherwise compiles a fresh regex per message to check a random
    boundary against the whole text. "=_" can never occur in quoted-printable or base64 output,
    so a boundary containing it cannot collide with our (always encoded) parts.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.set_boundary(f"=_{secrets.token_hex(12)}")


@contextmanager
def patched(fix: str, db: Database | None = None) -> Iterator[None]:
    """Apply one candidate fix for the duration of the block (in this process only)."""
    saved, saved_zone = (envelope.WIRE, envelope.MIMEMultipart), ct.zone
    if fix in ("headers", "both"):
        envelope.WIRE = _PlainFold(linesep="\r\n", max_line_length=998)
    if fix in ("boundary", "both"):
        envelope.MIMEMultipart = _BoundedMultipart  # type: ignore[misc]
    if fix == "zone-cache":
        # ZoneInfo keeps only 8 zones strongly cached; with more zones in turn each call
        # re-reads the tzfile from disk. Caching our own lookups by name removes that.
        ct.zone = functools.lru_cache(maxsize=None)(saved_zone)
    if fix == "sync-normal" and db is not None:
        db.execute("PRAGMA synchronous = NORMAL")  # WAL: fsync at checkpoints, not every commit
    try:
        yield
    finally:
        envelope.WIRE, envelope.MIMEMultipart = saved
        ct.zone = saved_zone


def what_if(home: Path, settings: Settings, sink: Sink, plans: list[PlannedEmail],
            run: int) -> dict[str, float]:
    """msg/s of enqueue and flush with each candidate fix, on fresh files like the real stages."""
    _, _, now = moments()
    count, figures = len(plans), {}
    for fix in ("headers", "boundary", "both"):
        db = fresh_db(home, f"whatif-{fix}-{run}", count)
        with patched(fix):
            seconds, _ = timed(lambda: do_enqueue(db, plans, now, settings))
        figures[f"enqueue+{fix}"] = count / seconds
        db.close()
    placeholders = [b""] * count
    for fix in ("sync-normal", "one-transaction"):
        db = fresh_db(home, f"whatif-{fix}-{run}", count)
        do_enqueue(db, plans, now, settings)
        with patched(fix, db), (db.atomic() if fix == "one-transaction" else _nothing()):
            figures[f"flush+{fix}"] = rate(lambda s, m: do_flush(db, settings, now, count), sink, placeholders)
        db.close()
    with patched("zone-cache"):
        tick = challenge_tick(home, settings, count, run + 1000)
    figures.update({f"{name}+zone-cache": tick[name] for name in ("day1_s", "idle_s")})
    return figures


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# -- a run, and the report ------------------------------------------------------------------

def measure(count: int, runs: int, workdir: Path, fixes: bool = False) -> dict[str, list[float]]:
    """Every figure of every run; which of baseline and pipeline goes first alternates."""
    results: dict[str, list[float]] = {}
    with Sink() as sink:
        settings = write_home(workdir, sink)
        plans = day_plans(workdir, count)
        # Issue 14 defines the baseline as raw smtplib sending the same bytes: the very emails
        # the outbox stores. The sink's cost depends on the message (lines, size), so a
        # same-size plain-text sample (the baseline of earlier figures) is also timed, for comparison.
        same_bytes = _bytes_of(workdir, settings, plans)
        size = round(statistics.mean(len(data) for data in same_bytes))
        sample_messages = [sample_message(n, size) for n in range(count)]

        def baselines() -> dict[str, float]:
            return {"raw_smtplib": rate(raw_smtplib, sink, same_bytes),
                    "raw_smtplib_sample": rate(raw_smtplib, sink, sample_messages)}

        for run in range(runs):
            figures: dict[str, float] = {}
            if run % 2 == 0:
                figures.update(baselines())
            figures.update(stage_rates(workdir, settings, sink, plans, run))
            if run % 2 == 1:
                figures.update(baselines())
            # Each run's own ratios too: the sink's speed drifts between runs, and a flush set
            # against the baseline timed right beside it is steadier than medians taken apart.
            figures["flush_paired"] = figures["flush"] / figures["raw_smtplib"]
            figures["pipeline_paired"] = figures["pipeline"] / figures["raw_smtplib"]
            figures["own_cost_us"] = own_cost_us(workdir, settings, plans, run)
            figures.update(challenge_tick(workdir, settings, count, run))
            if fixes:
                figures.update(what_if(workdir, settings, sink, plans, run))
            for name, value in figures.items():
                results.setdefault(name, []).append(value)
        results["message_bytes"] = [float(size)]
    return results


def _bytes_of(home: Path, settings: Settings, plans: list[PlannedEmail]) -> list[bytes]:
    """The stored bytes of a few enqueued plans, to size the baseline's messages like ours."""
    _, _, now = moments()
    db = fresh_db(home, "sizes", len(plans))
    do_enqueue(db, plans, now, settings)
    data = [row["data"] for row in db.query("SELECT data FROM outbox JOIN outbox_data USING (id)")]
    db.close()
    return data


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its finished children (the sink), in MB."""
    to_mb = 1 / 1024  # Linux reports ru_maxrss in KiB
    return {"self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * to_mb,
            "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * to_mb}


def summarise(results: dict[str, list[float]], count: int, runs: int) -> dict[str, object]:
    """Medians, ratios to raw smtplib, and peak memory, as plain data."""
    med = {name: statistics.median(values) for name, values in results.items()}
    base = med["raw_smtplib"]
    return {
        "count": count, "runs": runs, "message_bytes": int(med["message_bytes"]),
        "raw_smtplib_msg_s": base, "raw_smtplib_sample_msg_s": med["raw_smtplib_sample"],
        "flush_ratio_to_sample": med["flush"] / med["raw_smtplib_sample"],
        "pipeline_ratio_to_sample": med["pipeline"] / med["raw_smtplib_sample"],
        "enqueue_msg_s": med["enqueue"], "enqueue_ratio": med["enqueue"] / base,
        "flush_msg_s": med["flush"], "flush_ratio": med["flush"] / base,
        "flush_own_us": med["own_cost_us"], "flush_ratio_paired": med["flush_paired"],
        "pipeline_ratio_paired": med["pipeline_paired"],
        "pipeline_msg_s": med["pipeline"], "pipeline_ratio": med["pipeline"] / base,
        "tick_announce_s": med["announce_s"],
        "tick_day1_s": med["day1_s"], "tick_day1_flow_due_s": med["day1_flow_due_s"],
        "tick_day1_participants_s": count / med["day1_s"],
        "tick_idle_s": med["idle_s"], "tick_idle_participants_s": count / med["idle_s"],
        "what_if": {name: value for name, value in med.items() if "+" in name},
        "runs_detail": results, "peak_memory": peak_memory_mb(),
    }


def print_report(s: dict) -> None:
    """The figures as a few aligned lines."""
    print(f"send pipeline, {s['count']} members, ~{s['message_bytes']} B messages, median of "
          f"{s['runs']} runs, real SQLite files, loopback aiosmtpd sink in its own process")
    print(f"  1 raw smtplib, the same bytes   {s['raw_smtplib_msg_s']:8.0f} msg/s   1.00 x")
    print(f"    raw smtplib, same-size sample {s['raw_smtplib_sample_msg_s']:8.0f} msg/s  "
          f"(against it: flush {s['flush_ratio_to_sample']:.2f} x, enqueue + flush "
          f"{s['pipeline_ratio_to_sample']:.2f} x)")
    for label, key in (("2 enqueue (render+token+bytes)", "enqueue"), ("3 flush via SmtpImapTransport", "flush"),
                       ("4 enqueue + flush", "pipeline")):
        print(f"  {label:<32}{s[key + '_msg_s']:8.0f} msg/s  {s[key + '_ratio']:5.2f} x raw smtplib")
    print(f"    per run, against the baseline beside it: flush {s['flush_ratio_paired']:.2f} x, "
          f"enqueue + flush {s['pipeline_ratio_paired']:.2f} x (median of the runs' own ratios)")
    print(f"    the flush's own cost          {s['flush_own_us']:8.0f} us an email (a transport that does "
          f"nothing; raw smtplib takes {1e6 / s['raw_smtplib_msg_s']:.0f} us)")
    print(f"  5 plan_due, announcements       {s['tick_announce_s']:8.2f} s")
    print(f"    plan_due, day 1 due for all   {s['tick_day1_s']:8.2f} s  ({s['tick_day1_participants_s']:.0f} "
          f"participants/s; flow.due {s['tick_day1_flow_due_s']:.2f} s of it, the rest enqueue)")
    print(f"    plan_due, nothing due         {s['tick_idle_s']:8.3f} s  ({s['tick_idle_participants_s']:.0f} "
          "participants/s)")
    for name, value in s["what_if"].items():
        stage = name.partition("+")[0]
        if stage.endswith("_s"):
            print(f"  what if tick {name:<19}{value:8.3f} s  ({s['tick_' + stage] / value:4.2f} x as fast as is)")
            continue
        print(f"  what if {name:<24}{value:8.0f} msg/s  {value / s['raw_smtplib_msg_s']:5.2f} x raw smtplib"
              f"  ({value / s[stage + '_msg_s']:4.2f} x as is)")
    mem = s["peak_memory"]
    print(f"  6 peak RSS: this process {mem['self_mb']:.0f} MB, sink process {mem['children_mb']:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="members, and messages per run")
    parser.add_argument("--runs", type=int, default=3, help="runs (medians are shown)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--what-if", action="store_true",
                        help="also time candidate fixes, patched into this process only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cop-bench-") as tmp:
        summary = summarise(measure(args.count, args.runs, Path(tmp), args.what_if),
                            args.count, args.runs)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_report(summary)


if __name__ == "__main__":
    main()
