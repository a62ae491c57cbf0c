"""Reading people from CSV: ``email,name,timezone[,roles]``; bad rows reported by line number.

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
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer.outbound.addresses import canonical, unsendable

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
KNOWN_ROLES = {"member", "lead", "approver", "sponsor"}


@dataclass(frozen=True)
class PersonRow:
    """One good row."""

    line: int
    email: str
    name: str
    timezone: str
    roles: tuple[str, ...]


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

    Line numbers are those of the file, also when a quoted cell spans several lines.
    """
    rows, errors = [], []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    line = 1
    for cells in reader:
        start, line = line, reader.line_num + 1  # where this record began; where the next begins
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if start == 1 and cells[0].lower() == "email":
            continue
        row, error = _row(start, cells)
        if error:
            errors.append(f"line {start}: {error}")
        else:
            rows.append(row)
    return rows, errors


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


def _control(value: str) -> str | None:
    """The first control character or line break in ``value``, as Python would write it."""
    if value.isprintable():  # the common case, and fast: no Cc, Cf, Zl or Zp in it
        return None
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
                and c not in "\u200c\u200d"), None)  # zero-width (non-)joiners belong to names
    return repr(bad) if bad else None


def _row(line: int, cells: list[str]) -> tuple[PersonRow | None, str | None]:
    if len(cells) < 3:
        return None, f"expected email,name,timezone[,roles], got {len(cells)} column(s)"
    email, name, tz = cells[0].lower(), cells[1], cells[2]
    for label, value in zip(("email", "name", "time zone", "roles"), cells):
        if _control(value):
            return None, f"the {label} holds a control character or line break ({_control(value)})"
    if not EMAIL.match(email):
        return None, f"{email!r} is not an email address"
    if unsendable(email):  # an internationalised address mail can never reach (outbound.addresses)
        return None, unsendable(email)
    email = canonical(email)
    if not name:
        return None, "name is empty"
    if not valid_timezone(tz):
        return None, f"{tz!r} is not an IANA time zone (like Europe/London)"
    roles = tuple(r.strip().lower() for r in re.split(r"[;| ]+", cells[3]) if r.strip()) if len(cells) > 3 else ()
    unknown = [r for r in roles if r not in KNOWN_ROLES]
    if unknown:
        return None, f"unknown role {unknown[0]!r}; expected {', '.join(sorted(KNOWN_ROLES))}"
    return PersonRow(line, email, name, tz, roles or ("member",)), None
