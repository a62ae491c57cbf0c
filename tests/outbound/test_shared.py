"""Rendering once per shape (``outbound.shared``) gives the very bytes of the per-person render:
every email kind, in every language, for recipients whose names need escaping or cannot be
put in by marker at all; a template that changes a field it prints is rendered per person."""
from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from mailer import outbox
from mailer.locale import SOURCE
from mailer.locale.jinja import EXTENSIONS
from mailer.outbound import shared
from tests.locale.test_every_email import LANGUAGES, every_kind, world, written_once  # noqa: F401 (fixture)

BOUNDARY = re.compile(rb"=_[0-9a-f]{24}")  # random per message, like the Message-ID
NAMES = ["Anna Smith", "Zoë&<Bob> Smith", "Zoë & <Bob> \"Q\" O'Neil", "", "   ", "李 小龍", "&notin; x", "-", "Ann\u00a0Lee",
         "Tab\there", "x\u2028y", "Ünal Çelik-Øster"]
TOKEN = "abcdefghijklmnopqrstuvwx"


@pytest.fixture(scope="module")
def plans(world, tmp_path_factory):  # noqa: F811
    found = every_kind(world)
    found.update(written_once(world, tmp_path_factory.mktemp("revised")))
    return found


def both(plan, person, world, share_first: bool = True) -> tuple[bytes, bytes]:
    """The email composed once per shape and per person, with the same Message-ID, token and date."""
    w, settings = world
    made = {share: BOUNDARY.sub(b"=_B", outbox._compose(plan, person, "<m@x.test>", TOKEN, w.now, settings, share))
            for share in ((True, False) if share_first else (False, True))}
    return made[True], made[False]


def differences(plans, world, languages, names) -> list[str]:
    found = []
    for language in languages:
        for kind, (plan, person) in plans.items():
            for name in names:
                shared_bytes, full = both(plan, {**person, "language": language, "name": name}, world)
                if shared_bytes != full:
                    found.append(f"{kind} in {language} to {name!r}")
    return found


def test_every_kind_in_every_language_is_the_same_bytes_as_rendered_per_person(plans, world):  # noqa: F811
    before = shared.STATS.copy()
    assert differences(plans, world, (SOURCE, *LANGUAGES), NAMES) == []
    done = shared.STATS - before
    assert done["shared"] >= 0.8 * len(plans) * (len(LANGUAGES) + 1) * len(NAMES)  # not the fallback
    assert len(plans) >= 40


def test_the_comparison_fails_on_a_field_put_in_wrong(plans, world, monkeypatch):  # noqa: F811
    """The test above can fail: a marker filled without the inliner's escaping differs."""
    monkeypatch.setattr(shared, "_in_text", lambda value: value)
    shared._PAGES.clear()
    wrong = differences({k: plans[k] for k in ("day", "announcement")}, world, (SOURCE,),
                        ["Anna Smith", "Zoë&<Bob> Smith"])  # the first of a shape is rendered in full
    assert wrong == ["day in en to 'Zoë&<Bob> Smith'", "announcement in en to 'Zoë&<Bob> Smith'"]


def test_a_day_shares_one_render_among_its_recipients(plans, world):  # noqa: F811
    plan, person = plans["day"]
    shared._PAGES.clear()
    before = shared.STATS.copy()
    for n in range(20):
        both(plan, {**person, "id": n + 1, "name": f"Member {n}", "email": f"m{n}@example.org"}, world)
    done = shared.STATS - before
    assert done["shapes"] == 1 and done["shared"] == 19 and done["per person"] == 1  # the first


def env_of(**templates: str) -> jinja2.Environment:
    env = jinja2.Environment(extensions=EXTENSIONS, loader=jinja2.DictLoader(templates),
                             autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)))
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    return env


@pytest.mark.parametrize("source, field", [
    ("{{ name }}", True),
    ("{% if name %}<p>{{ name }}</p>{% endif %}", True),
    ("{% if name is defined and name %}{{ name }}{% endif %}", True),
    ('{% trans who=name %}Hi {{ who }}{% endtrans %}', True),
    ('{{ _("Hi %(who)s", who=_("dear %(n)s", n=name)) }}', True),
    ("{{ name | upper }}", False),
    ('{{ _("Hi %(who)s", who=name) | replace("i", "I") }}', False),
    ("{% if name == 'Anna' %}x{% endif %}", False),
    ("{{ name[0] }}", False),
    ("{% set shown %}<b>{{ name }}</b>{% endset %}{{ shown | upper }}", False),
    ("{% filter upper %}{{ name }}{% endfilter %}", False),
    ("{% macro m() %}{{ name }}{% endmacro %}{{ m() | upper }}", False),
    ("{% for c in name %}{{ c }}{% endfor %}", False),
    ("{{ name }}{{ name.split()[0] }}", False),
    ("{% trans count=name %}one{% pluralize %}many{% endtrans %}", False),
])
def test_a_name_is_a_field_only_when_printed_as_it_is_or_tested(source, field, monkeypatch):
    env = env_of(**{"t.txt.j2": source, "t.html.j2": source})
    monkeypatch.setattr(shared.full, "environment", lambda language=SOURCE: env)
    shared.fields.cache_clear()
    try:
        found = shared.fields("t")
    finally:
        shared.fields.cache_clear()
    assert found is not None and ("name" in found.names) is field


