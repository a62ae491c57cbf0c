"""inbound.reply, quotes, signature, history: every result frozen, so that making them faster
changes nothing a person said.

The outputs of ``extract_reply``, ``html_reply`` and ``reply_from_parts`` were recorded with the
code before its speed-up (tests/data/extract_reference.json: a short digest per case) for:
the shared reply corpus (skipped when absent), replies written as Outlook, Gmail, Apple Mail,
Horde and a pasted quote write them to a challenge email, the examples of test_reply.py, and a
few thousand variants of all these (lines shuffled, attribution lines split over two or three
lines, blank lines, digits, ``@``, ``<``, ``>``, ``--``, ``__`` and colons put in, separators,
header lines and attributions of other languages, lines quoted). Record again only for a change
of behaviour meant as such:

    .venv/bin/python -m tests.inbound.test_extract_equivalence --record
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
import unicodedata
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Iterator

import pytest

from mailer.inbound import history, quotes
from mailer.inbound.message import parse_message
from mailer.inbound.reply import extract_reply, html_reply, reply_from_parts
from mailer.inbound.signature import is_signature_delimiter
from mailer.simulation.replies import CLIENTS, OTHER_CLIENTS, compose_reply
from tests.inbound import test_reply as examples

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "extract_reference.json"
VARIANTS = 3000
ORIGINAL = (
    "Hi Anna,\n\nDAY 1 OF 30 · Mon 4 Jan · DevOps 30-day challenge\nMap your pipeline\n\n"
    "Draw the path one change takes from your laptop to production. Paper, whiteboard or a text "
    "file are all fine. Write down every step: commit, review, build, tests, packaging.\n\n"
    "Next to each step, note two things:\n\n- who or what does it (a person, a script, a CI job)\n"
    "- roughly how long it waits before it starts\n\nReply to this email to journal. "
    "Reply \"pause\" to pause, \"stop\" to leave.\n\n--\nCommunity of Practice · cop@example.org\n")
ENTRIES = ("Mapped our pipeline today: seven stages, two of them manual gates.",
           "Timed a change from commit to production: 3 h 40 min, mostly waiting.",
           "Heute unsere Pipeline aufgezeichnet: sieben Stufen, zwei davon manuell.",
           "今日はパイプラインを図にしました。七つの段階のうち二つが手作業です。",
           "Approve", "pause", "On Monday I mapped it.\nFrom: my notes, page 2")
SIGNOFFS = ("\n\nBest regards,\nAnna Berg\nPlatform Engineering", "\n\n-- \nAnna Berg",
            "\n\nSent from my iPhone", "\n\nAnna", "")
# What a mutation puts into a line or between lines.
TOKENS = ("1", "2025", "@", "<", ">", "--", "__", ":", " wrote:", "a@b.c", "<a@b.c>:", "On ", "Le ")
LINES = ("", "--", "-- ", "__", "________________________________", "-----Original Message-----",
         "Begin forwarded message:", "Sent from my iPhone", "From: Practice Team", "Sent: Monday",
         "Thanks,", "Anna", "> quoted", ">", "<", "This email is confidential and may be privileged.",
         *examples.ATTRIBUTIONS.values(), *(f"{key}: x" for keys in examples.OUTLOOK_BLOCKS.values()
                                            for key in keys))


def _original() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Community of Practice <cop@example.org>"
    msg["To"] = "Anna Berg <anna@example.org>"
    msg["Subject"] = "Day 1 of 30: Map your pipeline"
    msg["Date"] = "Mon, 04 Jan 2027 13:01:00 +0000"
    msg["Message-ID"] = "<day1@example.org>"
    msg.set_content(ORIGINAL)
    return msg.as_bytes()


def written_replies() -> Iterator[tuple[str | None, str | None, str | None]]:
    """(plain, html, answered) of replies as each simulated client writes them."""
    original, now = _original(), datetime(2027, 1, 4, 14, tzinfo=timezone.utc)
    for client in (*CLIENTS, *OTHER_CLIENTS):
        for entry in ENTRIES:
            for signoff in SIGNOFFS:
                msg = parse_message(compose_reply(original, "anna@example.org", "Anna Berg",
                                                  entry + signoff, client, now))
                yield msg.text, msg.html, ORIGINAL


def example_texts() -> Iterator[str]:
    """The texts of test_reply.py's tables."""
    yield from (text for text, _ in examples.CLIENT_STYLES.values())
    yield from examples.KEPT.values()
    for lang, line in examples.ATTRIBUTIONS.items():
        yield f"{examples.ANSWER}\n\n{line}\n{examples.QUOTED}"
        yield f"{examples.ANSWER}\n\n{line}\n\n{examples.ORIGINAL}"
    for keys in examples.OUTLOOK_BLOCKS.values():
        block = "\n".join(f"{key}: x" for key in keys)
        yield f"{examples.ANSWER}\n\n{block}\n\n{examples.ORIGINAL}"
    for footer in examples.MOBILE_FOOTERS:
        yield f"{examples.ANSWER}\n\n{footer}\n\n{examples.ATTRIBUTIONS['en']}\n{examples.QUOTED}"


