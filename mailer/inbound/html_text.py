"""HTML bodies to readable text with the stdlib parser, marking where quoted history begins.

Clients wrap the message being answered in recognisable elements: Gmail a ``gmail_quote``
div, Outlook on the web a ``divRplyFwdMsg`` div after an ``appendonsend`` marker, Outlook
desktop a div whose top border draws the rule above "From:", Apple Mail and Thunderbird a
``<blockquote type="cite">``, Hotmail an ``<hr id="stopSpelling">``, Zimbra ``<hr id="zwchr">``.
The converter records the line where the first of these starts; blockquotes become ``> ``
lines so the plain-text rules can still find a bottom-posted answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_SKIP = {"style", "script", "head", "title", "xml", "template"}
_BLOCK = {"p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
          "section", "article", "header", "footer", "dl", "dt", "dd", "center", "address",
          "blockquote", "hr", "form", "fieldset"}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
# Class and id values that open quoted history, by client.
_QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "outlookmessageheader",
                  "zmail_extra", "protonmail_quote", "x_gmail_quote", "ms-outlook-mobile-reference-message")
_QUOTE_CLASS_SET = frozenset(_QUOTE_CLASSES)
_QUOTE_IDS = ("divrplyfwdmsg", "appendonsend", "olk_src_body_section", "stopspelling", "zwchr",
              "reply-intro", "x_divrplyfwdmsg", "mail-editor-reference-message-container")
# The converter reads only this much of an HTML body (stdlib html.parser does about 0.3 MB/s on
# tag-dense markup); what a person just wrote is at the top, and the quote usually starts early.
MAX_HTML_CHARS = 100_000
# Outlook desktop: <div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
_BORDER_TOP = re.compile(r"border-top:\s*solid|border-top-style:\s*solid", re.IGNORECASE)


@dataclass
class HtmlText:
    """The text of an HTML body and the index of the line where quoted history starts."""

    lines: list[str] = field(default_factory=list)
    quote_line: int | None = None

    @property
    def text(self) -> str:
        """All the text, quotes rendered with ``> `` markers."""
        return "\n".join(self.lines)

    @property
    def before_quote(self) -> str:
        """The text above the first quote container (all of it when there is none)."""
        end = len(self.lines) if self.quote_line is None else self.quote_line
        return "\n".join(self.lines[:end])


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.result = HtmlText()
        self.line: list[str] = []
        self.line_has_text = False
        self.skip = 0
        self.pre = 0
        self.depth = 0  # blockquote nesting
        self.lists: list[list[int]] = []  # [ordered?, counter]

    # -- structure -------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if self.result.quote_line is None and _opens_quote(tag, dict(attrs)):
            self.newline()
            self.result.quote_line = len(self.result.lines)
        self._open(tag)

    def _open(self, tag: str) -> None:
        if tag == "br":
            self.newline(force=True)
        elif tag == "li":
            self.newline()
            self.line.append(self._bullet())
        elif tag in _BLOCK:
            self.newline()
            if tag == "blockquote":
                self.depth += 1
            elif tag == "pre":
                self.pre += 1
            elif tag in ("ul", "ol"):
                self.lists.append([tag == "ol", 0])

    def _bullet(self) -> str:
        if not self.lists:
            return "- "
        ordered = self.lists[-1]
        ordered[1] += 1
        return f"{ordered[1]}. " if ordered[0] else "- "

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip or tag in _VOID:
            return
        if tag in _BLOCK or tag == "li":
            self.newline()
            if tag == "blockquote":
                self.depth = max(0, self.depth - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
            elif tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            if tag in _PARAGRAPH:
                self.blank()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        data = data.replace("\xa0", " ").replace("\r", "")
        if self.pre:
            parts = data.split("\n")
            for k, part in enumerate(parts):
                if k:
                    self.newline(force=True)
                self.line.append(part)
            return
        text = re.sub(r"\s+", " ", data)
        if not self.line_has_text:
            text = text.lstrip()
        if text:
            self.line.append(text)
            self.line_has_text = True

    # -- lines -------------------------------------------------------------------------------
    def newline(self, force: bool = False) -> None:
        text = "".join(self.line).strip() if not self.pre else "".join(self.line).rstrip()
        self.line = []
        self.line_has_text = False
        if text or force:
            self.result.lines.append(("> " * self.depth) + text)

    def blank(self) -> None:
        lines = self.result.lines
        if lines and lines[-1].strip(" >"):
            lines.append((">" * self.depth).strip())


def _opens_quote(tag: str, attrs: dict[str, str | None]) -> bool:
    if not attrs:
        return False
    classes = (attrs.get("class") or "").lower()
    ident = (attrs.get("id") or "").lower()
    if classes and not _QUOTE_CLASS_SET.isdisjoint(classes.split()):
        return True
    if ident and any(ident == name or ident.startswith(name) for name in _QUOTE_IDS):
        return True
    if tag == "blockquote" and (attrs.get("type") or "").lower() == "cite":
        return True
    style = attrs.get("style") or ""
    return tag == "div" and bool(_BORDER_TOP.search(style)) and "padding" in style.lower()


def html_to_text(html: str) -> HtmlText:
    """Convert an HTML body to text lines (paragraphs, line breaks and list items kept);
    never raises: broken markup gives whatever text could be read. Only the first
    ``MAX_HTML_CHARS`` characters are read."""
    converter = _Converter()
    try:
        converter.feed((html or "")[:MAX_HTML_CHARS])
        converter.close()
    except Exception:  # noqa: BLE001 - html.parser can assert on hostile markup
        pass
    converter.newline()
    result = converter.result
    if result.quote_line is None:
        result.lines = _squeeze(result.lines)
        return result
    before = _squeeze(result.lines[:result.quote_line])
    result.lines = before + _squeeze(result.lines[result.quote_line:])
    result.quote_line = len(before)
    return result


def _squeeze(lines: list[str]) -> list[str]:
    """Collapse runs of blank lines (an email's nested divs produce many) to one."""
    out: list[str] = []
    for line in lines:
        if not line.strip(" >") and out and not out[-1].strip(" >"):
            continue
        out.append(line.rstrip())
    return out
