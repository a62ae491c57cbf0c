"""Recognising quoted history in a plain-text reply: attribution lines, header blocks, splitters.

Every mail client marks the start of the message it answers in its own words. The patterns
here were learned from what real clients write (Gmail, Outlook desktop and web, Apple Mail,
Thunderbird, Yahoo, Zimbra, mobile clients) in the languages our members use. Functions take
the list of lines and an index, and say how many lines the marker spans (0: no marker).
"""
from __future__ import annotations

import re

# The verb of an attribution line ("On <date>, <person> wrote:"), by language. Gmail in
# German writes "schrieb am <date> um <time> Uhr:", Dutch Apple Mail "het volgende geschreven:".
WROTE = (
    r"wrote|writes|schrieb|schreef|geschreven|a\s+[ée]crit|escribi[óo]|escreveu|ha\s+scritto|"
    r"scrisse|napisa[łl]\(a\)|napisa[łl]a?|pisze|skrev|kirjoitti|написал\(а\)|написала?|"
    r"написав|пише|ha\s+escrit|va\s+escriure|đã\s+viết|írta|yazdı|έγραψε|napsal|napísal|"
    r"a\s+scris|kirjutas|rašė|rakstīja"
)
# Chinese, Japanese and Korean clients write the verb against the date, without a space.
WROTE_CJK = r"写道|寫道|のメッセージ|작성"
_WROTE_ANY = rf"(?:(?<!\w)(?:{WROTE})(?!\w)|(?:{WROTE_CJK}))"
_WROTE_RE = re.compile(_WROTE_ANY, re.IGNORECASE)
# "... wrote:" at the very end, optionally framed by dashes (Zoho, Android: "---- On … wrote ----").
_WROTE_END = re.compile(rf"{_WROTE_ANY}\s*[:：]?\s*-*\s*$", re.IGNORECASE)
_ENDS_COLON = re.compile(r"[:：]\s*-*\s*$")
# "<person@host>:" or "(person@host):" closing a line: Gmail's old "2014-03-20 8:48 GMT+01:00
# Name <a@b>:", Yandex "30.09.2017, 18.30, "Name" <a@b>:", Mail.ru "… from a@b <a@b>:".
_ADDRESS_COLON = re.compile(r"(<[^<>]*@[^<>]*>|\([^()]*@[^()]*\)|\S+@\S+)\s*\)?\s*[:：]\s*$")
# Gmail's date-first forms, sometimes without any address: "2016-03-03 17:21 GMT+01:00 Name",
# "2013/7/20 Name <a@b>".
_GMAIL_DATE = re.compile(r"^\s*\d{4}[-/]\d{1,2}[-/]\d{1,2}\s+(\d{1,2}:\d{2}\s+GMT[+-]\d{1,2}:\d{2}\s+\S|.*<[^<>]*@[^<>]*>\s*$)")
_DASH_FRAMED = re.compile(r"^\s*-{2,}.*-{2,}\s*$")
_DIGIT_OR_AT = re.compile(r"\d|@")
_STARTS_ON = re.compile(r"^\s*-*\s*On\s")
# How attribution lines open: "On", "Le", "Am", "El", "Em", "Il", "Op", "W dniu", "Den", … or a date.
_STRONG_START = re.compile(
    r"^\s*(>\s*)?(On|Le|Am|El|Em|Il|Op|W dniu|Dnia|Den|På|In data|Vào|Dne|\d)(\s|\b)")
_WORD_START = re.compile(r"^\s*(On|Le|Am|El|Em|Il|Op|W dniu|Dnia|Den|På|In data|Vào|Dne)\s")
_PLAUSIBLE = re.compile(r"\d|@|<")
# Characters a line needs to start more than a one-line marker, bar a strong start, "--" and
# "__" (``is_plain``).
_MARKS = re.compile(r"[\d@<>]")
_ASCII_MARKS = re.compile(r"[0-9@<>]")
# Characters no verb of ``WROTE`` or ``WROTE_CJK`` ends on (they have no case either).
_NO_VERB_END = frozenset(".!?,;\"'…")
# ``_ends_with_verb``: the longest verb with one blank is 10 characters; a match starting more
# than ``_VERB_WINDOW`` before its end has a blank run of ``_VERB_WINDOW - 9`` or more inside.
_VERB_WINDOW = 20
_LONG_BLANK = re.compile(r"\s{11}")
_SENTENCE_END = re.compile(r"[.!?…:;]\s*$")

