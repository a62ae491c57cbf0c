"""An approved project talking to its community: check-ins, project news, feedback, completion.

Every ``report_every_weeks`` after the approval each team member gets a check-in at 09:00 in
their own zone (only the latest round: a worker that was down asks once, never twice). A
reply is a dated, attributed update, shareable unless it says ``#private``. Three days after
a round, members and sponsors get project news with that round's shareable updates (a
``#private`` one never; a late one rides with the next news), and a reply to it reaches each
team member as attributed feedback.
At the planned end (or ``charter complete``) the team is asked for its findings.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

from mailer.flows import outcome, reply_files
from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.flows.charter import emails as mail
from mailer.flows.charter import links, rules
from mailer.store import charters as store
from mailer.store import people

if TYPE_CHECKING:  # flow imports this module; the annotation only
    from mailer.flows.charter.flow import View

PRIVATE_TAG = re.compile(r"(?<![\w#])#private\b", re.IGNORECASE)


def is_shareable(text: str) -> bool:
    """An update is shareable unless its author wrote ``#private`` anywhere in it."""
    return not PRIVATE_TAG.search(text)


def _start(charter: dict) -> date:
    return (charter["started_at"] or charter["status_at"]).date()


def total_rounds(charter: dict) -> int:
    """How many check-in rounds the project has before its findings."""
    return rules.rounds(charter["spec"]["duration_weeks"], charter["spec"]["report_every_weeks"])


def ended(db: Database, charter: dict, now: datetime) -> bool:
    """Whether an approved project's planned time is over (the proposer's morning of the end date)."""
    proposer = people.find_person(db, charter["spec"]["proposer"])
    end = rules.end_date(_start(charter), charter["spec"]["duration_weeks"])
    return now >= rules.local_morning(end, proposer["timezone"] if proposer else "UTC")


def complete_now(db: Database, charter: dict, now: datetime) -> None:
    """Mark the project completed and offer its report-back meetup."""
    with db.atomic():
        store.set_status(db, charter["id"], "completed", now)
        links.offer_meetup(db, store.get_charter(db, charter["id"]), now)


FIRST_MORNING = "Pacific/Kiritimati"  # UTC+14: no local morning comes earlier anywhere


def plan(db: Database, view: View, now: datetime) -> list[PlannedEmail]:
    """Check-ins (or findings) to the team, and the latest project news that is due."""
    charter = view.charter
    plans = _findings(db, view, now) if charter["status"] == "completed" else _checkins(db, view, now)
    return plans + _news(db, view, now)


def _checkins(db: Database, view: View, now: datetime) -> list[PlannedEmail]:
    charter, total = view.charter, total_rounds(view.charter)
    every, start = charter["spec"]["report_every_weeks"], _start(charter)
    plans = []
    for member in store.members(db, charter["id"]):
        if member["status"] in people.UNMAILED:
            continue
        number = rules.current_round(start, total, every, member["timezone"], now)
        opens = number and rules.local_morning(rules.round_date(start, number, every), member["timezone"])
        if number and member["joined_at"] < opens:
            plans.append(mail.checkin(charter, view.shown, _who(member), number, total, final=False))
    return plans


def _findings(db: Database, view: View, now: datetime) -> list[PlannedEmail]:
    charter, total = view.charter, total_rounds(view.charter)
    plans = []
    for member in store.members(db, charter["id"]):
        ended_on = charter["completed_at"].astimezone(rules.zone(member["timezone"])).date()
        if member["status"] not in people.UNMAILED and now >= rules.local_morning(ended_on, member["timezone"]):
            plans.append(mail.checkin(charter, view.shown, _who(member), total + 1, total, final=True))
    return plans


def _who(member: dict) -> dict:
    return {"id": member["person_id"], "email": member["email"], "name": member["name"],
            "timezone": member["timezone"]}


def _round_dates(charter: dict) -> dict[int, date]:
    start, every, total = _start(charter), charter["spec"]["report_every_weeks"], total_rounds(charter)
    dates = {n: rules.round_date(start, n, every) for n in range(1, total + 1)}
    if charter["status"] == "completed":
        dates[total + 1] = charter["completed_at"].date()
    return dates


def planning_days(charter: dict) -> list[date]:
    """Every date on whose morning (in someone's zone) a check-in, project news or the findings
    of an approved or completed project can fall due."""
    dates = _round_dates(charter)
    days = [*dates.values(), *(d + rules.NEWS_AFTER for d in dates.values())]
    if charter["status"] == "completed":  # the findings: the end's local date, a day either side of UTC's
        ended_on = charter["completed_at"].date()
        days += [ended_on - timedelta(days=1), ended_on, ended_on + timedelta(days=1)]
    return days


