"""The charter flow: what is due now, and what a reply means.

``due`` looks at each charter as the store has it at ``now``. Pending: the request to each
approver, one reminder before the deadline to those who have not answered, expiry after it.
Decided: the outcome to the proposer, the team and the sponsors, and "no need to answer" to
approvers who had not. Approved: check-ins, project news and, at the planned end, completion
(``mailer.flows.charter.project``). ``handle_reply`` hands approval replies to
``approvals`` and check-in and news replies to ``project``. The clock is only ever ``now``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlite_utils import Database

from mailer.errors import InboundError, NotFoundError
from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.flows.charter import approvals, project, rules
from mailer.flows.charter import emails as mail
from mailer.store import charter_plans as plan_marks
from mailer.store import charters as store
from mailer.store import outbox, people

REF = re.compile(r"^charter:(\d+):(?:v:(\d+)(?::held:(\d+))?|round:(\d+)|news:(\d+))$")
OUTCOME_TO = {"approved": ("proposer", "team", "sponsor"), "rejected": ("proposer", "team", "sponsor"),
              "changes_requested": ("proposer",), "expired": ("proposer",)}
NOT_NEEDED = ("approved", "rejected", "changes_requested", "withdrawn")
SETTLED = ("rejected", "changes_requested", "expired", "withdrawn", "completed")
QUIET_AFTER = timedelta(days=14)  # findings and the last news go out within days of the end


@dataclass
class View:
    """One charter as the store has it at the start of a tick, with everyone's names."""

    charter: dict
    shown: dict
    people: dict[str, dict]  # address -> person
    sent: set[str]

    def person(self, address: str) -> dict | None:
        """The known, mailable person at ``address``, or None."""
        found = self.people.get(address)
        return found if found and people.is_mailable(found) else None


def make_view(db: Database, charter: dict, with_sent: bool = True) -> View:
    """The view of one charter: its people and (``with_sent``: for planning, not for a reply)
    the keys already in the outbox. The people are looked up together, not one query each; a
    reply's view leaves the approvers out (only the request, which planning sends, names them:
    an approval does not look up 1,000 approvers, issue 25)."""
    spec = charter["spec"]
    addresses = {spec["proposer"], *spec["team"], *(spec["approvers"] if with_sent else ()),
                 *spec["learning_sponsors"], *spec["funding_sponsors"],
                 *(m["email"] for m in store.members(db, charter["id"]))}
    found = people.find_people(db, addresses)
    known = {a: found[a.strip().lower()] for a in addresses if a.strip().lower() in found}
    shown = mail.view(charter, {a: p["name"] for a, p in known.items()})
    return View(charter, shown, known, outbox.existing_keys(db, f"charter:{charter['id']}:") if with_sent else set())


def due(db: Database, now: datetime, settings: object = None) -> list[PlannedEmail]:
    """Every charter email that should have been planned by ``now`` and is not in the outbox."""
    remind = getattr(settings, "approvals_remind_days_before", 3) if settings is not None else 3
    plans: list[PlannedEmail] = []
    newest, seen = people.newest_id(db), f"remind:{remind}"
    for charter in store.list_charters(db):
        if charter["status"] in SETTLED and now - charter["status_at"] > QUIET_AFTER:
            continue  # decided or finished long ago: nothing more can fall due
        if charter["status"] == "pending" and _deadline_passed(db, charter, now):
            store.set_status(db, charter["id"], "expired", now)
            charter = store.get_charter(db, charter["id"])
        if charter["status"] == "approved" and project.ended(db, charter, now):
            project.complete_now(db, charter, now)
            charter = store.get_charter(db, charter["id"])
        if plan_marks.nothing_due(charter, now, newest, seen):
            continue  # planned once per change (issue 25): no approvers, keys or community read
        view = make_view(db, charter)
        planned = [p for p in _plan(db, view, now, remind) if p.key not in view.sent]
        if not planned:  # marked only when nothing is left to enqueue: a crash before enqueueing loses nothing
            plan_marks.set_plan_mark(db, charter["id"], now, next_change(db, charter, now, remind), newest, seen)
        plans.extend(planned)
    return plans


def next_change(db: Database, charter: dict, now: datetime, remind: int) -> datetime | None:
    """The next moment after ``now`` at which time alone can make one of the charter's emails
    due: a reminder's, a check-in's, a project news' or the findings' morning in some person's
    zone (None: only a change of the data can). Expiry and the project's end are checked on
    every tick before the mark is read."""
    days: list[date] = []
    if charter["status"] == "pending" and remind > 0:
        days.append(date.fromisoformat(charter["spec"]["deadline"]) - timedelta(days=remind))
    if charter["status"] in ("approved", "completed"):
        days.extend(project.planning_days(charter))
    days = [d for d in days if d >= now.date() - timedelta(days=2)]  # mornings past in every zone drop out
    if not days:
        return None
    zones = plan_marks.zones(db)
    return min((m for d in days for tz in zones if (m := rules.local_morning(d, tz)) > now), default=None)


def _deadline_passed(db: Database, charter: dict, now: datetime) -> bool:
    proposer = people.find_person(db, charter["spec"]["proposer"])
    tz = proposer["timezone"] if proposer else "UTC"
    return rules.deadline_passed(date.fromisoformat(charter["spec"]["deadline"]), tz, now)


