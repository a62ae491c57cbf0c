"""``run.py check`` says whether replies carry Authentication-Results, from which server, and what
``approvals.trusted_authserv_id`` could be (issue 19, "A forwarded copy is a key")."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.inbound.authresults import advice
from tests.flows.charter.conftest import SUBMITTED, make_world, write_charter  # noqa: F401 (a fixture)
from tests.flows.charter.test_bad_replies import AUTHSERV, PASS, PRIYA, start

H = timedelta(hours=1)


def check_line(home) -> dict:
    result = CliRunner().invoke(main, ["--home", str(home), "check", "--json"])
    assert result.exit_code == 0, result.output  # never essential: Maildir still works
    (line,) = [c for c in json.loads(result.output)["checks"] if c["what"] == "Authentication-Results"]
    return line


@pytest.mark.parametrize("setting, headers, ok, words", [
    ("", {"Authentication-Results": PASS}, True,
     f'set approvals.trusted_authserv_id = "{AUTHSERV}" so approvals need its DMARC pass'),
    ("", None, True, "none of the last 2 replies carries Authentication-Results"),
    (AUTHSERV, {"Authentication-Results": PASS}, True,
     f"2 of the last 2 replies carry Authentication-Results from {AUTHSERV}"),
    ("mx.other.example", {"Authentication-Results": PASS}, False, "0 of the last 2 replies carry"),
])
def test_check_reports_the_servers_that_vouch_for_replies(home, write_charter, setting, headers, ok, words):
    world = make_world(home, f'[approvals]\ntrusted_authserv_id = "{setting}"\n' if setting else "")
    start(world, write_charter)
    for n, client in ((1, "outlook"), (2, "apple")):
        world.reply(PRIYA, "Is the budget final?", SUBMITTED + n * H, client, headers=headers)
    line = check_line(home)
    assert line["ok"] is ok and words in line["detail"], line


def test_check_before_any_reply_says_so(home):
    assert check_line(home)["detail"].startswith("no replies received yet")


def test_the_topmost_header_names_the_server():
    forged_below = [[f"{AUTHSERV}; dmarc=pass", "mx.evil.example; dmarc=pass"]] * 2
    fine, detail = advice(forged_below, "")
    assert fine and detail.startswith(f"replies carry Authentication-Results from {AUTHSERV} (2 of 2); if {AUTHSERV} ")
    assert advice([[], ["mx.evil.example; dmarc=pass"]], AUTHSERV)[0] is False
