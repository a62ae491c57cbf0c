"""`people import`: hostile fields and repeated addresses refused by line, a dry run, one
transaction of batch inserts."""
from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from mailer.bootstrap import import_people
from mailer.cli import main
from mailer.store import people


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("email,name,timezone,roles\n" + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_names_and_fields_with_line_breaks_or_controls_are_refused_by_line(home, tmp_path):
    csv = write(tmp_path, "ann@corp.example.com,Ann,UTC",
                '"zed@corp.example.com","Zed\nX-Evil: 1",UTC',  # a quoted cell over two lines
                "bel@corp.example.com,Bel\x07l,UTC",
                "tab@corp.example.com,Tab,UTC,member\tlead",
                "rtl@corp.example.com,\u202eevil,UTC",
                "dee@corp.example.com,Dee,Asia/Tokyo")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code == 1
    for line, what in ((3, "name"), (5, "name"), (6, "roles"), (7, "name")):
        assert f"{csv}: line {line}: the {what} holds a control character or line break" in result.output
    assert "2 added, 0 updated, 0 unchanged, 4 rejected" in result.output
    listed = json.loads(run(home, "people", "list", "--json").output)
    assert [p["email"] for p in listed] == ["ann@corp.example.com", "dee@corp.example.com"]


def test_a_file_naming_an_address_twice_is_refused_whole(home, tmp_path):
    csv = write(tmp_path, "ann@corp.example.com,Ann,UTC", "bob@corp.example.com,Bob,UTC",
                "ANN@Corp.Example.com,Ann Again,Europe/Paris")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code == 1
    assert f"{csv}: line 4: ann@corp.example.com is already on line 2" in result.output
    assert "nothing written" in result.output
    assert json.loads(run(home, "people", "list", "--json").output) == []


def test_dry_run_says_what_would_change_and_writes_nothing(home, tmp_path):
    assert run(home, "people", "import", str(write(tmp_path, "ann@corp.example.com,Ann,UTC",
                                                   "bob@corp.example.com,Bob,UTC"))).exit_code == 0
    csv = write(tmp_path, "ann@corp.example.com,Ann,UTC", "bob@corp.example.com,Bob Brown,UTC",
                "cy@corp.example.com,Cy,UTC", "bad,Bad,UTC")
    result = run(home, "people", "import", "--dry-run", str(csv))
    assert result.exit_code == 1
    assert "dry run, nothing written; would be: 1 added, 1 updated, 1 unchanged, 1 rejected" in result.output
    listed = json.loads(run(home, "people", "list", "--json").output)
    assert [(p["email"], p["name"]) for p in listed] == [("ann@corp.example.com", "Ann"),
                                                         ("bob@corp.example.com", "Bob")]


def test_a_big_file_is_one_transaction_of_batches_not_a_query_per_row(db, tmp_path):
    count = 20_000
    csv = write(tmp_path, *(f"p{n}@corp.example.com,Person {n},Europe/Paris" for n in range(count)))
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    started = time.perf_counter()
    report = import_people(db, csv)
    elapsed = time.perf_counter() - started
    db.conn.set_trace_callback(None)
    assert (report.added, report.rejected) == (count, [])
    assert len(people.list_people(db)) == count
    assert sum(s.startswith("INSERT") for s in statements) <= count // 100  # batches, not rows
    # One transaction (sqlite-utils nests its batches in savepoints inside it).
    assert sum(s.startswith("BEGIN") for s in statements) == 1
    assert sum(s.startswith("COMMIT") for s in statements) == 1
    print(f"imported {count} people in {elapsed:.2f} s")  # figure only; bench/people_import.py
    again = import_people(db, csv)
    assert (again.added, again.updated, again.unchanged) == (0, 0, count)
