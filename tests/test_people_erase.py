"""`people erase`: the right to be forgotten, on a home with every flow in it (a challenge with
entries and photos, a charter with approvals, a call with sign-ups, a meetup with RSVPs,
digests), all driven through the real CLI, worker, inbox and Maildir."""
from __future__ import annotations

import binascii
import email
import hashlib
import html
import email.policy
import json
import re
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import main
from mailer.config import load_settings
from mailer.erasure import Needles, comparable
from mailer.store import open_db, people
from mailer.transports.maildir import deliver_to_inbox
from tests.flows.challenge.test_photos import iphone, photo

ROOT = Path(__file__).resolve().parents[1]
JONAS = "jonas.weber@corp.example.com"
ENTRY = "Mapped our deploy path on the whiteboard: nine steps, three of them waiting on Kevin #share"
PRIVATE = "Honestly the release train scares me and I told nobody at work about it"


def run(home: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def reply(home: Path, to: str, text: str, client: str, now: str) -> None:
    run(home, "reply", "--to", to, "--text", text, "--client", client, "--now", now)


def sent_to(home: Path, address: str, subject_start: str) -> email.message.EmailMessage:
    folder = home / "mail" / "outbox" / "new"
    found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.iterdir())]
    return next(m for m in found if m["To"].addresses[0].addr_spec == address
                and str(m["Subject"]).startswith(subject_start))


def journal_with_photo(home: Path, text: str, seed: int, when: str) -> None:
    """Jonas answers his day email from his iPhone with a photo of the whiteboard."""
    original = sent_to(home, JONAS, "Day 1 of")
    body = iphone(text, photo(seed))
    body["From"] = f"Jonas Weber <{JONAS}>"
    body["To"] = str(original["Reply-To"])
    body["Subject"] = "Re: " + str(original["Subject"])
    body["Date"] = when
    body["Message-ID"] = make_msgid(domain="corp.example.com")
    body["In-Reply-To"] = body["References"] = str(original["Message-ID"])
    deliver_to_inbox(home / "mail", body.as_bytes())


@pytest.fixture
def community(home: Path) -> Path:
    """Every flow, with Jonas in each: journal entries with a photo, an approval, a sign-up, an RSVP."""
    run(home, "people", "import", str(ROOT / "data" / "people.csv"))
    run(home, "challenge", "start", str(ROOT / "data" / "challenges" / "devops-30.toml"), "--now", "2027-01-01T09:00:00Z")
    run(home, "tick", "--now", "2027-01-04T08:00:00Z")
    journal_with_photo(home, ENTRY, 1, "Mon, 04 Jan 2027 08:30:00 +0000")
    run(home, "charter", "submit", str(ROOT / "data" / "charters" / "observability-playbook.toml"),
        "--now", "2027-01-04T09:00:00Z")
    run(home, "tick", "--now", "2027-01-04T10:00:00Z")
    reply(home, JONAS, "Approve. Good scope, and the playbook is overdue.\n\nBest regards,\nJonas", "outlook",
          "2027-01-04T11:00:00Z")
    reply(home, "dana.sponsor@corp.example.com", "Approved", "gmail", "2027-01-04T11:00:00Z")
    run(home, "tick", "--now", "2027-01-04T12:00:00Z")
    reply(home, JONAS, "I'm in!", "apple", "2027-01-04T13:00:00Z")
    run(home, "tick", "--now", "2027-01-04T14:00:00Z")
    run(home, "charter", "complete", "1", "--now", "2027-01-05T10:00:00Z")
    run(home, "tick", "--now", "2027-01-05T11:00:00Z")
    reply(home, JONAS, "Yes, I'll be there. " + PRIVATE, "gmail", "2027-01-05T12:00:00Z")
    run(home, "tick", "--now", "2027-01-05T13:00:00Z")
    run(home, "tick", "--now", "2027-01-11T17:00:00Z")  # the weekly digests go out
    return home


def digest(home: Path, address: str) -> str:
    return run(home, "digest", "preview", address, "--now", "2027-01-11T16:00:00Z")


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def every_file(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file()]


