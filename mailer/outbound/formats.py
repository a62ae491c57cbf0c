"""How every email writes a value: one function per kind (dates, times, durations, hours, money, counts).

Each email shows a date as "Wed 20 Jan 2027", never "2027-01-20" beside it; a sum of money as
"4,500 EUR" wherever it appears, a budget change included. Each formatter takes the value and
nothing else about the email, so localising them (issue 23, Babel) is a change in this module
only. The same functions are the templates' filters (``FILTERS``).
"""
from __future__ import annotations

from datetime import date as Date, datetime, time as Time, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo


def date(day: Date | datetime) -> str:
    """A calendar date in full: "Wed 20 Jan 2027"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def day(day: Date | datetime) -> str:
    """A date in the coming weeks, where the year goes without saying: "Wed 20 Jan"."""
    return f"{day:%a} {day.day} {day:%b}"


def time(moment: datetime | Time) -> str:
    """A clock time, 24-hour: "18:30"."""
    return f"{moment:%H:%M}"


def period(first: Date, last: Date) -> str:
    """Two dates as a span: "4 Jan – 11 Jan 2027" (the first year only when it differs)."""
    start = f"{first.day} {first:%b}" if first.year == last.year else f"{first.day} {first:%b %Y}"
    return f"{start} – {last.day} {last:%b %Y}"


def duration(minutes: int) -> str:
    """A length of time: "45 minutes", "1 hour", "2 hours 30 minutes"."""
    whole, rest = divmod(int(minutes), 60)
    parts = [count(whole, "hour")] if whole else []
    if rest or not whole:
        parts.append(count(rest, "minute"))
    return " ".join(parts)


def hours(value: float) -> str:
    """A number of hours people give: "48 hours", "2.5 hours", "1 hour" (one decimal at most)."""
    shown = number(round(value, 1))
    return f"{shown} hour" if shown == "1" else f"{shown} hours"


def number(value: float) -> str:
    """A number with thousands grouped and no useless decimals: "4,500", "2.5"."""
    rounded = round(float(value), 2)
    return f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.2f}".rstrip("0")


def money(amount: float, currency: str) -> str:
    """A sum with its currency: "4,500 EUR", "99.50 EUR" (cents shown only when there are some)."""
    value = float(amount)
    return (f"{value:,.0f} {currency}" if value.is_integer() else f"{value:,.2f} {currency}").strip()


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun: "1 person", "3 people", "0 updates"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def zone_label(moment: datetime) -> str:
    """The abbreviation a reader knows ("GMT", "BST", "CET"), or "UTC+05:30" when the zone has none."""
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    offset = moment.utcoffset() or timedelta(0)
    sign, minutes = ("+" if offset >= timedelta(0) else "-"), abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def time_range(start: datetime, end: datetime, tz: str) -> str:
    """A meeting's time in one zone: "Wed 20 Jan 2027, 18:00–19:30".

    When the clocks change between start and end (a London meetup from 00:30 on the night of
    the spring change), each end carries its own label: "00:30 GMT – 03:30 BST"."""
    zone = ZoneInfo(tz)
    first, last = start.astimezone(zone), end.astimezone(zone)
    late = time(last) if last.date() == first.date() else f"{day(last)} {time(last)}"
    if first.utcoffset() != last.utcoffset():
        return f"{date(first)}, {time(first)} {zone_label(first)} – {late} {zone_label(last)}"
    joiner = "–" if last.date() == first.date() else " – "
    return f"{date(first)}, {time(first)}{joiner}{late}"


FILTERS: dict[str, Callable[..., Any]] = {
    "date": date, "day": day, "time": time, "duration": duration, "hours": hours, "number": number,
    "money": money, "count": count,
}
