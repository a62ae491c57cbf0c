"""Inbound benchmark: fetch, parse, classify, route, store and file away replies, against a bare
``email.message_from_bytes`` over the same files, in the same run.

    .venv/bin/python -m bench.inbound [--count 10000] [--runs 3] [--profile] [--json] [--workdir DIR]
    .venv/bin/python -m bench.inbound --simulate 5000 [--days 1] [--seed 1] [--json]

Set-up (not timed): a home with ``count`` members over real time zones (habits from
``mailer.simulation.community``: Outlook, Gmail, Apple Mail and mobile, five languages), the
sample challenge started and its day-1 emails enqueued (tokens issued, bytes rendered), then one
answer per day email written the way the member's client writes it (``simulation.writing``:
quotes, sign-offs, HTML alternative): mostly journal entries (some ``#share``), a few pause and
stop requests, out-of-office notices and delivery reports. Those files are kept in a snapshot
folder; each run starts from a copy of the database and of the inbox.

Timed, per run:
- bare: read each file and ``email.message_from_bytes`` it (compat32, what the stdlib does by
  default), nothing else;
- inbound: the inbox half of ``worker.tick``: ``inbox.receive`` (fetch through the Maildir
  transport, store raw, parse, classify, route, the flow's effect, answers enqueued, ``done``
  files it away) then ``inbox.process`` (what a failed read left; nothing here).

The figure is inbound messages/s divided by bare messages/s (wall clock), and the same ratio
of this process's CPU time (user + system), which suffers less when other work shares the
machine. This script prints figures; it asserts nothing about time. ``--profile`` adds a
cProfile of one inbound pass.

``--simulate N`` measures the simulation's mix instead (calendar answers from Outlook, Google
and Apple, volunteers, RSVPs in words, approvals, journal entries, auto-replies, bounces): it
runs ``simulate`` over N members in a fresh home with ``inbox.receive`` wrapped, and prints the
worker thread's CPU inside it per received message (the outbox thread's sending is not in it),
the SQLite statements it ran per message, the simulation's counts, and a digest of every kept
message's outcome (state, kind, rule, reason, outcome, in order): two trees giving the same
digest for the same seed handled every message alike.
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import email
import hashlib
import io
import json
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline import CHALLENGE, ZONES, moments  # noqa: E402
from mailer import inbox, worker  # noqa: E402
from mailer.config import Settings, load_settings  # noqa: E402
from mailer.flows.challenge.definition import start_challenge  # noqa: E402
from mailer.simulation import writing  # noqa: E402
from mailer.simulation.community import Member, make_community  # noqa: E402
from mailer.store import open_db, people  # noqa: E402
from mailer.transports.base import Fetched  # noqa: E402
from mailer.transports.maildir import MaildirTransport, ensure_maildir  # noqa: E402

SEED = 7
# What fraction of the answers are machine mail or requests; the rest are journal entries.
MIX = (("out_of_office", 0.03), ("bounce", 0.005), ("pause", 0.02), ("stop", 0.01))
SHARE_RATE = 0.1


# -- setting up (not timed) -------------------------------------------------------------------

def write_home(home: Path, address: str = "cop@sim.example.com", batch: int = 100_000) -> Settings:
    """A home on the Maildir transport whose outbox takes a whole day at once."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "mailer.toml").write_text(
        f'[mailer]\ndata = "none"\naddress = "{address}"\n\n[transport]\nkind = "maildir"\n\n'
        f"[outbox]\nbatch = {batch}\n", encoding="utf-8")
    return load_settings(home, env={})


def members(count: int) -> list[Member]:
    """The simulation's members, moved into zones where day 1 is due everywhere at one moment."""
    community = make_community(count, 30, SEED)
    return [dataclasses.replace(m, timezone=ZONES[n % len(ZONES)], bounces=False)
            for n, m in enumerate(community)]


def answer(rng: random.Random, member: Member, original: bytes, when: datetime) -> bytes:
    """What this member sends back to one day email."""
    roll, edge = rng.random(), 0.0
    for kind, share in MIX:
        edge += share
        if roll < edge:
            break
    else:
        kind = "entry"
    if kind == "out_of_office":
        return writing.out_of_office(original, member, when)
    if kind == "bounce":
        return writing.bounce(original, member, when)
    text = {"pause": writing.PAUSE, "stop": writing.STOP}.get(kind, {}).get(member.language)
    text = text or writing.entry_text(rng, member, rng.random() < SHARE_RATE)
    return writing.reply(original, member, text, when)


