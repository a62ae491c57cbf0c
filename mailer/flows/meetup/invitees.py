"""Who a meetup's mail and calendar event go to, and who has had which email, as the store has it."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterator

from sqlite_utils import Database

from mailer.flows.meetup import definition
from mailer.store import meetup_plans as plan_marks
from mailer.store import meetups as store
from mailer.store import outbox, people

KEY = re.compile(r"^meetup:\d+:(invite|cancel|reminder|highlight):(?:seq:(\d+):)?person:(\d+)$")


class Mailable:
    """A meetup's invitees we may write to (bounced, deactivated or erased: nothing; a calendar
    server that sends a native event's invitations gets only these), each row with ``id`` = person
    id, by email. Read from the store a page at a time each time it is walked, so a 50,000-person
    meetup's plan never holds every invitee at once."""

    def __init__(self, db: Database, meetup_id: int) -> None:
        self.db, self.meetup_id = db, meetup_id

    def __iter__(self) -> Iterator[dict]:
        for row in store.stream_invitees(self.db, self.meetup_id):
            if row["person_status"] not in people.UNMAILED:
                row["id"] = row["person_id"]
                yield row

    def speakers(self) -> list[str]:
        """The speakers' names, by email (one query, not a walk over every invitee)."""
        return store.speaker_names(self.db, self.meetup_id, people.UNMAILED)


def mailable(db: Database, meetup: dict) -> Mailable:
    """The invitees we may write to, walked a page at a time (see ``Mailable``)."""
    return Mailable(db, meetup["id"])


def refresh(db: Database, meetup: dict, now: datetime) -> int:
    """Invite people the invite list names now and did not before (a late joiner of a challenge);
    how many were added.

    Once per change: the list is resolved again only when the store cleared the meetup's mark
    (people, participants, a team or a call changed: ``store.meetups`` triggers) or a new person
    arrived since it was last resolved; otherwise this is one look-up.
    """
    newest = people.newest_id(db)
    if meetup.get("invites_people_seen") == newest:
        return 0
    with db.atomic():  # the mark first: a change committed by another process meanwhile waits, then clears it
        plan_marks.set_invites_seen(db, meetup["id"], newest)
        invited = store.invitee_ids(db, meetup["id"])
        new = [p["id"] for p in definition.resolve_invite(db, meetup["invite_spec"], strict=False)
               if p["id"] not in invited]
        added = store.add_invitees(db, meetup["id"], new, now) if new else 0
    meetup["invites_people_seen"] = newest
    return added


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