def test_erase_leaves_no_trace_of_them_and_every_count_stands(community: Path):
    home = community
    db = open_db(load_settings(home, env={}).db_path)
    jonas = people.find_person(db, JONAS)
    before = {who: digest(home, who) for who in ("dana.sponsor@corp.example.com", "sponsor@corp.example.com")}
    charter = json.loads(run(home, "charter", "show", "1", "--json"))
    call = json.loads(run(home, "call", "show", "1", "--json"))
    meetup = json.loads(run(home, "meetup", "show", "1", "--json"))
    assert JONAS in json.dumps(call) and JONAS in json.dumps(meetup)  # he is in every flow

    preview = run(home, "people", "erase", JONAS, code=1)  # not at a terminal: shows and refuses
    assert "would delete" in preview and "journal_entries 1" in preview and "not erased" in preview
    assert people.find_person(db, JONAS)["status"] == "active"

    done = run(home, "people", "erase", JONAS, "--yes", "--by", "dpo@corp.example.com")
    assert "erased (record 1, by dpo@corp.example.com)" in done
    assert "dpo@corp.example.com" in run(home, "people", "erasures")
    record = people.erasures(db)[0]
    assert record["by"] == "dpo@corp.example.com" and record["counts"]["journal_entries"] == 1
    assert record["counts"]["files"] == 1 and record["counts"]["tokens"] >= 4 and record["counts"]["inbox"] >= 4

    for path in every_file(home):  # the database, its log, the Maildir, everything in the home
        data = path.read_bytes()
        for needle in (JONAS.encode(), ENTRY[:40].encode(), PRIVATE[:40].encode()):
            assert needle not in data.lower() and needle not in binascii.a2b_qp(data).lower(), (path, needle)
    after = {who: digest(home, who) for who in before}
    for who in before:  # the same numbers, without his name
        assert numbers(after[who]) == numbers(before[who]), who
        assert "Jonas" not in after[who]
    shown = json.loads(run(home, "charter", "show", "1", "--json"))
    assert [d["decision"] for d in shown["decisions"]] == [d["decision"] for d in charter["decisions"]]
    assert "@erased.invalid" in json.dumps(shown) and JONAS not in json.dumps(shown)
    assert len(json.loads(run(home, "call", "show", "1", "--json"))["roles"][0]["confirmed"]) == \
        len(call["roles"][0]["confirmed"])
    assert sorted(i["answer"] for i in json.loads(run(home, "meetup", "show", "1", "--json"))["invitees"]) == \
        sorted(i["answer"] for i in meetup["invitees"])
    assert "accepted" in [i["answer"] for i in meetup["invitees"]]
    assert JONAS not in run(home, "people", "list")
    assert "erased with the person" in run(home, "inbox", "list") + run(home, "inbox", "show", "1")
    run(home, "outbox", "list")
    assert people.get_person(db, jonas["id"])["name"] == "a former member"


def test_erasing_someone_unknown_says_so(home: Path):
    result = CliRunner().invoke(main, ["--home", str(home), "people", "erase", "nobody@corp.example.com", "--yes"])
    assert result.exit_code == 2 and "no person with address nobody@corp.example.com" in result.output


def test_a_quote_in_another_encoding_still_names_them():
    """A Gmail reply quoting their entry in base64, an HTML digest with the text escaped, a photo."""
    pic = photo(7)
    needles = Needles((JONAS, "jonas weber", comparable(ENTRY.encode())[:60]), frozenset({hashlib.sha256(pic).hexdigest()}))
    quoted = MIMEText(f"Nice one!\n\n> {ENTRY}\n", "plain", "utf-8")  # utf-8: base64 by default
    assert b"base64" in quoted.as_bytes() and needles.found_in(quoted.as_bytes())
    escaped = MIMEText(f"<p>{html.escape(ENTRY.replace('our', 'o&#39;ur'))}</p>", "html")
    assert needles.found_in(MIMEText(f"<p>{html.escape(ENTRY)}</p>", "html").as_bytes())
    assert not needles.found_in(escaped.as_bytes())  # another text is not theirs
    with_photo = MIMEMultipart()
    with_photo.attach(MIMEText("Highlights", "plain"))
    with_photo.attach(MIMEImage(pic, "jpeg"))
    assert needles.found_in(with_photo.as_bytes())
    assert not needles.found_in(MIMEText("Grace journaled today", "plain").as_bytes())
