"""``answered_data``: the bytes of our emails a reply answers, for reading quoted history."""
from mailer.store import outbox


def test_the_bytes_of_our_emails_in_the_order_asked_unknown_ids_skipped(db, now):
    for key in ("a", "b", "c"):
        outbox.enqueue_row(db, key=key, message_id=f"<{key}@example.test>", to_addr="sam@x.test", subject="s",
                           data=f"email {key}".encode(), created_at=now)
    asked = ["<c@example.test>", "<theirs@corp.example.com>", "a@example.test", "<c@example.test>", ""]
    assert outbox.answered_data(db, asked) == [b"email c", b"email a"]
    assert outbox.answered_data(db, asked, limit=1) == [b"email c"]
    assert outbox.answered_data(db, []) == [] and outbox.answered_data(db, ["<nobody@x>"]) == []


def test_a_row_without_bytes_is_skipped(db, now):
    outbox.add_dead(db, key="d", message_id="<d@example.test>", to_addr="sam@x.test", subject="s",
                    created_at=now, reason="could not be built")
    assert outbox.answered_data(db, ["<d@example.test>"]) == []
