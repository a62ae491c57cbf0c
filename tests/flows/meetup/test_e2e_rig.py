"""A meetup through the worker over the real SMTP/IMAP rig, into a real CalDAV calendar.

Invitations leave by SMTP, are read back from Dovecot over IMAP, and what arrived is PUT into
Radicale the way a calendar client stores it. Answers come back by SMTP: an Outlook-style
calendar REPLY to the organiser address (no token, no ORGANIZER), a plain "I won't be able to
attend", and an out-of-office. Then a move and a cancel: each person's mailbox holds exactly one
invitation, one update and one cancellation, and the calendar follows.
"""
from __future__ import annotations

import email
import email.policy
import smtplib
from datetime import datetime, timedelta, timezone
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import icalendar
import pytest

from mailer import worker
from mailer.cli.meetup import details
from mailer.config import load_settings
from mailer.flows import meetup
from mailer.flows.meetup import actions
from mailer.outbound.invite import for_storage
from mailer.simulation.replies import compose_reply
from mailer.store import open_db, people
from mailer.transports import make_transport
from tests.conftest import write_rig_home
from tests.flows.meetup.test_rsvp import SAMPLES

UTC = timezone.utc
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
START = datetime(2027, 3, 25, 18, 0, tzinfo=UTC)  # 18:00 GMT in London
MOVED = datetime(2027, 4, 1, 17, 0, tzinfo=UTC)  # 18:00 BST in London
ZONES = {"alice": "Europe/London", "bob": "America/New_York", "carol": "Europe/Berlin"}


def inbox_of(rig, user) -> list[email.message.EmailMessage]:
    with rig.imap_client(user) as client:
        client.select_folder("INBOX", readonly=True)
        fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[]"])
        return [email.message_from_bytes(d[b"BODY[]"], policy=email.policy.default) for d in fetched.values()]


def calendar_part(msg) -> bytes:
    (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    (ics,) = [p for p in msg.walk() if p.get_content_type() == "application/ics"]
    assert part.get_payload(decode=True) == ics.get_payload(decode=True)  # same bytes after SMTP and IMAP
    return part.get_payload(decode=True)


def outlook_accept(invitation: bytes, attendee: str) -> bytes:
    """What Outlook sends for Accept: a REPLY without ORGANIZER, with a COMMENT, to the organiser."""
    (event,) = icalendar.Calendar.from_ical(invitation).events
    reply = icalendar.Event.new(uid=str(event["UID"]), sequence=int(event["SEQUENCE"]), start=event.start,
                                end=event.end, summary=f"Accepted: {event['SUMMARY']}", comments="See you there",
                                attendees=[icalendar.vCalAddress.new(attendee, partstat="ACCEPTED")],
                                stamp=datetime(2027, 3, 1, 10, 0, tzinfo=UTC))
    cal = icalendar.Calendar.new(method="REPLY", prodid="Microsoft Exchange Server 2010", subcomponents=[reply])
    msg = MIMEMultipart("alternative")
    msg.attach(MIMEText("See you there", "plain"))
    body = MIMEText(cal.to_ical().decode(), "calendar", "utf-8")
    body.set_param("method", "REPLY")
    msg.attach(body)
    msg["From"], msg["Subject"] = attendee, f"Accepted: {event['SUMMARY']}"
    msg["X-Auto-Response-Suppress"] = "All"
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))  # SMTP wants CRLF


def out_of_office(invitation, sender: str) -> bytes:
    oof = (SAMPLES / "outlook_oof.eml").read_bytes().replace(b"Bob.Brown@corp.example.com", sender.encode())
    msg = email.message_from_bytes(oof, policy=email.policy.default)
    msg.replace_header("To", invitation["Reply-To"])
    msg.replace_header("In-Reply-To", invitation["Message-ID"])
    msg.set_content("I am out of the office and won't be able to attend.")
    return msg.as_bytes(policy=email.policy.SMTP)


def send(rig, sender: str, to: str, raw: bytes) -> None:
    with smtplib.SMTP(rig.host, rig.smtp_port) as smtp:
        smtp.sendmail(sender, [to], raw)


