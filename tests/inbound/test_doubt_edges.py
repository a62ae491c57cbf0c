"""The edges of the doubt check's rules (mailer/inbound/doubt.py): which intents a deferral
stops, how far before the verb a negation counts, a Japanese question without "?", and a
context with no list of actions. Written against the survivors of a mutmut run."""
from __future__ import annotations

import pytest

from mailer.inbound.commands import fold
from mailer.inbound.doubt import doubt


def doubted(context: str, intent: str, text: str) -> str | None:
    return doubt(context, intent, fold(text).folded)


@pytest.mark.parametrize("context, intent, text", [
    ("approval", "approve", "Approve. I will review it again next week."),
    ("approval", "reject", "Reject. I will review it again next week."),
    ("meetup", "accept", "Accepted. I will check my calendar tomorrow."),
    ("volunteer", "volunteer", "Count me in. I will check my calendar tomorrow."),
])
def test_a_deferral_stops_each_decision(context, intent, text):
    assert doubted(context, intent, text) == "the reply defers the decision"


@pytest.mark.parametrize("words, why", [
    ("not one two three four approve", "a negation around the verb"),  # five words before
    ("not one two three four five approve", None),  # six: another clause's word
])
def test_a_negation_counts_within_five_words_before_the_verb(words, why):
    assert doubted("approval", "approve", words) == why


def test_a_japanese_question_without_a_question_mark_asks():
    assert doubted("approval", "approve", "承認しますか") == "the reply asks a question about it"


def test_a_context_without_actions_has_nothing_to_disagree_with():
    assert doubted("digest", "approve", "Approve") is None


@pytest.mark.parametrize("context, intent, text, other", [
    ("volunteer", "volunteer", "Count me in. Please withdraw me from the waitlist of the other role.", "withdraw"),
    ("journal", "pause", "Pause. Also stop.", "stop"),
    ("approval", "approve", "Approve. Also reject it.", "reject"),
])
def test_a_second_command_that_disagrees_is_named_in_plain_words(context, intent, text, other):
    assert doubted(context, intent, text) == f"the reply also says {other}"
