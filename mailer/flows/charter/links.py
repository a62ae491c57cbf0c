"""The charter's two calls into other flows: a volunteer call for open places, a report-back meetup.

Flows call each other only through small public verbs (DESIGN.md): ``mailer.flows.call.open_call``
and ``mailer.flows.meetup.schedule_meetup``. Each is imported lazily here, in one small function:
where that flow is not installed yet, nothing is recorded and a warning is logged.
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlite_utils import Database

from mailer.flows.charter import definition as cdef
from mailer.flows.charter import rules
from mailer.locale import stored
from mailer.locale.text import Joined, _
from mailer.outbound import formats
from mailer.store import charters as store
from mailer.store import people

log = logging.getLogger(__name__)


def _verb(module: str, name: str):
    """``module.name`` if that flow is installed, else None (with a warning)."""
    try:
        imported = __import__(module, fromlist=[name])
        return getattr(imported, name)
    except (ImportError, AttributeError):
        log.warning("%s.%s is not available: nothing opened for this charter", module, name)
        return None


ROLE = "team member"  # the role a volunteer names in "I'm in as team member"; one word to read


def call_spec(charter: dict, now: datetime) -> dict:
    """What the volunteer call for the charter's open places says. Its sentences are kept as
    their parts too (``said``), so that each recipient reads them in their own language; the
    charter's title, goal and scope stay as the lead wrote them."""
    spec = charter["spec"]
    closes = now.date() + timedelta(weeks=spec["report_every_weeks"]) - timedelta(days=1)
    title = _("Join the project team: %(title)s", title=spec["title"])
    description = Joined("\n\n", [spec["goal"], _("Scope: %(scope)s", scope=spec["scope"]),
                                   _("Resourcing: %(resourcing)s", resourcing=cdef.resourcing(spec))])
    role = _("%(rate)s h/week for %(weeks)s", rate=formats.number(spec["hours_per_week"]),
             weeks=formats.count(spec["duration_weeks"], "week"))
    return {"title": str(title), "description": str(description),
            "to": "all", "closes": closes, "feeds": f"charter:{charter['id']}",
            "roles": [{"name": ROLE, "places": spec["open_places"], "description": str(role)}],
            "sender": spec["proposer"],
            "said": {"title": stored.dump(title), "description": stored.dump(description),
                     "roles": {ROLE: stored.dump(role)}}}


def open_places(db: Database, charter: dict, now: datetime) -> None:
    """Open a volunteer call for the open places of an approved charter (once)."""
    if charter["spec"]["open_places"] <= 0 or charter.get("call_id"):
        return
    open_call = _verb("mailer.flows.call", "open_call")
    if open_call is not None:
        store.set_link(db, charter["id"], "call_id", open_call(db, call_spec(charter, now), now))


def meetup_spec(charter: dict, ended: datetime, tz: str) -> dict:
    """The report-back meetup: ``days_after_end`` after the end, at the proposer's local hour."""
    spec, back = charter["spec"], charter["spec"]["report_back"]
    day = ended.astimezone(rules.zone(tz)).date() + timedelta(days=back["days_after_end"])
    start = datetime.combine(day, time(back["hour"]), rules.zone(tz))
    return {"title": f"Report-back: {spec['title']}", "start": start, "timezone": tz,
            "duration_minutes": back["duration_minutes"], "location": back["location"],
            "description": f"The team of \"{spec['title']}\" brings its findings back to the community.\n\n"
                           f"Goal: {spec['goal']}",
            # the team reports to the whole community, its sponsors see it in their digests
            "invite": [f"charter:{charter['id']}", "member"], "speakers": list(spec["team"]),
            "sponsors": [*spec.get("learning_sponsors", ()), *spec.get("funding_sponsors", ())],
            "source": f"charter:{charter['id']}"}


def offer_meetup(db: Database, charter: dict, now: datetime) -> None:
    """Schedule the report-back meetup of a completed charter with a [report_back] table (once)."""
    if not charter["spec"].get("report_back") or charter.get("meetup_id"):
        return
    schedule = _verb("mailer.flows.meetup", "schedule_meetup")
    if schedule is not None:
        proposer = people.find_person(db, charter["spec"]["proposer"])
        tz = proposer["timezone"] if proposer else "UTC"
        store.set_link(db, charter["id"], "meetup_id", schedule(db, meetup_spec(charter, now, tz), now))
