"""The call file: unknown keys refused, every error naming the file, the key and the value."""
from __future__ import annotations

from datetime import date

import pytest

from mailer.errors import ConfigError
from mailer.flows.call.definition import load_spec, open_call, parse_spec
from tests.flows.call.conftest import OPENED, call_toml


def test_a_valid_file(write_call):
    spec = load_spec(write_call())
    assert spec["title"] == "Playbook writers" and spec["closes"] == date(2027, 1, 20)
    assert spec["to"] == "all" and spec["sender"] == "lena@corp.example.com" and spec["feeds"] == ""
    assert spec["roles"] == [{"name": "writer", "places": 2, "description": "Drafts two chapters"},
                             {"name": "reviewer", "places": 1, "description": ""}]


def test_no_roles_is_one_unnamed_unlimited_role(write_call):
    assert load_spec(write_call(call_toml(roles="")))["roles"] == [{"name": "", "places": None, "description": ""}]


@pytest.mark.parametrize("text, message", [
    ('title = "T"\ncloses = 2027-01-20\ncolour = "red"\n', "unknown key 'colour'; expected one of title"),
    ('closes = 2027-01-20\n', "title is required"),
    ('title = "T"\n', "closes is required"),
    ('title = "T"\ncloses = "next week"\n', "closes = 'next week'; expected a date like 2027-01-20"),
    ('title = "T"\ncloses = 2027-01-20\nto = 3\n', "to = 3; expected \"all\", a role"),
    ('title = "T"\ncloses = 2027-01-20\nto = ["not-an-address"]\n', "to: 'not-an-address' is not an email"),
    ('title = "T"\ncloses = 2027-01-20\nfeeds = "project:2"\n', "feeds = 'project:2'; expected \"charter:ID\""),
    ('title = "T"\ncloses = 2027-01-20\nsender = "lena"\n', "sender = 'lena'; expected an email address"),
    ('title = "T"\ncloses = 2027-01-20\n[[roles]]\nplaces = 2\n', "roles[1]: name = None; expected a short name"),
    ('title = "T"\ncloses = 2027-01-20\n[[roles]]\nname = "w"\nplaces = 0\n',
     "roles[1]: places = 0; expected a whole number >= 1"),
    ('title = "T"\ncloses = 2027-01-20\n[[roles]]\nname = "w"\nseats = 2\n', "roles[1]: unknown key 'seats'"),
    ('title = "T"\ncloses = 2027-01-20\n[[roles]]\nname = "w"\n[[roles]]\nname = "W"\n',
     "roles[2]: name 'W' is used twice"),
    ('title = "T"\ncloses = 2027-01-20\ntitle = "again"\n', "not valid TOML"),
])
def test_errors_name_the_file_and_the_key(write_call, text, message):
    path = write_call(text)
    with pytest.raises(ConfigError) as caught:
        load_spec(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_open_call_takes_a_spec_from_another_flow_and_is_idempotent(db, community):
    spec = {"title": "Charter 3 team", "description": "", "to": ["aiko@corp.example.com"],
            "closes": date(2027, 1, 20), "feeds": "", "sender": "lena@corp.example.com",
            "roles": [{"name": "engineer", "places": 2, "description": "Builds it"}]}
    first = open_call(db, spec, OPENED)
    assert open_call(db, spec, OPENED) == first
    with pytest.raises(ConfigError, match="to: nobody@corp.example.com is not a known person"):
        open_call(db, {**spec, "title": "Other", "to": ["nobody@corp.example.com"]}, OPENED)
    with pytest.raises(ConfigError, match="call 'Other': unknown key 'seats'"):
        parse_spec({**spec, "title": "Other", "seats": 3}, "call 'Other'")
