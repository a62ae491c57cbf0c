"""The readers behind ``commands.interpret``: one per context, each a few ordered rules.

Every pattern works on folded text (lower case, no accents: "änderungen nötig" is matched as
"anderungen notig"). Each reader returns the first rule that fits, named in ``Intent.rule``.
"""
from __future__ import annotations

import re
from typing import Sequence

from mailer.inbound import approval_phrases
from mailer.inbound.commands import NOS, YESES, Folded, Intent, bare, sentences, words

# --- journal ---------------------------------------------------------------------------------------

POLITE = words("please", "pls", "plz", "kindly", "bitte", "svp", "s'il vous plait", "por favor",
               "per favore", "alsjeblieft", "graag", "can you", "could you", "would you", "can we",
               "could we", "i'd like to", "i would like to", "i want to", "i wish to", "i need to",
               "i'd like you to", "i'm going to", "i am going to", "let me", "i want you to",
               "yes", "ok", "okay")
JOURNAL_VERBS = {
    "pause": ("pause", "snooze", "suspend", "hold", "take a break", "pausieren", "pausiere",
              "put me on hold", "put it on hold", "put this on hold", "put everything on hold",
              "put my challenge on hold", "put the challenge on hold", "put my emails on hold",
              "put my participation on hold", "put my subscription on hold",
              "mettre en pause", "pausar", "pausa", "pauzeer", "pauzeren", "pauze", "on hold",
              "一時停止"),
    # Not "continue" or a bare "back": "Back to it tomorrow" is a journal entry, not a command.
    "resume": ("resume", "unpause", "restart", "start again", "i'm back", "im back",
               "i am back", "weiter", "fortsetzen", "reprendre", "reanudar", "retomar",
               "riprendi", "riprendere", "hervatten", "verder", "再開"),
    # "stop sending" before "stop": "please stop sending me these" is a request, not a sentence
    # about stopping something else.
    "stop": ("stop", "unsubscribe", "opt out", "opt-out", "remove me", "quit", "leave", "cancel",
             "stop sending", "stop emailing", "stop e-mailing", "stop mailing", "take me off",
             "opt me out", "no more of these", "no more of this", "no more of them", "no more emails",
             "no more e-mails", "no more mails", "no more messages", "no more reminders",
             "abmelden", "austragen", "desabonner", "desinscrire", "darme de baja", "baja",
             "cancelar", "sair", "annulla", "afmelden", "uitschrijven", "stopp", "arreter", "配信停止"),
    "join": ("join", "i'm in", "im in", "i am in", "count me in", "sign me up", "sign up", "enrol",
             "enroll", "register", "participate", "ich bin dabei", "mitmachen", "je participe",
             "me apunto", "eu participo", "ci sto", "ik doe mee", "参加"),
}
# Words that may follow a command without making it a sentence about something else.
FILLER = set("""
my the all your these this it me emails email e-mails mails mail messages message challenge
reminders reminder daily notifications participation subscription from list for a an one two
three few couple of day days week weeks month months until till next monday tuesday wednesday
thursday friday saturday sunday tomorrow now again please thanks thank you bit while up in
i travel travelling traveling away trip anymore these them
with to break holiday holidays vacation back am i'm im out 30-day too meine mails fur eine
woche bitte danke mes les pour une semaine merci mis correos por una semana gracias meus os
obrigado obrigada le mie per settimana grazie mijn voor een bedankt dank je mich me moi
""".split())
DURATION = re.compile(
    r"\b((for|fur|pour|por|per|voor)\s+(?:(?:a|an|one|two|three|\d+|a few|a couple of|the next|eine|une|una|"
    r"um|uma|een)\s+)?(days?|weeks?|months?|while|bit|wochen?|semaines?|semanas?|settiman[ae]|weken)\b|"
    r"(until|till|next|bis)\b).*$")


