"""People-import benchmark: a CSV of N people into a fresh database, then the same file again.

    .venv/bin/python -m bench.people_import [--count 50000]

Prints seconds and rows/s for the first import (all added) and the second (all unchanged),
against a baseline measured in the same run: sqlite-utils inserting the same rows in one batch
(notes/performance.md: ~92,000 rows/s for a batch insert, ~4,400/s with a transaction per row).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailer.bootstrap import import_people  # noqa: E402
from mailer.store import open_db  # noqa: E402

ZONES = ("Europe/Paris", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "UTC")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    count = parser.parse_args().count
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "people.csv"
        csv.write_text("email,name,timezone,roles\n" + "".join(
            f"p{n}@corp.example.com,Person {n},{ZONES[n % len(ZONES)]},member\n" for n in range(count)))
        baseline = _timed(lambda: open_db(Path(folder) / "base.db")["people"].insert_all(
            {"email": f"p{n}@corp.example.com", "name": f"Person {n}", "timezone": "UTC", "roles": "member"}
            for n in range(count)))
        db = open_db(Path(folder) / "mailer.db")
        first = _timed(lambda: import_people(db, csv))
        second = _timed(lambda: import_people(db, csv))
    print(f"people import, {count} rows")
    print(f"sqlite-utils batch insert (baseline): {baseline:6.2f} s  {count / baseline:9.0f} rows/s")
    print(f"import, all new:                      {first:6.2f} s  {count / first:9.0f} rows/s")
    print(f"import again, all unchanged:          {second:6.2f} s  {count / second:9.0f} rows/s")


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
