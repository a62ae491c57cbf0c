"""What a charter says in a sponsor digest: only what a sponsor may see.

Status, pending approvals and who has not answered, the team and the hours used so far at
the charter's rate, the period's shareable updates (a ``#private`` one never) and the next
report-back. Read only: a digest changes nothing.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlite_utils import Database

from mailer.flows import reply_files
from mailer.flows.base import DigestItem
from mailer.flows.charter import definition as cdef
from mailer.flows.charter import emails as mail
from mailer.outbound import formats
from mailer.flows.charter import project, rules
from mailer.store import charters as store
from mailer.store import people

STATUS_WORDS = {"pending": "waiting for approval", **mail.OUTCOME_WORDS, "changes_requested": "being revised",
                "withdrawn": "withdrawn"}
# What happened to the charter in the period, as a sentence (not "The charter was changes requested").
STATUS_SENTENCES = {"approved": "The charter was approved.", "rejected": "The charter was rejected.",
                    "changes_requested": "The approvers asked for changes; the proposer is revising it.",
                    "expired": "The decision date passed without a decision.",
                    "completed": "The project was completed.", "withdrawn": "The proposer withdrew the charter."}
# One approver's answer: "Sue Grant asked for changes to version 1: …".
ANSWER_WORDS = {"approve": "approved", "reject": "rejected", "request_changes": "asked for changes to"}


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
    status = STATUS_WORDS.get(charter["status"], charter["status"])
    status += f", version {charter['version']}" if charter["version"] > 1 else ""
    shared = store.updates(db, charter["id"], shareable_only=True, since=since, until=until)
    changed = _changed(db, charter, since, until)
    if shared:
        authors = sorted({u["name"] for u in shared})
        changed.append(f"{formats.count(len(shared), 'update')} from the team ({', '.join(authors)}).")
    return DigestItem(kind="charter", ref=f"charter:{charter['id']}", title=spec["title"], status=status,
                      changed=tuple(changed), facts=tuple(_facts(db, charter, until)),
                      highlights=tuple((u["name"], u["text"]) for u in shared if u["text"]),
                      photos=reply_files.shared_thumbnails(db, "charter_update",
                                                           [(u["id"], u["person_id"], u["name"]) for u in shared]))


def _changed(db: Database, charter: dict, since: datetime, until: datetime) -> list[str]:
    lines = [f"{d['approver_name']} {ANSWER_WORDS[d['decision']]} version {d['version']}"
             + (f": \"{d['comment']}\"" if d["comment"] else ".")
             for d in store.decisions(db, charter["id"]) if not d["held"] and since <= d["at"] < until]
    if charter["status"] != "pending" and since <= charter["status_at"] < until:
        lines.append(STATUS_SENTENCES.get(charter["status"], f"The charter is {charter['status']}."))
    return lines


def _facts(db: Database, charter: dict, until: datetime) -> list[str]:
    spec, facts = charter["spec"], []
    if charter["status"] == "pending":
        done = {d["approver_id"] for d in store.decisions(db, charter["id"], charter["version"]) if not d["held"]}
        waiting = [p["name"] for a in spec["approvers"] if (p := people.find_person(db, a)) and p["id"] not in done]
        due = formats.date(date.fromisoformat(spec["deadline"]))
        facts.append(f"Waiting for {', '.join(waiting) or 'nobody'} (decision due {due}).")
    team = store.members(db, charter["id"])
    facts.append(f"Team: {', '.join(m['name'] for m in team) or 'nobody yet'}.")
    if charter["started_at"]:
        end = charter["completed_at"].date() if charter["completed_at"] else until.date()
        used = rules.hours_used(len(team), spec["hours_per_week"], charter["started_at"].date(),
                                spec["duration_weeks"], end)
        facts.append(hours_fact(used, len(team), spec))
        facts.extend(_next_report(charter, until))
    return facts


def hours_fact(used: float, on_team: int, spec: dict) -> str:
    """Team hours so far against the charter's own plan (the figure its Resourcing line shows)."""
    planned, size = cdef.planned_hours(spec), cdef.team_size(spec)
    line = f"Team time: about {formats.hours(used)} so far of the {formats.hours(planned)} planned"
    if on_team != size:
        line += f" ({on_team} of {formats.count(size, 'person', 'people')} on the team so far)"
    return line + "."


def _next_report(charter: dict, until: datetime) -> list[str]:
    if charter["status"] != "approved":
        return []
    start, every = charter["started_at"].date(), charter["spec"]["report_every_weeks"]
    upcoming = [rules.round_date(start, n, every) for n in range(1, project.total_rounds(charter) + 1)]
    later = [d for d in upcoming if d >= until.date()]
    end = rules.end_date(start, charter["spec"]["duration_weeks"])
    if later:
        return [f"Next check-in: {formats.date(later[0])}."]
    return [f"Findings due: {formats.date(end)}."]
