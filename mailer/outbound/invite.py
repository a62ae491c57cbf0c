"""iCalendar invitations (iTIP over email, RFC 5546/6047): one VEVENT per email, built with icalendar.

What the clients need (notes/calendar-invites.md): ``METHOD:REQUEST`` (an update is a REQUEST
with the same UID and a higher SEQUENCE) or ``METHOD:CANCEL`` with ``STATUS:CANCELLED``; a stable
UID per meetup; a fresh DTSTAMP on every send; ORGANIZER a mailbox we read (replies go there,
not to Reply-To) and never listed as an attendee; one ATTENDEE for the recipient with RSVP=TRUE
(without it Gmail shows "Add to calendar" instead of Yes/No/Maybe). Times are written in UTC
with no VTIMEZONE: the RDATE-style VTIMEZONEs icalendar generates are read an hour wrong by
vobject/Radicale on some dates, and Outlook is reported to mis-read them too. No VALARM:
clients ignore an organiser's alarms. All functions are pure: the stamp is passed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import icalendar

from mailer.locale import SOURCE
from mailer.locale.text import _, localize

PRODID = "-//cop-mailer//meetup invites//EN"
METHODS = ("REQUEST", "CANCEL")


@dataclass(frozen=True)
class EventInfo:
    """What a calendar entry says about a meetup, whoever receives it."""

    uid: str
    sequence: int
    title: str
    start: datetime  # aware; written in UTC
    duration_minutes: int
    location: str = ""
    online_url: str = ""
    description: str = ""


@dataclass(frozen=True)
class Party:
    """An address in the invitation: the organiser (our mailbox) or the attendee mailed."""

    email: str
    name: str = ""


def request(event: EventInfo, organizer: Party, attendee: Party, stamp: datetime, language: str = SOURCE) -> bytes:
    """A ``METHOD:REQUEST`` for ``attendee``: a first invitation or an update (same UID, higher SEQUENCE);
    its fixed text in the attendee's ``language``."""
    return _calendar("REQUEST", event, organizer, attendee, stamp, language)


def cancel(event: EventInfo, organizer: Party, attendee: Party, stamp: datetime, language: str = SOURCE) -> bytes:
    """A ``METHOD:CANCEL`` with ``STATUS:CANCELLED``; ``event.sequence`` must be above the last request's."""
    return _calendar("CANCEL", event, organizer, attendee, stamp, language)


def _calendar(method: str, event: EventInfo, organizer: Party, attendee: Party, stamp: datetime,
              language: str) -> bytes:
    """The calendar for ``attendee``: everything but their ATTENDEE line is built once per meetup
    version, stamp and language (``_shared``) and shared by every invitee (issue 25)."""
    head, tail = _shared(method, event, organizer, _utc(stamp).replace(microsecond=0), language)
    return b"".join((head, _attendee_line(attendee), tail))


_PLACEHOLDER = Party("attendee@invalid")


@lru_cache(maxsize=64)
def _shared(method: str, event: EventInfo, organizer: Party, stamp: datetime, language: str) -> tuple[bytes, bytes]:
    """The calendar around its one ATTENDEE line (folded over continuation lines that start
    with a space, RFC 5545 3.1): what comes before it and after it."""
    whole = whole_calendar(method, event, organizer, _PLACEHOLDER, stamp, language)
    start = whole.index(b"\r\nATTENDEE") + 2
    end = whole.index(b"\r\n", start)
    while whole.startswith(b" ", end + 2):
        end = whole.index(b"\r\n", end + 2)
    return whole[:start], whole[end + 2:]


def _attendee_line(party: Party) -> bytes:
    """The recipient's ATTENDEE content line, folded, as ``Calendar.to_ical`` writes it."""
    return fold(_LINES.content_line("ATTENDEE", _attendee(party))) + b"\r\n"


_FOLD_AT = 74  # octets a folded line holds before its CRLF (icalendar 7 folds before the 75th)


def fold(line: str) -> bytes:
    """A content line folded as icalendar's ``Contentline.to_ical`` folds it (tested against it),
    without its loop over every character (issue 25: an invitation per invitee).

    RFC 5545 3.1: a line longer than 75 octets is split between two characters by CRLF and a
    space; never inside a UTF-8 character. icalendar keeps each part at 74 octets at most and
    does not end a part with a backslash or a caret (the first half of a TEXT or RFC 6868
    escape): that character begins the next part."""
    data = line.encode("utf-8")
    parts, start = [], 0
    while len(data) - start > _FOLD_AT:
        end = start + _FOLD_AT
        while data[end] & 0xC0 == 0x80:  # a continuation octet: the character began earlier
            end -= 1
        if data[end - 1] in b"\\^" and end - 1 > start:
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts)


_LINES = icalendar.cal.component.Component()


def whole_calendar(method: str, event: EventInfo, organizer: Party, attendee: Party, stamp: datetime,
                   language: str) -> bytes:
    """The calendar built in one piece for one attendee (what ``_calendar`` must equal)."""
    # SUMMARY is the meetup's own title as its organiser wrote it, with no fixed prefix: a
    # client adds its own ("Accepted:", "Abgesagt:") in its user's language.
    vevent = icalendar.Event.new(
        uid=event.uid, sequence=event.sequence, summary=event.title,
        description=_description(event, language) or None, location=location(event) or None,
        url=event.online_url or None, start=_utc(event.start),
        end=_utc(event.start) + timedelta(minutes=event.duration_minutes),
        organizer=icalendar.vCalAddress.new(organizer.email, cn=organizer.name or None),
        attendees=[_attendee(attendee)], status="CANCELLED" if method == "CANCEL" else "CONFIRMED",
        stamp=_utc(stamp).replace(microsecond=0))
    cal = icalendar.Calendar.new(method=method, prodid=PRODID, subcomponents=[vevent])
    # icalendar 7 adds an RFC 7986 UID to VCALENDAR itself; iMIP clients expect only the event's.
    cal.pop("UID", None)
    return cal.to_ical()


def _attendee(party: Party) -> icalendar.vCalAddress:
    return icalendar.vCalAddress.new(party.email, cn=party.name or None, role="REQ-PARTICIPANT",
                                     partstat="NEEDS-ACTION", rsvp=True, cutype="INDIVIDUAL")


def location(event: EventInfo) -> str:
    """A room, a link, or both (online meetings: the link in LOCATION, DESCRIPTION and URL)."""
    link = event.online_url if event.online_url and event.online_url not in event.location else ""
    return " · ".join(part for part in (event.location, link) if part)


def _description(event: EventInfo, language: str) -> str:
    if event.online_url and event.online_url not in event.description:
        join = localize(_("Join online: %(url)s", url=event.online_url), language)
        return f"{event.description}\n\n{join}".strip()
    return event.description


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("meetup times must be timezone-aware")
    return moment.astimezone(timezone.utc)


def for_storage(data: bytes) -> bytes:
    """The calendar object a CalDAV server stores for an invitation: the same VEVENT, no METHOD.

    RFC 4791 §4.1 forbids METHOD in stored calendar objects; a client importing the invite drops it.
    """
    cal = icalendar.Calendar.from_ical(data)
    cal.pop("METHOD", None)
    return cal.to_ical()
