"""Issue 19, "What they meant": a reply acts only when its own new text says one thing.

The issue's examples (each acted wrongly before), every rule of ``inbound.doubt`` from both
sides, replies to "please confirm your answer", a property test that builds replies from an
acting phrase and a retraction, negation or hedge in any order, and the look-alike set.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import meaning
from mailer.inbound.commands import fold, interpret
from mailer.inbound.doubt import doubt

ASK = {"approval": "unclear", "volunteer": "unclear", "meetup": "unclear", "journal": "journal",
       "confirm": "unclear"}

# -- the issue's examples ------------------------------------------------------------------

ISSUE = [
    ("approval", "Approved!!! (just joking)", "unclear"),
    ("approval", "Approve... wait no", "unclear"),
    ("approval", "Approve\n\nActually, reject: the budget is too high.", "unclear"),
    ("approval", "Approve. NOT!", "unclear"),
    ("approval", "approve j/k", "unclear"),
    ("approval", "APPROVE. Sorry, wrong email.", "unclear"),
    ("approval", "Approve (this was a test)", "unclear"),
    ("approval", "Don't approve this yet - I want to read the budget section first.", "unclear"),
    ("approval", "No, approve it", "unclear"),
    ("volunteer", "Don't count me in, I'm swamped.", "unclear"),
    ("volunteer", "I'm not sure I'm in, let me check with my manager.", "unclear"),
    ("volunteer", "count me in? not sure", "unclear"),
    ("volunteer", "I'm in!! Just kidding", "unclear"),
    ("meetup", "I won't miss it for the world", "accept"),
    ("meetup", "I'm in Berlin that week", "unclear"),
    ("meetup", "I'm in a meeting", "unclear"),
    ("journal", "Könnt ihr meine Mails bitte bis nächste Woche pausieren?", "pause"),
    ("journal", "Pouvez-vous mettre mes e-mails en pause jusqu'à mon retour ?", "pause"),
    ("journal", "¿Podrían pausar mis correos hasta que vuelva?", "pause"),
    ("journal", "戻るまでメールを一時停止してください。", "pause"),
]
STILL = [  # read right before, and still
    ("approval", "Nope", "reject"),
    ("approval", "Not approved", "reject"),
    ("approval", "I'm afraid I have to say no: the budget is too high.", "reject"),
    ("journal", "could you hold my emails until I'm back?", "pause"),
    ("meetup", "I wouldn't miss it for the world!", "accept"),
    ("meetup", "I'm in!", "accept"),
]


@pytest.mark.parametrize("context, text, intent", ISSUE + STILL)
def test_the_issues_examples(context, text, intent):
    assert interpret(context, text).intent == intent


# -- each rule of the check, from both sides ---------------------------------------------------

RULES = [  # (context, intent, a reply that says it, the same with something against it, the reason)
    ("approval", "approve", "Approved.", "Approved. Just kidding.", "takes itself back"),
    ("approval", "approve", "Approved.", "Approved. Sorry, wrong thread, please ignore.", "takes itself back"),
    ("approval", "approve", "Approved, great work.", "Approved, I think. Maybe.", "hedges"),
    ("approval", "approve", "Approved.", "Approved. Let me check with finance though.", "hedges"),
    ("approval", "reject", "Reject: too broad.", "Reject: too broad. Not yet final.", "hedges"),
    ("approval", "approve", "Approved.", "Approved. I'll read it later.", "defers"),
    ("approval", "approve", "Approved.", "Approved if the budget is halved.", "condition"),
    ("approval", "approve", "Approved.", "Approved?", "question"),
    ("approval", "approve", "I approve.", "Please don't approve.", "negation"),
    ("approval", "approve", "Approved.", "Approved on behalf of Omar.", "someone else"),
    ("approval", "approve", "Approved.", "Approved, my manager will sign it off.", "someone else"),
    ("approval", "reject", "Reject: the scope is too wide.", "Reject: the scope is too wide. Approve the rest.",
     "also says approve"),
    ("approval", "reject", "Nope.", "Nope, approve it.", "also says approve"),
    ("volunteer", "volunteer", "Count me in.", "Count me in if it's remote.", "condition"),
    ("volunteer", "volunteer", "Sign me up!", "Sign me up? Not sure.", "hedges"),
    ("volunteer", "volunteer", "Count me in, happy to help.", "Count me in? What does it involve", "question"),
    ("volunteer", "volunteer", "Count me in.", "Don't count me in.", "negation"),
    ("volunteer", "volunteer", "Count me in.", "Do not really count me in.", "negation"),
    ("volunteer", "volunteer", "Count me in.", "Count Bob in.", "someone else"),
    ("volunteer", "volunteer", "Count me in.", "Count me in. My colleague will volunteer too.", "someone else"),
    ("volunteer", "volunteer", "I'm in, as a writer.", "I'm in, as a writer. I can't do Mondays though.",
     "also says decline"),
    ("volunteer", "decline", "No thanks.", "No thanks. Count me in.", "also says volunteer"),
    ("meetup", "accept", "I'll be there.", "I'll be there if the train runs.", "condition"),
    ("meetup", "accept", "I'll be there.", "I'll be there, probably.", "hedges"),
    ("meetup", "accept", "I'll be there.", "I'll be there? Not sure.", "hedges"),
    ("meetup", "accept", "I'll be there.", "I'll be there? No idea yet.", "defers"),
    ("meetup", "decline", "Sorry, can't make it.", "Sorry, can't make it. Kidding!", "takes itself back"),
    ("journal", "pause", "Please pause my emails.", "Please pause my emails. Just kidding.", "takes itself back"),
    ("journal", "pause", "Bitte pausieren.", "Bitte nicht pausieren.", "negation"),
    ("journal", "pause", "一時停止してください。", "一時停止しないでください。", "negation"),
    ("journal", "pause", "Please pause.", "Please pause? Should I?", "question"),
    ("journal", "stop", "Unsubscribe me, please.", "Unsubscribe me, please, or pause, whichever.", "also says pause"),
    ("approval", "approve", "承認します。", "予算が半分になれば承認します。", "condition"),
    ("approval", "approve", "承認します。", "承認します。冗談です。", "takes itself back"),
    ("meetup", "accept", "出席します。", "出席しますか？", "question"),
]


@pytest.mark.parametrize("context, intent, plain, doubted, why", RULES)
def test_each_rule_stops_an_action_and_only_when_it_applies(context, intent, plain, doubted, why):
    assert doubt(context, intent, fold(plain).folded) is None
    reason = doubt(context, intent, fold(doubted).folded)
    assert reason is not None and why in reason, reason


@pytest.mark.parametrize("context, plain, doubted", [(c, p, d) for c, _, p, d, _ in RULES])
def test_the_readers_act_on_the_plain_reply_and_ask_about_the_other(context, plain, doubted):
    assert interpret(context, plain).intent != ASK[context]
    assert interpret(context, doubted).intent in (ASK[context], "unclear")


@pytest.mark.parametrize("context, text", [
    ("approval", "APPROVED — NOT"), ("approval", "Approve... or not"), ("approval", "Approved lol"),
    ("approval", "approve \U0001f602"), ("approval", "Approved (sarcasm)"), ("approval", "Approved /s"),
    ("approval", "Approved by Omar, not by me."), ("meetup", "I'll be there in spirit"),
    ("approval", "Approve. Scratch that."), ("approval", "Approved. Never mind, ignore this."),
    ("volunteer", "Count me in. Sorry, wrong person!"), ("journal", "stop (this was a test)"),
])
def test_more_ways_to_take_an_answer_back(context, text):
    assert interpret(context, text).intent == ASK[context]


@pytest.mark.parametrize("context, intent, text", [
    ("approval", "approve", "Yes. Who else is on the team?"),  # the yes says nothing in its own sentence
    ("approval", "approve", "Approved. Ping me if you need anything."),
    ("meetup", "accept", "I'll be there. I'll probably bring the slides."),
    ("approval", "reject", "Reject: too broad, please revise the scope."),  # a no may say what to change
])
def test_what_is_said_in_another_sentence_does_not_doubt_the_answer(context, intent, text):
    assert doubt(context, intent, fold(text).folded) is None


def test_a_maybe_may_hedge_only_a_maybe():
    assert doubt("meetup", "tentative", "maybe, not sure yet") is None
    assert doubt("meetup", "accept", "see you there, not sure yet") is not None
    assert doubt("meetup", "decline", "can't make it, maybe next time") is None


@pytest.mark.parametrize("text", ["I wouldn't miss it", "No problem, I'll be there.", "See you there, can't wait!",
                                  "Yes, I might be a bit late.", "Of course I'll be there."])
def test_negations_that_agree_do_not_stop_a_yes(text):
    assert interpret("meetup", text).intent == "accept"


def test_something_that_is_no_action_is_never_doubted():
    assert doubt("approval", "unclear", "approve j/k") is None
    assert doubt("journal", "journal", "pause j/k") is None
    assert doubt("approval", "approve", "approved") is None


def test_a_polite_request_asked_as_a_question_is_a_command_only_in_a_journal():
    assert doubt("journal", "pause", fold("could you pause my emails?").folded) is None
    assert doubt("approval", "approve", fold("could you approve?").folded) is not None


def test_a_condition_reader_keeps_its_reading():
    """A conditional approval that asks for a change is a request for that change (approval_phrases)."""
    found = interpret("approval", "Approved if you cut the scope to one team.")
    assert found.intent == "request_changes"
    assert doubt("approval", "request_changes", "approved if you cut the scope", found.rule) is None
    assert doubt("approval", "request_changes", "approved if you cut the scope", "") is not None


# -- replies to "please confirm your answer" ----------------------------------------------------

@pytest.mark.parametrize("text, intent", [
    ("Yes", "confirm"), ("OK", "confirm"), ("Confirm", "confirm"), ("Yes, confirmed. Thanks!", "confirm"),
    ("Yes, that was me.", "confirm"), ("Ja", "confirm"), ("Oui", "confirm"), ("Sí", "confirm"), ("はい", "confirm"),
    ("No, that wasn't me.", "disown"), ("That was not me!", "disown"), ("I didn't send that", "disown"),
    ("Das war ich nicht.", "disown"), ("Ce n'était pas moi.", "disown"), ("No fui yo.", "disown"),
    ("私ではありません。", "disown"),
    ("No", "unclear"), ("Nope.", "unclear"), ("Yes j/k", "unclear"), ("Yes? What is this about?", "unclear"),
    ("Approve", "approve"), ("Reject: too broad", "reject"), ("Changes needed: cut the scope", "request_changes"),
])
def test_a_reply_to_the_confirmation_request(text, intent):
    assert interpret("confirm", text).intent == intent


def test_a_yes_with_a_retraction_confirms_nothing():
    assert doubt("confirm", "confirm", "yes. just kidding") is not None
    assert doubt("confirm", "confirm", "yes") is None


# -- built replies: an acting phrase and what takes it back, in any order -----------------------

ACTING = [("approval", "Approved"), ("approval", "Approve"), ("approval", "I approve"), ("approval", "Genehmigt"),
          ("approval", "Approuvé"), ("approval", "Aprobado"), ("approval", "承認します"), ("approval", "LGTM"),
          ("approval", "Reject: too broad"), ("approval", "Nope"), ("approval", "Changes needed: cut the scope"),
          ("volunteer", "Count me in"), ("volunteer", "I'm in"), ("volunteer", "Sign me up"),
          ("volunteer", "Ich bin dabei"), ("volunteer", "Me apunto"), ("volunteer", "参加します"),
          ("volunteer", "Please take me off the list"), ("volunteer", "No thanks"),
          ("meetup", "I'll be there"), ("meetup", "See you there"), ("meetup", "Ich komme"),
          ("meetup", "J'y serai"), ("meetup", "出席します"), ("meetup", "Can't make it"),
          ("journal", "Please pause my emails"), ("journal", "Unsubscribe"), ("journal", "resume"),
          ("journal", "Bitte pausieren"), ("journal", "一時停止してください")]
RETRACTIONS = ["just kidding", "j/k", "NOT!", "wait, no", "Sorry, wrong email.", "this was a test",
               "Actually, no.", "Scratch that.", "lol jk", "Nur Spaß!", "Je plaisante.", "Es broma.", "冗談です。",
               "Ignore this, sent by mistake."]
HEDGES = ["not sure", "let me check with my manager", "I'll confirm later", "not yet", "I need to think",
          "ich bin mir nicht sicher", "je ne suis pas sûr", "no estoy seguro", "まだ分かりません"]
NEGATABLE = [("approval", "approve this"), ("volunteer", "count me in"), ("volunteer", "sign me up"),
             ("journal", "pause my emails"), ("journal", "unsubscribe me"), ("meetup", "count me in")]
SEPARATORS = [" ", ". ", "! ", ", ", " - ", "\n", "\n\n", "... "]


@st.composite
def contradicted(draw) -> tuple[str, str, str]:
    """A context, a reply and what was added: an acting phrase with a retraction or hedge
    before or after it, or a negated acting phrase."""
    if draw(st.booleans()):
        context, phrase = draw(st.sampled_from(NEGATABLE))
        return context, draw(st.sampled_from(["Don't ", "Please don't ", "Do not "])) + phrase, "negation"
    context, phrase = draw(st.sampled_from(ACTING))
    kind = draw(st.sampled_from(["retraction", "hedge"]))
    other = draw(st.sampled_from(RETRACTIONS if kind == "retraction" else HEDGES))
    first, second = (phrase, other) if draw(st.booleans()) else (other, phrase)
    text = first + draw(st.sampled_from(SEPARATORS)) + second
    text = draw(st.sampled_from(["", "Hi,\n\n"])) + text + draw(st.sampled_from(["", "!", "\n\nThanks,\nAna"]))
    return context, text, kind


@settings(max_examples=400, deadline=None)
@given(contradicted())
def test_an_acting_phrase_with_a_retraction_negation_or_hedge_never_acts(case):
    context, text, kind = case
    # to an invitation, a hedge is a "maybe" ("not sure I'll be there"): that is what was meant
    allowed = {ASK[context]} | ({"tentative"} if (context, kind) == ("meetup", "hedge") else set())
    assert interpret(context, text).intent in allowed, text


@pytest.mark.parametrize("context, phrase", ACTING)
def test_each_acting_phrase_acts_alone(context, phrase):
    assert interpret(context, phrase).intent != ASK[context]


# -- the look-alike set -------------------------------------------------------------------------

def test_the_look_alike_set_has_no_unmeant_action_and_covers_every_context_and_language():
    readings = meaning.read_lookalikes()
    assert len(readings) >= 150
    assert {(r.context, r.lang) for r in readings} == {(c, lang) for c in meaning.CONTEXTS
                                                       for lang in ("en", "de", "fr", "es", "ja")}
    assert [r for r in readings if r.unmeant] == []
    assert meaning.table(readings)["ALL"]["missed"] == 0


def test_the_shared_corpus_has_no_unmeant_action():
    from bench.replies import DEFAULT_CORPUS

    if not meaning.rows(DEFAULT_CORPUS):
        pytest.skip("the shared reply corpus is not beside this checkout")
    assert [r for r in meaning.read_corpus(DEFAULT_CORPUS) if r.unmeant] == []


# -- what the simulation's members write is still understood -----------------------------------

def _simulated():
    from mailer.simulation import writing

    rsvp = {"accepted": "accept", "declined": "decline", "tentative": "tentative"}
    groups = [("approval", writing.APPROVE, "approve"), ("approval", writing.APPROVE_AFTER_TALK, "approve"),
              ("approval", writing.UNSURE, "unclear"), ("volunteer", writing.VOLUNTEER, "volunteer"),
              ("volunteer", writing.BUSY, "unclear"), ("volunteer", writing.NOT_THIS_TIME, "decline"),
              ("journal", writing.PAUSE, "pause"), ("journal", writing.RESUME, "resume"),
              ("journal", writing.STOP, "stop")]
    groups += [("meetup", words, rsvp[kind]) for kind, words in writing.RSVP_WORDS.items()]
    for context, phrases, intent in groups:
        for texts in phrases.values():
            for text in (texts,) if isinstance(texts, str) else texts:
                yield context, text, intent


@pytest.mark.parametrize("context, text, intent", list(_simulated()))
@pytest.mark.parametrize("signoff", ["", "\n\nBest regards,\nAna Novak\nPlatform Engineering", "\n\n-- \nAna Novak",
                                     "\n\nSent from my iPhone", "\n\nAna"])
def test_what_the_simulated_members_write_is_read_as_they_mean_it(context, text, intent, signoff):
    assert interpret(context, text + signoff).intent == intent
