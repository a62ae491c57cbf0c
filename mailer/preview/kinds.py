"""Every kind of email the service sends, built by the flows' own compose functions from the
records of a scratch ``World``: nothing here writes an email, it only chooses whose and which.

Each kind is a builder ``(world, person, settings) -> PlannedEmail`` and a chooser of the person
it goes to by default (a participant, an approver, a sponsor…); ``--person`` overrides it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Callable

from mailer import outbox
from mailer.errors import NotFoundError
from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.flows.call import emails as call_mail
from mailer.flows.call.flow import role_board
from mailer.flows.challenge import emails as challenge_mail
from mailer.flows.challenge import journal
from mailer.flows.challenge import timing as ct
from mailer.flows.challenge.flow import plan_challenge
from mailer.flows.charter import emails as charter_mail
from mailer.flows.charter.approvals import standing
from mailer.flows.charter.flow import make_view
from mailer.flows.digest import emails as digest_mail
from mailer.flows.digest import flow as digest_flow
from mailer.flows.meetup import emails as meetup_mail
from mailer.inbound.message import parse_message
from mailer.preview.world import World
from mailer.store import challenges, files, meetups, people


@dataclass(frozen=True)
class Kind:
    """One kind of email: what it is, who gets it by default, and how the flow builds it."""

    name: str
    about: str
    default: Callable[[World], dict]
    build: Callable[[World, dict, object], PlannedEmail]


def person_dict(row: dict) -> dict:
    """A person as the compose functions take them (id, email, name, time zone, language)."""
    pid = row.get("person_id", row.get("id"))
    return {"id": pid, "email": row["email"], "name": row["name"], "timezone": row["timezone"],
            "language": row.get("language")}


def _participant(w: World) -> dict:
    return person_dict(challenges.list_participants(w.db, w.challenge["id"])[0])


def _address(w: World, address: str) -> dict:
    found = people.find_person(w.db, address)
    if found is None:
        raise NotFoundError(f"no person with address {address}")
    return person_dict(found)


def _approver(w: World) -> dict:
    return _address(w, w.charter["spec"]["approvers"][0])


def _proposer(w: World) -> dict:
    return _address(w, w.charter["spec"]["proposer"])


def _team(w: World) -> dict:
    spec = w.charter["spec"]
    return _address(w, (spec["team"] or [spec["proposer"]])[0])


def _member(w: World) -> dict:
    return person_dict(next(p for p in people.list_people(w.db) if people.is_mailable(p)))


def _invitee(w: World) -> dict:
    return person_dict(meetups.list_invitees(w.db, w.meetup["id"])[0])


def _sponsor(w: World) -> dict:
    """A sponsor of the challenge (their digest has its chart), else any digest recipient."""
    found = digest_flow.recipients(w.db, _digest_until(w))
    ours = [p for p in found if p["email"] in w.challenge["sponsors"]]
    return person_dict((ours or found or [_member(w)])[0])


def _reply(w: World, person: dict, subject: str, text: str) -> RoutedReply:
    """A reply as it would reach the flow, for the answers that quote it (subject, Message-ID)."""
    raw = (f"From: {person['name']} <{person['email']}>\r\nTo: community@example.com\r\n"
           f"Subject: Re: {subject}\r\nMessage-ID: <preview-reply@example.com>\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").encode("utf-8")
    return RoutedReply(person_id=person["id"], person_email=person["email"], purpose="preview", ref="preview",
                       message=parse_message(raw), reply_text=text, intent="preview", received_at=w.now)


# -- challenge ----------------------------------------------------------------------------

def _challenge_day(w: World, person: dict, day: int, settings: object) -> PlannedEmail:
    """Day ``day`` as the challenge flow plans it (partner line, memory and all), after the
    person's earlier days went out (into the scratch outbox), as they would have."""
    for earlier in range(1, day):
        outbox.enqueue(w.db, [_planned_day(w, person, earlier)], w.now, settings)
    return _planned_day(w, person, day)


