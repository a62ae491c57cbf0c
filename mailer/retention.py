"""Raw replies are not kept forever: ``inbox.keep_raw_days`` after a message was handled, its
raw bytes go (the inbox record's copy and the transport's processed copy, where it keeps one on
this machine) and the record of it stays: who sent it, subject, outcome and reason.

A step of every tick, on the tick's ``now``; each pass takes at most ``BATCH`` messages, so a
home that starts keeping less catches up over a few ticks instead of in one long one.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlite_utils import Database

from mailer.config import Settings
from mailer.store import inbox as store
from mailer.transports.base import Transport

log = logging.getLogger(__name__)
BATCH = 500


def drop_expired_raw(db: Database, transport: Transport, now: datetime, settings: Settings) -> int:
    """Remove the raw bytes of messages handled more than ``inbox.keep_raw_days`` before ``now``
    (0 keeps them forever); return how many. The transport's copies go first: a crash between
    the two leaves the records to be emptied at the next tick."""
    days = settings.inbox_keep_raw_days
    if not days:
        return 0
    expired = store.raw_expired(db, now - timedelta(days=days), BATCH)
    if not expired:
        return 0
    remove = getattr(transport, "remove_processed", None)  # only a Maildir keeps copies here
    if remove is not None:
        remove([transport_id for _, transport_id in expired if transport_id])
    store.drop_raw(db, [msg_id for msg_id, _ in expired])
    log.info("removed the raw bytes of %d messages handled over %d days ago", len(expired), days)
    return len(expired)
