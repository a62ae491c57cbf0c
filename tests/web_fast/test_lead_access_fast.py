"""Fast tests (no browser, no server) of who may see the lead's page: mailer/web/lead/access.py
and its store, mailer/store/lead_access.py. Written to kill mutmut's mutants (docs/testing.md):
a spent, expired, foreign or other-purpose sign-in link; a session past 12 hours or signed out;
a CSRF token of another browser; a non-lead; the hourly cap on links."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mailer.flows.base import ANSWER
from mailer.store import lead_access as store
from mailer.store import people
from mailer.web.lead import access
from mailer.web.tokens import Signer
from tests.web_fast import with_values

BASE = "https://cop.example.org/"


@pytest.fixture
def lead_settings(settings):
    return with_values(settings, web_lead_emails=" Lea@Example.test , ,boss@example.test",
                       mailer_site_name="Our CoP")


@pytest.fixture
def signer(now):
    return Signer(["k1"], 365, lambda: now)


@pytest.fixture
def lea(db):
    return people.add_person(db, "lea@example.test", "Lea", "Europe/Paris")


@pytest.fixture
def member(db):
    return people.add_person(db, "mo@example.test", "Mo", "Europe/Paris")


def outbox_rows(db):
    return list(db.query("SELECT o.*, d.data FROM outbox o LEFT JOIN outbox_data d ON d.id = o.id"))


def body_of(row) -> str:
    """The email's text, soft line breaks of quoted-printable undone."""
    import email
    from email import policy
    msg = email.message_from_bytes(bytes(row["data"]), policy=policy.default)
    return "\n".join(part.get_content() for part in msg.walk() if part.get_content_type() == "text/plain")


def token_of(db):
    """The one email queued."""
    (row,) = outbox_rows(db)
    return row


def _token_from(db, signer, now, lead_settings, lea):
    """Request a link for Lea and return its token (read from what the store and outbox hold)."""
    captured = {}
    real = signer.sign

    def spy(person_id, purpose, ref="", at=None):
        token = real(person_id, purpose, ref, at)
        captured["token"] = token
        return token

    signer.sign = spy
    try:
        assert access.request_link(db, lead_settings, signer, "lea@example.test", BASE, now)
    finally:
        signer.sign = real
    return captured["token"]


def test_lead_addresses_are_the_listed_ones_lower_cased(lead_settings, settings):
    assert access.lead_addresses(lead_settings) == {"lea@example.test", "boss@example.test"}
    assert access.lead_addresses(with_values(settings, web_lead_emails="")) == set()
    assert access.lead_addresses(with_values(settings, web_lead_emails=None)) == set()


def test_a_lead_asking_gets_one_answer_email_with_a_15_minute_link(db, lead_settings, signer, now, lea):
    assert access.request_link(db, lead_settings, signer, "  LEA@example.test ", BASE, now)
    (row,) = outbox_rows(db)
    assert row["to_addr"] == "lea@example.test"
    assert row["priority"] == ANSWER
    assert row["key"].startswith(f"web:lead-signin:person:{lea}:")
    assert "Our CoP" in row["subject"]
    (link,) = db.query("SELECT * FROM lead_links")
    assert link["person_id"] == lea and link["used_at"] is None
    assert link["issued_at"] < link["expires_at"]
    assert datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00")) - \
        datetime.fromisoformat(link["issued_at"].replace("Z", "+00:00")) == timedelta(minutes=15)


def test_the_emailed_link_signs_in_once(db, lead_settings, signer, now, lea):
    token = _token_from(db, signer, now, lead_settings, lea)
    assert signer.read(token, access.LINK_PURPOSE).person_id == lea
    assert access.link_person(db, lead_settings, signer, token)["id"] == lea
    session = access.spend_link(db, lead_settings, signer, token, now)
    assert session and len(session) >= 40
    assert access.session_lead(db, lead_settings, session, now)["id"] == lea
    assert access.spend_link(db, lead_settings, signer, token, now) is None
    assert store.counts(db, lea) == {"links": 1, "sessions": 1}


def test_a_link_spent_after_15_minutes_signs_no_one_in(db, lead_settings, signer, now, lea):
    token = _token_from(db, signer, now, lead_settings, lea)
    assert access.spend_link(db, lead_settings, signer, token, now + timedelta(minutes=15)) is None
    assert access.spend_link(db, lead_settings, signer, token, now + timedelta(minutes=14, seconds=59))


@pytest.mark.parametrize("who", ["stranger@example.test", "mo@example.test", ""])
def test_anyone_else_asking_gets_nothing_written(db, lead_settings, signer, now, lea, member, who):
    assert not access.request_link(db, lead_settings, signer, who, BASE, now)
    assert outbox_rows(db) == [] and store.counts(db) == {"links": 0, "sessions": 0}


