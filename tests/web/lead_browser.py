"""Signing in to the lead's page in chromium, and reading numbers off it (for tests/web/test_lead_*)."""
from __future__ import annotations

import re

import pytest

from selenium.webdriver.common.by import By

from tests.web.conftest import ROOT, open_page
from tests.web.conftest import press as submit
from tests.web.lead_home import LEAD, LeadServer, cli

LINK = re.compile(r"https?://\S+/lead/sign-in/[\w.-]+")


def iso(server: LeadServer) -> str:
    """The server's clock as ``--now`` reads it."""
    return server.clock[0].strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_in_links(server: LeadServer, email: str) -> set[str]:
    """Every sign-in link the Maildir outbox holds for ``email`` (from the text part)."""
    return {LINK.search(m.get_body(("plain",)).get_content()).group(0)
            for m in server.sent_to(email) if m["Subject"].startswith("Sign in to the lead page")}


def ask_for_link(browser, server: LeadServer, email: str) -> str:
    """Ask for a link on the sign-in page as ``email``, run the worker's tick; the page's answer."""
    open_page(browser, server.at("/lead/sign-in"))
    browser.find_element(By.ID, "email").send_keys(email)
    # the answer is a page of its own at the same address: waiting for the old page's heading to
    # change read elements of a page that could go away in between ("stale element" under load)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "main form button"))
    answer = browser.find_element(By.TAG_NAME, "main").text
    cli(server.home, "tick", "--now", iso(server))
    return answer


def emailed_link(browser, server: LeadServer, email: str = LEAD) -> str:
    """The one new sign-in link ``email`` gets after asking for one."""
    before = sign_in_links(server, email)
    ask_for_link(browser, server, email)
    new = sign_in_links(server, email) - before
    assert len(new) == 1, new
    return new.pop()


def press(browser, button, then_at: str) -> None:
    """Click a form's button and wait until the browser has left the page and loaded ``then_at``
    (a click returns before the form's POST has been answered)."""
    submit(browser, button, then_at)


def sign_in(browser, server: LeadServer) -> None:
    """Sign in as the lead through a link read from the real Maildir outbox."""
    open_page(browser, emailed_link(browser, server))
    press(browser, browser.find_element(By.ID, "sign-in"), server.at("/lead"))


def number(browser, name: str) -> int | str:
    """The figure the page marks ``data-n="name"`` (an int when it is one); a state shown in the
    lead's language gives its stored value in ``data-value``."""
    found = browser.find_element(By.CSS_SELECTOR, f'[data-n="{name}"]')
    text = (found.get_attribute("data-value") or found.text).strip()
    return int(text) if text.isdigit() else text


def whole_page_screenshot(browser, name: str) -> None:
    """Save the whole page (not just the window) as docs/web/<name>.png."""
    width = browser.get_window_size()["width"]
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, max(height + 140, 600))
    try:
        path = ROOT / "docs" / "web" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(path))
    finally:
        browser.set_window_size(width, 900)


@pytest.fixture(scope="module")
def signed_in(lead_server, chromium):
    """The session's chromium, signed in as the lead (once for each test module using it)."""
    chromium.delete_all_cookies()
    sign_in(chromium, lead_server)
    yield chromium
    chromium.delete_all_cookies()
