"""The 30-day challenge flow: what is due now, and what a reply means.

``due`` looks at each active challenge as the store has it at ``now`` and plans, per person:
the announcement (until the last day), today's day email once their local send hour has
passed (only today's: days missed while the worker was down are skipped, never sent in a
burst), one nudge after seven silent days, and the summary after the last day. The one
exception is a person's first day (day 1, or a latecomer's first): it carries the partner
introduction and starts the journal, so when it fell in an outage it goes out as soon as the
worker is back; the next day still waits for its own local send hour. The outbox
is idempotent on each plan's key, so planning the same email on every tick is harmless.
``handle_reply`` turns a reply into a journal entry for the day it answers, or into a pause,
resume, stop or join. The clock is only ever ``now``.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Iterator
from datetime import date, datetime, time, timedelta

from sqlite_utils import Database

from mailer.errors import InboundError, NotFoundError
from mailer.flows.challenge import emails as mail
from mailer.flows.challenge import timing as ct
from mailer.flows.challenge import journal, late, pairing
from mailer.flows import outcome, reply_files
from mailer.flows.base import PlannedEmail, RoutedReply, person_of
from mailer.flows.challenge.definition import is_member
from mailer.flows.challenge.upcoming import next_send  # noqa: F401 - offered to the worker
from mailer.store import challenges as store
from mailer.store import files, outbox, people
from mailer.locale.text import _
from mailer.outbound import formats

SILENCE = timedelta(days=7)
REF = re.compile(r"^challenge:(\d+)(?::day:(\d+))?$")
STATUS_FOR = {"pause": "paused", "resume": "active", "stop": "stopped"}
CHANGE_WORD = {"paused": "paused", "active": "resumed", "stopped": "stopped"}


@dataclass
class View:
    """One challenge as the store has it at the start of a tick."""

    challenge: dict
    start: date
    send: time
    days: dict[int, dict]
    participants: list[dict]
    sent: set[str]
    journaled: dict[int, set[int]]
    groups: dict[int, list[int]]
    formed: dict[int, datetime]
    partners: dict[int, list[int]] = field(default_factory=dict)
    late_first: set[int] = field(default_factory=set)  # first day missed in an outage: send it now

    @property
    def by_person(self) -> dict[int, dict]:
        """Participants by person id (built once per view)."""
        if "_by_person" not in self.__dict__:
            self.__dict__["_by_person"] = {p["person_id"]: p for p in self.participants}
        return self.__dict__["_by_person"]


def due(db: Database, now: datetime, settings: object = None) -> Iterator[PlannedEmail]:
    """Every challenge email that should have been planned by ``now`` and is not in the outbox.

    A generator: the worker composes and sends in batches as the plans come, so a 50,000-person
    day never sits in memory as 50,000 planned emails.
    """
    for challenge in store.list_challenges(db):
        if challenge["state"] == "active":
            yield from plan_challenge(db, challenge, now)


def _view(db: Database, challenge: dict, now: datetime) -> View:
    cid = challenge["id"]
    start, send = date.fromisoformat(challenge["start"]), time(challenge["send_hour"], challenge["send_minute"])
    participants = store.list_participants(db, cid)
    # Only the keys that can matter now: the days open somewhere at this moment, nudges and
    # summaries (never every day email of the challenge so far: 30 days x 50,000 keys).
    open_days = {ct.open_day(now, tz, start, challenge["length"], own)
                 for tz, own in {(p["timezone"], ct.own_send(send, p)) for p in participants}} - {None}
    # The day before each open day too: whoever missed it is introduced to their partner again.
    days = sorted(open_days | {day - 1 for day in open_days if day > 1})
    sent: set[str] = set()
    for prefix in [f"day:{day}:" for day in days] + ["nudge:", "summary:"]:
        sent |= outbox.existing_keys(db, f"challenge:{cid}:{prefix}")
    return View(challenge=challenge, start=start, send=send,
                days={d["day"]: d for d in store.challenge_days(db, cid)}, participants=participants,
                sent=sent, journaled=store.journaled_days(db, cid),
                groups=store.current_groups(db, cid), formed=store.group_formed_at(db, cid))


def plan_challenge(db: Database, challenge: dict, now: datetime) -> Iterator[PlannedEmail]:
    """What is due now for one challenge (it may re-pair partners as a day starts).

    Once every plan has been handed out, the challenge is marked with the next moment anything
    can fall due (a day opening in some zone, a nudge); ticks before it skip the challenge.
    """
    if store.nothing_due(db, challenge, now):
        return
    view = _view(db, challenge, now)
    view.late_first = late.first_days_missed(db, view, now, first_day)
    yield from _announcements(db, view, now)
    if challenge["partners"]:
        _maintain_pairs(db, view, now)
        view.groups = store.current_groups(db, challenge["id"])
        view.formed = store.group_formed_at(db, challenge["id"])
        view.partners = pairing.partner_index(view.groups)
    for participant in view.participants:
        if participant["person_status"] not in people.UNMAILED:
            yield from (plan for plan in _for_participant(db, view, participant, now)
                        if plan.key not in view.sent)
    store.set_plan_mark(db, challenge["id"], now, next_change(view, now))


def next_change(view: View, now: datetime) -> datetime | None:
    """The first moment after ``now`` at which something may fall due without any data
    changing: a day's (or the summary's) send hour in a participant's zone, or the end of
    someone's seven silent days. None when nothing ever will."""
    length, moments = view.challenge["length"], []
    opens = functools.lru_cache(maxsize=None)(lambda day, tz, send: ct.opens_at(view.start, day, send, tz))
    staying = [p for p in view.participants
               if p["status"] != "stopped" and p["person_status"] not in people.UNMAILED]
    for tz, send in {(p["timezone"], ct.own_send(view.send, p)) for p in staying}:
        day = max(ct.day_number(now, tz, view.start), 1)
        moments += [opens(d, tz, send) for d in (day, day + 1) if d <= length + 1 and opens(d, tz, send) > now][:1]
    for p in staying:
        if p["status"] == "active":
            first = 1 if p["from_start"] else first_day(view, p)
            silent_until = max(p["last_activity_at"], opens(first, p["timezone"], ct.own_send(view.send, p))) + SILENCE
            if silent_until > now:
                moments.append(silent_until)
    return min(moments, default=None)


