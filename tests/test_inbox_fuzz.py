"""Malformed MIME fed to the inbox: nothing escapes, everything is stored, bad mail has a reason."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from mailer import worker
from mailer.config import load_settings
from mailer.store import inbox as inbox_store
from mailer.store import memory_db, people
from mailer.transports.maildir import MaildirTransport, deliver_to_inbox
from tests.conftest import NOW

HEADER_NAMES = ["From", "To", "Subject", "Message-ID", "Content-Type", "Content-Transfer-Encoding",
                "Auto-Submitted", "In-Reply-To", "References", "Return-Path", "Precedence", "X-Junk"]
NASTY_VALUES = ["<", "=?utf-8?q?broken", "=?x-unknown?b?QUJD?=", "multipart/mixed", "multipart/report",
                "text/plain; charset=klingon", "base64", "quoted-printable", "cop+aaaaaaaaaaaaaaaaaaaa@example.test",
                "\x00", "a" * 2000, "<a@b> <c@d", "multipart/alternative; boundary=\"\"", "text/calendar; method=REPLY"]


@st.composite
def mime_messages(draw) -> bytes:
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES),
                                      st.one_of(st.sampled_from(NASTY_VALUES), st.text(max_size=60))),
                            max_size=12))
    body = draw(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass"))))
    nested = draw(st.integers(min_value=0, max_value=3))
    parts = b"".join(b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" for _ in range(nested))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "surrogateescape")
    return head + b"\r\n" + parts + body


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mime_messages(), min_size=1, max_size=4, unique=True))
def test_malformed_mail_never_escapes_and_is_never_lost(messages):
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        settings = load_settings(home, env={})
        db = memory_db()
        people.add_person(db, "alice@corp.example.com", "Alice", "UTC")
        for raw in messages:
            deliver_to_inbox(settings.mail_dir, raw)
        result = worker.tick(db, MaildirTransport(settings.mail_dir), NOW, settings, "fuzz")
        rows = inbox_store.list_messages(db, limit=100)
        stored = sorted(inbox_store.get_message(db, r["id"])["raw"] for r in rows)
        # Two different byte strings may share a Message-ID: the second is a duplicate, kept on disk.
        assert result.fetched == len(rows) and len(rows) <= len(messages)
        assert set(stored) <= set(messages)
        for row in rows:
            assert row["state"] in ("done", "ignored", "quarantined")
            assert row["reason"] or row["state"] == "done"
        kept = [p for p in (settings.mail_dir / "processed").rglob("*") if p.is_file()]
        assert len(kept) == len(messages)  # every message is filed away, none deleted
