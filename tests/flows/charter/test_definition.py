"""The charter file: every error names the file, the key, the value and what was expected."""
from __future__ import annotations

import pytest

from mailer.errors import ConfigError
from mailer.flows.charter import definition as cdef
from mailer.flows.charter import lifecycle, rules
from tests.flows.charter.conftest import SUBMITTED, charter_toml


def test_a_valid_file(write_charter):
    d = cdef.load_definition(write_charter())
    assert (d.title, d.kind, d.rule, d.open_places, d.report_every_weeks) == \
        ("Observability playbook", "practice-development", "all", 1, 2)
    assert d.team == ("alice@corp.example.com", "bob@corp.example.com")
    assert cdef.resourcing(d.as_spec()) == "3 people × 2 h/week × 8 weeks = 48 hours"
    assert cdef.budget_line(d.as_spec()) == "5,000 EUR"


@pytest.mark.parametrize("extra, words", [
    ('colour = "blue"\n', ["unknown key 'colour'", "expected one of"]),
    ('[report_back]\nwhen = 3\n', ["report_back.when", "expected one of"]),
    ('[report_back]\nhour = 25\n', ["report_back", "hour = 25", "0 to 23"]),
])
def test_unknown_or_bad_keys_are_refused_naming_file_and_key(write_charter, extra, words):
    path = write_charter(charter_toml(extra=extra))
    with pytest.raises(ConfigError) as err:
        cdef.load_definition(path)
    for word in [str(path), *words]:
        assert word in str(err.value)


@pytest.mark.parametrize("replace, words", [
    (('rule = "all"', 'rule = "most"'), ["rule = 'most'", '"majority"']),
    (('rule = "all"', "rule = 3"), ["rule = 3", "from 1 to 2"]),
    (("hours_per_week = 2", "hours_per_week = 0"), ["hours_per_week = 0", "above 0"]),
    (("duration_weeks = 8", 'duration_weeks = "8"'), ["duration_weeks = '8'", "whole number"]),
    (("deadline = 2027-01-20", 'deadline = "soon"'), ["deadline = 'soon'", "2027-01-20"]),
    (('kind = "practice-development"', 'kind = "hackathon"'), ["kind = 'hackathon'", "case-study"]),
    (('proposer = "lead@corp.example.com"', 'proposer = "lead"'), ["proposer = 'lead'", "email address"]),
    (('approvers = ["priya@corp.example.com", "omar@corp.example.com"]', "approvers = []"),
     ["approvers is required"]),
    (('team = ["alice@corp.example.com", "bob@corp.example.com"]', 'team = ["alice@corp.example.com", '
      '"alice@corp.example.com"]'), ["team: alice@corp.example.com is listed twice"]),
])
def test_bad_values_are_refused_with_what_was_expected(write_charter, replace, words):
    path = write_charter(charter_toml().replace(*replace))
    with pytest.raises(ConfigError) as err:
        cdef.load_definition(path)
    for word in [str(path), *words]:
        assert word in str(err.value)


def test_unknown_people_are_refused(world, write_charter):
    path = write_charter(charter_toml(approvers=("priya", "nobody")))
    with pytest.raises(ConfigError, match=r"approvers: nobody@corp.example.com is not a known person"):
        lifecycle.check(world.db, path, SUBMITTED)


def test_what_changed_between_versions():
    a = {"title": "T", "hours_per_week": 2, "team": ["a@x.io"], "budget": None}
    b = {"title": "T", "hours_per_week": 1.5, "team": ["a@x.io", "b@x.io"], "budget": 100}
    assert cdef.changes(a, b) == ["Team: a@x.io → a@x.io, b@x.io", "Hours per week: 2 → 1.5", "Budget: (none) → 100"]


def test_a_budget_change_reads_as_money_and_a_deadline_as_a_date():
    a = {"budget": 6000, "currency": "EUR", "deadline": "2027-01-20"}
    b = {"budget": 4500, "currency": "EUR", "deadline": "2027-01-27"}
    assert cdef.changes(a, b) == ["Budget: 6,000 EUR → 4,500 EUR", "Deadline: Wed 20 Jan 2027 → Wed 27 Jan 2027"]


@pytest.mark.parametrize("rule, count, answers, expected", [
    ("all", 3, {1: "approve", 2: "approve"}, "pending"),
    ("all", 3, {1: "approve", 2: "approve", 3: "reject"}, "rejected"),
    ("all", 3, {1: "approve", 2: "approve", 3: "approve"}, "approved"),
    ("all", 3, {1: "request_changes"}, "changes_requested"),
    ("any", 3, {1: "reject", 2: "reject"}, "pending"),
    ("any", 3, {1: "reject", 2: "approve"}, "approved"),
    ("majority", 4, {1: "approve", 2: "approve"}, "pending"),
    ("majority", 4, {1: "approve", 2: "approve", 3: "approve"}, "approved"),
    ("majority", 4, {1: "reject", 2: "reject"}, "rejected"),
    (2, 3, {1: "approve", 2: "approve"}, "approved"),
    (2, 3, {1: "reject", 2: "request_changes"}, "changes_requested"),
    (2, 3, {1: "reject", 2: "reject"}, "rejected"),
    ("all", 2, {9: "approve", 1: "approve"}, "pending"),  # someone who is not an approver counts for nothing
])
def test_the_rule(rule, count, answers, expected):
    assert rules.outcome(rule, list(range(1, count + 1)), answers) == expected


def test_held_answers_do_not_count():
    decisions = [{"approver_id": 1, "decision": "approve", "held": True},
                 {"approver_id": 2, "decision": "reject", "held": False},
                 {"approver_id": 2, "decision": "approve", "held": False}]
    assert rules.latest_answers(decisions) == {2: "approve"}
