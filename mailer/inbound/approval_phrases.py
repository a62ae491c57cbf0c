"""Approval replies as people really write them, beyond a keyword at the start.

``intents.read_approval`` reads "Approve", "Reject: …" and "Changes needed: …" first; what it
cannot place is offered to these readers, in order, each a small rule on folded text:

- a plain "yes" / "ok" (the request asked for approval), or a yes or "+1" with a word of
  approval ("+1, looks good to me"): approve, unless in doubt (a question, a condition, a
  retraction, a rejection or change request later in the reply);
- an approval with a condition that asks for a change ("Approved if you cut the scope",
  "I would approve if the scope were smaller"): a request for changes, never an approval;
- a rejection written as a sentence ("I'm afraid I have to say no: no budget this quarter");
- changes asked for in a sentence or a list ("Before I approve, please cut the scope").

A reply that says both is never an approval: every approving reader defers to ``doubt``.

A reply to "please confirm your answer" (a held answer) has its own reader, ``read_confirm``.
"""
from __future__ import annotations

import re
from typing import Callable

from mailer.inbound.commands import NOS, Folded, Intent, fold, words

PLAIN_YES = r"(?:yes|yep|yeah|ok|okay|sure|ja|jawohl|oui|si|sim|claro|certo|d'accord|va bene|prima|akkoord)"
PLUS_ONE = r"(?:\+1|\U0001f44d)"
APPROVING = words(
    "looks good to me", "looks good", "look good", "sounds good", "sounds great", "lgtm", "go ahead",
    "go for it", "let's do it", "lets do it", "ship it", "good to go", "all good", "fine by me",
    "fine with me", "agreed", "i agree", "i support this", "i support it", "great idea", "great",
    "good idea", "nice work", "well done", "approve", "approved", "d'accord", "einverstanden",
    "klingt gut", "sieht gut aus", "ca me va", "parfait", "de acuerdo", "me parece bien", "perfecto",
    "de acordo", "perfeito", "va bene", "perfetto", "ziet er goed uit", "prima", "top")
STANDALONE = words("looks good to me", "looks good", "lgtm", "sounds good", "go ahead", "go for it", "ship it",
                   "good to go", "fine by me", "agreed", "klingt gut", "sieht gut aus", "de acuerdo",
                   "de acordo", "va bene", "ziet er goed uit")
ENDS = r"(?=\s*(?:[,.!;:\-]|$))"
CHANGE_HINT = (r"\b(cut|cuts|reduce|reduced|shrink|smaller|fewer|less|lower|narrow|narrower|trim|drop|"
               r"remove|add|adds|added|include|split|limit|change|changed|changes|clarify|update|revise|"
               r"kleiner|weniger|kurzer|streichen|reduzieren|hinzufugen|reduire|reduit|moins|ajouter|"
               r"reducir|reduce|menos|anadir|reduzir|reduzirem|menor|ridurre|ridotto|meno|aggiungere|"
               r"kleinere|kleiner|minder|toevoegen|verkleinen)\b")
CONDITION_WORDS = (r"\b(if|once|provided|providing|as long as|on condition|but|wenn|falls|sofern|aber|si|mais|"
                   r"pero|se|mas|ma|als|mits|maar)\b")
REJECT_SENTENCE = words(
    "i'm against", "i am against", "i'm opposed", "i am opposed", "i vote no", "i vote against",
    "i have to say no", "i must say no", "i need to say no", "i'll have to say no", "i will have to say no",
    "i'm going to say no", "i have to decline", "i must decline", "i'll pass on this", "we can't support",
    "we cannot support", "i can't support", "i cannot support", "i don't support", "i do not support",
    "not in favour", "not in favor", "we should not do", "we shouldn't do", "should not go ahead",
    "shouldn't go ahead", "let's not do", "not supportive", "unfortunately not", "unfortunately no",
    "ich bin dagegen", "leider nein", "je suis contre", "malheureusement non", "estoy en contra",
    "lamentablemente no", "sou contra", "infelizmente nao", "sono contrario", "sono contraria",
    "purtroppo no", "ik ben ertegen", "ik ben tegen", "helaas niet", "helaas nee")
MINUS_ONE = r"^-1(?![\d])"
CHANGES_SENTENCE = words(
    "before i approve", "before i can approve", "before i sign off", "a few changes", "some changes",
    "a couple of changes", "two changes", "three changes", "minor changes", "small changes",
    "a few things to change", "please change", "please update", "please revise", "please adjust",
    "please fix", "please cut", "please reduce", "please add", "please remove", "please narrow",
    "please clarify", "please split", "please limit", "could you change", "could you cut", "could you reduce",
    "could you add", "could you narrow", "can you change", "can you cut", "can you reduce", "can you add",
    "bevor ich genehmige", "bitte andern", "bitte kurzen", "avant d'approuver", "merci de modifier",
    "antes de aprobar", "por favor cambia", "antes de aprovar", "prima di approvare", "voordat ik goedkeur")
LIST_LINE = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+\S", re.MULTILINE)


def plain_yes(text: Folded, folded: str) -> Intent | None:
    """"Yes." alone, or a yes / +1 / word of approval followed by approval ("+1, looks good")."""
    if re.fullmatch(rf"(?:{PLAIN_YES}|{STANDALONE})[\s.!]*", folded):
        return Intent("approve", "", None, "approval: a plain yes to a request for approval")
    found = (re.match(rf"(?:{PLAIN_YES}|{PLUS_ONE})[\s,.!:-]*(?:from me[\s,.!:-]*)?({APPROVING}){ENDS}", folded)
             or re.match(rf"({STANDALONE}){ENDS}", folded))
    if found:
        return Intent("approve", text.comment(found.end()), None, "approval: a yes or +1 with a word of approval")
    return None