@pytest.mark.rig
def test_invite_answer_move_cancel_through_real_servers(mail_rig, caldav, tmp_path):
    users = mail_rig.fresh_users(("mailer", *ZONES))
    home = write_rig_home(tmp_path / "home", mail_rig, users["mailer"])
    settings = load_settings(home, env={})
    db = open_db(settings.db_path)
    for name, zone in ZONES.items():
        people.add_person(db, users[name].address, name.title(), zone, ("member",))
    spec = {"title": "Report-back meetup", "start": START, "timezone": "Europe/London", "duration_minutes": 60,
            "location": "Room 4", "invite": "member", "source": "e2e"}
    meetup_id = meetup.schedule_meetup(db, spec, T0)
    transport = make_transport(settings)
    tick = lambda now: worker.tick(db, transport, now, settings, "e2e")  # noqa: E731
    alice, bob, carol = (users[n] for n in ZONES)
    calendar = caldav.new_calendar()
    try:
        tick(T0)
        invitation = inbox_of(mail_rig, alice)[0]
        data = calendar_part(invitation)
        uid = str(icalendar.Calendar.from_ical(data).events[0]["UID"])
        assert caldav.put(f"{calendar}{uid}.ics", for_storage(data)) == 201
        assert len(caldav.query(calendar, START, START + timedelta(minutes=1))) == 1

        send(mail_rig, alice.address, settings.mailer_address, outlook_accept(data, alice.address))
        bob_invite = inbox_of(mail_rig, bob)[0]
        reply = compose_reply(bob_invite.as_bytes(), bob.address, "Bob", "I won't be able to attend, sorry.",
                              "outlook", T0)
        send(mail_rig, bob.address, bob_invite["Reply-To"], reply)
        carol_invite = inbox_of(mail_rig, carol)[0]
        send(mail_rig, carol.address, carol_invite["Reply-To"], out_of_office(carol_invite, carol.address))
        tick(T0 + timedelta(hours=1))
        answers = {p["email"]: (p["answer"], p["version"]) for p in details(db, meetup_id)["invitees"]}
        assert answers == {alice.address: ("accepted", 0), bob.address: ("declined", 0),
                           carol.address: ("needs-action", None)}

        # Bob wrote words and gets one line back; Alice's calendar answered, so she gets none.
        (got,) = [m for m in inbox_of(mail_rig, bob) if m["Subject"].startswith("RE")]
        assert "Got it: you can't make Report-back meetup on " in got.get_body(("plain",)).get_content()
        assert not [m for m in inbox_of(mail_rig, alice) if m["Subject"].startswith("RE")]

        actions.move_meetup(db, meetup_id, MOVED, None, T0 + timedelta(hours=2))
        tick(T0 + timedelta(hours=2))
        kept = {p["email"]: p["earlier"] for p in details(db, meetup_id)["invitees"]}
        assert kept[alice.address]["answer"] == "accepted" and kept[bob.address]["answer"] == "declined"
        (update,) = [m for m in inbox_of(mail_rig, alice) if m["Subject"].startswith("Updated:")]
        assert caldav.put(f"{calendar}{uid}.ics", for_storage(calendar_part(update))) == 204
        assert caldav.query(calendar, START, START + timedelta(minutes=1)) == []
        assert len(caldav.query(calendar, MOVED, MOVED + timedelta(minutes=1))) == 1

        actions.cancel_meetup(db, meetup_id, "Speaker unwell", T0 + timedelta(hours=3))
        for hour in range(3, 6):
            tick(T0 + timedelta(hours=hour))
        (cancel,) = [m for m in inbox_of(mail_rig, alice) if m["Subject"].startswith("Cancelled:")]
        assert caldav.put(f"{calendar}{uid}.ics", for_storage(calendar_part(cancel))) == 204
        (stored,) = caldav.query(calendar, MOVED, MOVED + timedelta(minutes=1))
        assert "STATUS:CANCELLED" in stored[1]
    finally:
        transport.close()
    for user in (alice, bob, carol):
        subjects = sorted(m["Subject"].split(":")[0] for m in inbox_of(mail_rig, user))
        expected = ["Cancelled", "Invitation", "RE", "Updated"] if user is bob else ["Cancelled", "Invitation", "Updated"]
        assert subjects == expected, (user.address, subjects)
