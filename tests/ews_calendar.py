"""Calendar items for the test EWS server (tests/ews_server.py): the meeting, its attendees and
what Exchange would mail them.

Kept apart from the SOAP plumbing: this module knows what a ``t:CalendarItem`` holds, how
SetItemField/AppendToItemField/DeleteItemField change it, and who a change is mailed to under
each SendMeetingInvitations(OrCancellations) mode. The server files items, answers requests and
keeps the log of meeting mail (``EwsServer.meeting_mail``) that tests assert on.

Who is mailed, as Exchange documents the modes: SendToNone nobody; SendToAllAndSaveCopy (and
SendOnlyToAll) every attendee; SendToChangedAndSaveCopy (and SendOnlyToChanged) only those the
change concerns: an attendee added gets an invitation, one removed a cancellation, and everyone
gets an update once the time, place, subject or text changed.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lxml import etree

T = "http://schemas.microsoft.com/exchange/services/2006/types"
ATTENDEE_LISTS = {"RequiredAttendees": "required", "OptionalAttendees": "optional"}
RESPONSE_TYPES = {"Unknown", "Organizer", "Tentative", "Accept", "Decline", "NoResponseReceived"}
SEND_ALL = {"SendToAllAndSaveCopy", "SendOnlyToAll"}
SEND_CHANGED = {"SendToChangedAndSaveCopy", "SendOnlyToChanged"}
_uids = itertools.count(1)


def t(tag: str) -> str:
    """Clark notation for a ``t:`` (types namespace) element."""
    return f"{{{T}}}{tag}"


def ews_time(text: str) -> datetime:
    """An xs:dateTime as exchangelib sends it (``…Z`` or with an offset) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # Exchange reads a bare time in the request's time zone; we only get UTC
        raise ValueError(f"time without an offset: {text}")
    return moment.astimezone(timezone.utc)


def ews_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Attendee:
    """One attendee as the organizer's item tracks them."""

    email: str
    response: str = "Unknown"  # ResponseType: Accept, Decline, Tentative, NoResponseReceived, ...
    at: datetime | None = None  # LastResponseTime


@dataclass(frozen=True)
class MeetingMail:
    """One meeting message Exchange sent on the organizer's behalf."""

    uid: str
    action: str  # "invite", "update", "cancel"
    recipients: tuple[str, ...]
    note: str = ""  # the cancellation's NewBodyContent


@dataclass
class CalendarEntry:
    """What the organizer's calendar item holds."""

    uid: str = ""
    subject: str = ""
    body: str = ""
    body_type: str = "HTML"
    start: datetime | None = None
    end: datetime | None = None
    location: str = ""
    required: list[Attendee] = field(default_factory=list)
    optional: list[Attendee] = field(default_factory=list)
    cancelled: bool = False

    @classmethod
    def from_xml(cls, elem: etree._Element) -> "CalendarEntry":
        """A new entry from CreateItem's ``t:CalendarItem``; Exchange makes a UID when none is given."""
        entry = cls()
        for child in elem:
            entry.set_field(child)
        if entry.start is None or entry.end is None:
            raise ValueError("a calendar item needs Start and End")
        entry.uid = entry.uid or f"040000008200E00074C5B7101A82E008{next(_uids):016X}"
        return entry

    def attendees(self) -> list[Attendee]:
        return self.required + self.optional

    def addresses(self) -> tuple[str, ...]:
        return tuple(a.email for a in self.attendees())

    def apply(self, update: etree._Element) -> str:
        """One UpdateItem SetItemField, AppendToItemField or DeleteItemField; the local name of its field."""
        kind = etree.QName(update).localname
        if kind == "DeleteItemField":
            return self.delete_field(update.find(t("FieldURI")).get("FieldURI"))
        value = update.find(t("CalendarItem"))
        if value is None or len(value) != 1:
            raise ValueError(f"{kind} needs one CalendarItem field")
        return self.append_field(value[0]) if kind == "AppendToItemField" else self.set_field(value[0])

    def set_field(self, child: etree._Element) -> str:
        """Set the field one child element carries; return its local name."""
        name = etree.QName(child).localname
        if name in ATTENDEE_LISTS:
            setattr(self, ATTENDEE_LISTS[name], self._merge(parse_attendees(child)))
        elif name in ("Start", "End"):
            setattr(self, name.lower(), ews_time(child.text))
        elif name == "Body":
            self.body, self.body_type = child.text or "", child.get("BodyType", "Text")
        elif name in ("UID", "Subject", "Location"):
            setattr(self, name.lower(), child.text or "")
        return name

    def append_field(self, child: etree._Element) -> str:
        """AppendToItemField: attendees are added to the list, nothing else may be appended to."""
        name = etree.QName(child).localname
        if name not in ATTENDEE_LISTS:
            raise ValueError(f"cannot append to {name}")
        kind = ATTENDEE_LISTS[name]
        setattr(self, kind, getattr(self, kind) + self._merge(parse_attendees(child)))
        return name

    def delete_field(self, uri: str) -> str:
        """DeleteItemField by FieldURI (``calendar:Location``, ``calendar:OptionalAttendees``)."""
        name = uri.partition(":")[2]
        if name in ATTENDEE_LISTS:
            setattr(self, ATTENDEE_LISTS[name], [])
        elif name in ("Location", "Subject"):
            setattr(self, name.lower(), "")
        elif name == "Body":
            self.body = ""
        return name

    def _merge(self, incoming: list[Attendee]) -> list[Attendee]:
        """An attendee already on the item keeps their answer: Exchange tracks it by address."""
        known = {a.email.lower(): a for a in self.attendees()}
        return [known.get(a.email.lower(), a) for a in incoming]

    def respond(self, address: str, response: str, at: datetime) -> None:
        """Record an attendee's answer as Exchange does when their reply arrives."""
        if response not in RESPONSE_TYPES:
            raise ValueError(f"not a ResponseType: {response}")
        for attendee in self.attendees():
            if attendee.email.lower() == address.lower():
                attendee.response, attendee.at = response, at
                return
        raise KeyError(address)

    def to_xml(self, parent: etree._Element) -> None:
        """The calendar fields of a GetItem answer, inside ``parent`` (the ``t:CalendarItem``)."""
        etree.SubElement(parent, t("Subject")).text = self.subject
        etree.SubElement(parent, t("Body"), BodyType=self.body_type).text = self.body
        etree.SubElement(parent, t("UID")).text = self.uid
        etree.SubElement(parent, t("Start")).text = ews_text(self.start)
        etree.SubElement(parent, t("End")).text = ews_text(self.end)
        etree.SubElement(parent, t("IsCancelled")).text = "true" if self.cancelled else "false"
        etree.SubElement(parent, t("Location")).text = self.location
        for tag, kind in ATTENDEE_LISTS.items():
            if getattr(self, kind):
                attendees_xml(etree.SubElement(parent, t(tag)), getattr(self, kind))