# One compiled pattern per command, built once: building the alternations per reply cost more
# than reading the reply.
JOURNAL_COMMANDS = {intent: re.compile(rf"(?:(?:{POLITE})[\s,!]+)*({words(*verbs)})\b")
                    for intent, verbs in JOURNAL_VERBS.items()}


def read_journal(text: Folded) -> Intent:
    """A short command (pause, resume, stop, join), else the reply is a journal entry."""
    folded = text.folded.strip()
    if len(folded.split()) <= 12:
        for intent, command in JOURNAL_COMMANDS.items():
            found = command.match(folded)
            if found and _only_filler(folded[found.end():], JOURNAL_VERBS[intent]):
                rest = folded[found.end():]
                when = DURATION.search(rest)
                comment = text.rest(found.end() + when.start()) if when else ""
                return Intent(intent, comment, None, f"journal: short '{found.group(1)}' command")
    return Intent("journal", "", None, "journal: a journal entry (not a short command)")


def _only_filler(rest: str, same: tuple[str, ...] = ()) -> bool:
    """Whether only filler words follow a command, or the command's own verbs ("I'm back,
    resume please")."""
    rest = re.sub(rf"\b({words(*same)})\b", " ", rest) if same else rest
    tokens = re.findall(r"[\w'-]+", rest)
    return all(t in FILLER or t.isdigit() or re.fullmatch(r"\d+(st|nd|rd|th)?", t) for t in tokens)


# --- approval --------------------------------------------------------------------------------------

APPROVE = words(
    "approve", "approved", "i approve", "i hereby approve", "approval granted", "fully approved",
    "genehmigt", "genehmige", "ich genehmige", "freigegeben", "ich gebe frei", "einverstanden",
    "approuve", "approuvee", "j'approuve", "valide", "validee", "aprobado", "aprobada", "apruebo",
    "lo apruebo", "aprovado", "aprovada", "aprovo", "eu aprovo", "approvato", "approvata",
    "approvo", "lo approvo", "goedgekeurd", "ik keur het goed", "akkoord")
APPROVE_STEM = r"approv|genehmig|freigegeben|approuv|aprob|apruebo|aprov|goedgekeurd|keur|akkoord"
REJECT = words(
    "reject", "rejected", "i reject", "decline", "declined", "i decline", "disapprove",
    "disapproved", "deny", "denied", "veto", "vetoed", "not approved", "abgelehnt", "ablehnen",
    "ich lehne ab", "lehne ab", "nicht genehmigt", "abgewiesen", "rejete", "rejetee", "refuse",
    "refusee", "je refuse", "je rejette", "non approuve", "pas approuve", "rechazado", "rechazada",
    "rechazo", "lo rechazo", "no aprobado", "denegado", "rejeitado", "rejeitada", "recusado",
    "recusada", "rejeito", "nao aprovado", "respinto", "respinta", "rifiutato", "rifiutata",
    "rifiuto", "non approvato", "afgewezen", "afgekeurd", "ik keur het af", "niet goedgekeurd",
    "niet akkoord")
CHANGES = words(
    "changes needed", "changes requested", "change requested", "request changes", "requesting changes",
    "needs changes", "need changes", "needs work", "needs more work", "revise", "please revise",
    "revisions needed", "changes required", "changes please", "anderungen notig", "anderungen notwendig",
    "anderungen erforderlich", "anderungen gewunscht", "anderungsbedarf", "bitte anpassen",
    "bitte uberarbeiten", "uberarbeiten", "modifications necessaires", "modifications demandees",
    "modifications requises", "changements necessaires", "a revoir", "a modifier",
    "cambios necesarios", "se necesitan cambios", "cambios solicitados", "cambios requeridos",
    "necesita cambios", "alteracoes necessarias", "mudancas necessarias", "precisa de alteracoes",
    "precisa de ajustes", "ajustes necessarios", "modifiche necessarie", "modifiche richieste",
    "servono modifiche", "da rivedere", "wijzigingen nodig", "aanpassingen nodig",
    "wijzigingen gevraagd", "graag aanpassen")
