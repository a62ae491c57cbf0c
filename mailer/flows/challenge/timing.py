"""Challenge time: which day it is for a participant, counted in their own time zone.

Day N of a challenge starting on date S is the local calendar date S + N - 1. Its email opens
at the send hour on that date in the participant's zone and stays due until local midnight:
a worker that comes back at 02:00 on day 6's date does not send day 5 any more, it waits for
day 6 at the send hour. So nobody gets day 5 and day 6 in the same morning. (A person's first
day is the flow's one exception: see ``flow``.)
All functions are pure: ``now`` is an aware UTC datetime passed in.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer.outbound import formats


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ValueError when there is no such zone.

    Cached: ZoneInfo keeps only 8 zones strongly, so a community spread over more zones would
    re-read tzfiles from disk on every lookup (most of a quiet tick's time).
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone (like Europe/London)") from exc


def local_date(now: datetime, tz: str) -> date:
    """The calendar date at ``now`` in zone ``tz``."""
    return now.astimezone(zone(tz)).date()


def day_number(now: datetime, tz: str, start: date) -> int:
    """The day of the challenge whose date it is locally (0 or less: before it; may exceed length)."""
    return (local_date(now, tz) - start).days + 1


def opens_at(start: date, day: int, send: time, tz: str) -> datetime:
    """The UTC moment day ``day``'s email opens for someone in ``tz``."""
    local = datetime.combine(start + timedelta(days=day - 1), send, tzinfo=zone(tz))
    return local.astimezone(timezone.utc)


def open_day(now: datetime, tz: str, start: date, length: int, send: time) -> int | None:
    """The day whose email is due now for someone in ``tz``: today's, once the send hour passed."""
    local = now.astimezone(zone(tz))
    day = (local.date() - start).days + 1
    if 1 <= day <= length and local.time() >= send:
        return day
    return None


def summary_open(now: datetime, tz: str, start: date, length: int, send: time) -> bool:
    """Whether the end-of-challenge summary may go out: the send hour of the day after the last."""
    return now >= opens_at(start, length + 1, send, tz)


def day_date(start: date, day: int) -> date:
    """The calendar date of day ``day``."""
    return start + timedelta(days=day - 1)


def short_date(when: date) -> str:
    """A date as people say it in an email: ``Tue 5 Jan`` (``outbound.formats.day``)."""
    return formats.day(when)


def city(tz: str) -> str:
    """The city part of an IANA zone name: ``America/New_York`` -> ``New York`` (in the
    reader's language when rendered: ``outbound.formats.city``)."""
    return formats.city(tz)


def utc_offset_minutes(tz: str, on: date) -> int:
    """The zone's offset from UTC in minutes at noon on ``on`` (for pairing by proximity)."""
    moment = datetime.combine(on, time(12), tzinfo=zone(tz))
    offset = moment.utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)
