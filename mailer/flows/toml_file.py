"""Reading a flow's TOML file (a challenge, a charter, a call, a meetup) with one set of readers.

Every error is a ``ConfigError`` that names the file (or the place in it), the key, the value
and what was expected, worded the same way in every flow: ``FILE: closes = 'next week';
expected a date like 2027-01-20``.
"""
from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from mailer.errors import ConfigError
from mailer.outbound.safe_text import control_character

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def read(path: Path | str) -> dict[str, Any]:
    """The file's tables and keys; ConfigError when it cannot be read or is not TOML."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def refuse_unknown(raw: dict, keys: tuple[str, ...], where: Path | str) -> None:
    """A typo never passes silently: the first key not in ``keys`` is an error."""
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(keys)}")


def text(raw: dict, key: str, where: Path | str, required: bool = False) -> str:
    """``raw[key]`` as stripped text ("" when absent and not required)."""
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} = {value!r}; expected text")
    if required and not value.strip():
        raise ConfigError(f"{where}: {key} is required (text)")
    return value.strip()


def title(raw: dict, key: str, where: Path | str, required: bool = True) -> str:
    """``raw[key]`` as one line of text for a subject and a calendar SUMMARY: refused, like a
    person's name at import, when it holds a control, format or line-break character (a
    U+202E bidi override would show the rest of a subject reversed)."""
    value = text(raw, key, where, required)
    bad = control_character(value)
    if bad:
        raise ConfigError(f"{where}: {key} holds a control or invisible formatting character ({bad}); "
                          "expected one line of plain text")
    return value


def whole(value: Any, where: Path | str, key: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (TOML's true/false are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}: {key} = {value!r}; expected a whole number from {low} to {high}")
    return value


def flag(value: Any, where: Path | str, key: str) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} = {value!r}; expected true or false")
    return value


def day(value: Any, where: Path | str, key: str, example: str = "2027-01-20") -> date:
    """A TOML date (2027-01-20) or the same as text ("2027-01-20"); required."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if value is None:
        raise ConfigError(f"{where}: {key} is required (a date like {example})")
    raise ConfigError(f"{where}: {key} = {value!r}; expected a date like {example}")


def address(value: Any, where: Path | str, key: str) -> str:
    """One email address, lower case."""
    if not isinstance(value, str) or not EMAIL.match(value.strip()):
        raise ConfigError(f"{where}: {key} = {value!r}; expected an email address")
    return value.strip().lower()


def clock(value: Any, where: Path | str, key: str, example: int = 8) -> time:
    """A local time of day: a whole hour 0-23 (8) or "HH:MM" ("07:30")."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23:
        return time(value)
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hour, minute = (int(part) for part in value.strip().split(":"))
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    raise ConfigError(f"{where}: {key} = {value!r}; expected an hour 0-23 ({example}) or \"HH:MM\" "
                      f"(\"{example:02d}:30\")")
