"""Nothing a participant wrote reaches anyone else: checked over every planned email and its bytes."""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from typing import Any

from mailer.flows.challenge import flow as challenge
from mailer.store import outbox as outbox_store
from tests.flows.challenge.conftest import CREW, UTC

FIRST_TICK = datetime(2027, 1, 3, 12, 0, tzinfo=UTC)
END = datetime(2027, 2, 5, tzinfo=UTC)


def strings(value: Any) -> list[str]:
    """Every string inside a context (dicts, lists, tuples, nested)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, (list, tuple, set)):
        return [s for v in value for s in strings(v)]
    return []


def visible_text(data: bytes) -> str:
    """The decoded text of every part of a stored email (text, HTML, attachments)."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.get_content_maintype() != "multipart":
            payload = part.get_payload(decode=True) or b""
            parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(parts)


def secret(email_addr: str, day: int) -> str:
    return f"private-note-{email_addr.split('@')[0]}-day{day}"


def test_entries_reach_only_their_author(sim, started):
    """Everyone journals every day with a unique marker; Aiko marks hers #share."""
    moment = FIRST_TICK
    while moment <= END:
        sim.tick(moment)
        if moment.hour == 22:
            for address, _, _ in CREW:
                day = (moment.date() - datetime(2027, 1, 4).date()).days + 1
                if 1 <= day <= 30:
                    tag = " #share" if address.startswith("aiko") else ""
                    sim.reply(address, f"challenge:{started.challenge_id}:day:{day}",
                              f"{secret(address, day)}\nsecond line{tag}", "journal", moment)
        moment += timedelta(hours=1)
    everyone = [address for address, _, _ in CREW]
    seen_by_author = {address: 0 for address in everyone}
    for _, plan in sim.planned:
        context_text = "\n".join(strings(plan.context))
        attached = "\n".join(a.data.decode() for a in plan.attachments)
        for author in everyone:
            found = f"private-note-{author.split('@')[0]}-" in context_text + attached
            if plan.to == author:
                seen_by_author[author] += found
            else:
                assert not found, f"{author}'s entry in {plan.key} to {plan.to}"
    # The author does see their own words: memories on days 8, 15, 22, 29 and the summary.
    assert all(count >= 5 for count in seen_by_author.values()), seen_by_author
    for row in sim.db.query("SELECT key, to_addr, data FROM outbox JOIN outbox_data USING (id)"):
        text = visible_text(row["data"])
        for author in everyone:
            if row["to_addr"] != author:
                assert f"private-note-{author.split('@')[0]}-" not in text, (row["key"], author)


def test_partner_progress_lines_carry_no_entry_text(sim, started):
    sim.run(FIRST_TICK, datetime(2027, 1, 6, tzinfo=UTC))
    sim.reply("sam@corp.example.com", f"challenge:{started.challenge_id}:day:1", "tape and hope", "journal",
              datetime(2027, 1, 5, 1, tzinfo=UTC))
    sim.run(datetime(2027, 1, 6, tzinfo=UTC), datetime(2027, 1, 8, tzinfo=UTC))
    lines = [p.context["partner_line"] for _, p in sim.planned if ":day:" in p.key and p.context["partner_line"]]
    assert lines and not [line for line in lines if "tape" in line]
    assert outbox_store.counts(sim.db)
    assert challenge.journal.is_shareable("tape #share") and not challenge.journal.is_shareable("tape")
