"""The check every reading must pass before it acts: nothing in the new text contradicts it.

The readers in ``intents`` find what a reply asks for; this module decides whether the reply
says only that. An action (approve, reject, sign up, withdraw, decline, accept, pause, stop,
…) stands only when the text has none of these:

- a retraction anywhere ("just joking", "j/k", "NOT!", "wait no", "Sorry, wrong email",
  "this was a test");
- a hedge or a deferral ("not sure", "let me check with my manager", "not yet", "maybe" in
  the sentence that acts);
- a condition in the sentence that acts ("if", "unless", "as long as", "wenn", "si …", "なら");
- a question in the sentence that acts ("count me in? not sure"); a polite request written as
  a question ("could you hold my emails until I'm back?") is a command, not a question;
- a negation around an agreeing verb ("Don't count me in", "I'm not sure I'm in");
- someone else named as the one to act ("my manager will approve", "count Bob in");
- a second, disagreeing command ("Approve\\n\\nActually, reject: …", "No, approve it").

``doubt(context, intent, folded)`` returns the reason to ask instead, or None. Patterns work on
folded text (``commands.fold``): lower case, no accents, Japanese in its decomposed form (NFKD),
so Japanese words are folded the same way here (``jp``).
"""
from __future__ import annotations

import re

from mailer.inbound.commands import fold, sentences

# The agreeing actions: a negation around their verb contradicts them. A "no" (reject,
# decline) may carry negations; a "maybe" (tentative) may carry hedges.
AGREEING = {"approve", "request_changes", "confirm", "volunteer", "withdraw", "accept",
            "pause", "resume", "stop", "join"}
ACTING = AGREEING | {"reject", "decline", "tentative", "disown"}


def jp(pattern: str) -> str:
    """A pattern with its non-ASCII characters folded as ``commands.fold`` folds the text."""
    return "".join(fold(c).folded if not c.isascii() else c for c in pattern)


RETRACTION = re.compile(
    r"\b(just|only) (joking|kidding|testing)\b|\b(kidding|joking)\b|\bj/?k\b|\blol,? no\b|"
    r"(?:^|[\s.!?(])not\s*!|(?:^|[\s.!?(,-])not[\s.]*$|\b(lol|lmao|rofl|sarcasm|yeah right|said no one)\b|"
    r"(?:^|\s)/s\b|\U0001f602|\U0001f923|\U0001f643|\U0001f61c|\bin spirit\b|"
    r"\bwait,?\s*(no|nope|what|actually)\b|\bactually,? (no|not|reject|i (can't|cannot|won't))\b|"
    r"\b(or not|o no|ou pas|ou non|oder nicht|oder auch nicht)\W*$|"
    r"(?:^|[.!?,;\u2026-]\s*)(well|bueno|bon|naja|eh|hmm),?\s*(no|non|nein|nope)\b|"
    r"\bon second thought|\bscratch that\b|\bnever ?mind\b|\bforget (it|that|this|what i said)\b|"
    r"\bwrong (e-?mail|mail|person|thread|reply|message|address|recipient|button|window|chat)\b|"
    r"\b(by mistake|in error|not meant for you|different thread|please ignore)\b|"
    r"\bmeant (to send|for (someone|somebody|a different|another|the other))\b|\btesting my\b|"
    r"\b(this|that) (was|is) (just |only )?a test\b|\btest(ing)? (e-?mail|message|reply)\b|\bjust testing\b|"
    r"\bignore (this|that|my (last|previous))\b|\bplease disregard\b|\bdisregard (this|that|my)\b|"
    r"\b(nur|war nur ein) (spass|scherz|test)\b|\bscherz\b|\bspass\b|\bvergiss es\b|\bfalsche (mail|e-mail|person)\b|"
    r"\bmoment,? nein\b|\bje plaisante\b|\b(c'est|c'etait) (une blague|pour rire|un test)\b|"
    r"\bblague\b|\boubliez?\b|\bmauvais (destinataire|mail|e-mail|courriel)\b|\ben fait,? non\b|"
    r"\bfinalement,? non\b|\b(es|era) (broma|una broma|una prueba)\b|\bbroma\b|\bolvidalo\b|"
    r"\bcorreo equivocado\b|\ben realidad,? no\b|\bpensandolo bien\b|\bpor error\b|"
    + jp("冗談|うそ|嘘|テスト|間違|取り消|やっぱり|なんてね|撤回"))
