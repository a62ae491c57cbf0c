"""A charter approved through real servers: the requests over SMTP into Dovecot, the approvers'
replies (Outlook and Apple styles, with signatures) sent over SMTP to the tokened Reply-To and
read back by the worker over IMAP."""
from __future__ import annotations

import email
import email.policy
import smtplib
from datetime import timedelta

import pytest

from mailer import worker
from mailer.config import load_settings
from mailer.flows.charter import lifecycle
from mailer.simulation.replies import compose_reply
from mailer.store import charters, open_db, people
from mailer.transports import make_transport
from tests.conftest import write_rig_home
from tests.flows.charter.conftest import SUBMITTED
from tests.flows.charter.helpers import assert_explain_agrees

NAMES = ("lead", "alice", "priya", "omar", "sponsor")


def inbox_of(rig, user) -> list[bytes]:
    with rig.imap_client(user) as client:
        client.select_folder("INBOX", readonly=True)
        return [d[b"BODY[]"] for d in client.fetch(client.search("ALL"), ["BODY.PEEK[]"]).values()]


def reply_over_smtp(rig, user, name: str, text: str, client: str, now) -> bytes:
    (request,) = [raw for raw in inbox_of(rig, user) if b"Approval requested" in raw]
    raw = compose_reply(request, user.address, name, text, client, now)
    with smtplib.SMTP(rig.host, rig.smtp_port) as smtp:
        smtp.sendmail(user.address, [email.message_from_bytes(raw)["To"]], raw)
    return raw


@pytest.mark.rig
def test_approval_by_reply_through_smtp_and_imap(mail_rig, tmp_path):
    users = mail_rig.fresh_users(("mailer", *NAMES))
    settings = load_settings(write_rig_home(tmp_path / "home", mail_rig, users["mailer"]), env={})
    db = open_db(settings.db_path)
    for name in NAMES:
        people.add_person(db, users[name].address, name.title(), "Europe/Berlin")
    a = {n: users[n].address for n in NAMES}
    path = tmp_path / "charter.toml"
    path.write_text(f'title = "Observability playbook"\ngoal = "A playbook"\nscope = "Dashboards"\n'
                    f'proposer = "{a["lead"]}"\nteam = ["{a["alice"]}"]\nhours_per_week = 2\nduration_weeks = 8\n'
                    f'learning_sponsors = ["{a["sponsor"]}"]\napprovers = ["{a["priya"]}", "{a["omar"]}"]\n'
                    f'deadline = 2027-01-20\n')
    cid = lifecycle.submit(db, path, SUBMITTED)
    transport = make_transport(settings)
    try:
        worker.tick(db, transport, SUBMITTED, settings, "rig")
        sent = [reply_over_smtp(mail_rig, users["priya"], "Priya", "Approved - go ahead.\n\nBest regards,\nPriya\nCorp",
                                "outlook", SUBMITTED + timedelta(hours=1)),
                reply_over_smtp(mail_rig, users["omar"], "Omar", "Genehmigt.\n\nSent from my iPhone", "apple",
                                SUBMITTED + timedelta(hours=2))]
        worker.tick(db, transport, SUBMITTED + timedelta(hours=2), settings, "rig")
        worker.tick(db, transport, SUBMITTED + timedelta(hours=3), settings, "rig")
    finally:
        transport.close()
    assert charters.get_charter(db, cid)["status"] == "approved"
    assert [d["decision"] for d in charters.decisions(db, cid)] == ["approve", "approve"]
    for raw in sent:
        assert_explain_agrees(db, raw)
    subjects = [email.message_from_bytes(r, policy=email.policy.default)["Subject"]
                for r in inbox_of(mail_rig, users["sponsor"])]
    assert subjects == ["Observability playbook: approved"]
