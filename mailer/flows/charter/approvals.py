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

from mailer.flows import outcome
from mailer.flows.base import PlannedEmail, RoutedReply, person_of
from mailer.flows.charter import emails as mail
from mailer.flows.charter import links, rules
from mailer.inbound import authresults
from mailer.locale.text import _
from mailer.store import charters as store

if TYPE_CHECKING:  # flow imports this module; the annotation only
    from mailer.flows.charter.flow import View

DECISIONS = ("approve", "reject", "request_changes")


def _answer(view: View, person: dict, kind: str, reply: RoutedReply, now: datetime, **extra) -> list[PlannedEmail]:
    today = now.astimezone(rules.zone(person["timezone"])).date()
    return [mail.answer(view.charter, view.shown, person, kind, today, reply.message.subject or "",
                        reply.message.message_id, {"reply_ref": reply.ref, **extra})]


def handle(db: Database, view: View, version: int, held_id: int | None, reply: RoutedReply, now: datetime,
           settings: object) -> list[PlannedEmail]:
    """Act on one approver's reply to version ``version`` (``held_id``: a confirmation reply)."""
    charter = view.charter
    person = person_of(db, reply)
    if person["email"] not in charter["spec"]["approvers"]:  # not (or no longer) an approver: nothing to decide
        return outcome.kept(reply, f"a reply from {person['email']}, not an approver of charter {charter['id']} "
                                   f"version {charter['version']}: kept for the lead")
    if version != charter["version"] and charter["status"] == "pending":
        return _answer(view, person, "superseded", reply, now, version_asked=version)
    if charter["status"] != "pending" or version != charter["version"]:
        return _late(db, view, person, reply, now)
    if held_id is not None and reply.intent in ("confirm", "disown"):
        return _held_answer(db, view, person, held_id, reply, now)
    if reply.intent not in DECISIONS:  # in a held answer's thread the question keeps to it
        return _answer(view, person, "unclear" if held_id is None else "unclear_held", reply, now)
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


def _late(db: Database, view: View, person: dict, reply: RoutedReply, now: datetime) -> list[PlannedEmail]:
    """One answer to an answer after the decision: the outcome itself, saying the answer came
    too late, to someone who is to hear the outcome and has not yet; else "already decided".
    Either stands for the outcome and "no need to answer" (``flow``'s planning skips them)."""
    from mailer.flows.charter.flow import outcome_to  # flow imports this module

    status = view.charter["status"]
    if mail.outcome_key(view.charter, person) not in view.sent:
        told = outcome_to(db, view, person, status, late=True)
        if told is not None:
            return [told]
    return _answer(view, person, "decided", reply, now, status=status)


def _trusted(settings: object) -> str:
    return getattr(settings, "approvals_trusted_authserv_id", "") if settings is not None else ""


def _held_answer(db: Database, view: View, person: dict, held_id: int, reply: RoutedReply,
                 now: datetime) -> list[PlannedEmail]:
    """"Yes" to the confirmation request counts what was held (never the reply's own words);
    "That wasn't me" discards it, records nothing and warns the proposer."""
    held = store.get_decision(db, held_id)
    if held is None or held["approver_id"] != person["id"] or held["disowned"]:
        return _answer(view, person, "unclear", reply, now, reply_ref=_request_ref(view))
    if reply.intent == "disown":
        store.disown_decision(db, held_id)
        return [_answer(view, person, "disowned", reply, now)[0],
                *_warn_proposer(view, person, held)]
    auth = f"confirmed by reply ('yes') to the confirmation request for held answer #{held_id} (was: {held['auth']})"
    return _decide(db, view, person, reply, auth, now, held["decision"], held["comment"])


def _request_ref(view: View) -> str:
    """The approval request's own reference: an answer there is a fresh answer, no confirmation."""
    return f"charter:{view.charter['id']}:v:{view.charter['version']}"


def _warn_proposer(view: View, person: dict, held: dict) -> list[PlannedEmail]:
    proposer = view.person(view.charter["spec"]["proposer"])
    if proposer is None:
        return []
    return [mail.forged(view.charter, view.shown, proposer, person, held)]


def _confirmed(db: Database, view: View, person: dict, held_id: int, reply: RoutedReply,
               now: datetime) -> list[PlannedEmail]:
    """A fresh answer (Approve, Reject: …) given in reply to the confirmation request."""
    held = store.get_decision(db, held_id)
    if held is None or held["approver_id"] != person["id"]:
        return []
    auth = (f"confirmed by reply to the confirmation request for held answer #{held_id} "
            f"(was: {held['auth']})")
    return _decide(db, view, person, reply, auth, now)


def _decide(db: Database, view: View, person: dict, reply: RoutedReply, auth: str, now: datetime,
            decision: str | None = None, comment: str | None = None) -> list[PlannedEmail]:
    """Record ``decision`` (the reply's own intent unless given) and settle the charter."""
    charter = view.charter
    decision_id = store.add_decision(db, charter["id"], charter["version"], person["id"],
                                     decision or reply.intent, reply.comment if comment is None else comment,
                                     reply.received_at or now, reply.message.message_id, auth)
    status, approvals = settle(db, charter, now)
    decision = store.get_decision(db, decision_id)
    return [mail.receipt(charter, view.shown, person, decision, standing(db, charter, status, approvals),
                         reply.message.subject or "", reply.message.message_id)]


def settle(db: Database, charter: dict, now: datetime) -> tuple[str, int]:
    """Apply the rule to the current version's answers; record a decision and start the project.
    Returns the status and how many approvals count."""
    known, counts = _tally(db, charter)
    status = rules.outcome_of_counts(charter["spec"]["rule"], known, counts)
    if status != "pending":
        store.set_status(db, charter["id"], status, now)
        if status == "approved":
            links.open_places(db, store.get_charter(db, charter["id"]), now)
    return status, counts.get("approve", 0)


def standing(db: Database, charter: dict, status: str, approvals: int | None = None) -> str:
    """Where the charter stands, in one sentence for the approver's receipt (``approvals``: the
    count ``settle`` just made, else counted again)."""
    if status != "pending":
        return mail.SETTLED_SENTENCES.get(status, _("The charter is decided; everyone involved will hear."))
    spec = charter["spec"]
    need = rules.needed(spec["rule"], len(spec["approvers"]))
    return mail.pending_sentence(_tally(db, charter)[1].get("approve", 0) if approvals is None else approvals, need)


def _tally(db: Database, charter: dict) -> tuple[int, dict[str, int]]:
    """The known approvers and their latest answers' counts, summed by the store (issue 25)."""
    return store.tally(db, charter["id"], charter["version"], [a.strip().lower() for a in charter["spec"]["approvers"]])