def test_a_listed_address_that_is_not_a_person_or_not_mailable_gets_nothing(db, lead_settings, signer, now, lea):
    assert not access.request_link(db, lead_settings, signer, "boss@example.test", BASE, now)
    people.set_status(db, lea, "bounced")
    assert not access.request_link(db, lead_settings, signer, "lea@example.test", BASE, now)
    assert outbox_rows(db) == [] and store.counts(db) == {"links": 0, "sessions": 0}


def test_five_links_an_hour_then_nothing_until_the_hour_passes(db, lead_settings, signer, now, lea):
    for minute in range(5):
        assert access.request_link(db, lead_settings, signer, "lea@example.test", BASE, now + timedelta(minutes=minute))
    assert not access.request_link(db, lead_settings, signer, "lea@example.test", BASE, now + timedelta(minutes=59))
    assert len(outbox_rows(db)) == 5
    assert access.request_link(db, lead_settings, signer, "lea@example.test", BASE, now + timedelta(hours=1))
    assert store.links_since(db, lea, now) == 5
    assert store.links_since(db, lea, now - timedelta(seconds=1)) == 6


def test_the_link_is_under_base_url_and_signed_for_sign_in(db, lead_settings, signer, now, lea):
    token = _token_from(db, signer, now, lead_settings, lea)
    ctx = token_of(db)
    body = body_of(ctx)
    link = signer.read(token, access.LINK_PURPOSE)
    assert link.person_id == lea and len(link.ref) >= 20
    assert signer.read(token, "prefs") is None
    assert f"{ctx['key']}".endswith(link.ref)
    assert f"https://cop.example.org/lead/sign-in/{token}" in body and "15" in body


def test_other_tokens_do_not_sign_in(db, lead_settings, signer, now, lea, member):
    _token_from(db, signer, now, lead_settings, lea)
    (nonce_row,) = db.query("SELECT * FROM lead_links")
    prefs = signer.sign(lea, "prefs")
    assert access.spend_link(db, lead_settings, signer, prefs, now) is None
    assert access.link_person(db, lead_settings, signer, prefs) is None
    forged = Signer(["other"], 365, lambda: now).sign(lea, access.LINK_PURPOSE, "x")
    assert access.spend_link(db, lead_settings, signer, forged, now) is None
    unknown_nonce = signer.sign(lea, access.LINK_PURPOSE, "never-issued")
    assert access.spend_link(db, lead_settings, signer, unknown_nonce, now) is None
    assert store.counts(db)["sessions"] == 0 and nonce_row["used_at"] is None


def test_a_link_for_a_member_who_is_not_a_lead_signs_no_one_in(db, lead_settings, signer, now, lea, member):
    store.add_link(db, "n1", member, now, now + timedelta(minutes=15))
    token = signer.sign(member, access.LINK_PURPOSE, "n1")
    assert access.link_person(db, lead_settings, signer, token) is None
    assert access.spend_link(db, lead_settings, signer, token, now) is None
    assert store.counts(db) == {"links": 1, "sessions": 0}
    assert store.use_link(db, "n1", member, now)


def test_a_nonce_issued_to_one_lead_does_not_sign_in_another(db, lead_settings, signer, now, lea):
    boss = people.add_person(db, "boss@example.test", "Boss", "UTC")
    store.add_link(db, "n1", lea, now, now + timedelta(minutes=15))
    assert access.spend_link(db, lead_settings, signer, signer.sign(boss, access.LINK_PURPOSE, "n1"), now) is None
    assert access.spend_link(db, lead_settings, signer, signer.sign(lea, access.LINK_PURPOSE, "n1"), now)


def test_a_lead_taken_off_the_list_loses_link_and_session(db, lead_settings, signer, now, lea):
    token = _token_from(db, signer, now, lead_settings, lea)
    session = access.spend_link(db, lead_settings, signer, token, now)
    off = with_values(lead_settings, web_lead_emails="boss@example.test")
    assert access.session_lead(db, off, session, now) is None
    token2 = _token_from(db, signer, now, lead_settings, lea)
    assert access.link_person(db, off, signer, token2) is None
    assert access.spend_link(db, off, signer, token2, now) is None
    people.set_status(db, lea, "inactive")
    assert access.session_lead(db, lead_settings, session, now) is None


