"""Recognising what follows the words a person wrote: signatures, mobile footers, disclaimers.

Conservative on purpose: a sign-off like "Thanks,\\nAnna" stays unless we know Anna is the
sender or a contact block (title, phone, web address) follows the name. Losing a journal
line is worse than keeping a name.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Sequence

_MAX_SIGNATURE_LINE = 200
# What a line of nothing but rules and dots is made of (``is_junk``; format characters too).
_JUNK = frozenset("-_=*~#+.•·ᐧ|")
# Dashes and slashes before a name ("-Anna", "— Anna"), blanks and punctuation after it.
_NAME_EDGES = re.compile(r"^[\s\-–—~/]+|[\s,.!]+$")
# RFC 3676 §4.3 signature delimiter "-- " (many clients drop the trailing space).
_SIG_DELIMITER = re.compile(r"^\s*--\s*$")

# Mobile and webmail footers, by language. Apps append a link: "Sent from TypeApp<http://…>".
_MOBILE = re.compile(
    r"^\s*[\(<\[]*\s*("
    r"sent (from|with|via|using|by|on)\b|sent from my|"
    r"get (\[)?outlook for|download outlook for|holen sie sich outlook|obtenir outlook|"
    r"obtener outlook|scarica outlook|skaffa outlook|"
    r"envoyé (de|depuis|à partir de|avec|du) |von meinem .* gesendet|gesendet (von|mit|vom) |"
    r"diese nachricht wurde von meinem .* gesendet|enviado (desde|do|de|con|com) |"
    r"inviato (da|dal|con) |verzonden (vanaf|met|van) |verstuurd (vanaf|met|van) |"
    r"wysłane (z|ze|przy) |skickat från |sendt fra |lähetetty |"
    r"отправлено (с|из) |надіслано з |從我的 |从我的|.{1,20}から送信|.{1,20}에서 보냄|"
    r"从我的|发自我的|寄自我的)",
    re.IGNORECASE)
_MOBILE_APOLOGY = re.compile(r"excuse|typo|brevity|pardon|entschuldig|disculp|désolé|scusa", re.I)
_LINKS = re.compile(r"<[^<>]*>|\[([^\]]*)\]\([^)]*\)|\(https?://[^)]*\)|https?://\S+")

# Closing words, by language (a line that is only this, optionally with a comma or "!").
VALEDICTIONS = (
    r"(best|kind|warm|warmest|many|with)?\s*(regards|wishes)|regards|best|cheers|thanks|"
    r"thank you|many thanks|thanks again|thx|sincerely|yours( truly| sincerely)?|"
    r"all the best|take care|cordially|respectfully|"
    r"(mit )?(freundlichen|besten|herzlichen|lieben|viele|liebe) grüß?(ss|ß)?e(n)?|grüße|gruß|lg|mfg|vg|"
    r"cordialement|bien (à vous|cordialement)|amicalement|bonne journée|merci|"
    r"saludos( cordiales)?|atentamente|un saludo|gracias|cumprimentos|atenciosamente|abraços|obrigad[oa]|"
    r"cordiali saluti|distinti saluti|saluti|grazie|"
    r"met vriendelijke groet(en)?|groet(en|jes)?|bedankt|"
    r"pozdrawiam|z poważaniem|dzięki|dziękuję|"
    r"med vänlig hälsning|vänliga hälsningar|hälsningar|mvh|hilsen|venlig hilsen|med venlig hilsen|"
    r"vennlig hilsen|tack|takk|tak|ystävällisin terveisin|terveisin|kiitos|"
    r"с уважением|спасибо|з повагою|дякую|此致|谢谢|よろしくお願いします|감사합니다"
)
_VALEDICTION = re.compile(rf"^\s*({VALEDICTIONS})\s*[,.!]*\s*$", re.IGNORECASE)
# A sign-off made of a dash and a name: "-Abhishek Kona", "— Ryan".
_DASH_NAME = re.compile(r"^\s*[-–—~]+\s*[A-ZÀ-Þ][\w'.-]*( [A-ZÀ-Þ][\w'.-]*){0,2}\s*$")
# Lines that make a block of contact details: phone, address on the web, title words.
_CONTACT = re.compile(
    r"\+?\d[\d ().-]{6,}\d|https?://|www\.|@|\b(tel|phone|mobile|mobil|cell|fax|skype|"
    r"ceo|cto|cfo|director|manager|engineer|founder|president|head of|inc|ltd|gmbh|llc|"
    r"s\.a\.|b\.v\.)\b|\|",
    re.IGNORECASE)
# Legal disclaimers start a paragraph with one of these.
_DISCLAIMER = re.compile(
    r"^\s*(this (e-?mail|message|communication)( message)? (and|is|may|contains|including)|"
    r"the information (contained|in this)|confidential(ity)? notice|disclaimer|"
    r"le informazioni contenute|ce (message|courriel) (et|est)|diese (e-?mail|nachricht) "
    r"(enthält|ist)|este (mensaje|correo)|esta mensagem|dit (e-?mail)?bericht)",
    re.IGNORECASE)


def is_mobile_footer(line: str) -> bool:
    """Whether a line is a client's "Sent from my iPhone"-like footer, not a sentence of the
    person's ("Sent from my desk, is much easier than my phone." stays)."""
    if len(line) > 200 or not _MOBILE.match(line):
        return False
    bare = _LINKS.sub(r"\1", line).strip()
    if "," in bare and not _MOBILE_APOLOGY.search(bare):
        return False
    return len(bare.split()) <= 10 or bool(_MOBILE_APOLOGY.search(bare))


