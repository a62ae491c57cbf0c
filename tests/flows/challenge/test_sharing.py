"""What participants let us share, through the real worker (Maildir inbox, routing, the flow,
the outbox) and ``digest preview`` for the sponsor and the lead (issue 19, "What they let us
share"). A private entry never reaches a digest, however it was written or quoted; a plain
``#share`` does."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.simulation.replies import CLIENTS, OTHER_CLIENTS
from mailer.store import challenges, people
from tests.flows.challenge.test_answering_every_email import OLIVER, PRIYA, box  # noqa: F401 - fixture

SPONSOR, LEAD = "sponsor@corp.example.com", "lead@corp.example.com"
PRIVATE = "Private-note-7: my manager blocked the release again."
PUBLIC = "Public-note-3: we cut the build time in half."


def previews(box, home) -> dict[str, str]:
    """``digest preview`` for the challenge's sponsor and the community lead, an hour later."""
    for address, name, role in ((SPONSOR, "Dana Sponsor", "sponsor"), (LEAD, "Lia Lead", "lead")):
        if people.find_person(box.db, address) is None:
            people.add_person(box.db, address, name, "Europe/Berlin", (role,))
    when = (box.now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shown = {}
    for address in (SPONSOR, LEAD):
        result = CliRunner().invoke(main, ["--home", str(home), "digest", "preview", address, "--now", when],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        shown[address] = result.output
    return shown


def shared_flags(box, address: str) -> list[bool]:
    person = people.find_person(box.db, address)
    return [bool(e["shareable"]) for e in challenges.entries(box.db, person["id"])]


def assert_private_and_public(box, home) -> None:
    for address, text in previews(box, home).items():
        assert "Public-note-3" in text, (address, text)  # highlights are shown at all
        assert "Private-note-7" not in text and "manager" not in text, (address, text)
    assert shared_flags(box, PRIYA) == [True]


@pytest.mark.parametrize("box", CLIENTS, indirect=True)
@pytest.mark.parametrize("entry", [
    f"Please don't #share this: {PRIVATE}",
    f"Bitte nicht #share: {PRIVATE}",
    f"Merci de ne pas #share : {PRIVATE}",
    f"Por favor, no #share esto: {PRIVATE}",
    f"{PRIVATE}\n\n#shareしないでください",
    f"Should I #share this? {PRIVATE}",
])
def test_a_negated_or_asked_tag_shares_nothing(box, home, entry):
    box.answer(PRIYA, "day", f"{PUBLIC} #share")
    box.answer(OLIVER, "day", entry)
    assert shared_flags(box, OLIVER) == [False]
    assert_private_and_public(box, home)


@pytest.mark.parametrize("box", CLIENTS + OTHER_CLIENTS, indirect=True)
def test_a_private_entry_stays_private_however_the_client_quoted_our_instruction(box, home):
    """Horde's "Quoting Community of Practice <cop@…>:", the original left unquoted or pasted
    with no attribution: the quoted "Add #share if you are happy…" is ours, never the author's."""
    box.answer(PRIYA, "day", f"{PUBLIC} #share")
    box.answer(OLIVER, "day", PRIVATE)
    assert box.entries(OLIVER) == {1: PRIVATE}
    assert shared_flags(box, OLIVER) == [False]
    assert_private_and_public(box, home)


@pytest.mark.parametrize("box", OTHER_CLIENTS, indirect=True)
def test_a_plain_tag_under_an_unknown_quote_still_shares(box, home):
    box.answer(PRIYA, "day", f"{PUBLIC} #share")
    assert box.entries(PRIYA) == {1: f"{PUBLIC} #share"}
    assert_private_and_public(box, home)


@pytest.mark.parametrize("box", ["gmail"], indirect=True)
def test_an_entry_an_older_reading_marked_shareable_is_read_again_before_a_digest_quotes_it(box, home):
    box.answer(PRIYA, "day", f"{PUBLIC} #share")
    oliver = people.find_person(box.db, OLIVER)
    challenges.add_entry(box.db, 1, oliver["id"], 1, f"Please don't #share this: {PRIVATE}", True, box.now,
                         "<older@corp.example.com>")  # as the old reading stored it: shareable
    assert_private_and_public(box, home)


@pytest.mark.parametrize("box", OTHER_CLIENTS, indirect=True)
def test_explain_reads_an_unknown_quote_as_the_worker_does(box, home):
    """`explain` takes the answered email's lines as history too, so its text is the worker's."""
    import json

    from mailer.inbound.history import sent_text
    from mailer.simulation.replies import compose_reply

    ours = box.latest(OLIVER, "day")
    raw = compose_reply(ours, OLIVER, "", PRIVATE, box.client, box.now)
    path = home / "reply.eml"
    path.write_bytes(raw)
    when = box.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    result = CliRunner().invoke(main, ["--home", str(home), "explain", "--json", "--now", when, str(path)],
                                catch_exceptions=False)
    seen = json.loads(result.output.splitlines()[0])
    assert seen["reply_text"] == PRIVATE
    assert "#share" in sent_text(ours)  # the instruction was there to be mistaken for the author's
