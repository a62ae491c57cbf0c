"""`run.py serve` answers on a real home, in a real browser."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest
import requests
from selenium.webdriver.common.by import By

from mailer.config import load_settings
from mailer.store import challenges, open_db
from mailer.web.context import signer_for
from tests.web.conftest import ROOT, open_page, wait_for, write_web_home


def test_the_home_page_opens_in_chromium(live_server, browser):
    page = open_page(browser, live_server.at("/"))
    assert page.find_element(By.TAG_NAME, "h1").text == "Practice Community"


def test_an_unknown_page_is_a_404_page(live_server, browser):
    page = open_page(browser, live_server.at("/u/not-a-token"))
    assert "This link does not work" in page.find_element(By.TAG_NAME, "h1").text


def test_the_worker_runs_the_web_pages_beside_it_with_web_enabled(tmp_path, web_port):
    """`run.py` with [web] enabled: ticks and pages in one process; SIGTERM stops both."""
    home = write_web_home(tmp_path / "home", web_port, web={"enabled": True}, worker={"interval_seconds": 1})
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--home", str(home)], cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server = wait_for(f"http://127.0.0.1:{web_port}", process, log)
        token = signer_for(load_settings(home, env={})).sign(1, "unsubscribe", "challenge:1")
        assert requests.post(f"{server}/u/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=10).ok
        db = open_db(home / "mailer.db")
        assert challenges.get_participant(db, 1, 1)["status"] == "stopped"
        db.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    output = log.read_text()
    assert "cop-mailer serve on" in output and "cop-mailer worker on" in output and output.endswith("stopped\n")


def test_the_web_pages_are_not_started_without_web_enabled(tmp_path, web_port):
    home = write_web_home(tmp_path / "home", web_port, worker={"interval_seconds": 1})
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--home", str(home)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True)
    try:
        banner = process.stdout.readline()
        assert banner.startswith("cop-mailer worker on")
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{web_port}/health", timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_a_port_in_use_stops_the_worker_with_a_reason(tmp_path, web_port):
    home = write_web_home(tmp_path / "home", web_port, web={"enabled": True})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", web_port))
        taken.listen()
        done = subprocess.run([sys.executable, str(ROOT / "run.py"), "--home", str(home)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"the web pages could not listen on 127.0.0.1:{web_port}" in done.stderr
