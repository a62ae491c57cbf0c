"""Commands for 30-day challenges (``challenge …``) and journals (``journal export``).

A thin layer over ``mailer.flows.challenge`` and the store:
bad input raises ConfigError / NotFoundError, which the main group prints as one line.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click

from mailer import private
from mailer.capacity import added
from mailer.cli import capacity
from mailer.cli.now import NOW_HELP, parse_now
from mailer.cli.output import counted
from mailer.errors import NotFoundError
from mailer.flows.challenge import flow
from mailer.flows.challenge import definition as challenge_def
from mailer.flows.challenge import pairing
from mailer.flows.challenge import journal as journals
from mailer.flows.challenge import journal_page
from mailer.flows.challenge import programmes
from mailer.store import challenges as store
from mailer.store import files
from mailer.store import people


def phase(challenge: dict, now: datetime) -> str:
    """Where a challenge stands: removed, paused, upcoming, day N (UTC), or finished."""
    if challenge["state"] != "active":
        return challenge["state"]
    day = (now.date() - date.fromisoformat(challenge["start"])).days + 1
    if day < 1:
        return "upcoming"
    return f"day {day}" if day <= challenge["length"] else "finished"


@click.group()
def challenge() -> None:
    """30-day challenges: start one from a TOML file, then watch and steer it."""


@challenge.command("start")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Only validate the file and say what would happen.")
@click.option("--now", "now_text", help=NOW_HELP)
@capacity.over_limit_option
@click.pass_obj
def start(app, file: Path, check: bool, now_text: str | None, over_limit: bool) -> None:
    """Validate FILE.toml, store the challenge and enrol its participants."""
    now = parse_now(now_text)
    definition, members, notes = challenge_def.check_start(app.db, file, now)
    warnings = capacity.check(app, now, added.challenge_start(app.db, definition, members, now), over_limit)
    if check:
        click.echo(f"{file}: valid ({counted(definition.length, 'day')})")
        click.echo("\n".join([challenge_def.describe_start(definition, members, now), *notes]))
        capacity.echo(warnings)
        return
    started = challenge_def.start_challenge(app.db, file, now)
    click.echo(f"started challenge {started.challenge_id}: {started.definition.title}")
    click.echo("\n".join([started.summary, *started.notes]))
    click.echo("the announcement goes out at the next tick")
    capacity.echo(warnings)


@challenge.command("new")
@click.option("--from", "name", required=True, metavar="NAME",
              help="The programme to start from (see `challenge list-programmes`).")
@click.option("--start", "start_text", metavar="DATE", help="Its first day (default: next Monday).")
@click.option("--now", "now_text", help=NOW_HELP)
@click.argument("file", type=click.Path(path_type=Path))
def new(name: str, start_text: str | None, now_text: str | None, file: Path) -> None:
    """Write a new challenge FILE.toml from a programme of the library, to edit (never over a file)."""
    try:
        start = date.fromisoformat(start_text) if start_text else programmes.next_monday(parse_now(now_text).date())
    except ValueError:
        raise click.BadParameter(f"{start_text!r} is not a date like 2027-03-01", param_hint="--start") from None
    programmes.copy(name, file, start)
    click.echo(f"wrote {file} from the programme {name.removesuffix('.toml')}, starting {start:%a} {start.isoformat()}")
    click.echo(f"edit its participants and sponsors, then check it: run.py challenge start {file} --check")


@challenge.command("list-programmes")
def list_programmes() -> None:
    """The ready-made programmes to start a challenge from, a line each."""
    for p in programmes.programmes():
        click.echo(f"{p.name:<22} {counted(p.length, 'day'):>8}  {p.title}: {p.summary}")
    click.echo("copy one with: run.py challenge new --from NAME my-challenge.toml")


@challenge.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include removed challenges.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def list_(app, show_all: bool, as_json: bool, now_text: str | None) -> None:
    """Every challenge with its state and number of participants."""
    now = parse_now(now_text)
    rows = [{"id": c["id"], "title": c["title"], "start": c["start"], "length": c["length"],
             "phase": phase(c, now), "participants": len(store.list_participants(app.db, c["id"]))}
            for c in store.list_challenges(app.db, include_removed=show_all)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['id']:>3}  {row['phase']:<9} {row['start']}  {counted(row['length'], 'day')}  "
                   f"{counted(row['participants'], 'participant')}  {row['title']}")
    if not rows:
        click.echo("(no challenges)")


def details(db, challenge_id: int, now: datetime) -> dict:
    """A challenge as ``show --json`` prints it: settings, and each participant's status,
    days journaled and partners (counts only, never entries)."""
    c = store.get_challenge(db, challenge_id)
    journaled = store.journaled_days(db, challenge_id)
    partners = pairing.partner_index(store.current_groups(db, challenge_id))
    emails = {p["person_id"]: p["email"] for p in store.list_participants(db, challenge_id)}
    participants = [
        {"email": p["email"], "name": p["name"], "timezone": p["timezone"], "status": p["status"],
         "bounced": p["person_status"] == "bounced", "days_journaled": len(journaled.get(p["person_id"], ())),
         "partners": [emails[i] for i in partners.get(p["person_id"], []) if i in emails]}
        for p in store.list_participants(db, challenge_id)]
    return {"id": c["id"], "title": c["title"], "domain": c["domain"], "start": c["start"],
            "length": c["length"], "send_time": f"{c['send_hour']:02d}:{c['send_minute']:02d}",
            "state": c["state"], "phase": phase(c, now), "partners": c["partners"],
            "sponsors": c["sponsors"], "source": c["source"], "participants": participants}


@challenge.command("show")
@click.argument("challenge_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def show(app, challenge_id: int, as_json: bool, now_text: str | None) -> None:
    """One challenge: its settings and each participant's status (counts only, never entries)."""
    data = details(app.db, challenge_id, parse_now(now_text))
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(f"{data['id']}: {data['title']} ({data['phase']})")
    click.echo(f"starts {data['start']}, {counted(data['length'], 'day')}, at {data['send_time']} local"
               f"{', with partners' if data['partners'] else ''}")
    for p in data["participants"]:
        status = "bounced" if p["bounced"] else p["status"]
        partners = ", ".join(p["partners"]) or "-"
        click.echo(f"  {p['email']:<36} {status:<8} {p['timezone']:<20} "
                   f"{counted(p['days_journaled'], 'day'):>7} journaled  partner: {partners}")


