"""What the lead's page shows, per ritual, as plain data: pure functions over store verbs.

The numbers come from the very functions the CLI prints (``challenge show``, ``charter show``,
``call show``, ``meetup show`` build their ``--json`` with ``details``; ``status`` counts the
outbox and inbox with the same store verbs), so the page and the CLI cannot disagree. What
members wrote reaches the page only through the digest's own selection (``DIGEST_SOURCES``:
counts, charts, and the text people marked ``#share``), over the same seven days as a digest
sent out of cadence.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlite_utils import Database

from mailer import outbox, worker
from mailer.cli import call as call_cli
from mailer.cli import challenge as challenge_cli
from mailer.cli import charter as charter_cli
from mailer.cli import meetup as meetup_cli
from mailer.flows.base import DigestItem
from mailer.flows.challenge.digest import STREAK, current_day, streak
from mailer.flows.digest.emails import one_week_before
from mailer.flows.registry import DIGEST_SOURCES
from mailer.store import calls as call_store
from mailer.store import challenges as challenge_store
from mailer.store import charters as charter_store
from mailer.store import inbox as inbox_store
from mailer.store import meetups as meetup_store
from mailer.store import outbox as outbox_store

DEAD_SHOWN = 50
WAITING_SHOWN = 50
ANSWERS = ("accepted", "tentative", "declined", "needs-action")


def digest_items(db: Database, now: datetime) -> dict[str, DigestItem]:
    """What a community lead's digest would say now (the last seven days), by ``kind:ID``."""
    since = one_week_before(now)
    return {item.ref: item for source in DIGEST_SOURCES for item in source.digest_items(db, None, since, now)}


def challenges(db: Database, now: datetime, items: dict[str, DigestItem]) -> list[dict]:
    """Each challenge not removed: ``challenge show`` with states counted, streaks, and the
    digest's chart, facts and shared highlights."""
    return [_challenge(db, c, now, items.get(f"challenge:{c['id']}")) for c in challenge_store.list_challenges(db)]


def _challenge(db: Database, c: dict, now: datetime, item: DigestItem | None) -> dict:
    data = challenge_cli.details(db, c["id"], now)
    today = min(current_day(c, now), c["length"])
    journaled = challenge_store.journaled_days(db, c["id"])
    runs = {p["email"]: streak(journaled.get(p["person_id"], set()), today)
            for p in challenge_store.list_participants(db, c["id"])}
    people = [{**p, "streak": runs.get(p["email"], 0)} for p in data["participants"]]
    states = Counter(p["status"] for p in people)
    return {**data, "participants": people, "today": today,
            "counts": {s: states.get(s, 0) for s in ("active", "paused", "stopped")},
            "bounced": sum(p["bounced"] for p in people),
            "days_journaled": sum(p["days_journaled"] for p in people),
            "streaking": sum(p["streak"] >= STREAK for p in people), "streak_days": STREAK,
            "longest_streak": max((p["streak"] for p in people), default=0), **_digest_view(item)}


def _digest_view(item: DigestItem | None) -> dict:
    """The parts of a digest item a page shows: status line, facts, chart bars, highlights."""
    if item is None:
        return {"digest_status": None, "facts": (), "chart": (), "highlights": ()}
    chart = [{"label": label, "value": value, "out_of": out_of,
              "percent": round(100 * value / out_of) if out_of else 0} for label, value, out_of in item.chart]
    return {"digest_status": item.status, "facts": item.facts, "chart": chart, "highlights": item.highlights}


def charters(db: Database, items: dict[str, DigestItem]) -> list[dict]:
    """Each charter: ``charter show --json``, with who approved the current version, who has
    not answered, and answers held for confirmation."""
    return [_charter(db, c["id"], items.get(f"charter:{c['id']}")) for c in charter_store.list_charters(db)]