def _planned_day(w: World, person: dict, day: int) -> PlannedEmail:
    c = w.challenge
    send = time(c["send_hour"], c["send_minute"])
    moment = ct.opens_at(date.fromisoformat(c["start"]), day, send, person["timezone"]) + timedelta(minutes=1)
    key = f"challenge:{c['id']}:day:{day}:person:{person['id']}"
    challenges.set_plan_mark(w.db, c["id"], moment - timedelta(days=400), None)
    for plan in plan_challenge(w.db, {**c, "state": "active"}, moment):
        if plan.key == key:
            return plan
    raise NotFoundError(f"{person['email']} gets no day {day} email in challenge {c['id']}")


def _summary(w: World, person: dict, settings: object) -> PlannedEmail:
    c = w.challenge
    titles = {d["day"]: challenge_mail.said(d, "title") for d in challenges.challenge_days(w.db, c["id"])}
    entries = challenges.entries(w.db, person["id"], c["id"])
    attached = files.files_of(w.db, "journal", [e["id"] for e in entries], with_data=True)
    return challenge_mail.summary(c, person, journal.journal_rows(c, titles, entries, attached))


def _nudge(w: World, person: dict, settings: object) -> PlannedEmail:
    start = datetime.fromisoformat(w.challenge["start"]).replace(tzinfo=w.now.tzinfo)
    journaled = len(challenges.entries(w.db, person["id"], w.challenge["id"]))
    return challenge_mail.nudge(w.challenge, person, 10, start + timedelta(days=2), journaled)


# -- charter ------------------------------------------------------------------------------

def _shown(w: World) -> dict:
    return make_view(w.db, w.charter).shown


def _receipt(w: World, person: dict, settings: object) -> PlannedEmail:
    decision = {"id": 0, "decision": "approve", "comment": "Good scope; keep tracing out as planned."}
    plan = charter_mail.receipt(w.charter, _shown(w), person, decision, standing(w.db, w.charter, "pending"),
                                w.charter["spec"]["title"], None)
    return plan


def _outcome(w: World, person: dict, settings: object) -> PlannedEmail:
    decided = [{"approver_name": _address(w, a)["name"], "decision": "approve", "comment": ""}
               for a in w.charter["spec"]["approvers"]]
    return charter_mail.outcome(w.charter, _shown(w), person, "approved", "proposer", decided)


def _news(w: World, person: dict, settings: object) -> PlannedEmail:
    author = _team(w)
    update = {"name": author["name"], "received_at": w.now,
              "text": "Drafted the alerting chapter and agreed the three dashboards every team keeps."}
    return charter_mail.news(w.charter, _shown(w), person, 1, [update])


# -- call ---------------------------------------------------------------------------------

def _role(w: World):
    roles = role_board(w.db, w.call["id"])
    return next((r for r in roles if r.places), roles[0])


def _confirmed(w: World, person: dict, settings: object) -> PlannedEmail:
    role = _role(w)
    reply = _call_reply(w, person, f"I'm in as {role.name or 'a volunteer'}")
    return call_mail.confirmed(w.call, person, role, {"id": 0}, reply)


def _waitlisted(w: World, person: dict, settings: object) -> PlannedEmail:
    role = _role(w)
    reply = _call_reply(w, person, f"Count me in as {role.name or 'a volunteer'}")
    return call_mail.waitlisted(w.call, person, role, {"id": 0, "position": 2}, reply)


def _withdrawn(w: World, person: dict, settings: object) -> PlannedEmail:
    role = _role(w)
    reply = _call_reply(w, person, "Please take me off the list")
    return call_mail.withdrawn(w.call, person, [role.name], False, "preview", reply)


# -- meetup -------------------------------------------------------------------------------

def _moved(w: World) -> dict:
    """The meetup as an update shows it: one version later, an hour later."""
    later = w.meetup["start"] + timedelta(hours=1)
    return {**w.meetup, "sequence": w.meetup["sequence"] + 1, "start": later, "end": w.meetup["end"] + timedelta(hours=1)}


def _cancelled(w: World) -> dict:
    return {**w.meetup, "state": "cancelled",
            "cancel_reason": w.meetup.get("cancel_reason") or "Two of the three speakers are off sick."}


# -- digest -------------------------------------------------------------------------------

def _digest_until(w: World) -> datetime:
    start = datetime.fromisoformat(w.challenge["start"]).replace(tzinfo=w.now.tzinfo)
    return max(w.now, start + timedelta(days=7))


