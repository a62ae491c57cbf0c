"""The digest commands through the real main group: preview, send, cadence, list."""
from __future__ import annotations

import json

from click.testing import CliRunner

from mailer.cli import main
from mailer.store import outbox as outbox_store
from mailer.store import people, open_db
from mailer.config import load_settings


def run(home, *args: str):
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    return result


def test_preview_send_cadence_and_list(home, tmp_path):
    db = open_db(load_settings(home, env={}).db_path)
    people.add_person(db, "lia@corp.example.com", "Lia Moreau", "Europe/Paris", ("lead",))
    db.close()
    html = tmp_path / "d.html"
    shown = run(home, "digest", "preview", "lia@corp.example.com", "--html", str(html), "--now", "2027-01-11T10:00:00Z")
    assert shown.exit_code == 0 and "Subject: Community of Practice digest, 4 Jan – 11 Jan 2027" in shown.output
    assert "nothing to report yet" in shown.output and "<html" in html.read_text()
    assert run(home, "digest", "cadence", "lia@corp.example.com", "monthly").exit_code == 0
    listed = json.loads(run(home, "digest", "list", "--json", "--now", "2027-01-11T10:00:00Z").output)
    assert listed == [{"email": "lia@corp.example.com", "scope": "community", "cadence": "monthly",
                       "next": "2027-02-01T08:00:00+00:00"}]
    sent = run(home, "digest", "send", "lia@corp.example.com", "--now", "2027-01-11T10:00:00Z")
    assert "digest queued" in sent.output
    db = open_db(load_settings(home, env={}).db_path)
    assert [r["key"] for r in outbox_store.list_rows(db)] == [f"digest:person:1:manual:2027-01-11T10:00:00Z"]


def test_an_unknown_address_is_one_plain_error(home):
    result = run(home, "digest", "preview", "nobody@corp.example.com")
    assert result.exit_code == 2 and "no person with address nobody@corp.example.com" in result.output


def test_preview_and_send_for_someone_who_gets_no_digest_say_so_and_exit_1(home):
    """Issue 20: `digest preview` for someone who sponsors nothing printed an empty digest."""
    db = open_db(load_settings(home, env={}).db_path)
    people.add_person(db, "sam@corp.example.com", "Sam Carter", "America/New_York", ("member",))
    db.close()
    for command in ("preview", "send"):
        result = run(home, "digest", command, "sam@corp.example.com", "--now", "2027-01-11T10:00:00Z")
        assert result.exit_code == 1, result.output
        assert result.output.startswith("sam@corp.example.com gets no digest: they sponsor nothing")
        assert "Subject:" not in result.output
    db = open_db(load_settings(home, env={}).db_path)
    assert outbox_store.list_rows(db) == []


def test_a_leads_own_digest_does_not_send_her_replies_to_the_community_lead(home):
    """Issue 20: the lead's digest told her replies "go to the community lead", who is herself."""
    db = open_db(load_settings(home, env={}).db_path)
    people.add_person(db, "lia@corp.example.com", "Lia Moreau", "Europe/Paris", ("lead",))
    db.close()
    now = "2027-01-11T10:00:00Z"
    alone = run(home, "digest", "preview", "lia@corp.example.com", "--now", now).output
    assert "goes to the community lead" not in alone
    assert "You are the community's only lead" in alone
    db = open_db(load_settings(home, env={}).db_path)
    people.add_person(db, "kai@corp.example.com", "Kai Berg", "Europe/Oslo", ("lead", "member"))
    db.close()
    two = run(home, "digest", "preview", "lia@corp.example.com", "--now", now).output
    assert "it goes to the other community lead, Kai Berg." in two
