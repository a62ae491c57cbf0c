"""Commands for volunteer calls (``call open|list|show|close``).

A thin layer over ``mailer.flows.call`` and the store: bad input raises ConfigError /
NotFoundError, which the main group prints as one line.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from mailer.capacity import added
from mailer.cli import capacity
from mailer.cli.now import NOW_HELP, parse_now
from mailer.flows.call import definition, flow
from mailer.flows.call.places import RoleState, filled, place_line
from mailer.store import calls as store


@click.group("call")
def call() -> None:
    """Volunteer calls: roles with places, answered by reply ("I'm in", "withdraw")."""


@call.command("open")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Only validate the file and say what would happen.")
@click.option("--now", "now_text", help=NOW_HELP)
@capacity.over_limit_option
@click.pass_obj
def open_(app, file: Path, check: bool, now_text: str | None, over_limit: bool) -> None:
    """Validate FILE.toml and open the call; it goes out at the next tick."""
    now = parse_now(now_text)
    spec, recipients = definition.check_file(app.db, file, now, app.settings.mailer_lead)
    warnings = capacity.check(app, now, added.call_open(recipients, spec["title"], now), over_limit)
    if check:
        click.echo(f"{file}: valid")
        click.echo(definition.describe(spec, recipients, spec["sender"]))
        capacity.echo(warnings)
        return
    call_id = definition.open_call(app.db, spec, now)
    click.echo(f"opened call {call_id}: {spec['title']}")
    click.echo(definition.describe(spec, recipients, spec["sender"]))
    click.echo("the call goes out at the next tick")
    capacity.echo(warnings)


def phase(call_row: dict, now: datetime, zones: set[str]) -> str:
    """open or closed, as the worker sees it at ``now``."""
    closed = call_row["state"] == "closed" or now >= flow.closes_at(call_row, zones)
    return "closed" if closed else "open"


def zones(db, call_row: dict) -> set[str]:
    """The time zones a call closes in: its invitees' and its volunteers'."""
    people = definition.invitees(db, call_row["to_spec"], call_row["feeds"])
    return {p["timezone"] for p in people} | store.signup_zones(db, call_row["id"])


@call.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def list_(app, as_json: bool, now_text: str | None) -> None:
    """Every call with its state, closing day and places filled."""
    now = parse_now(now_text)
    rows = [{"id": c["id"], "title": c["title"], "closes": c["closes"], "state": phase(c, now, zones(app.db, c)),
             "feeds": c["feeds"], "filled": filled(flow.role_counts(app.db, c["id"]))}
            for c in store.list_calls(app.db)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['id']:>3}  {row['state']:<6} closes {row['closes']}  "
                   f"{row['filled']:<22} {row['title']}")
    if not rows:
        click.echo("(no calls)")


def _role_json(role: RoleState) -> dict:
    return {"name": role.name, "places": role.places, "description": role.description,
            "confirmed": [s["email"] for s in role.confirmed], "waitlist": [s["email"] for s in role.waitlist]}


def details(db, call_id: int, now: datetime) -> dict:
    """A call as ``show --json`` prints it: state, and each role's places, confirmed and waitlist."""
    row = store.get_call(db, call_id)
    return {"id": row["id"], "title": row["title"], "closes": row["closes"], "feeds": row["feeds"],
            "sender": row["sender"], "to": row["to_spec"], "state": phase(row, now, zones(db, row)),
            "roles": [_role_json(r) for r in flow.role_board(db, call_id)]}


@call.command("show")
@click.argument("call_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def show(app, call_id: int, as_json: bool, now_text: str | None) -> None:
    """One call: each role with its places, who is confirmed and who waits, in order."""
    data = details(app.db, call_id, parse_now(now_text))
    if as_json:
        click.echo(json.dumps(data))
        return
    roles = flow.role_board(app.db, call_id)
    click.echo(f"{data['id']}: {data['title']} ({data['state']}, closes {data['closes']})"
               + (f", feeds {data['feeds']}" if data["feeds"] else ""))
    for role in roles:
        click.echo(f"  {place_line(role).split(';')[0]}")
        for n, signup in enumerate(role.confirmed, start=1):
            click.echo(f"    {n}. {signup['email']}")
        for n, signup in enumerate(role.waitlist, start=1):
            click.echo(f"    waiting {n}. {signup['email']}")


@call.command("close")
@click.argument("call_id", type=int)
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def close(app, call_id: int, now_text: str | None) -> None:
    """Close a call now: replies get a polite "closed", and the sender gets the list at the next tick."""
    if store.close_call(app.db, call_id, parse_now(now_text)):
        click.echo(f"call {call_id} is closed; the list goes to its sender at the next tick")
    else:
        click.echo(f"call {call_id} was already closed")
