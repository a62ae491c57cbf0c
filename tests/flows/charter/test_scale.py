"""Issue 25: an approval costs the same among 3 approvers as among 300, and the store's tally
decides exactly as the rule over every answer did.

SQL statements are counted with SQLite's trace callback and its progress handler: counts, never
times.
"""
from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta

from mailer.flows.charter import lifecycle, rules
from mailer.simulation.replies import compose_reply
from mailer.store import charters, people
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.charter.conftest import SUBMITTED, UTC, charter_toml, make_world
from tests.flows.meetup.test_scale import counted

H = timedelta(hours=1)


def _approval_cost(tmp_path, approvers: int) -> tuple[int, int, str]:
    """(statements, VM instructions in hundreds, status) of one approval among ``approvers``."""
    home = tmp_path / f"home{approvers}"
    home.mkdir(parents=True)
    world = make_world(home)
    people.insert_people(world.db, [(f"approver{n}@corp.example.com", f"Approver {n}", "Europe/London", "member",
                                     None) for n in range(approvers - 1)])
    names = ("priya", *(f"approver{n}" for n in range(approvers - 1)))
    (home / "charter.toml").write_text(charter_toml(approvers=names))
    cid = lifecycle.submit(world.db, home / "charter.toml", SUBMITTED)
    world.tick(SUBMITTED)
    world.tick(SUBMITTED + H)  # nothing left to plan: the charter is marked
    calls = [0]

    def count(frame, event: str, arg) -> None:
        if event == "call":
            calls[0] += 1

    raw = compose_reply(world.latest("priya@corp.example.com"), "priya@corp.example.com", "Priya Sharma",
                        "Approved", "outlook", SUBMITTED + 2 * H)
    deliver_to_inbox(world.settings.mail_dir, raw)
    with counted(world.db) as (seen, steps):
        sys.setprofile(count)
        try:
            world.tick(SUBMITTED + 2 * H)
        finally:
            sys.setprofile(None)
    assert [d["approver"] for d in charters.decisions(world.db, cid)] == ["priya@corp.example.com"]
    return len(seen), steps[0], calls[0], charters.get_charter(world.db, cid)["status"]


def test_an_approval_among_300_approvers_costs_what_it_costs_among_3(tmp_path):
    _approval_cost(tmp_path / "warm", 3)  # templates compiled and modules imported before counting
    _approval_cost(tmp_path / "warm300", 300)  # each size's emails rendered once before (outbound.shared)
    few, many = _approval_cost(tmp_path, 3), _approval_cost(tmp_path, 300)
    assert few[3] == many[3] == "pending"
    assert many[0] == few[0]  # the same SQL statements
    # the same Python work but one string an approver (the charter as shown names each: 297
    # calls); before, Python built a row for every approver three times and for every answer twice
    # (the progress handler counting SQLite's instructions is a Python call per hundred: not counted)
    assert (many[2] - many[1]) - (few[2] - few[1]) < 297 + 20
    # SQLite walks the approvers' addresses once, in C: under 40 instructions an approver (76
    # before, with three look-ups of every approver)
    assert many[1] - few[1] < 40 * 297 / 100


def _random_answers(rng: random.Random, db, cid: int, ids: list[int]) -> None:
    at = datetime(2027, 1, 5, tzinfo=UTC)
    for _ in range(rng.randrange(0, 12)):
        at += timedelta(minutes=rng.choice((0, 1, 5)))  # equal times: the later id counts
        held = rng.random() < 0.2
        decision_id = charters.add_decision(db, cid, 1, rng.choice(ids), rng.choice(("approve", "reject",
                                                                                     "request_changes")),
                                            "", at, None, "", held=held)
        if held and rng.random() < 0.5:
            charters.disown_decision(db, decision_id)


def test_the_tally_decides_as_the_rule_over_every_answer(home):
    world = make_world(home)
    db, rng = world.db, random.Random(25)
    people.insert_people(db, [(f"a{n}@corp.example.com", f"A {n}", "UTC", "member", None) for n in range(6)])
    db.execute("INSERT INTO aliases (alias, person_id) SELECT 'other.a0@corp.example.com', id FROM people "
               "WHERE email = 'a0@corp.example.com'")
    ids = [people.find_person(db, f"a{n}@corp.example.com")["id"] for n in range(6)]
    for case in range(200):
        listed = rng.sample([*(f"a{n}@corp.example.com" for n in range(6)), "nobody@corp.example.com",
                             "other.a0@corp.example.com"], rng.randrange(1, 7))
        rule = rng.choice(("any", "all", "majority", 2))
        cid = charters.create_charter(db, {"title": f"Case {case}", "approvers": listed, "rule": rule}, [],
                                      SUBMITTED)  # "nobody" is no person: the file's check would refuse it
        _random_answers(rng, db, cid, ids)
        found = people.find_people(db, set(listed))
        approvers = [p["id"] for a in listed if (p := found.get(a))]
        expected = rules.outcome(rule, approvers, rules.latest_answers(charters.decisions(db, cid, 1)))
        known, counts = charters.tally(db, cid, 1, listed)
        assert (known, rules.outcome_of_counts(rule, known, counts)) == (len(approvers), expected), case
