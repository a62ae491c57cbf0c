"""The capacity forecast in words: the refusal, the late-wave warnings and ``status``'s lines.

Command-line text, in English like the rest of the CLI. Times of a wave are shown in its own
zone ("Asia/Tokyo: 3,000 emails 08:00–09:40 local at 30/min"): zones that share a wave share
its UTC instant, so they share its local times too.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from mailer import pacing
from mailer.capacity.forecast import Sent, Wave
from mailer.flows.challenge import timing as ct

if TYPE_CHECKING:
    from mailer.capacity import Assessment

SHOWN = 8  # late waves named one by one; the rest are counted
UNITS = ((timedelta(days=1), "day"), (timedelta(hours=1), "h"), (timedelta(minutes=1), "min"),
         (timedelta(seconds=1), "s"))
WAYS_OUT = """ways out:
  - a pace with a higher day limit, if your provider grants one ([transport] pace = "custom", per_day = N)
  - Exchange Online High Volume Email (HVE) for mail inside your organisation: docs/hve.md
  - an SMTP relay (your company's Postfix, Amazon SES, Google's SMTP relay service): docs/relay.md
  - fewer people at once: several smaller challenges, or participants named instead of "all"
  - or go ahead anyway with --over-limit: the emails above will be late
more: docs/capacity.md"""


def rate(wins: list[pacing.Window], per_send: timedelta) -> str:
    """The pace as people say it, by its shortest window ("30/min"); with no pace, the speed
    of a send ("about 5/s, no pace set")."""
    if not wins:
        return f"about {timedelta(seconds=1) / max(per_send, timedelta(milliseconds=1)):,.0f}/s (no pace set)"
    length, limit = min(wins)
    unit = next((name for span, name in UNITS if length == span), f"{length.total_seconds():g} s")
    return f"{limit:,}/{unit}"


def ceil_minute(moment: datetime) -> datetime:
    """``moment`` rounded up to the minute: the last email leaves *by* then."""
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def local_zone(sent: Sent):
    """The zone a wave's times are shown in: its own when its zones share one offset then
    (a day wave always does), else None (UTC)."""
    zones = [ct.zone(z) for z in sent.wave.zones]
    if zones and len({sent.wave.at.astimezone(z).utcoffset() for z in zones}) == 1:
        return zones[0]
    return None


def where(sent: Sent) -> str:
    """The wave's zone (the largest group when several share it), how many zones, or what it is."""
    zones = sent.wave.zones
    if not zones:
        return sent.wave.what
    if local_zone(sent) is None:
        return f"{len(zones)} zones"
    more = len(zones) - 1
    return zones[0] + (f" and {more} more zone{'s' if more > 1 else ''}" if more else "")


def span(sent: Sent) -> str:
    """"08:00–09:40 local", with the dates when the last email leaves on another day."""
    zone = local_zone(sent)
    start, end = sent.wave.at.astimezone(zone or timezone.utc), ceil_minute(sent.last).astimezone(zone or timezone.utc)
    suffix = " local" if zone else " UTC"
    if start.date() == end.date():
        return f"{start:%H:%M}–{end:%H:%M}{suffix}"
    return f"{ct.short_date(start.date())} {start:%H:%M}–{ct.short_date(end.date())} {end:%H:%M}{suffix}"


def late_lines(late: list[Sent], pace: str) -> list[str]:
    """One line per wave that cannot go out within the hour (the first few), then a count."""
    lines = [f"{where(s)}: {s.wave.count:,} emails {span(s)} at {pace} ({s.wave.what}, "
             f"{ct.short_date(s.wave.at.astimezone(local_zone(s) or timezone.utc).date())})" for s in late[:SHOWN]]
    more = len(late) - SHOWN
    if more > 0:
        lines.append(f"and {more} more wave{'s' if more > 1 else ''} that take{'s' if more == 1 else ''} "
                     "over an hour (run.py status shows today's)")
    return lines


