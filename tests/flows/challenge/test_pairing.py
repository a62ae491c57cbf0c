"""Accountability partners: pairs by time zone, a trio when odd, re-pairing when someone leaves."""
from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mailer.flows.challenge import flow as challenge
from mailer.flows.challenge import pairing
from mailer.flows.challenge.definition import start_challenge
from mailer.store import challenges as store
from mailer.store.people import add_person, set_status
from tests.flows.challenge.conftest import BEFORE, UTC, challenge_toml, routed

FIRST_TICK = datetime(2027, 1, 3, 12, 0, tzinfo=UTC)
TOKYO, KOLKATA, LONDON, NEW_YORK = 540, 330, 0, -300


def test_neighbouring_time_zones_are_paired():
    members = [(1, NEW_YORK), (2, TOKYO), (3, LONDON), (4, KOLKATA), (5, NEW_YORK), (6, TOKYO)]
    groups = pairing.group_up(members)
    assert sorted(sorted(g) for g in groups) == [[1, 5], [2, 6], [3, 4]]


def test_an_odd_count_makes_one_trio_where_it_costs_least():
    members = [(1, TOKYO), (2, TOKYO), (3, LONDON), (4, LONDON), (5, LONDON)]
    groups = pairing.group_up(members)
    assert sorted(sorted(g) for g in groups) == [[1, 2], [3, 4, 5]]


def test_one_person_alone_makes_no_group():
    assert pairing.group_up([(1, 0)]) == []


@given(st.lists(st.integers(min_value=-720, max_value=840), min_size=2, max_size=40))
def test_everyone_is_in_exactly_one_group_of_two_or_three(offsets):
    members = list(enumerate(offsets))
    groups = pairing.group_up(members)
    flat = [pid for g in groups for pid in g]
    assert sorted(flat) == list(range(len(offsets)))
    assert all(len(g) == 2 for g in groups) or sorted(len(g) for g in groups)[-1] == 3
    assert sum(len(g) == 3 for g in groups) == len(offsets) % 2


def five(db, write_challenge):
    zones = ("Asia/Tokyo", "Asia/Tokyo", "Europe/London", "Europe/London", "America/New_York")
    ids = [add_person(db, f"p{i}@corp.example.com", f"Person {i}", tz, ("member",)) for i, tz in enumerate(zones)]
    started = start_challenge(db, write_challenge(challenge_toml()), BEFORE)
    return ids, started.challenge_id


def test_pairs_form_when_the_challenge_starts_with_a_trio_for_an_odd_count(db, sim, write_challenge):
    ids, cid = five(db, write_challenge)
    sim.run(BEFORE, FIRST_TICK, step=timedelta(hours=6))
    assert store.current_groups(db, cid) == {}
    sim.tick(datetime(2027, 1, 3, 23, 0, tzinfo=UTC))  # Tokyo's day 1 opens: everyone is paired
    groups = sorted(sorted(g) for g in store.current_groups(db, cid).values())
    assert groups == [[ids[0], ids[1]], [ids[2], ids[3], ids[4]]]


def test_a_participant_whose_partner_leaves_is_re_paired(db, sim, write_challenge):
    ids, cid = five(db, write_challenge)
    sim.run(FIRST_TICK, datetime(2027, 1, 5, tzinfo=UTC))
    tokyo_a, tokyo_b = ids[0], ids[1]
    person = db["people"].get(tokyo_b)
    now = datetime(2027, 1, 5, 1, tzinfo=UTC)
    challenge.handle_reply(db, routed(person, f"challenge:{cid}:day:2", "stop", "stop", now), now, None)
    sim.tick(now + timedelta(minutes=1))
    groups = sorted(sorted(g) for g in store.current_groups(db, cid).values())
    assert all(len(g) in (2, 3) for g in groups)
    assert tokyo_b not in [pid for g in groups for pid in g]
    assert any(tokyo_a in g for g in groups), "the one left alone found a new partner"
    assert sorted(len(g) for g in groups) == [2, 2]  # taken from the trio, not a group of four
    sim.run(now + timedelta(hours=1), datetime(2027, 1, 6, tzinfo=UTC))
    day3 = next(p for _, p in sim.planned if p.to == "p0@corp.example.com" and ":day:3:" in p.key)
    assert day3.context["partner_line"].startswith("Meet your accountability partner:")


def test_a_bounced_partner_counts_as_gone(db, sim, write_challenge):
    ids, cid = five(db, write_challenge)
    sim.run(FIRST_TICK, datetime(2027, 1, 5, tzinfo=UTC))
    set_status(db, ids[4], "bounced")
    sim.tick(datetime(2027, 1, 5, 1, tzinfo=UTC))
    groups = sorted(sorted(g) for g in store.current_groups(db, cid).values())
    assert groups == [[ids[0], ids[1]], [ids[2], ids[3]]]


def test_partners_off_means_no_groups(db, sim, write_challenge, crew):
    started = start_challenge(db, write_challenge(challenge_toml(partners=False)), BEFORE)
    sim.run(FIRST_TICK, datetime(2027, 1, 5, tzinfo=UTC))
    assert store.current_groups(db, started.challenge_id) == {}
    assert all(p.context["partner_line"] is None for _, p in sim.planned if ":day:" in p.key)