def parse_attendees(elem: etree._Element) -> list[Attendee]:
    """``t:Attendee/t:Mailbox/t:EmailAddress`` of a RequiredAttendees or OptionalAttendees list."""
    return [Attendee(a.findtext(f"{t('Mailbox')}/{t('EmailAddress')}") or "") for a in elem.iter(t("Attendee"))]


def attendees_xml(parent: etree._Element, attendees: list[Attendee]) -> None:
    for attendee in attendees:
        elem = etree.SubElement(parent, t("Attendee"))
        mailbox = etree.SubElement(elem, t("Mailbox"))
        etree.SubElement(mailbox, t("EmailAddress")).text = attendee.email
        etree.SubElement(mailbox, t("RoutingType")).text = "SMTP"
        etree.SubElement(elem, t("ResponseType")).text = attendee.response
        if attendee.at is not None:
            etree.SubElement(elem, t("LastResponseTime")).text = ews_text(attendee.at)


def overlaps(entry: CalendarEntry, start: datetime, end: datetime) -> bool:
    """Whether a CalendarView from ``start`` to ``end`` shows the item (one ending at ``start`` counts)."""
    return entry.start < end and entry.end >= start


def invitation_mail(entry: CalendarEntry, mode: str | None) -> list[MeetingMail]:
    """What CreateItem with SendMeetingInvitations=``mode`` sends."""
    if mode in SEND_ALL | SEND_CHANGED and entry.attendees():
        return [MeetingMail(entry.uid, "invite", entry.addresses())]
    return []


def update_mail(before: tuple[str, ...], entry: CalendarEntry, changed: set[str],
                mode: str | None) -> list[MeetingMail]:
    """What UpdateItem with SendMeetingInvitationsOrCancellations=``mode`` sends.

    ``changed`` holds the local names of the fields the update set (``Start``, ``RequiredAttendees``, ...).
    """
    if mode in SEND_ALL:
        return [MeetingMail(entry.uid, "update", entry.addresses())] if entry.attendees() else []
    if mode not in SEND_CHANGED:
        return []
    old, now = {a.lower() for a in before}, {a.lower() for a in entry.addresses()}
    added = tuple(a for a in entry.addresses() if a.lower() not in old)
    removed = tuple(a for a in before if a.lower() not in now)
    mail = []
    if changed - set(ATTENDEE_LISTS) - {"StartTimeZone", "EndTimeZone"}:
        kept = tuple(a for a in entry.addresses() if a.lower() in old)
        mail.append(MeetingMail(entry.uid, "update", kept))
    if added:
        mail.append(MeetingMail(entry.uid, "invite", added))
    if removed:
        mail.append(MeetingMail(entry.uid, "cancel", removed))
    return [m for m in mail if m.recipients]
