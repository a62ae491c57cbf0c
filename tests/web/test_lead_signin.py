"""Signing in to the lead's page: only by a genuine, fresh, unspent link made for a lead, and
every form only with its CSRF token. Each refused attempt changes nothing: no session, no
email queued, no link recorded (``lead_access.counts`` and the outbox before and after)."""
from __future__ import annotations

import re

import pytest
import requests
from selenium.webdriver.common.by import By

from mailer.store import lead_access
from mailer.store import outbox as outbox_store
from mailer.web.context import load_context
from mailer.web.lead import access
from mailer.web.tokens import Signer
from tests.web.conftest import open_page
from tests.web.lead_browser import (ask_for_link, emailed_link, iso, press, sign_in, sign_in_links,
                                   whole_page_screenshot)
from tests.web.lead_home import LEAD, cli, later, lead_home, lead_server, web_port_module  # noqa: F401 - fixtures

MEMBER = "aiko.tanaka@corp.example.com"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(autouse=True)
def next_hour(lead_server):
    """Each test an hour after the last: a lead may ask for ``LINKS_PER_HOUR`` links an hour."""
    later(lead_server, hours=1)


def snapshot(server) -> tuple:
    """What a refused attempt must leave as it was: links, sessions, and the outbox."""
    db = server.db()
    try:
        return lead_access.counts(db), outbox_store.counts(db), len(outbox_store.list_rows(db, limit=100_000))
    finally:
        db.close()


def spend_without_browser(server, link: str, headers: dict | None = None) -> requests.Response:
    """POST a sign-in link as a form would (pre-session cookie and its CSRF token)."""
    session = requests.Session()
    token = CSRF.search(session.get(server.at("/lead/sign-in"), headers=headers).text).group(1)
    return session.post(link, data={"csrf": token}, headers=headers, allow_redirects=False)


def test_the_lead_signs_in_through_the_emailed_link(browser, lead_server):
    open_page(browser, lead_server.at("/lead"))
    assert browser.current_url == lead_server.at("/lead/sign-in")  # not signed in: the sign-in page
    whole_page_screenshot(browser, "lead-sign-in")
    answer = ask_for_link(browser, lead_server, LEAD)
    assert "Check your email" in answer
    whole_page_screenshot(browser, "lead-sign-in-sent")
    link = sign_in_links(lead_server, LEAD).pop()
    open_page(browser, link)
    whole_page_screenshot(browser, "lead-sign-in-link")
    press(browser, browser.find_element(By.ID, "sign-in"), lead_server.at("/lead"))
    assert "Oliver Bennett" in browser.find_element(By.TAG_NAME, "main").text
    cookie = browser.get_cookie("cop_lead")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # http here: not Secure


def test_cookies_are_secure_behind_an_https_proxy(browser, lead_server):
    https = {"X-Forwarded-Proto": "https"}  # what the docs' proxies send; uvicorn trusts it from 127.0.0.1
    link = emailed_link(browser, lead_server)
    form = requests.get(link, headers=https)
    pre = next(c.split(";")[0].split("=", 1)[1]  # by hand: requests sends a Secure cookie only over https
               for c in form.raw.headers.getlist("set-cookie") if c.startswith("cop_lead_pre="))
    answer = requests.post(link, data={"csrf": CSRF.search(form.text).group(1)}, allow_redirects=False,
                           headers={**https, "Cookie": f"cop_lead_pre={pre}"})
    assert answer.status_code == 303
    for name in ("cop_lead_pre", "cop_lead"):
        cookie = next(c for c in [*form.raw.headers.getlist("set-cookie"), *answer.raw.headers.getlist("set-cookie")]
                      if c.startswith(f"{name}=") and "Max-Age=0" not in c)
        assert {"HttpOnly", "Secure", "SameSite=lax", "Path=/lead"} <= {part.strip() for part in cookie.split(";")}


def test_a_link_works_once(browser, lead_server):
    link = emailed_link(browser, lead_server)
    press(browser, open_page(browser, link).find_element(By.ID, "sign-in"), lead_server.at("/lead"))
    browser.delete_all_cookies()
    before = snapshot(lead_server)
    assert spend_without_browser(lead_server, link).status_code == 404
    assert snapshot(lead_server) == before


def test_a_scanner_opening_the_link_does_not_spend_it(browser, lead_server):
    link = emailed_link(browser, lead_server)
    assert requests.get(link).status_code == 200  # a link previewer fetches it
    assert spend_without_browser(lead_server, link).status_code == 303  # the lead can still sign in


def test_a_forged_link_is_refused(browser, lead_server):
    link = emailed_link(browser, lead_server)
    body, signature = link.rsplit(".", 1)
    forged = body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    other_key = Signer(["not-this-home's-key"], 1, lambda: lead_server.clock[0])
    token = link.rsplit("/", 1)[1]
    made_elsewhere = link.replace(token, other_key.sign(3, access.LINK_PURPOSE, "any-nonce"))
    before = snapshot(lead_server)
    for bad in (forged, made_elsewhere, lead_server.at("/lead/sign-in/not-a-token")):
        assert "This link does not work" in open_page(browser, bad).find_element(By.TAG_NAME, "h1").text
        assert spend_without_browser(lead_server, bad).status_code == 404
    assert snapshot(lead_server) == before
    assert spend_without_browser(lead_server, link).status_code == 303  # the genuine one still works


