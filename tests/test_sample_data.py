"""The sample community in data/ is consistent: every challenge's sponsor is a person."""
from __future__ import annotations

from pathlib import Path

from mailer.flows.challenge.definition import load_definition
from mailer.people_csv import parse_people_csv

DATA = Path(__file__).resolve().parents[1] / "data"


def test_sample_people_are_all_valid():
    rows, errors = parse_people_csv((DATA / "people.csv").read_text(encoding="utf-8"))
    assert rows and not errors


def test_every_sample_sponsor_is_a_sample_person_with_the_sponsor_role():
    rows, _ = parse_people_csv((DATA / "people.csv").read_text(encoding="utf-8"))
    roles = {row.email: row.roles for row in rows}
    for path in sorted((DATA / "challenges").glob("*.toml")):
        for sponsor in load_definition(path).sponsors:
            assert "sponsor" in roles.get(sponsor, ()), f"{path.name}: sponsor {sponsor} is not in people.csv"
