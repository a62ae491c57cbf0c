"""The call's text part reads without Markdown marks; its HTML part keeps them as formatting (issue 21)."""
from __future__ import annotations

from mailer.flows.call.definition import load_spec, open_call
from tests.flows.call.conftest import OPENED, call_toml
from tests.flows.meetup.conftest import email_parts, sent_bytes


def test_the_call_description_reads_without_marks_in_the_text_part(db, sim, opened):
    (plan, *_) = sim.tick(OPENED)
    parts = email_parts(sent_bytes(db, plan.key))
    assert "Help write the observability playbook." in parts["text/plain"]
    assert "**" not in parts["text/plain"]
    assert "<strong>observability</strong>" in parts["text/html"]


def test_a_role_description_reads_without_marks_in_the_text_part(db, sim, community, write_call):
    roles = '[[roles]]\nname = "writer"\nplaces = 2\ndescription = "Drafts **two** chapters"\n'
    open_call(db, load_spec(write_call(call_toml(roles=roles))), OPENED)
    (plan, *_) = sim.tick(OPENED)
    parts = email_parts(sent_bytes(db, plan.key))
    assert "Drafts two chapters" in parts["text/plain"] and "**" not in parts["text/plain"]
    assert "Drafts <strong>two</strong> chapters" in parts["text/html"]
