"""Every challenge email that asks for a reply can be answered, from Outlook, Gmail and Apple
Mail, through the real inbox: the Maildir transport, routing, the flow, the outbox."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mailer import worker
from mailer.flows.challenge.definition import start_challenge
from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import challenges, people
from mailer.transports import make_transport
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.challenge.conftest import BEFORE, challenge_toml

T0 = datetime(2027, 1, 4, 14, 0, tzinfo=timezone.utc)  # day 1 is open in Tokyo, London and New York
OLIVER, SAM, PRIYA = "oliver@corp.example.com", "sam@corp.example.com", "priya@corp.example.com"


class Mailbox:
    """The worker on a Maildir home, and people replying to the newest email of a kind."""

    def __init__(self, db, settings, client: str) -> None:
        self.db, self.settings, self.client = db, settings, client
        self.transport = make_transport(settings)
        self.now = T0

    def tick(self, later: timedelta = timedelta(minutes=5)) -> None:
        self.now += later
        worker.tick(self.db, self.transport, self.now, self.settings, "test")

    def latest(self, address: str, kind: str) -> bytes:
        rows = [r for r in self.db.query("SELECT key, data FROM outbox JOIN outbox_data USING (id) WHERE to_addr = ? ORDER BY id DESC",
                                         [address]) if f":{kind}:" in r["key"]]
        assert rows, f"no {kind} email to {address}"
        return rows[0]["data"]

    def answer(self, address: str, kind: str, text: str) -> None:
        raw = compose_reply(self.latest(address, kind), address, "", text, self.client, self.now)
        deliver_to_inbox(self.settings.mail_dir, raw)
        self.tick()
        assert not list(self.db.query("SELECT id FROM inbox WHERE state != 'done'")), \
            list(self.db.query("SELECT id, state, reason FROM inbox WHERE state != 'done'"))

    def status(self, address: str) -> str:
        person = people.find_person(self.db, address)
        return challenges.get_participant(self.db, 1, person["id"])["status"]

    def entries(self, address: str) -> dict[int, str]:
        person = people.find_person(self.db, address)
        return {e["day"]: e["text"] for e in challenges.entries(self.db, person["id"])}


@pytest.fixture
def box(db, settings, crew, write_challenge, request):
    participants = f'["{OLIVER}", "{PRIYA}", "aiko@corp.example.com"]'
    start_challenge(db, write_challenge(challenge_toml(participants=participants)), BEFORE)
    mailbox = Mailbox(db, settings, request.param)
    mailbox.tick(timedelta(0))
    return mailbox


@pytest.mark.parametrize("box", CLIENTS, indirect=True)
def test_pause_stop_and_resume_confirmations_can_be_answered(box):
    box.answer(OLIVER, "day", "pause")
    assert box.status(OLIVER) == "paused"
    box.answer(OLIVER, "paused", "resume")
    assert box.status(OLIVER) == "active"
    box.answer(OLIVER, "resumed", "stop")
    assert box.status(OLIVER) == "stopped"
    box.answer(OLIVER, "stopped", "resume")
    assert box.status(OLIVER) == "active"


@pytest.mark.parametrize("box", CLIENTS, indirect=True)
def test_couldnt_read_and_the_nudge_take_a_journal_entry(box):
    box.answer(OLIVER, "day", "")
    box.answer(OLIVER, "couldnt", "Mapped the pipeline: seven stages.")
    assert box.entries(OLIVER) == {1: "Mapped the pipeline: seven stages."}
    box.tick(timedelta(days=8))
    box.answer(PRIYA, "nudge", "Back at it: wrote the runbook.")
    assert list(box.entries(PRIYA).values()) == ["Back at it: wrote the runbook."]


@pytest.mark.parametrize("box", CLIENTS, indirect=True)
def test_announcement_join_help_and_joined_confirmation_can_be_answered(box):
    box.answer(SAM, "announce", "Sounds fun, tell me more")
    box.answer(SAM, "joinhelp", "join")
    assert box.status(SAM) == "active"
    box.answer(SAM, "joined", "please pause my emails")
    assert box.status(SAM) == "paused"


def test_every_email_of_the_series_carries_list_unsubscribe(settings):
    from dataclasses import replace

    from mailer.outbox import _compose
    from tests.flows.challenge.test_emails import PERSON, PLANS

    from mailer.web.links import signer
    from mailer.web.tokens import Signer

    one_click = replace(settings, values=tuple((k, "https://cop.test" if k == "web_base_url" else v)
                                               for k, v in settings.values))
    for name in ("announcement", "day", "nudge", "summary"):
        plan = PLANS[name]
        raw = _compose(plan, PERSON, "<m@example.test>", "abcdefghijklmnopqrst", T0, one_click)
        head = raw.split(b"\r\n\r\n")[0].decode()
        url, mailto = head.split("List-Unsubscribe: ")[1].split("\r\n")[0].split(", ")
        assert url.startswith("<https://cop.test/u/") and mailto == (
            "<mailto:cop+abcdefghijklmnopqrst@example.test?subject=unsubscribe>"), name
        at_t0 = Signer(signer(one_click).keys, 365, lambda: T0)  # the link is dated by the tick's clock
        link = at_t0.read(url[len("<https://cop.test/u/"):-1], "unsubscribe")
        assert (link.person_id, link.ref) == (PERSON["id"], f"challenge:{plan.key.split(':')[1]}"), name
        assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in head, name


@pytest.mark.parametrize("box", ["gmail"], indirect=True)
def test_the_unsubscribe_mailto_of_the_announcement_stops(box):
    import email

    from email.mime.text import MIMEText

    original = email.message_from_bytes(box.latest(OLIVER, "announce"))
    target = original["List-Unsubscribe"].split("<mailto:")[1].split("?")[0]
    mail = MIMEText("", "plain")
    mail["From"], mail["To"], mail["Subject"] = OLIVER, target, "unsubscribe"
    mail["Message-ID"] = "<unsub-1@corp.example.com>"
    deliver_to_inbox(box.settings.mail_dir, mail.as_bytes())
    box.tick()
    assert box.status(OLIVER) == "stopped"


@pytest.mark.parametrize("box", CLIENTS, indirect=True)
def test_a_sign_off_with_the_first_name_we_know_is_not_journaled(box):
    box.answer(OLIVER, "day", "Seven stages, two manual.\n\nBest regards,\nOliver")  # From has no name
    assert box.entries(OLIVER) == {1: "Seven stages, two manual."}


@pytest.mark.parametrize("box", CLIENTS, indirect=True)
def test_requests_in_sentences_act_and_a_mention_of_pausing_is_journaled(box):
    box.answer(OLIVER, "day", "Paused the pipeline today to fix the gate.")
    assert box.status(OLIVER) == "active"
    assert box.entries(OLIVER) == {1: "Paused the pipeline today to fix the gate."}
    box.answer(OLIVER, "day", "Hi,\n\ncould you put my challenge on hold while I travel\n\nThanks")
    assert box.status(OLIVER) == "paused"
    box.answer(PRIYA, "day", "no more of these for me, thanks")
    assert box.status(PRIYA) == "stopped"
