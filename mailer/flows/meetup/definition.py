"""A meetup as a TOML file, who it invites, and scheduling it.

Every key of a meetup file (unknown keys are errors)::

    title            text, required ("Report-back meetup").
    start            local date and time, required: 2027-03-30T18:00:00 (TOML) or "2027-03-30 18:00",
                     in ``timezone``. A time the clocks skip or pass twice is refused.
    timezone         IANA time zone, required ("Europe/London").
    duration_minutes whole number 5-1440, optional (60).
    location         text, optional: a room, a link, or both ("Room 4", "https://meet.example.com/x").
    online_url       text, optional: the meeting link, when ``location`` names a room.
    description      text, optional: a few sentences for the invitation.
    invite           required: a list of email addresses of known people, or references that
                     resolve when the meetup is scheduled and again after each change to them
                     (latecomers get the current version): "challenge:ID" (its participants), "charter:ID" (the
                     project team), "call:ID" (confirmed volunteers), "all" (every member, as a
                     call's ``to = "all"``: people with the role "member" or no role, bounced
                     addresses left out) or a role ("lead"). One of those, or a list mixing them.
    speakers         list of email addresses, optional ([]): invited too, and named in the invite.
    sponsors         list of email addresses, optional ([]): whose digest shows the meetup.

A challenge (or a charter) file may carry a ``[report_back]`` table; ``parse_report_back`` reads it
(days_after_end, hour, duration_minutes, location, timezone) and ``report_back_spec`` turns it
into a meetup at the end of that challenge.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from sqlite_utils import Database

from mailer.errors import ConfigError
from mailer.flows import toml_file
from mailer.flows.challenge import timing
from mailer.store import challenges as challenge_store
from mailer.store import people

KEYS = ("title", "start", "timezone", "duration_minutes", "location", "online_url", "description",
        "invite", "speakers", "sponsors")
REPORT_BACK_KEYS = ("days_after_end", "hour", "duration_minutes", "location", "timezone")
EMAIL = re.compile(r"^[^@\s:]+@[^@\s]+\.[^@\s]+$")
REFERENCE = re.compile(r"^(challenge|charter|call):(\d+)$")
ROLE = re.compile(r"^[a-z][a-z0-9_-]*$")
EVERYONE = ("all", "member")  # every member still mailed: people with the role "member" or no role


@dataclass(frozen=True)
class ReportBack:
    """A ``[report_back]`` table: a meetup some days after a challenge (or charter) ends."""

    days_after_end: int
    at: time
    duration_minutes: int
    location: str
    timezone: str | None  # None: the time zone most participants share


def load_definition(path: Path) -> dict[str, Any]:
    """Read and validate a meetup file; the spec ``schedule_meetup`` takes."""
    raw = toml_file.read(path)
    return parse_definition(raw, Path(path))


def parse_definition(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Validate a parsed meetup file; ConfigError names the file, the key, the value and what was expected."""
    toml_file.refuse_unknown(raw, KEYS, str(path))
    zone = check_zone(raw.get("timezone"), path, "timezone", required=True)
    location = toml_file.text(raw, "location", path)
    online = toml_file.text(raw, "online_url", path)
    if not online and re.match(r"https?://\S+$", location):
        online = location  # a link alone is the online meeting
    return {
        "title": toml_file.title(raw, "title", path), "timezone": zone,
        "start": local_start(raw.get("start"), zone, path), "location": location, "online_url": online,
        "duration_minutes": toml_file.whole(raw.get("duration_minutes", 60), path, "duration_minutes", 5, 1440),
        "description": toml_file.text(raw, "description", path), "invite": _invite(raw.get("invite"), path),
        "speakers": _addresses(raw.get("speakers", []), path, "speakers"),
        "sponsors": _addresses(raw.get("sponsors", []), path, "sponsors"), "source": str(path),
    }


def check_zone(value: Any, path: Path | str, key: str, required: bool = False) -> str | None:
    """``value`` if it is an IANA time zone (None when absent and optional); else ConfigError."""
    if value is None and not required:
        return None
    try:
        timing.zone(value)
    except (ValueError, TypeError):
        raise ConfigError(f"{path}: {key} = {value!r}; expected an IANA time zone like \"Europe/London\"") from None
    return value


