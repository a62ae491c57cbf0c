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
from mailer.flows.charter import project, rules
from mailer.locale.text import _
from mailer.outbound import formats
from mailer.store import charters as store
from mailer.store import people

STATUS_WORDS = {"pending": _("waiting for approval"), **mail.OUTCOME_WORDS, "changes_requested": _("being revised"),
                "withdrawn": _("withdrawn")}
# What happened to the charter in the period, as a sentence (not "The charter was changes requested").
STATUS_SENTENCES = {"approved": _("The charter was approved."), "rejected": _("The charter was rejected."),
                    "changes_requested": _("The approvers asked for changes; the proposer is revising it."),
                    "expired": _("The decision date passed without a decision."),
                    "completed": _("The project was completed."), "withdrawn": _("The proposer withdrew the charter.")}


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
    if charter["version"] > 1:
        status = _("%(status)s, version %(version)s", status=status, version=charter["version"])
    shared = store.updates(db, charter["id"], shareable_only=True, since=since, until=until)
    changed = _changed(db, charter, since, until)
    if shared:
        authors = sorted({u["name"] for u in shared})
        changed.append(_("%(updates)s from the team (%(authors)s).", updates=formats.count(len(shared), "update"),
                         authors=", ".join(authors)))
    return DigestItem(kind="charter", ref=f"charter:{charter['id']}", title=spec["title"], status=status,
                      changed=tuple(changed), facts=tuple(_facts(db, charter, until)),
                      highlights=tuple((u["name"], u["text"]) for u in shared if u["text"]),
                      photos=reply_files.shared_thumbnails(db, "charter_update",
                                                           [(u["id"], u["person_id"], u["name"]) for u in shared]))


def _changed(db: Database, charter: dict, since: datetime, until: datetime) -> list[str]:
    lines = [answer_line(d) for d in store.decisions(db, charter["id"]) if not d["held"] and since <= d["at"] < until]
    if charter["status"] != "pending" and since <= charter["status_at"] < until:
        lines.append(STATUS_SENTENCES.get(charter["status"], f"The charter is {charter['status']}."))
    return lines


def answer_line(d: dict) -> str:
    """One approver's answer: "Sue Grant asked for changes to version 1: "…"" (with its comment)."""
    name, version, comment = d["approver_name"], d["version"], d["comment"]
    if d["decision"] == "approve":
        return _("%(name)s approved version %(version)s: \"%(comment)s\"", name=name, version=version,
                 comment=comment) if comment else _("%(name)s approved version %(version)s.", name=name, version=version)
    if d["decision"] == "reject":
        return _("%(name)s rejected version %(version)s: \"%(comment)s\"", name=name, version=version,
                 comment=comment) if comment else _("%(name)s rejected version %(version)s.", name=name, version=version)
    return _("%(name)s asked for changes to version %(version)s: \"%(comment)s\"", name=name, version=version,
             comment=comment) if comment else \
        _("%(name)s asked for changes to version %(version)s.", name=name, version=version)


def _facts(db: Database, charter: dict, until: datetime) -> list[str]:
    spec, facts = charter["spec"], []
    if charter["status"] == "pending":
        done = {d["approver_id"] for d in store.decisions(db, charter["id"], charter["version"]) if not d["held"]}
        waiting = [p["name"] for a in spec["approvers"] if (p := people.find_person(db, a)) and p["id"] not in done]
        due = formats.date(date.fromisoformat(spec["deadline"]))
        facts.append(_("Waiting for %(names)s (decision due %(due)s).", names=", ".join(waiting), due=due) if waiting
                     else _("Waiting for nobody (decision due %(due)s).", due=due))
    team = store.members(db, charter["id"])
    facts.append(_("Team: %(names)s.", names=", ".join(m["name"] for m in team)) if team else _("Team: nobody yet."))
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
    if on_team != size:
        return _("Team time: about %(used)s so far of the %(planned)s planned (%(on_team)s of %(size)s on the team "
                 "so far).", used=formats.hours(used), planned=formats.hours(planned), on_team=on_team,
                 size=formats.count(size, "person", "people"))
    return _("Team time: about %(used)s so far of the %(planned)s planned.", used=formats.hours(used),
             planned=formats.hours(planned))


def _next_report(charter: dict, until: datetime) -> list[str]:
    if charter["status"] != "approved":
        return []
    start, every = charter["started_at"].date(), charter["spec"]["report_every_weeks"]
    upcoming = [rules.round_date(start, n, every) for n in range(1, project.total_rounds(charter) + 1)]
    later = [d for d in upcoming if d >= until.date()]
    end = rules.end_date(start, charter["spec"]["duration_weeks"])
    if later:
        return [_("Next check-in: %(date)s.", date=formats.date(later[0]))]
    return [_("Findings due: %(date)s.", date=formats.date(end))]
