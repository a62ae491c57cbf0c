"""A journal entry has a maximum size: a longer one is cut and its author told, once."""
from __future__ import annotations

from datetime import datetime

from mailer.flows.challenge import emails as mail
from mailer.flows.challenge import journal
from mailer.store import challenges as store
from tests.flows.challenge.conftest import UTC
from tests.flows.challenge.test_emails import CHALLENGE, PERSON, rendered

FIRST_TICK = datetime(2027, 1, 3, 12, 0, tzinfo=UTC)
DAY2 = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
OLIVER = "oliver@corp.example.com"


def test_a_huge_entry_is_cut_at_the_maximum_and_its_author_told(sim, started, crew):
    sim.run(FIRST_TICK, DAY2)
    text = "Mapped the pipeline.\n" + "word " * 2_000_000  # 10 MB of words
    plans = sim.reply(OLIVER, f"challenge:{started.challenge_id}:day:2", text, "journal", DAY2)
    [entry] = store.entries(sim.db, crew[OLIVER], started.challenge_id)
    assert len(entry["text"]) <= journal.MAX_ENTRY
    assert entry["text"].startswith("Mapped the pipeline.\nword word") and entry["text"].endswith("word …")
    [note] = plans
    assert note.to == OLIVER and note.template == "challenge/entry_cut" and note.auto_reply
    assert note.reply_purpose == "journal" and note.reply_ref == f"challenge:{started.challenge_id}:day:2"


def test_an_entry_of_exactly_the_maximum_is_kept_whole_without_a_note(sim, started, crew):
    sim.run(FIRST_TICK, DAY2)
    text = "x" * journal.MAX_ENTRY
    assert sim.reply(OLIVER, f"challenge:{started.challenge_id}:day:2", text, "journal", DAY2) == []
    [entry] = store.entries(sim.db, crew[OLIVER], started.challenge_id)
    assert entry["text"] == text


def test_capped_cuts_at_a_line_end_near_the_limit():
    text = ("a" * 99 + "\n") * 300
    cut, was_cut = journal.capped(text, 1_000)
    assert was_cut and cut == ("a" * 99 + "\n") * 8 + "a" * 99 + " …"
    assert journal.capped("short", 1_000) == ("short", False)


def test_the_note_renders_in_text_and_html():
    plan = mail.entry_cut(CHALLENGE, PERSON, 2, datetime(2027, 1, 5, tzinfo=UTC), "Re: Day 2", "<m@x>")
    text, html = rendered(plan)
    assert "longer than 20,000 characters" in text and "day 2 entry" in text
    assert text.startswith("Hi Sam,") and ">Hi Sam,</p>" in html