def _plan(db: Database, view: View, now: datetime, remind: int) -> list[PlannedEmail]:
    status = view.charter["status"]
    plans: list[PlannedEmail] = []
    if status == "pending":
        plans += _requests(db, view, now, remind)
    if status in OUTCOME_TO:
        plans += _outcomes(db, view, status)
    if status in NOT_NEEDED:
        plans += _not_needed(db, view, status)
    if status in ("approved", "completed"):
        plans += project.plan(db, view, now)
    return plans


def answered(db: Database, charter: dict) -> set[int]:
    """Approver ids who answered the current version (a held answer counts as answered, one
    they disowned does not)."""
    return {d["approver_id"] for d in store.decisions(db, charter["id"], charter["version"]) if not d["disowned"]}


def _requests(db: Database, view: View, now: datetime, remind: int) -> list[PlannedEmail]:
    """The request to each approver; the reminder in their own morning, to who has not answered."""
    charter, deadline = view.charter, date.fromisoformat(view.charter["spec"]["deadline"])
    done = answered(db, charter)
    plans, due_in = [], {}  # due_in: per time zone, whether the reminder's morning has come
    for address in charter["spec"]["approvers"]:
        person = view.person(address)
        if person is None:
            continue
        request_key = f"charter:{charter['id']}:v:{charter['version']}:request:person:{person['id']}"
        if request_key not in view.sent:  # built only when not sent yet: a tick reads 1,000 approvers
            plans.append(mail.request(charter, view.shown, person, reminder=False))
            continue
        tz = person["timezone"]
        if tz not in due_in:
            due_in[tz] = rules.reminder_due(deadline, remind, tz, now)
        if person["id"] not in done and due_in[tz]:
            plans.append(mail.request(charter, view.shown, person, reminder=True))
    return plans


def _recipients(view: View, roles: tuple[str, ...]) -> list[tuple[dict, str]]:
    spec = view.charter["spec"]
    groups = {"proposer": [spec["proposer"]], "team": spec["team"],
              "sponsor": [*spec["learning_sponsors"], *spec["funding_sponsors"]]}
    seen: dict[str, tuple[dict, str]] = {}
    for role in roles:
        for address in groups[role]:
            person = view.person(address)
            if person and address not in seen:
                seen[address] = (person, role)
    return list(seen.values())


def _decided(db: Database, view: View) -> list[dict]:
    """Each approver's latest kept (not held) decision on the current version."""
    decided = [d for d in store.decisions(db, view.charter["id"], view.charter["version"]) if not d["held"]]
    return list({d["approver_id"]: d for d in decided}.values())


def _outcomes(db: Database, view: View, status: str) -> list[PlannedEmail]:
    decided = _decided(db, view)
    return [mail.outcome(view.charter, view.shown, person, status, role, decided)
            for person, role in _recipients(view, OUTCOME_TO[status])]


def outcome_to(db: Database, view: View, person: dict, status: str, late: bool = False) -> PlannedEmail | None:
    """The outcome email to ``person`` when they are one to hear it (proposer, team, sponsor), else
    None; ``late``: it also answers their answer that came after the decision."""
    for who, role in _recipients(view, OUTCOME_TO.get(status, ())):
        if who["id"] == person["id"]:
            return mail.outcome(view.charter, view.shown, who, status, role, _decided(db, view), late)
    return None


def _not_needed(db: Database, view: View, status: str) -> list[PlannedEmail]:
    done = answered(db, view.charter)
    plans = []
    for address in view.charter["spec"]["approvers"]:
        person = view.person(address)
        told = person and {mail.outcome_key(view.charter, person), mail.decided_key(view.charter, person)} & view.sent
        if person and person["id"] not in done and not told:  # one who answered late was told once
            plans.append(mail.not_needed(view.charter, view.shown, person, status))
    return plans


# -- replies -------------------------------------------------------------------------------

def handle_reply(db: Database, reply: RoutedReply, now: datetime, settings: object = None) -> list[PlannedEmail]:
    """An approval reply decides (or is held, or gets one short answer); a check-in reply is
    a project update; a reply to project news is feedback passed to the team."""
    match = REF.match(reply.ref or "")
    if not match:
        raise InboundError(f"charter reply with an unexpected reference {reply.ref!r}")
    try:
        charter = store.get_charter(db, int(match.group(1)))
    except NotFoundError as exc:
        raise InboundError(f"reply to {reply.ref}: {exc}") from exc
    if charter["status"] == "pending" and _deadline_passed(db, charter, now):
        store.set_status(db, charter["id"], "expired", now)  # a worker that was down: expire first
        charter = store.get_charter(db, charter["id"])
    view = make_view(db, charter, with_sent=False)  # a reply plans nothing from the outbox's keys
    if match.group(2):
        held = int(match.group(3)) if match.group(3) else None
        return approvals.handle(db, view, int(match.group(2)), held, reply, now, settings)
    if match.group(4):
        return project.handle_checkin(db, view, int(match.group(4)), reply, now)
    return project.handle_news_reply(db, view, int(match.group(5)), reply, now)
