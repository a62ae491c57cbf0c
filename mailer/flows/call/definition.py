"""A volunteer call as a TOML file (or a spec dict from another flow): validation and opening.

Every key of a call file (unknown keys are errors, so a typo never passes silently)::

    title        text, required. What the call is for ("Playbook writers").
    description  text, optional (""). A few sentences for the call email; Markdown allowed.
    to           optional ("all"). Who gets the call: "all" members (people with the role
                 "member" or no role), a people role such as "approver", or a list of email
                 addresses of known people.
    closes       date, required (2027-01-20 or "2027-01-20"): the last day to volunteer, in
                 each recipient's own time zone. At closing the sender gets the list.
    feeds        text, optional (""): "charter:ID" (its team), "challenge:ID" (its
                 participants) or "meetup:ID" (its speakers). Confirmed volunteers are added.
    sender       email address, optional: who gets the list at closing; default [mailer] lead.
    [[roles]]    optional, one table per role, each with:
                   name         text, required, unique in the call ("writer")
                   places       whole number >= 1, optional: omit for unlimited
                   description  text, optional ("Drafts two chapters")
                 Without [[roles]] a call has one unnamed role with unlimited places.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from mailer.errors import ConfigError
from mailer.flows import toml_file
from mailer.flows.call import feeds
from mailer.flows.call.places import UNNAMED
from mailer.store import calls as store
from mailer.store import people

KEYS = ("title", "description", "to", "closes", "feeds", "sender", "roles")
ROLE_KEYS = ("name", "places", "description")
EMAIL = toml_file.EMAIL
ROLE_NAME = re.compile(r"^[a-z][\w -]{0,40}$", re.IGNORECASE)


def load_spec(path: Path) -> dict[str, Any]:
    """Read and validate a call file into a spec (title, description, to, closes, feeds,
    sender, roles, source)."""
    raw = toml_file.read(path)
    return {**parse_spec(raw, str(path)), "source": str(path)}


def parse_spec(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate a call given as a dict (``where`` names it in errors: the file, or "charter 3")."""
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(KEYS)}")
    feeds_ref = toml_file.text(raw, "feeds", where)
    trouble = feeds.problem(feeds_ref)
    if trouble:
        raise ConfigError(f"{where}: {trouble}")
    return {"title": toml_file.title(raw, "title", where), "description": toml_file.text(raw, "description", where),
            "to": _to(raw.get("to", "all"), where), "closes": toml_file.day(raw.get("closes"), where, "closes"),
            "feeds": feeds_ref, "sender": _sender(raw.get("sender") or "", where),
            "roles": _roles(raw.get("roles"), where), "source": ""}


def _to(value: Any, where: str) -> str | list[str]:
    if isinstance(value, str) and (value == "all" or re.fullmatch(r"[a-z][\w-]*", value)):
        return value
    if isinstance(value, list) and value:
        found: list[str] = []
        for item in value:
            if not isinstance(item, str) or not EMAIL.match(item.strip()):
                raise ConfigError(f"{where}: to: {item!r} is not an email address")
            if item.strip().lower() not in found:
                found.append(item.strip().lower())
        return found
    raise ConfigError(f"{where}: to = {value!r}; expected \"all\", a role such as \"approver\", "
                      "or a list of email addresses")


def _sender(value: Any, where: str) -> str:
    if not isinstance(value, str) or (value.strip() and not EMAIL.match(value.strip())):
        raise ConfigError(f"{where}: sender = {value!r}; expected an email address")
    return value.strip().lower()


def _roles(value: Any, where: str) -> list[dict]:
    if value is None or value == [] or (isinstance(value, list) and len(value) == 1
                                        and isinstance(value[0], dict) and value[0].get("name") == UNNAMED):
        return [{"name": UNNAMED, "places": None, "description": ""}]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: roles must be one or more [[roles]] tables, not {value!r}")
    roles: list[dict] = []
    for n, item in enumerate(value, start=1):
        roles.append(_role(item, f"{where}: roles[{n}]"))
        if [r["name"].lower() for r in roles].count(roles[-1]["name"].lower()) > 1:
            raise ConfigError(f"{where}: roles[{n}]: name {roles[-1]['name']!r} is used twice")
    return roles


def _role(item: Any, where: str) -> dict:
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a table with name, places, description")
    extra = sorted(set(item) - set(ROLE_KEYS))
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r}; expected {', '.join(ROLE_KEYS)}")
    name = item.get("name")
    if not isinstance(name, str) or not ROLE_NAME.match(name.strip()):
        raise ConfigError(f"{where}: name = {name!r}; expected a short name starting with a letter "
                          "(\"writer\")")
    places = item.get("places")
    if places is not None and (isinstance(places, bool) or not isinstance(places, int) or places < 1):
        raise ConfigError(f"{where}: places = {places!r}; expected a whole number >= 1 (omit for unlimited)")
    return {"name": name.strip(), "places": places, "description": toml_file.text(item, "description", where)}


def has_role(person: dict, role: str) -> bool:
    """Whether a person has a people role; "member" also covers people with no role at all."""
    roles = {r for r in re.split(r"[,\s]+", person.get("roles") or "") if r}
    return role in roles or (role == "member" and not roles)


