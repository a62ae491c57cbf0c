"""When digests go out: pure functions from a cadence, a time zone and ``now``.

A digest covers the time between two send moments, local to the recipient: weekly by default
(Monday 09:00 in their time zone), or daily, or monthly (the 1st). The flow asks for the most
recent send moment at or before ``now``; a worker that was down over one simply finds it later
and sends it once, late, covering everything since the last digest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Cadence:
    """How often (daily, weekly, monthly), on which weekday (0 = Monday) and at which local hour."""

    every: str
    weekday: int = 0
    hour: int = 9


def latest_moment(cadence: Cadence, tz: str, now: datetime) -> datetime:
    """The most recent send moment at or before ``now``, in UTC."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    day = _candidate(cadence, local.date())
    moment = _at(day, cadence.hour, zone)
    if moment > now:
        moment = _at(_step_back(cadence, day), cadence.hour, zone)
    return moment


def previous_moment(cadence: Cadence, tz: str, moment: datetime) -> datetime:
    """The send moment before ``moment`` (the start of the period that ends at ``moment``)."""
    zone = ZoneInfo(tz)
    return _at(_step_back(cadence, moment.astimezone(zone).date()), cadence.hour, zone)


def _candidate(cadence: Cadence, today: date) -> date:
    if cadence.every == "daily":
        return today
    if cadence.every == "monthly":
        return today.replace(day=1)
    return today - timedelta(days=(today.weekday() - cadence.weekday) % 7)


def _step_back(cadence: Cadence, day: date) -> date:
    if cadence.every == "daily":
        return day - timedelta(days=1)
    if cadence.every == "monthly":
        return (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    return day - timedelta(days=7)


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    # A send hour inside a spring-forward gap resolves to the hour after it (fold=0 rule).
    return datetime.combine(day, time(hour), zone).astimezone(timezone.utc)


def next_moment(cadence: Cadence, tz: str, now: datetime) -> datetime:
    """The first send moment after ``now``, in UTC."""
    zone = ZoneInfo(tz)
    day = _candidate(cadence, now.astimezone(zone).date())
    for _ in range(3):  # at most one period ahead of the latest
        day = _step_forward(cadence, day)
        moment = _at(day, cadence.hour, zone)
        if moment > now:
            return moment
    return moment


def _step_forward(cadence: Cadence, day: date) -> date:
    if cadence.every == "daily":
        return day + timedelta(days=1)
    if cadence.every == "monthly":
        return (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return day + timedelta(days=7)
