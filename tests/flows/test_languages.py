"""Charters, calls, meetups and digests in each member's language, through the worker: real
SQLite, real Maildir, replies as Outlook, Gmail and Apple Mail write them with the very words
the email asked for, in German, French, Spanish and Japanese."""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import icalendar
import pytest

from mailer import worker
from mailer.bootstrap import import_people
from mailer.config import load_settings
from mailer.flows.call.definition import load_spec, open_call
from mailer.flows.charter import lifecycle
from mailer.flows.digest import chart
from mailer.flows.meetup.actions import schedule_meetup
from mailer.flows.meetup.emails import native_meeting, when
from mailer.simulation.replies import compose_reply
from mailer.store import calls, charters, meetups, open_db, people
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.charter.conftest import charter_toml
from tests.flows.call.conftest import call_toml

UTC = timezone.utc
NOW = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
CREW = {  # address: (name, zone, roles, language as the CSV gives it)
    "lead@corp.example.com": ("Lena Lead", "Europe/Berlin", "member lead", "en"),
    "jonas@corp.example.com": ("Jonas Weber", "Europe/Berlin", "member approver", "de"),
    "lea@corp.example.com": ("Léa Tremblay", "America/Toronto", "member approver", "fr-CA"),
    "aiko@corp.example.com": ("Aiko Tanaka", "Asia/Tokyo", "member approver sponsor", "ja"),
    "ana@corp.example.com": ("Ana Ruiz", "Europe/Madrid", "member", "es"),
    "alice@corp.example.com": ("Alice Moreau", "Europe/Paris", "member", ""),
    "sponsor@corp.example.com": ("Sam Sponsor", "Europe/London", "sponsor", ""),
}
CLIENTS = {"jonas@corp.example.com": "outlook", "lea@corp.example.com": "apple",
           "aiko@corp.example.com": "gmail", "ana@corp.example.com": "outlook"}


class Home:
    """A home whose people read five languages, ticked by the worker on an injected clock."""

    def __init__(self, home: Path):
        (home / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n')
        self.home, self.settings = home, load_settings(home, env={})
        self.db = open_db(self.settings.db_path)
        self.transport = make_transport(self.settings)
        rows = [f"{a},{n},{z},{' '.join(r.split())},{lang}" for a, (n, z, r, lang) in CREW.items()]
        (home / "people.csv").write_text("email,name,timezone,roles,language\n" + "\n".join(rows) + "\n",
                                         encoding="utf-8")
        import_people(self.db, home / "people.csv")

    def tick(self, now: datetime) -> None:
        worker.tick(self.db, self.transport, now, self.settings, "test")

    def sent_to(self, address: str, header: str = "") -> list[email.message.EmailMessage]:
        """Every email sent to ``address`` (carrying ``header``, if given), oldest first."""
        files = sorted((p for p in (self.settings.mail_dir / "outbox").rglob("*") if p.is_file()),
                       key=lambda p: p.stat().st_mtime_ns)
        found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]
        return [m for m in found if m["To"].addresses[0].addr_spec == address and (not header or m[header])]

    def reply(self, address: str, words: str, now: datetime, header: str) -> None:
        """``address`` answers their latest email carrying ``header`` in their own client."""
        original = self.sent_to(address, header)[-1].as_bytes()
        raw = compose_reply(original, address, CREW[address][0], words, CLIENTS.get(address, "gmail"), now)
        deliver_to_inbox(self.settings.mail_dir, raw)
        self.tick(now)


