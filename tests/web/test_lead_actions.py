"""The actions on the lead's page do what their CLI commands do: retry a dead email (``outbox
retry``), close a call (``call close``), remind approvers now (``charter remind``); the CLI
commands themselves are tested beside them, on the same verbs."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from mailer.store import outbox as outbox_store
from tests.web.conftest import open_page
from tests.web.lead_browser import iso, press, sign_in, signed_in  # noqa: F401 - signed_in is a fixture
from tests.web.lead_home import cli, cli_json, lead_home, lead_server, web_port_module  # noqa: F401 - fixtures

DANA = "dana.sponsor@corp.example.com"



def rows(server, state: str) -> list[dict]:
    db = server.db()
    try:
        return outbox_store.list_rows(db, state, limit=100_000)
    finally:
        db.close()


def test_retry_sends_the_dead_email_again_byte_for_byte(signed_in, lead_server):
    dead = rows(lead_server, "dead")[0]
    db = lead_server.db()
    data = outbox_store.get_row(db, dead["id"])["data"]
    db.close()
    page = open_page(signed_in, lead_server.at("/lead/outbox"))
    press(page, page.find_element(By.CSS_SELECTOR, f"#dead-{dead['id']} button"), lead_server.at("/lead/outbox?done=retried"))
    assert "goes out again" in page.find_element(By.CSS_SELECTOR, ".done").text
    assert rows(lead_server, "dead") == []
    cli(lead_server.home, "tick", "--now", iso(lead_server))
    sent = next(m for m in lead_server.sent_to(DANA) if m["Message-ID"] == dead["message_id"])
    assert sent["Subject"] == dead["subject"]
    db = lead_server.db()
    assert outbox_store.get_row(db, dead["id"])["data"] == data and outbox_store.get_row(db, dead["id"])["state"] == "sent"
    db.close()


def test_outbox_retry_refuses_an_email_that_is_not_dead(lead_server):
    sent = rows(lead_server, "sent")[0]
    result = cli_result(lead_server, "outbox", "retry", str(sent["id"]))
    assert result.exit_code == 2 and "not dead: nothing to retry" in result.output


def test_outbox_retry_refuses_an_email_that_was_never_built(lead_server):
    db = lead_server.db()
    outbox_store.add_dead(db, key="test:unbuilt", message_id="<unbuilt@example.test>", to_addr=DANA,
                          subject="Never built", created_at=lead_server.clock[0], reason="template error: no such day")
    row = next(r for r in outbox_store.list_rows(db, "dead") if r["key"] == "test:unbuilt")
    db.close()
    result = cli_result(lead_server, "outbox", "retry", str(row["id"]))
    assert result.exit_code == 2 and "never built" in result.output and "template error" in result.output
    assert rows(lead_server, "dead")[0]["id"] == row["id"]  # still dead, nothing queued


def test_remind_now_reaches_who_has_not_answered_once(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead/charters"))
    press(page, page.find_element(By.CSS_SELECTOR, "#charter-1 form button"), lead_server.at("/lead/charters?done=reminded"))
    reminders = [r for r in rows(lead_server, "pending") if ":remind:" in r["key"]]
    assert [r["to_addr"] for r in reminders] == [DANA]  # Jonas approved: not reminded
    assert cli(lead_server.home, "charter", "remind", "1", "--now", iso(lead_server)).strip() == \
        "charter 1: no approver is waiting for a reminder"  # the CLI's verb sees the same reminder
    cli(lead_server.home, "tick", "--now", "2027-01-17T20:00:00Z")  # the reminder's own morning in Chicago
    assert len([r for r in rows(lead_server, "sent") if ":remind:" in r["key"]]) == 1


def test_close_call_is_call_close(signed_in, lead_server):
    page = open_page(signed_in, lead_server.at("/lead/calls"))
    press(page, page.find_element(By.CSS_SELECTOR, "#call-1 form button"), lead_server.at("/lead/calls?done=closed"))
    assert cli_json(lead_server.home, "call", "show", "1", "--now", iso(lead_server))["state"] == "closed"
    assert "closed" in page.find_element(By.CSS_SELECTOR, "[data-n=call-1-state]").text
    assert page.find_elements(By.CSS_SELECTOR, "#call-1 form") == []  # nothing more to close
    assert "was already closed" in cli(lead_server.home, "call", "close", "1")


def cli_result(server, *args: str):
    """``run.py`` with ARGS, its exit code and output kept (errors included)."""
    from click.testing import CliRunner

    from mailer.cli import main

    return CliRunner().invoke(main, ["--home", str(server.home), *args])
