"""``run.py backup DEST`` and ``run.py restore SRC``: a consistent, owner-only copy of a home.

A backup is a folder holding ``mailer.db`` (a snapshot taken through SQLite while the worker
may be running) and a copy of ``mailer.toml``. The Maildir transport's ``mail/`` is not in it:
with a real mail server the mail lives there, and the database keeps every reply it read.
"""
from __future__ import annotations

from pathlib import Path

import click

from mailer import private
from mailer.app import App
from mailer.errors import MailerError
from mailer.store.backup import copy_database

DB, CONFIG = "mailer.db", "mailer.toml"


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_obj
def backup(app: App, dest: Path) -> None:
    """Copy the home's database and mailer.toml into the new folder DEST (owner-only), while
    the worker runs."""
    if not (app.home / DB).is_file():
        raise MailerError(f"no database at {app.home / DB}: nothing to back up")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise MailerError(f"{dest} exists and is not an empty folder; back up into a new one")
    private.make_dir(dest)
    copy_database(app.home / DB, dest / DB)
    click.echo(f"wrote {dest / DB}")
    if (app.home / CONFIG).is_file():
        private.write_file(dest / CONFIG, _read(app.home / CONFIG))
        click.echo(f"wrote {dest / CONFIG}")


@click.command("restore")
@click.argument("src", type=click.Path(path_type=Path))
@click.pass_obj
def restore(app: App, src: Path) -> None:
    """Make the home a copy of the backup folder SRC; refused while a worker runs on the home
    or when the home already has a database."""
    if not (src / DB).is_file():
        raise MailerError(f"{src} holds no {DB}; name a folder written by `run.py backup`")
    app.hold_worker_lock()  # no worker may start on the home while it is being restored
    if (app.home / DB).exists():
        raise MailerError(f"{app.home} already has {DB}; restore into a new home, or move this one "
                          f"aside first (mv {app.home} {app.home}.old)")
    copy_database(src / DB, app.home / DB)
    click.echo(f"restored {app.home / DB} from {src / DB}")
    if (src / CONFIG).is_file() and not (app.home / CONFIG).exists():
        private.write_file(app.home / CONFIG, _read(src / CONFIG))
        click.echo(f"restored {app.home / CONFIG}")
    elif (src / CONFIG).is_file():
        click.echo(f"kept {app.home / CONFIG} (the backup's copy is in {src / CONFIG})")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MailerError(f"cannot read {path}: {exc.strerror}") from exc
