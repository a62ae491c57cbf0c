"""What a call feeds: "challenge:ID" participants, "charter:ID" team, "meetup:ID" speakers.

Flows call each other only through small public verbs (DESIGN.md), imported lazily here so a
deployment without one of those flows still runs every call that does not feed it, and
``call open --check`` can say plainly which kinds of target this build has.
"""
from __future__ import annotations

import importlib
import re
from datetime import datetime
from typing import Callable

from sqlite_utils import Database

from mailer.errors import ConfigError, NotFoundError
from mailer.locale.text import _

REF = re.compile(r"^(challenge|charter|meetup):(\d+)$")
# kind -> the verb undoing it when a volunteer withdraws (used only where the flow offers it)
UNDO = {"challenge": "leave", "charter": "remove_team_member", "meetup": "remove_speaker"}
# kind -> (package, verb(db, target_id, person_id, now), what a volunteer becomes)
VERBS = {
    "challenge": ("mailer.flows.challenge", "enroll",
                  _("a participant of the challenge: its day emails start on your next local morning "
                    "(on day 1 if it has not begun yet)")),
    "charter": ("mailer.flows.charter", "add_team_member",
                _("a member of the project team: you will get its next check-in")),
    "meetup": ("mailer.flows.meetup", "add_speaker", _("one of the meetup's speakers")),
}

# kind -> the verb naming who is in the target already (person ids): the call is not sent to them.
# A challenge's participants still get a call that feeds it (they may volunteer for a role in it).
ALREADY_IN = {"charter": "project_people"}


def parse(ref: str) -> tuple[str, int] | None:
    """("challenge", 7) for "challenge:7"; None for anything else."""
    found = REF.match(ref or "")
    return (found.group(1), int(found.group(2))) if found else None


def verb(kind: str, undo: bool = False) -> Callable | None:
    """The target flow's public verb for ``kind`` (or the one undoing it), or None when this
    build lacks it."""
    package, name, _ = VERBS[kind]
    name = UNDO[kind] if undo else name
    try:
        return getattr(importlib.import_module(package), name)
    except (ImportError, AttributeError):
        return None


def problem(ref: str) -> str | None:
    """Why a call could not feed ``ref`` (an unknown form, a flow not in this build), or None."""
    if not ref:
        return None
    parsed = parse(ref)
    if parsed is None:
        return f"feeds = {ref!r}; expected \"charter:ID\", \"challenge:ID\" or \"meetup:ID\""
    if verb(parsed[0]) is None:
        package, name, _ = VERBS[parsed[0]]
        return (f"feeds = {ref!r}: {parsed[0]} targets are not available in this build "
                f"({package}.{name} is missing)")
    return None


def already_in(db: Database, ref: str) -> set[int]:
    """The people already in the call's target (a project's proposer and team): asking them to
    volunteer for it makes no sense. Empty when the call feeds nothing or the target's flow
    offers no such verb."""
    parsed = parse(ref)
    if parsed is None or parsed[0] not in ALREADY_IN:
        return set()
    try:
        named = getattr(importlib.import_module(VERBS[parsed[0]][0]), ALREADY_IN[parsed[0]])
    except (ImportError, AttributeError):
        return set()
    try:
        return set(named(db, parsed[1]))
    except NotFoundError:  # a target that is gone holds nobody
        return set()


def becomes(ref: str) -> str | None:
    """What signing up makes a volunteer, for the confirmation ("a participant of the challenge…")."""
    parsed = parse(ref)
    return VERBS[parsed[0]][2] if parsed else None


LEFT = {"challenge": _("You are out of the challenge too: no more day emails."),
        "charter": _("You are off the project team too."), "meetup": _("You are no longer listed as a speaker.")}


def left(ref: str) -> str | None:
    """What withdrawing also undid, for the confirmation ("You are out of the challenge too")."""
    parsed = parse(ref)
    return LEFT[parsed[0]] if parsed else None


def feed(db: Database, ref: str, person_id: int, now: datetime) -> bool:
    """Add a confirmed volunteer to the call's target; True when the target says it took them
    in (a verb returning None or False: they were there already, or it was too late)."""
    if not ref:
        return False
    trouble = problem(ref)
    if trouble:
        raise ConfigError(f"call target {trouble}")
    kind, target_id = parse(ref)
    result = verb(kind)(db, target_id, person_id, now)
    return result is not None and result is not False


def unfeed(db: Database, ref: str, person_id: int, now: datetime) -> bool:
    """Take a withdrawing volunteer out of the target the call put them in, where that flow
    offers a way (a challenge: they stop); True when it did."""
    parsed = parse(ref)
    undo = verb(parsed[0], undo=True) if parsed else None
    if undo is None:
        return False
    undo(db, parsed[1], person_id, now)
    return True
