"""`people deactivate` / `activate`: no mail of any kind from the next tick, history kept,
replies kept for the lead; driven through the real worker and Maildir."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from mailer import outbox
from mailer.cli import main
from mailer.flows.base import PlannedEmail
from mailer.store import challenges, inbox, people
from tests.flows.challenge.test_photos import Home

UTC = timezone.utc
SAM = "sam@corp.example.com"


def run(home, *args: str):
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def walk(crew: Home, start: datetime, end: datetime) -> None:
    moment = start
    while moment <= end:
        crew.tick(moment)
        moment += timedelta(hours=2)


def days_to(crew: Home, address: str) -> list[str]:
    return [str(m["Subject"]) for m in crew.sent() if m["To"].addresses[0].addr_spec == address]


def test_a_deactivated_person_gets_no_mail_their_replies_are_kept_and_activate_undoes_it(
        db, settings, tmp_path, home):
    crew = Home(db, settings, tmp_path)
    walk(crew, datetime(2027, 1, 4, 0, tzinfo=UTC), datetime(2027, 1, 4, 20, tzinfo=UTC))
    assert [s for s in days_to(crew, SAM) if s.startswith("Day 1 of")]

    assert "deactivated" in run(home, "people", "deactivate", SAM, "--now", "2027-01-04T21:00:00Z")
    before = days_to(crew, SAM)
    walk(crew, datetime(2027, 1, 4, 22, tzinfo=UTC), datetime(2027, 1, 6, 23, tzinfo=UTC))
    assert days_to(crew, SAM) == before
    assert crew.day_email("oliver@corp.example.com", 3)  # everyone else goes on
    listed = {p["email"]: p for p in json.loads(run(home, "people", "list", "--json"))}
    assert listed[SAM]["status"] == "inactive"  # the challenge plans nothing for them now

    run(home, "reply", "--to", SAM, "--text", "Mapped the pipeline after all.", "--client", "outlook",
        "--now", "2027-01-06T23:30:00Z")  # to his latest email: day 1
    crew.tick(datetime(2027, 1, 7, 0, tzinfo=UTC))
    sam = people.find_person(db, SAM)
    assert challenges.entries(db, sam["id"], crew.cid) == []  # not acted on
    kept = [m for m in inbox.list_messages(db) if m["from_addr"] == SAM]
    assert kept and "deactivated: kept for the lead" in kept[0]["reason"]
    assert days_to(crew, SAM) == before  # and no answer

    assert "active again" in run(home, "people", "activate", SAM)
    walk(crew, datetime(2027, 1, 7, 2, tzinfo=UTC), datetime(2027, 1, 8, 16, tzinfo=UTC))
    assert [s for s in days_to(crew, SAM) if s.startswith("Day 5 of")]  # from the next day on
    assert challenges.entries(db, sam["id"], crew.cid) == []  # history as it was


def test_email_already_queued_for_them_is_held_not_sent(db, settings, tmp_path, home):
    crew = Home(db, settings, tmp_path)
    now = datetime(2027, 1, 2, 12, tzinfo=UTC)
    plan = PlannedEmail(key="test:queued:sam", to=SAM, subject="Waiting in the queue",
                        template="system/unrouted", context={"their_subject": "x"})
    assert outbox.enqueue(db, [plan], now, settings) == 1
    run(home, "people", "deactivate", SAM, "--now", "2027-01-02T12:00:00Z")
    crew.tick(now + timedelta(minutes=5))
    assert "Waiting in the queue" not in days_to(crew, SAM)
    assert people.held_counts(db)[people.find_person(db, SAM)["id"]] == 1
