"""``run.py check``: connect with the configured transport and say what works, sending nothing."""
from __future__ import annotations

import json
from dataclasses import asdict

import click

from mailer import private
from mailer.app import App
from mailer.errors import MailerError
from mailer.transports import split
from mailer.transports.base import CheckLine

# Without these the service cannot run at all; calendar and Sent folder only narrow what it can do.
ESSENTIAL = ("log in", "read the inbox", "send")


def failed_essentials(lines: list[CheckLine]) -> list[str]:
    """The essential checks that failed or could not be tried."""
    ok = {line.what for line in lines if line.ok}
    return [what for what in ESSENTIAL if what not in ok]


# How many recent replies ``check`` looks at for Authentication-Results.
RECENT_REPLIES = 50


def authentication_line(app: App) -> CheckLine:
    """Whether recent replies carry Authentication-Results and from which server (authserv-id),
    and what ``approvals.trusted_authserv_id`` could be (docs/trust.md). Never essential."""
    from mailer.inbound import authresults
    from mailer.inbound.message import parse_message
    from mailer.store import inbox

    found: list[list[str]] = []
    if app.settings.db_path.exists():
        for row in inbox.list_messages(app.db, limit=RECENT_REPLIES * 4):
            if row["kind"] in ("reply", "rsvp") and len(found) < RECENT_REPLIES:
                raw = inbox.get_message(app.db, row["id"])["raw"] or b""
                head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
                found.append(parse_message(head).headers_named("authentication-results"))
    fine, detail = authresults.advice(found, app.settings.approvals_trusted_authserv_id)
    return CheckLine("Authentication-Results", fine, detail)


def lead_page_lines(app: App) -> list[CheckLine]:
    """Who may sign in to the lead's page (``[web] lead_emails``); never essential."""
    from mailer.web.lead.access import check_lines

    db = app.db if app.settings.db_path.exists() else None
    return [CheckLine("lead's page", ok, detail) for ok, detail in check_lines(db, app.settings)]


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def check(app: App, as_json: bool) -> None:
    """Connect with the configured transport and say what works; sends nothing to anyone."""
    kind = "+".join(split.halves(app.settings)) if split.is_split(app.settings) else app.settings.transport_kind
    try:
        lines = app.transport.check()
    except MailerError as exc:
        lines = [CheckLine("log in", False, str(exc))]
    lines.append(authentication_line(app))
    lines.extend(lead_page_lines(app))
    missing = failed_essentials(lines)
    warnings = private.home_warnings(app.home)  # after the transport opened (and tightened) the database
    if as_json:
        click.echo(json.dumps({"transport": kind, "ok": not missing, "checks": [asdict(line) for line in lines],
                               "warnings": warnings}))
    else:
        click.echo(f"transport {kind}")
        for line in lines:
            click.echo(f"  {'ok  ' if line.ok else 'FAIL'}  {line.what}: {line.detail}")
        for what in missing:
            if all(line.what != what for line in lines):
                click.echo(f"  FAIL  {what}: not tried")
        for warning in warnings:
            click.echo(f"  warn  {warning}")
        click.echo("everything needed works" if not missing else f"not working: {', '.join(missing)}")
    if missing:
        raise click.exceptions.Exit(1)
