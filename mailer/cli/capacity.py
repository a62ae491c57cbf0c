"""What the sending commands share about capacity: the ``--over-limit`` option and its warnings."""
from __future__ import annotations

from datetime import datetime

import click

from mailer import capacity

over_limit_option = click.option(
    "--over-limit", is_flag=True,
    help="Go ahead even when a day's emails exceed the pace's day limit (they will be late; docs/capacity.md).")


def check(app, now: datetime, waves: list[capacity.Wave], over_limit: bool) -> list[str]:
    """The capacity warnings for ``waves`` (OverLimitError, printed by the main group, when over
    the day limit without ``--over-limit``)."""
    return capacity.check(app.db, app.settings, now, waves, over_limit)


def echo(lines: list[str]) -> None:
    """Print the warnings, if any."""
    for line in lines:
        click.echo(line)
