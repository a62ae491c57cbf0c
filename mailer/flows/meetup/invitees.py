"""Who a meetup's mail and calendar event go to, as the store has it at ``now``."""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.flows.meetup import definition
from mailer.store import meetups as store


def mailable(db: Database, meetup: dict) -> list[dict]:
    """Invitees we may write to (a bounced address gets nothing), each with ``id`` = person id."""
    return [{**p, "id": p["person_id"]} for p in store.list_invitees(db, meetup["id"])
            if p["person_status"] != "bounced"]


def refresh(db: Database, meetup: dict, now: datetime) -> None:
    """Invite people the invite list names now and did not before (a late joiner of a challenge)."""
    invited = {p["person_id"] for p in store.list_invitees(db, meetup["id"])}
    new = [p for p in definition.resolve_invite(db, meetup["invite_spec"], strict=False) if p["id"] not in invited]
    if new:
        with db.atomic():
            for person in new:
                store.add_invitee(db, meetup["id"], person["id"], now)
