"""The programme library: ready-made 30-day challenges in ``data/challenges/`` to start from.

A programme is an ordinary challenge file; its name is the file name without ``.toml``
(``public-speaking-30``). ``challenge new --from NAME FILE`` copies one for a lead to edit,
and ``challenge list-programmes`` shows them with a line each. Only the DevOps sample is
started in a new home seeded with the sample community; the others wait to be chosen.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from mailer.errors import ConfigError, NotFoundError
from mailer.flows.challenge.definition import load_definition

LIBRARY = Path(__file__).resolve().parents[3] / "data" / "challenges"
SAMPLE = LIBRARY / "devops-30.toml"


@dataclass(frozen=True)
class Programme:
    """One programme of the library, as ``list-programmes`` shows it."""

    name: str
    title: str
    domain: str
    length: int
    summary: str  # the first sentence of its description
    path: Path


def programmes(folder: Path = LIBRARY) -> list[Programme]:
    """Every programme in the library, by name."""
    return [_programme(path) for path in sorted(folder.glob("*.toml"))]


def _programme(path: Path) -> Programme:
    definition = load_definition(path)
    return Programme(path.stem, definition.title, definition.domain, definition.length,
                     first_sentence(definition.description), path)


def first_sentence(text: str) -> str:
    """The first sentence of a description, on one line ("" for none)."""
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[:end + 1]


def find(name: str, folder: Path = LIBRARY) -> Path:
    """The file of programme NAME (``devops-30`` or ``devops-30.toml``); NotFoundError names
    the programmes there are."""
    stem = name.removesuffix(".toml")
    path = folder / f"{stem}.toml"
    if "/" in stem or "\\" in stem or not path.is_file():
        names = ", ".join(p.stem for p in sorted(folder.glob("*.toml")))
        raise NotFoundError(f"no programme named {name!r}; there are: {names}")
    return path


def next_monday(today: date) -> date:
    """The Monday after ``today``: when a copied programme starts unless told otherwise."""
    return today + timedelta(days=7 - today.weekday())


def copy(name: str, target: Path, start: date, folder: Path = LIBRARY) -> Path:
    """Write programme NAME to ``target`` as a starting point starting on ``start`` (never over
    an existing file); its opening comment, which tells how to copy it, becomes a line saying
    where it came from."""
    source = find(name, folder)
    if target.exists():
        raise ConfigError(f"{target} exists; choose another file name (nothing was written)")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    header = f"# Started from the programme {source.stem} (data/challenges/{source.name}).\n"
    text = re.sub(r"^start = .*$", f"start = {start.isoformat()}", "".join(lines), count=1, flags=re.M)
    try:
        with target.open("x", encoding="utf-8") as out:
            out.write(header + text)
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write: {exc}") from exc
    return target


def seed_challenges(folder: Path) -> list[Path]:
    """The challenge files a new home seeded from ``folder`` starts: every ``challenges/*.toml``
    of a lead's own seed folder, but of the built-in library only the sample."""
    challenges = folder / "challenges"
    if challenges.resolve() == LIBRARY:
        return [SAMPLE]
    return sorted(challenges.glob("*.toml"))
