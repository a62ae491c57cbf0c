"""A charter's life by command: submit, revise, withdraw, complete; and joining its team.

Each verb validates, changes the store, and leaves the emails to ``flow.due``: requests,
outcomes, check-ins and findings fall due on the next tick.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from mailer import outbox
from mailer.errors import ConfigError
from mailer.flows.base import PlannedEmail
from mailer.flows.charter import definition as cdef
from mailer.flows.charter import emails as mail
from mailer.flows.charter import links
from mailer.store import charters as store
from mailer.store import people

REVISABLE = ("pending", "changes_requested", "rejected", "expired")
OPEN = ("pending", "changes_requested")


def check(db: Database, path: Path, now: datetime) -> cdef.CharterDef:
    """Every rule ``submit`` and ``revise`` enforce on a charter file, changing nothing
    (``charter submit --check`` runs exactly this): the file, its people, and a deadline from
    today on (each a ConfigError naming file and key)."""
    definition = cdef.load_definition(path)
    cdef.check_people(db, definition)
    _deadline_ahead(definition, path, now)
    return definition


def _deadline_ahead(definition: cdef.CharterDef, path: Path, now: datetime) -> None:
    if definition.deadline < now.date():
        raise ConfigError(f"{path}: deadline = {definition.deadline}; expected a date from today on")


def _team_ids(db: Database, definition: cdef.CharterDef) -> list[int]:
    return [people.find_person(db, a)["id"] for a in definition.team]


def submit(db: Database, path: Path, now: datetime) -> int:
    """Store a charter (version 1, pending) and its team; approvers are asked at the next tick."""
    definition = check(db, path, now)
    return store.create_charter(db, definition.as_spec(), _team_ids(db, definition), now)


def revise(db: Database, charter_id: int, path: Path, now: datetime) -> tuple[int, list[str]]:
    """Make the next version from a revised file; decisions on earlier versions no longer count."""
    charter = store.get_charter(db, charter_id)
    if charter["status"] not in REVISABLE:
        raise ConfigError(f"charter {charter_id} is {charter['status']}; only a charter that is "
                          f"{', '.join(REVISABLE)} can be revised")
    definition = check(db, path, now)
    spec = definition.as_spec()
    changed = cdef.changes(charter["spec"], spec)
    if not changed:
        raise ConfigError(f"{path}: nothing changed from version {charter['version']}")
    with db.atomic():
        version = store.add_version(db, charter_id, spec, cdef.stored_changes(changed), now)
        for person_id in _team_ids(db, definition):
            store.add_member(db, charter_id, person_id, now)
    return version, changed


def withdraw(db: Database, charter_id: int, now: datetime) -> None:
    """Withdraw an undecided charter; approvers who had not answered are told they need not."""
    charter = store.get_charter(db, charter_id)
    if charter["status"] not in REVISABLE:
        raise ConfigError(f"charter {charter_id} is {charter['status']} and cannot be withdrawn")
    store.set_status(db, charter_id, "withdrawn", now)


def complete(db: Database, charter_id: int, now: datetime) -> None:
    """End an approved project: the team is asked for its findings; a report-back is offered."""
    charter = store.get_charter(db, charter_id)
    if charter["status"] != "approved":
        raise ConfigError(f"charter {charter_id} is {charter['status']}; only an approved project can be completed")
    with db.atomic():
        store.set_status(db, charter_id, "completed", now)
        links.offer_meetup(db, store.get_charter(db, charter_id), now)


def add_team_member(db: Database, charter_id: int, person_id: int, now: datetime) -> bool:
    """A volunteer who signed up through the charter's call joins the team (next check-in on).

    True when they joined; False when they were on the team already (the call then leaves
    them there if they withdraw from it)."""
    store.get_charter(db, charter_id)
    people.get_person(db, person_id)
    return store.add_member(db, charter_id, person_id, now)


def remove_team_member(db: Database, charter_id: int, person_id: int, now: datetime) -> None:
    """A volunteer who withdrew from the charter's call leaves the team (no more check-ins)."""
    store.get_charter(db, charter_id)
    store.remove_member(db, charter_id, person_id)


def team_members(db: Database, charter_id: int) -> list[int]:
    """The team's person ids, in the order they joined."""
    return [m["person_id"] for m in store.members(db, charter_id)]


def project_people(db: Database, charter_id: int) -> list[int]:
    """Who is already in the project: its proposer and its team (person ids). A call for
    volunteers to it is not sent to them."""
    proposer = people.find_person(db, store.get_charter(db, charter_id)["spec"]["proposer"])
    return [*([proposer["id"]] if proposer else []), *team_members(db, charter_id)]


def remind(db: Database, charter_id: int, now: datetime, settings) -> int:
    """Queue the approval reminders now, before their scheduled morning (``charter remind``,
    the lead's page); how many. Same keys as the scheduled reminders: no one is reminded twice."""
    return outbox.enqueue(db, reminders_now(db, charter_id), now, settings)


def reminders_now(db: Database, charter_id: int) -> list[PlannedEmail]:
    """The reminders due to each approver of a pending charter who had the request, has not
    answered it and was not reminded yet (a ConfigError for a charter not pending)."""
    from mailer.flows.charter import flow  # late: loading flow loads this package, which loads this module

    charter = store.get_charter(db, charter_id)
    if charter["status"] != "pending":
        raise ConfigError(f"charter {charter_id} is {charter['status']}: only a pending charter's approvers "
                          "are reminded")
    view, done = flow.make_view(db, charter), flow.answered(db, charter)
    plans = []
    for address in charter["spec"]["approvers"]:
        person = view.person(address)
        if person is None or person["id"] in done:
            continue
        request, reminder = (mail.request(charter, view.shown, person, reminder=r) for r in (False, True))
        if request.key in view.sent and reminder.key not in view.sent:
            plans.append(reminder)
    return plans
