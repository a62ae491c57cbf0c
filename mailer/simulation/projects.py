"""Members answering the charter, the volunteer call and the meetup; and what the service did.

Approvers answer the approval request (most approve, some are not sure and approve once they
were asked back); members answer the call ("I'm in", and "I'm in a meeting until 3", which must
sign no one up, or "not this time"); invitees answer the meetup from their calendar (an iTIP
REPLY) or in words. What each member meant is kept per person, so that at the end of each day
the store can be held against it: a decision, a sign-up or an RSVP nobody meant is a wrong action.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Callable

from sqlite_utils import Database

from mailer.simulation import calendar_client, writing
from mailer.simulation.community import Member
from mailer.simulation.scenario import Scenario
from mailer.store import calls, charters, meetups

APPROVAL_KEY = re.compile(r"^charter:\d+:(?:v:\d+:)?(request|remind|answer:unclear):person:\d+")
CALL_KEY = re.compile(r"^call:\d+:invite:person:\d+$")
MEETUP_KEY = re.compile(r"^meetup:\d+:(invite|reminder):seq:\d+:person:\d+$")
PROJECT_MAIL = ("charter:", "call:", "meetup:")
UNSURE_RATE = 0.34  # approvers who first ask to discuss
VOLUNTEER_RATE, BUSY_RATE, DECLINE_RATE = 0.3, 0.08, 0.07  # of a call's readers (volunteering: × diligence)
PARTSTATS = (("ACCEPTED", 70), ("DECLINED", 20), ("TENTATIVE", 10))
CALENDAR_RATE = {"outlook": 0.7, "gmail": 0.7, "apple": 0.7, "mobile": 0.3}  # answer with the buttons
NOTE_RATE = 0.2  # a calendar answer with a typed note
# minutes from reading to answering: approvers take a day or so, so the call opens on day two
APPROVER_DELAY, VOLUNTEER_DELAY, RSVP_DELAY = (60, 1800), (10, 960), (5, 1800)
LATEST = ("charter", "approvals_recorded", "joined_team", "waitlisted", "accepted", "declined", "tentative",
          "wrong_approvals", "wrong_signups", "wrong_rsvps")


@dataclass
class ProjectDay:
    """One day of the charter, its call and the meetup: what members meant, what the store holds."""

    approvals_sent: int = 0  # replies meaning "approved"
    unsure_sent: int = 0  # "not sure yet, can we discuss?"
    asked_again: int = 0  # "approve or reject?" answers the service sent
    approvals_missed: int = 0  # ... of them to a reply that meant "approved"
    volunteered: int = 0  # "I'm in", "Count me in!"
    busy_replies: int = 0  # "I'm in a meeting until 3": means nothing
    call_declines: int = 0
    rsvps_sent: int = 0
    rsvps_by_calendar: int = 0
    charter: str = ""  # the store's view at the end of the day, from here on
    approvals_recorded: int = 0
    joined_team: int = 0  # through the call
    waitlisted: int = 0
    accepted: int = 0
    declined: int = 0
    tentative: int = 0
    wrong_approvals: int = 0  # decisions no approver meant
    wrong_signups: int = 0  # sign-ups of people who did not volunteer
    wrong_rsvps: int = 0  # answers recorded other than the one the invitee gave

    @staticmethod
    def totals(days: list[ProjectDay]) -> dict:
        """Sums of what members sent; the store's counts as of the last day."""
        last = days[-1] if days else ProjectDay()
        return {f.name: getattr(last, f.name) if f.name in LATEST else sum(getattr(d, f.name) for d in days)
                for f in fields(ProjectDay)}

    def wrong(self) -> int:
        """Actions the service took that no member meant."""
        return self.wrong_approvals + self.wrong_signups + self.wrong_rsvps


