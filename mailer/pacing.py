"""Pacing: what a sending limit allows now, when the next email may go, when a queue drains.

A limit is a sliding window: at most ``limit`` emails in any ``length`` of time (Exchange
Online: 30 in any minute and 10,000 in any 24 hours for one mailbox; notes/performance.md).
A send at moment ``t`` counts in the window ending at ``now`` while ``t > now - length``, so
the worker may wake exactly when the oldest counted send leaves the window. Pure functions
over sorted send times; the worker and ``status`` share them, so the prediction is the plan.
"""
from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timedelta

Window = tuple[timedelta, int]  # (length, at most this many sends in any such stretch)
BURST_GAP = timedelta(minutes=1)  # sends closer than this were one flush, timed by the transport
# With no sends yet to time: what one send over SMTP to a remote server takes (0.1-1 s is usual;
# a loopback sink takes 1 ms, notes/performance.md). Only a forecast, shown as one.
ASSUMED_PER_SEND = timedelta(milliseconds=200)


def windows(per_minute: int, per_day: int, per_second: int = 0) -> list[Window]:
    """The windows of a pace (0 means no limit of that kind)."""
    return [(length, limit) for length, limit in ((timedelta(seconds=1), per_second),
                                                  (timedelta(minutes=1), per_minute),
                                                  (timedelta(days=1), per_day)) if limit]


def pace_windows(settings: object) -> list[Window]:
    """The windows of the configured pace: ``settings.rate_limits`` (per minute, per day) and,
    with a ``custom`` pace, ``settings.rate_per_second`` (a relay's stated rate, e.g. SES's)."""
    per_minute, per_day = getattr(settings, "rate_limits")
    return windows(per_minute, per_day, getattr(settings, "rate_per_second", 0))


def room(sent: list[datetime], now: datetime, wins: list[Window]) -> int | None:
    """How many may go at ``now`` given the sorted send times (None: no limit at all)."""
    if not wins:
        return None
    return max(min(limit - (len(sent) - bisect_right(sent, now - length)) for length, limit in wins), 0)


def next_room_at(sent: list[datetime], now: datetime, wins: list[Window]) -> datetime:
    """The first moment at or after ``now`` when one more email may go."""
    moment = now
    for length, limit in wins:
        first = bisect_right(sent, now - length)
        over = len(sent) - first - limit  # sends that must leave this window before the next
        if over >= 0:
            moment = max(moment, sent[first + over] + length)
    return moment


def drain_at(sent: list[datetime], queued: int, now: datetime, wins: list[Window],
             per_send: timedelta = timedelta(0)) -> datetime | None:
    """When the last of ``queued`` emails goes, if each goes as soon as the windows allow and
    one send takes ``per_send`` (so a queue that is not empty never drains "now": with no pace
    set, 10,000 emails take 10,000 sends of the transport)."""
    if queued <= 0:
        return None
    floor = now + queued * per_send
    if not wins:
        return floor
    history, last = list(sent), now
    while queued > 0:
        moment = next_room_at(history, last, wins)
        count = min(room(history, moment, wins) or 0, queued)
        history.extend([moment] * count)
        queued, last = queued - count, moment
    return max(last, floor)


def send_interval(sent: list[datetime], least: int = 20) -> timedelta | None:
    """How long one send took lately: the mean gap between consecutive sends (sorted times)
    that followed each other within a minute (a pace's pauses and idle hours left out), at
    least a millisecond; None with fewer than ``least`` such gaps to go by."""
    tail = sent[-1001:]  # the last 1,000 gaps are enough
    gaps = [b - a for a, b in zip(tail, tail[1:]) if b - a < BURST_GAP]
    if len(gaps) < least:
        return None
    return max(sum(gaps, timedelta(0)) / len(gaps), timedelta(milliseconds=1))