def duration(length: timedelta) -> str:
    """"40 min", "5 h 20 min", "6.2 days"."""
    minutes = max(int(length.total_seconds() // 60), 0)
    if length >= timedelta(days=1):
        return f"{length / timedelta(days=1):.1f} days"
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def over_parts(found: Assessment) -> list[str]:
    """The busiest day against the limit, what it holds, and how late the last time-bound new
    email would be."""
    days = found.over_days
    when = (f" on {len(days)} day{'s' if len(days) != 1 else ''} between {ct.short_date(days[0])} and "
            f"{ct.short_date(days[-1])}" if len(days) > 1 else f" on {ct.short_date(days[0])}" if days else "")
    parts = [f"{found.peak:,} emails fall due in a day{when}, over the pace's {found.limit:,} a day: "
             + made_of(found.busiest)]
    latest = found.latest
    if latest and latest.late > timedelta(hours=1):
        parts.append(f"the queue grows by up to {found.peak - (found.limit or 0):,} a day, so the last of "
                     f"{latest.wave.what} (due {ct.short_date(latest.wave.at.date())} {latest.wave.at:%H:%M} UTC) "
                     f"would leave {ct.short_date(latest.last.date())} {latest.last:%H:%M} UTC, "
                     f"{duration(latest.late)} late")
    return parts


def over_line(found: Assessment) -> str:
    """``over_parts`` on one line (the warning of ``--over-limit``)."""
    return "; ".join(over_parts(found))


def made_of(waves: list[Wave]) -> str:
    """What the busiest 24 hours hold: "8,000 new (the call X), 8,000 already scheduled (day 3
    of Y, day 4 of Y)"."""
    parts = []
    for new, label in ((True, "new"), (False, "already scheduled")):
        part = [w for w in waves if w.new == new]
        if part:
            whats = list(dict.fromkeys(w.what for w in part))
            shown = ", ".join(whats[:3]) + (f" and {len(whats) - 3} more" if len(whats) > 3 else "")
            parts.append(f"{sum(w.count for w in part):,} {label} ({shown})")
    return ", ".join(parts)


def refusal(found: Assessment, pace_name: str) -> str:
    """Why a command is refused: the figures, the late waves, and the ways out."""
    lines = [f'over the sending limit of pace = "{pace_name}":'] + [f"  {p}" for p in over_parts(found)]
    late = late_lines(found.late, found.rate)
    if late:
        lines += [f"waves that take over an hour at {found.rate}:"] + [f"  {line}" for line in late]
    return "\n".join(lines + [WAYS_OUT])


def wave_json(sent: Sent) -> dict:
    """One wave of ``status``: when it falls due, what, how many, and when its last email leaves."""
    return {"at": sent.wave.at.isoformat(), "what": sent.wave.what, "where": where(sent),
            "count": sent.wave.count, "last": sent.last.isoformat(), "span": span(sent),
            "late": sent.late > timedelta(hours=1)}


def status_lines(forecast: dict) -> list[str]:
    """``status``'s forecast: each wave of the next 24 hours, then whether the backlog grows."""
    lines = [f"next 24 hours at {forecast['rate']}:"] if forecast["waves"] else []
    for wave in forecast["waves"]:
        flag = "  (over an hour)" if wave["late"] else ""
        what = f" ({wave['what']})" if wave["what"] != wave["where"] else ""
        lines.append(f"  {wave['where']}: {wave['count']:,} emails {wave['span']}{what}{flag}")
    backlog, limit = forecast["backlog"], forecast["limit"]
    if forecast["grows"]:
        lines.append(f"backlog grows from day to day: {forecast['per_day']:,} emails fall due a day against "
                     f"{limit or 0:,} allowed; at this hour " + ", ".join(
                         f"{n:,} {when}" for n, when in zip(backlog, ("now", "tomorrow", "in 2 days", "in 3 days")))
                     + " (docs/capacity.md)")
    elif backlog[1:] and max(backlog[1:]) == 0 and backlog[0]:
        lines.append("backlog: what is queued is sent within the day; it does not grow")
    return lines
