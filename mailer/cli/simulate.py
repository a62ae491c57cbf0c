"""``simulate``: a whole community on a simulated clock (the demo after the quick start)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mailer.app import App
from mailer.simulation import Report, simulate
from mailer.simulation.projects import ProjectDay

COLUMNS = (("date", "day"), ("sent", "sent"), ("received", "received"), ("journaled", "journaled"),
           ("auto_replies", "auto-replies"), ("bounced", "bounced"), ("paused", "paused"),
           ("stopped", "stopped"))
# the charter, its call and the meetup: (heading, width, what members meant / what the store holds)
PROJECT_COLUMNS = (("approvals sent/kept", 19, ("approvals_sent", "approvals_recorded")), ("charter", 9, ("charter",)),
                   ("volunteered/joined/waiting", 26, ("volunteered", "joined_team", "waitlisted")),
                   ("in a meeting", 12, ("busy_replies",)),
                   ("rsvps sent → yes/no/maybe", 25, ("rsvps_sent", "accepted", "declined", "tentative")))


@click.command("simulate")
@click.option("--members", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@click.option("--days", type=click.IntRange(1, 400), default=3, show_default=True)
@click.option("--reply-rate", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="How often a member answers a day's email (each member more or less diligent).")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same run.")
@click.option("--challenge", "challenge_file", type=click.Path(path_type=Path),
              help="A challenge file (default: the sample 30-day DevOps challenge).")
@click.option("--challenge-only", is_flag=True,
              help="Only the challenge: no charter, volunteer call or meetup beside it.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def simulate_command(app: App, members: int, days: int, reply_rate: float, seed: int,
                     challenge_file: Path | None, challenge_only: bool, as_json: bool) -> None:
    """Build a community of N members in a fresh home and run the real worker for D days."""
    hours = days * 24
    if as_json or not sys.stderr.isatty():
        report = simulate(app.home, members, days, reply_rate, seed, challenge_file, projects=not challenge_only)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"simulating {members} members", total=hours)
            report = simulate(app.home, members, days, reply_rate, seed, challenge_file,
                              lambda n: bar.advance(task, n), projects=not challenge_only)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "totals": report.totals()}))
        return
    _print(report)


def _print(report: Report) -> None:
    click.echo(f"{report.members} members, {report.days} days, reply rate {report.reply_rate}, seed {report.seed}")
    click.echo("  ".join(f"{label:>12}" for _, label in COLUMNS))
    for day in report.per_day:
        click.echo("  ".join(f"{getattr(day, key)!s:>12}" for key, _ in COLUMNS))
    _print_outcomes(report)
    total = report.totals()
    click.echo(f"members wrote {total['replies_written']} replies (asked to pause {total['asked_pause']}, "
               f"to stop {total['asked_stop']}), {total['auto_replies']} automatic replies, "
               f"{total['bounces_sent']} bounces")
    if report.projects:
        _print_projects(report)
    click.echo("time: " + ", ".join(f"{k[:-2]} {v} s" for k, v in report.stages.items())
               + f"; peak memory {report.peak_rss_mb} MB")
    _print_days(report)


def _print_days(report: Report) -> None:
    """Per day: wall seconds per stage, the peak memory so far, and the stages that raised it."""
    for day in report.per_day:
        rises = ", ".join(f"{stage} +{mb} MB" for stage, mb in day.peak_rise_mb.items() if mb >= 1)
        click.echo(f"{day.date:>12}  " + ", ".join(f"{k[:-2]} {v} s" for k, v in day.stages.items())
                   + f"; peak memory {day.peak_rss_mb} MB" + (f" (raised by {rises})" if rises else ""))


def _print_outcomes(report: Report) -> None:
    """Per day, what the messages received ended in, and how many ended in none (a bug)."""
    click.echo("what each message received ended in (change / answer / kept for the lead):")
    for day in report.per_day:
        got = day.outcomes
        click.echo(f"{day.date:>12}  {got.get('change', 0)} change, {got.get('answer', 0)} answer, "
                   f"{got.get('kept', 0)} kept; {got.get('none', 0)} without an outcome")


def _print_projects(report: Report) -> None:
    """The charter, its volunteer call and the meetup: what members meant beside what was done."""
    click.echo("by the end of each day, what members had sent / what the store held:")
    click.echo(f"{'day':>12}  " + "  ".join(f"{head:>{width}}" for head, width, _ in PROJECT_COLUMNS))
    for n, day in enumerate(report.per_day, start=1):
        so_far = ProjectDay.totals([d.projects for d in report.per_day[:n]])
        cells = ["/".join(str(so_far[k]) for k in keys) for _, _, keys in PROJECT_COLUMNS]
        cells[-1] = cells[-1].replace("/", " → ", 1)  # rsvps sent → accepted/declined/tentative
        click.echo(f"{day.date:>12}  " + "  ".join(f"{c:>{w}}" for c, (_, w, _) in zip(cells, PROJECT_COLUMNS)))
    p = report.totals()["projects"]
    click.echo(f"approvers were asked back {p['asked_again']} times ({p['approvals_missed']} to a reply that "
               f"meant approved); {p['rsvps_by_calendar']} of {p['rsvps_sent']} RSVPs came from a calendar")
    wrong = {"decisions": p["wrong_approvals"], "sign-ups": p["wrong_signups"], "RSVPs": p["wrong_rsvps"]}
    click.echo("wrong actions: " + (", ".join(f"{n} {what} nobody meant" for what, n in wrong.items() if n)
                                    or "none (no decision, sign-up or RSVP that a member did not mean)"))
