"""Native meetings through EWS: calendar items in the service mailbox's own calendar.

With ``[exchange] native_meetings = true`` a meetup can be a calendar item that Exchange itself
sends to its attendees (invitation, update, cancellation) instead of iCalendar mail we build.
The verbs are the ``NativeCalendar`` seam's (transports/base.py); the exchangelib calls and the
SOAP they send are in notes/exchange.md.

EWS quirks met here:
- ``CalendarItem.save()`` sends no invitations unless told: every save names its
  SendMeetingInvitations mode.
- The organizer may set the item's iCalendar UID, so attendees' replies carry our own UID.
- There is no transactionId. A create first looks for an item with our UID in a calendar view
  over the meeting's own time; UID cannot be searched for (exchangelib marks it not searchable),
  so the view's few items are read and compared.
- Times go as UTC (time zone ``UTC``): no Windows time-zone names needed, and Outlook shows
  each attendee their own local time.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, TypeVar

from exchangelib import Attendee, Body, CalendarItem, EWSDateTime, EWSTimeZone, HTMLBody, Mailbox
from exchangelib.errors import ErrorInvalidIdMalformed, ErrorItemNotFound
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY, SEND_TO_CHANGED_AND_SAVE_COPY
from exchangelib.properties import ItemId

from mailer.errors import GoneError, TemporarySendError, TransportError
from mailer.transports.base import Meeting, NativeEvent, Response
from mailer.transports.exchange_connect import EWS_ERRORS, busy_wait, plain

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from mailer.transports.exchange import ExchangeTransport

R = TypeVar("R")
# Attendee ResponseType -> our PARTSTAT; Unknown, NoResponseReceived and Organizer are no answer yet
PARTSTAT = {"Accept": "accepted", "Decline": "declined", "Tentative": "tentative"}
MEETING_FIELDS = ("subject", "body", "start", "end", "location", "required_attendees")
READ_FIELDS = ("uid", *MEETING_FIELDS, "optional_attendees")
EWS_UTC = EWSTimeZone("UTC")


def ews_time(moment: datetime) -> EWSDateTime:
    """An aware datetime as an EWSDateTime in UTC; a naive one is refused (EWS would guess its zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; calendar items need aware times")
    return EWSDateTime.from_datetime(moment.astimezone(timezone.utc))


def utc(moment: datetime | None) -> datetime | None:
    """An exchangelib time as a plain aware UTC datetime."""
    if moment is None:
        return None
    # EWSDateTime.astimezone() refuses datetime.timezone.utc: it wants an EWSTimeZone
    u = moment.astimezone(EWS_UTC)
    return datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=timezone.utc)


def visible_text(html: str) -> str:
    """The words of an HTML body, for comparing ours with what Exchange kept.

    Exchange rewrites a stored HTML body (wraps it in html/head/meta, re-indents it), so the
    markup never compares equal; the words do.
    """
    return " ".join(re.sub(r"<[^>]*>", " ", re.sub(r"(?is)<(head|style|script)\b.*?</\1>", " ", html)).split())


