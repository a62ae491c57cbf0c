"""The command line's reading of time: ``--now`` or the wall clock (the one edge that reads it)."""
from __future__ import annotations

from datetime import datetime, timezone

import click

from mailer.app import App

NOW_HELP = "Act as if it were this time (ISO 8601, e.g. 2027-01-04T08:00:00Z)."


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware UTC datetime (the wall clock when absent). A home this command
    creates is seeded at that moment too (``App.seed_time``), so that a rehearsal with ``--now``
    finds the sample challenge where that moment expects it, whatever the wall clock says."""
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: expected ISO 8601 like 2027-01-04T08:00:00Z") from exc
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    _seed_at(moment)
    return moment


def _seed_at(moment: datetime) -> None:
    """Tell the command's home (``App``) to seed itself at ``moment`` if it is created now."""
    context = click.get_current_context(silent=True)
    app = context.find_object(App) if context is not None else None
    if app is not None and app.seed_time is None:
        app.seed_time = moment
