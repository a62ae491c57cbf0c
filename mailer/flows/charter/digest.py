"""What a charter says in a sponsor digest: only what a sponsor may see.

Status, pending approvals and who has not answered, the team and the hours used so far at
the charter's rate, the period's shareable updates (a ``#private`` one never) and the next
report-back. Read only: a digest changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from mailer.flows import reply_files
from mailer.flows.base import DigestItem
from mailer.flows.charter import emails as mail
from mailer.flows.charter import project, rules
from mailer.store import charters as store
from mailer.store import people

STATUS_WORDS = {"pending": "waiting for approval", **mail.OUTCOME_WORDS, "withdrawn": "withdrawn"}


OPEN = ("pending", "approved", "changes_requested")
KEEP_AFTER = timedelta(days=14)  # a decided or finished charter is still reported for two weeks


def _live(charter: dict, moment: datetime) -> bool:
    return charter["status"] in OPEN or charter["status_at"] >= moment - KEEP_AFTER


def _sponsors(charter: dict) -> set[str]:
    return {*charter["spec"]["learning_sponsors"], *charter["spec"]["funding_sponsors"]}


def sponsor_emails(db: Database, now: datetime) -> set[str]:
    """Learning and funding sponsors of charters that are open or settled in the last two weeks."""
    return {a for c in store.list_charters(db) if _live(c, now) for a in _sponsors(c)}


def digest_items(db: Database, email: str | None, since: datetime, until: datetime) -> list[DigestItem]:
    """The charters ``email`` sponsors (learning or funding; None: every charter), for ``[since, until)``."""
    address = email.strip().lower() if email else None
    return [item(db, c, since, until) for c in store.list_charters(db)
            if _live(c, since) and (address is None or address in _sponsors(c))]


def item(db: Database, charter: dict, since: datetime, until: datetime) -> DigestItem:
    """One charter's digest entry."""
    spec = charter["spec"]
    status = f"{STATUS_WORDS.get(charter['status'], charter['status'])}, version {charter['version']}"
    shared = store.updates(db, charter["id"], shareable_only=True, since=since, until=until)
    changed = _changed(db, charter, since, until)
    if shared:
        authors = sorted({u["name"] for u in shared})
        changed.append(f"{len(shared)} update{'s' if len(shared) != 1 else ''} from the team "
                       f"({', '.join(authors)}).")
    return DigestItem(kind="charter", ref=f"charter:{charter['id']}", title=spec["title"], status=status,
                      changed=tuple(changed), facts=tuple(_facts(db, charter, until)),
                      highlights=tuple((u["name"], u["text"]) for u in shared if u["text"]),
                      photos=reply_files.shared_thumbnails(db, "charter_update",
                                                           [(u["id"], u["person_id"], u["name"]) for u in shared]))


def _changed(db: Database, charter: dict, since: datetime, until: datetime) -> list[str]:
    lines = [f"{d['approver_name']} {mail.DECISION_WORDS[d['decision']]} version {d['version']}"
             + (f": {d['comment']}" if d["comment"] else "")
             for d in store.decisions(db, charter["id"]) if not d["held"] and since <= d["at"] < until]
    if charter["status"] != "pending" and since <= charter["status_at"] < until:
        lines.append(f"The charter was {STATUS_WORDS[charter['status']]}.")
    return lines


def _facts(db: Database, charter: dict, until: datetime) -> list[str]:
    spec, facts = charter["spec"], []
    if charter["status"] == "pending":
        done = {d["approver_id"] for d in store.decisions(db, charter["id"], charter["version"]) if not d["held"]}
        waiting = [p["name"] for a in spec["approvers"] if (p := people.find_person(db, a)) and p["id"] not in done]
        facts.append(f"Waiting for {', '.join(waiting) or 'nobody'} (decision due {spec['deadline']}).")
    team = store.members(db, charter["id"])
    facts.append(f"Team: {', '.join(m['name'] for m in team) or 'nobody yet'}.")
    if charter["started_at"]:
        end = charter["completed_at"].date() if charter["completed_at"] else until.date()
        used = rules.hours_used(len(team), spec["hours_per_week"], charter["started_at"].date(),
                                spec["duration_weeks"], end)
        facts.append(f"About {used:g} team hours used so far of {_planned(spec, len(team)):g} planned.")
        facts.extend(_next_report(charter, until))
    return facts


def _planned(spec: dict, size: int) -> float:
    return size * spec["hours_per_week"] * spec["duration_weeks"]


def _next_report(charter: dict, until: datetime) -> list[str]:
    if charter["status"] != "approved":
        return []
    start, every = charter["started_at"].date(), charter["spec"]["report_every_weeks"]
    upcoming = [rules.round_date(start, n, every) for n in range(1, project.total_rounds(charter) + 1)]
    later = [d for d in upcoming if d >= until.date()]
    end = rules.end_date(start, charter["spec"]["duration_weeks"])
    return [f"Next report-back: {mail.short_date(later[0] if later else end)}"
            + ("" if later else " (findings)") + "."]
