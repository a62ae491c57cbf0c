"""Reading ``#share``: only a plain tag of the author's own words shares, in the five languages
we read (issue 19, "What they let us share"). Table tests of ``journal.is_shareable``."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.flows.challenge import journal, share_tag

NOT_SHARED = [
    # negated before the tag, in its clause
    ("Please don't #share this: my manager blocked the release again.", "negated"),
    ("Please do not #share this one.", "negated"),
    ("I'd rather not #share today's notes", "negated"),
    ("Never #share this, it names a customer", "negated"),
    ("Bitte nicht #share, es geht um mein Team.", "negated"),
    ("Heute kein #share", "negated"),
    ("Merci de ne pas #share ce texte.", "negated"),
    ("Pas de #share aujourd'hui", "negated"),
    ("N'ajoutez jamais #share à ça", "negated"),
    ("Por favor no #share esto.", "negated"),
    ("Nunca #share mis notas", "negated"),
    # negated after the tag
    ("#share bitte nicht", "negated"),
    ("#share? no", "question"),
    ("#shareしないでください", "negated"),
    ("今日のメモは #share しないで", "negated"),
    ("#shareは不要です", "negated"),
    # questions
    ("Should I #share this?", "question"),
    ("Can I #share this with the team? Not sure yet.", "question"),
    ("Soll ich das #share machen?", "question"),
    ("Je peux #share ça ?", "question"),
    ("¿Puedo #share esto mañana, después de hablar con mi jefe", "question"),
    ("これを #share してもいいですか？", "question"),
    # quoted or only mentioned
    ('He said "#share" is how the digest finds entries.', "quoted"),
    ("She wrote “please #share it” on the board", "quoted"),
    ("Il a dit « #share » hier", "quoted"),
    ("「#share」って何ですか", "quoted"),
    ("I read about the #share tag in the email", "mentioned"),
    ("> Add #share if you are happy", "quoted"),
    ("Shipped it.\n> #share", "quoted"),
    ("Shipped it.\n   > #share", "quoted"),
    # conditions and hedges
    ("Add #share if you are happy for it to be quoted in community digests.", "conditional"),
    ("maybe #share", "conditional"),
    ("Vielleicht #share", "conditional"),
    ("Peut-être #share", "conditional"),
    ("Tal vez #share", "conditional"),
    ("もし良ければ #share", "conditional"),
    # taken back, or the entry asks to stay private
    ("#share - just kidding, this stays with me", "retracted"),
    ("#share\n\nScratch that.", "retracted"),
    ("#share … war nur Spaß", "retracted"),
    ("#share. Actually keep it private.", "asks to stay private"),
    ("#share #private", "asks to stay private"),
    ("Don't share this with anyone. #share", "asks to stay private"),
    ("Bitte nicht teilen. #share", "asks to stay private"),
    ("#share 非公開でお願いします", "asks to stay private"),
    # no tag at all (look-alikes)
    ("Shared the runbook with the team.", "no tag"),
    ("#shared the runbook", "no tag"),
    ("##share", "no tag"),
]

SHARED = [
    "#share",
    "#Share",
    "Mapped the pipeline: seven stages, two manual gates. #share",
    "#share: we cut the build time in half",
    "Happy to #share this one",
    "Not bad at all today. #share",
    "Heute viel gelernt. #share",
    "J'ai appris beaucoup aujourd'hui. #share",
    "Aprendí mucho hoy. #share",
    "今日はパイプラインを図にしました。 #share",
    "ランブックを書きました #shareします",
    "Good day!\n\n#share",
    "Will add the photos later #share",
    # look-alikes elsewhere in the entry do not touch a plain tag
    "Just kidding about yesterday's mess. Today went well #share",
    '"Ship it" was the motto. #share',
    'Motto: "ship it\nGreat day #share, more "soon"',
    "Should I have tried this earlier?\nGreat day #share",
]


@pytest.mark.parametrize("text, why", NOT_SHARED)
def test_a_tag_that_is_taken_back_asked_quoted_or_hedged_does_not_share(text, why):
    assert share_tag.reading(text) == why
    assert not journal.is_shareable(text)


@pytest.mark.parametrize("text", SHARED)
def test_a_plain_tag_of_the_author_shares(text):
    assert share_tag.reading(text) == "shared"
    assert journal.is_shareable(text)


def test_one_doubtful_tag_among_plain_ones_keeps_the_entry_private():
    assert not journal.is_shareable("#share\n\nShould I #share the second part too?")


NEGATED_PHRASES = ["don't", "do not", "please don't", "never", "not", "nicht", "bitte nicht", "kein",
                   "ne pas", "pas de", "jamais", "no", "nunca", "sin"]
WORDS = st.sampled_from(["today", "the", "pipeline", "heute", "die", "aujourd'hui", "le", "hoy", "el", "team"])


@given(before=st.lists(WORDS, max_size=4), negation=st.sampled_from(NEGATED_PHRASES),
       between=st.lists(WORDS, max_size=2), after=st.lists(WORDS, max_size=4),
       end=st.sampled_from(["", ".", "!", "?", " :)"]))
@settings(max_examples=300, deadline=None)
def test_a_negation_shortly_before_the_tag_in_its_clause_never_shares(before, negation, between, after, end):
    text = " ".join([*before, negation, *between, "#share", *after]) + end
    assert not journal.is_shareable(text), text


@given(tag=st.sampled_from(["#share", "#Share", "#SHARE"]), question=st.sampled_from(["?", "？", " ?"]),
       words=st.lists(WORDS, max_size=5))
@settings(max_examples=200, deadline=None)
def test_a_tag_in_a_question_never_shares(tag, question, words):
    assert not journal.is_shareable(" ".join([*words, tag, *words]) + question)
