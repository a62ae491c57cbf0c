"""The command line: ``python run.py [--home H] COMMAND``. With no command it runs the worker.

Library errors (``MailerError``) become one plain line on stderr and exit code 2; output meant
for programs is JSON with ``--json``.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from mailer import outbox, pacing, private, worker
from mailer.capacity import today as capacity_today
from mailer.capacity import words as capacity_words
from mailer.app import App
from mailer.cli.now import NOW_HELP, parse_now
from mailer.config import commented_toml
from mailer.errors import MailerError
from mailer.store import db_error
from mailer.store import inbox as inbox_store
from mailer.store import outbox as outbox_store
from mailer.store import people as people_store
from mailer.store import planning as planning_store


class Main(click.Group):
    """A group that turns MailerError into a plain message and exit code 2."""

    def invoke(self, ctx: click.Context):
        # Whatever a command creates is owner-only, also files written by libraries; each place
        # that creates a file sets its mode too (private.py), for other entry points.
        umask = os.umask(0o077)
        try:
            return super().invoke(ctx)
        except sqlite3.Error as exc:  # the database failed under a command: locked, full, …
            home = ctx.obj.home if isinstance(ctx.obj, App) else Path("var")
            click.echo(f"error: {db_error(exc, home / 'mailer.db')}", err=True)
            ctx.exit(2)
        except MailerError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        finally:
            if isinstance(ctx.obj, App):
                ctx.obj.close()
            os.umask(umask)


@click.group(cls=Main, invoke_without_command=True)
@click.option("--home", type=click.Path(path_type=Path), envvar="MAILER_HOME", default=Path("var"),
              show_default=True, help="Folder holding mailer.toml, mailer.db and mail/ (or MAILER_HOME).")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens in detail.")
@click.pass_context
def main(ctx: click.Context, home: Path, verbose: bool) -> None:
    """cop-mailer: a community of practice's rituals by email.

    With no command, runs the worker on the home folder until Ctrl-C.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    ctx.obj = App(home)
    if ctx.invoked_subcommand is None:
        run_worker(ctx.obj)


def run_worker(app: App) -> None:
    """Run ticks until SIGINT/SIGTERM, printing a line when something happened."""
    app.hold_worker_lock()
    banner = f"cop-mailer worker on {app.home} ({app.settings.transport_kind}); Ctrl-C to stop"
    waiting: list[datetime | None] = [None]

    def report(result: worker.TickResult) -> None:
        _echo_tick(result, quiet=True)
        now = datetime.fromisoformat(result.now)
        if _idle(result):
            click.echo(f"{result.now[:19]}Z  nothing due; {_next_send_line(worker.next_send(app.db, now), now)}")
        later = outbox_store.next_attempt_after(app.db, now)
        if later and later != waiting[0]:
            click.echo(f"waiting until {later:%Y-%m-%d %H:%M} UTC for the next queued message")
        waiting[0] = later

    from mailer.cli.serve import BesideWorker

    web = BesideWorker(app)  # `[web] enabled`: the web pages in a thread of their own

    def started() -> None:  # once Ctrl-C is handled: a script may signal the worker as soon as it reads it
        web.start()
        click.echo(banner)

    try:
        worker.run_forever(app.db, app.transport, app.settings, report, started=started)
    finally:
        web.stop()
    click.echo("stopped")


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing mailer.toml.")
@click.pass_obj
def init(app: App, force: bool) -> None:
    """Write a commented mailer.toml in the home folder."""
    path = app.home / "mailer.toml"
    if path.exists() and not force:
        raise MailerError(f"{path} exists; use --force to overwrite it")
    private.make_dir(app.home)
    private.write_file(path, commented_toml())  # owner-only: a password may be added to it
    click.echo(f"wrote {path}")


