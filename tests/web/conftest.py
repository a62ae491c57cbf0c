"""Fixtures for `serve`: a live ``run.py serve`` on a real home, and a real headless chromium.

- ``web_home``: a real home (sample community seeded, maildir transport) whose ``[web] base_url``
  is the server's own address, so links in its emails open on the live server.
- ``live_server``: ``run.py --home H serve`` started as its own process on a free port; gives
  ``.url``, ``.home``, ``.at(path)`` and ``.db()`` (a fresh connection to the home's database).
  ``serve_at(now)`` starts it with its clock at ``now`` (``serve --now``), for links made by
  ticks at a test's clock.
- ``browser``: Debian's chromium through chromedriver (selenium), headless, one per test session;
  cookies are cleared before each test that uses it. ``open_page(browser, url)`` loads a page and
  returns the browser; ``press(browser, button)`` submits a form and waits until the next page
  has replaced this one and loaded.

Chromium missing is an error, not a skip: the browser tests must fail where they cannot run.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import requests

from mailer.app import App
from mailer.store import open_db

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_web_home(home: Path, port: int, data: str = "sample", **sections: dict[str, str | int | bool]) -> Path:
    """A home whose `serve` listens on ``port`` and whose emails link to it; ``sections`` add
    or override keys (``web={"lead_emails": "..."}``)."""
    table: dict[str, dict] = {
        "mailer": {"data": data, "address": "cop@example.test", "site_name": "Practice Community"},
        "web": {"base_url": f"http://127.0.0.1:{port}", "port": port},
    }
    for name, values in sections.items():
        table.setdefault(name, {}).update(values)
    lines = []
    for name, values in table.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            shown = ("true" if value else "false") if isinstance(value, bool) else (
                str(value) if isinstance(value, int) else f'"{value}"')
            lines.append(f"{key} = {shown}")
    home.mkdir(parents=True, exist_ok=True)
    (home / "mailer.toml").write_text("\n".join(lines) + "\n")
    os.chmod(home / "mailer.toml", 0o600)
    return home


@pytest.fixture
def web_port() -> int:
    """The port this test's server listens on."""
    return free_port()


@pytest.fixture
def web_home(tmp_path: Path, web_port: int) -> Path:
    """A real home with the sample community, its database created and seeded."""
    home = write_web_home(tmp_path / "home", web_port)
    app = App(home)
    app.db  # noqa: B018 - create and seed, as a first `run.py` would
    app.close()
    return home


@dataclass
class LiveServer:
    """A running ``run.py serve``."""

    url: str
    home: Path
    process: subprocess.Popen

    def at(self, path: str) -> str:
        """The full URL of ``path`` on this server."""
        return self.url + path

    def db(self):
        """A new connection to the home's database (close it, or let the test end)."""
        return open_db(self.home / "mailer.db")


def start_server(home: Path, port: int, log: Path, now: datetime | None = None) -> LiveServer:
    """Start ``run.py --home home serve --port port`` (its clock starting at ``now`` when given)
    and wait until it answers /health."""
    out = log.open("ab")
    clock = ["--now", now.isoformat()] if now else []
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--home", str(home), "serve",
                                "--port", str(port), *clock], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    return LiveServer(wait_for(f"http://127.0.0.1:{port}", process, log), home, process)


def wait_for(url: str, process: subprocess.Popen, log: Path) -> str:
    """``url`` once it answers /health (a RuntimeError with the log if the process ends first)."""
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}): {log.read_text()}")
        try:
            if requests.get(url + "/health", timeout=1).ok:
                return url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nothing answered on {url}: {log.read_text()}")


def stop_server(server: LiveServer) -> None:
    """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def sample(web_home: Path):
    """The sample home after day 1's tick: announcements and day 1 emails sent."""
    from tests.web.helpers import DAY1, SampleHome

    home = SampleHome(web_home)
    home.tick(DAY1)
    yield home
    home.close()


@pytest.fixture
def live_server(web_home: Path, web_port: int, tmp_path: Path):
    """``run.py serve`` on ``web_home``, stopped after the test."""
    server = start_server(web_home, web_port, tmp_path / "serve.log")
    yield server
    stop_server(server)


@pytest.fixture
def serve_at(web_home: Path, web_port: int, tmp_path: Path):
    """``serve_at(now)``: ``run.py serve --now now`` on ``web_home`` (its clock starts at ``now``,
    as the ticks of a test do), restarted when called again; stopped after the test."""
    running: list[LiveServer] = []

    def start(now: datetime | None = None) -> LiveServer:
        while running:
            stop_server(running.pop())
        running.append(start_server(web_home, web_port, tmp_path / "serve.log", now))
        return running[0]
    yield start
    while running:
        stop_server(running.pop())


@pytest.fixture(scope="session")
def chromium():
    """One headless chromium for the session (Debian's, through its chromedriver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1100,900", "--lang=en-US"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium):
    """The session's chromium with no cookies left from another test."""
    chromium.delete_all_cookies()
    yield chromium
    chromium.delete_all_cookies()


def open_page(browser, url: str):
    """Load ``url`` in ``browser`` and return the browser (``browser.page_source``,
    ``find_element``...)."""
    browser.get(url)
    return browser


def press(browser, button, then_at: str | None = None):
    """Click ``button`` (which submits a form) and wait until the page it leads to has loaded
    (at ``then_at`` when given): a click returns before the browser has navigated, and the
    page before it may still answer for a while. The condition is the one that matters: the
    document the button was in is gone, and the one that replaced it is complete."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    before = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 30).until(lambda b: _loaded_after(b, before, then_at))
    return browser


def _loaded_after(browser, before, then_at: str | None) -> bool:
    """Whether ``before`` (an element of the page the click left) is gone and the new page is
    complete (at ``then_at`` when given). A command that meets the old page going away is
    answered with an error by chromedriver: that is the navigation under way, so not yet."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException

    try:
        before.tag_name  # noqa: B018 - any command on the old page's element; stale once it is gone
        return False
    except (StaleElementReferenceException, NoSuchElementException):  # not in the page shown now
        pass
    except WebDriverException as exc:
        if _navigating(exc):
            return False
        raise
    try:
        return (then_at is None or browser.current_url == then_at) and \
            browser.execute_script("return document.readyState") == "complete"
    except WebDriverException as exc:
        if _navigating(exc):
            return False
        raise


# chromedriver's words for a command that ran into a document being replaced (an element or a
# script context of the old page, a frame detached in the middle of the command).
NAVIGATING = ("stale element", "Cannot find context", "no such execution context", "inspector",
              "frame detached", "does not belong to the document", "cannot determine loading status")


def _navigating(exc) -> bool:
    """Whether a chromedriver error says only that the page is being replaced."""
    return any(words.lower() in str(exc).lower() for words in NAVIGATING)


def screenshot(browser, name: str) -> Path:
    """Save the page as ``docs/web/<name>.png`` (the docs' pictures come from the tests)."""
    path = ROOT / "docs" / "web" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(path))
    return path
