"""Markdown a lead writes (activities, descriptions, charter fields, news) for every part of an email.

One CommonMark parse (markdown-it-py) gives both the HTML part and the plain text used in the
text part and in an invitation's DESCRIPTION, so the three always say the same thing. Raw HTML
is off: ``<b>`` in a description reads as the characters "<b>", never as markup. Links must be
http(s) or mailto; anything else (``javascript:``, ``data:``) is left as the text that was
written. An image becomes a link to it: an email that loads a remote picture tells its sender
who opened it, and a lead's text should not do that to members. ``to_text`` drops the marks: "**bold**"
reads "bold", a link reads "text (url)", list items keep their "- " or "1. ".
"""
from __future__ import annotations

import html
from functools import lru_cache
from typing import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(SAFE_SCHEMES)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False})
    parser.validateLink = _safe_link  # type: ignore[method-assign]
    parser.add_render_rule("image", _image_as_link)
    return parser


def _image_as_link(self, tokens: list[Token], index: int, options, env) -> str:  # noqa: ANN001
    image = tokens[index]
    alt = self.renderInlineAsText(image.children or [], options, env) or "image"
    return f'<a href="{html.escape(str(image.attrGet("src")))}">{html.escape(alt)}</a>'


def parse(text: str) -> list[Token]:
    """The block tokens of ``text`` (CRLF and CR line ends read as LF)."""
    return _parser().parse(text.replace("\r\n", "\n").replace("\r", "\n"))


@lru_cache(maxsize=256)
def to_html(text: str) -> Markup:
    """Markdown text as safe HTML (a Markup, so templates do not escape it again).

    Cached: a day's activity is the same text in every participant's email."""
    return Markup(_parser().renderer.render(parse(text), _parser().options, {}).strip())


@lru_cache(maxsize=256)
def to_text(text: str) -> str:
    """The same text without marks, for a text part or a calendar DESCRIPTION: paragraphs
    flowed onto one line each, list items one per line, links as "text (url)"."""
    return "\n\n".join(block for block in _blocks(parse(text)) if block).strip()


@lru_cache(maxsize=256)
def inline_html(line: str) -> Markup:
    """One line of Markdown (a role's description) as safe inline HTML, with no paragraph around it."""
    text = line.replace("\r\n", " ").replace("\n", " ")
    return Markup(_parser().renderInline(text).strip())


def inline_text(line: str) -> str:
    """One line of Markdown without its marks (a title, a role's name)."""
    return to_text(line).replace("\n", " ")


def _blocks(tokens: list[Token]) -> Iterator[str]:
    """Plain-text blocks at one nesting level; lists come back as one block of lines."""
    index = 0
    while index < len(tokens):
        token = tokens[index]
        end = _close(tokens, index)
        if token.type in ("bullet_list_open", "ordered_list_open"):
            yield "\n".join(_list_lines(tokens[index + 1:end], token))
        elif token.type in ("paragraph_open", "heading_open"):
            yield _inline(tokens[index + 1].children or [])
        elif token.type in ("fence", "code_block"):
            yield token.content.rstrip("\n")
        elif token.type == "blockquote_open":
            yield "\n".join("> " + line for line in "\n\n".join(_blocks(tokens[index + 1:end])).split("\n"))
        index = end + 1


def _list_lines(tokens: list[Token], opener: Token) -> Iterator[str]:
    number = int(opener.attrGet("start") or 1)
    index = 0
    while index < len(tokens):
        end = _close(tokens, index)
        if tokens[index].type == "list_item_open":
            mark = "- " if opener.type == "bullet_list_open" else f"{number}. "
            number += 1
            body = "\n".join(_blocks(tokens[index + 1:end]))
            yield mark + body.replace("\n", "\n" + " " * len(mark))
        index = end + 1


def _close(tokens: list[Token], index: int) -> int:
    """The index of the token closing ``tokens[index]`` (itself when it opens nothing)."""
    if tokens[index].nesting != 1:
        return index
    depth, at = 0, index
    for at in range(index, len(tokens)):
        depth += tokens[at].nesting
        if depth == 0:
            break
    return at


def _inline(children: list[Token]) -> str:
    out: list[str] = []
    links: list[tuple[str, int]] = []
    for child in children:
        if child.type == "link_open":
            links.append((str(child.attrGet("href") or ""), len(out)))
        elif child.type == "link_close" and links:
            href, start = links.pop()
            shown = "".join(out[start:])
            if href.removeprefix("mailto:") != shown:
                out.append(f" ({href})")
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "image":
            out.append(f"{_inline(child.children or []) or 'image'} ({child.attrGet('src')})")
    return "".join(out)


def paragraphs_html(text: str) -> Markup:
    """Plain text (someone's journal) as escaped HTML paragraphs, line breaks kept."""
    found: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            found[-1].append(line)
        elif found[-1]:
            found.append([])
    return Markup("\n".join("<p>" + "<br>\n".join(html.escape(line) for line in b) + "</p>"
                            for b in found if b))
