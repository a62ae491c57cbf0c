"""What a call feeds: a challenge's participants (fully, through the worker), and the kinds
of target this build may lack (charter, meetup) named plainly."""
from __future__ import annotations

import collections
import email
import email.policy
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mailer.errors import ConfigError
from mailer.flows.call import feeds
from mailer.flows.call.definition import parse_spec
from mailer.flows.challenge import enroll
from mailer.flows.challenge.definition import start_challenge
from mailer.store import challenges
from tests.flows.call.conftest import AIKO, SAM, UTC, call_toml
from tests.flows.call.test_e2e import World
from tests.flows.challenge.conftest import challenge_toml

CHALLENGE_STARTED = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


def day_emails(world: World) -> dict[str, list[tuple[int, datetime]]]:
    found = collections.defaultdict(list)
    for path in (world.settings.mail_dir / "outbox").rglob("*"):
        if path.is_file():
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            match = re.match(r"Day (\d+) of 30", msg["Subject"])
            if match:
                found[msg["To"].addresses[0].addr_spec].append((int(match.group(1)), msg["Date"].datetime))
    return {k: sorted(v) for k, v in found.items()}


def test_volunteers_get_the_challenge_from_their_next_local_morning(home, tmp_path):
    """The challenge began on 4 Jan; the call feeding it opens on 10 Jan at 09:00 UTC.

    Aiko (Tokyo) signs up at 11:00 UTC, 20:00 her time: her first day email is day 8 at 08:00
    on 11 Jan in Tokyo. Sam (New York) signs up at 11:00 UTC, 06:00 his time: day 7 at 08:00
    on 10 Jan in New York, the same day.
    """
    challenge_path = tmp_path / "challenge.toml"
    challenge_path.write_text(challenge_toml(participants="[]", partners=False))

    def start(db) -> None:  # the challenge exists before the call that feeds it opens
        assert start_challenge(db, challenge_path, CHALLENGE_STARTED).challenge_id == 1

    world = World(home, tmp_path, toml=call_toml(extra='feeds = "challenge:1"\n'), before_open=start)
    world.now = datetime(2027, 1, 10, 11, 0, tzinfo=UTC)
    world.reply(AIKO, "Count me in as a writer", "outlook")
    world.reply(SAM, "I'm in!", "apple")
    assert world.tick() == {(AIKO, "confirmed"), (SAM, "confirmed")}
    confirmation = email.message_from_bytes(world.last_mail(AIKO, "Re:"), policy=email.policy.default)
    assert "a participant of the challenge" in confirmation.get_body(("plain",)).get_content()
    while world.now < datetime(2027, 1, 12, 0, 0, tzinfo=UTC):
        world.tick()
    sent = day_emails(world)
    assert [day for day, _ in sent[AIKO]] == [8, 9]
    assert [day for day, _ in sent[SAM]] == [7, 8]
    first_aiko = sent[AIKO][0][1].astimezone(ZoneInfo("Asia/Tokyo"))
    first_sam = sent[SAM][0][1].astimezone(ZoneInfo("America/New_York"))
    assert (first_aiko.day, first_aiko.hour) == (11, 8)
    assert (first_sam.day, first_sam.hour) == (10, 8)
    participants = {p["email"] for p in challenges.list_participants(world.db, 1)}
    assert participants == {AIKO, SAM}
    world.transport.close()