def _digest(w: World, person: dict, settings: object) -> PlannedEmail:
    until = _digest_until(w)
    return digest_flow.build(w.db, person, until - timedelta(days=7), until, settings,
                             f"digest:person:{person['id']}:preview")


def _charter_answer(w: World, person: dict, kind: str) -> PlannedEmail:
    ref = f"charter:{w.charter['id']}:v:{w.charter['version']}"
    return charter_mail.answer(w.charter, _shown(w), person, kind, w.now.date(),
                               w.charter["spec"]["title"], None, {"reply_ref": ref})


def _feedback(w: World, person: dict, settings: object) -> PlannedEmail:
    author = _member(w)
    return charter_mail.feedback(w.charter, _shown(w), person, 0, author,
                                 "The alerting chapter is exactly what our on-call rota needed. Can we pilot it?", w.now)


def _call_reply(w: World, person: dict, text: str) -> RoutedReply:
    return _reply(w, person, w.call["title"], text)  # their own subject: the call's title, in any language


def _sponsor_reply(w: World, person: dict, text: str) -> RoutedReply:
    return _reply(w, person, "Community of Practice digest", text)


def _lead(w: World) -> dict:
    leads = people.with_role_or_email(w.db, "lead", set())
    return person_dict(leads[0]) if leads else _member(w)


def _forwarded(w: World, person: dict, settings: object) -> PlannedEmail:
    sponsor = _sponsor(w)
    words = "Day 7 looks quiet. Is there anything I can do to help people keep going?"
    return digest_mail.forwarded(person, sponsor, words, _sponsor_reply(w, sponsor, words))


