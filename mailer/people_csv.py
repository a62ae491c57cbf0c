"""Reading people from CSV, by its header: ``email,name,timezone[,roles][,language]``.

A first line without an address in it is a header: columns
may come in any order and any letter case, and a column we do not know by name is refused
(``ignore_columns`` leaves it out and says so), so an export with a ``department`` column is
never read as roles. A file without a header is read in the documented order. Bad rows are
reported by line number.

A name or field holding a control character or a line break is refused: it would end up in a
header or split a line of a plain-text email (outbound.safe_text makes that harmless, but a
row like ``"Zed\nX-Evil: 1"`` is a mistake or an attack, never a name). A file naming the
same address twice (case-insensitively) is ambiguous: both lines are reported and the file
is refused as a whole (``duplicates``).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer.errors import ConfigError
from mailer.locale import LANGUAGES, language_of
from mailer.outbound.safe_text import control_character
from mailer.outbound.addresses import canonical, unsendable

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
KNOWN_ROLES = {"member", "lead", "approver", "sponsor"}
COLUMNS = ("email", "name", "timezone", "roles", "language")  # also the header-less order
REQUIRED = ("email", "name", "timezone")
# Other spellings of a column name seen in exports (compared after lower-casing).
SPELLINGS = {"time zone": "timezone", "time_zone": "timezone", "tz": "timezone", "role": "roles",
             "e-mail": "email", "email address": "email", "e-mail address": "email", "lang": "language"}


@dataclass(frozen=True)
class PersonRow:
    """One good row (``language`` is None when the file does not say)."""

    line: int
    email: str
    name: str
    timezone: str
    roles: tuple[str, ...]
    language: str | None = None


@dataclass
class PeopleFile:
    """What a people CSV holds: good rows, one message per bad row, and the columns left out."""

    rows: list[PersonRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def valid_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (e.g. Asia/Tokyo)."""
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_people_csv(text: str) -> tuple[list[PersonRow], list[str]]:
    """Good rows and one message per bad row ("line 4: bad time zone 'Mars/Base'").

    Line numbers are those of the file, also when a quoted cell spans several lines. A header
    naming an unknown column raises ``ConfigError`` (see ``parse_people_file``).
    """
    found = parse_people_file(text)
    return found.rows, found.errors


def parse_people_file(text: str, ignore_columns: bool = False) -> PeopleFile:
    """Read a people CSV by its header (or in the documented order when it has none).

    A header naming a column we do not know, or lacking a required one, raises
    ``ConfigError`` naming the column; with ``ignore_columns`` unknown ones are left out and
    listed in ``ignored``.
    """
    found = PeopleFile()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    line, positions = 1, None
    for cells in reader:
        start, line = line, reader.line_num + 1  # where this record began; where the next begins
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if positions is None:
            positions = _header(cells, ignore_columns, found.ignored)
            if positions is not None:
                continue
            positions = {name: i for i, name in enumerate(COLUMNS)}
        needed = max(positions[name] for name in REQUIRED) + 1
        row, error = (_row(start, _named(cells, positions)) if len(cells) >= needed else
                      (None, f"expected {','.join(COLUMNS[:3])}[,roles][,language], got {len(cells)} column(s)"))
        if error:
            found.errors.append(f"line {start}: {error}")
        else:
            found.rows.append(row)
    return found


def duplicates(rows: list[PersonRow]) -> list[str]:
    """One message per line that names an address an earlier line already named."""
    first: dict[str, int] = {}
    found = []
    for row in rows:
        if row.email in first:
            found.append(f"line {row.line}: {row.email} is already on line {first[row.email]}")
        else:
            first[row.email] = row.line
    return found


def _header(cells: list[str], ignore_columns: bool, ignored: list[str]) -> dict[str, int] | None:
    """Column name -> position when ``cells`` is a header line, else None (a header-less file)."""
    names = [SPELLINGS.get(" ".join(c.lower().split()), " ".join(c.lower().split())) for c in cells]
    if any("@" in c for c in cells):  # a first row with an address is a person: no header
        return None
    positions: dict[str, int] = {}
    for i, (cell, name) in enumerate(zip(cells, names)):
        if name in positions:
            raise ConfigError(f"the column {cell!r} appears twice in the header")
        if name in COLUMNS:
            positions[name] = i
        elif ignore_columns:
            ignored.append(cell)
        else:
            raise ConfigError(f"unknown column {cell!r} in the header; known columns: {', '.join(COLUMNS)} "
                              "(--ignore-columns imports the rest)")
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise ConfigError(f"the header has no {missing[0]!r} column; expected {','.join(COLUMNS)}")
    return positions


def _named(cells: list[str], positions: dict[str, int]) -> dict[str, str]:
    """The cells of one record by column name ('' for a cell the record does not have)."""
    return {name: cells[i] if i < len(cells) else "" for name, i in positions.items()}


def _control(value: str) -> str | None:
    """The first control character or line break in ``value``, as Python would write it."""
    return control_character(value)


def _row(line: int, cells: dict[str, str]) -> tuple[PersonRow | None, str | None]:
    email, name, tz = cells["email"].lower(), cells["name"], cells.get("timezone", "")
    for label, key in (("email", "email"), ("name", "name"), ("time zone", "timezone"),
                       ("roles", "roles"), ("language", "language")):
        if _control(cells.get(key, "")):
            return None, f"the {label} holds a control character or line break ({_control(cells[key])})"
    if not EMAIL.match(email):
        return None, f"{email!r} is not an email address"
    if unsendable(email):  # an internationalised address mail can never reach (outbound.addresses)
        return None, unsendable(email)
    email = canonical(email)
    if not name:
        return None, "name is empty"
    if not valid_timezone(tz):
        return None, f"{tz!r} is not an IANA time zone (like Europe/London)"
    roles = tuple(r.strip().lower() for r in re.split(r"[;| ]+", cells.get("roles", "")) if r.strip())
    unknown = [r for r in roles if r not in KNOWN_ROLES]
    if unknown:
        return None, f"unknown role {unknown[0]!r}; expected {', '.join(sorted(KNOWN_ROLES))}"
    tag = cells.get("language", "")
    language = language_of(tag) if tag else None
    if tag and language is None:
        return None, f"unknown language {tag!r}; expected a tag for one of {', '.join(sorted(LANGUAGES))} (like fr or fr-CA)"
    return PersonRow(line, email, name, tz, roles or ("member",), language), None