def test_enroll_is_the_challenge_join_verb(db, community, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(challenge_toml(participants="[]", partners=False))
    started = start_challenge(db, path, CHALLENGE_STARTED)
    before_start = datetime(2027, 1, 2, tzinfo=UTC)
    assert enroll(db, started.challenge_id, community[AIKO], before_start) == 1
    assert enroll(db, started.challenge_id, community[AIKO], before_start) is None  # already in
    too_late = datetime(2027, 2, 3, 12, tzinfo=UTC)  # day 30 has begun everywhere
    assert enroll(db, started.challenge_id, community[SAM], too_late) is None


def test_targets_this_build_lacks_are_named_plainly(monkeypatch, home, tmp_path):
    real = feeds.verb
    monkeypatch.setattr(feeds, "verb", lambda kind: None if kind != "challenge" else real(kind))
    with pytest.raises(ConfigError, match=r"call.toml: feeds = 'charter:1': charter targets are not "
                                          r"available in this build \(mailer.flows.charter.add_team_member"):
        parse_spec({"title": "T", "closes": "2027-01-20", "feeds": "charter:1"}, "call.toml")
    from click.testing import CliRunner

    from mailer.cli import main
    from tests.flows.call.conftest import call_toml as toml

    path = tmp_path / "call.toml"
    path.write_text(toml(extra='feeds = "meetup:4"\n'))
    checked = CliRunner().invoke(main, ["--home", str(home), "call", "open", str(path), "--check"])
    assert checked.exit_code == 2
    assert "feeds = 'meetup:4': meetup targets are not available in this build" in checked.output
    assert feeds.problem("meetup:4").startswith("feeds = 'meetup:4': meetup targets are not available")
    assert feeds.problem("challenge:1") is None
    assert "expected \"charter:ID\"" in feeds.problem("project:1")


def test_charter_and_meetup_targets_resolve_through_their_public_verbs(monkeypatch, db, community):
    """When those flows are merged in, a confirmed volunteer is handed to their verb."""
    import types

    calls = []
    fake = types.SimpleNamespace(add_team_member=lambda *a: calls.append(("charter", a[1:3])),
                                 add_speaker=lambda *a: calls.append(("meetup", a[1:3])))
    monkeypatch.setattr(feeds.importlib, "import_module", lambda name: fake)
    now = datetime(2027, 1, 10, tzinfo=UTC)
    feeds.feed(db, "charter:3", community[AIKO], now)
    feeds.feed(db, "meetup:5", community[SAM], now)
    assert calls == [("charter", (3, community[AIKO])), ("meetup", (5, community[SAM]))]


def test_withdrawing_takes_the_volunteer_out_of_the_challenge_the_call_put_them_in(home, tmp_path):
    """Aiko joined through the call and withdraws: she stops. Sam was a participant before the
    call and withdraws from it: he stays in the challenge. The reviewer place goes to Oliver,
    who is enrolled when promoted."""
    from tests.flows.call.conftest import OLIVER

    challenge_path = tmp_path / "challenge.toml"
    challenge_path.write_text(challenge_toml(participants=f'["{SAM}"]', partners=False))

    def start(db) -> None:
        start_challenge(db, challenge_path, CHALLENGE_STARTED)

    world = World(home, tmp_path, toml=call_toml(extra='feeds = "challenge:1"\n'), before_open=start)
    world.now = datetime(2027, 1, 10, 11, 0, tzinfo=UTC)
    world.reply(AIKO, "I'm in as reviewer", "gmail")
    world.reply(SAM, "Count me in as a writer", "outlook")
    world.reply(OLIVER, "I'm in as reviewer", "apple")
    assert world.tick() == {(AIKO, "confirmed"), (SAM, "confirmed"), (OLIVER, "waitlisted")}
    world.reply(AIKO, "Sorry, I can't do it after all", "gmail", to_subject="Re:")
    world.reply(SAM, "Please take me off", "outlook", to_subject="Re:")
    assert world.tick() == {(AIKO, "withdrawn"), (SAM, "withdrawn"), (OLIVER, "promoted")}
    status = {p["email"]: p["status"] for p in challenges.list_participants(world.db, 1)}
    assert status == {AIKO: "stopped", SAM: "active", OLIVER: "active"}
    text = email.message_from_bytes(world.last_mail(AIKO, "Re:"), policy=email.policy.default)
    assert "You are out of the challenge too" in text.get_body(("plain",)).get_content()
    text = email.message_from_bytes(world.last_mail(SAM, "Re:"), policy=email.policy.default)
    assert "out of the challenge" not in text.get_body(("plain",)).get_content()
    world.transport.close()