def build_snapshot(snap: Path, count: int) -> dict:
    """Database with members, a started challenge and its day-1 emails; the answers as files."""
    settings = write_home(snap / "home")
    db = open_db(settings.db_path)
    crowd = members(count)
    with db.atomic():
        for m in crowd:
            people.add_person(db, m.email, m.name, m.timezone, ("member",))
    started, announce, day1 = moments()
    start_challenge(db, CHALLENGE, started)
    worker.plan_due(db, announce, settings)
    worker.plan_due(db, day1, settings)
    by_email = {m.email: m for m in crowd}
    rng = random.Random(SEED)
    replies = ensure_maildir(snap / "replies") / "new"
    rows = db.query("SELECT to_addr, data FROM outbox JOIN outbox_data USING (id) WHERE key LIKE 'challenge:%:day:1:%' ORDER BY id")
    written = 0
    for n, row in enumerate(rows):
        when = day1 + timedelta(minutes=20 + n * 300 / count)
        raw = answer(rng, by_email[row["to_addr"]], row["data"], when)
        (replies / f"{1_800_000_000 + n}.M{n:06d}P1Q{n}.bench").write_bytes(raw)
        written += 1
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    meta = {"count": count, "replies": written, "now": (day1 + timedelta(hours=6)).isoformat()}
    (snap / "snapshot.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def snapshot(workdir: Path, count: int) -> tuple[Path, dict]:
    """The snapshot folder for ``count`` members, built once and reused with ``--workdir``."""
    snap = workdir / f"snapshot-{count}"
    meta_file = snap / "snapshot.json"
    if meta_file.exists():
        return snap, json.loads(meta_file.read_text(encoding="utf-8"))
    shutil.rmtree(snap, ignore_errors=True)
    return snap, build_snapshot(snap, count)


def fresh_run(snap: Path, run_dir: Path) -> Settings:
    """A copy of the snapshot's home with every answer waiting in the Maildir inbox."""
    shutil.rmtree(run_dir, ignore_errors=True)
    settings = write_home(run_dir)
    shutil.copyfile(snap / "home" / settings.db_path.name, settings.db_path)
    inbox_dir = ensure_maildir(settings.mail_dir / "inbox")
    shutil.copytree(snap / "replies" / "new", inbox_dir / "new", dirs_exist_ok=True)
    return settings


# -- timed pieces -----------------------------------------------------------------------------

def bare(folder: Path) -> tuple[float, float]:
    """Seconds (wall, and this process's CPU) to read and ``email.message_from_bytes`` every
    file in ``folder``."""
    paths = sorted(folder.iterdir())
    begin, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        email.message_from_bytes(path.read_bytes())
    return time.perf_counter() - begin, time.process_time() - cpu


class TimedDone(MaildirTransport):
    """The Maildir transport, adding up the time ``done`` (filing away) takes."""

    done_s = 0.0

    def done(self, fetched: Fetched) -> None:
        """File the message away, timed."""
        begin = time.perf_counter()
        super().done(fetched)
        self.done_s += time.perf_counter() - begin


def inbound(settings: Settings, now: datetime, profile: cProfile.Profile | None = None) -> dict:
    """One inbound pass as ``worker.tick`` runs it; seconds of each stage and what it did."""
    db = open_db(settings.db_path)
    transport = TimedDone(settings.mail_dir)
    box = inbox.InboxResult()
    if profile:
        profile.enable()
    begin, cpu = time.perf_counter(), time.process_time()
    inbox.receive(db, transport, now, settings, box)
    inbox.process(db, now, settings, box)
    end, cpu = time.perf_counter(), time.process_time() - cpu
    if profile:
        profile.disable()
    db.close()
    return {"done_s": transport.done_s, "total_s": end - begin, "total_cpu_s": cpu,
            "fetched": box.fetched, "done": box.done, "ignored": box.ignored,
            "quarantined": box.quarantined, "answers": box.answers}


def one_run(snap: Path, meta: dict, run_dir: Path, bare_first: bool) -> dict:
    """Bare parsing and the inbound path over the same files; which goes first alternates."""
    settings = fresh_run(snap, run_dir)
    now = datetime.fromisoformat(meta["now"])
    figures: dict = {}
    if bare_first:
        figures["bare_s"], figures["bare_cpu_s"] = bare(settings.mail_dir / "inbox" / "new")
    figures.update(inbound(settings, now))
    if not bare_first:
        figures["bare_s"], figures["bare_cpu_s"] = bare(snap / "replies" / "new")
    if figures["fetched"] != meta["replies"] or figures["quarantined"]:
        raise RuntimeError(f"inbound stored {figures['fetched']} of {meta['replies']}, "
                           f"quarantined {figures['quarantined']}")
    return figures


def profiled(snap: Path, meta: dict, run_dir: Path, top: int = 30) -> str:
    """A cProfile of one inbound pass: the functions with the most time of their own."""
    settings = fresh_run(snap, run_dir)
    profile = cProfile.Profile()
    inbound(settings, datetime.fromisoformat(meta["now"]), profile)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- the simulation's mix ---------------------------------------------------------------------

def simulated_mix(members: int, days: int, seed: int, home: Path) -> dict:
    """Run ``simulate`` with ``inbox.receive`` timed (this thread's CPU) and its statements counted."""
    from mailer.simulation import simulate

    figures = {"receive_cpu_s": 0.0, "statements": 0}
    real = inbox.receive

    def counted(_sql: str) -> None:
        figures["statements"] += 1

    def timed(db, transport, now, settings, result):
        db.conn.set_trace_callback(counted)
        begin = time.thread_time()
        try:
            real(db, transport, now, settings, result)
        finally:
            figures["receive_cpu_s"] += time.thread_time() - begin
            db.conn.set_trace_callback(None)

    inbox.receive = timed
    try:
        report = simulate(home, members, days, seed=seed)
    finally:
        inbox.receive = real
    return {**figures, "totals": report.totals(), "digest": outcome_digest(home / "mailer.db")}


def outcome_digest(db_path: Path) -> str:
    """A hash of every kept message's outcome, in the order they were kept."""
    db = open_db(db_path)
    digest = hashlib.sha256()
    for row in db.query("SELECT state, kind, rule, reason, outcome FROM inbox ORDER BY id"):
        digest.update(repr(tuple(row.values())).encode())
    db.close()
    return digest.hexdigest()[:16]


def print_mix(s: dict, members: int, days: int) -> None:
    """The simulation's inbound figures as a few lines."""
    received = s["totals"]["received"]
    print(f"simulate --members {members} --days {days}: {received} messages received, "
          f"{s['totals']['sent']} sent")
    print(f"  inbox.receive CPU (worker thread) {s['receive_cpu_s']:.2f} s: "
          f"{s['receive_cpu_s'] / received * 1e3:.3f} ms a message")
    print(f"  SQLite statements in it: {s['statements']} ({s['statements'] / received:.1f} a message)")
    print(f"  outcome digest {s['digest']}; projects {json.dumps(s['totals']['projects'], sort_keys=True)}")


# -- report -----------------------------------------------------------------------------------

def summarise(runs: list[dict], meta: dict) -> dict:
    """Medians of every figure, messages/s and the ratio."""
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    n = meta["replies"]
    return {"count": n, "runs": len(runs), "bare_msg_s": n / med["bare_s"],
            "inbound_msg_s": n / med["total_s"], "ratio": med["bare_s"] / med["total_s"],
            "cpu_ratio": med["bare_cpu_s"] / med["total_cpu_s"], "inbound_cpu_ms": med["total_cpu_s"] / n * 1e3,
            "bare_cpu_ms": med["bare_cpu_s"] / n * 1e3,
            "done_s": med["done_s"], "without_done_ratio": med["bare_s"] / (med["total_s"] - med["done_s"]),
            "outcomes": {k: runs[-1][k] for k in ("fetched", "done", "ignored", "quarantined", "answers")},
            "runs_detail": runs}


def print_report(s: dict) -> None:
    """The figures as a few aligned lines."""
    print(f"inbound, {s['count']} answers to day-1 emails, median of {s['runs']} runs, "
          "real SQLite file, real Maildir")
    print(f"  bare message_from_bytes (read + parse)  {s['bare_msg_s']:8.0f} msg/s   1.00 x")
    print(f"  inbound (worker.tick's inbox half)      {s['inbound_msg_s']:8.0f} msg/s  {s['ratio']:5.2f} x bare")
    print(f"  CPU (user + system) a message: bare {s['bare_cpu_ms']:.3f} ms, inbound {s['inbound_cpu_ms']:.3f} ms: "
          f"{s['cpu_ratio']:.2f} x bare")
    print(f"    of it transport.done (filing away) {s['done_s']:.2f} s; "
          f"without it {s['without_done_ratio']:.2f} x bare")
    o = s["outcomes"]
    print(f"    outcomes: {o['done']} acted on, {o['ignored']} ignored, {o['quarantined']} quarantined, "
          f"{o['answers']} answers enqueued")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000, help="members, and answers per run")
    parser.add_argument("--runs", type=int, default=3, help="runs (medians are shown)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one inbound pass")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--workdir", type=Path, help="keep the snapshot here and reuse it")
    parser.add_argument("--simulate", type=int, metavar="MEMBERS", help="measure the simulation's mix instead")
    parser.add_argument("--days", type=int, default=1, help="with --simulate: days simulated")
    parser.add_argument("--seed", type=int, default=1, help="with --simulate: the simulation's seed")
    args = parser.parse_args(argv)
    if args.simulate:
        with tempfile.TemporaryDirectory(prefix="cop-bench-mix-") as tmp:
            mix = simulated_mix(args.simulate, args.days, args.seed, Path(tmp) / "home")
        if args.json:
            print(json.dumps(mix, indent=2))
        else:
            print_mix(mix, args.simulate, args.days)
        return
    with tempfile.TemporaryDirectory(prefix="cop-bench-inbound-") as tmp:
        workdir = args.workdir or Path(tmp)
        snap, meta = snapshot(workdir, args.count)
        runs = [one_run(snap, meta, Path(tmp) / "run", run % 2 == 0) for run in range(args.runs)]
        summary = summarise(runs, meta)
        profile = profiled(snap, meta, Path(tmp) / "run") if args.profile else None
    if args.json:
        print(json.dumps({**summary, "profile": profile}, indent=2))
        return
    print_report(summary)
    if profile:
        print(profile)


if __name__ == "__main__":
    main()