# -- announcement ------------------------------------------------------------------------

def _announcements(db: Database, view: View, now: datetime) -> Iterator[PlannedEmail]:
    if now.date() > ct.day_date(view.start, view.challenge["length"]):
        return
    enrolled = {p["person_id"] for p in view.participants}
    waiting = outbox.people_without_key(db, f"challenge:{view.challenge['id']}:announce:person:")
    for at in range(0, len(waiting), 500):  # people are read 500 at a time, as they are needed
        for person in people.get_people(db, waiting[at:at + 500]):
            if people.is_mailable(person) and (person["id"] in enrolled or is_member(person)):
                yield mail.announcement(view.challenge, person, person["id"] in enrolled, now)


# -- partners ----------------------------------------------------------------------------

def first_day(view: View, participant: dict) -> int:
    """The first day a participant gets: day 1, or for a latecomer the first day opening after they joined."""
    if participant["from_start"]:
        return 1
    tz, joined = participant["timezone"], participant["joined_at"]
    day = max(ct.day_number(joined, tz, view.start), 1)
    return day if ct.opens_at(view.start, day, ct.own_send(view.send, participant), tz) >= joined else day + 1


def _last_opened(view: View, participant: dict, now: datetime) -> int:
    tz = participant["timezone"]
    day = ct.day_number(now, tz, view.start)
    return day if now >= ct.opens_at(view.start, day, ct.own_send(view.send, participant), tz) else day - 1


def _maintain_pairs(db: Database, view: View, now: datetime) -> None:
    staying = [p for p in view.participants
               if p["status"] in ("active", "paused") and p["person_status"] not in people.UNMAILED]
    begun = any(p["from_start"] and _last_opened(view, p, now) >= 1 for p in staying)
    ready = {p["person_id"] for p in staying
             if (begun if p["from_start"] else _last_opened(view, p, now) >= first_day(view, p))}
    if ready or view.groups:
        pairing.maintain(db, view.challenge["id"], staying, ready, now.date(), now)


