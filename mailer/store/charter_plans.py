"""Store verbs for planning a charter once per change (issue 25): its mark and what clears it.

A charter keeps a mark in its row: a planning pass at ``plan_checked_at`` (with every person
up to id ``plan_people_seen``, under settings ``plan_seen``) found nothing due, and nothing can
fall due before ``next_plan_at`` unless the data changes. Ticks in between skip the charter
without reading its approvers, its outbox keys or the community its project news goes to. The
triggers here clear the mark; ``flows.charter.flow`` reads and sets it.
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import ts

NEVER = "9999-12-31T00:00:00+00:00"

_CLEAR_ALL = "UPDATE charters SET next_plan_at = NULL WHERE next_plan_at IS NOT NULL"
_CLEAR_ONE = "UPDATE charters SET next_plan_at = NULL WHERE id = {} AND next_plan_at IS NOT NULL"
# Each change that can make a charter email due sooner: the charter's own status, version or
# dates; a new version's spec (or one an erasure rewrote); a held answer disowned (its approver
# is waiting again, so the reminder is due); the team; a new update (news that had nothing to
# carry now has); a person's address, status, roles or zone. A new person shows as a higher
# people id (no trigger on INSERT into people: an import would fire it once a row).
_TRIGGERS = (
    ("charter_changed", "UPDATE OF status, version, status_at, started_at, completed_at ON charters",
     _CLEAR_ONE.format("NEW.id")),
    ("version_added", "INSERT ON charter_versions", _CLEAR_ONE.format("NEW.charter_id")),
    ("version_changed", "UPDATE OF spec ON charter_versions", _CLEAR_ONE.format("NEW.charter_id")),
    ("decision_changed", "UPDATE OF held ON charter_decisions", _CLEAR_ONE.format("NEW.charter_id")),
    ("team_added", "INSERT ON charter_team", _CLEAR_ONE.format("NEW.charter_id")),
    ("team_removed", "DELETE ON charter_team", _CLEAR_ONE.format("OLD.charter_id")),
    ("update_added", "INSERT ON charter_updates", _CLEAR_ONE.format("NEW.charter_id")),
    ("person_changed", "UPDATE OF status, roles, timezone, email ON people WHEN OLD.status IS NOT NEW.status "
     "OR OLD.roles IS NOT NEW.roles OR OLD.timezone IS NOT NEW.timezone OR OLD.email IS NOT NEW.email",
     _CLEAR_ALL),
)


def plan_marks(db: Database) -> None:
    """The migration adding the charters' plan marks and the triggers that clear them."""
    for column in ("plan_checked_at TEXT", "next_plan_at TEXT", "plan_people_seen INTEGER", "plan_seen TEXT"):
        db.execute(f"ALTER TABLE charters ADD COLUMN {column}")
    for name, event, action in _TRIGGERS:
        db.execute(f"CREATE TRIGGER charter_replan_{name} AFTER {event} BEGIN {action}; END")


def replan_on_news_resumed(db: Database) -> None:
    """The migration clearing a charter's mark when someone takes its news up again (the
    preferences page): news they had stopped may be due to them at once."""
    db.execute("CREATE TRIGGER charter_replan_news_resumed AFTER DELETE ON charter_news_stops "
               f"BEGIN {_CLEAR_ONE.format('OLD.charter_id')}; END")


def set_plan_mark(db: Database, charter_id: int, checked_at: datetime, next_at: datetime | None,
                  people_seen: int, seen: str) -> None:
    """A pass at ``checked_at`` found nothing due with every person up to ``people_seen`` under
    settings ``seen``; nothing can fall due before ``next_at`` (None: never) unless data changes."""
    db.execute("UPDATE charters SET plan_checked_at = ?, next_plan_at = ?, plan_people_seen = ?, plan_seen = ? "
               "WHERE id = ?", [ts(checked_at), ts(next_at) if next_at else NEVER, people_seen, seen, charter_id])


def nothing_due(charter: dict, now: datetime, people_seen: int, seen: str) -> bool:
    """Whether the charter (as ``list_charters`` read it) was planned with the same people and
    settings, and nothing can be due at ``now``."""
    checked, next_at = charter.get("plan_checked_at"), charter.get("next_plan_at")
    return bool(checked and next_at and checked <= ts(now) < next_at
                and charter.get("plan_people_seen") == people_seen and charter.get("plan_seen") == seen)


def zones(db: Database) -> set[str]:
    """Every time zone someone in the home lives in (read once per change, when a mark is set)."""
    return {r[0] or "UTC" for r in db.execute("SELECT DISTINCT timezone FROM people")}