NEGATION = (r"\b(not|never|don't|dont|do not|does not|doesn't|can't|cant|cannot|won't|wont|"
            r"wouldn't|shouldn't|couldn't|nicht|kein\w*|nie|niemals|pas|jamais|nunca|nao|non|"
            r"niet|geen|nooit|no)\b|(?<!\w)n'")
HARMLESS_NO = re.compile(r"\bno (problem|problems|worries|objections?|concerns?|issues?)\b")
NEGATION_AFTER = r"\b(nicht|pas|niet|not|non)\b"  # "Ich genehmige das nicht", "je n'approuve pas"
CONDITION = (r"\b(if|unless|would|once|provided|providing|assuming|until|as soon as|but|however|"
             r"although|though|except|only when|after|wenn|falls|sobald|aber|jedoch|sofern|"
             r"wurde|vorausgesetzt|sauf|mais|cependant|quand|lorsque|condition|pourvu|"
             r"siempre que|cuando|pero|sin embargo|con tal|se|caso|quando|mas|porem|desde que|"
             r"purche|ma|tuttavia|als|indien|zodra|maar|mits|tenzij)\b|\bsi\b")
ASKED_NOT_TO = r"(?:please\s+)?(?:don't|dont|do not|bitte\s+nicht|ne\s+pas|n'approuvez)\b"
RETRACTION = (r"\b(not really|not yet|not quite|just kidding|kidding|jk|actually no|"
              r"on second thought|scratch that|hold on)\b|\bwait\s*[,.!-]")


def read_approval(text: Folded) -> Intent:
    """Approve only from an unconditional keyword at the start; negations are rejections."""
    folded = text.folded.strip()
    head = sentences(folded)[0]
    for intent, pattern, rule in (("request_changes", CHANGES, "changes keyword"),
                                  ("reject", REJECT, "reject keyword"),
                                  ("reject", NOS, "a plain no")):
        found = re.match(rf"{YESES}({pattern})(?![\w'])", folded)
        if found and not (intent == "reject" and "?" in head):
            return Intent(intent, text.comment(found.end()), None, f"approval: {rule} at the start")
    return _approve_or_unclear(text, folded, head)


def _approve_or_unclear(text: Folded, folded: str, head: str) -> Intent:
    mentions = re.search(APPROVE_STEM, head)
    if mentions and _negated(head, mentions):
        if re.search(CONDITION, head):
            return Intent("unclear", text.original, None, "approval: a conditional approval is not an approval")
        if re.match(ASKED_NOT_TO, head):  # "Don't approve this yet": a request, not a rejection
            return Intent("unclear", text.original, None, "approval: asks not to approve, does not reject")
        return Intent("reject", text.original, None, "approval: a negated approval")
    found = re.match(rf"{YESES}({APPROVE})(?![\w'])", folded)
    if found is None:
        other = approval_phrases.extra_reading(text, folded, head, _doubt)
        if other:
            return other
        rule = "an approval word not at the start" if mentions else "no approval keyword"
        return Intent("unclear", text.original, None, f"approval: {rule}")
    doubt = _doubt(head, folded)
    if doubt:
        return approval_phrases.conditional_change(text, folded, head) or \
            Intent("unclear", text.original, None, f"approval: {doubt}")
    return Intent("approve", text.comment(found.end()), None, "approval: approve keyword at the start")


def _negated(head: str, mention: re.Match) -> bool:
    """A negation in the four words before the approval word, or a trailing one after it."""
    before = " ".join(HARMLESS_NO.sub(" ", head[: mention.start()]).split()[-4:])
    after = " ".join(head[mention.end():].split()[:4])
    return bool(re.search(NEGATION, before) or re.search(NEGATION_AFTER, after))