def mutate(rng: random.Random, text: str) -> str:
    """``text`` changed in one to three ways that touch what the rules look at."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        lines = lines or [""]
        k = rng.randrange(len(lines))
        how = rng.randrange(7)
        if how == 0:  # a few lines shuffled
            window = lines[k:k + rng.randint(2, 5)]
            rng.shuffle(window)
            lines[k:k + len(window)] = window
        elif how == 1:  # a line split over two or three lines, at spaces (a wrapped attribution)
            words = lines[k].split(" ")
            cuts = sorted(rng.sample(range(1, len(words)), min(len(words) - 1, rng.randint(1, 2))))
            parts = [" ".join(words[a:b]) for a, b in zip([0, *cuts], [*cuts, len(words)])]
            lines[k:k + 1] = [p for part in parts for p in ([part, ""] if rng.random() < 0.2 else [part])]
        elif how == 2:
            lines.insert(k, "")
        elif how == 3:  # a token put into a line
            at = rng.randint(0, len(lines[k]))
            lines[k] = lines[k][:at] + rng.choice(TOKENS) + lines[k][at:]
        elif how == 4:
            lines.insert(k, rng.choice(LINES))
        elif how == 5:
            lines[k] = f"> {lines[k]}"
        else:
            del lines[k]
    return "\n".join(lines)


def cases() -> Iterator[tuple[str | None, str | None, str | None]]:
    """Every built-in case: (plain, html, answered)."""
    rng = random.Random(25)
    seeds = [*written_replies(), *((text, None, None) for text in example_texts())]
    yield from seeds
    for n in range(VARIANTS):
        plain, html, answered = seeds[n % len(seeds)]
        text = mutate(rng, plain or "")
        yield text, None, answered if rng.random() < 0.7 else None
        if html and n % 4 == 0:
            yield None, html, answered


def corpus_cases() -> list[tuple[str | None, str | None, str | None]]:
    """The shared corpus's bodies (plain and HTML), each also with its quoted part as answered."""
    from bench.replies import DEFAULT_CORPUS, load_cases
    if not DEFAULT_CORPUS.joinpath("manifest.jsonl").is_file():
        return []
    found = []
    for case in load_cases(DEFAULT_CORPUS):
        quoted = "\n".join(line.lstrip("> ") for line in (case.text or "").split("\n") if line.startswith(">"))
        found += [(case.text, case.html, None), (case.text, case.html, quoted or None)]
    return found