def conditional_change(text: Folded, folded: str, head: str) -> Intent | None:
    """An approval on a condition that asks for a change is a request for that change."""
    approving = re.search(r"approv|genehmig|approuv|aprob|aprov|goedgekeurd|keur", head)
    condition = approving and re.search(CONDITION_WORDS, head[approving.start():])
    if condition and re.search(CHANGE_HINT, head[condition.start():]):
        return Intent("request_changes", text.original, None,
                      "approval: an approval on a condition that asks for a change")
    return None


def rejection_sentence(text: Folded, folded: str, head: str) -> Intent | None:
    """A rejection said in a sentence, with its reason kept as the comment."""
    if "?" in head:
        return None
    if re.search(rf"\b({REJECT_SENTENCE})(?![\w'])", head) or re.match(MINUS_ONE, folded):
        return Intent("reject", text.original, None, "approval: a rejection in a sentence")
    return None


def changes_sentence(text: Folded, folded: str, head: str) -> Intent | None:
    """Changes asked for in a sentence, or listed under a line that asks for changes."""
    if re.search(rf"(?:^|\b)({CHANGES_SENTENCE})(?![\w'])", head):
        return Intent("request_changes", text.original, None, "approval: changes asked for in a sentence")
    if LIST_LINE.search(text.folded) and re.search(CHANGE_HINT, head):
        return Intent("request_changes", text.original, None, "approval: changes listed")
    return None


def says_against(sentence: str) -> bool:
    """Whether one folded sentence rejects or asks for changes in words these readers know."""
    return bool(re.search(rf"\b({REJECT_SENTENCE})(?![\w'])", sentence) or re.match(MINUS_ONE, sentence)
                or re.search(rf"(?:^|\b)({CHANGES_SENTENCE})(?![\w'])", sentence))


def extra_reading(text: Folded, folded: str, head: str,
                  doubt: Callable[[str, str], str | None]) -> Intent | None:
    """The first of these readings that fits a reply with no keyword at its start, or None."""
    for reader in (conditional_change, rejection_sentence, changes_sentence):
        found = reader(text, folded, head)
        if found:
            return found
    approval = plain_yes(text, folded)
    if approval is None:
        return None
    why = doubt(head, folded)
    return Intent("unclear", text.original, None, f"approval: {why}") if why else approval


# -- replies to "please confirm your answer" (a held answer) ------------------------------------

# "Yes" / "Confirm" alone confirms what was held; "That wasn't me" disowns it. A bare "No" could
# mean either "I did not send it" or "I reject": it is asked about, never guessed.
CONFIRM = words(*(fold(p).folded for p in (
    "yes", "yes please", "yes confirmed", "yes i confirm", "yes that was me", "yes it was me", "yes correct",
    "confirm", "confirmed", "i confirm", "correct", "that's right", "that is right", "that was me",
    "it was me", "ok", "okay", "ja", "ja bitte", "bestatigt", "ich bestatige", "das war ich", "richtig",
    "oui", "je confirme", "confirme", "c'etait moi", "c'est bien moi", "si", "confirmo", "confirmado",
    "fui yo", "correcto", "sim", "はい", "確認しました", "私です")))
DISOWN = words(*(fold(p).folded for p in (
    "that wasn't me", "that was not me", "it wasn't me", "it was not me", "wasn't me", "not me",
    "i didn't send that", "i did not send that", "i didn't send it", "i did not send it",
    "i didn't send this", "i did not send this", "i never sent", "not from me", "i didn't write that",
    "i did not write that", "das war ich nicht", "das war nicht ich", "nicht von mir",
    "ich habe das nicht geschickt", "ich habe das nicht gesendet", "ce n'etait pas moi", "ce n'est pas moi",
    "pas moi", "je n'ai pas envoye", "je n'ai rien envoye", "no fui yo", "yo no fui", "no lo envie",
    "yo no lo envie", "no he enviado", "私ではありません", "送っていません", "送信していません")))
CONFIRM_END = r"[\s.!,]*(?:(?:thanks|thank you|danke|merci|gracias)[\s.!]*)?$"


def read_confirm(text: Folded, fresh: Callable[[Folded], Intent]) -> Intent:
    """A reply to "please confirm your answer": "Yes" confirms the held answer, "No, that
    wasn't me" disowns it, a bare "No" is asked about; anything else is read by ``fresh`` (the
    approval reader) as a fresh answer to the approval request."""
    folded = text.folded.strip()
    if re.match(rf"(?:(?:no|nope|nein|non|nao)\b[\s,.!:-]*)?(?:{DISOWN})(?![\w'])", folded):
        return Intent("disown", text.original, None, "confirm: the approver did not send the held answer")
    if re.fullmatch(rf"(?:{CONFIRM})(?:[\s,.!]+(?:{CONFIRM}))*{CONFIRM_END}", folded):
        return Intent("confirm", "", None, "confirm: a plain yes to the held answer")
    if re.fullmatch(rf"(?:{NOS})[\s.!]*", folded):
        return Intent("unclear", text.original, None, "confirm: a bare no could mean 'not me' or 'reject'")
    found = fresh(text)
    rule = found.rule.replace("approval:", "confirm: a fresh answer;", 1)
    return Intent(found.intent, found.comment, found.role, rule)
