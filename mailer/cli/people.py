"""Commands for people: import a CSV, list, alias a second address, deactivate and activate,
erase (the right to be forgotten) and list the erasure records."""
from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import click
from rich.console import Console
from rich.progress import Progress

from mailer import erasure, membership
from mailer.app import App
from mailer.bootstrap import import_people
from mailer.cli.now import NOW_HELP, parse_now
from mailer.cli.output import rows as _rows
from mailer.errors import NotFoundError
from mailer.store import people


@click.group("people")
def people_group() -> None:
    """Members, leads, approvers and sponsors."""


@people_group.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option("--ignore-columns", is_flag=True, help="Import the known columns; leave out the others.")
@click.pass_context
def people_import(ctx: click.Context, csv_file: Path, dry_run: bool, ignore_columns: bool) -> None:
    """Add or update people from CSV (email,name,timezone[,roles][,language]), read by its header.

    Bad rows are named by line and left out; exits 1 when any row was rejected. A file that
    names the same address twice, or a column we do not know, is refused whole.
    """
    app: App = ctx.obj
    with _progress() as advance:
        report = import_people(app.db, csv_file, dry_run=dry_run, progress=advance,
                               ignore_columns=ignore_columns)
    if report.ignored:
        click.echo(f"{csv_file}: ignored column(s): {', '.join(report.ignored)}", err=True)
    for error in report.rejected:
        click.echo(error, err=True)
    counts = (f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
              f"{len(report.rejected)} rejected")
    if dry_run:
        click.echo(f"dry run, nothing written; would be: {counts}")
    elif not report.written:
        click.echo(f"nothing written: the file names an address twice; {len(report.rejected)} rejected")
    else:
        click.echo(counts)
    if report.rejected:
        ctx.exit(1)


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on a terminal (nothing when output goes to a file or a program)."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("importing people", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@people_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def people_list(app: App, as_json: bool) -> None:
    """Everyone, with time zone, roles, language and status."""
    held = people.held_counts(app.db)
    found = [{**p, "held": held.get(p["id"], 0)} for p in people.list_people(app.db) if p["status"] != "erased"]
    _rows(found, as_json, ("email", "name", "timezone", "roles", "language", "status", "held"))


@people_group.command("deactivate")
@click.argument("email")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def people_deactivate(app: App, email: str, now_text: str | None) -> None:
    """No more mail of any kind to EMAIL from the next tick; their history stays."""
    person, held = membership.deactivate(app.db, email, parse_now(now_text))
    click.echo(f"{person['email']} deactivated: no more mail from the next tick"
               + (f"; {held} queued email(s) held back" if held else ""))


@people_group.command("activate")
@click.argument("email")
@click.pass_obj
def people_activate(app: App, email: str) -> None:
    """Undo ``deactivate``: EMAIL gets mail again from the next tick."""
    person = membership.activate(app.db, email)
    click.echo(f"{person['email']} is active again")


@people_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Erase without asking (needed when not at a terminal).")
@click.option("--by", "by", help="Who asked for it, kept in the erasure record (default: the OS user).")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def people_erase(app: App, email: str, yes: bool, by: str | None, now_text: str | None) -> None:
    """Forget EMAIL: what they wrote and were sent goes, counts stay (as "a former member").

    Without --yes it shows what would be deleted and asks; not at a terminal it refuses.
    """
    now, who = parse_now(now_text), by or _os_user()
    if not yes:
        preview = erasure.erase(app.db, app.settings.mail_dir, app.home, email, now, who, confirmed=False)
        click.echo(f"would delete or make anonymous, for {email.lower()}: {_counted(preview.counts)}")
        if not sys.stdin.isatty():
            raise click.ClickException("not erased: run again with --yes to confirm")
        click.confirm("Erase this person? This cannot be undone", abort=True)
    done = erasure.erase(app.db, app.settings.mail_dir, app.home, email, now, who, confirmed=True)
    click.echo(f"erased (record {done.record_id}, by {who}): {_counted(done.counts)}")
    if not done.wal_emptied:
        click.echo("another process was reading the database: its write-ahead log (mailer.db-wal) keeps "
                   "the old pages until the worker's next checkpoint", err=True)
    for path in done.still_named:
        click.echo(f"still named in {path} (not ours to change: edit or delete it)", err=True)


@people_group.command("erasures")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def people_erasures(app: App, as_json: bool) -> None:
    """Every erasure: when, by whom and how many rows per table (never whose)."""
    records = people.erasures(app.db)
    shown = records if as_json else [{**e, "rows": _counted(e["counts"])} for e in records]
    _rows(shown, as_json, ("id", "at", "by", "rows"))


def _os_user() -> str:
    """Who runs the command, for the erasure record ("unknown" where the system cannot say)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _counted(counts: dict[str, int]) -> str:
    shown = [f"{table} {n}" for table, n in sorted(counts.items()) if n]
    return ", ".join(shown) or "nothing"


@people_group.command("alias")
@click.argument("email")
@click.argument("alias")
@click.pass_obj
def people_alias(app: App, email: str, alias: str) -> None:
    """Accept replies from ALIAS as coming from EMAIL (a second address of the same person)."""
    person = people.find_person(app.db, email)
    if person is None:
        raise NotFoundError(f"no person with address {email}")
    people.add_alias(app.db, person["id"], alias)
    click.echo(f"replies from {alias.lower()} now count as {person['email']}")
