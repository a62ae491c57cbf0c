"""A challenge in each member's language, through the worker: real SQLite, real Maildir,
replies as Outlook, Gmail and Apple Mail write them, in German, French and Japanese."""
from __future__ import annotations

import email
import re
import email.policy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailer import worker
from mailer.bootstrap import import_people
from mailer.config import load_settings
from mailer.errors import ConfigError
from mailer.flows.challenge.definition import load_definition, start_challenge
from mailer.simulation.replies import compose_reply
from mailer.store import challenges, open_db, people
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox

UTC = timezone.utc
START = datetime(2027, 1, 3, 0, 0, tzinfo=UTC)
CREW = {  # address: (name, zone, language as the CSV gives it)
    "jonas@corp.example.com": ("Jonas Weber", "Europe/Berlin", "de"),
    "aiko@corp.example.com": ("Aiko Tanaka", "Asia/Tokyo", "ja"),
    "lea@corp.example.com": ("Léa Tremblay", "America/Toronto", "fr-CA"),
    "sam@corp.example.com": ("Sam Carter", "America/New_York", None),
}
CHALLENGE = '''
title = { en = "Calm deploys", de = "Ruhige Deployments" }
description = "Small steps."
start = 2027-01-04
length = 3
send_hour = 8
partners = false

[[days]]
title = { en = "Map your pipeline", de = "Skizzieren Sie Ihre Pipeline" }
activity = { en = "Draw **every step**.", de = "Zeichnen Sie **jeden Schritt**." }

[[days]]
title = "Count your deployments"
activity = "Count them."

[[days]]
title = "Look back"
activity = "Read your notes."
'''


@pytest.fixture
def crew(home: Path):
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    rows = [f"{address},{name},{zone},member,{language or ''}" for address, (name, zone, language) in CREW.items()]
    (home / "people.csv").write_text("email,name,timezone,roles,language\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_people(db, home / "people.csv")
    (home / "challenge.toml").write_text(CHALLENGE, encoding="utf-8")
    started = start_challenge(db, home / "challenge.toml", START)
    yield db, settings, make_transport(settings), started.challenge_id
    db.close()


def sent(settings, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((settings.mail_dir / "outbox").rglob("*")):
        if path.is_file():
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if msg["To"].addresses[0].addr_spec == address:
                found.append(msg)
    return found


def walk(db, transport, settings, until: datetime, start: datetime = START) -> None:
    now = start
    while now <= until:
        worker.tick(db, transport, now, settings, "test")
        now += timedelta(hours=1)


def day_one(settings, address: str) -> tuple[str, str]:
    msg = next(m for m in sent(settings, address) if re.match(r"(Day|Tag|Jour|Día) 1 |1日目", m["Subject"]))
    return str(msg["Subject"]), msg.get_body(("plain",)).get_content()


def test_each_member_reads_day_one_in_their_language(crew):
    db, settings, transport, _ = crew
    walk(db, transport, settings, datetime(2027, 1, 4, 14, tzinfo=UTC))
    subject, text = day_one(settings, "jonas@corp.example.com")
    assert subject == "Tag 1 von 3: Skizzieren Sie Ihre Pipeline"
    assert "Hallo Jonas," in text and "TAG 1 VON 3 · Mo., 4. Jan. · Ruhige Deployments" in text
    assert "Zeichnen Sie jeden Schritt." in text and "Antworten Sie mit „Pause“" in text
    subject, text = day_one(settings, "aiko@corp.example.com")
    assert subject == "1日目(全3日):Map your pipeline"  # no Japanese given: the default
    assert "1月4日(月)" in text and "「一時停止」" in text and "Draw every step." in text
    subject, text = day_one(settings, "lea@corp.example.com")
    assert subject == "Jour 1 sur 3 : Map your pipeline" and "« pause »" in text
    subject, text = day_one(settings, "sam@corp.example.com")
    assert subject == "Day 1 of 3: Map your pipeline" and 'Reply "pause"' in text


def test_the_default_language_is_the_communitys(home):
    (home / "mailer.toml").write_text('[mailer]\ndata = "none"\nlanguage = "es"\n')
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    people.add_person(db, "ana@corp.example.com", "Ana Ruiz", "Europe/Madrid")
    (home / "challenge.toml").write_text(CHALLENGE, encoding="utf-8")
    start_challenge(db, home / "challenge.toml", START)
    walk(db, make_transport(settings), settings, datetime(2027, 1, 4, 9, tzinfo=UTC))
    subject, text = day_one(settings, "ana@corp.example.com")
    assert subject == "Día 1 de 3: Map your pipeline" and "Responda «pausa»" in text
    db.close()


@pytest.mark.parametrize("address,client,word,status,answer", [
    ("jonas@corp.example.com", "outlook", "Pause", "paused", "ist für Sie pausiert"),
    ("aiko@corp.example.com", "gmail", "一時停止", "paused", "一時停止しました"),
    ("lea@corp.example.com", "apple", "arrêter", "stopped", "Vous avez quitté"),
])
def test_a_command_word_the_email_asked_for_is_acted_on(crew, address, client, word, status, answer):
    db, settings, transport, challenge_id = crew
    walk(db, transport, settings, datetime(2027, 1, 4, 23, tzinfo=UTC))
    original = next(m for m in sent(settings, address) if m["X-Cop-Challenge"]).as_bytes()
    reply_at = datetime(2027, 1, 5, 0, 30, tzinfo=UTC)
    deliver_to_inbox(settings.mail_dir, compose_reply(original, address, CREW[address][0], word, client, reply_at))
    worker.tick(db, transport, reply_at, settings, "test")
    person = people.find_person(db, address)
    assert challenges.get_participant(db, challenge_id, person["id"])["status"] == status
    answers = [m for m in sent(settings, address) if m["In-Reply-To"]]
    assert len(answers) == 1 and answer in answers[0].get_body(("plain",)).get_content()


def test_translations_name_languages_we_write(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CHALLENGE.replace('de = "Ruhige Deployments"', 'pt = "Implantações calmas"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.toml: title.pt: not a language we write"):
        load_definition(path)


def test_the_default_text_is_english_else_the_first_given(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CHALLENGE.replace('{ en = "Calm deploys", de = "Ruhige Deployments" }',
                                      '{ fr = "Déploiements sereins", de = "Ruhige Deployments" }'), encoding="utf-8")
    definition = load_definition(path)
    assert definition.title == "Déploiements sereins"
    assert definition.translations == {"title": {"de": "Ruhige Deployments"}}
    assert definition.days[0] == ("Map your pipeline", "Draw **every step**.")
    assert definition.day_translations[0] == {"title": {"de": "Skizzieren Sie Ihre Pipeline"},
                                              "activity": {"de": "Zeichnen Sie **jeden Schritt**."}}
