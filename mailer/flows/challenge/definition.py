"""A challenge programme as a TOML file: loading, validation, and starting it.

Every key of a challenge file (unknown keys are errors, so a typo never passes silently)::

    title        text, required. The challenge's name, shown in every email
                 ("DevOps 30-day challenge"). This, description, and each day's title and
                 activity may instead be a table by language, { en = "…", de = "…" }: each
                 member reads their language, else the default (en, else the first given).
    domain       text, optional (""). The practice it belongs to ("DevOps").
    description  text, optional (""). A few sentences for the announcement email; Markdown allowed.
    start        date, required. The first day, as a TOML date (2027-01-04) or "2027-01-04".
                 Each participant's day 1 is this date in their own time zone.
    length       whole number 1-366, optional (30). How many days the challenge lasts.
    send_hour    optional (8). The local hour the day's email goes out, in each participant's
                 own time zone: a whole hour 0-23 (8) or "HH:MM" ("07:30").
    participants optional ("all"). "all" (every member in the people list when the challenge
                 is started: people with the role "member" or no role at all, so a sponsor-only
                 person is left out; bounced addresses too) or a list of email addresses of
                 known people. Every other member gets the announcement and can join by
                 replying "join" (until the last day).
    partners     true/false, optional (true). Pair participants as accountability partners,
                 time zones close together where possible, a trio when the count is odd.
    sponsors     list of email addresses, optional ([]). Who sponsors the challenge (for
                 sponsor digests); they need not be participants.
    [[days]]     one table per day, in order, each with:
                   title     text, required ("Map your pipeline")
                   activity  text, required: a few short paragraphs; Markdown allowed
                             (paragraphs, "- " bullet lists, **bold**, `code`, [links](https://…))
                   day       whole number, optional: the day's number, checked against its position
    days_folder  text, instead of [[days]]: a folder (relative to the TOML file) holding one
                 Markdown file per day, named with the day's number (01.md, day-02-….md); the
                 file's first line "# Title" is the day's title, the rest its activity.
    [report_back] optional table: a report-back meetup scheduled when the challenge starts, for
                 its participants: days_after_end (1), hour (17, or "HH:MM"), duration_minutes
                 (60), location (a room or a link), timezone (default: the one most participants
                 share). See mailer.flows.meetup.definition.

There must be exactly ``length`` days, numbered 1 to ``length`` without gaps. Every error names
the file and the problem.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from mailer.errors import ConfigError
from mailer.flows import toml_file
from mailer.flows.challenge import timing as ct
from mailer.flows.meetup.definition import ReportBack, parse_report_back, report_back_spec
from mailer.locale import LANGUAGES, SOURCE
from mailer.store import challenges as store
from mailer.store import people

KEYS = ("title", "domain", "description", "start", "length", "send_hour", "participants", "partners",
        "sponsors", "days", "days_folder", "report_back")
DAY_KEYS = ("title", "activity", "day")
EMAIL = toml_file.EMAIL


@dataclass(frozen=True)
class ChallengeDef:
    """A validated challenge file."""

    title: str
    domain: str
    description: str
    start: date
    length: int
    send: time
    participants: str | tuple[str, ...]  # "all" or addresses (lower-case)
    partners: bool
    sponsors: tuple[str, ...]
    days: tuple[tuple[str, str], ...]  # (title, activity) for day 1..length, in the default language
    source: str
    report_back: ReportBack | None = None
    translations: dict | None = None  # {"title": {"de": "…"}, "description": {…}} beyond the default
    day_translations: tuple[dict, ...] = ()  # per day: {"title": {…}, "activity": {…}}


@dataclass(frozen=True)
class Started:
    """What ``start_challenge`` did: the new challenge, who takes part, and a plain summary."""

    challenge_id: int
    definition: ChallengeDef
    participants: tuple[dict, ...]
    summary: str
    notes: tuple[str, ...] = ()  # odd but allowed: a sponsor who is not a person yet


def load_definition(path: Path) -> ChallengeDef:
    """Read and validate a challenge file (not its participants: that needs the database)."""
    raw = toml_file.read(path)
    return parse_definition(raw, path)


def parse_definition(raw: dict[str, Any], path: Path) -> ChallengeDef:
    """Validate the parsed TOML of a challenge file; ConfigError names the file and the problem."""
    toml_file.refuse_unknown(raw, KEYS, path)
    length = toml_file.whole(raw.get("length", 30), path, "length", 1, 366)
    raw, translated = _defaults(raw, ("title", "description"), path)
    days = _days(raw, path, length)
    day_translations: list[dict] = []
    if isinstance(raw.get("days"), list):
        for position, item in enumerate(raw["days"], start=1):
            day_translations.append(_defaults(item, ("title", "activity"), f"{path}: days[{position}]")[1]
                                    if isinstance(item, dict) else {})
    return ChallengeDef(
        title=toml_file.title(raw, "title", path), domain=toml_file.title(raw, "domain", path, required=False),
        translations=translated or None, day_translations=tuple(day_translations),
        description=toml_file.text(raw, "description", path), start=toml_file.day(raw.get("start"), path, "start", "2027-01-04"),
        length=length, send=toml_file.clock(raw.get("send_hour", 8), path, "send_hour"),
        participants=_participants(raw.get("participants", "all"), path),
        partners=toml_file.flag(raw.get("partners", True), path, "partners"),
        sponsors=_addresses(raw.get("sponsors", []), path, "sponsors"),
        days=days, source=str(path),
        report_back=parse_report_back(raw["report_back"], path) if "report_back" in raw else None)


def _defaults(raw: dict, keys: tuple[str, ...], where: Path | str) -> tuple[dict, dict]:
    """``raw`` with each of ``keys`` given by language ({ en = "…", de = "…" }) replaced by its
    default text (en, else the first given), and the other languages' texts by key."""
    plain, translated = dict(raw), {}
    for key in keys:
        value = raw.get(key)
        if not isinstance(value, dict):
            continue
        given = {}
        for tag, text in value.items():
            if tag not in LANGUAGES:
                raise ConfigError(f"{where}: {key}.{tag}: not a language we write; expected one of "
                                  f"{', '.join(LANGUAGES)}")
            check = toml_file.title if key == "title" else toml_file.text
            given[tag] = check({key: text}, key, f"{where}: {key}.{tag}", required=True)
        if not given:
            raise ConfigError(f"{where}: {key} = {{}}; expected text or a table by language (en = \"…\")")
        default = SOURCE if SOURCE in given else next(iter(given))
        plain[key] = given.pop(default)
        if given:
            translated[key] = given
    return plain, translated