# -- per participant ---------------------------------------------------------------------

def _for_participant(db: Database, view: View, participant: dict, now: datetime) -> list[PlannedEmail]:
    plans: list[PlannedEmail] = []
    cid, pid = view.challenge["id"], participant["person_id"]
    tz, length, send = participant["timezone"], view.challenge["length"], ct.own_send(view.send, participant)
    if pid in view.late_first:
        plans.append(_day_email(db, view, participant, first_day(view, participant)))
    if participant["status"] == "active":
        day = ct.open_day(now, tz, view.start, length, send)
        if day is not None and day >= first_day(view, participant):
            if f"challenge:{cid}:day:{day}:person:{pid}" not in view.sent:
                plans.append(_day_email(db, view, participant, day))
            plans.extend(_nudge(view, participant, day, now))
    if (participant["status"] != "stopped" and f"challenge:{cid}:summary:person:{pid}" not in view.sent
            and ct.summary_open(now, tz, view.start, length, send)):
        plans.append(_summary(db, view, participant))
    return plans


def _person(participant: dict) -> dict:
    return {"id": participant["person_id"], "email": participant["email"], "name": participant["name"],
            "timezone": participant["timezone"]}


def _day_email(db: Database, view: View, participant: dict, day: int) -> PlannedEmail:
    pid = participant["person_id"]
    partner_ids = view.partners.get(pid, [])
    partners = [view.by_person[i] for i in partner_ids if i in view.by_person]
    since = ct.opens_at(view.start, day - 1, ct.own_send(view.send, participant), participant["timezone"]) \
        if day > 1 else None
    line = mail.partner_line(day, partners, view.journaled,
                             _group_is_new(view, participant, day, [pid, *partner_ids]), since)
    remembered = None
    if journal.memory({d: "" for d in view.journaled.get(pid, ())}, day):  # only then read texts
        remembered = journal.memory(journal.by_day(store.entries(db, pid, view.challenge["id"])), day)
    return mail.day_email(view.challenge, view.days[day], _person(participant), line, remembered,
                          len(view.journaled.get(pid, ())))


def _group_is_new(view: View, participant: dict, day: int, members: list[int]) -> bool:
    """Whether to introduce the partners (meet your partner): on a person's first day, when the
    group changed since their previous day opened, or when that previous day never reached them
    (an outage, a pause): the introduction it would have carried is never skipped."""
    if day <= first_day(view, participant):
        return True
    if f"challenge:{view.challenge['id']}:day:{day - 1}:person:{participant['person_id']}" not in view.sent:
        return True
    previous = ct.opens_at(view.start, day - 1, ct.own_send(view.send, participant), participant["timezone"])
    return any(view.formed.get(m) and view.formed[m] > previous for m in members)


def _nudge(view: View, participant: dict, day: int, now: datetime) -> list[PlannedEmail]:
    opened = ct.opens_at(view.start, first_day(view, participant), ct.own_send(view.send, participant),
                         participant["timezone"])
    since = max(participant["last_activity_at"], opened)
    if now - since < SILENCE:
        return []
    count = len(view.journaled.get(participant["person_id"], ()))
    return [mail.nudge(view.challenge, _person(participant), day, since, count)]


def _summary(db: Database, view: View, participant: dict) -> PlannedEmail:
    titles = {n: mail.said(d, "title") for n, d in view.days.items()}  # in each reader's language
    entries = store.entries(db, participant["person_id"], view.challenge["id"])
    attached = files.files_of(db, "journal", [e["id"] for e in entries], with_data=True)
    rows = journal.journal_rows(view.challenge, titles, entries, attached)
    return mail.summary(view.challenge, _person(participant), rows)


# -- replies -----------------------------------------------------------------------------

