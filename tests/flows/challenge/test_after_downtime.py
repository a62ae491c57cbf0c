"""Issue 20, "The challenge after downtime": a participant's first day is never skipped, the next
day never comes before its local send hour, and a partner is always introduced before their
progress is reported. Through the real worker (``worker.tick``) and the Maildir transport on an
injected clock."""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailer import worker
from mailer.flows.challenge.definition import start_challenge
from mailer.flows.challenge.flow import set_participant_status
from mailer.store import people
from mailer.transports import make_transport
from tests.flows.challenge.conftest import BEFORE, UTC, challenge_toml

TOKYO = ZoneInfo("Asia/Tokyo")
CREW = (("aiko@corp.example.com", "Aiko Tanaka", "Asia/Tokyo"), ("mia@corp.example.com", "Mia Sato", "Asia/Tokyo"),
        ("oliver@corp.example.com", "Oliver Bennett", "Europe/London"),
        ("sam@corp.example.com", "Sam Carter", "America/New_York"))


@pytest.fixture
def home_run(db, settings, tmp_path):
    """A five-day challenge for CREW, and a function ticking the real worker at given moments."""
    ids = {address: people.add_person(db, address, name, tz, ("member",)) for address, name, tz in CREW}
    path = tmp_path / "challenge.toml"
    path.write_text(challenge_toml(length=5))
    start_challenge(db, path, BEFORE)
    transport = make_transport(settings)

    def tick(*moments: datetime) -> None:
        for moment in moments:
            worker.tick(db, transport, moment, settings, "test")

    yield ids, tick
    transport.close()


def day_emails(settings, address: str) -> list[tuple[datetime, str, str]]:
    """(Date, Subject, plain text) of each day email sent to ``address``, oldest first."""
    found = []
    for path in (settings.mail_dir / "outbox").rglob("*"):
        if path.is_file():
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if msg["To"].addresses[0].addr_spec == address and str(msg["Subject"]).startswith("Day "):
                found.append((msg["Date"].datetime, str(msg["Subject"]), msg.get_body(("plain",)).get_content()))
    return sorted(found)


def hourly(start: datetime, end: datetime) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(int((end - start) / timedelta(hours=1)) + 1)]


def test_day_1_goes_out_when_the_worker_returns_and_day_2_waits_for_its_send_hour(home_run, settings):
    _, tick = home_run
    back = datetime(2027, 1, 4, 16, 0, tzinfo=UTC)  # 01:00 on 5 Jan in Tokyo: day 1's date is over
    tick(datetime(2027, 1, 3, 21, 0, tzinfo=UTC), back,
         *hourly(back + timedelta(hours=1), datetime(2027, 1, 5, 12, 0, tzinfo=UTC)))
    for address in ("aiko@corp.example.com", "mia@corp.example.com"):
        (first_at, first, text), (second_at, second, _) = day_emails(settings, address)[:2]
        assert first.startswith("Day 1 of 5") and first_at == back
        assert "Meet your accountability partner" in text
        assert second.startswith("Day 2 of 5")
        assert second_at.astimezone(TOKYO) >= datetime(2027, 1, 5, 8, 0, tzinfo=TOKYO)


def test_a_partner_is_introduced_before_their_progress_even_after_a_missed_day(home_run, settings, db):
    """Oliver and Sam are paired on day 1; Oliver's day 2 falls in an outage; day 3 introduces
    Sam again rather than saying "Sam journaled yesterday" to someone who never met him."""
    _, tick = home_run
    tick(*hourly(datetime(2027, 1, 3, 12, 0, tzinfo=UTC), datetime(2027, 1, 4, 14, 0, tzinfo=UTC)))
    tick(*hourly(datetime(2027, 1, 6, 1, 0, tzinfo=UTC), datetime(2027, 1, 6, 14, 0, tzinfo=UTC)))
    subjects = [s.split(":")[0] for _, s, _ in day_emails(settings, "oliver@corp.example.com")]
    assert subjects == ["Day 1 of 5", "Day 3 of 5"]
    _, _, day_3 = day_emails(settings, "oliver@corp.example.com")[1]
    assert "Meet your accountability partner: Sam Carter" in day_3


def test_a_partner_back_from_a_pause_is_not_called_someone_who_needs_a_friendly_note(home_run, settings, db):
    ids, tick = home_run
    sam = ids["sam@corp.example.com"]
    tick(*hourly(datetime(2027, 1, 3, 12, 0, tzinfo=UTC), datetime(2027, 1, 4, 14, 0, tzinfo=UTC)))
    set_participant_status(db, 1, sam, "paused", datetime(2027, 1, 4, 14, 30, tzinfo=UTC))
    tick(*hourly(datetime(2027, 1, 4, 15, 0, tzinfo=UTC), datetime(2027, 1, 5, 20, 0, tzinfo=UTC)))
    set_participant_status(db, 1, sam, "active", datetime(2027, 1, 5, 20, 30, tzinfo=UTC))
    tick(*hourly(datetime(2027, 1, 5, 21, 0, tzinfo=UTC), datetime(2027, 1, 6, 9, 0, tzinfo=UTC)))
    texts = [text for _, _, text in day_emails(settings, "oliver@corp.example.com")]
    assert len(texts) == 3
    assert "Sam is taking a break." in texts[1]
    assert "Sam is back from a break." in texts[2] and "friendly note" not in texts[2]


def test_a_latecomers_first_day_is_not_skipped_either(home_run, settings, db):
    """Nora joins on day 2 after its send hour: her first day is day 3, which falls in an outage."""
    from mailer.flows.challenge.flow import enroll

    _, tick = home_run
    nora = people.add_person(db, "nora@corp.example.com", "Nora Lind", "Europe/London", ("member",))
    tick(*hourly(datetime(2027, 1, 3, 12, 0, tzinfo=UTC), datetime(2027, 1, 5, 12, 0, tzinfo=UTC)))
    assert enroll(db, 1, nora, datetime(2027, 1, 5, 12, 30, tzinfo=UTC)) == 3
    back = datetime(2027, 1, 7, 2, 0, tzinfo=UTC)  # day 3 was 6 Jan in London: over
    tick(back, *hourly(back + timedelta(hours=1), datetime(2027, 1, 7, 12, 0, tzinfo=UTC)))
    got = [(at, subject.split(":")[0]) for at, subject, _ in day_emails(settings, "nora@corp.example.com")]
    assert got == [(back, "Day 3 of 5"), (datetime(2027, 1, 7, 8, 0, tzinfo=UTC), "Day 4 of 5")]


def test_someone_who_paused_before_day_1_does_not_get_it_late_on_resuming(home_run, settings, db):
    ids, tick = home_run
    aiko = ids["aiko@corp.example.com"]
    set_participant_status(db, 1, aiko, "paused", datetime(2027, 1, 2, 9, 0, tzinfo=UTC))
    tick(*hourly(datetime(2027, 1, 3, 12, 0, tzinfo=UTC), datetime(2027, 1, 4, 20, 0, tzinfo=UTC)))
    set_participant_status(db, 1, aiko, "active", datetime(2027, 1, 4, 20, 30, tzinfo=UTC))
    tick(*hourly(datetime(2027, 1, 4, 21, 0, tzinfo=UTC), datetime(2027, 1, 5, 1, 0, tzinfo=UTC)))
    subjects = [s.split(":")[0] for _, s, _ in day_emails(settings, "aiko@corp.example.com")]
    assert subjects == ["Day 2 of 5"]
