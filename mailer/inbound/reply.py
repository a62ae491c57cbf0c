"""The new text of a reply: what the person wrote now, without quoted history or signature.

``extract_reply`` works on plain text; ``reply_text`` picks the best body of a parsed
message (the plain part, else the HTML part cut at its quote container and converted).
Given the text of the email being answered (``answered``: we sent it, the outbox has it),
every stretch of the reply that quotes it is history too, however the client marked it
(``inbound.history``). Both are pure and never raise. Every line they return is a line of
the input (whitespace at its end trimmed), so they can lose text but never invent it.
"""
from __future__ import annotations

from typing import Sequence

from mailer.inbound.history import leaves_history, mark_history
from mailer.inbound.html_text import HtmlText, html_to_text
from mailer.inbound.message import ParsedMessage
from mailer.inbound.quotes import (
    header_block_span,
    header_span,
    is_forward_intro,
    is_plain,
    is_quoted,
    quote_block_end,
    quote_starts_with_history,
    splitter_span,
)
from mailer.inbound.signature import is_mobile_footer, is_signature_delimiter, strip_signature

# A reply is read from its top; a pathological body is not scanned past this many lines or
# characters (a journal entry keeps at most 20,000 characters; quotes and signature may follow).
MAX_LINES = 20_000
MAX_CHARS = 100_000


def extract_reply(text: str, sender_name: str | Sequence[str] | None = None,
                  answered: str | None = None) -> str:
    """The text the person wrote in this reply (plain text in, plain text out).

    Removes ``>`` quote blocks with their "On … wrote:" lines, Outlook header blocks and
    "Original Message" separators (with everything below them), the signature, mobile
    footers and disclaimers. An answer written below a quote (bottom-posting) is kept.
    ``sender_name`` (the From display name, or several names) lets a closing "Thanks, Anna" go too.
    ``answered`` (the text of the email this reply answers) removes every stretch quoting it,
    with the attribution line above it, however the client marked it.
    """
    if not isinstance(text, str) or _blank(text):
        return ""
    try:
        return _extract(text, sender_name, answered)
    except Exception:  # noqa: BLE001 - never lose a reply to a bug: hand back the whole text
        return text.strip()


def reply_text(msg: ParsedMessage, known_name: str | None = None, answered: str | None = None) -> str:
    """The new text of a parsed reply: its plain part, else its HTML part as text.

    ``known_name`` is the sender's name as we know it (the people store): a bare first name
    under a sign-off ("Best regards,\nTokyo") is recognised even when From has no display name.
    ``answered``: the text of the email it answers, as for ``extract_reply``.
    """
    names = tuple(dict.fromkeys(n for n in (msg.from_name, known_name) if n and n.strip())) or None
    if msg.text and not _blank(msg.text):
        found = extract_reply(msg.text, names, answered)
        if found:
            return found  # the HTML part is not read (it is decoded on first use)
    return html_reply(msg.html or "", names, answered)


def reply_from_parts(text: str | None, html: str | None,
                     sender_name: str | Sequence[str] | None = None, answered: str | None = None) -> str:
    """Like ``reply_text`` for bodies already decoded: the plain part wins when it yields
    anything; the HTML part is cut at its quote container (Gmail, Outlook, Apple Mail)."""
    if text and not _blank(text):
        found = extract_reply(text, sender_name, answered)
        if found or not html:
            return found
    return html_reply(html or "", sender_name, answered)


def html_reply(html: str, sender_name: str | Sequence[str] | None = None, answered: str | None = None) -> str:
    """The new text of an HTML body: the text above its first quote container, or, when
    nothing is written there (bottom-posting), the text-level rules over the whole body."""
    try:
        converted = html_to_text(html)
    except Exception:  # noqa: BLE001 - the converter is lenient; this is the last guard
        return ""
    if converted.quote_line is not None:
        above = extract_reply(_quote_marked(converted) if answered else converted.before_quote,
                              sender_name, answered)
        if above:
            return above
    return extract_reply(converted.text, sender_name, answered)


def _quote_marked(converted: HtmlText) -> str:
    """The text above the quote container, and the container's text as a ``>`` quote: what
    the text above is (an attribution we do not know: "Quoting …:") shows against the quote."""
    quote = converted.lines[converted.quote_line:]
    return "\n".join([converted.before_quote, *(f"> {line}" for line in quote)])


