"""Commands for report-back meetups (``meetup …``): a thin layer over ``mailer.flows.meetup``.

Bad input raises ConfigError / NotFoundError, which the main group prints as one line.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import click

from mailer.capacity import added
from mailer.cli import capacity
from mailer.cli.now import NOW_HELP, parse_now
from mailer.flows.challenge import timing
from mailer.flows.meetup import actions
from mailer.flows.meetup import definition as meetup_def
from mailer.store import meetups as store


@click.group()
def meetup() -> None:
    """Report-back meetups: calendar invitations, updates, cancellations, RSVPs and attendance."""


@meetup.command("schedule")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Only validate the file and say what would happen.")
@click.option("--now", "now_text", help=NOW_HELP)
@capacity.over_limit_option
@click.pass_obj
def schedule(app, file: Path, check: bool, now_text: str | None, over_limit: bool) -> None:
    """Validate FILE.toml and schedule the meetup; invitations go out at the next tick."""
    now = parse_now(now_text)
    spec = meetup_def.load_definition(file)
    invitees, speakers = actions.check(app.db, spec, now)
    line = actions.describe(spec, invitees, speakers)
    warnings = capacity.check(app, now, added.meetup_schedule(spec, invitees, speakers, now), over_limit)
    if check:
        click.echo(f"{file}: valid")
        click.echo(line)
        capacity.echo(warnings)
        return
    meetup_id = actions.schedule_meetup(app.db, spec, now)
    click.echo(f"scheduled meetup {meetup_id}: {spec['title']}")
    click.echo(line)
    capacity.echo(warnings)


def _moment(text: str, zone: str) -> datetime:
    """``--start``: ISO 8601 with an offset (or Z), or a local time in the meetup's own zone."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: expected ISO 8601 like 2027-03-30T18:00 (local) or …Z") from exc
    return moment if moment.tzinfo else meetup_def.to_utc(moment, zone, "--start")


@meetup.command("move")
@click.argument("meetup_id", type=int)
@click.option("--start", "start_text", required=True,
              help="New start: ISO 8601, local to the meetup's time zone unless it has an offset or Z.")
@click.option("--duration", type=int, help="New length in minutes (default: unchanged).")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def move(app, meetup_id: int, start_text: str, duration: int | None, now_text: str | None) -> None:
    """Move a meetup: every invitee gets one update and is asked to answer again."""
    current = store.get_meetup(app.db, meetup_id)
    moved = actions.move_meetup(app.db, meetup_id, _moment(start_text, current["timezone"]), duration,
                                parse_now(now_text))
    if moved["sequence"] == current["sequence"]:
        click.echo(f"meetup {meetup_id} is already at that time; nothing sent")
        return
    click.echo(f"meetup {meetup_id} moved to {_local(moved)} (version {moved['sequence']}); "
               "updates go out at the next tick")


@meetup.command("cancel")
@click.argument("meetup_id", type=int)
@click.option("--reason", default="", help="One line shown in the cancellation.")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def cancel(app, meetup_id: int, reason: str, now_text: str | None) -> None:
    """Cancel a meetup: everyone invited gets a cancellation that removes it from their calendar."""
    actions.cancel_meetup(app.db, meetup_id, reason, parse_now(now_text))
    click.echo(f"meetup {meetup_id} cancelled; cancellations go out at the next tick")


@meetup.command("attended")
@click.argument("meetup_id", type=int)
@click.argument("emails", nargs=-1, required=True)
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def attended(app, meetup_id: int, emails: tuple[str, ...], now_text: str | None) -> None:
    """Record who came (an RSVP is not attendance); each is asked for one highlight to share."""
    found = actions.record_attendance(app.db, meetup_id, list(emails), parse_now(now_text))
    click.echo(f"recorded {len(found)} attendee{'s' if len(found) != 1 else ''} of meetup {meetup_id}")


def _local(meetup: dict) -> str:
    local = meetup["start"].astimezone(timing.zone(meetup["timezone"]))
    return f"{local:%Y-%m-%d %H:%M} {meetup['timezone']}"


@meetup.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(app, as_json: bool) -> None:
    """Every meetup with its time, state and answers so far."""
    rows = []
    for m in store.list_meetups(app.db):
        answers = [p["partstat"] for p in store.list_invitees(app.db, m["id"])]
        rows.append({"id": m["id"], "title": m["title"], "start": m["start"].isoformat(), "local": _local(m),
                     "state": m["state"], "version": m["sequence"], "invited": len(answers),
                     "accepted": answers.count("accepted"), "declined": answers.count("declined")})
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        click.echo(f"{r['id']:>3}  {r['state']:<9} {r['local']:<32} {r['accepted']}/{r['invited']} accepted  "
                   f"{r['title']}")
    if not rows:
        click.echo("(no meetups)")


