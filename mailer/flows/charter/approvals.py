"""What an approver's reply does: a kept decision, a held one awaiting confirmation, or one answer.

A false approval is the worst failure this service can make, so: only the current version's
pending charter can be decided; an unclear reply changes nothing and gets one short "approve or
reject?" answer a day; where ``approvals.trusted_authserv_id`` is set, a decision whose message
our own server did not vouch for (``inbound.authresults``) is kept as *held* and the approver is
asked, at their own address with a fresh token, to confirm. A forger holding a stolen token
never sees that confirmation request, so their reply changes nothing. Every answer is kept for
audit with its Message-ID and authentication result, never overwritten.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.flows.charter import emails as mail
from mailer.flows.charter import links, rules
from mailer.inbound import authresults
from mailer.store import charters as store
from mailer.store import people

if TYPE_CHECKING:  # flow imports this module; the annotation only
    from mailer.flows.charter.flow import View

DECISIONS = ("approve", "reject", "request_changes")


def _answer(view: View, person: dict, kind: str, reply: RoutedReply, now: datetime, **extra) -> list[PlannedEmail]:
    today = now.astimezone(rules.zone(person["timezone"])).date()
    return [mail.answer(view.charter, view.shown, person, kind, today, reply.message.subject or "",
                        reply.message.message_id, {**extra, "reply_ref": reply.ref})]


def handle(db: Database, view: View, version: int, held_id: int | None, reply: RoutedReply, now: datetime,
           settings: object) -> list[PlannedEmail]:
    """Act on one approver's reply to version ``version`` (``held_id``: a confirmation reply)."""
    charter = view.charter
    person = people.get_person(db, reply.person_id)
    if person["email"] not in charter["spec"]["approvers"]:
        return []  # no longer an approver of the current version: nothing to decide
    if version != charter["version"] and charter["status"] == "pending":
        return _answer(view, person, "superseded", reply, now, version_asked=version)
    if charter["status"] != "pending" or version != charter["version"]:
        return _answer(view, person, "decided", reply, now, status=charter["status"])
    if reply.intent not in DECISIONS:
        return _answer(view, person, "unclear", reply, now)
    if held_id is not None:
        return _confirmed(db, view, person, held_id, reply, now)
    check = authresults.check(reply.message.headers_named("authentication-results"),
                              _trusted(settings), reply.message.from_addr or "")
    if not check.passed:
        decision_id = store.add_decision(db, charter["id"], version, person["id"], reply.intent, reply.comment,
                                         reply.received_at or now, reply.message.message_id, check.summary,
                                         held=True)
        today = now.astimezone(rules.zone(person["timezone"])).date()
        return [mail.confirm(charter, view.shown, person, decision_id, reply.intent, check.summary, today)]
    return _decide(db, view, person, reply, check.summary, now)


def _trusted(settings: object) -> str:
    return getattr(settings, "approvals_trusted_authserv_id", "") if settings is not None else ""


def _confirmed(db: Database, view: View, person: dict, held_id: int, reply: RoutedReply,
               now: datetime) -> list[PlannedEmail]:
    held = store.get_decision(db, held_id)
    if held is None or held["approver_id"] != person["id"]:
        return []
    auth = (f"confirmed by reply to the confirmation request for held answer #{held_id} "
            f"(was: {held['auth']})")
    return _decide(db, view, person, reply, auth, now)


def _decide(db: Database, view: View, person: dict, reply: RoutedReply, auth: str,
            now: datetime) -> list[PlannedEmail]:
    charter = view.charter
    decision_id = store.add_decision(db, charter["id"], charter["version"], person["id"], reply.intent,
                                     reply.comment, reply.received_at or now, reply.message.message_id, auth)
    status = settle(db, charter, now)
    decision = store.get_decision(db, decision_id)
    return [mail.receipt(charter, view.shown, person, decision, standing(db, charter, status),
                         reply.message.subject or "", reply.message.message_id)]


def settle(db: Database, charter: dict, now: datetime) -> str:
    """Apply the rule to the current version's answers; record a decision and start the project."""
    found = people.find_people(db, set(charter["spec"]["approvers"]))  # together, not one query each
    approvers = [p["id"] for a in charter["spec"]["approvers"] if (p := found.get(a.strip().lower()))]
    answers = rules.latest_answers(store.decisions(db, charter["id"], charter["version"]))
    status = rules.outcome(charter["spec"]["rule"], approvers, answers)
    if status != "pending":
        store.set_status(db, charter["id"], status, now)
        if status == "approved":
            links.open_places(db, store.get_charter(db, charter["id"]), now)
    return status


def standing(db: Database, charter: dict, status: str) -> str:
    """Where the charter stands, in one sentence for the approver's receipt."""
    if status != "pending":
        return f"With that the charter is {mail.OUTCOME_WORDS[status]}; everyone involved will hear."
    spec = charter["spec"]
    answers = rules.latest_answers(store.decisions(db, charter["id"], charter["version"]))
    approvals = sum(1 for d in answers.values() if d == "approve")
    need = rules.needed(spec["rule"], len(spec["approvers"]))
    return f"{approvals} of the {need} approvals needed so far; you may change your answer until it is decided."
