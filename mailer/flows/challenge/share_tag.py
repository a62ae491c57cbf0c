"""Reading ``#share`` in a journal entry: only a plain tag of the author's own words shares.

Entries belong to their author (DESIGN principle 7). The tag is their only way out of the
journal, so it counts only when nothing around it takes it back, in any language we read
(en, de, fr, es, ja). A tag does not share when, in its clause, a negation comes before it
("Please don't #share this", "nicht #share", "ne pas #share", "no #share") or right after it
("#share bitte nicht", "#shareしないで"); when its sentence is a question ("should I #share
this?"); when it is only mentioned (in quote marks, "the #share tag"); when a condition or a
hedge goes with it ("#share if you like", "maybe #share"); when a retraction follows it
("#share … just kidding"); or when the entry anywhere asks to stay private ("#private",
"don't share"). In doubt it does not share: an entry kept private by mistake costs its author
one highlight, one shared by mistake costs their trust.

The rules are data (the word lists below); ``reading`` is the scope logic, in the shape of
NegEx: a trigger governs the words of its own clause only.
"""
from __future__ import annotations

import re

# The tag may run into Japanese text ("#shareします"), not into more Latin letters ("#shared").
TAG = re.compile(r"(?<![\w#])#share(?![A-Za-z0-9_])", re.IGNORECASE)
# Where a clause ends: sentence ends, ";", ":", ",", dashes, a line break, and "but".
_CLAUSE_END = re.compile(r"[.!?;:,。！？；：、\n]|\s[-–—]+\s|\b(?:but|aber|mais|pero|sondern)\b|けど",
                         re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?。！？\n]")
_WORD = re.compile(r"[\w'’]+")
# Quote marks: a tag next to one, or inside a pair on its line, is quoted, not used.
_NEXT_TO = "\"'“”„‟‘’‚‛«»‹›「」『』`"
_PAIRS = (('"', '"'), ("“", "”"), ("„", "“"), ("«", "»"), ("「", "」"), ("『", "』"))

# Words that negate a tag in the clause before it (at most ``_BEFORE`` words before).
NEGATIONS = frozenset("""
    not no never nothing nobody without nor neither don't dont doesn't won't wouldn't shouldn't
    can't cannot didn't isn't aren't mustn't
    nicht kein keine keinen keinem keiner nie niemals nichts ohne nein weder
    ne pas jamais sans non rien ni aucun aucune
    nunca sin jamás nada ni tampoco ningún ninguna
""".split())
_BEFORE = 5
# Words that negate a tag right after it, in its clause ("#share not", "#share bitte nicht").
AFTER_NEGATIONS = frozenset("not no never nope nicht nein nie pas non jamais nunca".split())
_AFTER = 3
# Japanese writes the negation after the verb: "#shareしないで", "#shareは不要", "#share禁止".
JA_NEGATIONS = ("ない", "ません", "不要", "禁止", "不可", "なし", "無し", "ダメ", "だめ", "やめ", "止め", "NG")
# A condition or a hedge in the clause makes the tag an offer, not a choice.
# Words of a phrase are joined by "_": "tal vez", "peut-être" (split at its hyphen).
CONDITIONS = frozenset("""
    if unless whether maybe perhaps might
    wenn falls ob vielleicht eventuell evtl
    si sinon peut_être éventuellement
    quizás quizá tal_vez acaso
""".split())
_NEAR = 3
JA_CONDITIONS = ("もし", "なら", "たら", "かも", "かな")
# A word right after the tag saying it is talked about, not used: "the #share tag".
MENTIONS = frozenset("tag hashtag tags markierung étiquette mot-clé etiqueta".split())
JA_MENTIONS = ("タグ", "という", "って")
# Said after the tag, these take it back.
RETRACTIONS = re.compile(
    r"\b(?:just\s+kidding|kidding|j/?k|scratch\s+that|never\s*mind|wait,?\s+no|actually,?\s+no|"
    r"nur\s+(?:ein\s+)?(?:spa(?:ß|ss)|scherz)|war\s+nur\s+spa(?:ß|ss)|doch\s+nicht|"
    r"je\s+plaisante|c'est\s+une\s+blague|en\s+fait\s+non|"
    r"es\s+broma|era\s+broma|es\s+un\s+chiste|mejor\s+no)\b|冗談|やっぱり", re.IGNORECASE)
