"""Issue 19, "What they meant", for sign-ups through the real worker: a reply that negates,
hedges, asks or takes itself back signs nobody up (before, each was put on the list with a
thank-you) and gets the one short question instead."""
from __future__ import annotations

import pytest

from mailer.simulation.replies import CLIENTS
from tests.flows.call.conftest import AIKO
from tests.flows.call.test_e2e import world  # noqa: F401 - the fixture: a home with one open call

NOT_A_SIGN_UP = [
    "Don't count me in, I'm swamped.",
    "I'm not sure I'm in, let me check with my manager.",
    "count me in? not sure",
    "I'm in!! Just kidding",
]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("text", NOT_A_SIGN_UP)
def test_a_reply_that_contradicts_a_sign_up_is_asked_about(world, text, client):  # noqa: F811
    world.reply(AIKO, text, client)
    assert world.tick() == {(AIKO, "unclear")}
    assert world.roles() == {}


@pytest.mark.parametrize("client", CLIENTS)
def test_a_plain_sign_up_still_signs_up(world, client):  # noqa: F811
    world.reply(AIKO, "Count me in as a writer", client)
    assert world.tick() == {(AIKO, "confirmed")}
