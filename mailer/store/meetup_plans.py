"""Store verbs for planning a meetup once per change (issue 25): its marks and what clears them.

A meetup keeps two marks in its row: ``invites_people_seen`` (its invite list was resolved with
every person up to that id; NULL: resolve it again) and ``next_plan_at`` (a planning pass at
``plan_checked_at`` found nothing due and nothing can fall due before it unless the data
changes). The triggers here clear them; ``flows.meetup`` reads and sets them.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import ts

NEVER = "9999-12-31T00:00:00+00:00"


def plan_marks(db: Database) -> None:
    """The migration adding the plan marks, their triggers and the invitees-by-person index."""
    # ``plan_seen``: the settings the pass ran under (native meetings on or off). A new person
    # shows as a higher people id (no trigger on INSERT: an import of 50,000 rows would fire it
    # 50,000 times); the triggers below catch every other change that can invite someone or make
    # an email due.
    for column in ("invites_people_seen INTEGER", "plan_checked_at TEXT", "next_plan_at TEXT", "plan_seen TEXT"):
        db.execute(f"ALTER TABLE meetups ADD COLUMN {column}")
    db.execute("CREATE INDEX meetup_invitees_by_person ON meetup_invitees(person_id)")
    for name, event, action in _PLAN_TRIGGERS:
        db.execute(f"CREATE TRIGGER meetup_replan_{name} AFTER {event} BEGIN {action}; END")


_RESOLVE_ALL = ("UPDATE meetups SET invites_people_seen = NULL, next_plan_at = NULL "
                "WHERE invites_people_seen IS NOT NULL OR next_plan_at IS NOT NULL")


def _named(kind: str, row: str) -> str:
    """Resolve again only the meetups whose invite list names this challenge, charter or call
    (``invite_spec`` is JSON text: ["challenge:3", "lead"])."""
    return (f"UPDATE meetups SET invites_people_seen = NULL WHERE invites_people_seen IS NOT NULL "
            f"AND invite_spec LIKE '%\"{kind}:' || {row}.{kind}_id || '\"%'")


_REPLAN_ONE = "UPDATE meetups SET next_plan_at = NULL WHERE id = {}.meetup_id AND next_plan_at IS NOT NULL"
_REMINDED = "('accepted', 'needs-action')"  # who gets a reminder (flow.REMINDED)
_PLAN_TRIGGERS = (
    ("person_changed", "UPDATE OF status, roles, email ON people WHEN OLD.status IS NOT NEW.status OR "
     "OLD.roles IS NOT NEW.roles OR OLD.email IS NOT NEW.email", _RESOLVE_ALL),
    ("participant_added", "INSERT ON challenge_participants", _named("challenge", "NEW")),
    ("participant_changed", "UPDATE OF status ON challenge_participants", _named("challenge", "NEW")),
    ("participant_removed", "DELETE ON challenge_participants", _named("challenge", "OLD")),
    ("team_added", "INSERT ON charter_team", _named("charter", "NEW")),
    ("team_removed", "DELETE ON charter_team", _named("charter", "OLD")),
    ("signup_added", "INSERT ON call_signups", _named("call", "NEW")),
    ("signup_changed", "UPDATE OF status ON call_signups", _named("call", "NEW")),
    ("signup_removed", "DELETE ON call_signups", _named("call", "OLD")),
    ("invitee_added", "INSERT ON meetup_invitees", _REPLAN_ONE.format("NEW")),
    ("invitee_removed", "DELETE ON meetup_invitees", _REPLAN_ONE.format("OLD")),
    ("invitee_changed", "UPDATE OF speaker, attended ON meetup_invitees", _REPLAN_ONE.format("NEW")),
    ("invitee_answered", f"UPDATE OF partstat ON meetup_invitees WHEN NEW.partstat IN {_REMINDED} "
     f"AND OLD.partstat NOT IN {_REMINDED}", _REPLAN_ONE.format("NEW")),
    ("native_added", "INSERT ON meetup_native", _REPLAN_ONE.format("NEW")),
    ("native_changed", "UPDATE OF state, sequence, attendees ON meetup_native", _REPLAN_ONE.format("NEW")),
)


def set_invites_seen(db: Database, meetup_id: int, people_seen: int) -> None:
    """The invite list was resolved with every person up to id ``people_seen``."""
    db.execute("UPDATE meetups SET invites_people_seen = ? WHERE id = ?", [people_seen, meetup_id])


def set_plan_mark(db: Database, meetup_id: int, checked_at: datetime, next_at: datetime | None, seen: str) -> None:
    """A planning pass at ``checked_at`` (under settings ``seen``) found nothing due, and nothing
    can fall due before ``next_at`` (None: never) unless the data changes."""
    db.execute("UPDATE meetups SET plan_checked_at = ?, next_plan_at = ?, plan_seen = ? WHERE id = ?",
               [ts(checked_at), ts(next_at) if next_at else NEVER, seen, meetup_id])


def nothing_due(meetup: dict, now: datetime, seen: str) -> bool:
    """Whether the meetup (as ``list_meetups`` read it) was planned and nothing can be due at ``now``."""
    checked, next_at = meetup.get("plan_checked_at"), meetup.get("next_plan_at")
    return bool(checked and next_at and checked <= ts(now) < next_at and meetup.get("plan_seen") == seen)