def _charter(db: Database, charter_id: int, item: DigestItem | None) -> dict:
    data = charter_cli.details(db, charter_id)
    latest: dict[str, dict] = {}
    for d in charter_store.decisions(db, charter_id, data["version"]):  # oldest first: the last one counts
        if not d["disowned"]:  # "not me": the answer stays for audit and counts for nobody
            latest[d["approver"].lower()] = d
    approvers = [a.strip().lower() for a in data["spec"]["approvers"]]
    return {**data, "deadline": data["spec"]["deadline"], "approvers": approvers,
            "approved": [a for a in approvers if _said(latest.get(a), "approve")],
            "rejected": [a for a in approvers if _said(latest.get(a), "reject")],
            "changes": [a for a in approvers if _said(latest.get(a), "request_changes")],
            "not_answered": [a for a in approvers if a not in latest],
            "held": [d for d in latest.values() if d["held"]],
            **_digest_view(item)}


def _said(decision: dict | None, what: str) -> bool:
    return decision is not None and not decision["held"] and decision["decision"] == what


def calls(db: Database, now: datetime) -> list[dict]:
    """Each call: ``call show --json`` with places, confirmed and waitlist counted per role."""
    found = []
    for row in call_store.list_calls(db):
        data = call_cli.details(db, row["id"], now)
        roles = [{**r, "taken": len(r["confirmed"]), "waiting": len(r["waitlist"]),
                  "open": None if r["places"] is None else max(r["places"] - len(r["confirmed"]), 0)}
                 for r in data["roles"]]
        found.append({**data, "roles": roles, "confirmed": sum(r["taken"] for r in roles),
                      "waitlist": sum(r["waiting"] for r in roles)})
    return found


def meetups(db: Database, items: dict[str, DigestItem]) -> list[dict]:
    """Each meetup: ``meetup show --json`` with answers counted by state, and attendance."""
    found = []
    for m in meetup_store.list_meetups(db):
        data = meetup_cli.details(db, m["id"])
        answers = Counter(p["answer"] for p in data["invitees"])
        found.append({**data, "answers": {a: answers.get(a, 0) for a in ANSWERS},
                      "invited": len(data["invitees"]), "attended": sum(bool(p["attended"]) for p in data["invitees"]),
                      **_digest_view(items.get(f"meetup:{m['id']}"))})
    return found


def outbox_health(db: Database, now: datetime, settings) -> dict:
    """``status``'s outbox counts and drain time, the dead emails with their reasons, and when
    the next email goes."""
    counts = outbox_store.counts(db)
    eta = outbox.drain_eta(db, now, settings)
    planned = worker.next_send(db, now)
    return {"counts": counts, "queued": sum(counts.get(s, 0) for s in ("pending", "failed")),
            "sending": counts.get("sending", 0), "dead": counts.get("dead", 0),
            "unknown": counts.get("unknown", 0), "sent": counts.get("sent", 0),
            "dead_rows": outbox_store.list_rows(db, "dead", DEAD_SHOWN),
            "next_attempt": outbox_store.next_attempt_after(db, now),
            "next_planned": planned, "drained_by": eta, "in_flight": outbox_store.in_flight(db),
            "inbox": inbox_store.counts(db)}


def waiting(db: Database, charter_rows: list[dict], meetup_rows: list[dict]) -> dict:
    """What waits for a person: messages kept for the lead (``inbox list --for-lead``), answers
    held for confirmation, and calendar answers from people who were not invited."""
    return {"messages": inbox_store.waiting_for_lead(db, limit=WAITING_SHOWN),
            "message_count": inbox_store.count_waiting(db),
            "held": [{"charter": c["title"], "charter_id": c["id"], **d} for c in charter_rows for d in c["held"]],
            "unattributed": [{"meetup": m["title"], "meetup_id": m["id"], **a}
                             for m in meetup_rows for a in m["unattributed"]],
            "proposals": [{"meetup": m["title"], "meetup_id": m["id"], **a}
                          for m in meetup_rows for a in m["proposals"]]}


def overview(db: Database, now: datetime, settings) -> dict:
    """Everything the lead's pages show, as of ``now``."""
    items = digest_items(db, now)
    charter_rows, meetup_rows = charters(db, items), meetups(db, items)
    waits = waiting(db, charter_rows, meetup_rows)
    return {"now": now, "challenges": challenges(db, now, items), "charters": charter_rows,
            "calls": calls(db, now), "meetups": meetup_rows, "outbox": outbox_health(db, now, settings),
            "waiting": waits, "waiting_total": waits["message_count"] + len(waits["held"])
            + len(waits["unattributed"]) + len(waits["proposals"])}
