"""The meetup flow: what is due now, and what an answer means.

``due`` plans, per meetup as the store has it at ``now``: before the start, the current version
of the invitation to every invitee who has not had it (an update for those who had an earlier
one; latecomers named by the invite list get the current version), and one reminder 24 hours
before to those who accepted or have not answered; after a cancellation, one CANCEL to everyone
who was sent an invitation; after the end, one highlight question to each person who came.
Only the current SEQUENCE is ever planned, so a move and a second move before the next tick
make one update. ``handle_reply`` records an RSVP (calendar or text), keeps a COUNTER as a
proposal for the organiser, asks once when a text reply is unclear, and stores highlights.
"""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from typing import Iterable, Iterator

from sqlite_utils import Database

from mailer.errors import InboundError, NotFoundError
from mailer.flows import outcome, reply_files
from mailer.flows.base import PlannedEmail, RoutedReply, person_of
from mailer.flows.challenge import timing
from mailer.flows.meetup import invitees, native, rsvp
from mailer.flows.meetup import emails as mail
from mailer.flows.meetup.actions import REMINDER_BEFORE
from mailer.flows.meetup.invitees import Mailable
from mailer.inbound.calendar_reply import read_rsvp
from mailer.inbound.message import ParsedMessage
from mailer.store import meetup_plans as plan_marks
from mailer.store import meetups as store

REF = re.compile(r"^meetup:(\d+)(?::seq:(\d+)|:(highlight))?$")
LOOK_BACK = timedelta(days=30)  # meetups that ended (or changed) longer ago plan nothing more
REMINDED = ("accepted", "needs-action")


def due(db: Database, now: datetime, settings: object = None) -> Iterator[PlannedEmail]:
    """Every meetup email that should have been planned by ``now`` and is not in the outbox,
    one at a time: a meetup of 50,000 invitees is never a list of 50,000 invitations (issue 25)."""
    for meetup in store.list_meetups(db, since=now - LOOK_BACK):
        yield from plan_meetup(db, meetup, now, settings)


def plan_meetup(db: Database, meetup: dict, now: datetime, settings: object = None) -> Iterator[PlannedEmail]:
    """What is due now for one meetup, planned once per change.

    A pass that finds nothing due marks the meetup with the next moment something can fall due
    without the data changing (``next_change``); ticks before it skip the meetup with no query
    beyond the invite list's check, until the store clears the mark (a move, a cancellation, an
    invitee added, an answer or attendance that makes a reminder or a question due, a person's
    status: ``store.meetups`` triggers). A pass that planned something is not marked: the next
    tick plans again, finds what it enqueued, and marks then (so a crash between planning and
    enqueueing loses nothing).
    """
    added = invitees.refresh(db, meetup, now) if now < meetup["start"] and meetup["state"] != "cancelled" else 0
    seen = "native" if native.enabled(settings) else "imip"
    if not added and plan_marks.nothing_due(meetup, now, seen):
        return
    planned = 0
    for plan in _plan(db, meetup, now, settings):
        planned += 1
        yield plan
    if not planned:
        plan_marks.set_plan_mark(db, meetup["id"], now, next_change(meetup, now), seen)


def next_change(meetup: dict, now: datetime) -> datetime | None:
    """The first moment after ``now`` at which this meetup's plan can change with no data
    changing: the reminder window opening, the start (no more invitations), the end (the
    highlight question). None for a cancelled meetup or one that has ended."""
    if meetup["state"] == "cancelled":
        return None
    moments = (meetup["start"] - REMINDER_BEFORE, meetup["start"], meetup["end"])
    return min((m for m in moments if m > now), default=None)


def _plan(db: Database, meetup: dict, now: datetime, settings: object) -> Iterable[PlannedEmail]:
    """Every email of this meetup due now and not yet in the outbox (native: see ``plan_meetup``).

    When the meetup is a native calendar event (``native``), the calendar server sends its
    invitation, update and cancellation; we still send the reminder and the highlight question.
    """
    sent = invitees.sent(db, meetup["id"])
    event = native.event_for(db, meetup, settings, sent)
    if meetup["state"] == "cancelled":
        invited = sent.get("invite", {})
        return [] if event else (mail.cancellation(meetup, p, settings, now) for p in invitees.mailable(db, meetup)
                                 if p["person_id"] in invited and p["person_id"] not in sent.get("cancel", {}))
    if now < meetup["start"]:
        people = invitees.mailable(db, meetup)
        if event:  # those the event invites hold its version, as if we had mailed it
            sent = {**sent, "invite": {pid: event["sequence"] for pid in event.get("attendees", ())}}
            return _reminders(meetup, people, sent, now)
        # Both from the same reading of what was sent; the invitations built as they are enqueued.
        return itertools.chain(_invitations(meetup, people, sent, settings, now), _reminders(meetup, people, sent, now))
    if now >= meetup["end"]:
        asked = sent.get("highlight", {})
        return (mail.highlight_ask(meetup, p) for p in invitees.mailable(db, meetup)
                if p["attended"] and p["person_id"] not in asked)
    return []


