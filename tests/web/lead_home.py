"""A community in its first week, built through the real CLI, and `serve` on it with a fixed clock.

The sample community (Oliver Bennett leads) runs the DevOps challenge from 4 Jan 2027; by
Friday 8 Jan members have journaled (one entry marked #share, one private), one paused and
one stopped by reply; the observability charter has one approval of two; a call for
writers has two confirmed and one waiting; a meetup has a yes and a no; a digest died at the
server; a volunteer's unclear reply waits for the lead. ``lead_server`` runs the app in a
thread on uvicorn, like `serve`, with a clock the test can move (to age a link).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from mailer.cli import main
from mailer.store import open_db
from mailer.store import outbox as outbox_store
from mailer.transports.maildir import list_messages
from mailer.web.context import load_context
from mailer.cli.serve import make_server
from tests.web.conftest import ROOT, write_web_home

NOW = datetime(2027, 1, 8, 12, 0, tzinfo=timezone.utc)
LEAD = "oliver.bennett@corp.example.com"
CALL = """title = "Playbook writers"
description = "Help write the observability playbook."
to = "all"
closes = 2027-01-20
sender = "oliver.bennett@corp.example.com"
[[roles]]
name = "writer"
places = 2
"""
MEETUP = """title = "Report-back meetup"
start = 2027-01-15T17:00:00
timezone = "Europe/London"
duration_minutes = 60
location = "Online"
description = "Highlights from the first weeks"
invite = ["aiko.tanaka@corp.example.com", "sam.carter@corp.example.com", "wei.chen@corp.example.com",
          "nora.lindqvist@corp.example.com"]
"""


def cli(home: Path, *args: str) -> str:
    """``run.py --home HOME ARGS`` in this process; its output (exit code 0 required)."""
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def cli_json(home: Path, *args: str):
    """A ``--json`` command's output, read."""
    return json.loads(cli(home, *args, "--json"))


def _reply(home: Path, key: str, text: str, client: str, at: str) -> None:
    """Answer the email with idempotency key ``key`` as a person's mail client would."""
    db = open_db(home / "mailer.db")
    row = next(r for r in outbox_store.list_rows(db, limit=100_000) if r["key"] == key)
    db.close()
    cli(home, "reply", "--message-id", row["message_id"], "--text", text, "--client", client, "--now", at)


def _key(home: Path, prefix: str, email: str) -> str:
    """The key of the newest email to ``email`` whose key starts with ``prefix``."""
    db = open_db(home / "mailer.db")
    try:
        return next(r["key"] for r in outbox_store.list_rows(db, limit=100_000)
                    if r["key"].startswith(prefix) and r["to_addr"] == email)
    finally:
        db.close()


def _person_id(home: Path, email: str) -> int:
    db = open_db(home / "mailer.db")
    try:
        return next(db.query("SELECT id FROM people WHERE email = ?", [email]))["id"]
    finally:
        db.close()


def build(home: Path) -> None:
    """Run the first week of the community through the CLI, ending before ``NOW``."""
    (home / "call.toml").write_text(CALL)
    (home / "meetup.toml").write_text(MEETUP)
    cli(home, "charter", "submit", str(ROOT / "data" / "charters" / "observability-playbook.toml"),
        "--now", "2027-01-04T01:00:00Z")
    cli(home, "call", "open", str(home / "call.toml"), "--now", "2027-01-04T01:00:00Z")
    cli(home, "meetup", "schedule", str(home / "meetup.toml"), "--now", "2027-01-04T01:00:00Z")
    for day in (4, 5, 6, 7):  # 03:00Z: Asia's 08:00 has come; 17:00Z: the Americas' too
        cli(home, "tick", "--now", f"2027-01-0{day}T03:00:00Z")
        cli(home, "tick", "--now", f"2027-01-0{day}T17:00:00Z")
        _journal(home, day)
    _answers(home)
    cli(home, "tick", "--now", "2027-01-07T21:00:00Z")
    cli(home, "tick", "--now", "2027-01-08T03:00:00Z")
    _dead_digest(home)


