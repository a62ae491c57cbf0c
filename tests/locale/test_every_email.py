"""Every email kind in every shipped language, rendered from the sample community as the
outbox composes it: no leftover English, and every command word it asks for is one the
reader of its replies acts on.

A flow's kinds are checked once its catalogs are shipped (``TRANSLATED_FLOWS``)."""
from __future__ import annotations

import email
import json
import email.policy
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from mailer.config import load_settings
from mailer.flows.base import PlannedEmail
from mailer.flows.call import emails as call_mail
from mailer.flows.call.flow import role_board
from mailer.flows.challenge import emails as challenge_mail
from mailer.flows.challenge import journal
from mailer.flows.charter import emails as charter_mail
from mailer.flows.charter import lifecycle, links
from mailer.flows.charter.flow import make_view
from mailer.flows.registry import flow_for
from mailer.inbound.commands import interpret
from mailer.locale import DOMAINS, catalogs
from mailer.locale.text import Joined, Localized, Text, Versions, _
from mailer.preview import kinds
from mailer.preview.render import rendered
from mailer.preview.world import SAMPLE_CHARTER, scratch
from mailer.store import calls, challenges, charters

TRANSLATED_FLOWS = {"challenge", "system", "charter", "call", "meetup", "digest", "web"}
LANGUAGES = catalogs.TRANSLATED
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
IMAGE = re.compile(r"^!\[[^\]]*\]\([^)]*\)$")  # a photo in a Markdown journal: its file name only


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("every-email")
    settings = load_settings(folder / "home")
    built = scratch(None, folder, None)
    yield built, settings
    built.db.close()


@pytest.fixture(scope="module")
def plans(world, tmp_path_factory):
    """Every kind's plan, built once: building some (the answer to "pause") changes the world."""
    found = every_kind(world)
    found.update(written_once(world, tmp_path_factory.mktemp("revised")))
    return found


# The revised sample charter: a new scope (the lead's words), budget, deadline and hours.
REVISED = {'scope = "Three platform teams; dashboards and alerting only"':
           'scope = "Four platform teams; dashboards, alerting and runbooks"',
           "budget = 5000": "budget = 6500", "deadline = 2027-01-20": "deadline = 2027-01-27",
           "hours_per_week = 2": "hours_per_week = 2.5", 'rule = "all"': 'rule = "any"'}


def written_once(world, folder: Path) -> dict[str, tuple[PlannedEmail, dict]]:
    """What a flow writes before anyone knows who reads it (issue 23, second wave): the summary's
    journal with a photo and files (attached as Markdown and HTML), a charter's own volunteer
    call, and the approval request of a charter's second version ("what changed")."""
    w = world[0]
    person = kinds.person_dict(next(iter(w.db.query("SELECT * FROM people ORDER BY id LIMIT 1"))))
    challenge = w.challenge
    rows = journal.journal_rows(challenge, {3: "Count your deployments"}, [
        {"id": 1, "day": 3, "text": "Counted 41 deployments; the board photo is attached.", "shareable": False,
         "received_at": "2027-01-06T18:00:00"}], {1: [
            {"filename": "board.png", "mime_type": "image/png", "size": 67, "sha256": "ab" * 32, "kept": True,
             "data": b"\x89PNG\r\n\x1a\n" + b"\0" * 59},
            {"filename": "runbook.pdf", "mime_type": "application/pdf", "size": 1234567, "sha256": "cd" * 32,
             "kept": True, "data": b"%PDF"},
            {"filename": "notes.zip", "mime_type": "application/zip", "size": 31457280, "sha256": "ef" * 32,
             "kept": False, "data": None}]})
    charter = charters.get_charter(w.db, w.charter["id"])
    links.open_places(w.db, charter, w.now)
    call = calls.get_call(w.db, charters.get_charter(w.db, charter["id"])["call_id"])
    revised = folder / "revised.toml"
    text = SAMPLE_CHARTER.read_text()
    for old, new in REVISED.items():
        text = text.replace(old, new)
    revised.write_text(text)
    lifecycle.revise(w.db, charter["id"], revised, w.now)
    charter = charters.get_charter(w.db, charter["id"])
    return {"summary-files": (challenge_mail.summary(challenge, person, rows), person),
            "charter-call": (call_mail.invite(call, person, role_board(w.db, call["id"])), person),
            "charter-revised": (charter_mail.request(charter, make_view(w.db, charter).shown, person, False), person)}


