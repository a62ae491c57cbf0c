import email
import email.policy
import re

from mailer.flows.base import Attachment
from mailer.outbound import envelope
from mailer.outbound.render import render


def make(now, **kw):
    base = dict(message_id="<m1@example.test>", from_name="Community of Practice", from_addr="cop@example.test",
                to_name="María González", to_addr="maria@corp.example.com", subject="Day 1 of 30: Map it ✓",
                date=now)
    base.update(kw)
    return envelope.Envelope(**base)


def test_tokens_are_long_lowercase_base32_and_unique():
    tokens = {envelope.new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(re.fullmatch(r"[a-z2-7]{20}", t) for t in tokens)


def test_wire_bytes_use_crlf_only(now):
    data = envelope.build(make(now), "line one\nline two\n", "<p>hi</p>")
    assert b"\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_headers_ask_machines_not_to_answer(now):
    msg = email.message_from_bytes(envelope.build(make(now), "t", "<p>h</p>"), policy=email.policy.default)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Subject"] == "Day 1 of 30: Map it ✓"
    assert msg["To"].addresses[0].display_name == "María González"
    assert msg["List-Unsubscribe"] is None


def test_recurring_mail_carries_list_unsubscribe(now):
    env = make(now, recurring=True, unsubscribe="cop+tok@example.test", reply_to="cop+tok@example.test")
    msg = email.message_from_bytes(envelope.build(env, "t", "h"), policy=email.policy.default)
    assert msg["List-Unsubscribe"] == "<mailto:cop+tok@example.test?subject=unsubscribe>"
    assert msg["List-Unsubscribe-Post"] is None  # RFC 8058 needs an https URI for one-click
    env = make(now, recurring=True, unsubscribe="cop+tok@example.test", unsubscribe_url="https://x.test/u/tok")
    raw = envelope.build(env, "t", "h")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["List-Unsubscribe"].startswith("<https://x.test/u/tok>, <mailto:")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unfolded = raw.split(b"List-Unsubscribe:")[1].split(b"\r\n")[0]
    assert b"mailto" in unfolded  # kept on one line


def test_answers_to_people_are_auto_replied(now):
    msg = email.message_from_bytes(envelope.build(make(now, auto_reply=True), "t", "h"))
    assert msg["Auto-Submitted"] == "auto-replied"


def test_attachments_make_a_mixed_message(now):
    att = Attachment("journal.md", "text/markdown", "# Journal\n\nDay 1: café ☕\n".encode())
    msg = email.message_from_bytes(envelope.build(make(now), "t", "h", (att,)), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_attachments())
    assert parts[0].get_filename() == "journal.md"
    assert "café ☕" in parts[0].get_content()


def test_render_inlines_css_and_escapes(tmp_path):
    text, html = render("system/unrouted", {"site_name": "CoP", "subject": "s", "reply_ref": None,
                                            "recurring": False, "recipient": {"name": "<Bob>", "email": "b@x"},
                                            "their_subject": "a & b"})
    assert "Hi <Bob>," in text
    assert "&lt;Bob&gt;" in html and "<Bob>" not in html
    assert "<style" not in html and 'style="' in html


def test_the_direct_writer_matches_the_mime_classes(now):
    """The plain text+HTML fast path: same headers, same decoded parts, no defects."""
    from email.mime.text import MIMEText

    samples = ["", "one line", "Hello Zoë\n\n.\nline two   \n" + "x" * 200 + "\n", "a = b\tc\r\nd ✓ 😀\n"]
    env = make(now, recurring=True, unsubscribe="cop+t@example.test", reply_to="cop+t@example.test")
    for text in samples:
        for html in samples:
            ours = email.message_from_bytes(envelope.build(env, text, html))
            mime = envelope._multipart("alternative")
            mime.attach(MIMEText(text, "plain", envelope.UTF8_QP))
            mime.attach(MIMEText(html, "html", envelope.UTF8_QP))
            envelope._headers(mime, env)
            theirs = email.message_from_bytes(mime.as_bytes(policy=envelope.WIRE))
            assert [k for k in ours.keys()] == [k for k in theirs.keys()]
            assert [p.get_payload(decode=True) for p in ours.walk()][1:] == \
                   [p.get_payload(decode=True) for p in theirs.walk()][1:]
            assert not ours.defects and all(not p.defects for p in ours.walk())
            assert all(len(line) <= 78 for line in envelope.build(env, text, html).split(b"\r\n"))


def test_inline_images_ride_in_multipart_related_and_files_keep_their_type(now):
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    data = envelope.build(make(now), "text", '<p><img src="cid:p0@digest"></p>',
                          (Attachment("p0.jpg", "image/jpeg", jpeg, content_id="p0@digest"),
                           Attachment("board.jpg", "image/jpeg", jpeg)))
    msg = email.message_from_bytes(data, policy=email.policy.default)
    shape = [(p.get_content_type(), p.get_content_disposition()) for p in msg.walk()]
    assert shape == [("multipart/mixed", None), ("multipart/alternative", None), ("text/plain", None),
                     ("multipart/related", None), ("text/html", None), ("image/jpeg", "inline"),
                     ("image/jpeg", "attachment")]
    inline = [p for p in msg.walk() if p.get_content_disposition() == "inline"][0]
    assert inline["Content-ID"] == "<p0@digest>" and inline.get_payload(decode=True) == jpeg


def test_the_direct_invitation_writer_matches_the_mime_classes(now):
    """A meetup email (text, HTML, the calendar inline and as invite.ics): same headers in each
    part, same decoded parts, no defects, no line over 78 characters."""
    from email.mime.text import MIMEText

    samples = ["", "one line", "Hello Zoë\n\n.\nline two   \n" + "x" * 200 + "\n", "a = b\tc\r\nd ✓ 😀\n"]
    calendars = [b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", ("x" * 1000 + "Zoë\r\n").encode() * 3, b""]
    env = make(now, reply_to="cop+t@example.test")
    for text in samples:
        for html in samples:
            for method, ics in zip(("REQUEST", "CANCEL", "REQUEST"), calendars):
                data = envelope.build(env, text, html, (), (method, ics))
                body = envelope._multipart("alternative")
                body.attach(MIMEText(text, "plain", envelope.UTF8_QP))
                body.attach(MIMEText(html, "html", envelope.UTF8_QP))
                body.attach(envelope._calendar_part(method, ics))
                mime = envelope._multipart("mixed")
                mime.attach(body)
                attached = envelope._attachment(Attachment("invite.ics", "application/ics", ics))
                attached.set_param("name", "invite.ics")
                mime.attach(attached)
                envelope._headers(mime, env)
                theirs = email.message_from_bytes(numbered(mime.as_bytes(policy=envelope.WIRE)))
                ours = email.message_from_bytes(numbered(data))
                assert [p.items() for p in ours.walk()] == [p.items() for p in theirs.walk()]
                assert [p.get_payload(decode=True) for p in ours.walk()] == \
                       [p.get_payload(decode=True) for p in theirs.walk()]
                assert not ours.defects and all(not p.defects for p in ours.walk())
                assert all(len(line) <= 78 for line in data.split(b"\r\n") if not line.startswith(b"To:"))


def numbered(data: bytes) -> bytes:
    """``data`` with its random boundaries named B0, B1, … in the order they first appear."""
    names: dict[bytes, bytes] = {}
    return re.sub(rb"=_[0-9a-f]{24}", lambda m: names.setdefault(m.group(), b"=_B%d" % len(names)), data)
