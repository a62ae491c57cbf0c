"""The load a command adds, and the load already scheduled, as waves (``forecast.Wave``).

A challenge sends each day's email at each participant's local send hour, so its participants
are grouped by the UTC instant of that hour: one wave per instant and day (zones with the same
offset share it). What goes "at the next tick" (an announcement, a call, meetup invitations)
is one wave at ``now``. Already scheduled: the queue as it stands and the running challenges'
coming days. Reads the store through its verbs; the waves themselves are plain data.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Iterable

from sqlite_utils import Database

from mailer import pacing
from mailer.capacity.forecast import DAY, Wave
from mailer.config import Settings
from mailer.flows.base import ANSWER, BULK, TIMELY
from mailer.flows.challenge import timing as ct
from mailer.store import challenges as challenge_store
from mailer.store import outbox as outbox_store
from mailer.store import outbox_load, people

QUEUE_LABEL = {ANSWER: "answers queued now", TIMELY: "time-bound emails queued now", BULK: "other emails queued now"}


def zones_of(persons: Iterable[dict]) -> Counter:
    """How many of ``persons`` live in each time zone."""
    return Counter(p["timezone"] for p in persons)


def by_instant(zones: Counter, on: date, send: time) -> dict[datetime, list[tuple[str, int]]]:
    """The zones whose local ``send`` time on ``on`` is the same UTC instant, largest first."""
    grouped: dict[datetime, list[tuple[str, int]]] = defaultdict(list)
    for zone, count in zones.items():
        grouped[ct.opens_at(on, 1, send, zone)].append((zone, count))
    return {at: sorted(group, key=lambda z: (-z[1], z[0])) for at, group in grouped.items()}


def challenge_waves(title: str, start: date, length: int, send: time, zones: Counter,
                    after: datetime, new: bool) -> list[Wave]:
    """A challenge's day emails (time-bound) and its summary (the day after the last), one
    wave per day and send instant, from ``after`` on."""
    waves = []
    for day in range(1, length + 2):
        for at, group in by_instant(zones, ct.day_date(start, day), send).items():
            if at > after:
                what = f"day {day} of {title}" if day <= length else f"the summary of {title}"
                waves.append(Wave(at, sum(n for _, n in group), what, TIMELY if day <= length else BULK,
                                  tuple(z for z, _ in group), new, f"{title}|{group[0][0]}|{day > length}"))
    return waves


def once(now: datetime, persons: list[dict], what: str, priority: int) -> list[Wave]:
    """Emails that go at the next tick, one to each of ``persons`` (none when nobody)."""
    if not persons:
        return []
    group = sorted(zones_of(persons).items(), key=lambda z: (-z[1], z[0]))
    return [Wave(now, len(persons), what, priority, tuple(z for z, _ in group), True, what)]


def scheduled(db: Database, now: datetime, horizon: timedelta) -> list[Wave]:
    """What is already due to go: the queue as it stands (at ``now``) and the day emails of
    every active challenge falling due within ``horizon``."""
    waves = [Wave(now, count, QUEUE_LABEL.get(priority, "queued now"), priority)
             for priority, count in sorted(outbox_load.queued_by_priority(db).items()) if count]
    for c in challenge_store.list_challenges(db):
        if c["state"] != "active":
            continue
        taking_part = [p for p in challenge_store.list_participants(db, c["id"])
                       if p["status"] == "active" and p["person_status"] not in people.UNMAILED]
        waves += [w for w in challenge_waves(c["title"], date.fromisoformat(c["start"]), c["length"],
                                             time(c["send_hour"], c["send_minute"]), zones_of(taking_part),
                                             now, False) if w.at <= now + horizon]
    return waves


def recent_sends(db: Database, now: datetime) -> tuple[list[datetime], timedelta]:
    """The sends of the last day (they still count in the pace's windows) and how long one
    send takes (measured from recent sends, else ``pacing.ASSUMED_PER_SEND``)."""
    sent = outbox_store.send_times_after(db, now - DAY)
    return sent, pacing.send_interval(sent) or pacing.ASSUMED_PER_SEND


def pace_windows(settings: Settings) -> list[pacing.Window]:
    """The windows of the transport's pace (a relay's per-second rate included)."""
    return pacing.pace_windows(settings)
