"""Reading people from CSV: ``email,name,timezone[,roles]``; bad rows reported by line number."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    """Good rows and one message per bad row ("line 4: bad time zone 'Mars/Base'")."""
    rows, errors = [], []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for line, cells in enumerate(reader, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if line == 1 and cells[0].lower() == "email":
            continue
        row, error = _row(line, cells)
        if error:
            errors.append(f"line {line}: {error}")
        else:
            rows.append(row)
    return rows, errors


def _row(line: int, cells: list[str]) -> tuple[PersonRow | None, str | None]:
    if len(cells) < 3:
        return None, f"expected email,name,timezone[,roles], got {len(cells)} column(s)"
    email, name, tz = cells[0].lower(), cells[1], cells[2]
    if not EMAIL.match(email):
        return None, f"{email!r} is not an email address"
    if not name:
        return None, "name is empty"
    if not valid_timezone(tz):
        return None, f"{tz!r} is not an IANA time zone (like Europe/London)"
    roles = tuple(r.strip().lower() for r in re.split(r"[;| ]+", cells[3]) if r.strip()) if len(cells) > 3 else ()
    unknown = [r for r in roles if r not in KNOWN_ROLES]
    if unknown:
        return None, f"unknown role {unknown[0]!r}; expected {', '.join(sorted(KNOWN_ROLES))}"
    return PersonRow(line, email, name, tz, roles or ("member",)), None