def test_an_expired_link_is_refused(browser, lead_server):
    link = emailed_link(browser, lead_server)
    later(lead_server, minutes=access.LINK_MINUTES + 1)
    try:
        before = snapshot(lead_server)
        assert spend_without_browser(lead_server, link).status_code == 404
        assert snapshot(lead_server) == before
    finally:
        later(lead_server, minutes=-(access.LINK_MINUTES + 1))


def test_another_persons_token_is_refused(lead_server):
    ctx = load_context(lead_server.home, now=lambda: lead_server.clock[0])
    db = lead_server.db()
    member = next(db.query("SELECT id FROM people WHERE email = ?", [MEMBER]))["id"]
    # a member's own preferences link (same key, another purpose), and a sign-in link made for
    # a member who is not a lead, with its nonce on record as if it had been sent
    lead_access.add_link(db, "members-nonce", member, lead_server.clock[0], lead_server.clock[0].replace(year=2030))
    db.close()
    before = snapshot(lead_server)
    for token in (ctx.signer.sign(member, "prefs"), ctx.signer.sign(member, access.LINK_PURPOSE, "members-nonce")):
        assert spend_without_browser(lead_server, lead_server.at(f"/lead/sign-in/{token}")).status_code == 404
    assert snapshot(lead_server) == before


def test_a_non_leads_request_changes_nothing_and_reveals_nothing(browser, lead_server):
    before = snapshot(lead_server)
    answers = {email: ask_for_link(browser, lead_server, email)
               for email in (MEMBER, "stranger@elsewhere.example", LEAD.upper().replace("OLIVER", "olivia"))}
    after = snapshot(lead_server)
    assert after[0] == before[0]  # no link recorded
    assert sign_in_links(lead_server, MEMBER) == set()  # and none sent
    lead_answer = ask_for_link(browser, lead_server, LEAD)
    assert set(answers.values()) == {lead_answer}  # word for word what a lead is told


def test_a_form_without_its_csrf_token_is_refused(browser, lead_server):
    sign_in(browser, lead_server)
    open_page(browser, lead_server.at("/lead/outbox"))
    dead_row = browser.find_element(By.CSS_SELECTOR, "tr[id^=dead-]")
    browser.execute_script("arguments[0].querySelector('input[name=csrf]').remove()", dead_row)
    before = snapshot(lead_server)
    press(browser, dead_row.find_element(By.TAG_NAME, "button"), lead_server.at(f"/lead/retry/{dead_row.get_attribute('id')[5:]}"))
    assert "Nothing was done" in browser.find_element(By.TAG_NAME, "h1").text
    assert snapshot(lead_server) == before  # the email is still dead


def test_a_token_from_another_session_or_none_at_all_is_refused(browser, lead_server):
    sign_in(browser, lead_server)
    page = open_page(browser, lead_server.at("/lead/calls")).page_source
    token = CSRF.search(page).group(1)
    stranger = requests.Session()
    stranger.get(lead_server.at("/lead/sign-in"))  # a pre-session cookie of its own
    before = snapshot(lead_server)
    assert stranger.post(lead_server.at("/lead/close/1"), data={"csrf": token}).status_code == 403
    session = {"cop_lead": browser.get_cookie("cop_lead")["value"]}
    assert requests.post(lead_server.at("/lead/close/1"), cookies=session).status_code == 403
    assert requests.post(lead_server.at("/lead/sign-in"), data={"email": LEAD}).status_code == 403
    assert snapshot(lead_server) == before
    assert cli(lead_server.home, "call", "show", "1", "--now", iso(lead_server)).startswith("1: Playbook writers (open")


def test_signing_out_ends_the_session(browser, lead_server):
    sign_in(browser, lead_server)
    session = browser.get_cookie("cop_lead")["value"]
    press(browser, browser.find_element(By.CSS_SELECTOR, "header form button"), lead_server.at("/lead/sign-in"))
    replayed = requests.get(lead_server.at("/lead/outbox"), cookies={"cop_lead": session}, allow_redirects=False)
    assert replayed.status_code == 303 and replayed.headers["location"] == "/lead/sign-in"


@pytest.mark.parametrize("path", ["/lead", "/lead/challenges", "/lead/outbox", "/lead/waiting"])
def test_pages_need_a_session(lead_server, path):
    answer = requests.get(lead_server.at(path), cookies={"cop_lead": "made-up"}, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/lead/sign-in"


def test_a_lead_asking_again_and_again_gets_a_few_links_an_hour(browser, lead_server):
    before = sign_in_links(lead_server, LEAD)
    for _ in range(access.LINKS_PER_HOUR + 2):
        ask_for_link(browser, lead_server, LEAD)
    assert len(sign_in_links(lead_server, LEAD) - before) == access.LINKS_PER_HOUR


def test_erasing_the_lead_ends_their_sessions_and_links(browser, lead_server):  # the module's last test
    sign_in(browser, lead_server)
    session = browser.get_cookie("cop_lead")["value"]
    db = lead_server.db()
    lead = next(db.query("SELECT id FROM people WHERE email = ?", [LEAD]))["id"]
    assert lead_access.counts(db, lead)["sessions"] > 0
    cli(lead_server.home, "people", "erase", LEAD, "--yes", "--now", iso(lead_server))
    assert lead_access.counts(db, lead) == {"links": 0, "sessions": 0}
    db.close()
    replayed = requests.get(lead_server.at("/lead"), cookies={"cop_lead": session}, allow_redirects=False)
    assert replayed.status_code == 303 and replayed.headers["location"] == "/lead/sign-in"
