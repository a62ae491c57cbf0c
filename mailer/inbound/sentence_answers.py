"""Answers written as a sentence rather than a keyword at the start, for the readers in ``intents``.

- Japanese, in every context: words there are not set apart by spaces, so the readers'
  word-boundary patterns never see "参加します" inside "喜んで参加します". These rules look for
  the phrase anywhere in a short reply.
- Journal requests written as a sentence in German, French, Spanish or Japanese ("Könnt ihr
  meine Mails bitte bis nächste Woche pausieren?", "¿Podrían pausar mis correos hasta que
  vuelva?"): a short reply with a request word and one command's verb is that command.

Each returns an ``Intent`` or None; ``inbound.doubt`` still checks the whole reply before
anything acts ("一時停止しないでください" says not to pause).
"""
from __future__ import annotations

import re

from mailer.inbound.commands import Folded, Intent
from mailer.inbound.doubt import jp

# Japanese, folded as the text is (voicing marks dropped): first match wins, negative first.
JAPANESE = {
    "approval": (("reject", jp("却下|否認|承認しません|承認できません|承認いたしかねます")),
                 ("request_changes", jp("修正をお願い|修正してください|変更をお願い|変更が必要")),
                 ("approve", jp("承認します|承認いたします|承認しました|了承します|了承しました"))),
    "volunteer": (("withdraw", jp("辞退します|抜けさせて|取り下げます|参加を取り消")),
                  ("decline", jp("参加できません|参加しません|今回は見送ります|今回は遠慮します")),
                  ("volunteer", jp("参加します|参加したいです|やります|手伝います|担当します"))),
    "meetup": (("decline", jp("欠席します|欠席で|行けません|参加できません|出席できません")),
               ("tentative", jp("たぶん|多分|未定|かもしれません")),
               ("accept", jp("出席します|参加します|行きます|伺います"))),
}
JAPANESE_LIMIT = 80  # characters: a longer Japanese reply is a message about something, not an answer

# Journal requests: a request word, and the verb of exactly one command.
REQUEST = re.compile(
    r"\b(bitte|konnt|konnen|konnten|kannst|konntet|pouvez|pourriez|peux|pourrais|s'il (vous|te) plait|"
    r"svp|merci de|por favor|podrian|podria|pueden|puede|podeis|puedes|podrias)\b|"
    + jp("ください|下さい|お願い|もらえ|いただけ|くれ"))
VERBS = {
    "pause": r"\bpausier\w*|\bpause\b|\banhalten\b|\baussetzen\b|\ben pause\b|\bsuspend(re|ez|ue)\b|\bpausar\b|"
             r"\bpausa\b|\ben pausa\b|" + jp("一時停止|休止"),
    "resume": r"\bfortsetzen\b|\bweitermachen\b|\breprendre\b|\breprenez\b|\breanudar\b|\breanuda\b|"
              r"\bretomar\b|" + jp("再開"),
    "stop": r"\babmelden\b|\babbestellen\b|\baustragen\b|\bkeine (mails|e-mails) mehr\b|\bdesabonn\w*|"
            r"\bdesinscri\w*|\bne plus recevoir\b|\bdar(me)? de baja\b|\bdejar de (recibir|enviar)\w*|"
            + jp("配信停止|配信を停止|送らないで|退会|解除して"),
    "join": r"\bmitmachen\b|\bparticiper\b|\bm'inscrire\b|\bapuntarme\b|\bparticipar\b|\binscribirme\b|"
            + jp("参加させて|参加したい"),
}
REQUEST_WORDS = 16


def japanese(context: str, text: Folded) -> Intent | None:
    """A Japanese answer in ``context`` found anywhere in a short reply, or None."""
    folded = text.folded.strip()
    if len(folded) > JAPANESE_LIMIT or context not in JAPANESE:
        return None
    for intent, pattern in JAPANESE[context]:
        found = re.search(pattern, folded)
        if found:
            # The answer alone ("承認します。") has no comment; anything more is kept whole.
            alone = not re.sub(r"[\s。、.!！?？]+", "", folded[:found.start()] + folded[found.end():])
            return Intent(intent, "" if alone else text.original, None, f"{context}: a Japanese answer")
    return None


def journal_request(text: Folded) -> Intent | None:
    """A short request to pause, resume, stop or join written as a sentence, or None."""
    folded = text.folded.strip()
    short = len(folded.split()) <= REQUEST_WORDS and (folded.isascii() or len(folded) <= JAPANESE_LIMIT)
    if not short or not REQUEST.search(folded):
        return None
    said = [intent for intent, verb in VERBS.items() if re.search(verb, folded)]
    if len(said) != 1:
        return None
    return Intent(said[0], "", None, f"journal: a request to {said[0]} written as a sentence")
