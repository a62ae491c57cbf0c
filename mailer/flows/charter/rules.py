"""The approval rule and the charter's calendar, as pure functions.

A rule says how many approvals a version needs: ``any`` one, ``all`` every approver,
``majority`` more than half, or a number. Only each approver's latest answer on the current
version counts (they may change it until the charter is decided). A version is

- approved once the approvals reach what the rule needs;
- rejected once the rejections alone make that impossible (under ``all``: any rejection);
- returned for changes once any approver asks for changes and it is not approved;
- otherwise still pending.

Times: every check-in and news email opens at 09:00 in the recipient's own time zone; the
deadline ends at midnight after the deadline date in the proposer's zone.
"""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MORNING = time(9, 0)
NEWS_AFTER = timedelta(days=3)  # the team has three days to answer a check-in before the news


def needed(rule: str | int, approvers: int) -> int:
    """How many approvals the rule needs among ``approvers``."""
    if rule == "any":
        return 1
    if rule == "all":
        return approvers
    if rule == "majority":
        return approvers // 2 + 1
    return int(rule)


def outcome(rule: str | int, approvers: list[int], answers: dict[int, str]) -> str:
    """approved, rejected, changes_requested or pending, from each approver's latest answer."""
    counted = [answers[a] for a in set(approvers) if a in answers]
    return outcome_of_counts(rule, len(approvers), {d: counted.count(d) for d in set(counted)})


def outcome_of_counts(rule: str | int, approvers: int, counts: dict[str, int]) -> str:
    """``outcome`` from the number of known approvers and how many of their latest answers say
    each decision (``approve``, ``reject``, ``request_changes``): what a reply settles with."""
    need = needed(rule, approvers)
    if counts.get("approve", 0) >= need:
        return "approved"
    if approvers - counts.get("reject", 0) < need:
        return "rejected"
    if counts.get("request_changes", 0):
        return "changes_requested"
    return "pending"


def latest_answers(decisions: list[dict]) -> dict[int, str]:
    """Approver id -> their latest counted decision (held ones do not count), in order given."""
    answers: dict[int, str] = {}
    for d in decisions:
        if not d["held"]:
            answers[d["approver_id"]] = d["decision"]
    return answers


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (UTC when unknown: a bad zone must not stop anyone's mail)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


def local_morning(day: date, tz: str) -> datetime:
    """09:00 on ``day`` in ``tz``, as an aware UTC datetime."""
    return datetime.combine(day, MORNING, zone(tz)).astimezone(timezone.utc)


def deadline_passed(deadline: date, tz: str, now: datetime) -> bool:
    """Whether the whole deadline day is over in the proposer's zone."""
    end = datetime.combine(deadline + timedelta(days=1), time(0), zone(tz))
    return now >= end


def reminder_due(deadline: date, remind_days_before: int, tz: str, now: datetime) -> bool:
    """Whether the reminder's morning has come in ``tz`` (``remind_days_before`` days before the deadline)."""
    return remind_days_before > 0 and now >= local_morning(deadline - timedelta(days=remind_days_before), tz)


def end_date(start: date, duration_weeks: int) -> date:
    """The day the project's planned time is over."""
    return start + timedelta(weeks=duration_weeks)


def rounds(duration_weeks: int, every_weeks: int) -> int:
    """How many check-in rounds fall before the end (the end itself asks for findings)."""
    return max(math.ceil(duration_weeks / every_weeks) - 1, 0)


def round_date(start: date, number: int, every_weeks: int) -> date:
    """The date of check-in round ``number`` (1-based)."""
    return start + timedelta(weeks=number * every_weeks)


def current_round(start: date, total: int, every_weeks: int, tz: str, now: datetime) -> int | None:
    """The latest round whose morning has come for someone in ``tz``; None before the first.

    Only the latest: a worker that was down for a round and the next asks once, not twice.
    """
    found = None
    for number in range(1, total + 1):
        if now >= local_morning(round_date(start, number, every_weeks), tz):
            found = number
    return found


def hours_used(team_size: int, hours_per_week: float, start: date, duration_weeks: int,
               today: date) -> float:
    """Team hours spent so far at the charter's rate (capped at the planned duration)."""
    weeks = min(max((today - start).days / 7, 0), duration_weeks)
    return round(team_size * hours_per_week * weeks, 1)
