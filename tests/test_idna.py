"""Internationalised addresses (issue 19): a domain in Unicode goes out in its IDNA form on every
send path (Maildir, SMTP, Graph, EWS), a reply from either spelling is the same person, and an
address only SMTPUTF8 could carry is refused at import with its line number."""
from __future__ import annotations

import email
import email.policy
import threading
from email.utils import getaddresses

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from mailer import outbox, worker
from mailer.cli import main
from mailer.config import load_settings
from mailer.errors import AddressError
from mailer.flows.base import PlannedEmail
from mailer.inbound.message import parse_message
from mailer.outbound.addresses import canonical, unsendable, wire_address
from mailer.store import open_db, people
from mailer.store import outbox as outbox_store
from mailer.transports import make_transport
from mailer.transports.smtp_imap import SmtpImapSettings, SmtpImapTransport
from mailer.transports.maildir import MaildirTransport
from tests.rig_servers import free_port

UNICODE, IDNA = "ute@bücher.example", "ute@xn--bcher-kva.example"


def plan_for(address: str) -> PlannedEmail:
    return PlannedEmail(key=f"test:hello:{address}", to=address, subject="Über uns", template="system/unrouted",
                        context={"their_subject": "x"}, reply_purpose="journal", reply_ref="challenge:1:day:1")


def queue(db, settings, now) -> dict:
    people.add_person(db, UNICODE, "Ute Bücher", "Europe/Berlin")
    assert outbox.enqueue(db, [plan_for(UNICODE)], now, settings) == 1
    return outbox_store.latest_to(db, UNICODE)


def to_header(data: bytes) -> list[str]:
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    return [address for _, address in getaddresses(msg.get_all("To"))]


def test_addresses_go_out_in_idna_and_read_back_in_unicode():
    assert wire_address(UNICODE) == IDNA and wire_address("a@example.com") == "a@example.com"
    assert canonical("Ute@XN--BCHER-KVA.example") == UNICODE == canonical(UNICODE)
    assert unsendable(UNICODE) is None and "before the @" in unsendable("jörg@example.de")
    assert "not a valid internationalised domain name" in unsendable("a@xn--zz--.example")
    assert canonical("a@xn--zz--.example") == "a@xn--zz--.example"  # left as it is, never raises


def test_the_worker_sends_to_an_idna_domain_through_maildir(db, settings, now):
    row = queue(db, settings, now)
    assert to_header(row["data"]) == [IDNA]
    worker.tick(db, MaildirTransport(settings.mail_dir), now, settings, "test")
    assert outbox_store.get_row(db, row["id"])["state"] == "sent"
    (sent,) = [p for p in (settings.mail_dir / "outbox" / "new").iterdir()]
    assert to_header(sent.read_bytes()) == [IDNA]


def test_a_reply_from_either_spelling_is_the_same_person(db, settings, now):
    row = queue(db, settings, now)
    from mailer.simulation.replies import compose_reply

    raw = compose_reply(row["data"], IDNA, "Ute", "Drew the map today.", "apple", now)
    # an SMTPUTF8 client writes the domain in UTF-8, raw (RFC 6532)
    utf8 = raw.replace(f"<{IDNA}>".encode(), f"<{UNICODE}>".encode(), 1)
    assert utf8 != raw
    assert parse_message(raw).from_addr == UNICODE == parse_message(utf8).from_addr


def test_an_address_only_smtputf8_could_carry_is_never_composed(db, settings, now):
    people.add_person(db, "jörg@example.de", "Jörg", "Europe/Berlin")  # as an older import let in
    with pytest.raises(AddressError, match="before the @"):
        outbox.enqueue(db, [plan_for("jörg@example.de")], now, settings)


class Recorder:
    """aiosmtpd handler keeping each envelope (its RCPT TO and MAIL FROM as the server saw them)."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 OK"


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


def test_smtp_sends_the_envelope_and_headers_in_idna(db, settings, now, smtp_server):
    recorder, port = smtp_server
    row = queue(db, settings, now)
    transport = SmtpImapTransport(SmtpImapSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_user="", smtp_password="",
        imap_host="127.0.0.1", imap_port=1, imap_security="none", imap_user="", imap_password="", timeout=10))
    try:
        result = outbox.flush(db, transport, now, settings, "test")
    finally:
        transport.close()
    assert result.sent == 1 and outbox_store.get_row(db, row["id"])["state"] == "sent"
    ((_, rcpts, data),) = recorder.envelopes
    assert rcpts == [IDNA] and to_header(data) == [IDNA]


def test_graph_sends_to_an_idna_domain(db, settings, now):
    from tests.graph_server import GraphServer
    from tests.transports.test_graph import MAILBOX, transport

    row = queue(db, settings, now)
    with GraphServer(MAILBOX) as server:
        result = outbox.flush(db, transport(server), now, settings, "test")
        assert result.sent == 1 and outbox_store.get_row(db, row["id"])["state"] == "sent"
        assert [to_header(data) for data in server.sent()] == [[IDNA]]


def test_exchange_sends_to_an_idna_domain(home, ews, now):
    from tests.transports.test_exchange import write_home

    settings = load_settings(write_home(home, ews), env={})
    db = open_db(settings.db_path)
    row = queue(db, settings, now)
    transport = make_transport(settings, db)
    try:
        result = outbox.flush(db, transport, now, settings, "test")
    finally:
        transport.close()
    assert result.sent == 1 and outbox_store.get_row(db, row["id"])["state"] == "sent"
    assert [to_header(data) for data in ews.sent] == [[IDNA]]


def test_import_keeps_idna_domains_and_refuses_what_cannot_be_sent_by_line(home, tmp_path):
    csv = tmp_path / "people.csv"
    csv.write_text("email,name,timezone\nute@bücher.example,Ute,Europe/Berlin\n"
                   "jörg@example.de,Jörg,Europe/Berlin\nbad@xn--zz--.example,Bad,UTC\n"
                   "ann@xn--mnchen-3ya.example,Ann,UTC\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--home", str(home), "people", "import", str(csv)])
    assert result.exit_code == 1
    assert f"{csv}: line 3: 'jörg@example.de' has non-ASCII letters before the @" in result.output
    assert f"{csv}: line 4: 'bad@xn--zz--.example': the domain" in result.output
    db = open_db(load_settings(home, env={}).db_path)
    assert sorted(p["email"] for p in people.list_people(db)) == ["ann@münchen.example", UNICODE]