def local_start(value: Any, zone: str, path: Path | str) -> datetime:
    """``start`` (local wall time in ``zone``) as an aware UTC datetime; refuses skipped or doubled times."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    if not isinstance(value, datetime):
        raise ConfigError(f"{path}: start = {value!r}; expected a local date and time like 2027-03-30T18:00:00")
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    return to_utc(value, zone, path)


def to_utc(local: datetime, zone: str, where: Path | str) -> datetime:
    """A naive wall-clock time in ``zone`` as UTC; ConfigError in a DST gap or overlap."""
    tz = timing.zone(zone)
    first, second = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
        what = "does not exist (the clocks go forward)" if back != local else "happens twice (the clocks go back)"
        raise ConfigError(f"{where}: start = {local:%Y-%m-%dT%H:%M} {what} in {zone}; pick another time")
    return first.astimezone(timezone.utc)


def _invite(value: Any, path: Path) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: invite = {value!r}; expected a list of email addresses, "
                          "\"challenge:ID\", \"charter:ID\", \"call:ID\" or a role name")
    found: list[str] = []
    for item in items:
        text = item.strip().lower() if isinstance(item, str) else ""
        if not (EMAIL.match(text) or REFERENCE.match(text) or ROLE.match(text)):
            raise ConfigError(f"{path}: invite: {item!r} is not an email address, \"challenge:ID\", "
                              "\"charter:ID\", \"call:ID\" or a role name")
        if text not in found:
            found.append(text)
    return tuple(found)


def _addresses(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and EMAIL.match(v.strip()) for v in value):
        raise ConfigError(f"{path}: {key} = {value!r}; expected a list of email addresses")
    return tuple(dict.fromkeys(v.strip().lower() for v in value))


# -- who is invited ---------------------------------------------------------------------------

def resolve_invite(db: Database, items: tuple[str, ...] | list[str], where: str = "invite",
                   strict: bool = True) -> list[dict]:
    """The people an invite list names, once each; ConfigError for what cannot be resolved.

    With ``strict=False`` (every tick) an unknown address or an unavailable kind is skipped.
    """
    chosen: dict[int, dict] = {}
    for item in items:
        try:
            for person in _resolve_one(db, item, where):
                chosen.setdefault(person["id"], person)
        except ConfigError:
            if strict:
                raise
    return list(chosen.values())


def _resolve_one(db: Database, item: str, where: str) -> list[dict]:
    if EMAIL.match(item):
        person = people.find_person(db, item)
        if person is None:
            raise ConfigError(f"{where}: {item} is not a known person (add them with `people import` first)")
        return [person]
    ref = REFERENCE.match(item)
    if item in EVERYONE:  # as in a call's `to` and a challenge's participants: every member
        return [p for p in people.list_people(db) if people.is_mailable(p) and (not _roles(p) or "member" in _roles(p))]
    if ref is None:
        return [p for p in people.list_people(db) if item in _roles(p)]
    kind, number = ref.group(1), int(ref.group(2))
    if kind == "challenge":
        challenge_store.get_challenge(db, number)
        return people.get_people(db, [p["person_id"] for p in challenge_store.list_participants(db, number)
                                      if p["status"] != "stopped"])  # one query per 500, not one per person
    return _people_of(db, _other_flow(kind, where)(db, number), item, where)


def _other_flow(kind: str, where: str) -> Callable[[Database, int], Any]:
    """``charter.team_members`` or ``call.confirmed``, imported only when a meetup names them."""
    try:
        if kind == "charter":
            from mailer.flows.charter import team_members
            return team_members
        from mailer.flows.call import confirmed
        return confirmed
    except ImportError:
        raise ConfigError(f"{where}: \"{kind}:ID\" is not available here: this installation has no "
                          f"{kind} flow (mailer.flows.{kind})") from None


def _people_of(db: Database, found: Any, item: str, where: str) -> list[dict]:
    """People from another flow's answer: person dicts, person ids or email addresses (looked up
    together, not one query per person)."""
    entries = [(e.get("person_id") or e.get("id") or e.get("email")) if isinstance(e, dict) else e
               for e in found or ()]
    by_id = {p["id"]: p for p in people.get_people(db, [e for e in entries if isinstance(e, int)])}
    by_email = people.find_people(db, {str(e) for e in entries if not isinstance(e, int)})
    chosen = []
    for entry in entries:
        person = by_id.get(entry) if isinstance(entry, int) else by_email.get(str(entry).strip().lower())
        if person is None:
            raise ConfigError(f"{where}: {item} names {entry!r}, who is not a known person")
        chosen.append(person)
    return chosen


def _roles(person: dict) -> set[str]:
    return {r.lower() for r in re.split(r"[,\s]+", person.get("roles") or "") if r}


# -- [report_back] in a challenge or charter file ----------------------------------------------------

def parse_report_back(raw: Any, path: Path | str) -> ReportBack:
    """Validate a ``[report_back]`` table (days_after_end, hour, duration_minutes, location, timezone)."""
    where = f"{path}: report_back"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table ([report_back])")
    toml_file.refuse_unknown(raw, REPORT_BACK_KEYS, where)
    hour = raw.get("hour", 17)
    at = toml_file.clock(hour, where, "hour", 17)
    location = raw.get("location", "")
    if not isinstance(location, str):
        raise ConfigError(f"{where}: location = {location!r}; expected text")
    return ReportBack(days_after_end=toml_file.whole(raw.get("days_after_end", 1), Path(where), "days_after_end", 0, 60),
                      at=at, duration_minutes=toml_file.whole(raw.get("duration_minutes", 60), Path(where),
                                                     "duration_minutes", 5, 1440),
                      location=location.strip(), timezone=check_zone(raw.get("timezone"), Path(where), "timezone"))


def report_back_spec(report: ReportBack, title: str, last_day: date, zones: list[str], invite: str,
                     sponsors: tuple[str, ...] | list[str], source: str) -> dict[str, Any]:
    """The meetup spec for a report-back ``days_after_end`` days after ``last_day``.

    Without a time zone in the table, the one most participants share (``zones``) is used.
    """
    zone = report.timezone or (max(sorted(set(zones)), key=zones.count) if zones else "UTC")
    local = datetime.combine(last_day + timedelta(days=report.days_after_end), report.at)
    online = report.location if re.match(r"https?://\S+$", report.location) else ""
    return {"title": f"{title}: report-back meetup", "start": to_utc(local, zone, f"{source}: report_back"),
            "timezone": zone, "duration_minutes": report.duration_minutes, "location": report.location,
            "online_url": online, "description": f"Highlights from {title}: what we tried, what worked.",
            "invite": [invite], "speakers": [], "sponsors": list(sponsors), "source": source}
