"""What calls say in sponsor digests: places filled and open, what changed; leads see all."""
from __future__ import annotations

from datetime import timedelta

from mailer.flows.call import digest_items
from mailer.flows.call.definition import load_spec, open_call
from mailer.flows.challenge.definition import start_challenge
from mailer.flows.registry import DIGEST_SOURCES
from tests.flows.call.conftest import AIKO, LENA, OPENED, PRIYA, call_toml
from tests.flows.challenge.conftest import challenge_toml

WEEK = (OPENED - timedelta(days=1), OPENED + timedelta(days=6))


def test_calls_are_a_digest_source():
    assert any(getattr(source, "digest_items", None) is digest_items for source in DIGEST_SOURCES)


def test_a_lead_sees_places_filled_and_what_changed(sim, opened):
    sim.tick(OPENED)
    sim.reply(AIKO, opened, "I'm in as reviewer", OPENED + timedelta(hours=1))
    sim.reply(PRIYA, opened, "I'm in as reviewer", OPENED + timedelta(hours=1))
    sim.reply(AIKO, opened, "withdraw", OPENED + timedelta(hours=2))
    for who in (None, LENA):
        (item,) = digest_items(sim.db, who, *WEEK)
        assert item.kind == "call" and item.ref == f"call:{opened}" and item.title == "Playbook writers"
        assert item.status == "open until Wed 20 Jan 2027, 1 of 3 places filled"
        assert item.changed == ("2 signed up", "1 moved up from the waitlist", "1 withdrew")
        assert item.facts == ("writer: 0 of 2 places filled", "reviewer: 1 of 1 places filled")
        assert item.chart == ()  # the digest's bars are days journaled, not places
    assert all(PRIYA not in str(item) for item in digest_items(sim.db, None, *WEEK))  # counts, not names
    (later,) = digest_items(sim.db, None, OPENED + timedelta(days=6), OPENED + timedelta(days=13))
    assert later.changed == ()


def test_a_sponsor_sees_only_calls_feeding_what_they_sponsor(db, community, write_call, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(challenge_toml(participants="[]"))  # sponsors = ["sponsor@corp.example.com"]
    start_challenge(db, path, OPENED)
    open_call(db, load_spec(write_call()), OPENED)
    fed = open_call(db, load_spec(write_call(call_toml(extra='feeds = "challenge:1"\n').replace(
        "Playbook writers", "Challenge buddies"), name="fed.toml")), OPENED)
    assert [i.ref for i in digest_items(db, "sponsor@corp.example.com", *WEEK)] == [f"call:{fed}"]
    assert len(digest_items(db, LENA, *WEEK)) == 2
    assert digest_items(db, AIKO, *WEEK) == []
