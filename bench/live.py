"""Every flow live: the idle tick and waves of replies, for a whole community (issue 25).

    .venv/bin/python -m bench.live [--sizes 5000,20000,50000] [--profile idle|calendar|signup|approval|idle_after] [--json]

Each size runs in a fresh process on a fresh home: real SQLite file, the Maildir transport for
the inbox (replies are files in ``mail/inbox/new`` as Outlook, Gmail and Apple Mail write them)
and a transport that accepts and discards what is sent (the setup's 150,000 emails would
otherwise be 150,000 fsyncs; ``bench.fanout`` measures sending). What is live, for N members:
the sample challenge for all of them on day 1 with a ``[report_back]`` meetup (N invitees), a
volunteer call to all N with two roles, and a charter awaiting 1,000 approvers.

Timed with ``worker.tick`` at an injected clock: idle ticks (nothing due, nothing received), then
one inbound pass per wave: 5,000 calendar answers to the report-back meetup, 5,000 sign-ups to
the call, 1,000 approvals. Figures: CPU (user + system) of each, CPU per event, peak RSS, and
each size's per-event CPU as a ratio to the smallest size's. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout import cpu, print_profile  # noqa: E402
from bench.inbound import write_home  # noqa: E402
from bench.pipeline import CHALLENGE, fresh_db, moments  # noqa: E402
from mailer import inbox, worker  # noqa: E402
from mailer.config import Settings  # noqa: E402
from mailer.flows.call.definition import open_call  # noqa: E402
from mailer.flows.challenge.definition import start_challenge  # noqa: E402
from mailer.flows.charter import lifecycle  # noqa: E402
from mailer.simulation import calendar_client  # noqa: E402
from mailer.simulation.replies import CLIENTS, compose_reply  # noqa: E402
from mailer.transports.maildir import MaildirTransport, ensure_maildir  # noqa: E402

WAVES = (("calendar", 5000), ("signup", 5000), ("approval", 1000))
APPROVERS = 1000
PARTSTATS = ("ACCEPTED", "DECLINED", "TENTATIVE")


class Discarding(MaildirTransport):
    """The Maildir transport whose sending accepts and drops each email (the inbox is real)."""

    kind = "maildir"
    send_batch = None  # every email through ``send`` below, not written

    def send(self, mail: object) -> None:
        """Accept the email."""


def challenge_file(folder: Path) -> Path:
    """The sample challenge with a report-back meetup the day after it ends."""
    path = folder / "challenge.toml"
    path.write_text(CHALLENGE.read_text(encoding="utf-8") + "\n[report_back]\ndays_after_end = 1\nhour = 17\n",
                    encoding="utf-8")
    return path


def charter_file(folder: Path, count: int) -> Path:
    """A charter awaiting the approval of the first 1,000 members (all of them must approve)."""
    approvers = ", ".join(f'"member{n:05d}@example.test"' for n in range(min(APPROVERS, count)))
    path = folder / "charter.toml"
    path.write_text(
        'title = "Observability playbook"\nkind = "practice-development"\ngoal = "A shared playbook"\n'
        'scope = "Dashboards and alerting"\nproposer = "member00000@example.test"\nopen_places = 1\n'
        'hours_per_week = 2\nduration_weeks = 8\nreport_every_weeks = 2\n'
        'learning_sponsors = ["member00000@example.test"]\nfunding_sponsors = ["member00002@example.test"]\n'
        f'approvers = [{approvers}]\nrule = "all"\ndeadline = 2027-03-01\n', encoding="utf-8")
    return path


def build(home: Path, count: int) -> tuple[object, Settings, Discarding, datetime]:
    """Members, every flow started and its first emails sent; returns (db, settings, transport, now)."""
    settings = write_home(home, "cop@example.test", 1_000_000)
    db = fresh_db(home, "mailer", count)
    started, announce, day1 = moments()
    start_challenge(db, challenge_file(home), started)
    open_call(db, {"title": "Writers wanted", "to": "all", "closes": "2027-03-01", "sender": "member00001@example.test",
                   "roles": [{"name": "writer", "places": count // 2}, {"name": "reviewer", "places": count // 4}]},
              started)
    lifecycle.submit(db, charter_file(home, count), started)
    transport = Discarding(settings.mail_dir)
    for moment in (announce, day1):
        worker.tick(db, transport, moment, settings, "bench")
    return db, settings, transport, day1 + timedelta(minutes=5)


def sent_to(db, key_glob: str, limit: int) -> list[tuple[str, bytes]]:
    """(address, bytes) of the first ``limit`` emails whose key matches (for the replies)."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT o.to_addr, d.data FROM outbox o JOIN outbox_data d USING (id) WHERE o.key GLOB ? ORDER BY o.id "
        "LIMIT ?", [key_glob, limit])]


def write_wave(settings: Settings, kind: str, db, count: int, now: datetime) -> int:
    """Write ``count`` replies of one kind into the inbox, as their clients send them."""
    folder = ensure_maildir(settings.mail_dir / "inbox") / "new"
    glob = {"calendar": "meetup:*:invite:*", "signup": "call:*:invite:*", "approval": "charter:*:request:*"}[kind]
    originals = sent_to(db, glob, count)
    for n, (address, original) in enumerate(originals):
        client, name = CLIENTS[n % len(CLIENTS)], f"Member {address[6:11]}"
        if kind == "calendar":
            raw = calendar_client.reply(calendar_client.read_invitation(original), client, address, name,
                                        PARTSTATS[n % 3], "", now)
        else:
            text = "I'm in as a writer!" if kind == "signup" else "Approve. Good scope."
            raw = compose_reply(original, address, name, text, client, now)
        (folder / f"{1_800_000_000 + n}.M{n:06d}P1Q{kind}.bench").write_bytes(raw)
    return len(originals)