def _journal(home: Path, day: int) -> None:
    n = day - 3
    aiko, priya = _person_id(home, "aiko.tanaka@corp.example.com"), _person_id(home, "priya.sharma@corp.example.com")
    _reply(home, f"challenge:1:day:{n}:person:{aiko}", f"Day {n}: mapped another step of the pipeline."
           + (" #share The deploy waits 40 minutes for a manual approval nobody reads." if n == 3 else ""),
           "outlook", f"2027-01-0{day}T18:00:00Z")
    if n in (2, 3):
        _reply(home, f"challenge:1:day:{n}:person:{priya}", "Private: my team lead keeps skipping reviews.",
               "gmail", f"2027-01-0{day}T18:00:00Z")
    if n == 2:
        liam, nora = _person_id(home, "liam.obrien@corp.example.com"), _person_id(home, "nora.lindqvist@corp.example.com")
        _reply(home, f"challenge:1:day:{n}:person:{liam}", "pause", "apple", f"2027-01-0{day}T18:00:00Z")
        _reply(home, f"challenge:1:day:{n}:person:{nora}", "stop", "gmail", f"2027-01-0{day}T18:00:00Z")
    cli(home, "tick", "--now", f"2027-01-0{day}T19:00:00Z")


def _answers(home: Path) -> None:
    at = "2027-01-07T20:00:00Z"
    _reply(home, _key(home, "charter:1:v:1:request:", "jonas.weber@corp.example.com"),
           "Approve. Good scope.\n\nBest regards,\nJonas", "outlook", at)
    for email in ("grace.okafor@corp.example.com", "sam.carter@corp.example.com", "lucas.silva@corp.example.com"):
        _reply(home, _key(home, "call:1:", email), "I'm in!", "gmail", at)
    _reply(home, _key(home, "call:1:", "chloe.martin@corp.example.com"), "No thanks, not this time.", "apple", at)
    _reply(home, _key(home, "meetup:1:invite:", "aiko.tanaka@corp.example.com"), "Yes, I'll be there", "gmail", at)
    _reply(home, _key(home, "meetup:1:invite:", "wei.chen@corp.example.com"), "Sorry, can't make it", "outlook", at)
    _reply(home, _key(home, "meetup:1:invite:", "sam.carter@corp.example.com"),
           "Could it be recorded for those in other time zones?", "apple", at)


def _dead_digest(home: Path) -> None:
    """A digest the mail server refused for good (550), as the outbox records a 5xx."""
    cli(home, "digest", "send", "dana.sponsor@corp.example.com", "--now", "2027-01-08T09:00:00Z")
    db = open_db(home / "mailer.db")
    moment = datetime(2027, 1, 8, 9, 0, tzinfo=timezone.utc)
    for row in outbox_store.claim(db, "test-server", moment, 60, 100):
        if row["key"].startswith("digest:"):
            outbox_store.finish(db, row["id"], "test-server", "dead", moment,
                                error="550 5.1.1 <dana.sponsor@corp.example.com>: mailbox unavailable")
        else:
            outbox_store.finish(db, row["id"], "test-server", "pending", moment)
    db.close()


@dataclass
class LeadServer:
    """`serve`'s app on a real home, in a thread, with a clock the test sets."""

    url: str
    home: Path
    clock: list[datetime]

    def at(self, path: str) -> str:
        """The full URL of ``path``."""
        return self.url + path

    def db(self):
        """A new connection to the home's database."""
        return open_db(self.home / "mailer.db")

    def sent_to(self, email: str) -> list:
        """The emails the Maildir transport sent to ``email``, oldest first (parsed)."""
        found = [message_from_bytes(p.read_bytes(), policy=default) for p in list_messages(self.home / "mail" / "outbox")]
        return sorted((m for m in found if email in str(m["To"])), key=lambda m: m["Date"].datetime)


@pytest.fixture(scope="module")
def lead_home(tmp_path_factory, web_port_module) -> Path:
    """The community's home after its first week (built once per test module)."""
    home = write_web_home(tmp_path_factory.mktemp("lead") / "home", web_port_module, web={"lead_emails": LEAD})
    build(home)
    return home


@pytest.fixture(scope="module")
def web_port_module() -> int:
    """The port of this module's server."""
    from tests.web.conftest import free_port

    return free_port()


@pytest.fixture(scope="module")
def lead_server(lead_home: Path, web_port_module: int):
    """The app over ``lead_home`` on uvicorn in a thread, its clock at ``NOW``."""
    clock = [NOW]
    ctx = load_context(lead_home, now=lambda: clock[0])
    server = make_server(ctx, "127.0.0.1", web_port_module)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{web_port_module}"
    for _ in range(300):
        try:
            if requests.get(url + "/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield LeadServer(url, lead_home, clock)
    server.should_exit = True
    thread.join(timeout=10)


def later(server: LeadServer, **delta) -> None:
    """Move the server's clock on."""
    server.clock[0] = server.clock[0] + timedelta(**delta)
