"""The simulation loop: the real worker, the real Maildir transport, a simulated clock.

Each simulated hour the members' mail that has "arrived" by then is put in the inbox, the
worker ticks once at that moment, and every email it sent is read by its recipient, who may
answer later (a journal entry, a request, an out-of-office notice) or never exist (a bounce).
What the members meant is counted beside what the service did, so a wrong action shows.
"""
from __future__ import annotations

import random
import re
import resource
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from sqlite_utils import Database

from mailer import worker
from mailer.config import Settings
from mailer.simulation import writing
from mailer.simulation.community import Member
from mailer.simulation.projects import ProjectDay, ProjectMembers
from mailer.simulation.spool import Spool, deliver
from mailer.store import challenges, outbox, people
from mailer.transports.base import Transport

DAY_KEY = re.compile(r"^challenge:(\d+):day:(\d+):person:\d+$")
PAUSED_KEY = re.compile(r"^challenge:\d+:paused:person:")
SHARE_RATE = 0.1


@dataclass
class DayStats:
    """What one simulated (UTC) day held."""

    date: str
    sent: int = 0
    received: int = 0
    replies_written: int = 0
    journaled: int = 0
    auto_replies: int = 0
    bounces_sent: int = 0
    asked_pause: int = 0
    asked_stop: int = 0
    paused: int = 0
    stopped: int = 0
    bounced: int = 0
    # what each message received ended in (change, answer, kept; "none" is a handler's bug)
    outcomes: dict[str, int] = field(default_factory=dict)
    projects: ProjectDay = field(default_factory=ProjectDay)  # the charter, its call, the meetup
    # wall seconds per stage this day (as ``Report.stages``), and by how much each stage raised
    # the process's peak memory (MB): the stage that holds too much shows here
    stages: dict[str, float] = field(default_factory=dict)
    peak_rise_mb: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0  # the process's peak so far, at the end of the day


@dataclass
class Report:
    """Everything ``simulate`` prints."""

    members: int
    days: int
    seed: int
    reply_rate: float
    projects: bool = True
    per_day: list[DayStats] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0

    def as_dict(self) -> dict:
        """Plain data for ``--json``."""
        return asdict(self)

    def totals(self) -> dict:
        """Sums over the days of the flow counts (the status counts are the last day's)."""
        keys = ("sent", "received", "replies_written", "auto_replies", "bounces_sent", "asked_pause", "asked_stop")
        total = {k: sum(getattr(d, k) for d in self.per_day) for k in keys}
        last = self.per_day[-1] if self.per_day else DayStats("")
        total.update(journaled=last.journaled, paused=last.paused, stopped=last.stopped, bounced=last.bounced)
        total["projects"] = ProjectDay.totals([d.projects for d in self.per_day])
        return total


