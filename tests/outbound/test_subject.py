"""Our answers' subjects never stack reply prefixes."""
from __future__ import annotations

from datetime import date

import pytest

from mailer.flows.challenge import emails as mail
from mailer.outbound.subject import reply_subject, strip_prefixes
from tests.outbound.test_header_safety import CHALLENGE, NOW

PERSON = {"id": 7, "email": "sam@corp.example.com", "name": "Sam Carter", "timezone": "UTC"}


@pytest.mark.parametrize("theirs", [
    "Re: Day 2 of 30", "RE: Day 2 of 30", "AW: Day 2 of 30", "SV: Day 2 of 30", "Fwd: Day 2 of 30",
    "Fw: Day 2 of 30", "WG: Day 2 of 30", "Antw: Day 2 of 30", "Re: Re: Day 2 of 30",
    "RE: AW: Re: Day 2 of 30", "re:Day 2 of 30", "Re[2]: Day 2 of 30", "  Re :  Day 2 of 30",
])
def test_an_answer_to_a_reply_is_re_once(theirs):
    assert reply_subject(theirs, "fallback") == "Re: Day 2 of 30"


def test_words_that_merely_start_like_a_prefix_stay():
    assert strip_prefixes("Review: Day 2") == "Review: Day 2"
    assert strip_prefixes("Fwding tips") == "Fwding tips"
    assert reply_subject("", "DevOps") == "DevOps"
    assert reply_subject("Re: ", "DevOps") == "DevOps"


def test_challenge_answers_do_not_stack():
    plans = [mail.status_change(CHALLENGE, PERSON, "paused", NOW, None, "RE: Re: Day 2 of 30", None),
             mail.couldnt_read(CHALLENGE, PERSON, 2, date(2027, 1, 10), "AW: Day 2 of 30", None),
             mail.join_help(CHALLENGE, PERSON, date(2027, 1, 10), "Antw: Fwd: Day 2 of 30", None)]
    assert {plan.subject for plan in plans} == {"Re: Day 2 of 30"}


def test_call_and_digest_answers_do_not_stack():
    from mailer.flows.base import RoutedReply
    from mailer.flows.call import emails as call_mail
    from mailer.flows.digest import emails as digest_mail
    from mailer.inbound.message import ParsedMessage

    message = ParsedMessage(message_id="<r@x>", from_addr=PERSON["email"], from_name="", subject="AW: RE: Help wanted",
                            in_reply_to=[], references=[], recipients=[], headers=[], content_type="text/plain")
    reply = RoutedReply(person_id=7, person_email=PERSON["email"], purpose="volunteer", ref="call:1",
                        message=message, reply_text="", intent="unclear")
    call = {"id": 1, "title": "Help wanted", "state": "open", "closed_at": None, "closes": "2027-02-01"}
    assert call_mail.closed(call, PERSON, reply).subject == "Re: Help wanted"
    assert digest_mail.unsubscribed(PERSON, reply).subject == "Re: Help wanted"
