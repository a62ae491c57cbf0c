"""Sponsor digests, one module per job.

- ``cadence``: when a digest is due for a recipient (weekly Monday 09:00 local by default);
- ``flow``: who gets one (``recipients``), what is due at ``now`` (``due``), building one on
  demand (``build``) and what a reply to a digest does (``handle_reply``: forwarded to the
  community leads, never read as a command);
- ``emails``: the email's context: what changed first, then each item with its chart;
- ``chart``: participation by day as a PNG (Pillow) shown inline, its alt text and key numbers.
Each flow that has something to report offers ``digest_items`` (see ``mailer.flows.base.DigestItem``)
and, optionally, ``sponsor_emails(db, now)``; the registry's ``DIGEST_SOURCES`` lists them.
"""
from mailer.flows.digest.flow import build, due, handle_reply, is_lead, recipients

__all__ = ["build", "due", "handle_reply", "is_lead", "recipients"]
