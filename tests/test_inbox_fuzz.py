"""Malformed MIME fed to the inbox: nothing escapes, everything is stored, bad mail has a reason."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from mailer import inbox
from mailer.store import inbox as inbox_store
from mailer.store import memory_db, people

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


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mime_messages(), min_size=1, max_size=4))
def test_malformed_mail_never_escapes_and_is_never_lost(messages):
    from datetime import datetime, timezone
    from pathlib import Path

    from mailer.config import load_settings

    db = memory_db()
    people.add_person(db, "alice@corp.example.com", "Alice", "UTC")
    settings = load_settings(Path("/nonexistent-home"), env={})
    now = datetime(2027, 1, 4, tzinfo=timezone.utc)
    stored = 0
    for i, raw in enumerate(messages):
        stored += inbox_store.store_raw(db, f"k{i}", None, raw, "", "", now) is not None
    result = inbox.InboxResult()
    inbox.process(db, now, settings, result)
    rows = inbox_store.list_messages(db, limit=100)
    assert len(rows) == stored == len(messages)
    for row in rows:
        assert row["state"] in ("done", "ignored", "quarantined")
        assert row["reason"] or row["state"] == "done"
        assert inbox_store.get_message(db, row["id"])["raw"] == messages[row["id"] - 1]
