"""The shortcuts composing takes (issue 25) give what the libraries give: the ATTENDEE line's
folding (icalendar), a display name's encoded-word and the header block (the standard
library's ``email``), values said once per language, a meetup's time made once per zone."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.message import Message

import pytest
from icalendar.parser.string import _foldline

from mailer.flows.meetup import emails as meetup_mail
from mailer.locale.text import Joined, _, localize, ngettext
from mailer.outbound import envelope, formats, invite

LETTERS = "abcdefghijklmnopqrstuvwxyz ABCXYZ,;:\"'\\^-.=?_ÄöüŸ李小龍€😀\u00a0"


@pytest.mark.parametrize("alphabet", [LETTERS, "\\^a", "\\^李😀", "😀é", "a" * 30 + "\\"])
def test_an_attendee_line_folds_as_icalendar_folds_it(alphabet):
    """Long lines, UTF-8 characters of 2 to 4 octets at every position of a fold, backslashes and
    carets right before one (icalendar moves them to the next line)."""
    rng = random.Random(alphabet)
    for _n in range(3000):
        line = "ATTENDEE;CN=" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        assert invite.fold(line) == _foldline(line).encode("utf-8"), line


def test_the_fold_test_can_fail():
    """A fold at 75 octets (RFC 5545's limit, not icalendar's 74) differs from icalendar's."""
    line = "ATTENDEE;CN=" + "x" * 100
    assert invite.fold(line) != _foldline(line, limit=76).encode("utf-8")


def test_a_display_name_is_one_encoded_word_as_the_standard_library_writes_it():
    rng = random.Random(2)
    for _n in range(5000):
        name = "".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 64))).strip() or "x"
        assert envelope._word(name) == Header(name, "utf-8", maxlinelen=10_000).encode(maxlinelen=10_000), name


def old_head(content_type: str, env: envelope.Envelope) -> bytes:
    """The header block as a compat32 ``Message`` writes it (what ``_head`` replaced)."""
    msg = Message(policy=envelope.WIRE)
    msg["Content-Type"] = content_type
    msg["MIME-Version"] = "1.0"
    envelope._headers(msg, env)
    return "".join(envelope.WIRE.fold(name, value) for name, value in msg.raw_items()).encode("ascii")


def test_the_header_block_is_the_one_a_message_writes_for_awkward_subjects_and_names():
    """Subjects that fold over several encoded-words, look like one, run past 998 characters;
    names in other scripts; each written twice (the second time from what was remembered)."""
    rng = random.Random(3)
    now = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)
    subjects = ["Day 1 of 30: Map it", "=?utf-8?q?x?= looks encoded", "Zoë " * 40, "x" * 1200,
                "Invitation: 李小龍の会, Wed 20 Jan 18:00", "Re: Re: ünïcödé " + "y" * 90]
    for n in range(400):
        subject = rng.choice(subjects) + "".join(rng.choice(LETTERS) for _ in range(rng.randint(0, 30)))
        name = "".join(rng.choice(LETTERS) for _ in range(rng.randint(0, 40)))
        env = envelope.Envelope(message_id=f"<{n}@x.test>", from_name="Community of Practice ✓",
                                from_addr="cop@example.test", to_name=name, to_addr=f"p{n}@corp.example.com",
                                subject=subject, date=now, reply_to="cop+t@example.test", recurring=n % 2 == 0,
                                unsubscribe="cop+t@example.test", unsubscribe_url="https://x.test/u/t" * (n % 3),
                                in_reply_to="<r@x.test>" if n % 5 == 0 else None,
                                extra_headers=(("X-Cop-Meetup", str(n)), ("X-Title", subject)))
        for _twice in range(2):
            assert envelope._head('multipart/alternative; boundary="=_b"', env) == \
                old_head('multipart/alternative; boundary="=_b"', env), (subject, name)


def test_a_value_says_itself_once_in_each_language():
    """What a value said is kept per language: German asked after French is German."""
    line = _("%(date)s at %(time)s", date=formats.date(datetime(2027, 1, 20, 18, 0)),
             time=formats.time(datetime(2027, 1, 20, 18, 0)))
    joined = Joined(" ", (ngettext("%(num)s day", "%(num)s days", 3), line))
    fresh = {language: (Joined(" ", (ngettext("%(num)s day", "%(num)s days", 3), line)).localize(language))
             for language in ("fr", "de", "en", "ja")}
    for _twice in range(2):
        for language in ("fr", "de", "en", "ja"):
            assert localize(joined, language) == fresh[language]
    assert len(set(fresh.values())) == 4


MEETUP = {"start": datetime(2027, 3, 27, 23, 30, tzinfo=timezone.utc), "duration_minutes": 240,
          "timezone": "Europe/London"}


