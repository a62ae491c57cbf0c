"""Commands for project charters (``charter …``): submit, list, show, revise, withdraw, complete.

A thin layer over ``mailer.flows.charter``: bad input raises ConfigError / NotFoundError, which
the main group prints as one line. The emails follow at the next tick.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from mailer.capacity import added
from mailer.cli import capacity
from mailer.cli.now import NOW_HELP, parse_now
from mailer.flows.charter import definition as cdef
from mailer.flows.charter import lifecycle
from mailer.store import charters as store


@click.group()
def charter() -> None:
    """Project charters: submit one from a TOML file; approvers answer by reply."""


@charter.command("submit")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Only validate the file and show the charter.")
@click.option("--now", "now_text", help=NOW_HELP)
@capacity.over_limit_option
@click.pass_obj
def submit(app, file: Path, check: bool, now_text: str | None, over_limit: bool) -> None:
    """Validate FILE.toml and submit it; each approver gets a request at the next tick."""
    now = parse_now(now_text)
    definition = lifecycle.check(app.db, file, now)
    warnings = capacity.check(app, now, added.charter_submit(app.db, list(definition.approvers), definition.title,
                                                             now), over_limit)
    if check:
        spec = definition.as_spec()
        click.echo(f"{file}: valid")
        click.echo(f"{spec['title']}: {cdef.resourcing(spec)}; {len(spec['approvers'])} approvers, "
                   f"{cdef.rule_text(spec)}; decision due {spec['deadline']}")
        capacity.echo(warnings)
        return
    charter_id = lifecycle.submit(app.db, file, now)
    click.echo(f"submitted charter {charter_id}; the approval requests go out at the next tick")
    capacity.echo(warnings)


@charter.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(app, as_json: bool) -> None:
    """Every charter with its status and version."""
    rows = [{"id": c["id"], "title": c["title"], "status": c["status"], "version": c["version"],
             "deadline": c["spec"]["deadline"]} for c in store.list_charters(app.db)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['id']:>3}  {row['status']:<17} v{row['version']}  due {row['deadline']}  {row['title']}")
    if not rows:
        click.echo("(no charters)")


def details(db, charter_id: int) -> dict:
    """A charter as ``show --json`` prints it: status, version, spec, team, decisions (audit)."""
    c = store.get_charter(db, charter_id)
    decisions = [{"approver": d["approver"], "decision": d["decision"], "comment": d["comment"],
                  "at": d["at"].isoformat(), "version": d["version"], "held": d["held"],
                  "message_id": d["message_id"], "authentication": d["auth"]}
                 for d in store.decisions(db, charter_id)]
    return {"id": c["id"], "title": c["title"], "status": c["status"], "version": c["version"],
            "resourcing": cdef.resourcing(c["spec"]), "rule": cdef.rule_text(c["spec"]),
            "changes": [str(line) for line in cdef.said_changes(c)], "team": [m["email"] for m in store.members(db, charter_id)],
            "started_at": c["started_at"] and c["started_at"].isoformat(),
            "completed_at": c["completed_at"] and c["completed_at"].isoformat(),
            "call_id": c["call_id"], "meetup_id": c["meetup_id"], "spec": c["spec"], "decisions": decisions,
            "updates": len(store.updates(db, charter_id, shareable_only=False))}


@charter.command("show")
@click.argument("charter_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(app, charter_id: int, as_json: bool) -> None:
    """One charter: status, resourcing, team and every decision kept."""
    data = details(app.db, charter_id)
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(f"{data['id']}: {data['title']} ({data['status']}, version {data['version']})")
    click.echo(f"resourcing: {data['resourcing']}; {data['rule']}")
    click.echo(f"team: {', '.join(data['team']) or '-'}; {data['updates']} updates")
    for d in data["decisions"]:
        held = " (held: waiting for confirmation)" if d["held"] else ""
        comment = f': "{d["comment"]}"' if d["comment"] else ""
        click.echo(f"  v{d['version']} {d['at'][:16]} {d['approver']} {d['decision']}{held}{comment}")


@charter.command("remind")
@click.argument("charter_id", type=int)
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def remind(app, charter_id: int, now_text: str | None) -> None:
    """Remind the approvers who have not answered now, instead of in the reminder's morning."""
    queued = lifecycle.remind(app.db, charter_id, parse_now(now_text), app.settings)
    click.echo(f"charter {charter_id}: {queued} reminder{'s' if queued != 1 else ''} queued for the next tick"
               if queued else f"charter {charter_id}: no approver is waiting for a reminder")


@charter.command("revise")
@click.argument("charter_id", type=int)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def revise(app, charter_id: int, file: Path, now_text: str | None) -> None:
    """Make the next version from FILE.toml; the approvers are asked again."""
    version, changed = lifecycle.revise(app.db, charter_id, file, parse_now(now_text))
    click.echo(f"charter {charter_id} is now version {version}; what changed:")
    for line in changed:
        click.echo(f"  {line}")


@charter.command("withdraw")
@click.argument("charter_id", type=int)
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def withdraw(app, charter_id: int, now_text: str | None) -> None:
    """Withdraw an undecided charter."""
    lifecycle.withdraw(app.db, charter_id, parse_now(now_text))
    click.echo(f"charter {charter_id} withdrawn")


@charter.command("complete")
@click.argument("charter_id", type=int)
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def complete(app, charter_id: int, now_text: str | None) -> None:
    """End an approved project: the team is asked for its findings."""
    lifecycle.complete(app.db, charter_id, parse_now(now_text))
    click.echo(f"charter {charter_id} completed; the team is asked for its findings")