def test_a_field_used_in_an_included_template_counts(monkeypatch):
    env = env_of(**{"t.txt.j2": "{{ name }}{% include 'inc.j2' %}", "t.html.j2": "{{ name }}",
                    "inc.j2": "{{ name | length }}"})
    monkeypatch.setattr(shared.full, "environment", lambda language=SOURCE: env)
    shared.fields.cache_clear()
    try:
        assert "name" not in shared.fields("t").names
    finally:
        shared.fields.cache_clear()


@pytest.mark.parametrize("value, sayable", [
    ("Anna", True), ("", False), (" Anna", False), ("Anna ", False), ("a\nb", False), ("a\rb", False),
    ("a\x85b", False), ("a\u2028b", False), ("\ue000", False), ("-", False), ("--", False), ("a & b", True),
])
def test_a_value_is_put_in_by_marker_only_when_it_reads_back_the_same(value, sayable):
    assert (shared._sayable(value, SOURCE) is not None) is sayable


def test_a_value_of_an_unknown_kind_renders_per_person(plans, world):  # noqa: F811
    plan, person = plans["day"]

    class Odd:
        def __str__(self) -> str:
            return "odd"

    odd = plan.__class__(**{**plan.__dict__, "context": {**plan.context, "day_title": Odd()}})
    before = shared.STATS.copy()
    shared_bytes, full = both(odd, person, world)
    assert shared_bytes == full and b"odd" in full
    assert (shared.STATS - before)["per person"] == 1


@pytest.mark.parametrize("source", [
    "{% set x %}{% include 'inc.j2' %}{% endset %}{{ x | upper }}",
    "{% filter upper %}{% include 'inc.j2' %}{% endfilter %}",
    "{{ self.b() | upper }}{% block b %}{{ name }}{% endblock %}",
    "{% autoescape false %}{{ name }}{% endautoescape %}",
])
def test_output_that_reaches_the_page_changed_makes_the_template_per_person(source, monkeypatch):
    env = env_of(**{"t.txt.j2": "{{ name }}", "t.html.j2": source, "inc.j2": "{{ name }}"})
    monkeypatch.setattr(shared.full, "environment", lambda language=SOURCE: env)
    shared.fields.cache_clear()
    try:
        assert shared.fields("t") is None
    finally:
        shared.fields.cache_clear()


@pytest.mark.parametrize("html, shared_page", [
    ('<p title="{{ name }}">{{ name }}</p>', True),
    ("<p title='{{ name }}'>{{ name }}</p>", True),
    ("<p title={{ name }}>x</p>", False),  # "Anna Lee" would be two attributes
    ("<p {{ name }}>x</p>", False),
    ("<!-- {{ name }} --><p>x</p>", False),
    ("<p>&not{{ name }}</p>", False),  # "in;" would make one character of the entity
    ("<style>p[title] { color: red }</style><p>{{ name }}</p>", False),
])
def test_a_marker_is_put_in_only_in_text_or_a_quoted_value(html, shared_page, monkeypatch):
    env = env_of(**{"t.txt.j2": "{{ name }}", "t.html.j2": html})
    monkeypatch.setattr(shared.full, "environment", lambda language=SOURCE: env)
    page = shared.compile_page("t", {"name": "\ue0000\ue001"}, SOURCE, 1)
    assert (page is not None) is shared_page
    if page is not None:
        value = 'Anna "&" <Lee>'
        assert shared.fill(page, [value]) == shared.full.render("t", {"name": value}, SOURCE)


def test_every_message_puts_its_variables_in_as_they_are():
    """A field goes into a message by marker: a translation that pads or converts a variable
    (``%(name)-10s``, ``%(n)d``, ``%(x)r``) would make the marker's width or form differ from
    the value's. Every catalog writes ``%(name)s`` (or ``%%``) only."""
    root = Path(shared.__file__).resolve().parents[1] / "locale"
    files = sorted(root.glob("*.pot")) + sorted(root.glob("*/LC_MESSAGES/*.po"))
    assert len(files) >= 10
    odd = {f"{path.name}: {m}" for path in files for m in re.findall(r"%\(\w+\)[^s]", path.read_text("utf-8"))}
    assert odd == set()
