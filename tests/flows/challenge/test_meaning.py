"""Issue 19, "What they meant", for journal commands through the real worker: a request to
pause written as a question or in another language pauses and says so; the same request
negated or taken back pauses nothing and is kept as the day's entry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.challenge.definition import start_challenge
from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import challenges, open_db, people
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.test_challenge_e2e import START, challenge_file, latest_day_email, walk

OLIVER = "oliver@corp.example.com"
NOON = datetime(2027, 1, 4, 12, tzinfo=timezone.utc)  # day 1 has reached London


@pytest.fixture
def day_one(home, tmp_path):
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    people.add_person(db, OLIVER, "Oliver Bennett", "Europe/London")
    started = start_challenge(db, challenge_file(tmp_path, [OLIVER]), START)
    transport = make_transport(settings)
    walk(db, transport, settings, 37)  # to 13:00 UTC on day 1
    yield db, transport, settings, started
    transport.close()
    db.close()


def answer(day_one, text: str, client: str) -> tuple[str, list[str]]:
    """Oliver answers his day-1 email; his status after one tick and the emails sent to him then."""
    db, transport, settings, started = day_one
    original = latest_day_email(settings.mail_dir / "outbox", OLIVER, 1)
    deliver_to_inbox(settings.mail_dir, compose_reply(original, OLIVER, "Oliver", text, client, NOON))
    before = {r["id"] for r in db.query("SELECT id FROM outbox WHERE to_addr = ?", [OLIVER])}
    worker.tick(db, transport, NOON + timedelta(hours=1), settings, "test")
    person = people.find_person(db, OLIVER)
    challenge_id = challenges.list_challenges(db)[0]["id"]
    status = challenges.get_participant(db, challenge_id, person["id"])["status"]
    new = [r["data"].decode("utf-8", "replace") for r in
           db.query("SELECT id, data FROM outbox JOIN outbox_data USING (id) WHERE to_addr = ?", [OLIVER])
           if r["id"] not in before]
    return status, new


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("text", [
    "could you hold my emails until I'm back?",
    "Könnt ihr meine Mails bitte bis nächste Woche pausieren?",
    "Pouvez-vous mettre mes e-mails en pause jusqu'à mon retour ?",
    "¿Podrían pausar mis correos hasta que vuelva?",
    "戻るまでメールを一時停止してください。",
])
def test_a_request_to_pause_asked_as_a_question_or_in_another_language_pauses_and_says_so(day_one, text, client):
    status, sent = answer(day_one, text, client)
    assert status == "paused"
    (said,) = sent
    assert "is paused for you" in said.replace("=\r\n", "").replace("\r\n", " ")


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("text", ["Bitte nicht pausieren, es läuft gut.", "Please pause my emails. Just kidding!",
                                  "一時停止しないでください。", "pause? not sure I need to"])
def test_a_negated_or_retracted_pause_pauses_nothing_and_is_the_days_entry(day_one, text, client):
    status, sent = answer(day_one, text, client)
    assert status == "active" and sent == []
    db = day_one[0]
    (entry,) = challenges.entries(db, people.find_person(db, OLIVER)["id"])
    assert entry["day"] == 1
