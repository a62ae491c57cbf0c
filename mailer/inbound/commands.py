"""What a person meant by their reply, in the context of what they were answering.

``interpret(context, text)`` reads the new text of a reply (quotes already removed) and returns
an ``Intent`` from a small fixed vocabulary per context:

| context   | intents                                                  |
|-----------|----------------------------------------------------------|
| journal   | journal, pause, resume, stop, join, empty                |
| approval  | approve, reject, request_changes, unclear                |
| volunteer | volunteer (with a role), withdraw, decline, unclear      |
| meetup    | accept, decline, tentative, unclear                      |
| confirm   | confirm, disown, or a fresh approval answer              |

Commands are short replies that *are* a command ("Please pause my emails for a week"); the same
word inside a sentence about one's day is journaling. Acting wrongly is worse than asking: an
approval is read only from an approval keyword at the very start, in a sentence with no
condition, question or retraction; everything doubtful is ``unclear`` and the flow asks again.
Matching is done on a folded copy of the text (case, accents and curly quotes removed) so that
"APPROUVÉ", "approuve" and "Approuvé" read alike; comments are cut from the original text.
"""
from __future__ import annotations

import re
from functools import lru_cache
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from mailer.errors import InboundError

CONTEXTS = {
    "journal": ("journal", "pause", "resume", "stop", "join", "empty"),
    "approval": ("approve", "reject", "request_changes", "unclear"),
    "volunteer": ("volunteer", "withdraw", "decline", "unclear"),
    "meetup": ("accept", "decline", "tentative", "unclear"),
    "confirm": ("confirm", "disown", "approve", "reject", "request_changes", "unclear"),
}


@dataclass(frozen=True)
class Intent:
    """What the reply asks for, the words that came with it, and the rule that read it."""

    intent: str
    comment: str = ""
    role: str | None = None
    rule: str = ""


