"""A participant's first day is never skipped: finding those whose first day fell in an outage.

Day emails are due only on their own local date (``timing``), so a worker that was down skips
the days it missed. The first day is the exception: it carries the partner introduction and
starts the journal. ``first_days_missed`` names the people whose first day opened, whose
local date is over, and who never got it; the flow sends it at once.
"""
from __future__ import annotations

import functools
from datetime import datetime, time, timedelta
from typing import Any, Callable

from sqlite_utils import Database

from mailer.flows.challenge import timing as ct
from mailer.store import outbox


def first_days_missed(db: Database, view: Any, now: datetime, first_day: Callable[[Any, dict], int]) -> set[int]:
    """Participants (person ids) whose first day opened while the worker was down (its local
    date is over) and never went out: it goes out now. Not for someone who paused or resumed
    since it opened (they chose to skip days), and not once the summary is due. ``view`` is the
    flow's View of the challenge; ``first_day(view, participant)`` the participant's first day."""
    length, waiting, since = view.challenge["length"], {}, _since(view.challenge)
    opened_at = functools.lru_cache(maxsize=None)(
        lambda first, tz, send: _missed_opening(view, first, tz, send, length, now, since))
    for p in view.participants:
        if p["status"] != "active" or p["person_status"] == "bounced":
            continue
        first = first_day(view, p)
        opened = opened_at(first, p["timezone"], ct.own_send(view.send, p))  # once per (day, zone, hour)
        if opened is not None and p["updated_at"] <= opened:
            waiting[p["person_id"]] = first
    return _without_key(db, view.challenge["id"], waiting)


def _since(challenge: dict) -> datetime | None:
    """The earliest opening a missed first day can have: a day before planning last ran (a
    day's email is due from its send hour until local midnight, and every planning run since
    has caught up what opened before it). None: planning never ran, look at every day."""
    checked = outbox.parse_ts(challenge.get("plan_checked_at"))
    return checked - timedelta(days=1) if checked else None


def _missed_opening(view: Any, first: int, tz: str, send: time, length: int, now: datetime,
                    since: datetime | None) -> datetime | None:
    """When day ``first`` opened in ``tz`` at ``send``, if it did (after ``since``) and its local
    date is over (not today's any more) while the summary is not yet due; else None."""
    opened = ct.opens_at(view.start, first, send, tz)
    if since is not None and opened < since:
        return None
    if (first <= length and opened <= now and ct.open_day(now, tz, view.start, length, send) != first
            and not ct.summary_open(now, tz, view.start, length, send)):
        return opened
    return None


def _without_key(db: Database, challenge_id: int, waiting: dict[int, int]) -> set[int]:
    """Those of ``waiting`` (person id -> day) whose day email was never enqueued."""
    if not waiting:
        return set()
    prefix = f"challenge:{challenge_id}:day:"
    missing = set()
    if 1 in waiting.values():  # one indexed look-up per person inside SQLite
        missing = set(outbox.people_without_key(db, f"{prefix}1:person:")) & {
            pid for pid, day in waiting.items() if day == 1}
    later = {pid: f"{prefix}{day}:person:{pid}" for pid, day in waiting.items() if day > 1}
    present = outbox.keys_present(db, list(later.values())) if later else set()
    return missing | {pid for pid, key in later.items() if key not in present}