def outcome(plain: str | None, html: str | None, answered: str | None) -> str:
    """A digest of everything the three entries give for one case."""
    names = ("Anna Berg", "Anna")
    got = [reply_from_parts(plain, html, names, answered)]
    if plain is not None:
        got += [extract_reply(plain), extract_reply(plain, names, answered)]
    if html is not None:
        got += [html_reply(html, "Anna Berg", answered)]
    return hashlib.blake2b("\x00".join(got).encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def inputs_digest(found: list) -> str:
    """A digest of the inputs, so that a changed generator or corpus is told apart from a bug."""
    return hashlib.blake2b(json.dumps(found).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def record() -> dict:
    """The reference as the code computes it now."""
    groups = {"builtin": list(cases()), "corpus": corpus_cases()}
    return {name: {"inputs": inputs_digest(found), "outputs": "".join(outcome(*c) for c in found)}
            for name, found in groups.items()}


def _check(name: str, found: list) -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))[name]
    if not found:
        pytest.skip(f"no {name} cases here")
    if inputs_digest(found) != reference["inputs"]:  # the corpus is shared/: it may grow
        assert name == "corpus", f"the {name} cases differ from those recorded: record again on the old code"
        pytest.skip("the corpus differs from the one recorded")
    expected = [reference["outputs"][k:k + 8] for k in range(0, len(reference["outputs"]), 8)]
    wrong = [c for c, digest in zip(found, expected) if outcome(*c) != digest]
    assert len(expected) == len(found)
    assert not wrong, f"{len(wrong)} cases read differently, first: {wrong[0]!r}"


def test_builtin_cases_read_as_recorded():
    _check("builtin", list(cases()))


def test_corpus_reads_as_recorded():
    _check("corpus", corpus_cases())


def _lines_of_cases() -> Iterator[tuple[list[str], int]]:
    for plain, _, _ in [*cases(), *corpus_cases()]:
        lines = (plain or "").split("\n")
        yield from ((lines, i) for i in range(len(lines)))


def test_a_plain_line_starts_no_quote_and_no_attribution():
    """quotes.is_plain's proof, checked on every line of every case: such a line is read only
    for the one-line markers (reply._ends_plain)."""
    plain = 0
    for lines, i in _lines_of_cases():
        if not quotes.is_plain(lines[i]):
            continue
        plain += 1
        line = lines[i]
        assert not quotes.is_quoted(line) and not is_signature_delimiter(line)
        assert quotes.header_span(lines, i) == 0 and not quotes._is_attribution(line, first=True)
        assert quotes.splitter_span(lines, i) == int(quotes.is_forward_intro(line))
    assert plain > 10_000


def test_wrote_end_is_searched_where_it_can_match():
    """quotes._ends_with_verb finds what _WROTE_END finds in a line's last 60 characters, on
    every line, and on the attribution table's lines with punctuation after them and blank
    runs of every length inside their verbs ("a     écrit")."""
    texts = [lines[i] for lines, i in _lines_of_cases()]
    attributions = [*examples.ATTRIBUTIONS.values(), "Le mar. 4 mars, Anna <a@b.c> a écrit :",
                    "El 4 mar 2025, Anna <a@b.c> va escriure:", "4.3.2025 Anna <a@b.c> đã viết:"]
    for line in attributions:
        texts += [f"{line}{end}" for end in ("", ".", " --", ":.", "!", " : -- ")]
        texts += [line.replace(" ", " " * n) for n in range(2, 70, 3)]
        texts += [line.replace(" ", "\t" * n, 2) for n in range(2, 70, 5)]
        texts += [f"{'x' * n} {line}" for n in (30, 60, 90)]
    found = 0
    for text in texts:
        text = text.lstrip("> ").strip()
        expected = bool(quotes._WROTE_END.search(text, max(0, len(text) - 60)))
        assert quotes._ends_with_verb(text) == expected, text
        found += expected
    assert found > 100
def test_each_character_folds_as_the_whole_text_does():
    """history._key folds ASCII as bytes and every other character alone (``_fold``): what a
    fold gives is its own fold, and ASCII it gives is lower-case letters and digits."""
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        if char.casefold() == char:
            continue
        for got in history._fold(char):
            assert history._fold(got) == got if not got.isascii() else got.isalnum() and got == got.lower()
    assert history._key("Ǆ·ẞ ＡＢ İx_—9") == "".join(c for c in unicodedata.normalize(
        "NFKC", "Ǆ·ẞ ＡＢ İx_—9").casefold() if c.isalnum())


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(json.dumps(record(), indent=0) + "\n", encoding="utf-8")
    print(f"recorded {REFERENCE}")