@pytest.mark.parametrize("tz", ["Europe/London", "America/New_York", "Asia/Kolkata", "UTC", "Not/AZone"])
def test_a_meetups_time_is_made_once_per_zone_and_reads_as_made_for_each(tz):
    """The same text for everyone in a zone, for the meetup as it is (an equal instant written in
    another zone included) and once it moved; a broken zone reads the meetup's own."""
    meetup = {**MEETUP, "end": MEETUP["start"] + timedelta(minutes=240)}
    moved = {**meetup, "start": meetup["start"] + timedelta(days=7), "end": meetup["end"] + timedelta(days=7)}
    elsewhere = {**meetup, "start": meetup["start"].astimezone(timezone(timedelta(hours=5)))}
    for shown in (meetup, moved, elsewhere, meetup):
        made = meetup_mail._when.__wrapped__(shown["start"], shown["end"], 240, "Europe/London", tz)
        got = meetup_mail.when(shown, tz)
        for language in ("en", "de", "ja"):
            assert {k: localize(v, language) for k, v in got.items()} == \
                   {k: localize(v, language) for k, v in made.items()}
    assert localize(meetup_mail.when(moved, tz)["when"], "en") != localize(meetup_mail.when(meetup, tz)["when"], "en")


def test_one_line_blanks_exactly_the_controls_separators_and_surrogates():
    """``safe_text``'s pattern against Unicode's categories Cc, Cs, Zl and Zp, at every code point."""
    import unicodedata

    from mailer.outbound import safe_text

    wrong = [hex(c) for c in range(0x110000)
             if bool(safe_text._UNSAFE.match(chr(c))) != (unicodedata.category(chr(c)) in ("Cc", "Cs", "Zl", "Zp"))]
    assert wrong == []
    assert safe_text.one_line("a\u2028b\x85c\u202f d\td ") == "a b c d d"  # \s+ takes U+202F too


def whole_qp(text: str) -> bytes:
    """The body as ``b2a_qp`` encodes the whole text at once (what ``_qp`` did before it
    remembered lines)."""
    import binascii

    encoded = binascii.b2a_qp("\n".join(text.splitlines()).encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n") + (b"\r\n" if text.endswith(("\n", "\r")) else b"")


def test_a_body_encoded_line_by_line_is_the_whole_texts_quoted_printable():
    """Lines around the 76-character soft break ending in spaces, tabs, "=", dots and UTF-8;
    a lone "." line; every kind of line break; each text twice (its lines remembered)."""
    texts = []
    for length in range(60, 170, 3):
        for tail in (" ", "\t", ".", "=", "é", "  ", " .", "😀"):
            for before in ("", ".", " ", "=\n"):
                line = before + "x" * length + tail
                texts += [line, line + "\n", line + "\ny", ".\n" + line + "\n.\n"]
    rng = random.Random(4)
    for alphabet in ("ab \t.=\n\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029é李", "ab .\n\t", "a" * 20 + " \t.\n=é"):
        texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))) for _n in range(5000)]
    for text in texts + texts:
        assert envelope._qp(text) == whole_qp(text), text


def test_a_calls_roles_are_made_once_a_pass_and_follow_every_change(tmp_path):
    """Invitations given the same roles share their lines; other counts (a place taken since)
    or another call's roles read as made afresh."""
    from mailer.flows.call import emails as call_mail
    from mailer.flows.call.places import summary
    from mailer.preview.world import scratch
    from mailer.store import calls

    world = scratch(None, tmp_path, None)
    call = world.call
    roles = calls.call_roles(world.db, call["id"])
    person = {"id": 1, "email": "a@example.org", "name": "A", "timezone": "UTC", "language": None}
    for counts in ({}, {roles[0]["name"]: (1, 0)}, {roles[0]["name"]: (roles[0]["places"] or 1, 2)}, {}):
        states = summary(roles, counts)
        for _twice in range(2):
            shown = call_mail.invite(call, person, states).context["roles"]
            assert [{k: localize(v, "de") for k, v in r.items()} for r in shown] == \
                [{k: localize(v, "de") for k, v in r.items()} for r in call_mail._roles(call, states)]
    world.db.close()


def test_a_challenges_texts_are_made_once_and_follow_their_translations():
    """The same title with other translations, or written as a sentence kept as parts (a
    ``Localized`` value equal to its English), reads as made afresh."""
    from mailer.flows.challenge import emails as challenge_mail
    from mailer.outbound import markdown

    plain = {"title": "Map it", "translations": None}
    german = {"title": "Map it", "translations": {"title": {"de": "Kartiere es"}}}
    french = {"title": "Map it", "translations": json_text({"title": {"fr": "Cartographie"}})}
    kept = {"title": _("Map it"), "translations": None}
    for _twice in range(2):
        for record in (plain, german, french, kept):
            for shape in (str, markdown.to_html):
                got = challenge_mail.said(record, "title", shape)
                given = challenge_mail._translations(record["translations"]).get("title")
                made = challenge_mail.versions(record["title"], given, shape)
                assert [localize(got, lang) for lang in ("en", "de", "fr")] == \
                    [localize(made, lang) for lang in ("en", "de", "fr")]
    assert localize(challenge_mail.said(german, "title"), "de") == "Kartiere es"
    assert localize(challenge_mail.said(plain, "title"), "de") == "Map it"


def json_text(value: object) -> str:
    import json

    return json.dumps(value)
