"""The lead signs in through the emailed link and sees, in chromium, the numbers the CLI prints.

The community is tests/web/lead_home.py's first week; every figure is read off the page and
compared with ``status``, ``challenge show``, ``charter show``, ``call show``, ``meetup show``
and ``inbox list --for-lead`` (``--json``) at the server's own clock.
"""
from __future__ import annotations

from collections import Counter

import pytest
from selenium.webdriver.common.by import By

from tests.web.conftest import open_page
from tests.web.lead_browser import iso, number, sign_in, signed_in, whole_page_screenshot  # noqa: F401 - signed_in is a fixture
from tests.web.lead_home import cli_json, lead_home, lead_server, web_port_module  # noqa: F401 - fixtures

PAGES = ("challenges", "charters", "calls", "meetups", "outbox", "waiting")



def test_the_overview_shows_every_ritual_and_the_outbox(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead"))
    status = cli_json(lead_server.home, "status", "--now", iso(lead_server))
    assert number(page, "challenges") == 1 and number(page, "charters") == 1
    assert number(page, "calls") == 1 and number(page, "meetups") == 1
    assert number(page, "outbox-queued") == status["outbox"].get("pending", 0) + status["outbox"].get("failed", 0)
    assert number(page, "outbox-dead") == status["outbox"]["dead"] == 1
    whole_page_screenshot(page, "lead-overview")


def test_challenge_numbers_equal_challenge_show(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead/challenges"))
    shown = cli_json(lead_server.home, "challenge", "show", "1", "--now", iso(lead_server))
    people = shown["participants"]
    states = Counter(p["status"] for p in people)
    assert number(page, "challenge-1-participants") == len(people) == 12
    assert [number(page, f"challenge-1-{s}") for s in ("active", "paused", "stopped")] == \
        [states["active"], states["paused"], states["stopped"]] == [10, 1, 1]
    assert number(page, "challenge-1-journaled") == sum(p["days_journaled"] for p in people) == 6
    page.find_element(By.CSS_SELECTOR, "#challenge-1 details summary").click()
    for p in people:
        assert number(page, f"journaled-1-{p['email']}") == p["days_journaled"]
    assert number(page, "challenge-1-streaking") == 1  # Aiko, four days in a row
    whole_page_screenshot(page, "lead-challenges")


def test_journal_text_is_private_except_what_was_marked_share(signed_in, lead_server):
    text = "".join(open_page(signed_in, lead_server.at(f"/lead/{name}")).page_source for name in PAGES)
    assert "a manual approval nobody reads" in text  # Aiko's #share entry, as the digest quotes it
    assert "keeps skipping reviews" not in text  # Priya's entries were not shared
    assert "Day 2: mapped another step" not in text  # nor Aiko's other days
    bars = open_page(signed_in, lead_server.at("/lead/challenges")).find_elements(By.CSS_SELECTOR, ".chart .day")
    assert len(bars) == 5  # participation by day, days 1 to 5


def test_charter_numbers_equal_charter_show(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead/charters"))
    shown = cli_json(lead_server.home, "charter", "show", "1")
    current = [d for d in shown["decisions"] if d["version"] == shown["version"]]
    approved = {d["approver"] for d in current if d["decision"] == "approve" and not d["held"]}
    assert number(page, "charter-1-status") == shown["status"] == "pending"
    assert number(page, "charter-1-version") == shown["version"] == 1
    assert number(page, "charter-1-deadline") == shown["spec"]["deadline"]
    assert number(page, "charter-1-approved") == len(approved) == 1
    assert number(page, "charter-1-not-answered") == len(shown["spec"]["approvers"]) - len(current) == 1
    assert "dana.sponsor@corp.example.com" in page.find_element(By.ID, "charter-1").text
    whole_page_screenshot(page, "lead-charters")


def test_call_numbers_equal_call_show(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead/calls"))
    shown = cli_json(lead_server.home, "call", "show", "1", "--now", iso(lead_server))
    assert number(page, "call-1-state") == shown["state"] == "open"
    for n, role in enumerate(shown["roles"]):
        assert number(page, f"call-1-{n}-places") == role["places"]
        assert number(page, f"call-1-{n}-confirmed") == len(role["confirmed"]) == 2
        assert number(page, f"call-1-{n}-waitlist") == len(role["waitlist"]) == 1
    whole_page_screenshot(page, "lead-calls")


def test_meetup_numbers_equal_meetup_show(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead/meetups"))
    shown = cli_json(lead_server.home, "meetup", "show", "1")
    answers = Counter(p["answer"] for p in shown["invitees"])
    assert number(page, "meetup-1-invited") == len(shown["invitees"]) == 4
    for state in ("accepted", "tentative", "declined", "needs-action"):
        assert number(page, f"meetup-1-{state}") == answers[state]
    assert number(page, "meetup-1-attended") == sum(bool(p["attended"]) for p in shown["invitees"])
    whole_page_screenshot(page, "lead-meetups")


def test_outbox_numbers_equal_status(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead/outbox"))
    outbox = cli_json(lead_server.home, "status", "--now", iso(lead_server))["outbox"]
    assert number(page, "outbox-sent") == outbox["sent"]
    assert number(page, "outbox-dead") == outbox["dead"]
    assert number(page, "outbox-sending") == outbox.get("sending", 0)
    assert "550 5.1.1" in page.find_element(By.CSS_SELECTOR, "tr[id^=dead-]").text  # the reason it died
    whole_page_screenshot(page, "lead-outbox")


def test_what_waits_equals_inbox_list_for_lead(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead/waiting"))
    kept = cli_json(lead_server.home, "inbox", "list", "--for-lead")
    assert number(page, "waiting-messages") == len(kept) == 1
    assert "declined call 1" in page.find_element(By.TAG_NAME, "main").text
    whole_page_screenshot(page, "lead-waiting")
