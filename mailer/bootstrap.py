"""Seeding a new database: people from ``people.csv`` and challenges from ``challenges/*.toml``."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from sqlite_utils import Database

from mailer.errors import ConfigError
from mailer.people_csv import PersonRow, duplicates, parse_people_file
from mailer.store import people

log = logging.getLogger(__name__)
BATCH = 2000  # rows per batch insert: a progress step, not a transaction


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[str] = field(default_factory=list)  # "FILE: line N: why"
    ignored: list[str] = field(default_factory=list)  # header columns left out (--ignore-columns)
    written: bool = False

    @property
    def kept(self) -> int:
        """Rows that are (or would be) in the store after the import."""
        return self.added + self.updated + self.unchanged


def import_people(db: Database, path: Path, dry_run: bool = False,
                  progress: Callable[[int, int], None] = lambda done, total: None,
                  ignore_columns: bool = False) -> ImportReport:
    """Add or update everyone in a CSV file in one transaction; bad rows are reported by line.

    A file naming an address twice is refused as a whole, and so is a header naming a column
    we do not know (``ConfigError``) unless ``ignore_columns``. ``dry_run`` compares without
    writing. ``progress(done, total)`` is called as batches are written.
    """
    try:
        text = path.read_text(encoding="utf-8")
        found = parse_people_file(text, ignore_columns)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    rows, errors = found.rows, found.errors
    twice = duplicates(rows)
    report = ImportReport(rejected=[f"{path}: {e}" for e in errors + twice], ignored=found.ignored)
    if twice:
        return report  # which line is meant is anybody's guess: change nothing
    new, changed = _compare(db, rows, report)
    if not dry_run:
        _write(db, new, changed, progress)
        report.written = True
    return report


def _compare(db: Database, rows: list[PersonRow], report: ImportReport) -> tuple[list, list]:
    known = people.import_fields(db)
    new, changed = [], []
    for row in rows:
        fields = (row.name, row.timezone, ",".join(row.roles), row.language)
        if row.email not in known:
            new.append((row.email, *fields))
        elif known[row.email][:3] != fields[:3] or row.language not in (None, known[row.email][3]):
            changed.append((row.email, *fields))
        else:
            report.unchanged += 1
    report.added, report.updated = len(new), len(changed)
    return new, changed


def _write(db: Database, new: list, changed: list, progress: Callable[[int, int], None]) -> None:
    total, done = len(new) + len(changed), 0
    with db.atomic():  # all or nothing: a kill mid-import leaves the people as they were
        for verb, rows in ((people.insert_people, new), (people.update_people, changed)):
            for start in range(0, len(rows), BATCH):
                batch = rows[start:start + BATCH]
                verb(db, batch)
                done += len(batch)
                progress(done, total)


def seed(db: Database, folder: Path | None, now: datetime) -> None:
    """Load the seed folder into a brand-new database (nothing when ``folder`` is None)."""
    if folder is None:
        return
    csv_path = folder / "people.csv"
    if csv_path.exists():
        for error in import_people(db, csv_path).rejected:
            log.warning(error)
    from mailer.flows.challenge.programmes import seed_challenges

    for path in seed_challenges(folder):
        _start_seeded(db, path, now)


def _start_seeded(db: Database, path: Path, now: datetime) -> None:
    """Start one seed challenge. A seed is a convenience: one whose dates have passed must not
    stop the first run (the person sees why and can start one by hand); the built-in sample,
    whose dates are fixed in the file, starts the Monday after ``now`` once its last day has
    come, so that the README's first command mails something whenever it is run."""
    from mailer.flows.challenge.definition import start_challenge

    try:
        start_challenge(db, path, now, _sample_start(path, now))
    except ConfigError as exc:
        log.warning("not starting %s", exc)


def _sample_start(path: Path, now: datetime) -> date | None:
    """The Monday after ``now`` for the built-in sample whose last day is today or past; else
    None (the file's own start)."""
    from mailer.flows.challenge import timing
    from mailer.flows.challenge.definition import load_definition
    from mailer.flows.challenge.programmes import SAMPLE, next_monday

    if path != SAMPLE:
        return None
    sample = load_definition(path)
    if timing.day_date(sample.start, sample.length) > now.date():
        return None
    log.info("the sample challenge's dates have passed: it starts on %s", next_monday(now.date()))
    return next_monday(now.date())