def handle_reply(db: Database, reply: RoutedReply, now: datetime, settings: object = None) -> list[PlannedEmail]:
    """A reply to a day email is that day's journal entry (whenever it arrives); "pause",
    "resume", "stop" and "join" change the participant; an empty one gets one short answer."""
    match = REF.match(reply.ref or "")
    if not match:
        raise InboundError(f"challenge reply with an unexpected reference {reply.ref!r}")
    try:
        head = store.challenge_head(db, int(match.group(1)))
    except NotFoundError as exc:
        raise InboundError(f"reply to {reply.ref}: {exc}") from exc
    if head["state"] == "removed":
        return outcome.kept(reply, f"a reply to challenge {head['id']}, which was removed")
    day = int(match.group(2)) if match.group(2) else None
    person = person_of(db, reply)
    if day is not None and reply.intent not in STATUS_FOR and reply.intent != "join":
        return _journal(db, head, person, day, reply, now)  # most replies: the whole row only to answer
    challenge = store.get_challenge(db, head["id"])
    if reply.intent in STATUS_FOR:
        return _change(db, challenge, person, STATUS_FOR[reply.intent], reply, now)
    if reply.intent == "join":
        return _join(db, challenge, person, reply, now)
    return _announcement_reply(db, challenge, person, reply, now)


def _their_subject(reply: RoutedReply) -> str:
    return reply.message.subject or ""


def set_participant_status(db: Database, challenge_id: int, person_id: int, status: str,
                           now: datetime) -> None:
    """Pause, resume or stop a participant; one who stops leaves their partner group
    (the partner is re-paired when their next day starts)."""
    with db.atomic():
        store.set_participant_status(db, challenge_id, person_id, status, now)
        if status == "stopped":
            store.leave_group(db, challenge_id, person_id, now)


def _change(db: Database, challenge: dict, person: dict, status: str, reply: RoutedReply,
            now: datetime) -> list[PlannedEmail]:
    participant = store.get_participant(db, challenge["id"], person["id"])
    if participant is None or participant["status"] == status:
        why = "not taking part" if participant is None else f"already {participant['status']}"
        return outcome.kept(reply, f"{reply.intent}: {why}, nothing changed")
    set_participant_status(db, challenge["id"], person["id"], status, now)
    return [mail.status_change(challenge, person, CHANGE_WORD[status], now, None, _their_subject(reply),
                               reply.message.message_id)]


def enroll(db: Database, challenge_id: int, person_id: int, now: datetime) -> int | None:
    """Enrol a person (a volunteer call feeding this challenge, or a "join" reply): their day
    emails start with the first day opening after ``now``, their next local morning (day 1
    when the challenge has not begun). Returns that day; None when they already take part or
    the last day has already begun. NotFoundError for an unknown challenge or person."""
    challenge = store.get_challenge(db, challenge_id)
    person = people.get_person(db, person_id)
    if store.get_participant(db, challenge_id, person_id) is not None:
        return None
    start = date.fromisoformat(challenge["start"])
    send = time(challenge["send_hour"], challenge["send_minute"])
    from_start = now < ct.opens_at(start, 1, ct.own_send(send, person), person["timezone"])
    with db.atomic():
        store.add_participant(db, challenge_id, person_id, now, from_start=from_start)
        joined = store.get_participant(db, challenge_id, person_id)
        view_like = View(challenge, start, send, {}, [], set(), {}, {}, {})
        first = first_day(view_like, {**joined, "timezone": person["timezone"], "send_hour": person.get("send_hour")})
        if first > challenge["length"]:  # too late: the last day has already begun
            store.set_participant_status(db, challenge_id, person_id, "stopped", now)
            return None
    return first


def leave(db: Database, challenge_id: int, person_id: int, now: datetime) -> None:
    """Take a participant out (they stop, as if they had replied "stop"): for a volunteer who
    withdraws from the call that enrolled them. Nothing when they do not take part."""
    participant = store.get_participant(db, challenge_id, person_id)
    if participant is not None and participant["status"] != "stopped":
        set_participant_status(db, challenge_id, person_id, "stopped", now)


def sponsors_of(db: Database, challenge_id: int) -> list[str]:
    """The addresses sponsoring a challenge (for digests of what feeds it); [] if unknown."""
    try:
        return [s.lower() for s in store.get_challenge(db, challenge_id)["sponsors"]]
    except NotFoundError:
        return []