def text(msg: email.message.EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


@pytest.fixture
def crew(home: Path):
    made = Home(home)
    yield made
    made.db.close()


def test_approvers_read_the_request_in_their_language_and_the_word_it_asks_for_approves(crew, tmp_path):
    path = tmp_path / "charter.toml"
    approvers = ("jonas", "lea", "aiko")
    path.write_text(charter_toml(approvers=approvers, team=("alice",)).replace("2027-01-20", "2027-01-29"),
                    encoding="utf-8")
    charter_id = lifecycle.submit(crew.db, path, NOW)
    crew.tick(NOW)
    (request,) = crew.sent_to("jonas@corp.example.com", "X-Cop-Charter")
    assert request["Subject"] == "Bitte um Genehmigung: Observability playbook"
    assert "Hallo Jonas," in text(request) and "  Genehmigt\n  Abgelehnt: Ihre Begründung" in text(request)
    assert "Entscheidung bis:  Fr., 29. Jan. 2027" in text(request)
    (request,) = crew.sent_to("lea@corp.example.com", "X-Cop-Charter")
    assert request["Subject"].replace("\u00a0", " ") == "Demande d'approbation : Observability playbook"
    assert "  J'approuve\n" in text(request)
    (request,) = crew.sent_to("aiko@corp.example.com", "X-Cop-Charter")
    assert request["Subject"] == "承認のお願い:Observability playbook" and "  承認します\n" in text(request)

    later = NOW + timedelta(hours=2)
    for address, words in (("jonas@corp.example.com", "Genehmigt"), ("lea@corp.example.com", "J'approuve"),
                           ("aiko@corp.example.com", "承認します")):
        crew.reply(address, words, later, "X-Cop-Charter")
    assert charters.get_charter(crew.db, charter_id)["status"] == "approved"
    receipt = text(crew.sent_to("jonas@corp.example.com", "In-Reply-To")[-1])
    assert "Vielen Dank: Ihre Genehmigung von „Observability playbook“ ist erfasst." in receipt
    receipt = text(crew.sent_to("aiko@corp.example.com", "In-Reply-To")[-1])
    assert "「Observability playbook」への承認を記録しました" in receipt
    crew.tick(later + timedelta(hours=1))
    outcome = crew.sent_to("alice@corp.example.com", "X-Cop-Charter")[-1]  # the default language: English
    assert outcome["Subject"] == "Observability playbook: approved"
    assert "  - Jonas Weber approved" in text(outcome)


def test_volunteers_sign_up_withdraw_and_name_a_role_in_their_language(crew, tmp_path):
    path = tmp_path / "call.toml"
    path.write_text(call_toml().replace("lena@corp.example.com", "lead@corp.example.com")
                    .replace("2027-01-20", "2027-01-29"), encoding="utf-8")
    call_id = open_call(crew.db, load_spec(path), NOW)
    crew.tick(NOW)
    (invite,) = crew.sent_to("ana@corp.example.com", "X-Cop-Call")
    assert invite["Subject"] == "Se buscan voluntarios: Playbook writers"
    assert "responda a este correo con «Me apunto» e indique la función que quiere (por ejemplo, «Me apunto " \
           "como writer»)" in text(invite)

    later = NOW + timedelta(hours=2)
    crew.reply("aiko@corp.example.com", "writerとして参加します", later, "X-Cop-Call")  # no space: still the role
    crew.reply("jonas@corp.example.com", "Ich bin dabei als reviewer", later, "X-Cop-Call")
    crew.reply("ana@corp.example.com", "Me apunto", later, "X-Cop-Call")
    held = {s["email"]: (s["role"], s["status"]) for s in calls.signups(crew.db, call_id)}
    assert held == {"aiko@corp.example.com": ("writer", "confirmed"),
                    "jonas@corp.example.com": ("reviewer", "confirmed"),
                    "ana@corp.example.com": ("writer", "confirmed")}
    confirmation = text(crew.sent_to("aiko@corp.example.com", "In-Reply-To")[-1])
    assert "参加が決まりました:Playbook writers(writer)。" in confirmation and "「辞退します」" in confirmation

    crew.reply("jonas@corp.example.com", "Austragen", later + timedelta(hours=1), "X-Cop-Call")
    assert [s["status"] for s in calls.signups(crew.db, call_id, include_withdrawn=True)
            if s["email"] == "jonas@corp.example.com"] \
        == ["withdrawn"]
    answer = text(crew.sent_to("jonas@corp.example.com", "In-Reply-To")[-1])
    assert "Erledigt: Sie sind aus Playbook writers ausgetragen (reviewer)." in answer


def test_invitees_answer_a_meetup_in_words_their_invitation_gave(crew):
    start = datetime(2027, 1, 20, 17, 0, tzinfo=UTC)
    meetup_id = schedule_meetup(crew.db, {
        "title": "Report-back meetup", "start": start, "timezone": "Europe/London", "duration_minutes": 60,
        "location": "Room 4", "online_url": "https://meet.example.com/rb", "description": "Highlights",
        "invite": ["lea@corp.example.com", "aiko@corp.example.com", "ana@corp.example.com"], "speakers": [],
        "sponsors": ["aiko@corp.example.com"], "source": "test"}, NOW)
    crew.tick(NOW)
    (invite,) = crew.sent_to("aiko@corp.example.com", "X-Cop-Meetup")
    assert invite["Subject"] == "ご招待:Report-back meetup、1月21日(木)2:00"
    assert "「出席します」、「欠席します」、「未定です」" in text(invite)
    event = icalendar.Calendar.from_ical(next(p.get_content() for p in invite.walk()
                                              if p.get_content_type() == "text/calendar")).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Report-back meetup"  # the organiser's words, no prefix
    assert "オンライン参加:https://meet.example.com/rb" in str(event["DESCRIPTION"])

    later = NOW + timedelta(hours=2)
    crew.reply("lea@corp.example.com", "Peut-être", later, "X-Cop-Meetup")
    crew.reply("aiko@corp.example.com", "欠席します", later, "X-Cop-Meetup")
    crew.reply("ana@corp.example.com", "Sí", later, "X-Cop-Meetup")
    answers = {p["email"]: p["partstat"] for p in meetups.list_invitees(crew.db, meetup_id)}
    assert answers == {"lea@corp.example.com": "tentative", "aiko@corp.example.com": "declined",
                       "ana@corp.example.com": "accepted"}
    received = text(crew.sent_to("lea@corp.example.com", "In-Reply-To")[-1])
    assert "C'est noté\u00a0: vous viendrez peut-être à Report-back meetup le mer. 20 janv. 2027 à 12:00" in received
    assert "«\u00a0Oui\u00a0» ou «\u00a0Non\u00a0»" in received


def test_a_sponsor_reads_the_digest_and_its_chart_in_japanese(crew):
    schedule_meetup(crew.db, {
        "title": "Report-back meetup", "start": datetime(2027, 1, 20, 17, 0, tzinfo=UTC),
        "timezone": "Europe/London", "duration_minutes": 60, "location": "Room 4", "online_url": "",
        "description": "Highlights", "invite": ["ana@corp.example.com"], "speakers": [],
        "sponsors": ["aiko@corp.example.com"], "source": "test"}, NOW)
    crew.tick(NOW)
    for day in range(1, 16):  # the first digest covers the first whole week after she became a sponsor
        crew.tick(NOW + timedelta(days=day))
    digest = next(m for m in crew.sent_to("aiko@corp.example.com") if "ダイジェスト" in m["Subject"])
    body = text(digest)
    assert digest["Subject"].startswith("Community of Practice ダイジェスト(")
    assert "Aikoさん" in body and "ミートアップ" in body and "予定:2027年1月20日(水)" in body
    assert "出席1名、欠席0名、未定0名、未回答0名(招待1名)" not in body  # Ana has not answered
    assert "出席0名、欠席0名、未定0名、未回答1名(招待1名)" in body


def test_the_charts_axes_are_titled_in_the_recipients_language():
    assert chart._titles("de")[:2] == ("Tag der Challenge", "Personen mit Tagebucheintrag")
    titles = chart._titles("ja")
    assert titles == (("チャレンジの日", "日誌を書いた人数", True) if chart.cjk_font() else
                      ("Day of the challenge", "People who journaled", False))  # never boxes
    bars = chart.bars_of((("Day 1", 3, 4), ("Day 2", 1, 4)))
    assert chart.png(bars, "ja") != chart.png(bars, "en") or chart.cjk_font() is None
    assert [chart.day_label(label).localize("ja") for label in bars.labels] == ["1日目", "2日目"]


def test_a_native_calendar_event_speaks_the_communitys_language():
    """One Exchange/Graph event for every invitee: its notes in the community's language."""
    start = datetime(2027, 1, 20, 17, 0, tzinfo=UTC)
    meetup = {"title": "Report-back meetup", "start": start, "end": start + timedelta(hours=1), "uid": "u1",
              "sequence": 0, "duration_minutes": 60, "location": "Room 4", "online_url": "https://meet.example.com/rb",
              "description": "Highlights"}
    event = native_meeting(meetup, ("ana@corp.example.com",), ["Ana Ruiz"], "de")
    assert "<strong>Vortragende:</strong> Ana Ruiz" in event.body_html and "Online teilnehmen:" in event.body_html
    assert "Speakers:" in native_meeting(meetup, ("ana@corp.example.com",), ["Ana Ruiz"]).body_html


def test_one_instant_in_two_zones_is_written_as_each_zones_clock():
    """Formats remember what they wrote; an instant in Tokyo and in London is equal in Python
    but not on the clock: the invitation says "17:00 in London", not Tokyo's "02:00"."""
    start = datetime(2027, 1, 13, 17, 0, tzinfo=UTC)
    meetup = {"start": start, "end": start + timedelta(minutes=45), "duration_minutes": 45,
              "timezone": "Europe/London"}
    for language in ("ja", "en"):  # either order: the first written must not answer for the other
        shown = when(meetup, "Asia/Tokyo")
        assert shown["also"].localize(language).replace("ロンドンでは", "").replace(" in London", "") == "17:00"
        assert "02:00" in shown["when"].localize(language) or "2:00" in shown["when"].localize(language)