def _invitations(meetup: dict, invitees: Mailable, sent: dict, settings: object,
                 now: datetime) -> Iterator[PlannedEmail]:
    """The invitation (or update) to each invitee who does not hold the current version, built
    one at a time as the outbox takes them (each carries its calendar: ``outbound.invite``
    builds it once per version and puts the invitee in)."""
    had = sent.get("invite", {})
    speakers = invitees.speakers()
    return (mail.invitation(meetup, p, speakers, p["person_id"] in had, settings, now)
            for p in invitees if had.get(p["person_id"], -1) < meetup["sequence"])


def _reminders(meetup: dict, invitees: Iterable[dict], sent: dict, now: datetime) -> Iterable[PlannedEmail]:
    """24 hours before, to those who accepted or have not answered and already hold this version,
    made one at a time as the outbox takes them (50,000 reminders never sit in memory at once).

    Someone invited (or a meetup moved) inside the last 24 hours just had the invitation: that
    is their reminder.
    """
    window = meetup["start"] - REMINDER_BEFORE
    if now < window or meetup["updated_at"] > window:
        return []
    had, reminded = sent.get("invite", {}), sent.get("reminder", {})
    return (mail.reminder(meetup, p) for p in invitees
            if p["partstat"] in REMINDED and had.get(p["person_id"], -1) == meetup["sequence"]
            and p["added_at"] <= window and reminded.get(p["person_id"], -1) < meetup["sequence"])


# -- replies -----------------------------------------------------------------------------

def handle_reply(db: Database, reply: RoutedReply, now: datetime, settings: object = None) -> list[PlannedEmail]:
    """Record what a reply to an invitation (or to the highlight question) says."""
    match = REF.match(reply.ref or "")
    if not match:
        raise InboundError(f"meetup reply with an unexpected reference {reply.ref!r}")
    try:
        meetup = store.get_meetup(db, int(match.group(1)))
    except NotFoundError as exc:
        raise InboundError(f"reply to {reply.ref}: {exc}") from exc
    if match.group(3) or reply.purpose == "meetup_highlight":
        return _highlight(db, meetup, reply, now)
    token_version = int(match.group(2)) if match.group(2) else None
    version = _version(reply, token_version, meetup["sequence"])
    invitee = store.get_invitee(db, meetup["id"], reply.person_id)
    if invitee is None:
        _keep(db, meetup, None, reply, now, "unattributed", version)
        return outcome.kept(reply, f"an answer from {reply.person_email}, who is not invited to meetup "
                                   f"{meetup['id']}: kept for the organiser")
    if meetup["state"] == "cancelled":
        return _after_cancel(db, meetup, reply, now, version)
    if reply.intent == "counter":
        _keep(db, meetup, reply.person_id, reply, now, "counter", version)
        return outcome.kept(reply, f"a new time proposed for meetup {meetup['id']}: kept for the organiser")
    answer = rsvp.read_answer(reply.intent, reply.rsvp, token_version, meetup["sequence"],
                              reply.received_at or now, reply.comment)
    if answer is None:
        _keep(db, meetup, reply.person_id, reply, now, "unclear", version)
        asked = _ask(db, meetup, reply, now)
        if asked:
            return outcome.answered(reply, asked)
        return outcome.kept(reply, f"an answer to meetup {meetup['id']} that says neither yes, no nor maybe")
    _record(db, meetup, invitee, reply, answer, now)
    return acknowledge(db, meetup, reply, answer)


def acknowledge(db: Database, meetup: dict, reply: RoutedReply, answer: rsvp.Answer) -> list[PlannedEmail]:
    """One short line back to an answer in words (a calendar's answer needs none)."""
    if answer.kind != "text" or meetup["state"] == "cancelled" or answer.partstat not in mail.RECEIVED_KINDS:
        return []
    return [mail.received(meetup, person_of(db, reply), answer.partstat,
                          reply.message.subject or "", reply.message.message_id)]