def words(*phrases: str) -> str:
    """A regex alternation of phrases, longest first, spaces matching any run of blanks."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)


# A bare "no"/"yes" counts only when it stands alone ("No.", "No, too broad"), not in "No problem".
def bare(*tokens: str) -> str:
    """Tokens that count only when followed by punctuation or the end of the text."""
    return "|".join(rf"{re.escape(t)}(?=\s*(?:[,.!;:\-]|$))" for t in tokens)


NOS = bare("no", "nope", "nah", "nein", "non", "nao", "nee", "neen")
YESES = r"(?:(?:yes|yeah|yep|ja|oui|si|sim|ok|okay|sure)\b[\s,.!:-]*)?"

# --- folding and cleaning ---------------------------------------------------------------------

# Spanish opens "¡Cuenta conmigo!" and "¿…?" with inverted marks: folded away, so a phrase
# still starts the text (the closing "!" or "?" stays and still counts).
PUNCT_MAP = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'",
             "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\u00a1": "", "\u00bf": ""}


LIST_AFTER = re.compile(r"[ \t,.;:!\-\u2013\u2014]*\n\s*(?=(?:[-*\u2022]|\d+[.)])\s)")


@dataclass(frozen=True)
class Folded:
    """Text folded for matching, with a map back to positions in the original."""

    original: str
    folded: str
    origin: Sequence[int]  # origin[i]: index in ``original`` of folded character i

    def rest(self, end: int) -> str:
        """The original text from folded position ``end`` on, without leading separators."""
        start = self.origin[end] if end < len(self.origin) else len(self.original)
        listed = LIST_AFTER.match(self.original, start)  # "Changes needed:\n- cut …" keeps its first "-"
        if listed:
            return self.original[listed.end():].strip()
        return self.original[start:].lstrip(" \t\n,.;:!-\u2013\u2014").strip()

    def comment(self, end: int) -> str:
        """What follows a keyword when set off by punctuation ("Reject: too broad"), else the
        whole text ("I can't volunteer this time" is its own comment)."""
        after = self.folded[end:].lstrip(" \t")
        if not after or after[0] in ",.;:!-\n":
            return self.rest(end)
        return self.original.strip()


# Reading one reply folds the same texts several times (its body for each reader, the doubt
# check, the sentence readers): the last few are kept. Folded is immutable.
@lru_cache(maxsize=64)
def fold(text: str) -> Folded:
    """Lower case, accents and curly quotes removed, keeping a map to the original."""
    if text.isascii():  # the common case: one character in, one out
        return Folded(text, text.lower(), range(len(text)))  # the identity map, not a tuple built per text
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        for piece in _fold_char(char):
            out.append(piece)
            origin.append(i)
    return Folded(text, "".join(out), tuple(origin))


# Kana voicing marks stay: without them "ば" (the Japanese "if" ending) reads as "は".
KANA_MARKS = {"\u3099", "\u309a"}


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    char = PUNCT_MAP.get(char, char)
    return "".join(c for c in unicodedata.normalize("NFKD", char)
                   if not unicodedata.combining(c) or c in KANA_MARKS).casefold()


SIGNATURE_START = re.compile(
    r"^(--\s*|_{4,}|-{4,}.*|sent from my .*|sent from .* for (?:ios|android)|get outlook for .*|"
    r"von meinem .* gesendet|envoye de mon .*|enviado desde mi .*|enviado do meu .*|inviato da .*|"
    r"verzonden (?:vanaf|met) .*|-+\s*original message\s*-+)$", re.IGNORECASE)
VALEDICTION = re.compile(
    r"^(best|best wishes|regards|kind regards|best regards|warm regards|cheers|thanks|thank you|"
    r"many thanks|thx|ta|br|greetings|all the best|sincerely|viele grusse|beste grusse|lg|vg|"
    r"mit freundlichen grussen|gruss|grusse|cordialement|bien a vous|merci|amities|saludos|"
    r"un saludo|atentamente|gracias|abracos|atenciosamente|obrigad[oa]|cordiali saluti|saluti|"
    r"grazie|groeten|groetjes|met vriendelijke groet|dank je|bedankt)[\s,.!]*$")
GREETING = re.compile(
    r"^(hi|hello|hey|dear|good (?:morning|afternoon|evening)|hallo|liebe[rs]?|guten (?:morgen|tag)|"
    r"moin|servus|bonjour|salut|coucou|hola|buenos dias|buenas|ola|bom dia|oi|ciao|salve|buongiorno|"
    r"hoi|beste|goedemorgen|dag)\b[^,!.:\n]{0,30}[,!.:]?[ \t]*\n?")


def essential(text: str, drop_name: bool = True) -> str:
    """The words that matter for intent: no greeting, no signature, no mobile footer, no name
    (``drop_name=False`` keeps a short last paragraph that may be a name, or may be "No.")."""
    body = _essential_body(text or "")
    return _drop_trailing_name(body) if drop_name else body


@lru_cache(maxsize=64)
def _essential_body(text: str) -> str:
    """``essential`` with the last paragraph kept (a reply is read both ways: made once)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    for i, line in enumerate(lines):
        if SIGNATURE_START.match(fold(line.strip()).folded):
            lines = lines[:i]
            break
    lines = _drop_valediction(lines)
    body = "\n".join(lines).strip()
    greeting = GREETING.match(fold(body).folded)
    if greeting and body[greeting.end():].strip():
        body = body[fold(body).origin[greeting.end()] if greeting.end() < len(body) else len(body):]
    return body.strip()


def _drop_valediction(lines: list[str]) -> list[str]:
    """Cut at the first sign-off ("Thanks,") that has at most four non-blank lines below it.

    Read from the end, stopping once more than four lines are below: linear, however long.
    """
    cut, below = None, 0
    for i in range(len(lines) - 1, 0, -1):
        if below > 4:
            break
        if VALEDICTION.match(fold(lines[i].strip()).folded):
            cut = i
        below += bool(lines[i].strip())
    return lines if cut is None else lines[:cut]