def _join(db: Database, challenge: dict, person: dict, reply: RoutedReply, now: datetime) -> list[PlannedEmail]:
    participant = store.get_participant(db, challenge["id"], person["id"])
    if participant is not None:
        return _change(db, challenge, person, "active", reply, now)
    first = enroll(db, challenge["id"], person["id"], now)
    if first is None:
        return outcome.kept(reply, "join: the last day has already begun, too late to take part")
    start = date.fromisoformat(challenge["start"])
    send = ct.own_send(time(challenge["send_hour"], challenge["send_minute"]), person)
    label = _("Day %(day)s arrives %(date)s at %(time)s your time.", day=first,
              date=ct.short_date(ct.day_date(start, first)), time=formats.time(send))
    return [mail.status_change(challenge, person, "joined", now, label, _their_subject(reply),
                               reply.message.message_id)]


def _announcement_reply(db: Database, challenge: dict, person: dict, reply: RoutedReply,
                        now: datetime) -> list[PlannedEmail]:
    """A participant's words to the announcement (or a confirmation) are a journal entry for
    the day in progress; written before day 1, they start day 1 and are answered with when it
    begins. Someone not taking part is told how to join."""
    if store.get_participant(db, challenge["id"], person["id"]) is None:
        local_day = ct.local_date(now, person["timezone"])
        return [mail.join_help(challenge, person, local_day, _their_subject(reply), reply.message.message_id)]
    day = _day_in_progress(challenge, person, now)
    plans = _journal(db, challenge, person, max(day, 1), reply, now)
    if day >= 1 or outcome.marked(reply) is not None:
        return plans  # kept for the day in progress, or answered ("we couldn't find your entry")
    local_day = ct.local_date(now, person["timezone"])
    return plans + [mail.kept_early(challenge, person, local_day, _their_subject(reply), reply.message.message_id)]


def _day_in_progress(challenge: dict, person: dict, now: datetime) -> int:
    """The last day whose email has opened for ``person`` (0: none yet), at most the last."""
    tz, start = person["timezone"], date.fromisoformat(challenge["start"])
    send = ct.own_send(time(challenge["send_hour"], challenge["send_minute"]), person)
    day = min(ct.day_number(now, tz, start), challenge["length"] + 1)
    if day >= 1 and now < ct.opens_at(start, day, send, tz):
        day -= 1
    return min(day, challenge["length"])


def _journal(db: Database, head: dict, person: dict, day: int, reply: RoutedReply,
             now: datetime) -> list[PlannedEmail]:
    """A day's journal entry; ``head``: the challenge's id, state and length (``store.challenge_head``),
    the whole challenge is read only for an answer."""
    if not 1 <= day <= head["length"]:
        raise InboundError(f"journal reply for day {day} of a {head['length']}-day challenge")
    text = journal.clean_entry(reply.reply_text or "")
    store.touch_participant(db, head["id"], person["id"], now)
    choice = reply_files.choice_of(reply)
    subject, answered = _their_subject(reply), reply.message.message_id
    if (reply.intent == "empty" or not text.strip()) and not choice.kept:
        local_day = ct.local_date(now, person["timezone"])
        challenge = store.get_challenge(db, head["id"])
        return outcome.answered(reply, [mail.couldnt_read(challenge, person, day, local_day, subject, answered)])
    text, cut = journal.capped(text)
    entry_id = store.add_entry(db, head["id"], person["id"], day, text, journal.is_shareable(text),
                               reply.received_at or now, answered)
    reply_files.keep(db, "journal", entry_id, person["id"], choice, now)
    if not (cut or choice.over_limits):
        return []
    challenge, notes = store.get_challenge(db, head["id"]), []
    if cut:
        notes.append(mail.entry_cut(challenge, person, day, now, subject, answered))
    if choice.over_limits:  # too big or too many: said once, the rest of the entry is kept
        notes.append(mail.files_not_kept(challenge, person, day, choice.over_limits, subject, answered))
    return notes
