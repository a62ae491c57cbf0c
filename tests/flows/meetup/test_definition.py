"""The meetup file: what it accepts, what it refuses (naming file, key and value), who it invites,
and a challenge's ``[report_back]`` table."""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

from mailer.errors import ConfigError
from mailer.flows import meetup
from mailer.flows.challenge.definition import start_challenge
from mailer.flows.meetup import definition
from mailer.store import calls
from mailer.store import challenges as challenge_store
from mailer.store import meetups as store
from tests.flows.challenge.conftest import challenge_toml
from tests.flows.meetup.conftest import SCHEDULED_AT, UTC, meetup_toml


def test_a_valid_file_gives_a_spec_with_the_utc_start(write_meetup):
    spec = definition.load_definition(write_meetup())
    assert spec["start"] == datetime(2027, 3, 30, 17, 0, tzinfo=UTC)  # 18:00 BST
    assert spec["online_url"] == "https://meet.example.com/report-back"  # a link alone is the meeting
    assert spec["invite"] == ("ana@corp.example.com", "bob@corp.example.com", "chen@corp.example.com")


@pytest.mark.parametrize("extra,fragment", [
    ('colour = "red"\n', "unknown key 'colour'"),
    ('speakers = "ana"\n', "speakers = 'ana'; expected a list of email addresses"),
])
def test_errors_name_the_file_and_the_key(write_meetup, extra, fragment):
    path = write_meetup(meetup_toml(extra=extra))
    with pytest.raises(ConfigError) as err:
        definition.load_definition(path)
    assert str(path) in str(err.value) and fragment in str(err.value)


@pytest.mark.parametrize("text,fragment", [
    (meetup_toml(zone="Mars/Olympus"), "timezone = 'Mars/Olympus'; expected an IANA time zone"),
    (meetup_toml(start='"soon"'), "start = 'soon'; expected a local date and time"),
    (meetup_toml(start="2027-03-28T01:30:00"), "does not exist (the clocks go forward) in Europe/London"),
    (meetup_toml(start="2027-10-31T01:30:00"), "happens twice (the clocks go back)"),
    (meetup_toml(invite='"charter 3"'), "invite: 'charter 3' is not an email address"),
    (meetup_toml(invite="[]"), "invite = []"),
    (meetup_toml(extra="duration_minutes = 0\n").replace("duration_minutes = 60\n", ""),
     "duration_minutes = 0; expected a whole number from 5 to 1440"),
])
def test_bad_values_are_refused(write_meetup, text, fragment):
    with pytest.raises(ConfigError, match=None) as err:
        definition.load_definition(write_meetup(text))
    assert fragment in str(err.value)


@pytest.mark.parametrize("kind", ["charter", "call"])
def test_charter_and_call_say_clearly_when_they_are_not_available(db, crew, write_meetup, monkeypatch, kind):
    monkeypatch.setitem(sys.modules, f"mailer.flows.{kind}", None)  # an installation without that flow
    spec = definition.load_definition(write_meetup(meetup_toml(invite=f'"{kind}:3"')))
    with pytest.raises(ConfigError, match=rf'"{kind}:ID" is not available here: this installation has no {kind}'):
        meetup.schedule_meetup(db, spec, SCHEDULED_AT)


def test_a_call_invites_its_confirmed_volunteers(db, crew):
    call_id = calls.create_call(db, {"title": "Speakers", "description": "", "to_spec": "all", "closes": "2027-03-20",
                                     "feeds": "", "sender": "", "source": ""}, [{"name": "speaker", "places": 1}],
                                SCHEDULED_AT)
    for email in ("bob@corp.example.com", "chen@corp.example.com"):  # Bob gets the place, Chen waits
        calls.take_place(db, call_id, "speaker", crew[email], SCHEDULED_AT)
    assert [p["email"] for p in definition.resolve_invite(db, [f"call:{call_id}"])] == ["bob@corp.example.com"]


def test_other_flows_answers_may_be_people_ids_or_addresses(db, crew, monkeypatch):
    ids = list(crew.values())
    monkeypatch.setattr(definition, "_other_flow", lambda kind, where: lambda db, n: [ids[0], {"email": "bob@corp.example.com"}])
    found = definition.resolve_invite(db, ["call:2"])
    assert [p["email"] for p in found] == ["ana@corp.example.com", "bob@corp.example.com"]


def test_a_role_resolves_to_the_people_holding_it(db, crew):
    assert len(definition.resolve_invite(db, ["member"])) == 4
    assert definition.resolve_invite(db, ["lead"]) == []


def test_a_challenge_with_report_back_schedules_its_meetup(db, crew, tmp_path: Path):
    path = tmp_path / "challenge.toml"
    path.write_text(challenge_toml(length=3, participants='["ana@corp.example.com", "dora@corp.example.com"]',
                                   extra='[report_back]\ndays_after_end = 2\nhour = "17:30"\n'
                                         'location = "https://meet.example.com/rb"\n'))
    started = start_challenge(db, path, datetime(2026, 12, 1, tzinfo=UTC))
    assert started.summary.endswith("; report-back meetup Fri 8 Jan 17:30 Europe/Berlin")
    (m,) = store.list_meetups(db)
    # day 3 is 6 Jan; two days later at 17:30 in Berlin (one each: the zone sorted first)
    assert m["timezone"] == "Europe/Berlin"
    assert m["start"] == datetime(2027, 1, 8, 16, 30, tzinfo=UTC)
    assert m["invite_spec"] == [f"challenge:{started.challenge_id}"]
    assert m["sponsors"] == ["sponsor@corp.example.com"] and m["online_url"] == "https://meet.example.com/rb"
    assert {p["email"] for p in store.list_invitees(db, m["id"])} == {"ana@corp.example.com", "dora@corp.example.com"}


def test_report_back_with_a_zone_and_its_errors(db, crew, tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text(challenge_toml(length=3, extra='[report_back]\ntimezone = "America/New_York"\nhour = 9\n'))
    start_challenge(db, path, datetime(2026, 12, 1, tzinfo=UTC))
    (m,) = store.list_meetups(db)
    assert m["start"] == datetime(2027, 1, 7, 14, 0, tzinfo=UTC)  # 7 Jan 09:00 EST
    path.write_text(challenge_toml(length=3, extra='[report_back]\nwhen = 9\n'))
    with pytest.raises(ConfigError, match=r"c\.toml: report_back: unknown key 'when'"):
        start_challenge(db, path, datetime(2026, 12, 1, tzinfo=UTC))
    assert len(challenge_store.list_challenges(db)) == 1