HEDGE = re.compile(
    r"\b(not|n't) (sure|certain|decided)\b|\bunsure\b|\blet me (check|see|think|ask|confirm)\b|"
    r"\b(need|have|want) to (check|ask|confirm|see|think|talk|clear it)\b|\bcheck(ing)? with\b|"
    r"\bask(ing)? my\b|\bget back to you\b|\b(will|i'll) (confirm|let you know)\b|\bto be confirmed\b|\btbc\b|"
    r"\bi think so\b|\bnot yet\b|\bfor now\b|\bin principle\b|\bpending\b|\bsubject to\b|\balmost\b|"
    r"\b(sort|kind) of\b|\bmore or less\b|\bgrundsatzlich\b|\bvorbehaltlich\b|\bim prinzip\b|"
    r"\ben principe\b|\bsous reserve\b|\bpresque\b|\bplus ou moins\b|\ben principio\b|\bpendiente\b|"
    r"\bsujeto a\b|\bcasi\b|\bmas o menos\b|\bgive me (a|some) (day|days|time)\b|"
    r"\bnicht sicher\b|\bweiss (noch )?nicht\b|\bmuss (noch )?(nachfragen|klaren|fragen|prufen)\b|"
    r"\bmelde mich\b|\bmal sehen\b|\bnoch nicht\b|\bpas (encore )?s[uû]re?\b|\bje (dois|vais) (verifier|demander)\b|"
    r"\bje (vous|te) (redis|confirme)\b|\bje reviens vers\b|\bpas encore\b|\bno estoy segur[oa]\b|"
    r"\btengo que (consultar|preguntar|confirmar|mirar)\b|\b(te|le|os) (confirmo|digo algo)\b|"
    r"\bya (te|le|os) dire\b|\btodavia no\b|\baun no\b|"
    + jp("わから|分から|確認して|確認しま|相談して|相談しま|検討|未定|まだ|後で|あとで"))
WEAK_HEDGE = re.compile(
    r"\b(maybe|perhaps|probably|possibly|might|may|hopefully|i guess|i think|i believe|tentatively|je crois|"
    r"je pense|ich glaube|ich denke|creo|supongo|"
    r"vielleicht|eventuell|wahrscheinlich|peut-etre|probablement|quizas?|tal vez|probablemente|"
    r"talvez|forse|misschien)\b|" + jp("たぶん|多分|かも|おそらく"))
NEXT_TIME = re.compile(r"\b(maybe|perhaps|vielleicht|peut-etre|quizas?|tal vez)\b[^.!?\n]{0,12}\b(next|nachstes|"
                       r"prochaine|proxima|another)\b")
CONDITION = re.compile(
    r"\b(if|unless|provided|providing|as long as|assuming|on condition|only when|depending on|depends on|"
    r"wenn|falls|sofern|vorausgesetzt|unter der bedingung|au cas ou|pourvu|a condition|sauf si|a moins|"
    r"siempre que|con tal|a menos que|en caso de|dependiendo|depende)\b|\w[\s,]+si\s+(?!,)\w|"
    + jp("もし|なら|たら|場合|次第|[えけせてねへめれ]ば"))
DEFER = re.compile(r"\byet\b|\b(read|look at|look into|check|review|decide|answer|reply|confirm|think about|"
                   r"think it over|sleep on|get back to)\b[^.!?\n]*\b(first|later|tomorrow|next week)\b")
# A question is not a decision, but a polite request asked as one is a command.
REQUEST = re.compile(r"^(?:hi,? |hello,? |please,? |so,? )?(could|can|would|will) (you|we|u)\b|"
                     r"\b(konnt|konnen|konnten|kannst|kann man|bitte)\b|\b(pouvez|pourriez|peux|pourrais)\b|"
                     r"\b(podrian|podria|pueden|puede|puedes|podrias|por favor)\b|"
                     + jp("ください|もらえ|いただけ|ますか|くれ"))
OTHER_ACTOR = re.compile(
    r"\b(he|she|they|someone else|somebody else|another person|my (manager|boss|colleague|deputy|lead|"
    r"team lead|director|assistant|team|partner|husband|wife))\s+(will|'ll|should|can|would|is going to|"
    r"has to|needs to|is in|are in|is coming|are coming|wants to)\b|\bon (my |his |her |their )?behalf\b|"
    r"\binstead of me\b|\b(approved|signed off|decided|accepted) by (?!me\b|myself\b)[a-z]{2,}\b|"
    r"\bin my (place|stead)\b|\b(count|sign|put|add)\s+(?!me\b|myself\b|us\b)(him|her|them|[a-z]{2,})\s+(in|up|down)\b|"
    r"\bask\s+(?!me\b)(him|her|them|my|[a-z]{2,})\s+(to|if|whether|instead)\b|\bforward(ed|ing)? (this|it) to\b|"
    r"\b(mein|meine) (chef|chefin|kollege|kollegin|vorgesetzter?|vertretung) (wird|soll|kann)\b|\bim namen von\b|"
    r"\bde la part de\b|\bau nom de\b|\ba ma place\b|\bmon (chef|manager|collegue) (va|doit|peut)\b|"
    r"\ben nombre de\b|\bde parte de\b|\ben mi lugar\b|\bmi (jefe|jefa|companer[oa]) (va a|debe|puede)\b|"
    + jp("代わりに|代理|上司が|に聞いて|が参加|が承認"))