def _participant(db, challenge_id: int, email: str) -> dict:
    person = people.find_person(db, email)
    if person is None:
        raise NotFoundError(f"no person with address {email}")
    if store.get_participant(db, challenge_id, person["id"]) is None:
        raise NotFoundError(f"{email} does not take part in challenge {challenge_id}")
    return person


def _steer(app, challenge_id: int, email: str | None, now_text: str | None,
           challenge_state: str, person_status: str) -> None:
    store.get_challenge(app.db, challenge_id)
    if email:
        person = _participant(app.db, challenge_id, email)
        flow.set_participant_status(app.db, challenge_id, person["id"], person_status, parse_now(now_text))
        click.echo(f"{person['email']} is now {person_status} in challenge {challenge_id}")
        return
    store.set_challenge_state(app.db, challenge_id, challenge_state)
    click.echo(f"challenge {challenge_id} is now {challenge_state}")


PERSON_HELP = "Only this participant (by email), not the whole challenge."


@challenge.command("pause")
@click.argument("challenge_id", type=int)
@click.option("--person", "email", help=PERSON_HELP)
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def pause(app, challenge_id: int, email: str | None, now_text: str | None) -> None:
    """Stop sending day emails (to everyone, or one --person) until resumed."""
    _steer(app, challenge_id, email, now_text, "paused", "paused")


@challenge.command("resume")
@click.argument("challenge_id", type=int)
@click.option("--person", "email", help=PERSON_HELP)
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def resume(app, challenge_id: int, email: str | None, now_text: str | None) -> None:
    """Send day emails again, continuing with the current day."""
    _steer(app, challenge_id, email, now_text, "active", "active")


@challenge.command("remove")
@click.argument("challenge_id", type=int)
@click.option("--person", "email", help="Only take this participant out (they stop, as if they replied stop).")
@click.option("--now", "now_text", help=NOW_HELP)
@click.pass_obj
def remove(app, challenge_id: int, email: str | None, now_text: str | None) -> None:
    """End a challenge for good: no more emails. Journals are kept (they belong to their authors)."""
    _steer(app, challenge_id, email, now_text, "removed", "stopped")


@click.group("journal")
def journal() -> None:
    """Journals: what a participant wrote, for them."""


@journal.command("export")
@click.argument("email")
@click.option("--challenge", "challenge_id", type=int, help="Only this challenge.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True,
              help="md: Markdown (files beside it with --out); html: one page with the photos in it; json: data.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Write into this folder (journal.md and files/, or journal.html, or journal.json).")
@click.pass_obj
def export(app, email: str, challenge_id: int | None, fmt: str, out_dir: Path | None) -> None:
    """A person's journal (every challenge, or one) with its photos and files."""
    person = people.find_person(app.db, email)
    if person is None:
        raise NotFoundError(f"no person with address {email}")
    ids = [challenge_id] if challenge_id is not None else store.challenges_of(app.db, person["id"])
    if not ids:
        raise NotFoundError(f"{person['email']} has no journal yet")
    documents = [_journal_of(app.db, cid, person) for cid in ids]
    if fmt == "json":
        data = [journals.journal_json(c, person, rows) for c, rows in documents]
        _emit(journals.dumps(data if challenge_id is None else data[0]), out_dir, "journal.json")
    elif fmt == "html":
        _emit("\n".join(journal_page.page(c, person["name"], rows) for c, rows in documents), out_dir, "journal.html")
    else:
        _emit("\n".join(journals.journal_markdown(c, person["name"], rows) for c, rows in documents),
              out_dir, "journal.md")
        _write_files([row for _, rows in documents for row in rows], out_dir)


def _emit(text: str, out_dir: Path | None, name: str) -> None:
    if out_dir is None:
        click.echo(text)
        return
    private.make_dir(out_dir)  # a journal is its author's: owner-only, like everything we write
    private.write_file(out_dir / name, text)
    click.echo(f"wrote {out_dir / name}")


def _write_files(rows: list[dict], out_dir: Path | None) -> None:
    """The files beside the Markdown, where its links point (byte for byte as they came)."""
    kept = [f for row in rows for f in row["files"] if f["kept"]]
    if out_dir is None:
        if kept:
            click.echo(f"({len(kept)} files not written: use --out DIR to write them beside the Markdown)", err=True)
        return
    for item in kept:
        path = out_dir / journals.file_path(item)
        private.make_dir(path.parent)
        private.write_file(path, item["data"])
    if kept:
        click.echo(f"wrote {len(kept)} files in {out_dir / 'files'}")


def _journal_of(db, challenge_id: int, person: dict):
    c = store.get_challenge(db, challenge_id)
    titles = {d["day"]: d["title"] for d in store.challenge_days(db, challenge_id)}
    entries = store.entries(db, person["id"], challenge_id)
    attached = files.files_of(db, "journal", [e["id"] for e in entries], with_data=True)
    return c, journals.journal_rows(c, titles, entries, attached)