def details(db, meetup_id: int) -> dict:
    """A meetup, each invitee's answer (and the version it answers), proposals and kept answers."""
    m = store.get_meetup(db, meetup_id)
    earlier = _earlier_answers(db, m)
    invitees = [{"email": p["email"], "name": p["name"], "timezone": p["timezone"], "speaker": p["speaker"],
                 "answer": p["partstat"], "answered_at": _iso(p["answered_at"]), "version": p["answered_version"],
                 "older_version": p["answered_version"] is not None and p["answered_version"] < m["sequence"],
                 "comment": p["comment"], "attended": p["attended"], "highlight": p["highlight"],
                 "earlier": earlier.get(p["person_id"])}
                for p in store.list_invitees(db, meetup_id)]
    return {"id": m["id"], "uid": m["uid"], "title": m["title"], "state": m["state"], "version": m["sequence"],
            "start": _iso(m["start"]), "end": _iso(m["end"]), "timezone": m["timezone"], "local_start": _local(m),
            "duration_minutes": m["duration_minutes"], "location": m["location"], "online_url": m["online_url"],
            "invite": m["invite_spec"], "sponsors": m["sponsors"], "cancel_reason": m["cancel_reason"],
            "invitees": invitees, "proposals": _kept(db, meetup_id, "counter"),
            "unattributed": _kept(db, meetup_id, "unattributed"), "late": _kept(db, meetup_id, "late"),
            "calendar_event": _native(db, meetup_id)}


def _earlier_answers(db, meetup: dict) -> dict[int, dict]:
    """Each invitee's last answer to an earlier time of the meetup (before a move): person id -> answer."""
    found: dict[int, dict] = {}
    for a in store.answers(db, meetup["id"], ("calendar", "text")):
        if a["person_id"] is not None and a["partstat"] and a["version"] < meetup["sequence"]:
            found[a["person_id"]] = {"answer": a["partstat"], "version": a["version"],
                                     "received_at": _iso(a["received_at"])}
    return found


def _native(db, meetup_id: int) -> dict | None:
    """The native calendar event (Exchange/Graph ``native_meetings``) mirroring it, if any."""
    row = store.native_event(db, meetup_id)
    if row is None:
        return None
    return {"transport": row["transport"], "state": row["state"], "event_id": row["event_id"],
            "version": row["sequence"], "answers_read_at": _iso(row["responses_at"]), "reason": row["reason"]}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def _kept(db, meetup_id: int, kind: str) -> list[dict]:
    return [{"from": a["address"], "answer": a["partstat"], "version": a["version"], "comment": a["comment"],
             "proposed_start": _iso(a["proposed_start"]), "received_at": _iso(a["received_at"])}
            for a in store.answers(db, meetup_id, (kind,))]


@meetup.command("show")
@click.argument("meetup_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(app, meetup_id: int, as_json: bool) -> None:
    """One meetup: when, where, and each invitee's answer with the version it answers."""
    data = details(app.db, meetup_id)
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(f"{data['id']}: {data['title']} ({data['state']}, version {data['version']})")
    click.echo(f"{data['local_start']}, {data['duration_minutes']} minutes"
               f"{', ' + data['location'] if data['location'] else ''}")
    event = data["calendar_event"]
    if event and event["state"] == "imip":
        click.echo(f"invitations by email: {event['reason']}")
    elif event:
        click.echo(f"{event['transport']} calendar event ({event['state']}); answers read "
                   f"{(event['answers_read_at'] or 'never')[:16]}")
    for p in data["invitees"]:
        version = "" if p["version"] is None else f" v{p['version']}" + (" (older time)" if p["older_version"] else "")
        came = "  came" if p["attended"] else ""
        click.echo(f"  {p['email']:<36} {p['answer']:<12}{(p['answered_at'] or '')[:16]:<17}{version}{came}")
        if p["earlier"] and p["earlier"]["version"] != p["version"]:
            click.echo(f"  {'':<36} {p['earlier']['answer']:<12}{p['earlier']['received_at'][:16]:<17}"
                       f"v{p['earlier']['version']} (answering the old time)")
    for p in data["proposals"]:
        click.echo(f"  proposal from {p['from']}: {p['proposed_start'] or '(no time)'} {p['comment']}".rstrip())
    for p in data["unattributed"]:
        click.echo(f"  kept (not an invitee): {p['from']} {p['answer'] or ''}".rstrip())
    for p in data["late"]:
        click.echo(f"  kept (answered after the cancellation): {p['from']} {p['answer'] or ''}".rstrip())
