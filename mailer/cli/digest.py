"""Commands for sponsor digests: preview one, send one now, choose a cadence, list recipients."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from mailer import outbox, private
from mailer.app import App
from mailer.cli.now import NOW_HELP, parse_now
from mailer.errors import NotFoundError
from mailer.flows import digest as flow
from mailer.flows.digest import cadence as cad
from mailer.flows.digest.emails import one_week_before
from mailer.store import digests as store
from mailer.store import people


@click.group()
def digest() -> None:
    """Sponsor digests: what sponsors and community leads get each period."""


def _person(app: App, email: str) -> dict:
    person = people.find_person(app.db, email)
    if person is None:
        raise NotFoundError(f"no person with address {email}")
    return person


def _recipient(app: App, email: str, now: datetime) -> dict:
    """The person, when they get digests; else one line saying why not, and exit code 1."""
    person = _person(app, email)
    if all(p["id"] != person["id"] for p in flow.recipients(app.db, now)):
        click.echo(f"{person['email']} gets no digest: they sponsor nothing and are not a community lead "
                   "(sponsors are named in challenge, charter and meetup files; leads have the role 'lead')")
        raise click.exceptions.Exit(1)
    return person


@digest.command("preview")
@click.argument("email")
@click.option("--html", "html_file", type=click.Path(path_type=Path), help="Also write the HTML part here.")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def preview(app: App, email: str, html_file: Path | None, now_text: str | None) -> None:
    """Show the digest EMAIL would get now (the last seven days), without sending it."""
    now = parse_now(now_text)
    person = _recipient(app, email, now)
    plan = flow.build(app.db, person, one_week_before(now), now, app.settings, key="preview")
    text, html = outbox.render_plan(plan, person, None, app.settings)
    click.echo(f"Subject: {plan.subject}\nTo: {person['email']}\n\n{text}", nl=False)
    if html_file:
        private.write_file(html_file, html)  # names and highlights of the sponsor's people
        click.echo(f"(HTML part written to {html_file})")


@digest.command("send")
@click.argument("email")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def send(app: App, email: str, now_text: str | None) -> None:
    """Queue a digest for EMAIL now, out of cadence (the last seven days), e.g. for a new sponsor."""
    now = parse_now(now_text)
    person = _recipient(app, email, now)
    plan = flow.build(app.db, person, one_week_before(now), now, app.settings,
                      key=f"digest:person:{person['id']}:manual:{now:%Y-%m-%dT%H:%M:%SZ}")
    queued = outbox.enqueue(app.db, [plan], now, app.settings)
    click.echo("digest queued; it goes out at the next tick" if queued else "a digest was already queued just now")


@digest.command("cadence")
@click.argument("email")
@click.argument("every", type=click.Choice(store.CADENCES))
@click.pass_obj
def cadence(app: App, email: str, every: str) -> None:
    """Set how often EMAIL gets a digest: daily, weekly, monthly or off."""
    person = _person(app, email)
    store.set_cadence(app.db, person["id"], every)
    click.echo(f"{person['email']}: digests {every}")


@digest.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def list_(app: App, as_json: bool, now_text: str | None) -> None:
    """Who gets digests, how often, and when the next one is due."""
    now, settings = parse_now(now_text), app.settings
    chosen = store.cadences(app.db)
    rows = []
    for person in flow.recipients(app.db, now):
        every = chosen.get(person["id"], settings.digests_cadence)
        rhythm = cad.Cadence(every, cad.WEEKDAYS.index(settings.digests_weekday), settings.digests_hour)
        nxt = None if every == "off" else cad.next_moment(rhythm, person["timezone"], now)
        rows.append({"email": person["email"], "scope": "community" if flow.is_lead(person) else "sponsored",
                     "cadence": every, "next": nxt.isoformat() if nxt else None})
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['email']}  {row['scope']}  {row['cadence']}  next {row['next'] or '-'}")
    if not rows:
        click.echo("(no sponsors or community leads)")
