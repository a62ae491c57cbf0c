"""Forecasting the send queue: when each wave of emails leaves at a pace, and the busiest day.

A *wave* is a number of emails that fall due at one UTC instant: the day emails of every
participant whose local send hour is that instant (Asia/Tokyo's 08:00 is 23:00 UTC the day
before), an announcement or a call at the next tick, the queue as it stands. ``simulate``
replays them through the pace windows as the worker sends (``mailer.pacing``: answers first,
then time-bound emails, then the rest; the longest due first within a priority), so the
forecast is the plan. Pure functions: the waves, the windows and the clock are passed in.
"""
from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mailer import pacing

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Wave:
    """Emails due together at ``at`` (UTC), for people in ``zones`` (largest group first)."""

    at: datetime
    count: int
    what: str  # "day 1 of DevOps 30-day challenge", "the announcement", "queued now"
    priority: int  # ANSWER, TIMELY or BULK (mailer.flows.base)
    zones: tuple[str, ...] = ()
    new: bool = False  # added by the command being checked, not scheduled already
    series: str = ""  # waves that repeat (one zone group's day emails) share a series


@dataclass(frozen=True)
class Sent:
    """When a wave's first and last emails leave, as the simulation has it."""

    wave: Wave
    first: datetime
    last: datetime

    @property
    def late(self) -> timedelta:
        """How long after the wave fell due its last email leaves."""
        return self.last - self.wave.at


@dataclass
class Run:
    """The outcome of a simulation: each wave's send times and every send's moment in order."""

    sent: list[Sent]
    times: list[datetime]

    def backlog_at(self, waves: list[Wave], moment: datetime) -> int:
        """Emails fallen due by ``moment`` and not yet sent then."""
        due = sum(w.count for w in waves if w.at <= moment)
        return due - bisect_right(self.times, moment)


def simulate(waves: list[Wave], wins: list[pacing.Window], history: list[datetime] | None = None,
             per_send: timedelta = timedelta(0)) -> Run:
    """Send ``waves`` as the worker would at the pace ``wins``, after the sorted send times
    ``history`` (the last day's, which still count in the windows); each send takes
    ``per_send``. Emails sent together are stamped with the moment their batch began."""
    past, run = list(history or ()), Run([], [])
    order = sorted(range(len(waves)), key=lambda i: (waves[i].at, i))
    left, first = [w.count for w in waves], {}
    ready: list[tuple[int, datetime, int]] = []  # (priority, due, index): the order of claim
    at, nxt = (waves[order[0]].at if order else datetime.max), 0
    while nxt < len(order) or ready:
        while nxt < len(order) and waves[order[nxt]].at <= at:
            heapq.heappush(ready, (waves[order[nxt]].priority, waves[order[nxt]].at, order[nxt]))
            nxt += 1
        opens = (pacing.next_room_at(past, at, wins) if wins else at) if ready else waves[order[nxt]].at
        if opens > at:
            at = opens
            continue
        i = ready[0][2]
        count = min(left[i], pacing.room(past, at, wins) if wins else left[i])
        if count <= 0:  # never expected (room and next_room_at agree); never loop forever
            at += timedelta(seconds=1)
            continue
        first.setdefault(i, at)
        past.extend([at] * count)
        run.times.extend([at] * count)
        left[i], at = left[i] - count, at + per_send * count
        if not left[i]:
            heapq.heappop(ready)
            run.sent.append(Sent(waves[i], first[i], at))
    return run


def _stretches(waves: list[Wave], only_new: bool):
    """Each 24 hours ``(wave.at - 24h, wave.at]`` ending at a wave (holding a new wave, unless
    not ``only_new``): how many waves it holds, its last moment, how many emails fall due in it."""
    ordered = sorted(waves, key=lambda w: w.at)
    moments = [w.at for w in ordered]
    totals = [0]
    for wave in ordered:
        totals.append(totals[-1] + wave.count)
    for wave in ordered:
        start, last = bisect_right(moments, wave.at - DAY), bisect_right(moments, wave.at)
        if not only_new or any(w.new for w in ordered[start:last]):
            yield last - start, wave.at, totals[last] - totals[start]


def peak_day(waves: list[Wave], only_new: bool = True) -> tuple[int, list[Wave]]:
    """The most emails falling due within any 24 hours (that hold a new wave, unless not
    ``only_new``: the pace's day window is such a sliding 24 hours), and that stretch's waves."""
    best = max(_stretches(waves, only_new), key=lambda s: (s[2], s[0]), default=(0, None, 0))
    if best[1] is None:
        return 0, []
    return best[2], [w for w in waves if best[1] - DAY < w.at <= best[1]]


def days_over(waves: list[Wave], limit: int) -> list[date]:
    """The UTC dates on which some 24 hours holding a new wave have more than ``limit`` due."""
    return sorted({end.date() for _, end, total in _stretches(waves, True) if total > limit})


def day_limit(wins: list[pacing.Window]) -> int | None:
    """The most emails the pace lets go in a day (None: no limit): its day window, or what a
    shorter window allows in 24 hours when it has no day window (30 a minute: 43,200)."""
    return min((limit * (DAY // length) for length, limit in wins if length <= DAY), default=None)


def late_waves(run: Run, within: timedelta = timedelta(hours=1)) -> list[Sent]:
    """The new waves whose last email leaves more than ``within`` after they fell due: the
    first such wave of each series (a zone's day emails repeat every day) and every one-off."""
    seen: set[str] = set()
    found = []
    for item in sorted(run.sent, key=lambda s: s.wave.at):
        series = item.wave.series
        if item.wave.new and item.late > within and not (series and series in seen):
            found.append(item)
            seen.add(series)
    return found
