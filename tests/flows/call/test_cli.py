"""``run.py call open|list|show|close`` on a real home folder."""
from __future__ import annotations

import json

from click.testing import CliRunner

from mailer.cli import main
from tests.flows.call.conftest import AIKO, OPENED, call_toml

T = OPENED.isoformat()


def run(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def test_open_check_changes_nothing_then_open(home, community, write_call):
    path = write_call()
    checked = run(home, "call", "open", str(path), "--check", "--now", T)
    assert checked.exit_code == 0, checked.output
    assert "valid" in checked.output and "5 recipients" in checked.output
    assert "writer (2), reviewer (1)" in checked.output and "lena@corp.example.com" in checked.output
    assert json.loads(run(home, "call", "list", "--json", "--now", T).output) == []
    opened = run(home, "call", "open", str(path), "--now", T)
    assert opened.exit_code == 0 and "opened call 1" in opened.output
    again = run(home, "call", "open", str(path), "--now", T)
    assert again.exit_code == 2 and "already call 1" in again.output


def test_a_missing_file_and_an_unknown_address_are_one_line_errors(home, community, write_call):
    missing = run(home, "call", "open", "nope.toml", "--check")
    assert missing.exit_code == 2 and "nope.toml: cannot read" in missing.output
    bad = write_call(call_toml(extra='to = ["ghost@corp.example.com"]\n').replace('to = "all"\n', ""))
    result = run(home, "call", "open", str(bad), "--check")
    assert result.exit_code == 2 and "ghost@corp.example.com is not a known person" in result.output


def test_without_sender_the_lead_setting_is_used(home, community, write_call):
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\nlead = "lena@corp.example.com"\n')
    path = write_call(call_toml().replace('sender = "lena@corp.example.com"\n', ""))
    result = run(home, "call", "open", str(path), "--check")
    assert "the list goes to lena@corp.example.com at closing" in result.output
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\n')
    result = run(home, "call", "open", str(path), "--check")
    assert "nobody gets the list at closing" in result.output


def test_list_show_and_close(home, community, write_call, sim):
    run(home, "call", "open", str(write_call()), "--now", T)
    sim.tick(OPENED)
    sim.reply(AIKO, 1, "I'm in as reviewer", OPENED)
    listed = run(home, "call", "list", "--now", T)
    assert "open" in listed.output and "1 of 3 places filled" in listed.output and "Playbook writers" in listed.output
    shown = run(home, "call", "show", "1", "--now", T)
    assert "reviewer: full" in shown.output and f"1. {AIKO}" in shown.output
    data = json.loads(run(home, "call", "show", "1", "--json", "--now", T).output)
    assert data["roles"][1] == {"name": "reviewer", "places": 1, "description": "", "confirmed": [AIKO],
                                "waitlist": []}
    assert run(home, "call", "close", "1", "--now", T).output.startswith("call 1 is closed")
    assert "already closed" in run(home, "call", "close", "1", "--now", T).output
    assert json.loads(run(home, "call", "list", "--json", "--now", T).output)[0]["state"] == "closed"
    assert run(home, "call", "show", "9").exit_code == 2


def test_a_closing_day_already_past_is_refused_by_check_and_open_alike(home, community, write_call):
    """Issue 20: `closes = 2026-01-28` opened a call that invited nobody; its lead only got
    "Call closed"."""
    path = write_call(call_toml().replace("closes = 2027-01-20", "closes = 2026-01-28"))
    checked = run(home, "call", "open", str(path), "--check", "--now", T)
    opened = run(home, "call", "open", str(path), "--now", T)
    assert checked.exit_code == opened.exit_code == 2
    assert checked.output == opened.output
    assert "closes = 2026-01-28 is already past (today is 2027-01-10 UTC)" in checked.output
    assert json.loads(run(home, "call", "list", "--json", "--now", T).output) == []


def test_the_closing_day_itself_still_opens_somewhere_on_earth(home, community, write_call):
    path = write_call()
    late = "2027-01-20T20:00:00Z"  # 21:00 in Berlin, 05:00 on the 21st in Tokyo
    assert run(home, "call", "open", str(path), "--check", "--now", late).exit_code == 0
    after = run(home, "call", "open", str(path), "--check", "--now", "2027-01-21T23:30:00Z")
    assert after.exit_code == 2 and "already past" in after.output


def test_a_call_to_nobody_is_refused_by_check_and_open_alike(home, community, write_call):
    path = write_call(call_toml().replace('to = "all"', 'to = "approver"'))
    checked = run(home, "call", "open", str(path), "--check", "--now", T)
    opened = run(home, "call", "open", str(path), "--now", T)
    assert checked.exit_code == opened.exit_code == 2 and checked.output == opened.output
    assert "to = 'approver' names nobody who can be sent the call" in checked.output