class ProjectMembers:
    """How members answer project mail, and what each of them meant."""

    def __init__(self, scenario: Scenario, rng: random.Random, reply_rate: float,
                 later: Callable[[datetime, bytes], None]) -> None:
        self.scenario, self.rng, self.reply_rate, self.later = scenario, rng, reply_rate, later
        self.approval: dict[str, str] = {}  # approver -> "approve" or "unsure", their latest meaning
        self.asked_twice: set[str] = set()
        self.volunteers: set[str] = set()
        self.rsvp: dict[str, str] = {}  # invitee -> the partstat they gave (lower case, as stored)

    def read(self, row: dict, member: Member, now: datetime, day: ProjectDay) -> bool:
        """Answer ``row`` if it is project mail (True), else leave it to the caller (False)."""
        key = row["key"]
        if not key.startswith(PROJECT_MAIL):  # most mail is the challenge's: no pattern to try
            return False
        if (found := APPROVAL_KEY.match(key)) and member.email in self.scenario.approvers:
            self._approval(row, member, found.group(1), now, day)
        elif CALL_KEY.match(key) and member.email not in self.scenario.team:
            self._call(row, member, now, day)
        elif found := MEETUP_KEY.match(key):
            self._meetup(row, member, found.group(1) == "invite", now, day)
        else:
            return True
        return True

    def _approval(self, row: dict, member: Member, kind: str, now: datetime, day: ProjectDay) -> None:
        when = now + timedelta(minutes=self.rng.randint(*APPROVER_DELAY))
        meant = self.approval.get(member.email)
        if kind == "answer:unclear":  # the service asked back: approve or reject?
            day.asked_again += 1
            day.approvals_missed += meant == "approve"
            if member.email in self.asked_twice:
                return
            self.asked_twice.add(member.email)
            phrases = writing.APPROVE_AFTER_TALK if meant == "unsure" else {"en": ("Approved.",)}
        elif meant is not None:
            return  # a reminder, and they had answered
        elif self.rng.random() < UNSURE_RATE:
            self.approval[member.email] = "unsure"
            day.unsure_sent += 1
            return self.later(when, writing.reply(row["data"], member, writing.said(self.rng, member, writing.UNSURE),
                                                  when))
        else:
            phrases = writing.APPROVE
        self.approval[member.email] = "approve"
        day.approvals_sent += 1
        self.later(when, writing.reply(row["data"], member, writing.said(self.rng, member, phrases), when))

    def _call(self, row: dict, member: Member, now: datetime, day: ProjectDay) -> None:
        roll = self.rng.random()
        volunteer = min(self.reply_rate * member.diligence * VOLUNTEER_RATE, 0.9)
        if roll < volunteer:
            self.volunteers.add(member.email)
            day.volunteered += 1
            phrases = writing.VOLUNTEER
        elif roll < volunteer + BUSY_RATE:
            day.busy_replies += 1
            phrases = writing.BUSY
        elif roll < volunteer + BUSY_RATE + DECLINE_RATE:
            day.call_declines += 1
            phrases = writing.NOT_THIS_TIME
        else:
            return
        when = now + timedelta(minutes=self.rng.randint(*VOLUNTEER_DELAY))
        self.later(when, writing.reply(row["data"], member, writing.said(self.rng, member, phrases), when))

    def _meetup(self, row: dict, member: Member, invitation: bool, now: datetime, day: ProjectDay) -> None:
        chance = min(self.reply_rate * member.diligence, 0.95) * (1 if invitation else 0.5)
        if member.email in self.rsvp or self.rng.random() >= chance:
            return
        partstat = self.rng.choices([p for p, _ in PARTSTATS], [w for _, w in PARTSTATS])[0]
        self.rsvp[member.email] = partstat.lower()
        day.rsvps_sent += 1
        when = now + timedelta(minutes=self.rng.randint(*RSVP_DELAY))
        words = writing.RSVP_WORDS[partstat.lower()]
        by_calendar = invitation and self.rng.random() < CALENDAR_RATE[member.client]
        invite = calendar_client.read_invitation(row["data"]) if by_calendar else None
        if invite is not None:
            day.rsvps_by_calendar += 1
            note = writing.said(self.rng, member, words).split("\n")[0] if self.rng.random() < NOTE_RATE else ""
            client = "apple" if member.client == "mobile" else member.client
            return self.later(when, calendar_client.reply(invite, client, member.email, member.name, partstat,
                                                          note, when))
        self.later(when, writing.reply(row["data"], member, writing.said(self.rng, member, words), when))

    # -- what the store holds ---------------------------------------------------------------

    def tally(self, db: Database, day: ProjectDay) -> None:
        """Fill the day's store-side counts, and the actions nobody meant."""
        charter = charters.get_charter(db, self.scenario.charter_id)
        decided = [d for d in charters.decisions(db, charter["id"]) if not d["held"]]
        day.charter = charter["status"]
        day.approvals_recorded = sum(d["decision"] == "approve" for d in decided)
        day.wrong_approvals = sum(d["decision"] != "approve" or self.approval.get(d["approver"]) != "approve"
                                  for d in decided)
        if charter.get("call_id"):
            signups = calls.signups(db, charter["call_id"])
            day.waitlisted = sum(s["status"] == "waitlisted" for s in signups)
            day.wrong_signups = sum(s["email"] not in self.volunteers for s in signups)
        team = {m["email"] for m in charters.members(db, charter["id"])}
        day.joined_team = len(team - self.scenario.team)
        invitees = meetups.list_invitees(db, self.scenario.meetup_id)
        answered = [i for i in invitees if i["partstat"] != "needs-action"]
        day.accepted, day.declined, day.tentative = (sum(i["partstat"] == p for i in answered)
                                                     for p in ("accepted", "declined", "tentative"))
        day.wrong_rsvps = sum(self.rsvp.get(i["email"]) != i["partstat"] for i in answered)
