"""``simulate``: a whole community on a simulated clock (the demo after the quick start)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mailer.app import App
from mailer.simulation import Report, simulate

COLUMNS = (("date", "day"), ("sent", "sent"), ("received", "received"), ("journaled", "journaled"),
           ("auto_replies", "auto-replies"), ("bounced", "bounced"), ("paused", "paused"),
           ("stopped", "stopped"))


@click.command("simulate")
@click.option("--members", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@click.option("--days", type=click.IntRange(1, 400), default=3, show_default=True)
@click.option("--reply-rate", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="How often a member answers a day's email (each member more or less diligent).")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same run.")
@click.option("--challenge", "challenge_file", type=click.Path(path_type=Path),
              help="A challenge file (default: the sample 30-day DevOps challenge).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def simulate_command(app: App, members: int, days: int, reply_rate: float, seed: int,
                     challenge_file: Path | None, as_json: bool) -> None:
    """Build a community of N members in a fresh home and run the real worker for D days."""
    hours = days * 24
    if as_json or not sys.stderr.isatty():
        report = simulate(app.home, members, days, reply_rate, seed, challenge_file)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"simulating {members} members", total=hours)
            report = simulate(app.home, members, days, reply_rate, seed, challenge_file,
                              lambda n: bar.advance(task, n))
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "totals": report.totals()}))
        return
    _print(report)


def _print(report: Report) -> None:
    click.echo(f"{report.members} members, {report.days} days, reply rate {report.reply_rate}, seed {report.seed}")
    click.echo("  ".join(f"{label:>12}" for _, label in COLUMNS))
    for day in report.per_day:
        click.echo("  ".join(f"{getattr(day, key)!s:>12}" for key, _ in COLUMNS))
    total = report.totals()
    click.echo(f"members wrote {total['replies_written']} replies (asked to pause {total['asked_pause']}, "
               f"to stop {total['asked_stop']}), {total['auto_replies']} automatic replies, "
               f"{total['bounces_sent']} bounces")
    click.echo("time: " + ", ".join(f"{k[:-2]} {v} s" for k, v in report.stages.items())
               + f"; peak memory {report.peak_rss_mb} MB")
