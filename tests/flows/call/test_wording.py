"""The call's text part reads without Markdown marks; its HTML part keeps them as formatting (issue 21)."""
from __future__ import annotations

from tests.flows.call.conftest import OPENED
from tests.flows.meetup.conftest import email_parts, sent_bytes


def test_the_call_description_reads_without_marks_in_the_text_part(db, sim, opened):
    (plan, *_) = sim.tick(OPENED)
    parts = email_parts(sent_bytes(db, plan.key))
    assert "Help write the observability playbook." in parts["text/plain"]
    assert "**" not in parts["text/plain"]
    assert "<strong>observability</strong>" in parts["text/html"]