def _participants(value: Any, path: Path) -> str | tuple[str, ...]:
    if value == "all":
        return "all"
    if isinstance(value, str):
        raise ConfigError(f"{path}: participants = {value!r}; expected \"all\" or a list of email "
                          "addresses (signing up through a volunteer call is not supported yet)")
    return _addresses(value, path, "participants")


def _addresses(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key} must be a list of email addresses, not {value!r}")
    found: list[str] = []
    for item in value:
        if not isinstance(item, str) or not EMAIL.match(item.strip()):
            raise ConfigError(f"{path}: {key}: {item!r} is not an email address")
        address = item.strip().lower()
        if address in found:
            raise ConfigError(f"{path}: {key}: {address} is listed twice")
        found.append(address)
    return tuple(found)


def _days(raw: dict, path: Path, length: int) -> tuple[tuple[str, str], ...]:
    if "days" in raw and "days_folder" in raw:
        raise ConfigError(f"{path}: give either [[days]] or days_folder, not both")
    if "days_folder" in raw:
        folder = raw["days_folder"]
        if not isinstance(folder, str):
            raise ConfigError(f"{path}: days_folder must be text (a folder name), not {folder!r}")
        numbered = _folder_days(path, path.parent / folder)
    elif isinstance(raw.get("days"), list):
        numbered = _inline_days(raw["days"], path)
    else:
        raise ConfigError(f"{path}: no days: add one [[days]] table per day (title, activity) or days_folder")
    return _check_numbering(numbered, path, length)


def _inline_days(items: list, path: Path) -> dict[int, tuple[str, str]]:
    numbered: dict[int, tuple[str, str]] = {}
    for position, item in enumerate(items, start=1):
        where = f"{path}: days[{position}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a table with title and activity")
        extra = sorted(set(item) - set(DAY_KEYS))
        if extra:
            raise ConfigError(f"{where}: unknown key {extra[0]!r}; expected title, activity, day")
        number = item.get("day", position)
        if number != position:
            raise ConfigError(f"{where} says day = {number!r} but is day {position} in order "
                              f"(is day {position} missing?)")
        item = _defaults(item, ("title", "activity"), where)[0]
        numbered[position] = (toml_file.title(item, "title", where), _day_text(item, "activity", where))
    return numbered