# Anywhere in the entry, these keep it private whatever tag it carries.
PRIVATE = re.compile(
    r"(?<![\w#])#(?:private|privat|privé|privado|noshare|no-share|no_share|dontshare|nicht-teilen)\b|"
    r"\b(?:do\s+not|don'?t|please\s+don'?t|never)\s+share\b|\bkeep\s+(?:it|this)\s+private\b|"
    r"\bnicht\s+teilen\b|\bne\s+pas\s+partager\b|\bno\s+(?:lo\s+)?compartir\b|"
    r"共有しない|非公開|シェアしない", re.IGNORECASE)


def shares(text: str) -> bool:
    """Whether the author marked this entry ``#share`` with a plain, unnegated tag."""
    return reading(text) == "shared"


def reading(text: str) -> str:
    """How the entry's ``#share`` reads: "shared", or the first reason it does not share
    ("no tag", "asks to stay private", "negated", "question", "quoted", "mentioned",
    "conditional", "retracted")."""
    text = text.replace("’", "'")
    found = list(TAG.finditer(text))
    if not found:
        return "no tag"
    if PRIVATE.search(text):
        return "asks to stay private"
    reasons = [_tag_reading(text, match.start(), match.end()) for match in found]
    return next((r for r in reasons if r != "shared"), "shared")


def _tag_reading(text: str, start: int, end: int) -> str:
    """Why the tag at ``text[start:end]`` does not share, or "shared"."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].lstrip().startswith(">"):
        return "quoted"
    before, after = _clause_before(text, start), _clause_after(text, end)
    if _quoted(text, start, end):
        return "quoted"
    if _is_question(text, start, end):
        return "question"
    if _negated(before, after):
        return "negated"
    if _mentioned(after):
        return "mentioned"
    if _conditional(before, after):
        return "conditional"
    if RETRACTIONS.search(text, end):
        return "retracted"
    return "shared"


def _clause_before(text: str, start: int) -> str:
    ends = list(_CLAUSE_END.finditer(text, max(0, start - 300), start))
    return text[ends[-1].end() if ends else max(0, start - 300):start]


def _clause_after(text: str, end: int) -> str:
    found = _CLAUSE_END.search(text, end, end + 300)
    return text[end:found.start() if found else end + 300]


def _words(fragment: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(fragment)]


def _quoted(text: str, start: int, end: int) -> bool:
    """Whether quote marks enclose the tag: '"#share"', «#share», 'she said "please #share it"'."""
    left, right = text[:start].rstrip(" ")[-1:], text[end:].lstrip(" ")[:1]
    if (left and left in _NEXT_TO) or (right and right in _NEXT_TO and right != "'"):
        return True
    line_start, line_end = text.rfind("\n", 0, start) + 1, text.find("\n", end)
    head, tail = text[line_start:start], text[end:line_end if line_end >= 0 else len(text)]
    return any(_open_before(head, opening, closing) and closing in tail for opening, closing in _PAIRS)


def _open_before(head: str, opening: str, closing: str) -> bool:
    """Whether a quote opened in ``head`` is still open at its end."""
    if opening == closing:
        return head.count(opening) % 2 == 1
    return head.rfind(opening) > head.rfind(closing)


def _is_question(text: str, start: int, end: int) -> bool:
    """Whether the tag's sentence ends with a question mark or opens with "¿"."""
    found = _SENTENCE_END.search(text, end)
    if found and found.group() in "?？":
        return True
    opened = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    return "¿" in text[opened[-1] if opened else 0:start]


def _negated(before: str, after: str) -> bool:
    words = _words(before)[-_BEFORE:]
    if any(w in NEGATIONS or w.endswith("n't") or w.startswith(("n'", "n’")) for w in words):
        return True
    if any(w in AFTER_NEGATIONS for w in _words(after)[:_AFTER]):
        return True
    return any(neg in after[:16] for neg in JA_NEGATIONS)


def _mentioned(after: str) -> bool:
    following = _words(after)[:1]
    return bool(following and following[0] in MENTIONS) or after.lstrip().startswith(JA_MENTIONS)


def _conditional(before: str, after: str) -> bool:
    """Whether a condition or a hedge stands within a few words of the tag, in its clause."""
    near = _words(before.replace("-", " "))[-_NEAR:], _words(after.replace("-", " "))[:_NEAR]
    for words in near:
        pairs = {f"{a}_{b}" for a, b in zip(words, words[1:])}
        if (set(words) | pairs) & CONDITIONS:
            return True
    return any(c in before[-8:] or c in after[:16] for c in JA_CONDITIONS)