NEGATION = re.compile(
    r"\b(not|never|don't|dont|do not|does not|doesn't|can't|cant|cannot|won't|wont|will not|wouldn't|"
    r"shouldn't|couldn't|isn't|aren't|am not|nicht|kein\w*|nie|jamais|nunca|nao|niet|geen|no|non)\b|"
    r"\bne\b|(?<!\w)n'")
NEGATION_AFTER = re.compile(r"^\W*(?:\w+\W+){0,3}?(nicht|pas|niet)\b|^" + jp(".{0,4}(ません|ない|できず)"))
# Double negatives that agree ("I won't miss it for the world") and "no" that is not a no.
NOT_A_NEGATION = re.compile(r"\b(won't|wont|will not|wouldn't|would not) miss\b|\b(can't|cannot) wait\b|"
                            r"\bno (problem|problems|worries|objections?|concerns?|issues?|doubt)\b|"
                            r"\bnot a problem\b|\bwhy not\b|\bof course\b|"
                            # "until I'm back" says when, it is no "I'm back"
                            r"\b(until|till|when|once) (i'm|i am|im) back\b|\bbis ich (wieder )?zuruck\b|"
                            r"\bjusqu'a mon retour\b|\bhasta (que vuelva|mi regreso)\b|"
                            # lateness is no doubt about coming; "I'd love to …, but" is no yes
                            r"\b(might|may) (be|arrive|join|come) (a bit |a little |slightly |\d+ \w+ )?late\b|"
                            r"\b(i'd|i would|would) (love|like|have liked) to\b[^.!?\n]{0,40}(?=\bbut\b)|"
                            r"\bwish i could\b[^.!?\n]{0,40}")

# Where each action of a context is said: a verb or phrase, folded. Used to find the sentence
# that acts and to find a second command that disagrees with it.
SAID = {
    "approve": r"approv|genehmig|freigegeben|einverstanden|approuv|valide|aprob|apruebo|aprueb|lgtm|"
               r"looks good|go ahead|" + jp("承認|了承|賛成"),
    "reject": r"reject|declin|disapprov|\bdeny|denied|veto|ablehn|lehne\b|abgelehnt|rejet|refus|rechaz|deneg|"
              r"\bsay no\b|\bvote no\b|" + jp("却下|否認|反対"),
    "request_changes": r"changes? (needed|requested|required|please)|needs? (changes|work)|\brevise|"
                       r"anderungen|uberarbeit|modifications|a revoir|cambios|" + jp("修正"),
    "volunteer": r"i'm in\b|im in\b|i am in\b|count me in|sign me up|put me down|add me\b|volunteer|"
                 r"happy to help|i can help|i'll help|ich bin dabei|mache mit|partant|comptez sur moi|"
                 r"je participe|cuenta conmigo|me apunto|" + jp("参加します|やります|手伝います|参加したい"),
    "withdraw": r"withdraw|take me off|remove me|drop out|back out|drop me|zuruckziehen|ziehe .{0,10}zuruck|"
                r"me retirer|me retire|retirarme|me retiro|me desapunto|" + jp("辞退|抜けます|取り下げ"),
    "decline": r"can't|cannot|can not|won't|unable|not available|count me out|i'll pass|no thanks|"
               r"leider nicht|kann nicht|pas cette fois|je ne peux pas|no puedo|esta vez no|"
               + jp("できません|行けません|欠席|参加できない|不参加"),
    "accept": r"i'll be there|i will be there|see you there|i'll come|i will come|i'm coming|count me in|"
              r"\baccept|i'll attend|i will attend|ich komme|bin dabei|j'y serai|je serai la|je viens|"
              r"alli estare|ahi estare|\bvoy\b|" + jp("出席します|行きます|参加します|伺います"),
    "confirm": r"^(yes|ok|okay|ja|oui|si|sim)\b|confirm|that was me|it was me|das war ich\b|" + jp("はい|確認"),
    "disown": r"(wasn't|was not|not) me\b|(didn't|did not|never) (send|sent|write)|war ich nicht|pas moi|no fui yo|"
              r"no lo envie|" + jp("私ではありません|送っていません|送信していません"),
    "tentative": r"\b(maybe|perhaps|tentative|vielleicht|peut-etre|quizas?|tal vez)\b|" + jp("たぶん|多分|未定"),
    "pause": r"\bpaus|\bhold\b|snooze|suspend|anhalten|" + jp("一時停止|休止|止めて"),
    "resume": r"resume|unpause|restart|start again|i'm back|fortsetzen|weiter|reprendre|reanudar|" + jp("再開"),
    "stop": r"\bstop|unsubscribe|opt.?out|remove me|\bquit\b|abmelden|abbestellen|austragen|desabonn|desinscri|"
            r"darme de baja|dar de baja|dejar de|" + jp("配信停止|解除|退会|やめ"),
    "join": r"\bjoin|i'm in\b|count me in|sign me up|ich bin dabei|mitmachen|je participe|me apunto|"
            + jp("参加"),
}
# The actions of one context, and which pairs may be said together without disagreeing: a
# rejection may name the changes it wants; a conditional approval is a request for changes.
CONTEXT_ACTIONS = {
    "approval": ("approve", "reject", "request_changes"),
    "volunteer": ("volunteer", "withdraw", "decline"),
    "meetup": ("accept", "decline", "tentative"),
    "journal": ("pause", "resume", "stop", "join"),
    "confirm": ("confirm", "disown", "approve", "reject", "request_changes"),
}
COMPATIBLE = {frozenset(p) for p in (("reject", "request_changes"), ("approve", "request_changes"),
                                     ("withdraw", "decline"), ("decline", "tentative"),
                                     ("volunteer", "join"), ("accept", "join"))}
