"""Sponsor digests: who gets one, when, what it holds, and what a reply to it does.

Recipients are the community leads (role ``lead``: their digest covers everything) and the
sponsors the flows name (``sponsor_emails``). Each gets one digest per period of their cadence;
the period a digest covered is in its idempotency key (``digest:person:ID:until:…``), so a
digest is never sent twice for a period, and after downtime the next one covers everything
since the last. A new recipient's first digest covers the first whole period after they became one
(``digest send`` sends one at once).
Digests only read: each flow answers ``digest_items`` for a recipient.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from mailer.errors import InboundError
from mailer.flows import outcome
from mailer.flows.base import DigestItem, PlannedEmail, RoutedReply
from mailer.flows.challenge import timing
from mailer.flows.digest import cadence as cad
from mailer.flows.digest import emails
from mailer.locale import SOURCE, language_for
from mailer.locale.text import Joined
from mailer.outbound import formats
from mailer.outbound.safe_text import one_line
from mailer.store import digests as store
from mailer.store import inbox, outbox, outbox_load, people
from mailer.store.outbox import parse_ts

KEY = "digest:person:{pid}:until:{until:%Y-%m-%dT%H:%MZ}"
UNSUBSCRIBE = {"unsubscribe", "stop"}


def _sources():
    from mailer.flows.registry import DIGEST_SOURCES  # the registry imports this flow: import late

    return DIGEST_SOURCES


def is_lead(person: dict) -> bool:
    """Whether this person leads the community (their digest covers everything)."""
    return "lead" in {r.strip().lower() for r in (person.get("roles") or "").split(",")}


def recipients(db: Database, now: datetime) -> list[dict]:
    """Leads and the sponsors named by the flows, as people we may mail, by email."""
    wanted = set()
    for source in _sources():
        if hasattr(source, "sponsor_emails"):
            wanted |= source.sponsor_emails(db, now)
    return [p for p in people.with_role_or_email(db, "lead", wanted) if people.is_mailable(p)]


def due(db: Database, now: datetime, settings) -> list[PlannedEmail]:
    """One digest per recipient whose latest send moment has passed and is not yet covered."""
    covered = _covered(outbox.existing_keys(db, "digest:person:"))
    chosen = store.cadences(db)
    everyone = recipients(db, now)
    seen = store.first_seen(db, [p["id"] for p in everyone], now)
    plans = []
    for person in everyone:
        every = chosen.get(person["id"], settings.digests_cadence)
        if every == "off":
            continue
        rhythm = cad.Cadence(every, cad.WEEKDAYS.index(settings.digests_weekday), settings.digests_hour)
        until = cad.latest_moment(rhythm, person["timezone"], now)
        last = covered.get(person["id"])
        since = last or cad.previous_moment(rhythm, person["timezone"], until)
        if since >= until or (last is None and since < seen[person["id"]]):
            continue  # covered already, or the first whole period since they became a recipient is not over
        plans.append(build(db, person, since, until, settings, KEY.format(pid=person["id"], until=until)))
    return plans


def _covered(keys: set[str]) -> dict[int, datetime]:
    """Person id -> the end of the latest period a scheduled digest covered."""
    latest: dict[int, datetime] = {}
    for key in keys:
        parts = key.split(":", 4)  # digest, person, ID, until, 2027-01-11T09:00Z
        if len(parts) == 5 and parts[3] == "until":
            until = datetime.strptime(parts[4], "%Y-%m-%dT%H:%MZ").replace(tzinfo=timezone.utc)
            pid = int(parts[2])
            latest[pid] = max(latest.get(pid, until), until)
    return latest


def build(db: Database, person: dict, since: datetime, until: datetime, settings, key: str) -> PlannedEmail:
    """The digest for ``person`` covering ``[since, until)``, under idempotency key ``key``."""
    scope = None if is_lead(person) else person["email"]
    items: list[DigestItem] = [item for source in _sources()
                               for item in source.digest_items(db, scope, since, until)]
    context = emails.digest_context(person, items, since, until, scope is None)
    if scope is None:  # a lead's own digest: replies go to the other leads, not to "the community lead"
        context["other_leads"] = [one_line(p["name"]) for p in people.with_role_or_email(db, "lead", set())
                                  if p["id"] != person["id"]]
        context["other_leads_named"] = emails.Names(context["other_leads"])
    # a lead's digest also lists what waits for a person in the inbox; a sponsor's never does
    context["waiting"] = waiting(db, person, since, until) if scope is None else None
    context["late"] = late_sends(db, since, until) if scope is None else None
    return PlannedEmail(key=key, to=person["email"], subject=emails.subject(context, settings.mailer_site_name),
                        template="digest/digest", context=context, reply_purpose="digest",
                        reply_ref=f"digest:person:{person['id']}", recurring=True,
                        attachments=emails.photo_attachments(items)
                        + emails.chart_attachments(items, language_for(person, getattr(settings, "mailer_language", SOURCE))))


WAITING_SHOWN = 10
LATE_AFTER = timedelta(hours=1)  # a day email an hour after its hour is late (issue 24)


def late_sends(db: Database, since: datetime, until: datetime) -> dict | None:
    """The emails of ``[since, until)`` that left over an hour after they fell due (the pace
    held them in the queue), for the lead's digest to say so; None when none did."""
    found = outbox_load.late_sends(db, since, until, LATE_AFTER)
    return {**found, "worst_minutes": round(found["worst_minutes"])} if found["late"] else None


def waiting(db: Database, person: dict, since: datetime, until: datetime) -> dict:
    """The messages of ``[since, until)`` kept for the lead (``inbox list --for-lead``): the first
    few, each as when, from whom and why, and how many in all."""
    total = inbox.count_waiting(db, since, until)
    zone = timing.zone(person["timezone"])
    shown = [{"when": _when(parse_ts(r["received_at"]).astimezone(zone)),
              "from": r["from_addr"] or "(no sender)", "why": r["reason"] or r["state"]}
             for r in inbox.waiting_for_lead(db, since, until, WAITING_SHOWN)]
    return {"shown": shown, "total": total, "more": max(total - len(shown), 0)}


def _when(moment: datetime) -> str:
    """When a kept message came, in the lead's zone and language: "Thu 7 Jan 14:05"."""
    return Joined(" ", (formats.day(moment), formats.time(moment)))


def handle_reply(db: Database, reply: RoutedReply, now: datetime, settings=None) -> list[PlannedEmail]:
    """A reply to a digest is the sponsor's question or comment: it goes to the community leads
    with their words, and the sponsor is told so. Only a bare "unsubscribe"/"stop" (what
    List-Unsubscribe's mailto sends) changes anything: it turns their digests off."""
    sponsor = people.get_person(db, reply.person_id)
    words = (reply.reply_text or "").strip()
    if words.lower().strip(" .!") in UNSUBSCRIBE:
        store.set_cadence(db, sponsor["id"], "off")
        return [emails.unsubscribed(sponsor, reply)]
    if not words:
        return outcome.kept(reply, f"an empty reply to {sponsor['email']}'s digest")
    leads = [p for p in people.with_role_or_email(db, "lead", set()) if p["id"] != sponsor["id"]]
    if not leads and is_lead(sponsor):
        return [emails.passed_on(sponsor, [], reply)]  # the only lead answered their own digest
    if not leads:  # never a black hole: quarantined with this reason, replayable once a lead exists
        raise InboundError("a reply to a digest has no community lead to go to (give someone the role 'lead')")
    return [emails.forwarded(lead, sponsor, words, reply) for lead in leads] + [
        emails.passed_on(sponsor, leads, reply)]
