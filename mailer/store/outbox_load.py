"""Store verbs reading the outbox's load: what waits by priority, and how late sends went out.

The outbox's table belongs to ``mailer.store.outbox``; these read-only verbs serve the
capacity forecast (``mailer.capacity``) and the lead's digest. A row's ``next_attempt_at``
is when it fell due (its send hour, or the moment a server asked us to wait), and stays so
while it waits for the pace, so ``sent_at - next_attempt_at`` is how long the pace held it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from mailer.store.outbox import ts, ts_ms

QUEUED = ("pending", "failed", "unknown", "sending")


def queued_by_priority(db: Database) -> dict[int, int]:
    """How many emails wait to be sent (in flight and uncertain ones too), by priority."""
    marks = ", ".join("?" for _ in QUEUED)
    rows = db.execute(f"SELECT priority, count(*) FROM outbox WHERE state IN ({marks}) GROUP BY priority",
                      list(QUEUED)).fetchall()
    return {priority: count for priority, count in rows}


def late_sends(db: Database, since: datetime, until: datetime, grace: timedelta) -> dict:
    """Emails sent in ``[since, until)``: how many, how many left more than ``grace`` after
    they fell due, the latest one's delay in minutes, and the subject most late ones had."""
    seconds = grace.total_seconds()
    late = "(julianday(sent_at) - julianday(next_attempt_at)) * 86400.0 > ?"
    where = "sent_at >= ? AND sent_at < ? AND state = 'sent'"
    window = [ts_ms(since), ts(until)]
    total, count, worst = db.execute(
        f"""SELECT count(*), coalesce(sum({late}), 0),
                   max((julianday(sent_at) - julianday(next_attempt_at)) * 1440.0)
            FROM outbox WHERE {where}""", [seconds, *window]).fetchone()
    subject = db.execute(f"SELECT subject, count(*) AS n FROM outbox WHERE {where} AND {late} "
                         "GROUP BY subject ORDER BY n DESC, subject LIMIT 1", [*window, seconds]).fetchone()
    return {"sent": total, "late": count, "worst_minutes": max(worst or 0.0, 0.0),
            "subject": subject[0] if subject else None}
