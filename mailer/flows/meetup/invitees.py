"""Who a meetup's mail and calendar event go to, and who has had which email, as the store has it."""
from __future__ import annotations

import re
from datetime import datetime

from sqlite_utils import Database

from mailer.flows.meetup import definition
from mailer.store import meetups as store
from mailer.store import outbox, people

KEY = re.compile(r"^meetup:\d+:(invite|cancel|reminder|highlight):(?:seq:(\d+):)?person:(\d+)$")


def mailable(db: Database, meetup: dict) -> list[dict]:
    """Invitees we may write to (bounced, deactivated or erased: nothing; a calendar server that
    sends a native event's invitations gets only these), each with ``id`` = person id."""
    return [{**p, "id": p["person_id"]} for p in store.list_invitees(db, meetup["id"])
            if p["person_status"] not in people.UNMAILED]


def refresh(db: Database, meetup: dict, now: datetime) -> None:
    """Invite people the invite list names now and did not before (a late joiner of a challenge)."""
    invited = {p["person_id"] for p in store.list_invitees(db, meetup["id"])}
    new = [p for p in definition.resolve_invite(db, meetup["invite_spec"], strict=False) if p["id"] not in invited]
    if new:
        with db.atomic():
            for person in new:
                store.add_invitee(db, meetup["id"], person["id"], now)


def sent(db: Database, meetup_id: int) -> dict[str, dict[int, int]]:
    """Per kind of email (invite, cancel, reminder, highlight), person id -> the highest SEQUENCE
    enqueued (0 for kinds without one); keys as ``emails`` makes them."""
    found: dict[str, dict[int, int]] = {}
    for key in outbox.existing_keys(db, f"meetup:{meetup_id}:"):
        match = KEY.match(key)
        if match:
            kind, seq, pid = match.group(1), int(match.group(2) or 0), int(match.group(3))
            found.setdefault(kind, {})[pid] = max(seq, found.get(kind, {}).get(pid, -1))
    return found