def _day_text(item: dict, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} is required (text)")
    return value.strip()


def _folder_days(path: Path, folder: Path) -> dict[int, tuple[str, str]]:
    if not folder.is_dir():
        raise ConfigError(f"{path}: days_folder {folder} is not a folder")
    numbered: dict[int, tuple[str, str]] = {}
    for md in sorted(folder.glob("*.md")):
        match = re.search(r"\d+", md.stem)
        if not match:
            raise ConfigError(f"{path}: {md.name} in days_folder has no day number in its name")
        number = int(match.group())
        if number in numbered:
            raise ConfigError(f"{path}: day {number} has two files in days_folder")
        numbered[number] = _markdown_day(path, md)
    return numbered


def _markdown_day(path: Path, md: Path) -> tuple[str, str]:
    try:
        lines = md.read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {md}: {exc}") from exc
    if not lines or not lines[0].startswith("# "):
        raise ConfigError(f"{path}: {md.name} must start with a \"# Title\" line")
    activity = "\n".join(lines[1:]).strip()
    if not activity:
        raise ConfigError(f"{path}: {md.name} has a title but no activity")
    return toml_file.title({"title": lines[0][2:]}, "title", f"{path}: {md.name}"), activity


def _check_numbering(numbered: dict[int, tuple[str, str]], path: Path,
                     length: int) -> tuple[tuple[str, str], ...]:
    for number in range(1, length + 1):
        if number not in numbered:
            raise ConfigError(f"{path}: day {number} is missing (length = {length}, "
                              f"{len(numbered)} days given)")
    extra = sorted(n for n in numbered if not 1 <= n <= length)
    if extra:
        raise ConfigError(f"{path}: day {extra[0]} is beyond length = {length}")
    return tuple(numbered[n] for n in range(1, length + 1))


def is_member(person: dict) -> bool:
    """Whether a person counts as a community member (a sponsor-only person does not)."""
    roles = {r for r in re.split(r"[,\s]+", person.get("roles") or "") if r}
    return not roles or "member" in roles


def resolve_participants(db: Database, definition: ChallengeDef) -> tuple[dict, ...]:
    """The people taking part; ConfigError for an unknown address or a bad time zone."""
    where = definition.source
    if definition.participants == "all":
        chosen = [p for p in people.list_people(db) if people.is_mailable(p) and is_member(p)]
    else:
        chosen = []
        for address in definition.participants:
            person = people.find_person(db, address)
            if person is None:
                raise ConfigError(f"{where}: participants: {address} is not a known person "
                                  "(add them with `people import` first)")
            chosen.append(person)
    for person in chosen:
        try:
            ct.zone(person["timezone"])
        except ValueError:
            raise ConfigError(f"{where}: participant {person['email']} has time zone "
                              f"{person['timezone']!r}, which is not an IANA time zone "
                              "(like Europe/London)") from None
    return tuple(chosen)


def check_start(db: Database, path: Path, now: datetime,
                start: date | None = None) -> tuple[ChallengeDef, tuple[dict, ...], list[str]]:
    """Every check ``start`` makes, changing nothing (``challenge start --check`` runs exactly
    this): the file and its participants, not already started, not already ended (each a
    ConfigError), and notes on what is odd but allowed (sponsors who are not people yet).
    ``start``: the first day instead of the file's (a new home's sample, see ``bootstrap.seed``)."""
    definition = load_definition(Path(path))
    if start is not None:
        definition = replace(definition, start=start)
    members = resolve_participants(db, definition)
    notes = [f"note: sponsor {address} is not a known person; they get no digest until added "
             "with `people import`" for address in definition.sponsors if people.find_person(db, address) is None]
    existing = store.find_challenge(db, definition.title, definition.start.isoformat())
    if existing:
        raise ConfigError(f"{path}: \"{definition.title}\" starting {definition.start} was already "
                          f"started as challenge {existing['id']}")
    _someone_to_send_to(db, definition, members)
    if members and all(ct.summary_open(now, p["timezone"], definition.start, definition.length,
                                       definition.send) for p in members):
        last = ct.day_date(definition.start, definition.length)
        raise ConfigError(f"{path}: this challenge ended on {last}; change start to run it again")
    if definition.report_back:
        _report_back_slot(db, definition, members, now)
    return definition, members, notes


