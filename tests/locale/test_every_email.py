"""Every email kind in every shipped language, rendered from the sample community as the
outbox composes it: no leftover English, and every command word it asks for is one the
reader of its replies acts on.

A flow's kinds are checked once its catalogs are shipped (``TRANSLATED_FLOWS``)."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from mailer.config import load_settings
from mailer.flows.base import PlannedEmail
from mailer.flows.challenge import emails as challenge_mail
from mailer.flows.registry import flow_for
from mailer.inbound.commands import interpret
from mailer.locale import DOMAINS, catalogs
from mailer.locale.text import Localized, Versions, _
from mailer.preview import kinds
from mailer.preview.render import rendered
from mailer.preview.world import scratch

TRANSLATED_FLOWS = {"challenge", "system", "charter", "call", "meetup", "digest", "web"}
LANGUAGES = catalogs.TRANSLATED
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("every-email")
    settings = load_settings(folder / "home")
    built = scratch(None, folder, None)
    yield built, settings
    built.db.close()


@pytest.fixture(scope="module")
def plans(world):
    """Every kind's plan, built once: building some (the answer to "pause") changes the world."""
    return every_kind(world)


def extra_plans(world) -> dict[str, tuple[PlannedEmail, dict]]:
    """The kinds ``preview`` has no name for: the other answers of the challenge flow, and the
    inbox's own answers."""
    w = world[0]
    person = kinds.person_dict(next(iter(w.db.query("SELECT * FROM people ORDER BY id LIMIT 1"))))
    challenge, today = w.challenge, date(2027, 1, 6)

    class File:  # what challenge emails read of a file that was not kept
        filename, size = "whiteboard.jpg", 14 * 1048576

    built = {
        "kept-early": challenge_mail.kept_early(challenge, person, today, "Re: hi", "<m@x>"),
        "files-not-kept": challenge_mail.files_not_kept(
            challenge, person, 3, ((File(), _("over the limit of %(max)s files per entry", max=5)),), "Re: Day 3", "<m@x>"),
        "joined": challenge_mail.status_change(challenge, person, "joined", w.now, "Day 3 arrives soon.", "Re: hi", None),
        "resumed": challenge_mail.status_change(challenge, person, "resumed", w.now, None, "Re: hi", None),
        "stopped": challenge_mail.status_change(challenge, person, "stopped", w.now, None, "Re: hi", None),
        "unrouted": PlannedEmail(key="system:unrouted", to=person["email"], subject="Re: hello",
                                 template="system/unrouted", context={"their_subject": "hello"}, auto_reply=True),
        "did-you-write": PlannedEmail(key="system:did", to=person["email"], subject=_("Did you write this? %(subject)s", subject="Re: x"),
                                      template="system/did_you_write", context={"their_subject": ""},
                                      auto_reply=True, reply_purpose="journal", reply_ref="challenge:1:day:1"),
        "lead-sign-in": PlannedEmail(key="web:lead-signin:person:1:n", to=person["email"],
                                     subject=_("Sign in to the lead page of %(site)s", site="Practice Community"),
                                     template="web/lead/signin_email",
                                     context={"link": "https://cop.example.org/lead/sign-in/TOKEN", "minutes": 15}),
    }
    return {name: (plan, person) for name, plan in built.items()}


def every_kind(world) -> dict[str, tuple[PlannedEmail, dict]]:
    w, settings = world
    found = {kind.name: kinds.plan(w, kind.name, None, settings) for kind in kinds.KINDS}
    found.update(extra_plans(world))
    return {name: plan for name, plan in found.items() if plan[0].template.split("/")[0] in TRANSLATED_FLOWS}


def english_messages() -> list[str]:
    """Each message of the shipped catalogs (its literal runs of a dozen characters and more)
    whose translations differ from it: if one shows in a translated email, something was
    left untranslated."""
    runs: set[str] = set()
    for domain in DOMAINS:
        path = catalogs.po_path("de", domain)
        if path.exists():
            for message in catalogs.read_catalog(path, "de"):
                for text in (message.id if isinstance(message.id, tuple) else (message.id,)):
                    runs.update(run.strip() for run in PLACEHOLDER.split(text or "") if len(run.strip()) >= 12)
    return sorted(runs)


def translated(language: str) -> str:
    """Every translation of ``language``'s catalogs, as one text: a run of English found there
    is the language's own word too ("participants" in French), not a leftover."""
    said = []
    for domain in DOMAINS:
        path = catalogs.po_path(language, domain)
        if path.exists():
            for message in catalogs.read_catalog(path, language):
                said.extend(message.string if isinstance(message.string, tuple) else (message.string or "",))
    return "\n".join(said)


def lead_text(value) -> list[str]:
    """What a lead or a member wrote in a plan's context (kept as written), not our sentences."""
    if isinstance(value, Versions):
        return [str.__str__(value), *value.versions.values()]
    if isinstance(value, Localized):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in lead_text(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in lead_text(v)]
    return []


def test_the_kinds_checked_include_every_challenge_email(plans):
    names = set(plans)
    assert {"announcement", "day", "partner", "nudge", "summary", "couldnt-read", "join-help", "paused",
            "entry-cut", "kept-early", "files-not-kept", "joined", "stopped", "unrouted"} <= names


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_leftover_english(world, plans, language):
    w, settings = world
    runs = english_messages()
    own = translated(language)
    for name, (plan, person) in plans.items():
        shown = rendered(plan, {**person, "language": language}, w.now, settings)
        english = rendered(plan, {**person, "language": "en"}, w.now, settings)
        written = "\n".join([*lead_text(plan.context), person["name"], settings.mailer_site_name])
        for part, text in (("subject", shown.subject), ("text", shown.text), ("html", shown.html)):
            left = [run for run in runs if run in text and run not in written and run not in own]
            assert not left, f"{name} in {language} ({part}) says in English: {left[:3]}"
        same = [line for line in shown.text.splitlines() if line in english.text.splitlines()
                and len(re.findall(r"[A-Za-z]{2,}", line)) >= 3 and line.strip().lstrip("> ") not in written]
        assert not same, f"{name} in {language}: lines left as in English: {same[:3]}"


QUOTED = re.compile(r"[\"“„«「]\s?([^\"“”„«»「」]{1,30}?)\s?[\"”“»」]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_word_an_email_asks_for_is_read_by_its_reader(world, plans, language):
    """Each command word quoted in an email ("Antworten Sie mit „Pause“") is read as what the
    English word means, by the reader its replies go to (the email's reply purpose)."""
    w, settings = world
    commands = command_words(language)
    checked = 0
    for name, (plan, person) in plans.items():
        purpose = plan.reply_purpose
        context = flow_for(purpose)[1] if purpose and flow_for(purpose) else None
        text = rendered(plan, {**person, "language": language}, w.now, settings).text
        for word in QUOTED.findall(text):
            meant = commands.get(word.strip())
            if meant is None:
                continue
            assert context == meant[0], f"{name}: asks for {word!r} ({meant[0]}) but replies are read as {context}"
            assert interpret(context, word).intent == interpret(context, meant[1]).intent, (name, word)
            checked += 1
    assert checked >= 10


def command_words(language: str) -> dict[str, tuple[str, str]]:
    """Translated command word -> (reader context, English word)."""
    found = {}
    for domain in DOMAINS:
        path = catalogs.po_path(language, domain)
        if path.exists():
            for m in catalogs.read_catalog(path, language):
                if m.context and m.context.startswith("command:"):
                    found[m.string] = (m.context.partition(":")[2], m.id)
    return found