def attached(data: bytes) -> str:
    """The text of a composed email's attached documents (Markdown; HTML as its text, without
    its head and tags)."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    texts = []
    for part in message.walk():
        if part.is_attachment() and part.get_content_type() in ("text/markdown", "text/html"):
            body = re.sub(r"(?s)<head>.*?</head>", "", part.get_content())
            texts.append(re.sub(r"<[^>]+>", "", body))
    return "\n".join(texts)


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
    if isinstance(value, Text):  # our sentence; its plain parameters are someone's words (a goal)
        return lead_text(list(value.params.values()))
    if isinstance(value, Joined):
        return lead_text(list(value.parts))
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
        files = attached(shown.data)
        for part, text in (("subject", shown.subject), ("text", shown.text), ("html", shown.html),
                           ("attachments", files)):
            left = [run for run in runs if run in text and run not in written and run not in own]
            assert not left, f"{name} in {language} ({part}) says in English: {left[:3]}"
        for part, text, in_english in (("text", shown.text, english.text), ("attachments", files, attached(english.data))):
            same = [line for line in text.splitlines() if line in in_english.splitlines() and not IMAGE.match(line)
                    and len(re.findall(r"[A-Za-z]{2,}", line)) >= 3 and line.strip().lstrip("> #-") not in written]
            assert not same, f"{name} in {language} ({part}): lines left as in English: {same[:3]}"


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


@pytest.mark.parametrize("language", LANGUAGES)
def test_what_a_flow_wrote_once_reads_in_each_language(world, plans, language):
    """A charter's own volunteer call is stored when it opens, the lines of "what changed since
    version 1" when the version is made, the summary's journal when it is planned: each reader
    still reads our words in their language, and the lead's and the member's as written."""
    def seen(name: str, lang: str, files_only: bool = False) -> str:
        plan, person = plans[name]
        shown = rendered(plan, {**person, "language": lang}, world[0].now, world[1])
        return attached(shown.data) if files_only else "\n".join([shown.subject, shown.text, shown.html,
                                                                   attached(shown.data)])

    call = seen("charter-call", language)
    for english in ("Join the project team", "Scope:", "Resourcing:", "h/week"):
        assert english not in call, f"the charter's call in {language} says {english!r}"
    assert "Observability playbook" in call and "A shared observability playbook for platform teams" in call

    changed = [line.strip().lstrip("- ") for line in seen("charter-revised", "en").splitlines()
               if " → " in line and "<" not in line]
    revised = seen("charter-revised", language)
    assert len(changed) == len(REVISED)
    for line in changed:
        assert line not in revised, f"what changed, in {language}, says in English: {line!r}"
    assert "Four platform teams; dashboards, alerting and runbooks" in revised

    ours = [line for line in seen("summary-files", "en", files_only=True).splitlines()
            if line.startswith(("#", "- ", "Day ", "(no"))]
    journal_said = seen("summary-files", language)
    assert len(ours) >= 5
    for line in ours:
        assert line not in journal_said, f"the journal in {language} says in English: {line!r}"
    assert "Counted 41 deployments; the board photo is attached." in journal_said


def test_the_summary_names_each_day_as_the_challenge_gives_it(world, plans):
    """The sample challenge gives its first days' titles in German: a German member's summary,
    and the journal attached to it, name those days in German."""
    w, settings = world
    day = challenges.challenge_days(w.db, w.challenge["id"])[0]
    german = json.loads(day["translations"])["title"]["de"]
    plan, person = plans["summary"]
    shown = rendered(plan, {**person, "language": "de"}, w.now, settings)
    assert any(entry["day"] == 1 for entry in plan.context["entries"])
    for part in (shown.text, shown.html, attached(shown.data)):
        assert german in part and day["title"] not in part