def timed(fn, profile: cProfile.Profile | None = None) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result) of one call, profiled when asked."""
    begin, begin_cpu = time.perf_counter(), cpu()
    if profile:
        profile.enable()
    result = fn()
    if profile:
        profile.disable()
    return time.perf_counter() - begin, cpu() - begin_cpu, result


def idle(db, transport, settings: Settings, now: datetime, profile: cProfile.Profile | None) -> dict:
    """Three ticks a minute apart with nothing due; the last two are the idle figure."""
    worker.tick(db, transport, now, settings, "bench")
    runs = [timed(lambda m=now + timedelta(minutes=k): worker.tick(db, transport, m, settings, "bench"),
                  profile if k == 2 else None) for k in (1, 2)]
    return {"wall_ms": min(r[0] for r in runs) * 1000, "cpu_ms": min(r[1] for r in runs) * 1000,
            "enqueued": sum(r[2].enqueued for r in runs)}


def wave(db, settings: Settings, kind: str, count: int, now: datetime, profile: cProfile.Profile | None) -> dict:
    """One inbound pass over ``count`` replies of one kind (receive, parse, route, the flow, answers)."""
    written = write_wave(settings, kind, db, count, now)
    transport = MaildirTransport(settings.mail_dir)
    box = inbox.InboxResult()
    wall, used, _ = timed(lambda: (inbox.receive(db, transport, now, settings, box),
                                   inbox.process(db, now, settings, box)), profile)
    return {"events": written, "done": box.done, "ignored": box.ignored, "wall_s": wall, "cpu_s": used,
            "cpu_ms_per_event": used * 1000 / max(written, 1)}


def one_size(count: int, workdir: Path, profile: str | None) -> dict:
    """All figures for one community size (run in its own process)."""
    import resource

    begin = time.perf_counter()
    db, settings, transport, now = build(workdir / f"home{count}", count)
    figures: dict = {"members": count, "setup_s": time.perf_counter() - begin}
    prof = cProfile.Profile() if profile else None
    figures["idle"] = idle(db, transport, settings, now, prof if profile == "idle" else None)
    for n, (kind, events) in enumerate(WAVES):
        figures[kind] = wave(db, settings, kind, events, now + timedelta(minutes=10 + n),
                             prof if profile == kind else None)
    figures["idle_after"] = idle(db, transport, settings, now + timedelta(hours=1),
                                 prof if profile == "idle_after" else None)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if prof:
        print_profile(prof, cumulative=35, tottime=20)
    return figures


def print_report(rows: list[dict]) -> None:
    """The figures as a table, with each size's per-event CPU against the smallest size's."""
    base = rows[0]
    print("every flow live; idle: worker.tick with nothing due (best of 2); waves: one inbound pass")
    print(f"{'members':>8} {'idle CPU':>9} {'idle wall':>10} {'calendar':>14} {'sign-up':>14} {'approval':>14} "
          f"{'idle after':>11} {'peak RSS':>9}")
    for r in rows:
        cells = [f"{r[k]['cpu_ms_per_event']:6.2f} ms x{r[k]['cpu_ms_per_event'] / base[k]['cpu_ms_per_event']:4.2f}"
                 for k, _ in WAVES]
        print(f"{r['members']:>8,} {r['idle']['cpu_ms']:>6.1f} ms {r['idle']['wall_ms']:>7.1f} ms "
              f"{cells[0]:>14} {cells[1]:>14} {cells[2]:>14} {r['idle_after']['cpu_ms']:>8.1f} ms "
              f"{r['peak_rss_mb']:>6.0f} MB")
        for kind, events in WAVES:
            w = r[kind]
            if w["events"] != events or w["done"] != events:
                print(f"         ! {kind}: {w['events']} written, {w['done']} done, {w['ignored']} ignored")
        if r["idle"]["enqueued"]:
            print(f"         ! the idle ticks enqueued {r['idle']['enqueued']}")


def main(argv: list[str] | None = None) -> None:
    """Run each size in a child process and print the figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,50000", help="member counts, comma separated")
    parser.add_argument("--profile", choices=["idle", *(k for k, _ in WAVES), "idle_after"],
                        help="print the cProfile of this stage (at every size)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child mode: one size, JSON out
    args = parser.parse_args(argv)
    if args.one:
        with tempfile.TemporaryDirectory(prefix="cop-live-") as tmp:
            print(json.dumps(one_size(args.one, Path(tmp), args.profile)))
        return
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        os.sync()  # the previous size's deleted files are not written back during this one (bench.fanout)
        cmd = [sys.executable, "-m", "bench.live", "--one", str(size)] + (["--profile", args.profile]
                                                                          if args.profile else [])
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[1]).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps(rows, indent=2) if args.json else "", end="")
    if not args.json:
        print_report(rows)


if __name__ == "__main__":
    main()