# Separator lines that introduce an older or forwarded message, by language.
SPLITTER_WORDS = (
    r"original message|reply message|forwarded message|ursprüngliche nachricht|antwort nachricht|"
    r"weitergeleitete nachricht|message d'origine|message d’origine|message original|"
    r"message transféré|mensaje original|mensaje reenviado|mensagem original|"
    r"mensagem encaminhada|messaggio originale|messaggio inoltrato|oorspronkelijk bericht|"
    r"origineel bericht|doorgestuurd bericht|wiadomość oryginalna|oryginalna wiadomość|"
    r"przekazana wiadomość|ursprungligt meddelande|vidarebefordrat meddelande|"
    r"originalmeddelande|oprindelig meddelelse|oprindelig besked|videresendt meddelelse|"
    r"opprinnelig melding|videresendt melding|alkuperäinen viesti|välitetty viesti|"
    r"исходное сообщение|пересылаемое сообщение|оригінальне повідомлення|"
    r"пересланий лист|原始邮件|转发的邮件|原始郵件|轉寄郵件|元のメッセージ|転送されたメッセージ|"
    r"원본 메시지|전달된 메시지|tin nhắn gốc|eredeti üzenet|původní zpráva|missatge original"
)
_SPLITTER = re.compile(rf"^\s*[*_]*\s*-{{2,}}\s*(?:{SPLITTER_WORDS})\s*-{{2,}}\s*[*_]*\s*$", re.IGNORECASE)
# Apple Mail and others announce a forward with a bare line.
_FORWARD_INTRO = re.compile(
    r"^\s*(begin forwarded message|forwarded message|début du message réexpédié|"
    r"anfang der weitergeleiteten nachricht|inicio del mensaje reenviado|"
    r"início da mensagem reencaminhada|inizio messaggio inoltrato|begin doorgestuurd bericht|"
    r"vidarebefordrat brev|videresendt besked|начало пересылаемого сообщения)\s*[:：]?\s*$",
    re.IGNORECASE)
# Outlook's horizontal rule above its header block (32 underscores in plain text).
_UNDERSCORES = re.compile(r"^\s*_{20,}\s*$")

# Header names of an Outlook-style block, grouped by meaning; the block needs two meanings.
HEADER_KEYS = {
    "from": r"from|von|de|da|van|od|från|fra|frá|lähettäjä|feladó|от|від|kimden|apo|nuo|no|"
            r"发件人|寄件人|寄件者|差出人|보낸 사람|보낸사람|người gửi|de la",
    "date": r"sent|date|datum|data|gesendet|envoyé|envoyé le|enviado el|enviado|enviada|inviato|verzonden|"
            r"verstuurd|wysłano|wysłane|skickat|sendt|lähetetty|elküldve|отправлено|дата|"
            r"надіслано|gönderildi|tarih|发送时间|發送時間|日期|送信日時|日時|보낸 날짜|ngày gửi|"
            r"message du|sent at",
    "to": r"to|an|à|a|para|aan|do|till|til|vastaanottaja|címzett|кому|kime|收件人|宛先|"
          r"받는 사람|받는사람|người nhận|per|pour",
    "subject": r"subject|betreff|objet|sujet|asunto|assunto|oggetto|onderwerp|temat|ämne|emne|"
               r"aihe|tárgy|тема|konu|主题|主旨|件名|제목|chủ đề|re",
    "cc": r"cc|kopie|copie à|cópia|copia|kopia|kopio|копия|抄送|副本",
    "reply": r"reply-to|répondre à|antwort an|responder a|risposta|svara till",
}
_KEY_FORM = r"^\s*[>]?\s*\*?(?:{})\s*\*?\s*[:：]"
_KEY_RE = {meaning: re.compile(_KEY_FORM.format(words), re.IGNORECASE) for meaning, words in HEADER_KEYS.items()}
# Any of them: matches exactly when one of them does (one pass for the many lines that match none).
_ANY_KEY = re.compile(_KEY_FORM.format("|".join(HEADER_KEYS.values())), re.IGNORECASE)
_MAX_HEADER_LINES = 4
_MAX_HEADER_SPAN = 7


def is_quoted(line: str) -> bool:
    """Whether a line carries a ``>`` quote marker (RFC 3676 style)."""
    return line.lstrip().startswith(">")


def is_plain(line: str) -> bool:
    """Whether ``line`` can start no quote and no marker but a one-line one: a forward intro
    ("Begin forwarded message:"), a header block ("From: …", ``header_block_span``) or, for
    the caller, a mobile footer. True for most lines of prose, and cheap to tell.

    Why: without ``>`` it is not quoted. Without ``_STRONG_START``, a digit, ``@`` or ``<``,
    ``_header_span_from`` reads it alone (``_is_attribution(line, first=True)``), and that
    is False without a digit, ``@`` or ``--``: ``_GMAIL_DATE`` needs digits, ``_DASH_FRAMED``
    needs ``--``, every other way out needs a digit or ``@``. ``_SPLITTER`` and the signature
    delimiter need ``--``, ``_UNDERSCORES`` needs ``__``. (``\\d`` is any Unicode digit, in
    ``_MARKS`` as in those patterns.) tests/inbound/test_extract_equivalence.py checks it.
    """
    marks = _ASCII_MARKS if line.isascii() else _MARKS  # on ASCII text \d is [0-9]: faster
    return not (marks.search(line) or "--" in line or "__" in line or _STRONG_START.match(line))