KINDS: tuple[Kind, ...] = (
    Kind("announcement", "a challenge's announcement: you're in, it starts on …", _participant,
         lambda w, p, s: challenge_mail.announcement(w.challenge, p, True, w.now)),
    Kind("partner", "day 1, which introduces the accountability partners", _participant,
         lambda w, p, s: _challenge_day(w, p, 1, s)),
    Kind("day", "a day's activity (day 3), with the partner's progress", _participant,
         lambda w, p, s: _challenge_day(w, p, 3, s)),
    Kind("nudge", "the one gentle note after a week of silence", _participant, _nudge),
    Kind("summary", "after the last day: days journaled and the whole journal", _participant, _summary),
    Kind("approval-request", "a charter's approval request", _approver,
         lambda w, p, s: charter_mail.request(w.charter, _shown(w), p, False)),
    Kind("approval-reminder", "the reminder before the approval deadline", _approver,
         lambda w, p, s: charter_mail.request(w.charter, _shown(w), p, True)),
    Kind("approval-receipt", "the answer to an approver's reply: recorded, and where it stands", _approver, _receipt),
    Kind("approval-outcome", "the charter's outcome, with every decision", _proposer, _outcome),
    Kind("checkin", "a project check-in: what did you do, learn, need?", _team,
         lambda w, p, s: charter_mail.checkin(w.charter, _shown(w), p, 1, 4, False)),
    Kind("news", "project news from the team's shareable updates", _member, _news),
    Kind("call", "a call for volunteers with its roles and places", _member,
         lambda w, p, s: call_mail.invite(w.call, p, role_board(w.db, w.call["id"]))),
    Kind("confirmation", "the answer to \"I'm in\": you're in, and how to withdraw", _member, _confirmed),
    Kind("waitlist", "the answer when the role is full: your place on the waitlist", _member, _waitlisted),
    Kind("promoted", "a place opened: you're in", _member,
         lambda w, p, s: call_mail.promoted(w.call, p, _role(w), {"id": 0})),
    Kind("withdrawn", "the answer to \"take me off\"", _member, _withdrawn),
    Kind("invite", "a meetup invitation with its calendar invite", _invitee,
         lambda w, p, s: meetup_mail.invitation(w.meetup, p, [], False, s, w.now)),
    Kind("update", "a moved meetup's update", _invitee,
         lambda w, p, s: meetup_mail.invitation(_moved(w), p, [], True, s, w.now)),
    Kind("cancel", "a meetup's cancellation, which takes it off calendars", _invitee,
         lambda w, p, s: meetup_mail.cancellation(_cancelled(w), p, s, w.now)),
    Kind("reminder", "the reminder the day before a meetup", _invitee,
         lambda w, p, s: meetup_mail.reminder(w.meetup, {**p, "partstat": "accepted"})),
    Kind("highlight", "after a meetup: one highlight to share?", _invitee,
         lambda w, p, s: meetup_mail.highlight_ask(w.meetup, p)),
    Kind("digest", "a sponsor's digest of what they sponsor", _sponsor, _digest),
    # The short answers to replies.
    Kind("couldnt-read", "the answer to an empty or unreadable journal reply", _participant,
         lambda w, p, s: challenge_mail.couldnt_read(w.challenge, p, 3, w.now.date(), "Day 3 of 30", None)),
    Kind("join-help", "the answer to a reply to the announcement that did not join", _participant,
         lambda w, p, s: challenge_mail.join_help(w.challenge, p, w.now.date(), w.challenge["title"], None)),
    Kind("paused", "the answer to \"pause\"", _participant,
         lambda w, p, s: challenge_mail.status_change(w.challenge, p, "paused", w.now, None, "Day 3 of 30", None)),
    Kind("entry-cut", "the note when a journal entry was too long to keep whole", _participant,
         lambda w, p, s: challenge_mail.entry_cut(w.challenge, p, 3, w.now, "Day 3 of 30", None)),
    Kind("approval-unclear", "the question back when an approver's reply says no clear decision", _approver,
         lambda w, p, s: _charter_answer(w, p, "unclear")),
    Kind("not-needed", "to an approver who had not answered: it was decided without them", _approver,
         lambda w, p, s: charter_mail.not_needed(w.charter, _shown(w), p, "approved")),
    Kind("feedback", "a member's feedback on project news, passed to the team", _team, _feedback),
    Kind("call-unclear", "the question back when a reply to a call is neither yes nor no", _member,
         lambda w, p, s: call_mail.unclear(w.call, p, role_board(w.db, w.call["id"]), w.now.date(),
                                           _call_reply(w, p, "Maybe, depends on the dates?"))),
    Kind("unknown-role", "the answer naming the roles there are", _member,
         lambda w, p, s: call_mail.unknown_role(w.call, p, "editor", role_board(w.db, w.call["id"]), "preview",
                                                _call_reply(w, p, "I'm in as editor"))),
    Kind("call-closed", "the answer to a reply after the call closed", _member,
         lambda w, p, s: call_mail.closed(w.call, p, _call_reply(w, p, "I'm in"))),
    Kind("call-list", "at closing, the list of volunteers to whoever opened the call", _lead,
         lambda w, p, s: call_mail.sender_list(w.call, p, role_board(w.db, w.call["id"]))),
    Kind("meetup-question", "the question back when a reply to an invitation is not yes, no or maybe", _invitee,
         lambda w, p, s: meetup_mail.question(w.meetup, p, w.now.date(), f"Invitation: {w.meetup['title']}", None)),
    Kind("forwarded", "a sponsor's reply to their digest, passed to a community lead", _lead, _forwarded),
    Kind("passed-on", "to the sponsor: their words reached the leads", _sponsor,
         lambda w, p, s: digest_mail.passed_on(p, [_lead(w)], _sponsor_reply(w, p, "Great progress!"))),
    Kind("unsubscribed", "to the sponsor: digests are off", _sponsor,
         lambda w, p, s: digest_mail.unsubscribed(p, _sponsor_reply(w, p, "unsubscribe"))),
)
BY_NAME = {kind.name: kind for kind in KINDS}


def plan(world: World, name: str, address: str | None, settings: object) -> tuple[PlannedEmail, dict]:
    """The email of kind ``name`` for ``address`` (or the kind's usual recipient), and the person."""
    kind = BY_NAME.get(name)
    if kind is None:
        raise NotFoundError(f"no kind of email called {name!r}; the kinds are: {', '.join(BY_NAME)}")
    person = _address(world, address) if address else kind.default(world)
    built = kind.build(world, person, settings)
    return replace(built, to=person["email"]), person
