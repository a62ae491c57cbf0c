"""What an answer to an invitation means, and whose it is: pure functions, no store.

Calendars answer with an iTIP REPLY (PARTSTAT, SEQUENCE, DTSTAMP), people with words ("See you
there!", "I won't be able to attend", "maybe"). Both become an ``Answer``. Rules from
notes/calendar-invites.md (RFC 5546 §2.1.5 and the clients' bug threads):

- the version answered is the reply's SEQUENCE (a calendar) or the invitation the text replied
  to (its reply token names it); a lower one than the current answers an older time: it is kept
  and marked as such, and never outranks an answer to a newer version;
- at equal version the latest DTSTAMP wins (a text reply's stamp is when it arrived);
- the answering invitee is matched by the ATTENDEE address, also through the people's aliases,
  and routing accepts the answer only when the mail's From is that invitee (SENT-BY and
  DELEGATED-FROM are the sender's own claims); nobody matched: nobody is invented.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Container, Iterable

import icalendar

INTENT_PARTSTAT = {"accept": "accepted", "decline": "declined", "tentative": "tentative"}


@dataclass(frozen=True)
class Answer:
    """One invitee's answer, ready to store."""

    partstat: str  # accepted, declined, tentative
    version: int  # the SEQUENCE it answers
    stamp: datetime  # DTSTAMP of a calendar reply, arrival time of a text one
    kind: str  # "calendar" or "text"
    comment: str = ""


def read_answer(intent: str, rsvp: dict | None, token_version: int | None, current: int,
                received_at: datetime, comment: str = "") -> Answer | None:
    """The answer a routed reply gives, or None when it says nothing we may act on.

    ``rsvp`` is the calendar reading (``inbound.explain.rsvp_dict``) or None for a text reply;
    ``token_version`` the SEQUENCE of the invitation whose token the reply came through.
    """
    partstat = INTENT_PARTSTAT.get(intent)
    if partstat is None:
        return None
    if rsvp is not None:
        version = min(int(rsvp.get("sequence") or 0), current)  # a client's own bump never outranks ours
        return Answer(partstat, version, _stamp(rsvp.get("dtstamp")) or received_at, "calendar",
                      (rsvp.get("comment") or comment or "").strip())
    version = current if token_version is None else min(token_version, current)
    return Answer(partstat, version, received_at, "text", comment.strip())


def _stamp(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def outranks(answer: Answer, stored_version: int | None, stored_stamp: datetime | None) -> bool:
    """Whether ``answer`` replaces the stored one: a newer version, or the same one stamped later."""
    if stored_version is None:
        return True
    if answer.version != stored_version:
        return answer.version > stored_version
    return stored_stamp is None or answer.stamp >= stored_stamp


def is_older(answer: Answer, current: int) -> bool:
    """Whether the answer is to a version before the current one (a time since moved)."""
    return answer.version < current


def answering_invitee(candidates: Iterable[str | None], resolve: Callable[[str], dict | None],
                      invited: Container[int]) -> tuple[dict | None, str | None]:
    """The invited person an answer belongs to, and the address that matched; (None, None) if no one.

    ``candidates`` in order of preference (routing passes the ATTENDEE only). ``resolve`` finds a
    person by address or alias; ``invited`` answers ``person_id in invited`` (a set, or the store's
    indexed look-up). A known person who was not invited is not an answer either.
    """
    for address in candidates:
        address = _plain(address)
        if not address:
            continue
        person = resolve(address)
        if person is not None and person["id"] in invited:
            return person, address
    return None, None


def _plain(address: str | None) -> str:
    return re.sub(r"^mailto:", "", (address or "").strip(), flags=re.IGNORECASE).strip().lower()


def proposed_start(calendar_text: str | None) -> datetime | None:
    """The start a COUNTER proposes (UTC), leniently; None when it cannot be read."""
    try:
        for event in icalendar.Calendar.from_ical(calendar_text or "").walk("VEVENT"):
            start = event.decoded("DTSTART")
            if isinstance(start, datetime):
                return start.astimezone(timezone.utc) if start.tzinfo else start.replace(tzinfo=timezone.utc)
    except Exception:  # noqa: BLE001 - a proposal we cannot read is still kept, without a time
        return None
    return None