def _someone_to_send_to(db: Database, definition: ChallengeDef, members: tuple[dict, ...]) -> None:
    """A challenge must reach someone: participants named (or "all") must include someone we
    can mail; with ``participants = []`` (people join by reply or through a call) some member
    must get the announcement."""
    if any(people.is_mailable(p) for p in members):
        return
    shown = f'"{definition.participants}"' if isinstance(definition.participants, str) \
        else str(list(definition.participants))
    if definition.participants:
        raise ConfigError(f"{definition.source}: participants = {shown} names nobody who can be sent "
                          "the challenge; add people with `people import` first")
    if not any(people.is_mailable(p) and is_member(p) for p in people.list_people(db)):
        raise ConfigError(f"{definition.source}: participants = [] and there is no member to announce "
                          "it to; add people with `people import` first")


def _report_back_slot(db: Database, definition: ChallengeDef, members: tuple[dict, ...], now: datetime) -> None:
    """The ``[report_back]`` meetup ``start`` schedules passes the meetup flow's rules on its
    time (ahead, not scheduled already): else the challenge would not start."""
    from mailer.flows.meetup.actions import check_slot

    check_slot(db, _report_back(definition, 0, members), now, f"{definition.source}: report_back")


def start_challenge(db: Database, path: Path, now: datetime, start: date | None = None) -> Started:
    """Validate a challenge file (``check_start``), store it and enrol its participants; the
    announcement and day emails then fall due on their own (``challenge.due``). ``start``:
    the first day instead of the file's."""
    definition, members, notes = check_start(db, path, now, start)
    with db.atomic():
        challenge_id = store.create_challenge(db, _fields(definition), definition.days, now,
                                              definition.day_translations)
        for person in members:
            store.add_participant(db, challenge_id, person["id"], now, from_start=True)
        if definition.report_back:
            _schedule_report_back(db, definition, challenge_id, members, now)
    return Started(challenge_id, definition, members, describe_start(definition, members, now), tuple(notes))


def _schedule_report_back(db: Database, definition: ChallengeDef, challenge_id: int,
                          members: tuple[dict, ...], now: datetime) -> int:
    """The ``[report_back]`` meetup, inviting the challenge's participants (latecomers too)."""
    from mailer.flows.meetup import schedule_meetup

    return schedule_meetup(db, _report_back(definition, challenge_id, members), now)


def _report_back(definition: ChallengeDef, challenge_id: int, members: tuple[dict, ...]) -> dict[str, Any]:
    return report_back_spec(definition.report_back, definition.title,  # type: ignore[arg-type]
                            ct.day_date(definition.start, definition.length), [p["timezone"] for p in members],
                            f"challenge:{challenge_id}", definition.sponsors, definition.source)


def _fields(definition: ChallengeDef) -> dict[str, Any]:
    return {"title": definition.title, "domain": definition.domain, "description": definition.description,
            "start": definition.start.isoformat(), "length": definition.length,
            "send_hour": definition.send.hour, "send_minute": definition.send.minute,
            "partners": definition.partners, "participants_spec": definition.participants
            if isinstance(definition.participants, str) else list(definition.participants),
            "sponsors": list(definition.sponsors), "source": definition.source,
            "translations": definition.translations}


def describe_start(definition: ChallengeDef, members: tuple[dict, ...], now: datetime) -> str:
    """What will happen, in one plain line: who, when day 1 goes out, and the first send."""
    first_day = ct.day_date(definition.start, 1)
    line = (f"{len(members)} participant{'s' if len(members) != 1 else ''}, day 1 goes out on "
            f"{ct.short_date(first_day)} at {definition.send:%H:%M} local")
    if members:
        firsts = sorted((ct.opens_at(definition.start, 1, definition.send, p["timezone"]), p["timezone"])
                        for p in members)
        moment, tz = firsts[0]
        line += f", first send {moment:%H:%M} UTC {moment:%a} for {ct.city(tz)}"
        if moment < now:
            line += " (already past: latecomers start with the current day)"
    if definition.report_back:
        spec = _report_back(definition, 0, members)
        local = spec["start"].astimezone(ct.zone(spec["timezone"]))
        line += f"; report-back meetup {ct.short_date(local.date())} {local:%H:%M} {spec['timezone']}"
    return line