def _drop_trailing_name(body: str) -> str:
    """A last paragraph of one to three words without punctuation is a name ("Bob", "- A.")."""
    head, sep, last = body.rpartition("\n\n")
    if sep and head.strip() and re.fullmatch(r"[-\s]*[\w.'-]+(?:\s+[\w.'-]+){0,2}\s*", last) \
            and not re.search(r"[!?:]", last):
        return head.strip()
    return body


def sentences(folded: str) -> list[str]:
    """Folded text split into sentences (at . ! ? ; the Japanese 。 and line ends)."""
    return [s.strip() for s in re.split(r"(?<=[.!?;])\s+|(?<=\u3002)|\n+", folded) if s.strip()]


# --- the readers, one per context ----------------------------------------------------------------

def interpret(context: str, text: str, roles: Sequence[str] = ()) -> Intent:
    """The intent of reply ``text`` in ``context`` (journal, approval, volunteer, meetup).

    ``roles`` are the roles a volunteer call offers; a named one is returned as written there.
    Raises ``InboundError`` for an unknown context.
    """
    from mailer.inbound import approval_phrases, intents  # the per-context readers and their word lists

    reader = {"journal": intents.read_journal, "approval": intents.read_approval,
              "volunteer": intents.read_volunteer, "meetup": intents.read_meetup,
              "confirm": lambda folded: approval_phrases.read_confirm(folded, intents.read_approval)}.get(context)
    if reader is None:
        raise InboundError(f"unknown reply context {context!r}; expected one of {', '.join(CONTEXTS)}")
    body = essential(text)
    if not re.search(r"\w", body):
        empty = "empty" if context == "journal" else "unclear"
        return Intent(empty, "", None, f"{context}: nothing written")
    found = reader(fold(body), roles) if context == "volunteer" else reader(fold(body))
    found = _as_a_sentence(context, found, body)
    if context == "volunteer" and found.intent == "volunteer" and found.role is None and roles:
        found = _with_role(found, body, roles)
    if context in ("approval", "confirm") and found.intent == "approve":
        found = _approval_with_last_line(reader, text, body, found)
    return proven(context, found, essential(text, drop_name=False))  # "Reject\n\njust kidding": all of it


def _as_a_sentence(context: str, found: Intent, body: str) -> Intent:
    """What a reader could not place, read once more as a sentence (Japanese, or a journal
    request in another language): ``inbound.sentence_answers``."""
    from mailer.inbound import sentence_answers

    if found.intent == "unclear":
        return sentence_answers.japanese("approval" if context == "confirm" else context, fold(body)) or found
    if found.intent == "journal":
        return sentence_answers.journal_request(fold(body)) or found
    return found


def _with_role(found: Intent, body: str, roles: Sequence[str]) -> Intent:
    """A sign-up read as a sentence ("writer として参加します") with the role it names, if any."""
    from mailer.inbound.intents import find_role

    return Intent(found.intent, found.comment, find_role(fold(body).folded, roles), found.rule)


def proven(context: str, found: Intent, body: str) -> Intent:
    """``found`` if nothing in ``body`` contradicts it (``inbound.doubt``), else a question:
    "unclear" (the flow asks what they meant), or in a journal a plain entry."""
    from mailer.inbound.doubt import doubt

    why = doubt(context, found.intent, fold(body).folded, found.rule)
    if why is None:
        return found
    return Intent("journal" if context == "journal" else "unclear", body, None, f"{context}: {why}")


def _approval_with_last_line(reader, text: str, body: str, found: Intent) -> Intent:
    """An approval stands only if the short last paragraph taken for a name does not say
    otherwise ("Approved\n\nNo." is not an approval)."""
    whole = essential(text, drop_name=False)
    if whole != body and reader(fold(whole)).intent != "approve":
        return Intent("unclear", whole, None, "approval: the last line says otherwise")
    return found