COMPILED_SAID = {intent: re.compile(pattern) for intent, pattern in SAID.items()}


def doubt(context: str, intent: str, folded: str, rule: str = "") -> str | None:
    """Why ``intent`` read from ``folded`` (a whole reply's new text) must not act, or None."""
    if intent not in ACTING:
        return None
    text = NOT_A_NEGATION.sub(" ", folded.strip())
    if RETRACTION.search(text):
        return "the reply takes itself back"
    acting = _acting_sentence(text, intent)
    for check in (_hedged, _conditional, _questioned, _negated, _someone_else, _disagrees):
        why = check(context, intent, text, acting, rule)
        if why:
            return why
    return None


def _acting_sentence(text: str, intent: str) -> tuple[str, re.Match | None]:
    """The first sentence that says ``intent``, with where it says it (or the first sentence)."""
    parts = sentences(text) or [text]
    for sentence in parts:
        found = COMPILED_SAID[intent].search(sentence)
        if found:
            return sentence, found
    return parts[0], None


def _hedged(context, intent, text, acting, rule) -> str | None:
    if intent == "tentative":
        return None
    if HEDGE.search(text) or (WEAK_HEDGE.search(acting[0]) and not NEXT_TIME.search(acting[0])):
        return "the reply hedges or defers"
    if intent in ("approve", "reject", "accept", "volunteer") and DEFER.search(text):
        return "the reply defers the decision"
    return None


def _conditional(context, intent, text, acting, rule) -> str | None:
    if intent == "tentative" or "condition" in rule:
        return None
    return "a condition in the reply" if CONDITION.search(acting[0]) else None


def _questioned(context, intent, text, acting, rule) -> str | None:
    sentence = acting[0]
    if "?" not in sentence and not re.search(jp("(ますか|ですか)$"), sentence):
        return None
    if context == "journal" and REQUEST.search(sentence):
        return None
    return "the reply asks a question about it"


def _negated(context, intent, text, acting, rule) -> str | None:
    sentence, found = acting
    if intent not in AGREEING or found is None:
        return None
    before = " ".join(sentence[: found.start()].split()[-5:])
    if NEGATION.search(before) or NEGATION_AFTER.search(sentence[found.end():]):
        return "a negation around the verb"
    return None


def _someone_else(context, intent, text, acting, rule) -> str | None:
    return "someone else is named as the one to act" if OTHER_ACTOR.search(text) else None


def _disagrees(context, intent, text, acting, rule) -> str | None:
    for other in CONTEXT_ACTIONS.get(context, ()):
        if other == intent or frozenset((other, intent)) in COMPATIBLE:
            continue
        if any(not _mention_negated(text, m) for m in COMPILED_SAID[other].finditer(text)):
            return f"the reply also says {other.replace('_', ' ')}"
    return None


def _mention_negated(text: str, found: re.Match) -> bool:
    """A mention with a negation in the five words before it or just after it ("not approved",
    "ich genehmige das nicht", "承認しません")."""
    cut = max(text.rfind(c, 0, found.start()) for c in ".!?;,\n") + 1
    before = " ".join(text[cut: found.start()].split()[-5:])
    return bool(NEGATION.search(before) or NEGATION_AFTER.search(text[found.end():]))

