"""A tiny, safe Markdown-to-HTML converter for activity texts.

Only what a challenge activity needs: paragraphs, ``-``/``*`` bullet lists, ``1.`` numbered
lists, ``**bold**``, ``*italic*``, ```code``` and ``[text](https://…)`` links. Everything is
HTML-escaped first, so nothing in the text can inject markup; links must be http(s) or mailto.
``to_text`` gives the plain-text part: the same text without the marks ("**bold**" reads
"bold", a link reads "text (url)"), lists and paragraphs kept as they are.
"""
from __future__ import annotations

import html
from functools import lru_cache
import re

from markupsafe import Markup

BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:)[^)\s]+)\)")
CODE = re.compile(r"`([^`]+)`")
BOLD = re.compile(r"\*\*(.+?)\*\*")
ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*]+?)\*(?![\w*])")


def inline(text: str) -> str:
    """Escape a line and apply code, links, bold and italic (code spans are left alone)."""
    parts = CODE.split(text)
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(f"<code>{html.escape(part)}</code>")
            continue
        escaped = html.escape(part, quote=False)
        escaped = LINK.sub(lambda m: f'<a href="{html.escape(html.unescape(m.group(2)))}">{m.group(1)}</a>', escaped)
        escaped = BOLD.sub(r"<strong>\1</strong>", escaped)
        out.append(ITALIC.sub(r"<em>\1</em>", escaped))
    return "".join(out)


def blocks(text: str) -> list[list[str]]:
    """Split into blocks at blank lines."""
    found: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            found[-1].append(line)
        elif found[-1]:
            found.append([])
    return [b for b in found if b]


def _block_html(lines: list[str]) -> str:
    for pattern, tag in ((BULLET, "ul"), (NUMBERED, "ol")):
        if all(pattern.match(line) or line.startswith("  ") for line in lines) and pattern.match(lines[0]):
            return _list_html(lines, pattern, tag)
    # Markdown's soft wrap: lines of one paragraph flow together.
    return "<p>" + inline(" ".join(line.strip() for line in lines)) + "</p>"


def _list_html(lines: list[str], pattern: re.Pattern, tag: str) -> str:
    items: list[str] = []
    for line in lines:
        match = pattern.match(line)
        if match:
            items.append(match.group(1).strip())
        else:  # an indented continuation of the previous item
            items[-1] += " " + line.strip()
    return f"<{tag}>" + "".join(f"<li>{inline(item)}</li>" for item in items) + f"</{tag}>"


@lru_cache(maxsize=256)
def to_html(text: str) -> Markup:
    """Markdown text as safe HTML (a Markup, so templates do not escape it again).

    Cached: a day's activity is the same text in every participant's email."""
    return Markup("\n".join(_block_html(b) for b in blocks(text)))


def paragraphs_html(text: str) -> Markup:
    """Plain text (someone's journal) as escaped HTML paragraphs, line breaks kept."""
    return Markup("\n".join("<p>" + "<br>\n".join(html.escape(line) for line in b) + "</p>"
                            for b in blocks(text)))


def inline_text(line: str) -> str:
    """One line without inline marks: links as "text (url)", no ``**``, ``*`` or backticks."""
    parts = CODE.split(line)
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(part)  # code reads as itself
            continue
        part = LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", part)
        part = BOLD.sub(r"\1", part)
        out.append(ITALIC.sub(r"\1", part))
    return "".join(out)


def to_text(text: str) -> str:
    """Markdown as plain text for the text part of an email: paragraphs flowed onto one
    line each, list items one per line, inline marks removed."""
    return "\n\n".join(_block_text(b) for b in blocks(text))


def _block_text(lines: list[str]) -> str:
    for pattern in (BULLET, NUMBERED):
        if all(pattern.match(line) or line.startswith("  ") for line in lines) and pattern.match(lines[0]):
            return "\n".join(inline_text(line.rstrip()) for line in lines)
    return inline_text(" ".join(line.strip() for line in lines))
