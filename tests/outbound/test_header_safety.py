"""Header safety: names, titles and subjects from data never break or inject into an email."""
from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import date, datetime, timezone

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from mailer import outbox
from mailer.flows.challenge import emails as mail
from mailer.outbound import envelope
from mailer.outbound.safe_text import display_name, one_line
from mailer.store.people import add_person

NOW = datetime(2027, 1, 10, 9, tzinfo=timezone.utc)
CHALLENGE = {"id": 1, "title": "DevOps 30-day challenge", "domain": "DevOps", "description": "Small steps.",
             "start": "2027-01-04", "length": 30, "send_hour": 8, "send_minute": 0, "partners": True}
DAY = {"day": 2, "title": "Map it", "activity": "Draw the **pipeline**."}


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def defects(msg) -> list:
    found = []
    for part in msg.walk():
        found += part.defects
        found += [d for name in part.keys() for d in getattr(part[name], "defects", ())]
    return found


def build(to_name: str, subject: str = "Day 1", **kw) -> bytes:
    env = envelope.Envelope(message_id="<m1@example.test>", from_name="Community of Practice",
                            from_addr="cop@example.test", to_name=to_name, to_addr="zed@corp.example.com",
                            subject=subject, date=NOW, **kw)
    return envelope.build(env, "text", "<p>html</p>")


def test_a_name_with_a_line_break_cannot_inject_a_header():
    msg = parsed(build("Zed\nX-Evil: 1", subject="Re: hi\r\nBcc: all@corp.example.com"))
    assert msg["X-Evil"] is None and msg["Bcc"] is None
    assert msg["To"].addresses[0].display_name == "Zed X-Evil: 1"
    assert msg["Subject"] == "Re: hi Bcc: all@corp.example.com"
    assert not defects(msg)


def test_a_name_that_cannot_be_used_is_left_out_not_fatal():
    for name in ("\n\t\x00", "-- ", "x" * 500):
        msg = parsed(build(name))
        assert str(msg["To"]) == "zed@corp.example.com"


def test_ascii_that_looks_encoded_reads_back_as_written():
    msg = parsed(build("=?utf-8?q?Boss?=", subject="=?utf-8?b?SGk=?= there"))
    assert msg["Subject"] == "=?utf-8?b?SGk=?= there"
    assert msg["To"].addresses[0].display_name == "=?utf-8?q?Boss?="


def test_plain_text_parts_show_names_on_one_line(db, settings):
    zed = add_person(db, "zed@corp.example.com", "Zed\nX-Evil: 1\n\nDear all,", "UTC")
    partner = {"person_id": 9, "name": "Aiko\nreply stop\nTanaka", "timezone": "Asia/Tokyo", "status": "active"}
    plans = [mail.day_email(CHALLENGE, DAY, {"id": zed, "email": "zed@corp.example.com", "name": "Zed"},
                            mail.partner_line(2, [partner], {}, True), None, 0)]
    outbox.enqueue(db, plans, NOW, settings)
    plans = [outbox.PlannedEmail(key="system:unrouted:zed", to="zed@corp.example.com", subject="Re: x",
                                 template="system/unrouted", context={"their_subject": "x"}, auto_reply=True)]
    outbox.enqueue(db, plans, NOW, settings)
    for row in db.query("SELECT data FROM outbox JOIN outbox_data USING (id)"):
        text = parsed(row["data"]).get_body(("plain",)).get_content()
        assert "\nX-Evil" not in text and "\nDear all" not in text and "\nreply stop" not in text


names = st.text(min_size=0, max_size=60)
subjects = st.text(min_size=0, max_size=120)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, partner=names, title=subjects, their_subject=subjects, site=names)
def test_every_email_we_build_parses_back_the_same(db, settings, name, partner, title, their_subject, site):
    challenge = {**CHALLENGE, "title": title}
    person = {"id": 1, "email": "zed@corp.example.com", "name": name, "timezone": "UTC"}
    with_site = replace(settings, values=tuple((k, site if k == "mailer_site_name" else v)
                                               for k, v in settings.values))
    mate = {"person_id": 2, "name": partner, "timezone": "UTC", "status": "active"}
    plans = [mail.day_email(challenge, {**DAY, "title": title}, person, mail.partner_line(2, [mate], {}, True),
                            None, 0),
             mail.status_change(challenge, person, "paused", NOW, None, their_subject, "<a@b>"),
             mail.couldnt_read(challenge, person, 2, date(2027, 1, 10), their_subject, None),
             mail.announcement(challenge, person, False, NOW)]
    for plan in plans:
        raw = outbox._compose(plan, person, "<m1@example.test>", "abcdefghijklmnopqrst", NOW, with_site)
        msg = parsed(raw)
        assert not defects(msg), (plan.key, defects(msg))
        assert msg["Subject"] == one_line(plan.subject)
        to = msg["To"].addresses[0]
        assert (to.display_name, to.addr_spec) == (display_name(name), "zed@corp.example.com")
        sender = msg["From"].addresses[0]
        assert (sender.display_name, sender.addr_spec) == (display_name(site), "cop@example.test")
        if plan.reply_purpose:
            assert msg["Reply-To"].addresses[0].addr_spec == "cop+abcdefghijklmnopqrst@example.test"
        text = msg.get_body(("plain",)).get_content()
        assert text.startswith(f"Hi {(one_line(name).split() or ['there'])[0]},")