def _extract(text: str, sender_name: str | Sequence[str] | None, answered: str | None) -> str:
    text = text[:MAX_CHARS]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")[:MAX_LINES]
    found = _read(lines, sender_name, False)
    # Most replies are read right by the usual rules: the answered text is looked for in the
    # whole reply only when what they leave holds some of it (or ends with an attribution).
    if answered and leaves_history(found.split("\n"), answered):
        marked, cut = mark_history(lines, answered)
        return _read(marked, sender_name, cut)
    return found


def _read(lines: list[str], sender_name: str | Sequence[str] | None, cut: bool) -> str:
    """The new text by the usual rules; ``cut``: known history was marked in ``lines``."""
    kept, saw_history = _new_lines(lines)
    if not _has_text(kept) and not (saw_history or cut):
        return _tidy(lines)  # nothing but ">" lines with no attribution: the person's own
    return _tidy(strip_signature(kept, sender_name))


def _new_lines(lines: list[str]) -> tuple[list[str], bool]:
    """The lines outside quoted history, and whether any history marker was seen."""
    kept: list[str] = []
    saw_history = wrote = False  # wrote: a kept line has text (tracked, not rescanned: linear)
    spans: dict[int, int] = {}  # attribution spans found from each line (each line read once)
    i = 0
    while i < len(lines):
        if not lines[i].strip():  # a blank line starts nothing (``_history_step`` gives None)
            kept.append(lines[i])
            i += 1
            continue
        step = _history_step(lines, i, kept, wrote, spans)
        if step is None:
            kept.append(lines[i])
            wrote = True
            i += 1
            continue
        following, seen = step
        saw_history = saw_history or seen
        if following is None:
            break
        i = following
    return kept, saw_history


def _history_step(lines: list[str], i: int, kept: list[str], wrote: bool,
                  spans: dict[int, int]) -> tuple[int | None, bool] | None:
    """None when line ``i`` is the person's text; else where reading goes on (None: stop,
    everything below is old) and whether that was a marker of older mail. ``wrote``: some
    kept line has text."""
    line = lines[i]
    if is_plain(line):  # most lines of prose: no quote, no attribution (``quotes.is_plain``)
        return (None, True) if _ends_plain(lines, i) else None
    if is_quoted(line):
        end = quote_block_end(lines, i)
        opens_history = quote_starts_with_history(lines, i, end)
        if opens_history and wrote:
            return None, True  # a quoted "On … wrote:" or forward under the reply: all below is old
        return _after_gap(lines, end, kept), opens_history or wrote
    span = header_span(lines, i, spans)
    if span:
        after = _skip_blank(lines, i + span)
        if after < len(lines) and is_quoted(lines[after]):
            return _after_gap(lines, quote_block_end(lines, after), kept), True
        # "On … wrote:" over unquoted old text (Outlook, Gmail app) ends the reply, unless
        # nothing was written above it: then the answer is below (bottom-posting).
        return (None if wrote else after), True
    if _ends_reply(lines, i):
        return None, True
    return None


def _ends_reply(lines: list[str], i: int) -> bool:
    """Whether line ``i`` starts what is not the reply: a separator, a header block, a
    signature delimiter or a mobile footer (clients put the quote right below it)."""
    line = lines[i]
    return bool(splitter_span(lines, i) or header_block_span(lines, i)
                or is_signature_delimiter(line) or is_mobile_footer(line))


def _ends_plain(lines: list[str], i: int) -> bool:
    """``_ends_reply`` for a plain line: of its markers, only these can match one."""
    return bool(is_forward_intro(lines[i]) or header_block_span(lines, i) or is_mobile_footer(lines[i]))


def _after_gap(lines: list[str], i: int, kept: list[str]) -> int:
    """Where to go on after a removed quote: past blank lines when a blank line is already
    kept, so that a removed quote leaves one paragraph break, not two."""
    return _skip_blank(lines, i) if kept and not kept[-1].strip() else i


def _skip_blank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _blank(text: str) -> bool:
    """``not text.strip()`` without copying a long text."""
    return not text or text.isspace()


def _has_text(lines: list[str]) -> bool:
    return any(line.strip() for line in lines)


def _tidy(lines: list[str]) -> str:
    """Trailing spaces off every line, blank lines off both ends."""
    out = [line.rstrip() for line in lines]
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)
