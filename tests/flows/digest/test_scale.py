"""Issue 25: the digest's recipients are read on every tick, from an index of the leads and the
sponsors' addresses, not from a scan of every person. Counted with SQLite's progress handler
(instructions, never time)."""
from __future__ import annotations

from mailer.flows.digest.flow import recipients
from mailer.store import open_db, people
from tests.flows.charter.conftest import SUBMITTED
from tests.flows.meetup.test_scale import counted


def _cost(tmp_path, members: int) -> tuple[int, list[str]]:
    db = open_db(tmp_path / f"home{members}.db")
    people.add_person(db, "lead@corp.example.com", "Lea Lead", "Europe/Paris", ("member", "lead"))
    people.add_person(db, "co@corp.example.com", "Col Lead", "UTC", ("lead",))
    people.insert_people(db, [(f"m{n}@corp.example.com", f"M {n}", "UTC", "member", None) for n in range(members)])
    with counted(db) as (_, steps):
        found = [p["email"] for p in recipients(db, SUBMITTED)]
    return steps[0], found


def test_the_leads_are_read_from_their_index_among_5000_members(tmp_path):
    few, many = _cost(tmp_path, 20), _cost(tmp_path, 5000)
    assert few[1] == many[1] == ["co@corp.example.com", "lead@corp.example.com"]
    assert many[0] <= few[0] + 2  # a scan of 5,000 people runs hundreds of times more


def test_a_role_written_with_spaces_or_among_others_is_still_found(tmp_path):
    db = open_db(tmp_path / "h.db")
    people.add_person(db, "a@corp.example.com", "A", "UTC", ("member", "lead"))
    db.execute("UPDATE people SET roles = 'sponsor, lead ,member' WHERE email = 'a@corp.example.com'")
    people.add_person(db, "b@corp.example.com", "B", "UTC", ("leader",))
    assert [p["email"] for p in people.with_role_or_email(db, "lead", {"B@corp.example.com "})] == \
        ["a@corp.example.com", "b@corp.example.com"]
