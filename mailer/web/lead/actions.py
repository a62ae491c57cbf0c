"""The actions a lead may take on the page, each through the verb its CLI command calls.

``outbox retry ID`` (a dead email's same bytes again), ``call close ID`` and ``charter remind
ID``; each returns the page to go back to and what to say there (``DONE``). Anything a verb
refuses (a ``MailerError``) is shown with its reason; nothing else is offered on a page.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlite_utils import Database

from mailer import outbox
from mailer.flows.charter import lifecycle
from mailer.locale.text import _
from mailer.store import calls as call_store

DONE = {"retried": _("The email goes out again at the next tick, byte for byte."),
        "closed": _('The call is closed: replies now get a polite "closed", and its sender gets the list '
                    "at the next tick."),
        "already-closed": _("The call was closed already; nothing changed."),
        "reminded": _("Reminders are queued for the approvers who have not answered; they go at the next tick."),
        "nobody-to-remind": _("No approver is waiting for a reminder (each has answered or was reminded).")}


def retry(db: Database, row_id: int, now: datetime, settings) -> tuple[str, str]:
    """``outbox retry ROW_ID``."""
    outbox.retry_dead(db, row_id, now)
    return "outbox", "retried"


def close_call(db: Database, call_id: int, now: datetime, settings) -> tuple[str, str]:
    """``call close CALL_ID``."""
    return "calls", "closed" if call_store.close_call(db, call_id, now) else "already-closed"


def remind(db: Database, charter_id: int, now: datetime, settings) -> tuple[str, str]:
    """``charter remind CHARTER_ID``."""
    return "charters", "reminded" if lifecycle.remind(db, charter_id, now, settings) else "nobody-to-remind"


ACTIONS: dict[str, Callable[[Database, int, datetime, object], tuple[str, str]]] = {
    "retry": retry, "close": close_call, "remind": remind}
