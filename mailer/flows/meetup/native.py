"""Meetups as native calendar events, for Exchange and Graph with ``native_meetings = true``.

The calendar server then sends the invitation, the update and the cancellation itself, from
the service's own calendar, and keeps each attendee's answer on the event. Each tick mirrors
every meetup as the store has it (one create, one update per change, one cancel) and, every
few minutes until it ends, reads the answers back into the same RSVP records iMIP replies
fill (``store.meetups``), so digests and ``meetup show`` do not care which way they came.

What stays iMIP email (row state ``imip``): a meetup whose invitations were already mailed
before native meetings were turned on (a second invitation would double it in calendars), and
one with more attendees than the server takes in one event (Graph: 500).

Quirks this follows:
- Graph gives the event its own iCalendar UID; attendees' calendar replies that reach our
  inbox carry it, so it is stored for routing (``store.meetups.find_by_uid``).
- An answer the server still shows after a move may answer the old time: one stamped before
  the move is kept as an answer to the older version and outranks nothing (RFC 5546 §2.1.5).
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlite_utils import Database

from mailer.flows.meetup import emails as mail
from mailer.flows.meetup import invitees, rsvp
from mailer.locale import SOURCE, language_of
from mailer.locale.text import _
from mailer.store import meetups as store
from mailer.transports.base import Meeting, NativeCalendar, Response

READ_ANSWERS_EVERY = timedelta(minutes=5)  # one GET per live event at most this often
LOOK_BACK = timedelta(days=30)


def enabled(settings: object) -> bool:
    """Whether the configured transport makes meetups native calendar events."""
    kind = getattr(settings, "transport_kind", "")
    return kind in ("exchange", "graph") and bool(getattr(settings, f"{kind}_native_meetings", False))


def _mailed(sent: dict) -> bool:
    return bool(sent.get("invite") or sent.get("cancel"))


def event_for(db: Database, meetup: dict, settings: object, sent: dict) -> dict | None:
    """The native event that carries this meetup's invitations, or None when we mail them (iMIP).

    A meetup native meetings will take but not yet made into an event gets a placeholder that
    invites no one: nothing is mailed while the event is being made (or retried).
    """
    row = store.native_event(db, meetup["id"])
    if row is not None:
        return row if row["state"] != "imip" else None
    if enabled(settings) and not _mailed(sent):
        return {"state": "pending", "sequence": -1, "attendees": set()}
    return None


def meetups_to_mirror(db: Database, now: datetime) -> list[dict]:
    """Meetups whose native event may need creating, changing, cancelling or its answers read."""
    return store.list_meetups(db, since=now - LOOK_BACK)


def mirror(db: Database, calendar: NativeCalendar, meetup: dict, now: datetime, settings: object) -> str | None:
    """Bring one meetup's native event in line with the store; a short note of what was done.

    Raises the transport's error; the worker catches it per meetup and the next tick retries.
    """
    row = store.native_event(db, meetup["id"])
    if row is not None and row["state"] != "live":
        return None
    if meetup["state"] == "cancelled":
        return _cancel(db, calendar, meetup, row, now) if row else None
    if row is None:
        return _create(db, calendar, meetup, now, settings) if now < meetup["start"] else None
    note = _update(db, calendar, meetup, row, now, settings) if now < meetup["start"] else None
    if now < meetup["end"] and (row["responses_at"] is None or now - row["responses_at"] >= READ_ANSWERS_EVERY):
        read = read_answers(db, calendar, meetup, store.native_event(db, meetup["id"]), now)
        note = "; ".join(n for n in (note, f"{read} new answers" if read else None) if n) or None
    return note


def meeting(meetup: dict, people: list[dict], language: str = SOURCE) -> Meeting:
    """What the event says: the meetup's time, place, text and speakers, to these invitees; its
    fixed text in ``language`` (one event for everyone: the community's language)."""
    speakers = [p["name"] or p["email"] for p in people if p["speaker"]]
    return mail.native_meeting(meetup, tuple(p["email"] for p in people), speakers, language)


def _fingerprint(item: Meeting) -> str:
    text = repr((item.subject, item.start.isoformat(), item.end.isoformat(), sorted(item.attendees),
                 item.location, item.body_html))
    return hashlib.sha256(text.encode()).hexdigest()


def _create(db: Database, calendar: NativeCalendar, meetup: dict, now: datetime, settings: object) -> str | None:
    if _mailed(invitees.sent(db, meetup["id"])):
        store.save_native_event(db, meetup["id"], {"transport": _kind(settings), "state": "imip",
                                                   "reason": "invitations were mailed before native meetings"}, now)
        return "invitations already mailed: stays an emailed invitation"
    invitees.refresh(db, meetup, now)
    people = list(invitees.mailable(db, meetup))  # a native event names every attendee at once
    limit = getattr(calendar, "max_attendees", None)
    if limit is not None and len(people) > limit:
        reason = f"{len(people)} invitees, more than the {limit} one calendar event takes: mailed instead"
        store.save_native_event(db, meetup["id"], {"transport": _kind(settings), "state": "imip",
                                                   "reason": reason}, now)
        return reason
    item = meeting(meetup, people, _language(settings))
    made = calendar.create(item, f"meetup:{meetup['id']}")
    store.save_native_event(db, meetup["id"], {
        "transport": _kind(settings), "state": "live", "event_id": made.id, "event_uid": made.uid,
        "sequence": meetup["sequence"], "sequence_at": now, "attendees": {p["id"] for p in people},
        "fingerprint": _fingerprint(item), "responses_at": now}, now)  # no one has answered yet
    return f"calendar event made for {len(people)} invitees"


def _language(settings: object) -> str:
    return language_of(getattr(settings, "mailer_language", SOURCE) or SOURCE) or SOURCE


def _kind(settings: object) -> str:
    return getattr(settings, "transport_kind", "")


def _update(db: Database, calendar: NativeCalendar, meetup: dict, row: dict, now: datetime,
            settings: object) -> str | None:
    """Push a move, a changed text or a changed invite list (the server mails those it concerns)."""
    invitees.refresh(db, meetup, now)
    people = list(invitees.mailable(db, meetup))  # a native event names every attendee at once
    item = meeting(meetup, people, _language(settings))
    fingerprint = _fingerprint(item)
    if fingerprint == row["fingerprint"] and row["sequence"] == meetup["sequence"]:
        return None
    calendar.update(row["event_id"], item)
    moved = row["sequence"] != meetup["sequence"]
    store.save_native_event(db, meetup["id"], {
        "sequence": meetup["sequence"], "sequence_at": now if moved else row["sequence_at"],
        "attendees": {p["id"] for p in people}, "fingerprint": fingerprint}, now)
    return "calendar event moved" if moved else "calendar event updated"


def _cancel(db: Database, calendar: NativeCalendar, meetup: dict, row: dict, now: datetime) -> str:
    calendar.cancel(row["event_id"], meetup["cancel_reason"] or _("This meetup is cancelled."))
    store.save_native_event(db, meetup["id"], {"state": "cancelled", "sequence": meetup["sequence"]}, now)
    return "calendar event cancelled"


def read_answers(db: Database, calendar: NativeCalendar, meetup: dict, row: dict, now: datetime) -> int:
    """Record each attendee's answer the server holds that we have not; how many were new."""
    by_email = {p["email"].lower(): p for p in store.list_invitees(db, meetup["id"])}
    new = 0
    for address, response in sorted(calendar.responses(row["event_id"]).items()):
        person = by_email.get(address)
        if person is None or response.partstat == "needs-action":
            continue  # the organiser itself, someone since removed, or no answer yet
        answer = _answer(response, row, now)
        if (person["partstat"], person["answered_version"]) == (answer.partstat, answer.version):
            continue  # already recorded (this read, an earlier one, or their iMIP reply)
        store.keep_answer(db, meetup["id"], person["person_id"], address, "calendar", answer.partstat,
                          answer.version, now, stamp=answer.stamp)
        if rsvp.outranks(answer, person["answered_version"], person["answered_stamp"]):
            store.set_answer(db, meetup["id"], person["person_id"], answer.partstat, answer.version,
                             answer.stamp, now, "")
            new += 1
    store.save_native_event(db, meetup["id"], {"responses_at": now}, now)
    return new


def _answer(response: Response, row: dict, now: datetime) -> rsvp.Answer:
    """The answer an attendee's status gives: to the event's version, or to an older one when it
    was given before the last move."""
    stamp = response.at or now
    older = response.at is not None and row["sequence_at"] is not None and response.at < row["sequence_at"]
    version = max(row["sequence"] - 1, 0) if older else row["sequence"]
    return rsvp.Answer(response.partstat, version, stamp, "calendar")
