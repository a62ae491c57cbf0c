"""A call over the real SMTP/IMAP rig (Dovecot + aiosmtpd): the call, two replies racing for
the last place in one tick, and a withdrawal that promotes, each read back from IMAP."""
from __future__ import annotations

import email
import email.policy
import smtplib
from datetime import timedelta

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.call.definition import load_spec, open_call
from mailer.simulation.replies import compose_reply
from mailer.store import calls as store
from mailer.store import open_db
from mailer.store.people import add_person
from mailer.transports import make_transport
from tests.conftest import write_rig_home
from tests.flows.call.conftest import OPENED, call_toml

ZONES = {"aiko": "Asia/Tokyo", "priya": "Asia/Kolkata", "oliver": "Europe/London"}


def inbox_of(rig, user) -> list[email.message.EmailMessage]:
    with rig.imap_client(user) as client:
        client.select_folder("INBOX", readonly=True)
        fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[]"])
        return [email.message_from_bytes(d[b"BODY[]"], policy=email.policy.default) for _, d in sorted(fetched.items())]


def answer(rig, user, name: str, subject_part: str, text: str, client: str, now) -> None:
    original = [m for m in inbox_of(rig, user) if subject_part in m["Subject"]][-1]
    raw = compose_reply(original.as_bytes(policy=email.policy.SMTP), user.address, name, text, client, now)
    with smtplib.SMTP(rig.host, rig.smtp_port) as smtp:
        smtp.sendmail(user.address, [email.message_from_bytes(raw)["To"]], raw)


@pytest.mark.rig
def test_a_call_over_smtp_and_imap(mail_rig, tmp_path):
    users = mail_rig.fresh_users(("mailer", *ZONES))
    home = write_rig_home(tmp_path / "home", mail_rig, users["mailer"])
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    for name, zone in ZONES.items():
        add_person(db, users[name].address, name.title(), zone, ("member",))
    path = tmp_path / "call.toml"
    path.write_text(call_toml().replace('sender = "lena@corp.example.com"\n', f'sender = "{users["oliver"].address}"\n'))
    call_id = open_call(db, load_spec(path), OPENED)
    transport = make_transport(settings)
    now = OPENED
    try:
        worker.tick(db, transport, now, settings, "rig")
        invite = inbox_of(mail_rig, users["aiko"])[0]
        assert invite["Subject"] == "Volunteers wanted: Playbook writers"
        assert "reviewer: 1 of 1 left" in invite.get_body(("plain",)).get_content()

        now += timedelta(minutes=5)
        answer(mail_rig, users["aiko"], "Aiko", "Volunteers wanted", "I'm in as reviewer", "outlook", now)
        answer(mail_rig, users["priya"], "Priya", "Volunteers wanted", "Count me in as a reviewer", "gmail", now)
        worker.tick(db, transport, now, settings, "rig")
        roles = [(s["email"], s["status"]) for s in store.signups(db, call_id)]
        assert roles == [(users["aiko"].address, "confirmed"), (users["priya"].address, "waitlisted")]
        assert "waitlist: number 1" in inbox_of(mail_rig, users["priya"])[-1].get_body(("plain",)).get_content()

        now += timedelta(minutes=5)
        answer(mail_rig, users["aiko"], "Aiko", "Re:", "Please take me off", "apple", now)
        worker.tick(db, transport, now, settings, "rig")
        promoted = inbox_of(mail_rig, users["priya"])[-1]
        assert promoted["Subject"] == "You're in: Playbook writers (reviewer)"
        assert [(s["email"], s["status"]) for s in store.signups(db, call_id)] == [(users["priya"].address, "confirmed")]
    finally:
        transport.close()
        db.close()