class ExchangeCalendar:
    """Calendar items in the mailbox's default calendar, through the transport's account."""

    max_attendees = None  # Exchange sets no limit of its own on one meeting's attendees

    def __init__(self, transport: "ExchangeTransport") -> None:
        """Nothing connects here: the transport builds its account on first use."""
        self.transport = transport

    # -- the four verbs -----------------------------------------------------------------------
    def create(self, meeting: Meeting, key: str) -> NativeEvent:
        """Create the item with our UID; Exchange sends the invitations (SendToAllAndSaveCopy).

        A retried create whose first answer was lost finds the first item by its UID and
        returns it, so no second item (and no second invitation) is made.
        """
        start, end = ews_time(meeting.start), ews_time(meeting.end)
        uid = meeting.uid or self._uid_for(key)

        def make() -> NativeEvent:
            found = self._find_uid(uid, start, end)
            if found is not None:
                return found
            item = CalendarItem(account=self.transport.account, folder=self.transport.account.calendar, uid=uid,
                                is_response_requested=True, **self._fields(meeting, start, end))
            item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
            return NativeEvent(item.id, uid)
        return self._call(f"creating the meeting {key}", make)

    def update(self, event_id: str, meeting: Meeting) -> None:
        """Change what differs; Exchange mails only those the change concerns (SendToChangedAndSaveCopy).

        Only changed fields are sent, so adding an attendee invites just them, and a retried
        update whose first answer was lost finds nothing left to change and mails no one.
        """
        start, end = ews_time(meeting.start), ews_time(meeting.end)

        def change() -> None:
            item = self._item(event_id)
            wanted = self._fields(meeting, start, end)
            wanted["required_attendees"] = self._keep_answers(item, meeting.attendees)
            fields = [name for name in MEETING_FIELDS if _differs(name, getattr(item, name), wanted[name])]
            if not fields:
                return
            for name in fields:
                setattr(item, name, wanted[name])
            item.save(update_fields=fields, send_meeting_invitations=SEND_TO_CHANGED_AND_SAVE_COPY)
        self._call(f"updating the meeting {event_id[:24]}", change)

    def cancel(self, event_id: str, comment: str) -> None:
        """Cancel the meeting with a note (CancelCalendarItem); Exchange tells every attendee and
        moves the organizer's item to Deleted Items.

        An item already gone counts as cancelled: a retried cancel whose first answer was lost
        finds it in Deleted Items no more (its id is no longer in the calendar)."""
        def send() -> None:
            self._item(event_id).cancel(new_body=Body(comment))
        try:
            self._call(f"cancelling the meeting {event_id[:24]}", send)
        except GoneError:
            log.warning("calendar item %s is already gone: counted as cancelled", event_id[:40])

    def responses(self, event_id: str) -> dict[str, Response]:
        """Each attendee's answer (``response_type``, with ``last_response_time`` once they answered)."""
        item = self._call(f"reading the answers to {event_id[:24]}", lambda: self._item(event_id))
        attendees = [*(item.required_attendees or []), *(item.optional_attendees or [])]
        return {a.mailbox.email_address.lower(): _response(a) for a in attendees if a.mailbox.email_address}

    # -- helpers --------------------------------------------------------------------------------
    def _call(self, what: str, call: Callable[[], R]) -> R:
        """Run one calendar call under the transport's back-off; EWS errors become ours."""
        wait = self.transport.busy_for()  # the transport owns the back-off clock
        if wait:
            raise TemporarySendError(f"Exchange asked us to wait; {wait:.0f} s left", retry_after=wait)
        try:
            return call()
        except EWS_ERRORS as exc:
            self.transport.note_error(exc)
            wait = busy_wait(exc)
            if wait is not None:
                raise TemporarySendError(f"Exchange is busy; it asked us to wait {wait:.0f} s",
                                         retry_after=wait) from exc
            raise TransportError(f"Exchange: {what} failed: {plain(exc)}") from exc

    def _item(self, event_id: str) -> CalendarItem:
        """The calendar item with this id, with the fields we read and change (one GetItem)."""
        found = next(iter(self.transport.account.fetch(ids=[ItemId(id=event_id)], only_fields=list(READ_FIELDS))))
        if isinstance(found, (ErrorItemNotFound, ErrorInvalidIdMalformed)):
            raise GoneError(f"Exchange has no calendar item {event_id[:40]} (deleted or cancelled?)")
        if isinstance(found, Exception):
            raise found
        if not isinstance(found, CalendarItem):
            raise TransportError(f"Exchange item {event_id[:40]} is a {type(found).__name__}, not a calendar item")
        return found

    def _find_uid(self, uid: str, start: EWSDateTime, end: EWSDateTime) -> NativeEvent | None:
        """The item with this UID among those the calendar shows from ``start`` to ``end``.

        A calendar view (FindItem with CalendarView) then the UIDs of what it shows (GetItem):
        EWS cannot restrict on UID, and the view beside it allows no restriction at all.
        """
        view = self.transport.account.calendar.view(start=start, end=end).only("uid")
        for item in view:
            if isinstance(item, CalendarItem) and item.uid == uid:
                return NativeEvent(item.id, uid)
        return None

    def _uid_for(self, key: str) -> str:
        """A UID made from the create key when the meeting brings none (stable across retries)."""
        return f"{key}.{self.transport.settings.mailbox}".replace(":", "-")

    @staticmethod
    def _fields(meeting: Meeting, start: EWSDateTime, end: EWSDateTime) -> dict:
        return {"subject": meeting.subject, "body": HTMLBody(meeting.body_html), "start": start, "end": end,
                "location": meeting.location,
                "required_attendees": [Attendee(mailbox=Mailbox(email_address=a)) for a in meeting.attendees]}

    @staticmethod
    def _keep_answers(item: CalendarItem, addresses: tuple[str, ...]) -> list[Attendee]:
        """The new attendee list, reusing the item's own entry (and answer) for everyone who stays."""
        known = {a.mailbox.email_address.lower(): a for a in item.required_attendees or []}
        return [known.get(a.lower()) or Attendee(mailbox=Mailbox(email_address=a)) for a in addresses]


def _differs(name: str, old, new) -> bool:
    """Whether a field's value on the item differs from the one we want."""
    if name == "body":
        return visible_text(str(old or "")) != visible_text(str(new))
    if name == "required_attendees":  # the order of attendees means nothing to Exchange
        return {a.mailbox.email_address.lower() for a in old or []} != {a.mailbox.email_address.lower() for a in new}
    if name in ("start", "end"):
        return old is None or utc(old) != utc(new)
    return (old or "") != (new or "")


def _response(attendee: Attendee) -> Response:
    partstat = PARTSTAT.get(attendee.response_type or "", "needs-action")
    return Response(partstat, utc(attendee.last_response_time) if partstat != "needs-action" else None)