def _doubt(head: str, folded: str) -> str | None:
    """Why an approval keyword at the start should still not count, or None."""
    if "?" in head:
        return "an approval asked as a question"
    if re.search(CONDITION, re.sub(rf"^{YESES}", "", head)):  # "Sí, aprobado": that si is a yes
        return "a conditional approval is not an approval"
    if re.search(RETRACTION, folded):
        return "the approval is taken back"
    later = sentences(folded)[1:]
    if any(re.match(rf"{YESES}({REJECT}|{CHANGES}|{NOS})(?![\w'])", s) or approval_phrases.says_against(s)
           for s in later):
        return "approval and rejection or changes in one reply"
    return None


# --- volunteer ------------------------------------------------------------------------------------------

WITHDRAW = words(
    "withdraw", "i withdraw", "i have to withdraw", "i need to withdraw", "take me off", "remove me",
    "drop me", "drop out", "i have to drop out", "i need to drop out", "i can no longer",
    "i can't anymore", "unvolunteer", "un-volunteer", "back out", "i need to back out",
    "cancel my sign-up", "cancel my signup", "cancel my spot", "cancel my place", "zuruckziehen",
    "ich ziehe zuruck", "austragen", "trage mich aus", "me retirer", "je me retire", "me desapunto",
    "retirarme", "me retiro", "desistir", "desisto", "ritirarmi", "mi ritiro", "ik trek me terug",
    "schrap mij", "haal me eraf", "take me off the list", "please remove me", "streich mich",
    "streicht mich", "nimm mich raus", "nehmt mich raus", "retirez-moi", "retire-moi", "quitame",
    "borrame", "me tira", "toglimi", "cancellami", "haal mij eraf")
# "I can't do it after all": a sign-up taken back, not a plain no (the issue's own example).
WITHDRAW_AFTER_ALL = (
    r"\b(can't|cant|cannot|can not|won't|wont|unable to|not able to)\b[^.!?\n]{0,30}?"
    r"\b(after all|anymore|any more|any longer)\b|\bkann\b[^.!?\n]{0,30}?\b(doch nicht|nicht mehr)\b|"
    r"\bje ne (peux|pourrai) plus\b|\bfinalement je ne (peux|pourrai) pas\b|\bal final no (puedo|podre)\b|"
    r"\bya no (puedo|podre)\b|\bafinal (nao posso|nao vou poder)\b|\bja nao posso\b|"
    r"\balla fine non posso\b|\bnon posso piu\b|\bkan toch niet\b|\bkan niet meer\b")
VOLUNTEER = words(
    "i'm in", "im in", "i am in", "count me in", "sign me up", "put me down", "add me", "i'll do it",
    "i will do it", "i can do it", "i'll volunteer", "i will volunteer", "i volunteer",
    "i'd like to volunteer", "i would like to volunteer", "i'd love to help", "i'd love to volunteer",
    "i would love to help", "happy to help", "happy to volunteer", "happy to do it", "i'm happy to",
    "i can help", "i'll help", "i will help", "i can take", "i'll take", "i will take", "volunteer",
    "ich bin dabei", "ich mache mit", "ich helfe", "ich melde mich", "je suis partant",
    "je suis partante", "je participe", "je me porte volontaire", "cuenta conmigo", "me apunto",
    "yo me apunto", "pode contar comigo", "conte comigo", "estou dentro", "ci sono", "ci sto",
    "contate su di me", "mi offro", "ik doe mee", "ik ben erbij", "tel mij maar mee", "reken op mij",
    "comptez sur moi", "compte sur moi", "tu peux compter sur moi", "vous pouvez compter sur moi")
PLAIN_YES = bare("yes", "yeah", "yep", "sure", "ja", "oui", "si", "sim", "me", "me too", "yes please")
STRONG_IF = r"\b(if|unless|wenn|falls|si|se|indien)\b"  # not "als": German "als Reviewer" is "as"
NOT_AS = r"\b(not|except|but not)\s+(as|for|with)\b"  # "happy to help, but not as a writer"
VOLUNTEER_ANYWHERE = words(
    "count me in", "sign me up", "put me down", "i'd like to volunteer", "i would like to volunteer",
    "i volunteer", "i'll volunteer", "happy to help", "happy to volunteer", "i'm in", "ich bin dabei")
