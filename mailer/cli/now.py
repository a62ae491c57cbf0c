"""The command line's reading of time: ``--now`` or the wall clock (the one edge that reads it)."""
from __future__ import annotations

from datetime import datetime, timezone

import click

NOW_HELP = "Act as if it were this time (ISO 8601, e.g. 2027-01-04T08:00:00Z)."


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware UTC datetime (the wall clock when absent)."""
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: expected ISO 8601 like 2027-01-04T08:00:00Z") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
