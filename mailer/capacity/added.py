"""The waves each sending command adds, from what its ``--check`` already resolved.

``challenge start``: the announcement to every member at the next tick (and to participants
who are not members), each day's email at the participants' send hour, the summary the day
after the last, and a report-back meetup's invitations. ``call open``: the call to its
recipients. ``meetup schedule``: the invitations now and a reminder 24 hours before. ``charter
submit``: a request to each approver.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.capacity.forecast import Wave
from mailer.capacity.load import challenge_waves, once, zones_of
from mailer.flows.base import BULK, TIMELY
from mailer.flows.challenge.definition import ChallengeDef, is_member
from mailer.flows.meetup.actions import REMINDER_BEFORE
from mailer.store import people


def challenge_start(db: Database, definition: ChallengeDef, members: tuple[dict, ...], now: datetime) -> list[Wave]:
    """What starting the challenge sends, wave by wave."""
    taking_part = [p for p in members if people.is_mailable(p)]
    ids = {p["id"] for p in taking_part}
    announced = [p for p in people.list_people(db) if people.is_mailable(p) and (p["id"] in ids or is_member(p))]
    title = definition.title
    waves = once(now, announced, f"the announcement of {title}", BULK)
    waves += challenge_waves(title, definition.start, definition.length, definition.send, zones_of(taking_part),
                             now, True)
    if definition.report_back:
        waves += once(now, taking_part, f"the invitations to the report-back meetup of {title}", TIMELY)
    return waves


def call_open(recipients: list[dict], title: str, now: datetime) -> list[Wave]:
    """The call to each recipient at the next tick."""
    return once(now, recipients, f"the call {title}", BULK)


def meetup_schedule(spec: dict, invitees: list[dict], speakers: list[dict], now: datetime) -> list[Wave]:
    """The invitations at the next tick, and the reminders a day before (at most everyone)."""
    everyone = list({p["id"]: p for p in [*invitees, *speakers]}.values())
    title = spec["title"]
    waves = once(now, everyone, f"the invitations to {title}", TIMELY)
    reminder_at = spec["start"] - REMINDER_BEFORE
    if everyone and reminder_at > now:
        waves.append(Wave(reminder_at, len(everyone), f"the reminders of {title}", TIMELY,
                          tuple(z for z, _ in zones_of(everyone).most_common()), True, f"reminders {title}"))
    return waves


def charter_submit(db: Database, approvers: list[str], title: str, now: datetime) -> list[Wave]:
    """A request to each approver at the next tick."""
    found = [people.find_person(db, a) for a in approvers]
    return once(now, [p for p in found if p is not None and people.is_mailable(p)],
                f"the approval requests for {title}", BULK)