def header_span(lines: list[str], i: int, spans: dict[int, int] | None = None) -> int:
    """Lines taken by an attribution line ("On … wrote:") starting at ``i``; 0 if none.

    Gmail wraps a long attribution over two or three lines, and Polymail puts blank lines
    and a lone ``<`` inside it, so up to four non-blank lines are joined. A start that
    also matches one line later belongs to that later line (the text above stays text).
    ``spans``: what was found from each line so far, for a caller that reads every line.
    """
    if not lines[i].strip() or len(lines[i]) > 400:
        return 0
    span = _span_from(lines, i, spans)
    if span > 1 and _later_start(lines, i, spans):
        return 0
    return span


def _span_from(lines: list[str], i: int, spans: dict[int, int] | None) -> int:
    if spans is None:
        return _header_span_from(lines, i)
    if i not in spans:
        spans[i] = _header_span_from(lines, i)
    return spans[i]


def _later_start(lines: list[str], i: int, spans: dict[int, int] | None = None) -> bool:
    """Whether a header found from line ``i`` really starts at ``i + 1``: line ``i`` is a
    finished sentence, or line ``i + 1`` opens like an attribution and line ``i`` does not
    ("Thanks" / "On Tue, … wrote:" against Gmail's "On Tue, … Name <" / "a@b> wrote:")."""
    nxt = next((k for k in range(i + 1, len(lines)) if lines[k].strip()), len(lines))
    following = _span_from(lines, nxt, spans) if nxt < len(lines) else 0
    if not following:
        return False
    if _SENTENCE_END.search(lines[i]) or (nxt > i + 1 and not _STRONG_START.match(lines[i])):
        return True
    return bool(_STRONG_START.match(lines[nxt])) and (
        following == 1 or not _STRONG_START.match(lines[i]))


def _header_span_from(lines: list[str], i: int) -> int:
    if not lines[i].strip() or len(lines[i]) > 400:
        return 0
    if not (_STRONG_START.match(lines[i]) or _PLAUSIBLE.search(lines[i])):
        return 1 if _is_attribution(lines[i], first=True) else 0
    # Blank lines inside an attribution only after a clear opening (Polymail's "On … Name").
    blanks_ok = bool(_STRONG_START.match(lines[i])) and not _SENTENCE_END.search(lines[i])
    joined, used, crossed = "", 0, False
    for k in range(i, min(len(lines), i + _MAX_HEADER_SPAN)):
        if not lines[k].strip():
            if not blanks_ok:
                break
            crossed = True
            continue
        if used and not _continues_header(lines[k], lines[k - 1], crossed):
            break
        joined = f"{joined} {lines[k].strip()}" if joined else lines[k].strip()
        used += 1
        if len(joined) > 400:
            break
        if _is_attribution(joined, first=used == 1):
            return k - i + 1
        if used >= _MAX_HEADER_LINES:
            break
    return 0


def _continues_header(line: str, previous: str, crossed: bool) -> bool:
    """Whether ``line`` can be the wrapped rest of an attribution: not a new "On …" opening,
    not a quoted line (bar Gmail's ">:"), not past a finished sentence across a blank line."""
    if _WORD_START.match(line):
        return False
    if is_quoted(line) and not _closes_header(line):
        return False
    return not (crossed and _SENTENCE_END.search(previous))


def _closes_header(line: str) -> bool:
    # Gmail breaks "<a@b>:" so that the next line starts with ">:" or "> wrote:".
    return bool(re.match(r"^\s*>\s*[:：]?\s*$", line) or _WROTE_END.search(line))


def _is_attribution(text: str, first: bool) -> bool:
    text = text.lstrip("> ").strip()
    if not _DIGIT_OR_AT.search(text) and "--" not in text:
        return False  # every way to True below needs a digit, an "@" or "--" (``_DASH_FRAMED``)
    if first and _GMAIL_DATE.match(text):
        return True
    # The verb ends the line: search only its last characters (lookbehind still sees before).
    if _ends_with_verb(text):
        if _DASH_FRAMED.match(text):
            return True
        if not _ENDS_COLON.search(text) and not _STARTS_ON.match(text):
            return False
        return bool(_DIGIT_OR_AT.search(text))
    if text.endswith((":", "：")) and _WROTE_RE.search(text) and re.search(r"\d", text):
        return True  # Gmail German: "Name <a@b> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:"
    if not text.endswith((":", "：")):
        return False
    return bool(_ADDRESS_COLON.search(text) and re.search(r"\d", text))


