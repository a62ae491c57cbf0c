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


def windows(per_minute: int, per_day: int) -> list[Window]:
    """The windows of a pace (0 means no limit of that kind)."""
    return [(length, limit) for length, limit in ((timedelta(minutes=1), per_minute),
                                                  (timedelta(days=1), per_day)) if limit]


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


def drain_at(sent: list[datetime], queued: int, now: datetime, wins: list[Window]) -> datetime | None:
    """When the last of ``queued`` emails goes, if each goes as soon as the windows allow."""
    if queued <= 0:
        return None
    if not wins:
        return now
    history, last = list(sent), now
    while queued > 0:
        moment = next_room_at(history, last, wins)
        count = min(room(history, moment, wins) or 0, queued)
        history.extend([moment] * count)
        queued, last = queued - count, moment
    return last
