"""The volunteer-call flow: what is due now, and what a reply means.

``due`` sends each open call to its recipients while it is open for them (until the end of
the closing day in their own time zone) and, once the closing day has ended everywhere (or
``call close`` closed it), the list of who volunteered to the call's sender. ``handle_reply``
re-reads the reply with the call's role names ("count me in as a writer"), then signs the
person up (confirmed or waitlisted: decided in SQL), takes them off (promoting the first on
the waitlist) or asks one short question. After closing, a reply gets one polite answer and
changes nothing. The clock is only ever ``now``.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Iterator

from sqlite_utils import Database

from mailer.errors import InboundError, NotFoundError
from mailer.flows import outcome
from mailer.flows.base import PlannedEmail, RoutedReply, person_of
from mailer.flows.call import definition, feeds
from mailer.flows.call import emails as mail
from mailer.flows.call.places import RoleState, board, choose_role, match_role, summary
from mailer.inbound.commands import Intent, fold, interpret
from mailer.inbound.intents import find_role
from mailer.store import calls as store
from mailer.store import outbox, people

REF = re.compile(r"^call:(\d+)$")


def local_date(now: datetime, tz: str) -> date:
    """The calendar date at ``now`` in zone ``tz``."""
    return now.astimezone(definition.zone_or_utc(tz)).date()


def closes_at(call: dict, zones: set[str]) -> datetime:
    """When the closing day has ended in every one of ``zones`` (UTC when there are none)."""
    return definition.closes_at(date.fromisoformat(call["closes"]), zones)


def closed_for(call: dict, person: dict, now: datetime) -> bool:
    """Whether the call no longer takes replies from this person (closed, or past their closing day)."""
    return call["state"] == "closed" or local_date(now, person["timezone"]) > date.fromisoformat(call["closes"])


def role_board(db: Database, call_id: int) -> list[RoleState]:
    """The call's roles with who is confirmed and who waits, as the store has it now."""
    return board(store.call_roles(db, call_id), store.signups(db, call_id))


def role_counts(db: Database, call_id: int) -> list[RoleState]:
    """The call's roles with only how many are confirmed and waiting (cheap: one GROUP BY)."""
    return summary(store.call_roles(db, call_id), store.signup_counts(db, call_id))


def sender_of(db: Database, call: dict, settings: object) -> dict | None:
    """Who gets the list at closing: the call's sender, else ``[mailer] lead``, if a known person."""
    address = call["sender"] or getattr(settings, "mailer_lead", "") or ""
    return people.find_person(db, address) if address else None


# -- due -------------------------------------------------------------------------------------

def due(db: Database, now: datetime, settings: object = None) -> Iterator[PlannedEmail]:
    """Every call email that should have been planned by ``now`` and is not in the outbox, one at
    a time (the worker composes them a batch at a time: 50,000 invitations never sit in memory)."""
    for call in store.list_calls(db):
        yield from plan_call(db, call, now, settings)


def plan_call(db: Database, call: dict, now: datetime, settings: object = None) -> Iterator[PlannedEmail]:
    """The invitations still due for one call, or at closing the list for its sender.

    Planned once per change: a pass that finds nothing due marks the call, and ticks before its
    closing skip it while no person changed (``store.calls`` triggers), no one was added and its
    target holds the same people (issue 25: 50,000 recipients are not read every tick).
    """
    newest, inside = people.newest_id(db), feeds.already_in(db, call["feeds"])
    if _nothing_due(db, call, now, newest, inside):
        return
    sent = outbox.existing_keys(db, f"call:{call['id']}:")
    if f"call:{call['id']}:list" in sent:
        return
    recipients = definition.invitees(db, call["to_spec"], call["feeds"])
    zones = {p["timezone"] for p in recipients}
    if call["state"] == "closed" or now >= closes_at(call, zones | store.signup_zones(db, call["id"])):
        sender = sender_of(db, call, settings)
        if sender:
            yield mail.sender_list(call, sender, role_board(db, call["id"]))
        return
    roles, planned = role_counts(db, call["id"]), False
    for person in recipients:
        if f"call:{call['id']}:invite:person:{person['id']}" not in sent and not closed_for(call, person, now):
            planned = True
            yield mail.invite(call, person, roles)
    if not planned:  # marked only when nothing is left to enqueue: a crash before enqueueing loses nothing
        store.set_plan_mark(db, call["id"], now, zones, newest, inside)


def _nothing_due(db: Database, call: dict, now: datetime, newest: int, inside: set[int]) -> bool:
    """Whether a pass already found nothing due with the same people and target, and the call
    has not closed since (the closing moment counts everyone signed up: one small query)."""
    mark = store.plan_mark(call, now)
    if mark is None or call["state"] == "closed" or mark["people_seen"] != newest or mark["inside"] != inside:
        return False
    return now < closes_at(call, mark["zones"] | store.signup_zones(db, call["id"]))


