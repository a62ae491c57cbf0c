"""One bad row must not stop anyone else's mail: a plan that cannot be built is set aside as a
dead outbox row with its reason, a flow that raises is recorded, and everything else goes out
in the same tick (issue 7)."""
from __future__ import annotations

import email
import email.policy
import json
import types
from datetime import timedelta

from click.testing import CliRunner

from mailer import worker
from mailer.cli import main
from mailer.flows.base import PlannedEmail
from mailer.flows.challenge.definition import start_challenge
from mailer.store import outbox as outbox_store
from mailer.store import people
from mailer.transports import make_transport
from tests.test_challenge_e2e import challenge_file, day_emails
from tests.test_worker import DAY1, sent_mail

ZONES = ("Asia/Tokyo", "Europe/London", "America/New_York")


def community(db, tmp_path, bad_name: str) -> list[str]:
    """Nine good members and one whose name holds a line break."""
    good = [f"m{n}@corp.example.com" for n in range(9)]
    for n, address in enumerate(good):
        people.add_person(db, address, f"Member {n}", ZONES[n % 3])
    people.add_person(db, "zed@corp.example.com", bad_name, "Europe/London")
    start_challenge(db, challenge_file(tmp_path, [*good, "zed@corp.example.com"]), DAY1 - timedelta(days=1))
    return good


def test_a_name_with_a_line_break_stops_no_one_else(db, settings, tmp_path):
    good = community(db, tmp_path, "Zed\nX-Evil: 1")
    result = worker.tick(db, make_transport(settings), DAY1 + timedelta(hours=14), settings, "w")
    sent = sent_mail(settings)
    assert set(day_emails(sent)) >= set(good)
    parsed = [email.message_from_bytes(raw, policy=email.policy.default) for raw in sent]
    assert not any(msg["X-Evil"] for msg in parsed)  # never an injected header
    zed = [r for r in outbox_store.list_rows(db, limit=100) if r["to_addr"] == "zed@corp.example.com"]
    # Either the name was made safe and the email went out, or it was set aside with a reason.
    assert zed and all(r["state"] == "sent" or (r["state"] == "dead" and r["last_error"]) for r in zed)
    assert result.sent >= len(good)


def _broken_flow(name: str, due) -> types.ModuleType:
    flow = types.ModuleType(f"mailer.flows.{name}.flow")
    flow.due = due
    return flow


def test_a_plan_that_cannot_be_built_and_a_flow_that_raises_are_recorded(db, settings, tmp_path,
                                                                          monkeypatch, home):
    good = community(db, tmp_path, "Zed")

    def bad_plans(db, now, settings):
        yield PlannedEmail(key="broken:1", to="m0@corp.example.com", subject="Broken",
                           template="challenge/no-such-template", context={})

    def raises(db, now, settings):
        raise RuntimeError("this flow is broken")

    monkeypatch.setattr(worker, "FLOWS", (_broken_flow("raiser", raises), _broken_flow("badplan", bad_plans),
                                          *worker.FLOWS))
    moment = DAY1 + timedelta(hours=14)
    result = worker.tick(db, make_transport(settings), moment, settings, "w")
    assert set(day_emails(sent_mail(settings))) >= {*good, "zed@corp.example.com"}
    assert result.dead == 1 and any("raiser could not plan" in note for note in result.notes)

    status = json.loads(CliRunner().invoke(main, ["--home", str(home), "status", "--json"]).output)
    assert status["outbox"]["dead"] == 1
    assert [e["flow"] for e in status["planning_errors"]] == ["raiser"]
    assert "this flow is broken" in status["planning_errors"][0]["error"]
    listed = json.loads(CliRunner().invoke(main, ["--home", str(home), "outbox", "list", "--state", "dead",
                                                  "--json"]).output)
    assert listed[0]["key"] == "broken:1" and "could not build" in listed[0]["last_error"]

    again = worker.tick(db, make_transport(settings), moment + timedelta(minutes=5), settings, "w")
    assert again.dead == 0  # set aside once, not rebuilt and failed on every tick
