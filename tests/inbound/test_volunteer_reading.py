"""Replies to a volunteer call as people write them: the issue's phrases, in the languages the
reader knows, and the look-alikes that must never sign anyone up ("I'm in a meeting")."""
from __future__ import annotations

import pytest

from mailer.inbound.commands import interpret

ROLES = ("writer", "reviewer")
CASES = [
    ("Count me in as a writer", "volunteer", "writer"),
    ("count me in as a writer", "volunteer", "writer"),
    ("I'm in!", "volunteer", None),
    ("Sign me up", "volunteer", None),
    ("Happy to help with reviewing", "volunteer", "reviewer"),
    ("I'm in for writing", "volunteer", "writer"),
    ("Writers: count me in", "volunteer", "writer"),
    ("Count me in as well", "volunteer", None),
    ("Ich bin dabei, gern beim Reviewing", "volunteer", "reviewer"),
    ("Please take me off", "withdraw", None),
    ("Please take me off the team", "withdraw", None),
    ("I can't do it after all", "withdraw", None),
    ("Sorry, I cannot make it after all", "withdraw", None),
    ("Ich kann doch nicht, sorry", "withdraw", None),
    ("Bitte streich mich", "withdraw", None),
    ("Je ne peux plus, désolé", "withdraw", None),
    ("Al final no puedo", "withdraw", None),
    ("Sorry, not this time", "decline", None),
    ("Sorry, can't this time", "decline", None),
    ("Désolé, pas cette fois", "decline", None),
    ("Lo siento, esta vez no", "decline", None),
    ("Leider nicht dieses Mal", "decline", None),
    ("Helaas, deze keer niet", "decline", None),
    ("Comptez sur moi !", "volunteer", None),
    ("¡Cuenta conmigo!", "volunteer", None),
    ("Diesmal leider nicht.", "decline", None),
    ("I'm in a meeting", "unclear", None),
    ("I'm in a meeting until 3pm, will reply later", "unclear", None),
    ("I'm in London next week", "unclear", None),
    ("I'm in the middle of a release", "unclear", None),
    ("I am out of the office until Monday", "unclear", None),
    ("Ci sono in riunione", "unclear", None),
    ("Happy to help, but not as a writer", "unclear", None),
]


@pytest.mark.parametrize("text, intent, role", CASES)
def test_volunteer_phrases(text, intent, role):
    result = interpret("volunteer", text, roles=ROLES)
    assert (result.intent, result.role) == (intent, role), result.rule


def test_a_role_is_found_by_its_forms_not_by_a_prefix_of_another_word():
    assert interpret("volunteer", "I'd love to help with the writing", roles=ROLES).role == "writer"
    assert interpret("volunteer", "I'm in, I love reviews", roles=ROLES).role == "reviewer"
    assert interpret("volunteer", "I'm in", roles=("speaker", "host")).role is None
