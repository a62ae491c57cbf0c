"""The call's emails as PlannedEmails: keys, subjects, templates and their context.

Each builder is pure. Keys (the outbox's idempotency) — C call id, P person id, S sign-up id:

    call:C:invite:person:P              the call itself, with the places left
    call:C:confirmed:person:P:signup:S  "you're in as writer", and how to withdraw
    call:C:waitlisted:person:P:signup:S "the role is full; you are number 2 on the waitlist"
    call:C:promoted:person:P:signup:S   "a place opened: you're in"
    call:C:withdrawn:person:P:at:STAMP  "you're off the list"
    call:C:unknownrole:person:P:at:STAMP "there is no such role; the roles are …"
    call:C:unclear:person:P:date:D      one short question, once a local day
    call:C:closed:person:P              "this call has closed", once
    call:C:list                         the list, to the call's sender at closing
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any, Sequence

from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.flows.call import feeds
from mailer.flows.call.places import RoleState, place_line
from mailer.locale import stored
from mailer.locale.text import _
from mailer.outbound import formats
from mailer.outbound.subject import reply_subject


@lru_cache(maxsize=256)
def _stored(text: str) -> dict[str, Any]:
    return json.loads(text)


def _parts(call: dict) -> dict[str, Any]:
    # A call opened by another flow (a charter's) keeps its sentences as parts (``calls.said``,
    # ``mailer.locale.stored``), each said in the reader's language; a lead's call has none.
    return _stored(call["said"]) if call.get("said") else {}


def said(call: dict, key: str) -> Any:
    """The call's ``title`` or ``description`` as the recipient reads it: in their language
    when the call keeps it as parts, else as it was written."""
    parts = _parts(call)
    return _loaded(call["said"], key, None) if key in parts else call[key]


@lru_cache(maxsize=256)
def _loaded(text: str, key: str, role: str | None) -> Any:
    """A sentence the call keeps as parts, loaded once for every recipient of the call (issue
    25): the same value, said once per language (``locale.text.localize``)."""
    parts = _stored(text)
    return stored.load(parts[key] if role is None else parts["roles"][role])


def title(call: dict) -> Any:
    """The call's title as the recipient reads it (``said``)."""
    return said(call, "title")


def _described(call: dict, role: RoleState) -> Any:
    kept = _parts(call).get("roles", {}).get(role.name)
    return _loaded(call["said"], "roles", role.name) if kept is not None else role.description


def _base(call: dict) -> dict[str, Any]:
    return {"call_title": title(call), "closes_label": formats.day(date.fromisoformat(call["closes"]))}


def _headers(call: dict) -> tuple[tuple[str, str], ...]:
    return (("X-Cop-Call", str(call["id"])),)


def _roles(call: dict, roles: Sequence[RoleState]) -> list[dict]:
    return [{"name": r.name, "line": place_line(r), "description": _described(call, r)} for r in roles]


def _invite_roles(call: dict, roles: Sequence[RoleState]) -> list[dict]:
    """``_roles`` for an invitation. A pass over a call's recipients gives every invitation the
    same roles (counts, no sign-ups): their lines are made once for the pass (the last roles
    seen, by identity: a ``RoleState`` never changes) and each email gets its own dicts."""
    said, seen = call.get("said"), tuple(roles)
    if any(r.confirmed or r.waitlist for r in seen):  # a whole board is not kept past its email
        return _roles(call, roles)
    last = _LAST_ROLES[0]
    if last is None or last[0] != said or len(last[1]) != len(seen) or any(a is not b for a, b in zip(last[1], seen)):
        last = _LAST_ROLES[0] = (said, seen, _roles(call, roles))
    return [dict(role) for role in last[2]]


_LAST_ROLES: list[tuple | None] = [None]


def invite(call: dict, person: dict, roles: Sequence[RoleState]) -> PlannedEmail:
    """The call: what it is for, each role with its places left, and how to answer."""
    named = [r.name for r in roles if r.name]
    context = {**_base(call), "description": said(call, "description"), "roles": _invite_roles(call, roles),
               "named": named, "example_role": named[0] if named else None,
               "becomes": feeds.becomes(call["feeds"])}
    return PlannedEmail(key=f"call:{call['id']}:invite:person:{person['id']}", to=person["email"],
                        subject=_("Volunteers wanted: %(title)s", title=title(call)), template="call/invite",
                        context=context, reply_purpose="volunteer", reply_ref=f"call:{call['id']}",
                        headers=_headers(call))