# -- replies ---------------------------------------------------------------------------------

def _call_for(db: Database, ref: str) -> dict:
    match = REF.match(ref or "")
    if not match:
        raise InboundError(f"volunteer reply with an unexpected reference {ref!r}")
    try:
        return store.get_call(db, int(match.group(1)))
    except NotFoundError as exc:
        raise InboundError(f"reply to {ref}: {exc}") from exc


def handle_reply(db: Database, reply: RoutedReply, now: datetime,
                 settings: object = None) -> list[PlannedEmail]:
    """Sign up, withdraw, decline or ask: the reply is read again with the call's role names."""
    call = _call_for(db, reply.ref)
    if reply.purpose == "call_list":  # the sender answering the list: theirs to read, nobody to tell
        return outcome.kept(reply, f"a reply from {reply.person_email} to the list of call {call['id']} "
                                   f"({call['title']}): kept for the lead")
    person = person_of(db, reply)
    roles = role_counts(db, call["id"])
    intent = interpret("volunteer", reply.reply_text or "", [r.name for r in roles if r.name])
    if closed_for(call, person, now):
        told = [] if intent.intent == "decline" else [mail.closed(call, person, reply)]
        return outcome.kept(reply, f"a reply to call {call['id']} after it closed: kept for the lead", told)
    if intent.intent == "volunteer":
        return _volunteer(db, call, person, roles, intent, reply, now)
    if intent.intent == "withdraw":
        return _withdraw(db, call, person, reply, now)
    if intent.intent == "decline":  # "sorry, not this time": nothing to change, nothing to say
        return outcome.kept(reply, f"{person['email']} declined call {call['id']}")
    return [mail.unclear(call, person, roles, local_date(now, person["timezone"]), reply)]


def _volunteer(db: Database, call: dict, person: dict, roles: list[RoleState], intent: Intent,
               reply: RoutedReply, now: datetime) -> list[PlannedEmail]:
    named = [r.name for r in roles if r.name]
    if intent.role and named:
        role_name = match_role(intent.role, named)
        if role_name is None:
            return [mail.unknown_role(call, person, intent.role, roles, f"{now:%Y%m%dT%H%M%S}", reply)]
    elif store.active_signups(db, call["id"], person["id"]):  # "I'm in" again: nothing changes
        return outcome.kept(reply, f"{person['email']} is already signed up to call {call['id']}: nothing changed")
    else:
        role_name = choose_role(roles)
    signup = store.take_place(db, call["id"], role_name, person["id"], now)
    if signup is None:
        return outcome.kept(reply, f"{person['email']} holds a place in {role_name or 'call'} already: nothing changed")
    role = next(r for r in roles if r.name == role_name)
    if signup["status"] == "confirmed":
        _feed(db, call, signup, now)
        return [mail.confirmed(call, person, role, signup, reply)]
    return [mail.waitlisted(call, person, role, signup, reply)]


def _withdraw(db: Database, call: dict, person: dict, reply: RoutedReply, now: datetime) -> list[PlannedEmail]:
    held = [s["role"] for s in store.active_signups(db, call["id"], person["id"])]
    named = find_role(fold(reply.reply_text or "").folded, [r for r in held if r])
    withdrawn, promoted = store.withdraw(db, call["id"], person["id"], named if named in held else None, now)
    if not withdrawn:  # not signed up: nothing to take them off
        return outcome.kept(reply, f"{person['email']} asked to withdraw from call {call['id']} without a place")
    still_held = store.active_signups(db, call["id"], person["id"])
    left = any(s["fed"] for s in withdrawn) and not any(s["fed"] for s in still_held) \
        and feeds.unfeed(db, call["feeds"], person["id"], now)
    plans = [mail.withdrawn(call, person, [s["role"] for s in withdrawn], left, f"{now:%Y%m%dT%H%M%S}", reply)]
    after = {r.name: r for r in role_counts(db, call["id"])}
    for signup in promoted:
        _feed(db, call, signup, now)
        promoted_person = people.get_person(db, signup["person_id"])
        plans.append(mail.promoted(call, promoted_person, after[signup["role"]], signup))
    return plans


def _feed(db: Database, call: dict, signup: dict, now: datetime) -> None:
    if feeds.feed(db, call["feeds"], signup["person_id"], now):
        store.mark_fed(db, signup["id"])


def confirmed(db: Database, call_id: int) -> list[int]:
    """The people confirmed in a call (person ids, in the order they signed up): for meetup
    invitations addressed to "call:ID"."""
    return store.confirmed_people(db, call_id)
