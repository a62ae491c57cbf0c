"""Capacity: saying before it happens when the transport's pace will make emails late.

Every command that commits the service to sending (``challenge start``, ``charter submit``,
``call open``, ``meetup schedule``, and their ``--check``) calls ``check`` with the waves it
adds (``load``): the emails falling due in the busiest 24 hours, counting what is already
scheduled, are refused over the pace's day limit (``OverLimitError`` with the figures and the
ways out, unless ``over_limit``), and each wave whose last email cannot leave within the hour
is named. ``status`` shows the same forecast for today (``today``). docs/capacity.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlite_utils import Database

from mailer.capacity import forecast, load, words
from mailer.capacity.forecast import DAY, Run, Sent, Wave
from mailer.config import Settings
from mailer.errors import OverLimitError
from mailer.flows.base import TIMELY

__all__ = ["Assessment", "assess", "check", "today", "Wave"]


@dataclass
class Assessment:
    """What a command's waves do to the queue at the pace."""

    waves: list[Wave]
    run: Run
    limit: int | None  # emails a day the pace allows (None: no limit)
    peak: int  # the most emails falling due in 24 hours that hold a new wave
    busiest: list[Wave]  # the waves of those 24 hours
    rate: str  # "30/min"

    @property
    def over(self) -> bool:
        """Whether the busiest day holds more than the pace lets go in a day."""
        return self.limit is not None and self.peak > self.limit

    @property
    def late(self) -> list[Sent]:
        """The new waves that cannot go out within the hour (first of each series)."""
        return forecast.late_waves(self.run)

    @property
    def latest(self) -> Sent | None:
        """The new time-bound wave (else any new wave) that leaves the latest after it fell due."""
        new = [s for s in self.run.sent if s.wave.new]
        timely = [s for s in new if s.wave.priority == TIMELY] or new
        return max(timely, key=lambda s: s.late, default=None)

    @property
    def over_days(self) -> list[date]:
        """The UTC dates on which 24 hours holding a new wave are over the day limit."""
        return forecast.days_over(self.waves, self.limit) if self.limit is not None else []


def assess(db: Database, settings: Settings, now: datetime, added: list[Wave]) -> Assessment:
    """Replay the queue, the running challenges and the ``added`` waves through the pace."""
    wins = load.pace_windows(settings)
    horizon = max((w.at for w in added), default=now) - now + DAY
    waves = load.scheduled(db, now, horizon) + added
    history, per_send = load.recent_sends(db, now)
    peak, busiest = forecast.peak_day(waves)
    return Assessment(waves, forecast.simulate(waves, wins, history, per_send), forecast.day_limit(wins),
                      peak, busiest, words.rate(wins, per_send))


def check(db: Database, settings: Settings, now: datetime, added: list[Wave], over_limit: bool) -> list[str]:
    """The warnings a command prints about ``added``; OverLimitError (with the figures and the
    ways out) when its busiest day is over the pace's day limit and ``over_limit`` is not set."""
    found = assess(db, settings, now, added)
    if found.over and not over_limit:
        raise OverLimitError(words.refusal(found, settings.transport_pace))
    lines = [f"warning: {line}" for line in words.late_lines(found.late, found.rate)]
    if found.over:
        lines.insert(0, "warning: going ahead over the limit (--over-limit): " + words.over_line(found))
    return lines


def today(db: Database, settings: Settings, now: datetime) -> dict:
    """``status``'s forecast: each wave of the next 24 hours (the queue now first) with when its
    last email leaves, and the backlog at this hour on each of the next days."""
    wins = load.pace_windows(settings)
    waves = load.scheduled(db, now, 3 * DAY)
    history, per_send = load.recent_sends(db, now)
    run = forecast.simulate(waves, wins, history, per_send)
    soon = [s for s in run.sent if s.wave.at < now + DAY]
    backlog = [run.backlog_at(waves, now + n * DAY) for n in range(4)]
    return {"waves": [words.wave_json(s) for s in sorted(soon, key=lambda s: (s.wave.at, s.wave.priority))],
            "backlog": backlog, "grows": all(b < a for b, a in zip(backlog, backlog[1:])) and backlog[-1] > 0,
            "rate": words.rate(wins, per_send), "limit": forecast.day_limit(wins),
            "per_day": forecast.peak_day([w for w in waves if w.series], only_new=False)[0]}