@main.command()
@click.option("--now", "now_text", help=NOW_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_obj
def tick(app: App, now_text: str | None, as_json: bool) -> None:
    """One pass: read replies, queue what is due, send what the pace allows."""
    now = parse_now(now_text)
    app.hold_worker_lock()
    db = app.db
    due = outbox_store.due_count(db, now)
    with _progress(due, as_json) as advance:
        result = worker.tick(db, app.transport, now, app.settings, worker.worker_id(), progress=advance)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
    else:
        _echo_tick(result, quiet=False)
        _echo_waiting(app, now)


def _progress(total: int, quiet: bool):
    """A rich progress bar on a terminal for big flushes; a no-op otherwise."""
    from contextlib import contextmanager

    @contextmanager
    def bar():
        if quiet or total < 50 or not sys.stderr.isatty():
            yield lambda n: None
            return
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            task = progress.add_task("sending", total=total)
            yield lambda n: progress.advance(task, n)
    return bar()


def _next_send_line(found: tuple[datetime, str] | None, now: datetime) -> str:
    """"next send 08:00 Europe/Paris" (local time there; with the date beyond a day), or
    "nothing planned"."""
    if found is None:
        return "nothing planned"
    moment, tz = found
    local = moment.astimezone(ZoneInfo(tz))
    day = "" if moment - now < timedelta(days=1) else f"{local:%a} {local.day} {local:%b} "
    return f"next send {day}{local:%H:%M} {tz}"


def _idle(result: worker.TickResult) -> bool:
    return not (result.fetched or result.processed or result.ignored or result.quarantined or result.enqueued
                or result.sent or result.retried or result.dead or result.unknown or result.held_by_pace)


def _echo_tick(result: worker.TickResult, quiet: bool) -> None:
    parts = [f"{n} {label}" for n, label in (
        (result.fetched, "received"), (result.processed, "handled"), (result.ignored, "ignored"),
        (result.quarantined, "quarantined"), (result.enqueued, "queued"), (result.sent, "sent"),
        (result.retried, "to retry"), (result.dead, "dead"), (result.unknown, "uncertain"),
        (result.held_by_pace, "held by pace")) if n]
    if parts or not quiet:
        click.echo(f"{result.now[:19]}Z  " + (", ".join(parts) if parts else "nothing to do"))
    for note in result.notes[:10]:
        click.echo(f"  {note}")


def _echo_waiting(app: App, now: datetime) -> None:
    later = outbox_store.next_attempt_after(app.db, now)
    if later:
        click.echo(f"next message due at {later:%Y-%m-%d %H:%M} UTC")


@main.command()
@click.option("--now", "now_text", help="Evaluate as of this time (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status(app: App, now_text: str | None, as_json: bool) -> None:
    """What is queued, sent and received, and when the queue will be drained."""
    now, db, settings = parse_now(now_text), app.db, app.settings
    eta = outbox.drain_eta(db, now, settings)
    data = {"home": str(app.home), "transport": settings.transport_kind,
            "people": len(people_store.list_people(db)), "outbox": outbox_store.counts(db),
            "inbox": inbox_store.counts(db), "pace": dict(zip(("per_minute", "per_day"), settings.rate_limits),
                                                       per_second=settings.rate_per_second),
            "drained_by": eta.isoformat() if eta else None,
            "in_flight": outbox_store.in_flight(db), "planning_errors": planning_store.errors(db),
            "forecast": capacity_today(db, settings, now)}
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(f"home {data['home']} · transport {data['transport']} · {data['people']} people")
    click.echo("outbox: " + (", ".join(f"{n} {s}" for s, n in sorted(data["outbox"].items())) or "empty"))
    click.echo("inbox:  " + (", ".join(f"{n} {s}" for s, n in sorted(data["inbox"].items())) or "empty"))
    if eta:
        how = "at the configured pace" if pacing.pace_windows(settings) else "with no pace set, at the speed of recent sends"
        click.echo(f"queue drained by {eta:%Y-%m-%d %H:%M:%S} UTC {how}")
    for line in capacity_words.status_lines(data["forecast"]):
        click.echo(line)
    for lease in data["in_flight"]:
        click.echo(f"in flight: {lease['count']} held by worker {lease['owner']} until {lease['lease_ends'][:19]} UTC"
                   " (then checked against what was sent, and sent if it was not)")
    for err in data["planning_errors"]:
        click.echo(f"flow {err['flow']} could not plan since {err['first_at'][:16]}: {err['error']}")


def _register_subcommands() -> None:
    from mailer.cli.mail import explain, inbox, outbox_group, reply
    from mailer.cli.people import people_group

    for command in (outbox_group, inbox, people_group, reply, explain):
        main.add_command(command)
    from mailer.cli.call import call
    from mailer.cli.challenge import challenge, journal

    main.add_command(challenge)
    main.add_command(journal)
    from mailer.cli.charter import charter

    main.add_command(charter)
    from mailer.cli.check import check

    main.add_command(check)
    from mailer.cli.backup import backup, restore

    main.add_command(backup)
    main.add_command(restore)
    from mailer.cli.digest import digest

    main.add_command(digest)
    from mailer.cli.simulate import simulate_command

    main.add_command(simulate_command)
    main.add_command(call)
    from mailer.cli.meetup import meetup

    main.add_command(meetup)
    from mailer.cli.preview import preview

    main.add_command(preview)
    from mailer.cli.serve import serve

    main.add_command(serve)


_register_subcommands()