def recipients(db: Database, to: str | list[str]) -> list[dict]:
    """The mailable people a call goes to ("all" is every member)."""
    if isinstance(to, list):
        found = [people.find_person(db, address) for address in to]
        return [p for p in found if p is not None and people.is_mailable(p)]
    role = "member" if to == "all" else to
    return [p for p in people.list_people(db) if people.is_mailable(p) and has_role(p, role)]


def invitees(db: Database, to: str | list[str], feeds_ref: str) -> list[dict]:
    """Who the call is sent to: its recipients, less the people already in what it feeds
    (an approved charter's call is not sent to its proposer and team)."""
    inside = feeds.already_in(db, feeds_ref)
    return [p for p in recipients(db, to) if p["id"] not in inside]


def check_people(db: Database, spec: dict, where: str) -> list[dict]:
    """The call's recipients; ConfigError for an unknown address or sender."""
    if isinstance(spec["to"], list):
        for address in spec["to"]:
            if people.find_person(db, address) is None:
                raise ConfigError(f"{where}: to: {address} is not a known person "
                                  "(add them with `people import`)")
    if spec["sender"] and people.find_person(db, spec["sender"]) is None:
        raise ConfigError(f"{where}: sender: {spec['sender']} is not a known person")
    return recipients(db, spec["to"])


def check_call(db: Database, spec: dict, where: str, now: datetime) -> list[dict]:
    """Every rule opening a call enforces on a parsed spec, changing nothing: its people are
    known, and its closing day has not ended for the people it goes to (a call opened after
    that invites nobody: its sender would only get "Call closed"). Returns the recipients."""
    check_people(db, spec, where)
    found = invitees(db, spec["to"], spec["feeds"])
    zones = {p["timezone"] for p in found}
    if now >= closes_at(spec["closes"], zones):
        raise ConfigError(f"{where}: closes = {spec['closes']} is already past (today is "
                          f"{now:%Y-%m-%d} UTC); expected the last day to volunteer, from today on")
    return found


def closes_at(closes: date, zones: set[str]) -> datetime:
    """When the closing day ``closes`` has ended in every one of ``zones`` (UTC when none)."""
    after = closes + timedelta(days=1)
    return max(datetime.combine(after, time(0), tzinfo=zone_or_utc(z)).astimezone(timezone.utc)
               for z in (zones or {"UTC"}))


@lru_cache(maxsize=None)
def zone_or_utc(name: str) -> ZoneInfo | timezone:
    """The IANA zone ``name``; UTC for a name that is not one."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # a bad zone in the people list: count it as UTC
        return timezone.utc


def check_file(db: Database, path: Path, now: datetime, lead: str) -> tuple[dict, list[dict]]:
    """Every rule ``call open`` enforces on FILE, changing nothing (``call open --check`` runs
    exactly this): the file, ``check_call``, someone to send it to, and not the same call opened
    before. Returns the spec (its sender defaulting to ``lead``) and its recipients."""
    spec = load_spec(path)
    spec["sender"] = spec["sender"] or lead
    found = check_call(db, spec, str(path), now)
    if not found:
        raise ConfigError(f"{path}: to = {spec['to']!r} names nobody who can be sent the call; expected "
                          "\"all\", a role someone has, or known people")
    existing = store.find_call(db, spec["title"], spec["closes"].isoformat())
    if existing:
        raise ConfigError(f"{path}: \"{spec['title']}\" closing {spec['closes']} is already "
                          f"call {existing['id']}")
    return spec, found


def open_call(db: Database, spec: dict, now: datetime) -> int:
    """Open a call from a spec (title, description, to, closes, feeds, roles, sender; ``said``: its
    sentences as parts, ``mailer.locale.stored``, from another flow); its
    emails then fall due on their own. Opening the same title, closing date and target again
    returns the call already open."""
    where = spec.get("source") or f"call {spec.get('title')!r}"
    source, said = spec.get("source") or "", spec.get("said")
    spec = {**parse_spec({k: v for k, v in spec.items() if k not in ("source", "said")}, where), "source": source}
    check_call(db, spec, where, now)
    existing = store.find_call(db, spec["title"], spec["closes"].isoformat())
    if existing and existing["feeds"] == spec["feeds"]:
        return existing["id"]
    fields = {"title": spec["title"], "description": spec["description"], "to_spec": spec["to"],
              "closes": spec["closes"].isoformat(), "feeds": spec["feeds"], "sender": spec["sender"],
              "source": spec["source"], "said": json.dumps(said) if said else None}
    return store.create_call(db, fields, spec["roles"], now)


def describe(spec: dict, recipients_: list[dict], sender: str) -> str:
    """What opening would do, in a line or two."""
    roles = ", ".join(f"{r['name'] or 'volunteers'} ({r['places'] or 'unlimited'})" for r in spec["roles"])
    lines = [f"{len(recipients_)} recipient{'s' if len(recipients_) != 1 else ''}; roles: {roles}; "
             f"closes {spec['closes']:%a} {spec['closes'].day} {spec['closes']:%b %Y} (each recipient's time)"]
    if spec["feeds"]:
        lines.append(f"volunteers join {spec['feeds']}")
    lines.append(f"the list goes to {sender} at closing" if sender
                 else "nobody gets the list at closing: set sender or [mailer] lead")
    return "\n".join(lines)
