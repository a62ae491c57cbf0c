"""Store verbs for planning errors: a flow whose ``due`` raised, kept until it plans again.

One row per flow (the latest error wins); ``status`` shows them, so a flow that fails every
tick is visible without reading logs. Plans that cannot be built are not kept here: they
become ``dead`` outbox rows with their reason (``mailer.outbox.set_aside``).
"""
from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from mailer.store.outbox import ts


def _create(db: Database) -> None:
    db.execute("""
        CREATE TABLE planning_errors (
            flow TEXT PRIMARY KEY,
            error TEXT NOT NULL,
            first_at TEXT NOT NULL,
            last_at TEXT NOT NULL
        )""")


MIGRATIONS = [("planning-001", _create)]


def record_error(db: Database, flow: str, error: str, now: datetime) -> None:
    """Remember that ``flow`` could not plan at ``now`` and why."""
    with db.atomic():
        db.execute("""INSERT INTO planning_errors (flow, error, first_at, last_at) VALUES (?, ?, ?, ?)
                      ON CONFLICT(flow) DO UPDATE SET error = excluded.error, last_at = excluded.last_at""",
                   [flow, error, ts(now), ts(now)])


def clear_error(db: Database, flow: str) -> None:
    """``flow`` planned cleanly: forget its last error."""
    db.execute("DELETE FROM planning_errors WHERE flow = ?", [flow])


def errors(db: Database) -> list[dict]:
    """Flows whose last planning failed: flow, error, first_at, last_at."""
    return list(db.query("SELECT flow, error, first_at, last_at FROM planning_errors ORDER BY flow"))


def erase_person(db: Database, addresses: list[str]) -> dict[str, int]:
    """Delete planning errors that name one of these addresses (a later plan says it again if
    it still holds)."""
    where = " OR ".join("error LIKE ?" for _ in addresses)
    return {"planning_errors": db.execute(f"DELETE FROM planning_errors WHERE {where}",
                                          [f"%{a}%" for a in addresses]).rowcount}