DECLINE = words(
    "no thanks", "no thank you", "not this time", "not now", "i'll pass", "i will pass", "pass",
    "i pass", "count me out", "i can't", "i cannot", "i can not", "i won't",
    "i'm unable", "i am unable", "not available", "i'm not available", "i'm not in", "leider nicht",
    "nein danke", "non merci", "no gracias", "lo siento", "infelizmente",
    "purtroppo", "helaas", "decline", "i decline", "not for me", "can't this time", "cannot this time",
    "pas cette fois", "pas cette fois-ci", "pas pour cette fois", "esta vez no", "dieses mal nicht",
    "diesmal nicht", "diesmal leider nicht", "dieses mal leider nicht", "nicht dieses mal", "desta vez nao", "questa volta no", "non questa volta",
    "deze keer niet", "nu niet")
APOLOGY = (r"(?:(?:so\s+|very\s+|really\s+)?sorry|apologies|unfortunately|i'm afraid|im afraid|leider|"
           r"desolee?|lo siento|perdon|desculpa|desculpe|mi dispiace|scusa|sorry)[\s,.!:;-]*")
# "I'm in" is a sign-up only when nothing but a role, a "too" or punctuation follows it:
# "I'm in a meeting", "I'm in London next week" and "ci sono in riunione" are not.
PLACE_AFTER_IN = re.compile(r"\s*($|[^\w\s]|(as|for|too|on|again|with|and|but|if|happy|tho|though)\b)")
IN_PHRASE = re.compile(r"(i'm|im|i am)\s+in|ci\s+sono|ci\s+sto")
UNABLE = (r"(can't|cant|cannot|can not|won't|unable to|not able to|not available|don't have (?:the )?time|"
          r"no time|have to pass|must pass|need to pass|kann nicht|kann ich nicht|keine zeit|pas le temps|"
          r"je ne peux pas|no puedo|nao posso|non posso|kan niet|geen tijd)(?!\s+wait)")


def read_volunteer(text: Folded, roles: Sequence[str] = ()) -> Intent:
    """Sign-up (with the role named), withdrawal, a no; or unclear."""
    folded = text.folded.strip()
    found = re.match(rf"{YESES}({WITHDRAW})(?![\w'])", folded) or re.search(rf"\b({WITHDRAW})\b", folded)
    if found:
        return Intent("withdraw", text.original, None, f"volunteer: '{found.group(1)}'")
    found = re.search(WITHDRAW_AFTER_ALL, folded)
    if found:
        return Intent("withdraw", text.original, None, f"volunteer: taken back ('{found.group(0)}')")
    for pattern, intent, rule in ((rf"(?:{APOLOGY})?({NOS}|{DECLINE})(?!\s+wait)", "decline", "a no at the start"),
                                  (rf"{YESES}({VOLUNTEER})", "volunteer", "a sign-up at the start"),
                                  (PLAIN_YES, "volunteer", "a plain yes")):
        found = re.match(rf"{pattern}(?![\w'])", folded)
        if found and intent == "volunteer" and (not _signs_up(folded, found) or _yes_then_more(folded, found)):
            continue
        if found and intent == "volunteer" and (re.search(STRONG_IF, folded) or re.search(NOT_AS, folded)):
            return Intent("unclear", text.original, None, "volunteer: a conditional sign-up")
        if found:
            return _volunteer_intent(intent, text, found.end(), roles, rule)
    if re.search(UNABLE, folded):
        return Intent("decline", text.original, None, "volunteer: says they cannot")
    found = re.search(rf"\b({VOLUNTEER_ANYWHERE})(?![\w'])", folded)
    if found and _signs_up(folded, found) and not re.search(CONDITION, folded) and "?" not in folded:
        return _volunteer_intent("volunteer", text, found.end(), roles, "a sign-up phrase")
    return Intent("unclear", text.original, None, "volunteer: no sign-up, withdrawal or no")


