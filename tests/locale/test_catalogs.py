"""The shipped catalogs: complete, reviewed, with the English placeholders, compiled, current,
and every command word they ask people to write is one the reply reader acts on."""
from __future__ import annotations

import re

import pytest
from babel.messages.plurals import get_plural

from mailer.inbound.commands import CONTEXTS, interpret
from mailer.locale import DOMAINS, translations
from mailer.locale import catalogs

SHIPPED = [(lang, domain) for lang in catalogs.TRANSLATED for domain in DOMAINS
           if catalogs.po_path(lang, domain).exists()]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%|\{\w*\}")


def _messages(lang: str, domain: str):
    return [m for m in catalogs.read_catalog(catalogs.po_path(lang, domain), lang) if m.id]


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_language_ships_every_domain_we_own():
    for lang in catalogs.TRANSLATED:
        for domain in ("base", "system", "challenge", "charter", "call", "meetup", "digest", "web"):
            assert catalogs.po_path(lang, domain).exists(), (lang, domain)


@pytest.mark.parametrize("lang,domain", SHIPPED)
def test_complete_and_reviewed(lang, domain):
    """No message is empty (every plural form included) or still marked fuzzy."""
    bad = [(m.id, "fuzzy" if m.fuzzy else "empty") for m in _messages(lang, domain)
           if m.fuzzy or not all(_strings(m))]
    assert not bad, f"{lang}/{domain}: {bad[:5]}"


@pytest.mark.parametrize("lang,domain", SHIPPED)
def test_placeholders_match_the_english(lang, domain):
    """Each translation uses exactly the English message's placeholders (a misspelt one would
    raise at render time, a missing one silently drop a value). A plural's singular form may
    leave out the count ("votre jour")."""
    for message in _messages(lang, domain):
        wanted = sorted(PLACEHOLDER.findall(_ids(message)[-1]))
        for said in _strings(message):
            found = sorted(PLACEHOLDER.findall(said))
            if isinstance(message.id, tuple) and found != wanted:
                found = sorted(found + [n for n in ("count", "num") if n in wanted and n not in found])
            assert found == wanted, (lang, domain, message.id, said)


@pytest.mark.parametrize("lang,domain", SHIPPED)
def test_plural_forms_are_the_languages_own(lang, domain):
    """Japanese has one form, German two, French and Spanish three (CLDR: "un million de
    personnes"), as Babel's rule for the locale says."""
    catalog = catalogs.read_catalog(catalogs.po_path(lang, domain), lang)
    assert catalog.num_plurals == get_plural(lang).num_plurals == {"ja": 1, "de": 2}.get(lang, 3)
    for message in catalog:
        if message.id and isinstance(message.id, tuple):
            assert len(_strings(message)) == catalog.num_plurals, (lang, message.id)


@pytest.mark.parametrize("lang,domain", SHIPPED)
def test_compiled_catalog_is_current(lang, domain):
    """The committed .mo is what its .po compiles to: run ``python -m mailer.locale compile``."""
    po = catalogs.po_path(lang, domain)
    assert po.with_suffix(".mo").read_bytes() == catalogs.compiled(catalogs.read_catalog(po, lang)), \
        f"{po.with_suffix('.mo')} is stale: python -m mailer.locale compile {domain}"


@pytest.mark.parametrize("domain", ["base", "system", "challenge", "charter", "call", "meetup", "digest", "web"])
def test_extracted_templates_are_current(domain):
    """Every marked message of the templates and code is in the .pot and in each .po: run
    ``python -m mailer.locale extract`` and ``update``."""
    found = {(m.context, m.id) for m in catalogs.extract(domain) if m.id}
    assert {(m.context, m.id) for m in catalogs.read_catalog(catalogs.pot_path(domain)) if m.id} == found
    for lang in catalogs.TRANSLATED:
        assert {(m.context, m.id) for m in _messages(lang, domain)} == found, (lang, domain)


def test_one_message_one_translation_across_domains():
    """Domains are merged into one catalog per language: a message two domains share must say
    the same in both, or one would silently win."""
    for lang in catalogs.TRANSLATED:
        said: dict = {}
        for domain in DOMAINS:
            if catalogs.po_path(lang, domain).exists():
                for m in _messages(lang, domain):
                    key = (m.context, _ids(m))
                    assert said.setdefault(key, (domain, _strings(m)))[1] == _strings(m), \
                        (lang, key, said[key][0], domain)


def command_words() -> list[tuple[str, str, str, str]]:
    """(language, reader context, English word, translation) for every ``command:CONTEXT``
    message of every shipped catalog."""
    found = []
    for lang, domain in SHIPPED:
        for m in _messages(lang, domain):
            if m.context and m.context.startswith("command:"):
                found.append((lang, m.context.partition(":")[2], m.id, m.string))
    return found


def test_command_words_are_marked():
    assert {(lang, word) for lang, _, word, _ in command_words() if lang == "de"} >= \
        {("de", "pause"), ("de", "resume"), ("de", "stop")}


@pytest.mark.parametrize("lang,context,english,said", command_words())
def test_every_command_word_is_one_the_reader_acts_on(lang, context, english, said):
    """A word an email tells people to write does, written alone, what the English word does,
    in the reader of the context it is marked with (``pgettext("command:journal", …)``)."""
    assert context in CONTEXTS
    meant = interpret(context, english)
    assert meant.intent not in ("unclear", "journal", "empty"), (context, english, meant)
    assert interpret(context, said).intent == meant.intent, (lang, context, english, said)
    assert interpret(context, said.upper() if lang != "ja" else said).intent == meant.intent


def test_translations_are_loaded_once_per_language():
    assert translations("de") is translations("de")
    assert translations("de").pgettext("command:journal", "pause") == "Pause"
    assert translations("ja").ngettext("%(num)s day", "%(num)s days", 5) == "%(num)s日"


def test_plurals_pick_the_right_form():
    """French and Spanish have three CLDR forms in the order one, many, other: 2 is "other"."""
    said = {lang: [translations(lang).ngettext("%(num)s day", "%(num)s days", n) % {"num": n} for n in (1, 2, 1000000)]
            for lang in ("de", "fr", "es", "ja")}
    assert said == {"de": ["1 Tag", "2 Tage", "1000000 Tage"], "fr": ["1 jour", "2 jours", "1000000 de jours"],
                    "es": ["1 día", "2 días", "1000000 de días"], "ja": ["1日", "2日", "1000000日"]}