def _answer(call: dict, person: dict, kind: str, tail: str, template: str, reply: RoutedReply | None,
            extra: dict[str, Any]) -> PlannedEmail:
    theirs = reply.message.subject if reply is not None else ""
    return PlannedEmail(key=f"call:{call['id']}:{kind}:person:{person['id']}{tail}", to=person["email"],
                        subject=reply_subject(theirs, title(call)), template=template,
                        context={**_base(call), **extra}, auto_reply=reply is not None,
                        in_reply_to=reply.message.message_id if reply is not None else None,
                        reply_purpose="volunteer", reply_ref=f"call:{call['id']}", headers=_headers(call))


def _role_extra(call: dict, role: RoleState) -> dict[str, Any]:
    return {"role": role.name, "role_description": _described(call, role), "becomes": feeds.becomes(call["feeds"])}


def confirmed(call: dict, person: dict, role: RoleState, signup: dict, reply: RoutedReply) -> PlannedEmail:
    """You're in: what they signed up for, and how to withdraw."""
    return _answer(call, person, "confirmed", f":signup:{signup['id']}", "call/confirmed", reply,
                   _role_extra(call, role))


def waitlisted(call: dict, person: dict, role: RoleState, signup: dict, reply: RoutedReply) -> PlannedEmail:
    """The role is full: their place on the waitlist."""
    return _answer(call, person, "waitlisted", f":signup:{signup['id']}", "call/waitlisted", reply,
                   {**_role_extra(call, role), "position": signup["position"], "places": role.places})


def promoted(call: dict, person: dict, role: RoleState, signup: dict) -> PlannedEmail:
    """A place opened and the first on the waitlist has it (not an answer to their reply)."""
    plan = _answer(call, person, "promoted", f":signup:{signup['id']}", "call/promoted", None,
                   _role_extra(call, role))
    return replace(plan, subject=_("You're in: %(title)s (%(role)s)", title=title(call), role=role.name or _("volunteer")))


def withdrawn(call: dict, person: dict, roles: Sequence[str], left_target: bool, stamp: str,
              reply: RoutedReply) -> PlannedEmail:
    """Confirms that they are off the list (of these roles), and out of what the call fed."""
    return _answer(call, person, "withdrawn", f":at:{stamp}", "call/withdrawn", reply,
                   {"left_roles": [r for r in roles if r],
                    "left_target": feeds.left(call["feeds"]) if left_target else None})


def unknown_role(call: dict, person: dict, named: str, roles: Sequence[RoleState], stamp: str,
                 reply: RoutedReply) -> PlannedEmail:
    """There is no such role: the roles there are, with their places."""
    return _answer(call, person, "unknownrole", f":at:{stamp}", "call/unknown_role", reply,
                   {"named": named, "roles": _roles(call, roles)})


def unclear(call: dict, person: dict, roles: Sequence[RoleState], local_day: date,
            reply: RoutedReply) -> PlannedEmail:
    """One short question to a reply we could not read as yes, no or withdraw."""
    named = [r.name for r in roles if r.name]
    return _answer(call, person, "unclear", f":date:{local_day.isoformat()}", "call/unclear", reply,
                   {"example_role": named[0] if len(named) > 1 else None})


def closed(call: dict, person: dict, reply: RoutedReply) -> PlannedEmail:
    """The one polite answer to a reply after the call closed."""
    early = call["state"] == "closed" and call["closed_at"] is not None \
        and call["closed_at"].date() <= date.fromisoformat(call["closes"])
    return _answer(call, person, "closed", "", "call/closed", reply, {"closed_early": early})


def sender_list(call: dict, sender: dict, roles: Sequence[RoleState]) -> PlannedEmail:
    """At closing, to whoever opened the call: each role, who is in and who waits, in order."""
    listed = [{"name": r.name or _("volunteers"), "places": r.places, "description": _described(call, r),
               "confirmed": [{"name": s["name"], "email": s["email"]} for s in r.confirmed],
               "waitlist": [{"name": s["name"], "email": s["email"]} for s in r.waitlist]} for r in roles]
    context = {**_base(call), "roles": listed, "feeds": call["feeds"],
               "total": sum(len(r.confirmed) for r in roles)}
    return PlannedEmail(key=f"call:{call['id']}:list", to=sender["email"],
                        subject=_("Call closed: %(title)s, who volunteered", title=title(call)), template="call/list",
                        context=context, headers=_headers(call), reply_purpose="call_list",
                        reply_ref=f"call:{call['id']}")

