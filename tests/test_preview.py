"""`run.py preview KIND`: every kind of email the service sends renders from the home's data (or
the sample), reads as finished text, parses as closed HTML, and nothing is queued or stored."""
from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.preview.kinds import KINDS

ROOT = Path(__file__).resolve().parents[1]
NOW = "2027-01-01T09:00:00Z"
ISSUE_KINDS = ("day", "announcement", "partner", "summary", "approval-request", "approval-receipt",
               "approval-outcome", "call", "confirmation", "waitlist", "invite", "update", "cancel",
               "reminder", "highlight", "digest")
MARKDOWN = (re.compile(r"\*\*"), re.compile(r"(?<![\w/])__\w"), re.compile(r"\[[^\]\n]+\]\((?:https?|mailto):"))
UNRESOLVED = ("{{", "}}", "{%", "%}", "None", "undefined")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Closed(HTMLParser):
    """Every element opened is closed, in order (void elements excepted)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}> "
                                 f"at line {self.getpos()[0]}")
            if tag in self.stack:
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]
            return
        self.stack.pop()


def unclosed(html: str) -> list[str]:
    """What is wrong with the HTML's nesting ([] when every element is closed)."""
    checker = Closed()
    checker.feed(html)
    checker.close()
    return checker.problems + [f"<{tag}> never closed" for tag in checker.stack]


def run(home: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    assert result.exit_code == code, result.output
    return result.output


def fingerprint(home: Path) -> dict[str, str]:
    """Every file in the home (database, outbox, Maildir) by content."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file()}


def test_the_checker_finds_unclosed_elements():
    assert unclosed("<p>fine <b>bold</b><br></p>") == []
    assert unclosed("<table><tr><td>x</tr></table>")
    assert unclosed("<div><p>never closed</div>")


def test_every_kind_the_issue_names_is_there():
    assert set(ISSUE_KINDS) <= {kind.name for kind in KINDS}


@pytest.mark.parametrize("kind", [k.name for k in KINDS])
def test_every_kind_renders_finished_text_and_closed_html(home, kind):
    text = run(home, "preview", kind, "--now", NOW)
    assert text.startswith("Subject: ") and "Hi " in text
    for pattern in MARKDOWN:
        assert not pattern.search(text), f"{kind}: Markdown mark {pattern.pattern!r} in the text part:\n{text}"
    for mark in UNRESOLVED:
        assert mark not in text, f"{kind}: {mark!r} in the text part:\n{text}"
    html = run(home, "preview", kind, "--html", "--now", NOW)
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert unclosed(html) == [], kind
    assert not any(mark in html for mark in ("{{", "{%", ">None<", "undefined"))


def test_an_empty_home_previews_from_the_sample_and_stays_empty(tmp_path):
    home = tmp_path / "new"
    out = run(home, "preview", "day")
    assert "Day 3 of 30: Count your deployments" in out
    assert not home.exists() or fingerprint(home) == {}


def test_a_home_with_real_data_is_unchanged_and_previewed_from_its_own_records(home, tmp_path):
    run(home, "people", "import", str(ROOT / "data" / "people.csv"))
    run(home, "challenge", "start", str(ROOT / "data" / "challenges" / "public-speaking-30.toml"), "--now", NOW)
    run(home, "tick", "--now", NOW)  # the announcements go out: a real outbox and Maildir
    before = fingerprint(home)
    outbox_before = run(home, "outbox", "list")
    for kind in KINDS:
        run(home, "preview", kind.name, "--now", NOW)
    assert fingerprint(home) == before
    assert run(home, "outbox", "list") == outbox_before
    day = run(home, "preview", "day", "--person", "sam.carter@corp.example.com", "--now", NOW)
    assert "Day 3 of 30: Find your one sentence" in day and "Hi Sam," in day


def test_person_ics_and_raw(home):
    invite = run(home, "preview", "invite", "--ics", "--person", "chloe.martin@corp.example.com", "--now", NOW)
    assert "METHOD:REQUEST" in invite and "chloe.martin@corp.example.com" in invite
    cancel = run(home, "preview", "cancel", "--ics", "--now", NOW)
    assert "METHOD:CANCEL" in cancel
    raw = run(home, "preview", "approval-request", "--raw", "--now", NOW)
    assert "Message-ID: <" in raw and "To: Jonas Weber <jonas.weber@corp.example.com>" in raw
    run(home, "preview", "day", "--ics", "--now", NOW, code=2)


def test_unknown_kind_and_person_are_one_plain_line(home):
    out = run(home, "preview", "newsletter", code=2)
    assert "no kind of email called 'newsletter'" in out and "digest" in out
    out = run(home, "preview", "day", "--person", "nobody@corp.example.com", code=2)
    assert "no person with address nobody@corp.example.com" in out


def test_with_no_kind_it_lists_every_kind_with_a_line(home):
    lines = run(home, "preview").splitlines()
    assert [line.split()[0] for line in lines] == [kind.name for kind in KINDS]


def test_docs_emails_shows_every_kind_as_a_picture():
    docs = ROOT / "docs" / "emails"
    listing = (docs / "README.md").read_text(encoding="utf-8")
    assert "python -m bench.email_screenshots" in listing
    for kind in KINDS:
        assert f"]({kind.name}.png)" in listing, kind.name
        data = (docs / f"{kind.name}.png").read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000, kind.name


def test_the_screenshot_page_shows_inline_images_and_the_subject(home):
    from bench.email_screenshots import page

    raw = run(home, "preview", "digest", "--raw", "--now", NOW).encode("utf-8")
    shown = page(raw)
    assert "cid:" not in shown and "data:image/png;base64," in shown
    assert "Community of Practice digest," in shown.split("Hi ", 1)[0]
