"""Commands for people: import a CSV, list, alias a second address."""
from __future__ import annotations

from pathlib import Path

import click

from mailer.app import App
from mailer.bootstrap import import_people
from mailer.cli.output import rows as _rows
from mailer.errors import NotFoundError
from mailer.store import people


@click.group("people")
def people_group() -> None:
    """Members, leads, approvers and sponsors."""


@people_group.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.pass_obj
def people_import(app: App, csv_file: Path) -> None:
    """Add or update people from CSV (email,name,timezone[,roles]); bad rows are reported."""
    kept, errors = import_people(app.db, csv_file)
    for error in errors:
        click.echo(error, err=True)
    click.echo(f"{kept} people imported, {len(errors)} rows rejected")


@people_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def people_list(app: App, as_json: bool) -> None:
    """Everyone, with time zone, roles and status."""
    _rows(people.list_people(app.db), as_json, ("email", "name", "timezone", "roles", "status"))


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
