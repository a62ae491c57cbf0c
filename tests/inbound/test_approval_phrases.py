"""A reply that says both is never an approval: every approving phrase the reader knows, put
together with every rejection or change request, in either order and either layout."""
from __future__ import annotations

import itertools

import pytest

from mailer.inbound.commands import interpret

APPROVING = ["Approved", "Yes", "OK", "+1, looks good", "LGTM", "Genehmigt", "Approuvé", "Sí, aprobado",
             "Go ahead", "Looks good to me", "Akkoord", "Looks good, approved", "Looks good."]
AGAINST = ["Reject: too broad", "No.", "Changes needed: cut the scope", "I have to say no, no budget",
           "Abgelehnt", "Not approved", "Before I approve, please cut the scope", "-1",
           "Wijzigingen nodig: kleinere scope", "Actually no"]


@pytest.mark.parametrize("yes, no", list(itertools.product(APPROVING, AGAINST)))
def test_saying_both_is_never_an_approval(yes, no):
    for text in (f"{yes}. {no}", f"{no}. {yes}", f"{yes}\n\n{no}", f"{no}\n{yes}"):
        assert interpret("approval", text).intent != "approve", text


@pytest.mark.parametrize("text", APPROVING)
def test_each_approving_phrase_alone_approves(text):
    assert interpret("approval", text).intent == "approve"