def _after_cancel(db: Database, meetup: dict, reply: RoutedReply, now: datetime, version: int) -> list[PlannedEmail]:
    """An answer after the cancellation: kept for the organiser (``meetup show``: "late"),
    changing no one's answer; a person who wrote in words is told, a calendar never."""
    _keep(db, meetup, reply.person_id, reply, now, "late", version)
    reason = f"an answer to meetup {meetup['id']} after it was cancelled: kept for the organiser"
    if reply.rsvp is not None:
        return outcome.kept(reply, reason)
    person = person_of(db, reply)
    told = mail.cancelled_reply(meetup, person, timing.local_date(now, person["timezone"]),
                                reply.message.subject or "", reply.message.message_id)
    return outcome.kept(reply, reason, [told])


def _record(db: Database, meetup: dict, invitee: dict, reply: RoutedReply, answer: rsvp.Answer,
            now: datetime) -> None:
    """Keep the answer as it came; make it the invitee's (``invitee``: their row as read
    before it) when it outranks the one stored."""
    store.keep_answer(db, meetup["id"], reply.person_id, reply.person_email, answer.kind, answer.partstat,
                      answer.version, now, comment=answer.comment, stamp=answer.stamp,
                      message_id=reply.message.message_id)
    if rsvp.outranks(answer, invitee["answered_version"], invitee["answered_stamp"]):
        store.set_answer(db, meetup["id"], reply.person_id, answer.partstat, answer.version, answer.stamp,
                         now, answer.comment)


def _version(reply: RoutedReply, token_version: int | None, current: int) -> int:
    """The SEQUENCE a reply answers: the calendar's own, else the invitation the token came in."""
    if reply.rsvp is not None:
        return int(reply.rsvp.get("sequence") or 0)
    return current if token_version is None else token_version


def _keep(db: Database, meetup: dict, person_id: int | None, reply: RoutedReply, now: datetime,
          kind: str, version: int) -> None:
    """Keep what a reply said without changing anyone's answer (a proposal, an unclear reply)."""
    partstat = (reply.rsvp or {}).get("partstat") or rsvp.INTENT_PARTSTAT.get(reply.intent, "").upper()
    proposed = rsvp.proposed_start(reply.message.calendar) if kind == "counter" else None
    store.keep_answer(db, meetup["id"], person_id, reply.person_email, kind,
                      partstat.lower() if partstat else None, version, now,
                      comment=reply.comment or reply.reply_text[:500], proposed_start=proposed,
                      message_id=reply.message.message_id)


def _ask(db: Database, meetup: dict, reply: RoutedReply, now: datetime) -> list[PlannedEmail]:
    """One short question to a person whose words we could not read (never to a calendar)."""
    if reply.rsvp is not None or meetup["state"] == "cancelled" or now >= meetup["start"]:
        return []
    person = person_of(db, reply)
    return [mail.question(meetup, person, timing.local_date(now, person["timezone"]),
                          reply.message.subject or "", reply.message.message_id)]


def _highlight(db: Database, meetup: dict, reply: RoutedReply, now: datetime) -> list[PlannedEmail]:
    """The reply to the highlight question is the highlight, shared with sponsors as asked."""
    invitee = store.get_invitee(db, meetup["id"], reply.person_id)
    text = (reply.reply_text or "").strip()
    choice = reply_files.choice_of(reply)  # a photo of the whiteboard counts as a highlight too
    if invitee is None or not invitee["attended"] or reply.intent == "stop" or not (text or choice.kept):
        why = "not among those who came" if invitee is None or not invitee["attended"] else "no highlight in it"
        return outcome.kept(reply, f"a reply to the highlight question of meetup {meetup['id']}: {why}")
    store.set_highlight(db, meetup["id"], reply.person_id, text[:2000], now)
    reply_files.keep(db, "meetup_highlight", meetup["id"], reply.person_id, choice, now)
    return []


def keep_unattributed(db: Database, msg: ParsedMessage, ref: str, now: datetime) -> None:
    """Keep a calendar answer routing tied to a meetup but to none of its invitees, for the organiser.

    It changes no one's answer and adds no attendee (notes/calendar-invites.md).
    """
    match = REF.match(ref or "")
    answer = read_rsvp(msg.calendar or "", msg.from_addr)
    if not match or answer is None:
        return
    meetup = store.get_meetup(db, int(match.group(1)))
    store.keep_answer(db, meetup["id"], None, answer.attendee or msg.from_addr, "unattributed",
                      (answer.partstat or "").lower() or None, answer.sequence, now, comment=answer.comment,
                      stamp=answer.dtstamp, message_id=msg.message_id)