def _signs_up(folded: str, found: re.Match) -> bool:
    """False for an "I'm in" that says where someone is ("I'm in a meeting"), not that they join."""
    phrase = found.group(found.lastindex or 0)
    if not IN_PHRASE.fullmatch(re.sub(r"\s+", " ", phrase.strip())):
        return True
    return bool(PLACE_AFTER_IN.match(folded[found.end():]))


def _volunteer_intent(intent: str, text: Folded, end: int, roles: Sequence[str], rule: str) -> Intent:
    role = find_role(text.folded, roles) if intent == "volunteer" else None
    return Intent(intent, text.comment(end), role, f"volunteer: {rule}")


# A role's name ends where Latin letters and digits end: "writerとして参加します" (Japanese, no
# space) names the writer role as "as a writer" does; "rewriter" does not.
LATIN_EDGE, LATIN_END = r"(?<![a-z0-9])", r"(?![a-z0-9])"


def find_role(folded: str, roles: Sequence[str]) -> str | None:
    """The role named in the reply: one of ``roles`` as written there (or a form of it:
    "reviewing" for reviewer, "writers" for writer), else the word after "as a"."""
    from mailer.inbound.commands import fold

    hits = []
    for role in roles:
        name = re.escape(fold(role).folded.strip()).replace(r"\ ", r"[\s_-]+").replace(r"\-", r"[\s_-]*")
        found = re.search(rf"{LATIN_EDGE}{name}s?{LATIN_END}", folded) or _stem_hit(fold(role).folded.strip(), folded)
        if found:
            hits.append((found.start(), role))
    if hits:
        return min(hits)[1]
    found = re.search(r"\b(?:as|als|comme|como|come)\s+(?:(?:a|an|the|der|die|de|le|la|el|o|il|un|une|um|uma|una)\s+)?([a-z][\w-]*)", folded)
    return found.group(1) if found and found.group(1) not in NOT_ROLES else None


NOT_ROLES = {"well", "soon", "usual", "always", "discussed", "promised", "agreed", "long", "much",
             "many", "before", "planned", "mentioned", "said", "requested", "needed", "possible"}


def _stem_hit(role: str, folded: str) -> re.Match | None:
    """A form of a one-word role: "reviewing" or "reviews" for reviewer, "writing" for writer."""
    stem = re.sub(r"(ers|er|ors|or|ing|s)$", "", role)
    if not role.isalpha() or len(stem) < 4:
        return None
    return re.search(rf"\b{re.escape(stem)}(?:e|er|ers|or|ors|ing|s|es)?\b", folded)


# --- meetup -----------------------------------------------------------------------------------------------

ATTEND = words(
    "yes", "yep", "yeah", "sure", "absolutely", "definitely", "see you there", "i'll be there",
    "i will be there", "i'll come", "i will come", "i'm coming", "coming", "count me in", "i'm in",
    "accept", "accepted", "attending", "i'll attend", "i will attend", "going", "i'm going",
    "wouldn't miss it", "ja", "ich komme", "bin dabei", "ich bin dabei", "oui", "je viens",
    "je serai la", "j'y serai", "alli estare", "ahi estare", "voy", "sim", "estarei la", "vou",
    "ci saro", "vengo", "ik kom", "ik ben erbij", "ik ben er bij", "nos vemos alli", "nos vemos ahi",
    "alli nos vemos") + "|" + bare("si")
ATTEND_ANYWHERE = words("see you there", "can't wait", "cant wait", "i'll be there", "i will be there", "wouldn't miss it",
                        "see you then", "looking forward", "i'll come", "i will come", "count me in",
                        "ich bin dabei", "bin dabei", "j'y serai", "je serai la", "alli estare", "nos vemos alli")
MAYBE = words("maybe", "perhaps", "possibly", "probably", "not sure", "tentative", "tentatively",
              "might", "i might", "i may", "i'll try", "i will try", "hopefully", "vielleicht",
              "eventuell", "peut-etre", "quizas", "quiza", "tal vez", "talvez", "forse", "misschien")