def test_a_session_lasts_12_hours_and_ends_at_sign_out(db, lead_settings, signer, now, lea):
    session = access.spend_link(db, lead_settings, signer, _token_from(db, signer, now, lead_settings, lea), now)
    assert access.session_lead(db, lead_settings, session, now + timedelta(hours=11, minutes=59))["id"] == lea
    assert access.session_lead(db, lead_settings, session, now + timedelta(hours=12)) is None
    assert access.session_lead(db, lead_settings, None, now) is None
    assert access.session_lead(db, lead_settings, "", now) is None
    assert access.session_lead(db, lead_settings, "made-up", now) is None
    other = access.spend_link(db, lead_settings, signer, _token_from(db, signer, now, lead_settings, lea), now)
    access.end_session(db, session, now)
    access.end_session(db, None, now)
    access.end_session(db, "", now)
    assert access.session_lead(db, lead_settings, session, now) is None
    assert access.session_lead(db, lead_settings, other, now)["id"] == lea
    (ended,) = db.query("SELECT * FROM lead_sessions WHERE ended_at IS NOT NULL")
    assert ended["digest"] == store.digest(session)
    access.end_session(db, session, now + timedelta(hours=1))
    (again,) = db.query("SELECT ended_at FROM lead_sessions WHERE ended_at IS NOT NULL")
    assert again["ended_at"] == ended["ended_at"]


def test_the_store_keeps_only_digests(db, lead_settings, signer, now, lea):
    token = _token_from(db, signer, now, lead_settings, lea)
    nonce = signer.read(token, access.LINK_PURPOSE).ref
    session = access.spend_link(db, lead_settings, signer, token, now)
    (link,) = db.query("SELECT * FROM lead_links")
    (kept,) = db.query("SELECT * FROM lead_sessions")
    assert link["digest"] == store.digest(nonce) != nonce and link["used_at"] is not None
    assert kept["digest"] == store.digest(session) and kept["person_id"] == lea and kept["ended_at"] is None
    assert store.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_store_counts_and_erasure_are_per_person(db, now, lea, member):
    store.add_link(db, "a", lea, now, now + timedelta(minutes=15))
    store.add_link(db, "b", member, now, now + timedelta(minutes=15))
    store.start_session(db, "s", lea, now, now + timedelta(hours=12))
    assert store.counts(db) == {"links": 2, "sessions": 1}
    assert store.counts(db, member) == {"links": 1, "sessions": 0}
    assert store.erase_person(db, lea) == {"lead_links": 1, "lead_sessions": 1}
    assert store.counts(db) == {"links": 1, "sessions": 0}
    assert store.session_person(db, "s", now) is None


def test_csrf_tokens_belong_to_one_browser(signer):
    mine, theirs = access.new_browser_secret(), access.new_browser_secret()
    assert mine != theirs and len(mine) >= 40
    token = access.csrf_token(signer, mine)
    assert access.csrf_ok(signer, mine, token)
    assert not access.csrf_ok(signer, theirs, token)
    assert not access.csrf_ok(signer, None, token)
    assert not access.csrf_ok(signer, "", token)
    assert not access.csrf_ok(signer, mine, None)
    assert not access.csrf_ok(signer, mine, "")
    assert not access.csrf_ok(signer, mine, token[:-2])
    assert not access.csrf_ok(signer, mine, signer.sign(0, "prefs", store.digest(mine)))
    assert access.csrf_ok(signer, mine, signer.sign(5, access.CSRF_PURPOSE, store.digest(mine)))
    assert signer.read(token, access.CSRF_PURPOSE).ref == store.digest(mine)


def test_check_names_leads_that_cannot_sign_in(db, lead_settings, settings, lea):
    assert access.check_lines(db, with_values(settings, web_lead_emails="")) == []
    ((ok, text),) = access.check_lines(db, lead_settings)
    assert not ok and text.startswith("boss@example.test in [web] lead_emails cannot sign in")
    people.add_person(db, "boss@example.test", "Boss", "UTC")
    assert access.check_lines(db, lead_settings) == [
        (True, "2 leads may sign in: boss@example.test, lea@example.test")]
    assert access.check_lines(db, with_values(settings, web_lead_emails="lea@example.test")) == [
        (True, "1 lead may sign in: lea@example.test")]
    people.set_status(db, lea, "bounced")
    ((ok, text),) = access.check_lines(db, lead_settings)
    assert not ok and text.startswith("lea@example.test in")
    ((ok, text),) = access.check_lines(None, lead_settings)
    assert not ok and "boss@example.test, lea@example.test in" in text


def test_check_says_how_to_fix_a_lead_that_cannot_sign_in(db, settings):
    assert access.check_lines(db, with_values(settings, web_lead_emails="x@example.test")) == [
        (False, "x@example.test in [web] lead_emails cannot sign in: not a person we may mail "
                "(add them with people import)")]


def test_a_sign_in_link_naming_no_one_signs_no_one_in(db, lead_settings, signer, now, lea):
    store.add_link(db, "n1", lea, now, now + timedelta(minutes=15))
    token = signer.sign(999, access.LINK_PURPOSE, "n1")
    assert access.link_person(db, lead_settings, signer, token) is None
    assert access.spend_link(db, lead_settings, signer, token, now) is None
    assert store.counts(db)["sessions"] == 0