def _ends_with_verb(text: str) -> bool:
    """``_WROTE_END.search(text, max(0, len(text) - 60))``: the verb ends the line (searched in
    its last characters only; the lookbehind still sees before), found with less searching.

    A verb that matches ends where the text ends without the blanks, colons and dashes at its
    end (all the pattern allows after it; no verb ends on one of them): at ``_verb_end``. So
    the search starts ``_VERB_WINDOW`` characters before that, more than any verb with one
    blank in it (10 characters at most, "va escriure"); a verb with a longer blank run inside
    ("a      écrit") is looked for in the whole range only when the text has such a run.
    """
    end, start = _verb_end(text), max(0, len(text) - 60)
    if end <= 0:
        return False
    if _WROTE_END.search(text, max(start, end - _VERB_WINDOW)):
        return True
    return end - _VERB_WINDOW > start and bool(_LONG_BLANK.search(text, start, end)) and bool(
        _WROTE_END.search(text, start))


def _verb_end(text: str) -> int:
    """Where a verb closing ``text`` would end (see ``_ends_with_verb``); 0 when none can: the
    text ends there on a sentence's punctuation, which closes no verb."""
    rest = text
    while True:
        shorter = rest.rstrip().rstrip(":：-")
        if shorter == rest:
            return len(rest) if rest and rest[-1] not in _NO_VERB_END else 0
        rest = shorter


def splitter_span(lines: list[str], i: int) -> int:
    """Lines taken by a separator that starts older mail ("-----Original Message-----",
    "Begin forwarded message:", Outlook's underscore rule); 0 if none."""
    line = lines[i]
    if len(line) > 300:
        return 0
    if _SPLITTER.match(line) or is_forward_intro(line):
        return 1
    if _UNDERSCORES.match(line):
        return 1
    return 0


def is_forward_intro(line: str) -> bool:
    """Whether a line is a bare "Begin forwarded message:" (Apple Mail and others)."""
    return len(line) <= 300 and bool(_FORWARD_INTRO.match(line))


def header_block_span(lines: list[str], i: int) -> int:
    """Lines taken by an Outlook-style header block ("From: … / Sent: … / To: … / Subject: …",
    in any of our languages, bold ``*From:*`` as Gmail renders it) starting at ``i``; 0 if none.

    One "From:" line inside a message is not a block: two different header names must
    appear within a few lines, allowing wrapped values and blank lines between them.
    """
    first = _meaning(lines[i])
    if first is None:
        return 0
    seen, last, gap = {first}, i, 0
    for k in range(i + 1, min(len(lines), i + 9)):
        meaning = _meaning(lines[k])
        if meaning is not None:
            seen.add(meaning)
            last, gap = k, 0
        elif lines[k].strip():
            gap += 1
            if gap > 2:
                break
    return last - i + 1 if len(seen) >= 2 else 0


def _meaning(line: str) -> str | None:
    if len(line) > 300 or (":" not in line[:40] and "：" not in line[:40]) or not _ANY_KEY.match(line):
        return None
    for meaning, pattern in _KEY_RE.items():
        if pattern.match(line):
            return meaning
    return None


def history_span(lines: list[str], i: int) -> int:
    """Lines taken by any marker of older mail at ``i``: attribution, splitter or header block."""
    return header_span(lines, i) or splitter_span(lines, i) or header_block_span(lines, i)


def quote_block_end(lines: list[str], i: int) -> int:
    """Index just past the ``>`` block starting at ``i``.

    Clients that re-wrap quoted text leave a stray unquoted line between two quoted ones
    ("…pharetra d" / "ignissim odio?" / "> …"); such a line belongs to the quote.
    """
    n = len(lines)
    k = i
    while k < n:
        if lines[k].lstrip().startswith(">"):  # is_quoted, written out: a quote has many lines
            k += 1
            continue
        if lines[k].strip() and k + 1 < n and is_quoted(lines[k + 1]) and k > i:
            k += 1
            continue
        if lines[k].strip() and k + 2 < n and lines[k + 1].strip() and is_quoted(lines[k + 2]) and k > i:
            k += 2
            continue
        break
    return k


def unquote(line: str) -> str:
    """The line without its ``>`` markers (for looking inside a quote block)."""
    return re.sub(r"^(\s*>)+\s?", "", line)


def quote_starts_with_history(lines: list[str], i: int, end: int) -> bool:
    """Whether the ``>`` block lines[i:end] opens with an attribution, splitter or header block
    (Apple Mail on iOS quotes its own "On … wrote:"; a quoted forward starts with one)."""
    inner = [unquote(line) for line in lines[i:end]]
    for k, line in enumerate(inner):
        if line.strip():
            return bool(history_span(inner, k))
    return False
