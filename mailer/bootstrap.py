"""Seeding a new database: people from ``people.csv`` and challenges from ``challenges/*.toml``."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from mailer.errors import ConfigError
from mailer.people_csv import parse_people_csv
from mailer.store import people

log = logging.getLogger(__name__)


def import_people(db: Database, path: Path) -> tuple[int, list[str]]:
    """Add or update everyone in a CSV file; returns (rows kept, errors by line number)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    rows, errors = parse_people_csv(text)
    with db.atomic():
        for row in rows:
            people.add_person(db, row.email, row.name, row.timezone, row.roles)
    return len(rows), [f"{path}: {e}" for e in errors]


def seed(db: Database, folder: Path | None, now: datetime) -> None:
    """Load the seed folder into a brand-new database (nothing when ``folder`` is None)."""
    if folder is None:
        return
    csv_path = folder / "people.csv"
    if csv_path.exists():
        _, errors = import_people(db, csv_path)
        for error in errors:
            log.warning(error)
    challenges = sorted((folder / "challenges").glob("*.toml"))
    if challenges:
        from mailer.flows.challenge.definition import start_challenge

        for path in challenges:
            try:
                start_challenge(db, path, now)
            except ConfigError as exc:
                # A seed is a convenience: a sample challenge whose dates have passed must not
                # stop the first run. The person sees why and can start one by hand.
                log.warning("not starting %s", exc)
