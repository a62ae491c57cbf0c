"""Challenge files: the documented shape loads; each mistake is a clear error naming the file."""
from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from mailer.errors import ConfigError
from mailer.flows.challenge.definition import load_definition, start_challenge
from mailer.store import challenges as store
from mailer.store.people import add_person
from tests.flows.challenge.conftest import BEFORE, challenge_toml

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "challenges" / "devops-30.toml"


def test_the_sample_programme_is_complete_and_distinct():
    definition = load_definition(SAMPLE)
    assert definition.start == date(2027, 1, 4) and definition.length == 30 and definition.send == time(8)
    assert definition.participants == "all" and definition.partners
    assert definition.sponsors == ("sponsor@corp.example.com",)
    titles = [title for title, _ in definition.days]
    assert len(titles) == len(set(titles)) == 30
    assert titles[4] == "Pair on a pipeline"
    assert all(40 <= len(activity.split()) <= 160 for _, activity in definition.days)


def test_the_issue_example_shape_loads(write_challenge):
    path = write_challenge(challenge_toml(length=2, participants='["aiko@corp.example.com"]'))
    definition = load_definition(path)
    assert definition.title == "DevOps 30-day challenge" and definition.domain == "DevOps"
    assert definition.participants == ("aiko@corp.example.com",)
    assert definition.days[1][0] == "Practice 2"


@pytest.mark.parametrize("change, message", [
    (("length = 30", "length = 30\ncolour = \"blue\""), "unknown key 'colour'"),
    (("send_hour = 8", "send_hour = 25"), "send_hour = 25"),
    (("start = 2027-01-04", "start = \"next monday\""), "start = 'next monday'"),
    (("participants = \"all\"", "participants = \"volunteers\""), "volunteer call is not supported yet"),
    (("partners = true", "partners = \"yes\""), "partners = 'yes'"),
    (('title = "Practice 3"\n', 'title = "Practice 3"\nminutes = 20\n'), "days[3]: unknown key 'minutes'"),
    (("length = 30", "length = 31"), "day 31 is missing"),
    (("length = 30", "length = 0"), "length = 0"),
    (('sponsors = ["sponsor@corp.example.com"]', 'sponsors = ["not an address"]'), "is not an email address"),
])
def test_mistakes_are_named_with_the_file(write_challenge, change, message):
    path = write_challenge(challenge_toml().replace(*change, 1))
    with pytest.raises(ConfigError) as error:
        load_definition(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_a_missing_day_in_the_middle_is_named(write_challenge):
    text = challenge_toml()
    cut_from = text.index('[[days]]\ntitle = "Practice 12"')
    cut_to = text.index('[[days]]\ntitle = "Practice 13"')
    path = write_challenge(text[:cut_from] + text[cut_to:].replace('title = "Practice 13"',
                                                                   'day = 13\ntitle = "Practice 13"'))
    with pytest.raises(ConfigError, match="days\\[12\\] says day = 13 .*is day 12 missing"):
        load_definition(path)
    plain = write_challenge(text[:cut_from] + text[cut_to:])
    with pytest.raises(ConfigError, match="day 30 is missing"):
        load_definition(plain)


def test_days_can_come_from_a_folder_of_markdown_files(tmp_path, write_challenge):
    folder = tmp_path / "days"
    folder.mkdir()
    for n in (1, 2, 3):
        (folder / f"{n:02d}-step.md").write_text(f"# Step {n}\n\nDo **step {n}**.\n", encoding="utf-8")
    head = challenge_toml(length=3).split("[[days]]")[0].replace("length = 3", 'length = 3\ndays_folder = "days"')
    definition = load_definition(write_challenge(head))
    assert definition.days == (("Step 1", "Do **step 1**."), ("Step 2", "Do **step 2**."),
                               ("Step 3", "Do **step 3**."))
    (folder / "02-step.md").unlink()
    with pytest.raises(ConfigError, match="day 2 is missing"):
        load_definition(write_challenge(head))


def test_send_hour_may_be_a_time_of_day(write_challenge):
    path = write_challenge(challenge_toml(length=1).replace("send_hour = 8", 'send_hour = "07:30"'))
    assert load_definition(path).send == time(7, 30)


def test_not_toml_at_all(write_challenge):
    path = write_challenge("title = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_definition(path)


def test_an_unknown_participant_is_an_error(db, crew, write_challenge):
    path = write_challenge(challenge_toml(participants='["aiko@corp.example.com", "ghost@corp.example.com"]'))
    with pytest.raises(ConfigError, match="ghost@corp.example.com is not a known person"):
        start_challenge(db, path, BEFORE)
    assert store.list_challenges(db) == []


def test_a_bad_time_zone_is_an_error(db, crew, write_challenge):
    add_person(db, "mars@corp.example.com", "Marvin", "Mars/Olympus_Mons", ("member",))
    with pytest.raises(ConfigError, match="mars@corp.example.com has time zone 'Mars/Olympus_Mons'"):
        start_challenge(db, write_challenge(), BEFORE)


def test_start_says_what_will_happen(db, crew, write_challenge):
    started = start_challenge(db, write_challenge(), BEFORE)
    assert started.summary == ("4 participants, day 1 goes out on Mon 4 Jan at 08:00 local, "
                               "first send 23:00 UTC Sun for Tokyo")
    assert len(store.list_participants(db, started.challenge_id)) == 4
    with pytest.raises(ConfigError, match="already started as challenge"):
        start_challenge(db, write_challenge(), BEFORE)


def test_all_means_every_member_not_sponsors_or_bounced_addresses(db, crew, write_challenge):
    from mailer.store.people import set_status

    add_person(db, "funder@corp.example.com", "Fay Funder", "Europe/Paris", ("sponsor",))
    gone = add_person(db, "gone@corp.example.com", "Gus Gone", "Europe/Paris", ("member",))
    set_status(db, gone, "bounced")
    started = start_challenge(db, write_challenge(), BEFORE)
    assert sorted(p["email"] for p in started.participants) == sorted(crew)
