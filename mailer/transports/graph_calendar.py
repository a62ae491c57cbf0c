"""Native meetings through Graph: Outlook events with attendees in the service's own calendar.

With ``[graph] native_meetings = true`` a meetup can be an event that Exchange itself sends to
its attendees (invitation, update, cancellation), instead of iCalendar mail we build. The
verbs here are what a meetup flow needs: create, move/change, cancel, and read each attendee's
answer from ``attendees[].status.response``. Times are sent in UTC so no Windows time-zone
names are needed; Outlook shows them in each attendee's own zone.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import quote

from mailer.errors import GoneError, TransportError
from mailer.transports.base import Meeting, NativeEvent, Response
from mailer.transports.graph_http import GraphHttp

log = logging.getLogger(__name__)

MAX_ATTENDEES = 500  # Graph's limit for one event (notes/graph.md)
# attendees[].status.response -> our PARTSTAT; none, organizer and notResponded are no answer yet
PARTSTAT = {"accepted": "accepted", "declined": "declined", "tentativelyAccepted": "tentative"}


def graph_time(moment: datetime) -> dict[str, str]:
    """A Graph ``dateTimeTimeZone`` in UTC."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    return {"dateTime": moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def event_body(meeting: Meeting) -> dict:
    """The JSON of an event for ``meeting``; more than ``MAX_ATTENDEES`` is refused."""
    if len(meeting.attendees) > MAX_ATTENDEES:
        raise TransportError(f"an event takes at most {MAX_ATTENDEES} attendees, not {len(meeting.attendees)}: "
                             "split the meetup into several events")
    return {
        "subject": meeting.subject,
        "body": {"contentType": "HTML", "content": meeting.body_html},
        "start": graph_time(meeting.start), "end": graph_time(meeting.end),
        "location": {"displayName": meeting.location},
        "attendees": [{"emailAddress": {"address": a}, "type": "required"} for a in meeting.attendees],
        "responseRequested": True, "allowNewTimeProposals": False,
    }


class GraphCalendar:
    """Events in the mailbox's default calendar."""

    max_attendees = MAX_ATTENDEES

    def __init__(self, http: GraphHttp, user: str) -> None:
        self.http = http
        self.events = http.url(user + "/events")

    def _event(self, event_id: str) -> str:
        return f"{self.events}/{quote(event_id, safe='')}"

    def create(self, meeting: Meeting, key: str) -> NativeEvent:
        """Create the event (Exchange sends the invitations).

        ``key`` goes as the ``transactionId``, so Graph answers a retried create whose first
        answer was lost with the first event instead of making a second.
        """
        body = {**event_body(meeting), "transactionId": key}
        event = self.http.json("POST", self.events, "create an event", json=body)
        return NativeEvent(event["id"], event.get("iCalUId") or "")

    def update(self, event_id: str, meeting: Meeting) -> None:
        """Change the event (Exchange sends the update to the attendees)."""
        self.http.json("PATCH", self._event(event_id), "update an event", json=event_body(meeting))

    def cancel(self, event_id: str, comment: str) -> None:
        """Cancel the event with a note (Exchange sends the cancellation).

        An event already gone (404) counts as cancelled: a retried cancel whose first answer was
        lost, or an organiser who deleted it in Outlook."""
        try:
            self.http.json("POST", self._event(event_id) + "/cancel", "cancel an event", json={"comment": comment})
        except GoneError:
            log.warning("calendar event %s is already gone: counted as cancelled", event_id[:40])

    def responses(self, event_id: str) -> dict[str, Response]:
        """Each attendee's answer (``status.response``, and ``status.time`` when they answered)."""
        event = self.http.json("GET", self._event(event_id), "read an event's answers",
                               params={"$select": "attendees"})
        return {a["emailAddress"]["address"].lower(): _response(a.get("status") or {})
                for a in event.get("attendees", [])}


def _response(status: dict) -> Response:
    partstat = PARTSTAT.get(status.get("response", "none"), "needs-action")
    return Response(partstat, _time(status.get("time")) if partstat != "needs-action" else None)


def _time(text: str | None) -> datetime | None:
    """A Graph ``status.time`` (UTC, up to 7 fractional digits, sometimes a ``Z``) as an aware datetime."""
    if not text or text.startswith("0001-01-01"):  # Graph's "never answered"
        return None
    try:
        main, _, fraction = text.rstrip("Z").partition(".")
        return datetime.fromisoformat(main).replace(microsecond=int((fraction + "000000")[:6]),
                                                    tzinfo=timezone.utc)
    except ValueError:
        return None
