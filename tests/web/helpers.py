"""A sample home driven by the real worker, and the links its real emails carry."""
from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from mailer import worker
from mailer.app import App
from mailer.store import challenges, people

# Day 1 of the sample challenge (start 2027-01-04, 08:00 local) is open in Tokyo, London and Madrid.
DAY1 = datetime.fromisoformat("2027-01-04T09:00:00+00:00")
AIKO, MARIA, OLIVER = "aiko.tanaka@corp.example.com", "maria.gonzalez@corp.example.com", "oliver.bennett@corp.example.com"


class SampleHome:
    """The web home's database, transport and worker at a test's clock."""

    def __init__(self, home: Path) -> None:
        self.home, self.app = home, App(home)
        self.db, self.settings = self.app.db, self.app.settings

    def tick(self, now: datetime) -> worker.TickResult:
        """One real worker tick at ``now`` (sends into the Maildir outbox)."""
        return worker.tick(self.db, self.app.transport, now, self.settings, "test")

    def sent(self) -> list[EmailMessage]:
        """Every email the worker has written to the Maildir outbox, oldest first."""
        paths = sorted((p for p in (self.settings.mail_dir / "outbox").rglob("*") if p.is_file()),
                       key=lambda p: p.stat().st_mtime_ns)
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]

    def email_to(self, address: str, subject_start: str) -> EmailMessage:
        """The newest email to ``address`` whose subject starts so."""
        found = [m for m in self.sent() if m["To"].addresses[0].addr_spec == address
                 and str(m["Subject"]).startswith(subject_start)]
        assert found, f"no email {subject_start!r} to {address}"
        return found[-1]

    def person(self, address: str) -> dict:
        """The person's row, as it is now."""
        return people.find_person(self.db, address)

    def status(self, address: str, challenge_id: int = 1) -> str:
        """The person's status in the sample challenge."""
        return challenges.get_participant(self.db, challenge_id, self.person(address)["id"])["status"]

    def close(self) -> None:
        """Close the database and transport."""
        self.app.close()


def unsubscribe_url(msg: EmailMessage) -> str:
    """The https (here: http on loopback) URL in the email's List-Unsubscribe."""
    return re.match(r"<(http[^>]+)>", str(msg["List-Unsubscribe"])).group(1)


def preferences_url(msg: EmailMessage) -> str:
    """The preferences link in the email's plain-text footer."""
    text = msg.get_body(("plain",)).get_content()
    return re.search(r"Your email preferences \(pause, stop, time zone\): (\S+)", text).group(1)
