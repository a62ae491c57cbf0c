"""What an organiser (or another flow) does to a meetup: schedule, move, cancel, add a speaker,
record who came. Each verb changes the store only; the emails follow from ``flow.due``.

``schedule_meetup(db, spec, now)`` is the public verb other flows call (a challenge's
``[report_back]``, a charter's report-backs); ``spec`` has the keys of a meetup file with
``start`` an aware datetime (see ``definition``).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlite_utils import Database

from mailer.errors import ConfigError, NotFoundError
from mailer.flows.challenge import timing
from mailer.flows.meetup import definition
from mailer.store import meetups as store
from mailer.store import people

REMINDER_BEFORE = timedelta(hours=24)


def check_slot(db: Database, spec: dict[str, Any], now: datetime, where: str | None = None) -> datetime:
    """The rules on a meetup's time, before anyone is invited: a start still ahead, a real time
    zone, and not the same title at the same moment twice. Returns the start in UTC (a
    challenge's ``--check`` runs this on its ``[report_back]``)."""
    where = where or spec.get("source") or "meetup"
    start = _checked_start(spec, where, now)
    definition.check_zone(spec.get("timezone"), where, "timezone", required=True)
    if store.find_meetup(db, spec["title"], start):
        raise ConfigError(f"{where}: \"{spec['title']}\" at {start:%Y-%m-%d %H:%M} UTC is already scheduled")
    return start


def _checked_start(spec: dict[str, Any], where: str, now: datetime) -> datetime:
    """The spec's start in UTC; ConfigError when it is not an aware time or is already past."""
    start = spec.get("start")
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise ConfigError(f"{where}: start = {start!r}; expected a timezone-aware date and time")
    if start <= now:
        raise ConfigError(f"{where}: start {start:%Y-%m-%d %H:%M} UTC is already past")
    return start.astimezone(timezone.utc)


def resolve(db: Database, spec: dict[str, Any], now: datetime) -> tuple[list[dict], list[dict]]:
    """(invitees, speakers) a spec names; ConfigError for an unknown person, kind or zone."""
    where = spec.get("source") or "meetup"
    _checked_start(spec, where, now)
    definition.check_zone(spec.get("timezone"), where, "timezone", required=True)
    invite = spec.get("invite") or []
    invitees = definition.resolve_invite(db, [invite] if isinstance(invite, str) else list(invite),
                                         f"{where}: invite")
    speakers = definition.resolve_invite(db, list(spec.get("speakers") or []), f"{where}: speakers")
    return invitees, speakers


def check(db: Database, spec: dict[str, Any], now: datetime) -> tuple[list[dict], list[dict]]:
    """Every rule ``meetup schedule`` enforces on a meetup file's spec, changing nothing
    (``--check`` runs exactly this): a start still ahead, a real zone, known people, at least
    one person to invite, and not the same meetup twice. Returns (invitees, speakers)."""
    invitees, speakers = resolve(db, spec, now)
    if not invitees and not speakers:
        raise ConfigError(f"{spec.get('source') or 'meetup'}: invite = {list(spec.get('invite') or [])!r} "
                          "names nobody who can be invited; expected known people, \"all\", a role "
                          "someone has, or a challenge, charter or call with people in it")
    check_slot(db, spec, now)
    return invitees, speakers


def schedule_meetup(db: Database, spec: dict[str, Any], now: datetime) -> int:
    """Store a meetup and its invitees; the invitations go out at the next tick. Returns its id."""
    where = spec.get("source") or "meetup"
    invitees, speakers = resolve(db, spec, now)
    start = check_slot(db, spec, now)
    invite = spec.get("invite") or []
    fields = {"uid": spec.get("uid") or f"meetup-{secrets.token_hex(10)}@cop-mailer", "title": spec["title"],
              "start": start, "duration_minutes": int(spec.get("duration_minutes") or 60),
              "timezone": spec["timezone"], "location": spec.get("location") or "",
              "online_url": spec.get("online_url") or "", "description": spec.get("description") or "",
              "invite_spec": [invite] if isinstance(invite, str) else list(invite),
              "sponsors": [s.lower() for s in spec.get("sponsors") or ()], "source": where}
    with db.atomic():
        meetup_id = store.create_meetup(db, fields, now)
        for person in invitees:
            store.add_invitee(db, meetup_id, person["id"], now)
        for person in speakers:
            store.add_invitee(db, meetup_id, person["id"], now, speaker=True)
    return meetup_id


def describe(spec: dict[str, Any], invitees: list[dict], speakers: list[dict]) -> str:
    """What scheduling would do, in one plain line (for ``--check``)."""
    everyone = {p["id"] for p in invitees} | {p["id"] for p in speakers}
    local = spec["start"].astimezone(timing.zone(spec["timezone"]))
    return (f"{len(everyone)} invitee{'s' if len(everyone) != 1 else ''}, {timing.short_date(local.date())} "
            f"{local.year} {local:%H:%M} {spec['timezone']} ({spec['start'].astimezone(timezone.utc):%H:%M} UTC), "
            f"{spec.get('duration_minutes') or 60} minutes; invitations go out at the next tick")


def add_speaker(db: Database, meetup_id: int, person_id: int, now: datetime) -> bool:
    """Make a person a speaker (and an invitee: they get the current version at the next tick).

    False when nothing changed: already a speaker, or the meetup is cancelled or has begun (a
    volunteer call feeding this meetup then tells them so instead of failing).
    """
    meetup = store.get_meetup(db, meetup_id)
    people.get_person(db, person_id)
    current = store.get_invitee(db, meetup_id, person_id)
    if meetup["state"] == "cancelled" or now >= meetup["start"] or (current and current["speaker"]):
        return False
    store.add_invitee(db, meetup_id, person_id, now, speaker=True)
    return True


def remove_speaker(db: Database, meetup_id: int, person_id: int, now: datetime) -> None:
    """No longer a speaker (a volunteer who withdrew); they stay invited, with their answer."""
    store.set_speaker(db, meetup_id, person_id, False)


def _open(db: Database, meetup_id: int) -> dict:
    meetup = store.get_meetup(db, meetup_id)
    if meetup["state"] == "cancelled":
        raise ConfigError(f"meetup {meetup_id} is cancelled")
    return meetup


def move_meetup(db: Database, meetup_id: int, start: datetime, duration_minutes: int | None,
                now: datetime) -> dict:
    """A new time (and length): everyone gets one update and answers start again. Returns the meetup."""
    meetup = _open(db, meetup_id)
    if start.tzinfo is None:
        start = definition.to_utc(start, meetup["timezone"], f"meetup {meetup_id}")
    if start <= now:
        raise ConfigError(f"meetup {meetup_id}: {start:%Y-%m-%d %H:%M} UTC is already past")
    duration = duration_minutes or meetup["duration_minutes"]
    if not 5 <= duration <= 1440:
        raise ConfigError(f"meetup {meetup_id}: duration {duration}; expected 5 to 1440 minutes")
    if start == meetup["start"] and duration == meetup["duration_minutes"]:
        return meetup
    store.move_meetup(db, meetup_id, start.astimezone(timezone.utc), duration, now)
    return store.get_meetup(db, meetup_id)


def cancel_meetup(db: Database, meetup_id: int, reason: str, now: datetime) -> dict:
    """Cancel it: everyone who was sent an invitation gets one cancellation. Returns the meetup."""
    meetup = _open(db, meetup_id)
    if now >= meetup["end"]:
        raise ConfigError(f"meetup {meetup_id} already took place ({meetup['start']:%Y-%m-%d %H:%M} UTC)")
    store.cancel_meetup(db, meetup_id, reason.strip(), now)
    return store.get_meetup(db, meetup_id)


def record_attendance(db: Database, meetup_id: int, emails: list[str], now: datetime) -> list[dict]:
    """Record who came (a walk-in known person too); they are then asked for one highlight."""
    meetup = _open(db, meetup_id)
    if now < meetup["start"]:
        raise ConfigError(f"meetup {meetup_id} has not started yet ({meetup['start']:%Y-%m-%d %H:%M} UTC)")
    found = []
    for email in emails:
        person = people.find_person(db, email)
        if person is None:
            raise NotFoundError(f"no person with address {email}")
        found.append(person)
    with db.atomic():
        for person in found:
            store.add_invitee(db, meetup_id, person["id"], now)
            store.set_attended(db, meetup_id, person["id"])
    return found
