"""Output helpers shared by the command groups: plain columns for people, JSON for programs."""
from __future__ import annotations

import json

import click


def counted(n: int, one: str, many: str | None = None) -> str:
    """``n`` with its noun: "1 day", "2 days", "1 entry"/"3 entries" (``many`` when not ``one`` + s)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def rows(items: list[dict], as_json: bool, columns: tuple[str, ...]) -> None:
    """Print ``rows`` as JSON, or one line each with ``columns`` (``-`` for empty)."""
    if as_json:
        click.echo(json.dumps(items, default=str))
        return
    for row in items:
        click.echo("  ".join(str(row.get(c) if row.get(c) is not None else "-") for c in columns))
    if not items:
        click.echo("(none)")
