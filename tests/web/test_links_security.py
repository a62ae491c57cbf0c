"""Signed links: forged, expired, foreign, misused or erased ones get the 404 of a missing page
and change nothing; rotated keys keep old links working for their set time, then not."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import timedelta

import pytest
import requests

from mailer.erasure import erase
from mailer.store import preferences as prefs_store
from mailer.web.context import signer_for
from mailer.web.tokens import Signer, home_signer
from tests.web.conftest import ROOT
from tests.web.helpers import AIKO, DAY1, MARIA, SampleHome

AT = DAY1 + timedelta(minutes=10)



def _signer(sample, at=AT) -> Signer:
    return signer_for(sample.settings, lambda: at)


def _missing_page(server) -> str:
    answer = requests.get(server.at("/no/such/page"), timeout=10)
    assert answer.status_code == 404
    return answer.text


def _refused(server, path: str) -> None:
    """GET and POST of ``path`` answer exactly like a page that does not exist."""
    missing = _missing_page(server)
    for method in (requests.get, requests.post):
        answer = method(server.at(path), data={"List-Unsubscribe": "One-Click", "action": "stop",
                                               "series": "challenge:1"}, timeout=10)
        assert (answer.status_code, answer.text) == (404, missing), path


def _nothing_changed(sample) -> None:
    assert sample.status(AIKO) == "active" and sample.status(MARIA) == "active"
    assert prefs_store.changes_between(sample.db, DAY1 - timedelta(days=999), DAY1 + timedelta(days=999)) == []


def _token_with_payload(token: str, payload: list) -> str:
    """``token`` with its payload replaced and its timestamp and signature kept (a forgery)."""
    encoded = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return encoded + token[token.index("."):]


def test_forged_swapped_and_truncated_tokens_are_a_404(sample, serve_at):
    server = serve_at(AT)
    aiko = sample.person(AIKO)["id"]
    good = _signer(sample).sign(aiko, "unsubscribe", "challenge:1")
    flipped = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    maria = _token_with_payload(good, [sample.person(MARIA)["id"], "challenge:1"])
    for bad in (flipped, maria, good[:-5], good.split(".")[0], "x" * 40):
        _refused(server, f"/u/{bad}")
    _nothing_changed(sample)


def test_a_token_for_another_purpose_series_or_home_is_a_404(sample, serve_at, tmp_path):
    server = serve_at(AT)
    aiko = sample.person(AIKO)["id"]
    signer = _signer(sample)
    other_home = home_signer(tmp_path / "elsewhere", lambda: AT, 365, 30)
    _refused(server, f"/u/{signer.sign(aiko, 'prefs')}")  # a preferences link cannot unsubscribe
    _refused(server, f"/p/{signer.sign(aiko, 'unsubscribe', 'challenge:1')}")
    _refused(server, f"/u/{other_home.sign(aiko, 'unsubscribe', 'challenge:1')}")
    _refused(server, f"/p/{other_home.sign(aiko, 'prefs')}")
    _nothing_changed(sample)


def test_an_expired_link_is_a_404(sample, serve_at):
    server = serve_at(AT)
    aiko = sample.person(AIKO)["id"]
    old = _signer(sample, AT - timedelta(days=sample.settings.web_link_days, seconds=1))
    _refused(server, f"/u/{old.sign(aiko, 'unsubscribe', 'challenge:1')}")
    _refused(server, f"/p/{old.sign(aiko, 'prefs')}")
    _nothing_changed(sample)
    fresh = _signer(sample, AT - timedelta(days=sample.settings.web_link_days - 1))
    assert requests.get(server.at(f"/p/{fresh.sign(aiko, 'prefs')}"), timeout=10).status_code == 200


def test_an_erased_persons_link_is_a_404(sample, serve_at):
    aiko = sample.person(AIKO)["id"]
    token = _signer(sample).sign(aiko, "prefs")
    erase(sample.db, sample.settings.mail_dir, sample.home, AIKO, AT, "test", confirmed=True)
    server = serve_at(AT)
    _refused(server, f"/p/{token}")


def test_links_carry_no_email_address(sample):
    token = _signer(sample).sign(sample.person(AIKO)["id"], "unsubscribe", "challenge:1")
    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    assert "@" not in payload and "aiko" not in payload


def test_a_rotated_key_keeps_old_links_working_for_their_time_then_not(sample, serve_at):
    aiko = sample.person(AIKO)["id"]
    old = _signer(sample).sign(aiko, "prefs")
    keys_before = (sample.home / "web-keys.json").read_text()
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "--home", str(sample.home), "serve",
                           "--rotate-key", "--now", AT.isoformat()], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "work until" in done.stdout
    for key in json.loads(keys_before)["keys"]:
        assert key["key"] not in done.stdout + done.stderr  # a key is never printed
    assert oct((sample.home / "web-keys.json").stat().st_mode & 0o777) == "0o600"
    new = _signer(sample).sign(aiko, "prefs")
    assert new != old
    server = serve_at(AT + timedelta(days=sample.settings.web_old_key_days - 1))
    assert requests.get(server.at(f"/p/{old}"), timeout=10).status_code == 200
    assert requests.get(server.at(f"/p/{new}"), timeout=10).status_code == 200
    server = serve_at(AT + timedelta(days=sample.settings.web_old_key_days + 1))
    _refused(server, f"/p/{old}")
    assert requests.get(server.at(f"/p/{new}"), timeout=10).status_code == 200
