"""The email a plan becomes, as the outbox would store it, without storing anything."""
from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from mailer.config import Settings
from mailer.flows.base import PlannedEmail
from mailer.outbox import compose


@dataclass(frozen=True)
class Rendered:
    """One composed email and its parts."""

    data: bytes
    subject: str
    text: str
    html: str
    ics: str | None


def rendered(plan: PlannedEmail, person: dict, now: datetime, settings: Settings) -> Rendered:
    """Compose ``plan`` for ``person`` exactly as the outbox does, and read its parts back."""
    data = compose(plan, person, now, settings)
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return Rendered(data, str(message["Subject"]), _part(message, "text/plain") or "",
                    _part(message, "text/html") or "", _part(message, "text/calendar"))


def _part(message: EmailMessage, content_type: str) -> str | None:
    for part in message.walk():
        if part.get_content_type() == content_type and not part.is_attachment():
            return part.get_content()
    return None
