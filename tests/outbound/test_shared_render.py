"""Issue 25: CSS inlined once per shape of email gives the very bytes inlining each email gives.

Every kind of email the service sends (``mailer.preview.kinds``), rendered from the sample, is
inlined both ways; then each one's texts and links are swapped for awkward ones (entities,
markup characters, quotes, no-break spaces, line ends, other scripts) and compared again, and a
second email of the same shape must come from the kept skeleton.
"""
from __future__ import annotations

import random
import re
from types import SimpleNamespace

import pytest

from mailer.config import load_settings
from mailer.outbox import render_plan
from mailer.outbound import render as rendering
from mailer.outbound.shared_render import SharedInliner
from mailer.preview import kinds
from mailer.preview.world import scratch

AWKWARD = ("Zoë & “Al” <b>", "a &amp; b &lt;c&gt; &middot; &#39;x&#39; &nbsp;", "x\r\ny\rz", "日本語のテキスト",
           "'single' \"double\"", "tab\there", "\u00a0\u00a0", "&notin; &not &ampx", "> < >>")
LINKS = ("https://example.test/u/abc?x=1&y=2", 'https://example.test/"q"', "mailto:a@b.test?subject=Hi%20there",
         "https://example.test/\u00a0&amp;")


def _pages(tmp_path) -> list[str]:
    """The HTML each kind renders to, before its CSS is inlined."""
    (tmp_path / "mailer.toml").write_text('[mailer]\ndata = "none"\naddress = "cop@example.test"\n')
    settings = load_settings(tmp_path, env={})
    pages: list[str] = []
    real = rendering._shared_inliner
    recorder = SimpleNamespace(inline=lambda page: pages.append(page) or page)
    rendering._shared_inliner = lambda: recorder
    world = scratch(None, tmp_path, None)
    try:
        for kind in kinds.KINDS:
            plan, person = kinds.plan(world, kind.name, None, settings)
            render_plan(plan, person, "ABCDEFGHIJKLMNOP", settings)
    finally:
        rendering._shared_inliner = real
        world.db.close()
    return pages


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[str]:
    return _pages(tmp_path_factory.mktemp("preview"))


def test_every_kind_inlines_to_the_same_bytes(pages):
    direct = rendering._inliner().inline
    shared = SharedInliner(direct)
    assert len(pages) >= 30
    for page in pages:
        assert shared.inline(page) == direct(page)


def _mutated(page: str, rng: random.Random) -> str:
    def text(m: re.Match) -> str:
        inner = m.group(1)
        return f">{rng.choice(AWKWARD)}<" if inner.strip() and rng.random() < 0.5 else m.group(0)

    page = re.sub(r">([^<>]+)<", text, page.split("</style>", 1)[1]) if "</style>" in page else page
    return re.sub(r'href="[^"]*"', lambda m: f'href="{rng.choice(LINKS)}"', page)


def test_awkward_texts_and_links_inline_to_the_same_bytes(pages):
    direct = rendering._inliner().inline
    rng = random.Random(25)
    for page in pages:
        head = page.split("</style>", 1)[0] + "</style>" if "</style>" in page else ""
        shared, calls = SharedInliner(direct), [0]
        counting = SharedInliner(lambda p: calls.__setitem__(0, calls[0] + 1) or direct(p))
        for _ in range(4):
            other = head + _mutated(page, rng)
            assert shared.inline(other) == direct(other)
            counting.inline(other)
        assert calls[0] <= 4


def test_a_day_of_emails_is_inlined_once_per_shape(pages):
    calls = [0]
    direct = rendering._inliner().inline
    shared = SharedInliner(lambda p: calls.__setitem__(0, calls[0] + 1) or direct(p))
    day = next(p for p in pages if "Reply to this email to journal" in p)
    names = ["Ana", "Bo &amp; Co", "Zoë &lt;Z&gt;", "Kenji 健二"]  # as jinja escapes them
    for name in names:
        page = day.replace("Hi ", f"Hi {name} ", 1)
        assert shared.inline(page) == direct(page)
    assert calls[0] == 1


def test_what_the_parser_reads_apart_is_inlined_whole():
    calls: list[str] = []
    shared = SharedInliner(lambda p: calls.append(p) or p)
    for page in ('<style>a[href^="mailto"] { color: red }</style><p><a href="mailto:x@y">x</a></p>',
                 "<style>p { color: red }</style><pre>\nkept</pre>", "<p>\ue000 0\ue001</p>",
                 '<p title="a > b">x</p>', "<!-- a > b --><p>x</p>"):
        shared.inline(page)
        assert calls[-1] == page  # handed over whole, not as a skeleton