class Simulation:
    """Members reading and answering what the worker sends, hour by hour."""

    def __init__(self, db: Database, transport: Transport, settings: Settings, community: list[Member],
                 challenge_id: int, reply_rate: float, seed: int, spool: Path) -> None:
        """``spool``: a folder of its own where the members' mail waits until it arrives."""
        self.db, self.transport, self.settings = db, transport, settings
        self.by_email = {m.email: m for m in community}
        self.challenge_id, self.reply_rate = challenge_id, reply_rate
        self.rng = random.Random(seed + 1)
        self.pending = Spool(spool)  # what members wrote, until it arrives
        self.bounced: set[str] = set()
        self.day: DayStats | None = None
        self.stages = {"tick_s": 0.0, "members_s": 0.0}  # wall seconds; CPU seconds beside (``*_cpu_s``)
        self.projects: ProjectMembers | None = None  # set by ``simulate`` when it sets up a charter and a meetup

    def run(self, start: datetime, hours: int, report: Report, progress: Callable[[int], None]) -> None:
        """Walk ``hours`` hours from ``start``, one tick each; fill ``report``."""
        for hour in range(hours):
            now = start + timedelta(hours=hour)
            if self.day is None or self.day.date != now.date().isoformat():
                self._close_day(report)
                self.day = DayStats(now.date().isoformat())
            self.hour(now)
            progress(1)
        self._close_day(report)
        self.pending.discard()  # mail still on its way when the run ends never arrives
        report.stages = {k: round(v, 2) for k, v in self.stages.items()}

    def hour(self, now: datetime) -> None:
        """Deliver what has arrived, tick once, let every recipient read what was sent."""
        clock = _Stopwatch()
        deliver(self.settings.mail_dir / "inbox", self.pending.due(now))
        arriving = clock.lap()
        result = worker.tick(self.db, self.transport, now, self.settings, "simulate")
        ticking = clock.lap()
        self.day.sent += result.sent
        self.day.received += result.fetched
        for ended, n in result.outcomes.items():
            self.day.outcomes[ended] = self.day.outcomes.get(ended, 0) + n
        # read as a stream: an hour of a large community's mail never sits in memory at once
        for row in outbox.stream_sent_between(self.db, now, now + timedelta(seconds=1)):
            self.read(row, now)
        reading = clock.lap()
        laps = {"arriving": arriving, "tick": ticking, "reading": reading,
                **{stage: (seconds, None, 0.0) for stage, seconds in result.seconds.items()}}
        laps["members"] = tuple(a + b for a, b in zip(arriving, reading))
        for stage, lap in laps.items():
            self._count(stage, *lap)

    def _count(self, stage: str, seconds: float, cpu: float | None, rise: float) -> None:
        """Add a stage's wall seconds, CPU seconds (user + system; None: not measured apart) and
        rise of the peak memory (MB) in one hour to the run's and the day's figures."""
        figures = {f"{stage}_s": seconds} if cpu is None else {f"{stage}_s": seconds, f"{stage}_cpu_s": cpu}
        for key, value in figures.items():
            if stage not in ("arriving", "reading"):  # the run's stages as before: members holds both
                self.stages[key] = self.stages.get(key, 0.0) + value
            self.day.stages[key] = self.day.stages.get(key, 0.0) + value
        if rise:
            self.day.peak_rise_mb[stage] = round(self.day.peak_rise_mb.get(stage, 0.0) + rise, 1)

    def later(self, when: datetime, raw: bytes) -> None:
        """Queue ``raw`` to arrive in the inbox at ``when``."""
        self.pending.put(when, raw)

    def read(self, row: dict, now: datetime) -> None:
        """One member reads one email and decides what, if anything, to send back."""
        member = self.by_email.get(row["to_addr"])
        if member is None or row["to_addr"] in self.bounced:
            return
        if member.bounces:
            self.bounced.add(member.email)
            self.day.bounces_sent += 1
            return self.later(now + timedelta(minutes=3), writing.bounce(row["data"], member, now))
        if self.projects is not None and self.projects.read(row, member, now, self.day.projects):
            return
        day = DAY_KEY.match(row["key"])
        if member.away and day and member.away[0] <= int(day.group(2)) <= member.away[1]:
            self.day.auto_replies += 1
            return self.later(now + timedelta(minutes=1), writing.out_of_office(row["data"], member, now))
        if PAUSED_KEY.match(row["key"]):  # they meant to be away two days: resume by replying
            return self.later(now + timedelta(days=2), writing.reply(row["data"], member,
                               writing.RESUME[member.language], now + timedelta(days=2)))
        if day:
            self._answer_day(row, member, int(day.group(2)), now)

    def _answer_day(self, row: dict, member: Member, day: int, now: datetime) -> None:
        when = now + timedelta(minutes=self.rng.randint(20, 600))
        if day == member.stop_day:
            self.day.asked_stop += 1
            text = writing.STOP[member.language]
        elif day == member.pause_day:
            self.day.asked_pause += 1
            text = writing.PAUSE[member.language]
        elif self.rng.random() < min(self.reply_rate * member.diligence, 0.98):
            text = writing.entry_text(self.rng, member, self.rng.random() < SHARE_RATE)
        else:
            return
        self.day.replies_written += 1
        self.later(when, writing.reply(row["data"], member, text, when))

    def _close_day(self, report: Report) -> None:
        if self.day is None:
            return
        states = [p["status"] for p in challenges.list_participants(self.db, self.challenge_id)]
        self.day.journaled = challenges.count_entries(self.db, self.challenge_id)
        self.day.paused, self.day.stopped = states.count("paused"), states.count("stopped")
        self.day.bounced = people.count_with_status(self.db, "bounced")
        if self.projects is not None:
            self.projects.tally(self.db, self.day.projects)
        self.day.stages = {k: round(v, 2) for k, v in self.day.stages.items()}
        self.day.peak_rss_mb = report.peak_rss_mb = peak_rss_mb()
        report.per_day.append(self.day)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux counts ``ru_maxrss`` in KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class _Stopwatch:
    """Wall time, this process's CPU time and the rise of its peak memory since the last lap."""

    def __init__(self) -> None:
        self.at, self.cpu, self.peak = time.perf_counter(), time.process_time(), peak_rss_mb()

    def lap(self) -> tuple[float, float, float]:
        """(wall seconds, CPU seconds, MB the peak rose) since the last lap (or the start)."""
        at, cpu, peak = time.perf_counter(), time.process_time(), peak_rss_mb()
        lap = (at - self.at, cpu - self.cpu, peak - self.peak)
        self.at, self.cpu, self.peak = at, cpu, peak
        return lap