MAYBE_ANYWHERE = r"\b(might|may|maybe|perhaps|possibly|not sure|vielleicht|peut-etre|quizas|talvez|forse|misschien)\b"
MISS = words("can't make it", "cannot make it", "can not make it", "won't make it", "can't come",
             "not coming", "i'll miss", "decline", "declined", "i can't",
             "i cannot", "i won't", "unable", "leider nicht", "leider", "no puedo", "no podre", "purtroppo", "helaas",
             "nao posso", "non posso", "ich kann nicht", "je ne peux pas", "not this time")
MISS_ANYWHERE = (r"((?<!might )(?<!may )\b(can't|cant|cannot|can not|won't|will not|unable to|not able to|"
                 r"not|won't be able to|will not be able to) (make it|come|attend|be there|join)|"
                 r"(have to|must|need to) (miss|skip)|i'll miss|"
                 r"kann (?:leider )?nicht|komme (?:leider )?nicht|je ne (?:peux|pourrai) pas|no podre|no puedo|"
                 r"nao posso|non posso|"
                 r"kan niet|kom niet)")


# "I won't miss it for the world": a negation that agrees, read before any "won't" is a no.
WONT_MISS = r"(?:i\s+)?(?:won't|wont|will not|wouldn't|would not)\s+miss\s+(?:it|this|that)\b(?:\s+for\s+the\s+world)?"


# "Maybe" counts in a sentence about coming ("might make it"), not in "that might be the bug".
COMING = (r"\b(come|coming|make it|attend|be there|join|there|kommen|komme|dabei|venir|viens|y serai|"
          r"ir|voy|estare|alli)\b")
BARE_YES = r"(yes|yeah|yep|sure|ja|oui|si|sim|absolutely|definitely)\W*$"


def _yes_then_more(folded: str, found: re.Match) -> bool:
    """A bare "Sure," that opens a long sentence about something else is no answer."""
    if not re.match(BARE_YES, found.group(0).strip()):
        return False
    sentence = re.split(r"[.!?;](?:\s|$)|\n\s*\n", folded[found.end():].strip(), maxsplit=1)[0]
    return len(sentence.split()) > 8  # a line wrapped by the mail client is still one sentence


def read_meetup(text: Folded) -> Intent:
    """A plain-text answer to an invite: yes, can't make it, maybe; ambiguous ones are unclear."""
    folded = text.folded.strip()
    found = re.match(WONT_MISS, folded)
    if found:
        return Intent("accept", text.comment(found.end()), None, "meetup: will not miss it")
    found = re.match(IN_PHRASE, folded)
    if found and not PLACE_AFTER_IN.match(folded[found.end():]):  # "I'm in Berlin that week"
        return Intent("unclear", text.original, None, "meetup: says where they are, not that they come")
    for pattern, intent, rule in ((MAYBE, "tentative", "a maybe at the start"),
                                  (rf"{NOS}|{MISS}", "decline", "a no at the start")):
        found = re.match(rf"({pattern})(?![\w'])(?!\s+wait)", folded)
        if found:
            return Intent(intent, text.comment(found.end()), None, f"meetup: {rule}")
    cannot = re.search(MISS_ANYWHERE, folded)
    found = re.match(rf"({ATTEND})(?![\w'])", folded)
    if found and not cannot and "?" not in sentences(folded)[0] and not _yes_then_more(folded, found):
        return Intent("accept", text.comment(found.end()), None, "meetup: a yes at the start")
    if cannot:
        return Intent("decline", text.original, None, "meetup: says they cannot come")
    if any(re.search(MAYBE_ANYWHERE, s) and (re.search(COMING, s) or len(folded.split()) <= 6)
           for s in sentences(folded)):
        return Intent("tentative", text.original, None, "meetup: says maybe")
    if re.search(rf"\b({ATTEND_ANYWHERE})(?![\w'])", folded) and "?" not in folded:
        return Intent("accept", text.original, None, "meetup: says they will come")
    return Intent("unclear", text.original, None, "meetup: no yes, no or maybe")
