"""``preview KIND``: any email the service sends, rendered without sending or queuing it.

It renders from a scratch copy of the home's database (the sample community's records stand
in for what the home has none of, and for everything when the home has no database yet), so
the home's outbox and database are exactly as they were afterwards.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import click

from mailer.app import App
from mailer.cli.now import NOW_HELP, parse_now
from mailer.locale import LANGUAGES
from mailer.preview import kinds
from mailer.preview.render import Rendered, rendered
from mailer.preview.world import scratch


def render_kind(app: App, name: str, address: str | None, now_text: str | None,
                language: str | None = None) -> Rendered:
    """Email ``name`` for ``address`` (or its usual recipient) from a scratch copy of ``app``'s
    home, in ``language`` when given (else the person's own)."""
    home_db = app.settings.db_path
    # The sample's own moment for the sample (its challenge about to start); the home's, now.
    now = parse_now(now_text) if now_text or home_db.exists() else None
    with tempfile.TemporaryDirectory(prefix="cop-preview-") as folder:
        world = scratch(home_db, Path(folder), now)
        try:
            plan, person = kinds.plan(world, name, address, app.settings)
            person = {**person, "language": language} if language else person
            return rendered(plan, person, world.now, app.settings)
        finally:
            world.db.close()


@click.command("preview")
@click.argument("kind", required=False)
@click.option("--person", "address", help="Render it for this person (by email) instead of its usual recipient.")
@click.option("--text", "part", flag_value="text", default=True, help="Print the plain-text part (the default).")
@click.option("--html", "part", flag_value="html", help="Print the HTML part.")
@click.option("--ics", "part", flag_value="ics", help="Print the calendar invite (meetup kinds).")
@click.option("--raw", "part", flag_value="raw", help="Print the whole message as it would be sent.")
@click.option("--now", "now_text", help=NOW_HELP)
@click.option("--language", type=click.Choice(LANGUAGES), help="Render it in this language (default: the person's).")
@click.pass_obj
def preview(app: App, kind: str | None, address: str | None, part: str, now_text: str | None,
            language: str | None) -> None:
    """Render KIND as it would be sent, from the home's data (or the sample); with no KIND,
    list the kinds. Nothing is queued or sent."""
    if kind is None:
        for item in kinds.KINDS:
            click.echo(f"{item.name:<18} {item.about}")
        return
    shown = render_kind(app, kind, address, now_text, language)
    if part == "ics" and shown.ics is None:
        raise click.UsageError(f"{kind} carries no calendar invite")
    if part == "raw":
        click.echo(shown.data.decode("utf-8", "replace"))
        return
    body = {"text": shown.text, "html": shown.html, "ics": shown.ics}[part]
    click.echo(f"Subject: {shown.subject}\n\n{body}" if part == "text" else body)
