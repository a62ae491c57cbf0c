"""`people import` reads a CSV by its header: any order, any letter case, unknown columns
refused (or left out with --ignore-columns), a language column; header-less files in the
documented order."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mailer.cli import main


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def listed(home: Path) -> dict[str, dict]:
    return {p["email"]: p for p in json.loads(run(home, "people", "list", "--json").output)}


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_columns_in_another_order_and_case_are_read_by_name(home, tmp_path):
    csv = write(tmp_path, "Name,TimeZone,EMAIL,Roles,Language",
                "Ann Lee,Asia/Tokyo,ann@corp.example.com,member lead,ja",
                "Bo Berg,Europe/Paris,bo@corp.example.com,,fr-CA")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code == 0, result.output
    found = listed(home)
    assert (found["ann@corp.example.com"]["name"], found["ann@corp.example.com"]["timezone"],
            found["ann@corp.example.com"]["roles"]) == ("Ann Lee", "Asia/Tokyo", "member,lead")
    assert found["ann@corp.example.com"]["language"] == "ja"
    assert found["bo@corp.example.com"]["language"] == "fr"  # a regional form falls back to fr
    assert "Europe/Paris  member  fr  active" in run(home, "people", "list").output


def test_a_language_column_is_not_read_as_roles(home, tmp_path):
    csv = write(tmp_path, "email,name,timezone,language",
                "ann@corp.example.com,Ann,UTC,en", "bob@corp.example.com,Bob,UTC,de",
                "cy@corp.example.com,Cy,UTC,", "dee@corp.example.com,Dee,UTC,es")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code == 0, result.output  # was: "line 5: unknown role 'es'"
    found = listed(home)
    assert found["dee@corp.example.com"]["language"] == "es" and found["dee@corp.example.com"]["roles"] == "member"
    assert found["cy@corp.example.com"]["language"] is None


def test_an_unknown_language_is_refused_by_line(home, tmp_path):
    csv = write(tmp_path, "email,name,timezone,language",
                "ann@corp.example.com,Ann,UTC,en-GB", "bob@corp.example.com,Bob,UTC,klingon!",
                "cy@corp.example.com,Cy,UTC,pt-BR")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code == 1
    assert f"{csv}: line 3: unknown language 'klingon!'" in result.output
    assert f"{csv}: line 4: unknown language 'pt-BR'" in result.output
    assert set(listed(home)) == {"ann@corp.example.com"}


def test_an_unknown_column_is_refused_naming_file_and_column(home, tmp_path):
    csv = write(tmp_path, "email,name,department,timezone",
                "ann@corp.example.com,Ann,Platform,Europe/Berlin")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code != 0
    assert str(csv) in result.output and "unknown column 'department'" in result.output
    assert listed(home) == {}


def test_ignore_columns_imports_the_rest_and_says_which(home, tmp_path):
    csv = write(tmp_path, "email,name,department,timezone",
                "ann@corp.example.com,Ann,Platform,Europe/Berlin")
    result = run(home, "people", "import", "--ignore-columns", str(csv))
    assert result.exit_code == 0, result.output
    assert "ignored column(s): department" in result.output
    assert listed(home)["ann@corp.example.com"]["timezone"] == "Europe/Berlin"


def test_a_file_without_a_header_is_read_in_the_documented_order(home, tmp_path):
    csv = write(tmp_path, "ann@corp.example.com,Ann,Asia/Tokyo,lead", "bob@corp.example.com,Bob,UTC")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code == 0, result.output
    found = listed(home)
    assert found["ann@corp.example.com"]["roles"] == "lead" and found["bob@corp.example.com"]["roles"] == "member"


def test_an_import_without_a_language_column_keeps_the_stored_language(home, tmp_path):
    assert run(home, "people", "import", str(write(tmp_path, "email,name,timezone,language",
                                                   "ann@corp.example.com,Ann,UTC,de"))).exit_code == 0
    assert run(home, "people", "import", str(write(tmp_path, "email,name,timezone",
                                                   "ann@corp.example.com,Ann B,UTC"))).exit_code == 0
    assert listed(home)["ann@corp.example.com"]["language"] == "de"
    assert listed(home)["ann@corp.example.com"]["name"] == "Ann B"


def test_a_header_without_an_email_column_is_refused_not_read_as_people(home, tmp_path):
    csv = write(tmp_path, "Mail,Name,TimeZone", "ann@corp.example.com,Ann,UTC")
    result = run(home, "people", "import", str(csv))
    assert result.exit_code != 0 and "unknown column 'Mail'" in result.output
    csv = write(tmp_path, "E-mail address,Name,Time zone", "ann@corp.example.com,Ann,UTC")
    assert run(home, "people", "import", str(csv)).exit_code == 0
    assert set(listed(home)) == {"ann@corp.example.com"}


def test_language_tags_fall_back_to_the_language_we_write():
    from mailer.people_csv import language_of

    assert [language_of(t) for t in ("en", "EN-gb", "fr_CA", "de-CH-1996", "ja-JP", "es-419")] == \
        ["en", "en", "fr", "de", "ja", "es"]
    assert [language_of(t) for t in ("pt-BR", "zz", "english", "fr--CA", "")] == [None] * 5