def _news(db: Database, view: View, now: datetime) -> list[PlannedEmail]:
    """The latest round's news to each member whose morning three days after it has come."""
    plans, carried = [], {}
    dates = _round_dates(view.charter)
    if not any(now >= rules.local_morning(d + rules.NEWS_AFTER, FIRST_MORNING) for d in dates.values()):
        return []  # no round's news has opened anywhere yet: the community is not read (issue 25)
    for person in _community(db, view):
        tz = person["timezone"]
        opened = [n for n, d in dates.items() if now >= rules.local_morning(d + rules.NEWS_AFTER, tz)]
        if not opened:
            continue
        latest = max(opened)
        if f"charter:{view.charter['id']}:news:{latest}:person:{person['id']}" in view.sent:
            continue  # already has it: and only news still to send may carry a late update
        if latest not in carried:
            carried[latest] = store.news_updates(db, view.charter["id"], latest)
        if carried[latest]:
            plans.append(mail.news(view.charter, view.shown, person, latest, carried[latest]))
    return plans


def _community(db: Database, view: View) -> list[dict]:
    """Who hears project news: every member of the community, and the sponsors."""
    spec = view.charter["spec"]
    sponsors = {*spec["learning_sponsors"], *spec["funding_sponsors"]}
    stopped = store.news_stopped(db, view.charter["id"])
    return [p for p in people.list_people(db) if people.is_mailable(p) and p["id"] not in stopped
            and (_is_member(p) or p["email"] in sponsors)]


def _is_member(person: dict) -> bool:
    roles = {r for r in re.split(r"[,\s]+", person.get("roles") or "") if r}
    return not roles or "member" in roles


# -- replies -------------------------------------------------------------------------------

def handle_checkin(db: Database, view: View, round_no: int, reply: RoutedReply,
                   now: datetime) -> list[PlannedEmail]:
    """A check-in reply from a team member is a dated, attributed update for that round."""
    charter = view.charter
    if reply.person_id not in {m["person_id"] for m in store.members(db, charter["id"])}:
        return outcome.kept(reply, f"a check-in reply from {reply.person_email}, not on the team of charter "
                                   f"{charter['id']}: kept for the lead")
    text = (reply.reply_text or "").strip()
    person = people.get_person(db, reply.person_id)
    choice = reply_files.choice_of(reply)
    today = now.astimezone(rules.zone(person["timezone"])).date()
    if (reply.intent == "empty" or not text) and not choice.kept:
        return outcome.answered(reply, [mail.answer(charter, view.shown, person, "empty", today,
                                                    reply.message.subject or "", reply.message.message_id,
                                                    {"reply_ref": reply.ref})])
    update = store.add_update(db, charter["id"], round_no, person["id"], text, is_shareable(text),
                              reply.received_at or now, reply.message.message_id)
    reply_files.keep(db, "charter_update", update, person["id"], choice, now)
    if not choice.over_limits:
        return []
    left = [{"name": f.filename, "size_mb": f"{f.size / 1048576:.1f}", "reason": why} for f, why in choice.over_limits]
    return [mail.answer(charter, view.shown, person, "files", today, reply.message.subject or "",
                        reply.message.message_id, {"files": left, "reply_ref": reply.ref})]


def handle_news_reply(db: Database, view: View, round_no: int, reply: RoutedReply,
                      now: datetime) -> list[PlannedEmail]:
    """A reply to project news is feedback: kept, and passed to each team member, attributed."""
    text = (reply.reply_text or "").strip()
    author = people.get_person(db, reply.person_id)
    if reply.intent == "stop":  # "stop", "unsubscribe", or List-Unsubscribe's mailto
        if not store.stop_news(db, view.charter["id"], author["id"], now):
            return outcome.kept(reply, f"stop: {author['email']} had already stopped this project's news")
        today = now.astimezone(rules.zone(author["timezone"])).date()
        return [mail.answer(view.charter, view.shown, author, "news_stopped", today,
                            reply.message.subject or "", reply.message.message_id, {"reply_ref": reply.ref})]
    if reply.intent in ("empty", "pause") or not text:
        return outcome.kept(reply, f"a reply to project news with no feedback in it ({reply.intent})")
    at = reply.received_at or now
    feedback_id = store.add_feedback(db, view.charter["id"], round_no, author["id"], text, at,
                                     reply.message.message_id)
    return [mail.feedback(view.charter, view.shown, _who(m), feedback_id, author, text, at)
            for m in store.members(db, view.charter["id"])
            if m["person_id"] != author["id"] and m["status"] not in people.UNMAILED]