def is_signature_delimiter(line: str) -> bool:
    """Whether a line is the ``-- `` signature delimiter."""
    return bool(_SIG_DELIMITER.match(line))


def is_junk(line: str) -> bool:
    """A line with nothing to read: rules of dashes, stars, a Gmail tracking dot (U+1427)."""
    for ch in line.strip():  # a loop, not all(): most lines are told by their first character
        if ch not in _JUNK and unicodedata.category(ch) != "Cf":
            return False
    return True


def strip_signature(lines: list[str], sender_name: str | Sequence[str] | None = None) -> list[str]:
    """Drop a sign-off block, a trailing disclaimer and trailing junk lines from the reply.

    ``sender_name``: the sender's name, or several (From display name, the name in our store)."""
    lines = _drop_disclaimer(lines)
    lines = _trim_end(lines)
    lines = _drop_signoff(lines, sender_name)
    return _trim_end(lines)


def _trim_end(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and is_junk(lines[end - 1]):
        end -= 1
    return lines[:end]


def _drop_disclaimer(lines: list[str]) -> list[str]:
    wrote = False  # some line above k has text (tracked as we go: linear)
    for k in range(1, len(lines)):
        wrote = wrote or bool(lines[k - 1].strip())
        if wrote and not lines[k - 1].strip() and _DISCLAIMER.match(lines[k][:200]):
            return lines[:k]
    return lines


def _drop_signoff(lines: list[str], sender_name: str | Sequence[str] | None) -> list[str]:
    body = [k for k, line in enumerate(lines) if line.strip()]
    if len(body) < 2:
        return lines
    last = body[-1]
    if _short(lines[last]) and (_DASH_NAME.match(lines[last]) or _is_sender(lines[last], sender_name)):
        return lines[:body[-2]] if _valediction_at(lines, body[-2]) else lines[:last]
    for pos in range(len(body) - 2, max(len(body) - 8, 0) - 1, -1):
        k = body[pos]
        if _valediction_at(lines, k) and pos > 0:
            if _signs_off(lines[k + 1:], sender_name):
                return lines[:k]
            return lines
    return lines


def _valediction_at(lines: list[str], k: int) -> bool:
    return _short(lines[k]) and bool(_VALEDICTION.match(lines[k]))


def _short(line: str) -> bool:
    # Signature lines are short; the length cap also keeps the regexes linear on hostile input.
    return len(line) <= _MAX_SIGNATURE_LINE


def _signs_off(tail: list[str], sender_name: str | Sequence[str] | None) -> bool:
    """Whether the lines after a valediction are a signature: the sender's name, or a name
    followed by contact details (title, company, phone, web)."""
    rest = [line for line in tail if line.strip()]
    if not rest or len(rest) > 6:
        return False
    if any(_is_sender(line, sender_name) for line in rest[:2]):
        return True
    return len(rest) >= 2 and _looks_like_name(rest[0]) and any(
        _short(x) and _CONTACT.search(x) for x in rest[1:])


def _looks_like_name(line: str) -> bool:
    words = line.strip().split()
    return 1 <= len(words) <= 4 and all(w[:1].isupper() or not w[:1].isalpha() for w in words)


def _is_sender(line: str, sender_name: str | Sequence[str] | None) -> bool:
    """Whether a line is the sender's name or first name; ``sender_name`` may list several
    (the From display name and the name we know the person by)."""
    names = (sender_name,) if isinstance(sender_name, str) else tuple(sender_name or ())
    text = _NAME_EDGES.sub("", line).casefold()
    return bool(text) and any(_is_name(text, name) for name in names if name)


def _is_name(text: str, sender_name: str) -> bool:
    name, first = _name_forms(sender_name)
    if not name:
        return False
    return text in (name, first) or (len(text.split()) <= 3 and text.startswith(first) and text in name)


@functools.lru_cache(maxsize=1024)
def _name_forms(sender_name: str) -> tuple[str, str]:
    """A name as a sign-off line is compared with it: whole and first word, case-folded."""
    name = sender_name.strip().strip('"').casefold()
    return name, (name.split()[0] if " " in name else name)


def _has_text(lines: list[str]) -> bool:
    return any(line.strip() for line in lines)
