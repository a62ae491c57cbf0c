"""The outbox: planned emails become fixed bytes once, then go out at the pace allowed.

``enqueue`` renders a PlannedEmail, issues its reply token and stores the bytes under the
idempotency key (a key already present is a no-op). ``flush`` claims due rows with a lease,
hands them to the transport one connection at a time, and records each outcome.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlite_utils import Database

from mailer import pacing
from mailer.config import Settings
from mailer.errors import PermanentSendError, TemporarySendError, TooLargeError, UncertainSendError
from mailer.faults import kill_point
from mailer.flows.base import ANSWER, BULK, TIMELY, PlannedEmail
from mailer.locale import SOURCE, language_for
from mailer.locale.text import localize
from mailer.outbound import envelope, shared, shrink
from mailer.outbound.render import render
from mailer.outbound.safe_text import one_line
from mailer.outbox_sent import SentGroup, reconcile
from mailer.store import outbox as store
from mailer.store import people, tokens
from mailer.store.rows import one_unit
from mailer.transports.base import Outgoing, Transport
from mailer.web import links

log = logging.getLogger(__name__)

CLAIM = 100  # rows leased at a time (a claim is a transaction: fewer of them, fewer waits for the lock)


@dataclass
class FlushResult:
    """What one flush did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    unknown: int = 0
    reconciled: int = 0
    held_by_pace: int = 0
    errors: list[str] = field(default_factory=list)


def enqueue(db: Database, plans: Iterable[PlannedEmail], now: datetime, settings: Settings) -> int:
    """Store each plan not yet in the outbox; return how many were new. One transaction.

    A plan that cannot be built raises and rolls the whole call back: callers that must not
    let one plan stop the others (the worker) use ``recipients`` and ``enqueue_one`` per plan.
    """
    plans = list(plans)
    new = 0
    with db.atomic():
        found = prefetch(db, plans)
        for plan in plans:
            new += enqueue_one(db, plan, now, settings, found)
    return new


@dataclass
class Prefetched:
    """What a batch of plans needs from the store, read with one query each, not per plan."""

    people: dict[str, dict]
    keys: set[str]


def prefetch(db: Database, plans: Iterable[PlannedEmail]) -> Prefetched:
    """The people these plans are addressed to (by the address as planned) and which of their
    keys the outbox already holds."""
    plans = list(plans)
    return Prefetched(people.find_people(db, {plan.to for plan in plans}),
                      store.keys_present(db, [plan.key for plan in plans]))


def enqueue_one(db: Database, plan: PlannedEmail, now: datetime, settings: Settings,
                found: Prefetched) -> int:
    """Render and store one plan (1) unless its key is known or its recipient is not mailable (0).

    Composing comes first and writes nothing, so a plan that fails to build leaves no token
    and no row behind; ``found`` is ``prefetch`` of the batch this plan belongs to.
    """
    built = build_one(db, plan, now, settings, found)
    return store_built(db, built, now, settings) if built else 0


@dataclass
class Built:
    """A plan composed for its recipient and not yet stored (``build_one``)."""

    plan: PlannedEmail
    person: dict
    message_id: str
    token: str | None
    data: bytes
    subject: str  # in the recipient's language, as stored on the outbox row


def build_one(db: Database, plan: PlannedEmail, now: datetime, settings: Settings,
              found: Prefetched) -> Built | None:
    """Compose one plan (None when its key is known or its recipient is not mailable), writing
    nothing but a deactivated person's held mail; ``store_built`` stores it. The worker composes
    a batch this way outside any transaction, then stores it in a short one, so the thread that
    sends meanwhile is never kept from recording a send while emails are composed."""
    if plan.key in found.keys:
        return None
    found.keys.add(plan.key)
    person = found.people.get(plan.to.strip().lower())
    if person is None or not people.is_mailable(person):
        if person is not None and person["status"] == "inactive":  # kept visible: `people list`
            people.hold_mail(db, person["id"], plan.key, plan.subject, now)
        log.info("not mailing %s (%s)", plan.to, "unknown" if person is None else person["status"])
        return None
    address = settings.mailer_address
    message_id = envelope.new_message_id(address.partition("@")[2] or "localhost")
    token = envelope.new_token() if plan.reply_purpose or plan.recurring else None
    subject = subject_for(plan, person, settings)
    data = _compose(plan, person, message_id, token, now, settings, subject=subject)
    return Built(plan, person, message_id, token, data, subject)


def store_built(db: Database, built: Built, now: datetime, settings: Settings) -> int:
    """Store a composed plan: its token and its outbox row (1), or nothing when its key was
    taken meanwhile (0)."""
    return store_all(db, [built], now, settings)


def store_all(db: Database, built: list[Built], now: datetime, settings: Settings) -> int:
    """``store_built`` for a batch, with a few statements in all: the rows whose keys are still
    free, their bytes and the tokens they carry (none for a key taken meanwhile); how many."""
    rows = [{"key": one.plan.key, "message_id": one.message_id, "to_addr": one.person["email"],
             "subject": one.subject, "data": one.data, "created_at": now,
             "not_before": one.plan.not_before, "priority": priority(one.plan)} for one in built]
    expires = now + timedelta(days=settings.tokens_ttl_days)
    with one_unit(db):
        stored = store.enqueue_rows(db, rows)
        tokens.add_tokens(db, [(one.token, one.person["id"], one.plan.reply_purpose or "unsubscribe",
                                one.plan.reply_ref or one.plan.key, one.message_id, now, expires)
                               for one in built if one.token and one.plan.key in stored])
    return len(stored)


# (flow, kind) of the emails that belong to their hour (the key's first and third parts:
# ``challenge:7:day:5:person:42``): late, they say the wrong thing or nothing useful.
_TIMELY_KINDS = {("challenge", "day"), ("meetup", "invite"), ("meetup", "reminder"), ("meetup", "cancel")}


def priority(plan: PlannedEmail) -> int:
    """When ``plan`` goes relative to the rest of the queue: ANSWER (to someone who wrote to us:
    an answer, a confirmation, their words passed on), TIMELY (a day email, a meetup invitation,
    update, cancellation or reminder) or BULK (announcements, summaries, digests, calls)."""
    if plan.priority in (ANSWER, TIMELY, BULK):
        return plan.priority
    parts = plan.key.split(":")
    if plan.auto_reply or plan.in_reply_to or parts[:2] == ["digest", "reply"]:
        return ANSWER
    return TIMELY if (parts[0], parts[2] if len(parts) > 2 else "") in _TIMELY_KINDS else BULK


def as_answers(plans: Iterable[PlannedEmail], replier: str) -> list[PlannedEmail]:
    """``plans`` made while handling a reply from ``replier``: the ones to them are answers
    (a confirmation they must reply to is too), whatever their kind."""
    who = replier.strip().lower()
    return [replace(p, priority=ANSWER) if p.to.strip().lower() == who else p for p in plans]


def set_aside(db: Database, plan: PlannedEmail, now: datetime, reason: str) -> None:
    """Record a plan that could not be built as a ``dead`` row with its reason (shown by
    ``outbox list`` and ``status``); its key is taken, so it is not retried every tick."""
    domain = "invalid"
    store.add_dead(db, key=plan.key, message_id=envelope.new_message_id(domain), to_addr=plan.to,
                   subject=plan.subject, created_at=now, reason=reason)


def compose(plan: PlannedEmail, person: dict, now: datetime, settings: Settings) -> bytes:
    """The bytes ``enqueue`` would store for ``plan`` (``run.py preview``), storing nothing: a
    fresh Message-ID, and a reply token that is never issued."""
    message_id = envelope.new_message_id(settings.mailer_address.partition("@")[2] or "localhost")
    token = envelope.new_token() if plan.reply_purpose or plan.recurring else None
    return _compose(plan, person, message_id, token, now, settings)


def _compose(plan: PlannedEmail, person: dict, message_id: str, token: str | None,
             now: datetime, settings: Settings, share: bool = True, subject: str | None = None) -> bytes:
    subject = subject if subject is not None else subject_for(plan, person, settings)
    text, html = render_plan(plan, person, token, settings, subject, now, share)
    tokened = envelope.plus_address(settings.mailer_address, token) if token else None
    env = envelope.Envelope(
        message_id=message_id, from_name=settings.mailer_site_name, from_addr=settings.mailer_address,
        to_name=person["name"], to_addr=person["email"], subject=subject, date=now,
        reply_to=tokened if plan.reply_purpose else None, in_reply_to=plan.in_reply_to,
        recurring=plan.recurring, auto_reply=plan.auto_reply, unsubscribe=tokened,
        unsubscribe_url=links.unsubscribe_url(settings, person.get("id"), plan.key, now) if token else None,
        extra_headers=plan.headers)
    calendar = plan.context.get("_calendar")
    language = language_for(person, getattr(settings, "mailer_language", SOURCE))
    return envelope.build(env, text, html, tuple(a.in_language(language) for a in plan.attachments), calendar)


def subject_for(plan: PlannedEmail, person: dict, settings: Settings) -> str:
    """``plan``'s subject in ``person``'s language."""
    return localize(plan.subject, language_for(person, getattr(settings, "mailer_language", SOURCE)))


def render_plan(plan: PlannedEmail, person: dict, token: str | None, settings: Settings,
                subject: str | None = None, now: datetime | None = None, share: bool = True) -> tuple[str, str]:
    """The (text, HTML) parts of a planned email for ``person``, exactly as they would be sent,
    in their language (``mailer.locale.language_for``); ``now`` dates the footer's preferences
    link, shown with ``[web] base_url``. ``share``: rendered once per shape of email
    (``outbound.shared``: the same text and HTML); False renders this one email in full."""
    language = language_for(person, getattr(settings, "mailer_language", SOURCE))
    context = {**plan.context, "site_name": settings.mailer_site_name,
               "subject": subject if subject is not None else subject_for(plan, person, settings),
               "recipient": {"name": one_line(person["name"]), "email": person["email"]},
               "reply_ref": token[:envelope.SHORT_REF] if token and plan.reply_purpose else None,
               "recurring": plan.recurring,
               "preferences_url": links.preferences_url(settings, person.get("id"), now)}
    return (shared.render if share else render)(plan.template, context, language)


def allowance(db: Database, now: datetime, settings: Settings) -> int:
    """How many emails pacing lets us send right now (the batch size caps it too)."""
    room = settings.outbox_batch
    for length, limit in pacing.pace_windows(settings):
        room = min(room, limit - store.sent_after(db, now - length))
    return max(room, 0)


def next_send_at(db: Database, now: datetime, settings: Settings) -> datetime | None:
    """When the worker should wake to send: the moment the pace frees room for emails already
    due (None: nothing due is waiting on the pace)."""
    wins = pacing.pace_windows(settings)
    if not wins or not store.due_count(db, now):
        return None
    longest = max(length for length, _ in wins)
    return pacing.next_room_at(store.send_times_after(db, now - longest), now, wins)


def flush(db: Database, transport: Transport, now: datetime, settings: Settings, owner: str,
          clock: Callable[[], datetime] | None = None, should_stop: Callable[[], bool] = lambda: False,
          progress: Callable[[int], None] = lambda n: None, into: FlushResult | None = None) -> FlushResult:
    """Send what is due, within the pace; ``clock`` (default: ``now``) times each outcome.

    ``into`` adds this flush's outcomes to a result the caller keeps (a tick flushes often).
    """
    clock = clock or (lambda: now)
    result = into if into is not None else FlushResult()
    store.expire_leases(db, now)
    reconcile(db, transport, now, result)
    room = allowance(db, now, settings)
    result.held_by_pace = max(store.due_count(db, now) - room, 0)
    group = SentGroup(db, owner)
    while room > 0 and not should_stop():
        rows = claimed = store.claim(db, owner, now, settings.outbox_lease_seconds, min(room, CLAIM))
        if not rows:
            break
        busy_until: datetime | None = None
        try:
            if getattr(transport, "send_batch", None) is not None:  # Maildir: one flush to disk a batch
                from mailer.outbox_batch import send_rows as send_batch

                busy_until = send_batch(db, transport, rows, owner, clock, settings, result, should_stop, progress,
                                        group)
                rows = []
            if getattr(transport, "parallel", 1) > 1:  # [smtp] connections: several sends at once
                from mailer.outbox_parallel import send_rows

                busy_until = send_rows(db, transport, rows, owner, clock, settings, result, should_stop, progress,
                                       group)
                rows = []
            for row in rows:
                if busy_until is not None or should_stop():  # the rest waits untried, or goes back
                    give_back(db, row, owner, clock(), busy_until)
                else:
                    busy_until = _send_one(db, transport, row, owner, clock(), settings, result, group)
                    kill_point("sent")  # crash tests: killed with sends not yet recorded, the next rows claimed
                    progress(1)
        finally:
            group.commit()  # before the next claim counts the pace, and on an error
        room -= len(claimed)
        if busy_until is not None:
            result.errors.append(f"server busy: sending again from {busy_until:%H:%M:%S} UTC")
            break
    return result


def _send_one(db: Database, transport: Transport, row: dict, owner: str, now: datetime,
              settings: Settings, result: FlushResult, group: SentGroup | None = None) -> datetime | None:
    """Send one row and record the outcome (a send in ``group``, when given); return when to try
    again if the server asked us to wait."""
    try:
        _send_within_limit(db, transport, row, outgoing(row, settings))
    except (TemporarySendError, PermanentSendError, UncertainSendError) as exc:
        return record(db, row, owner, now, settings, result, exc)
    return record(db, row, owner, now, settings, result, None, group)


def outgoing(row: dict, settings: Settings) -> Outgoing:
    """The message a claimed row puts on the wire."""
    return Outgoing(message_id=row["message_id"], sender=settings.mailer_address,
                    bounce_to=envelope.verp_sender(settings.mailer_address, row["message_id"]),
                    recipients=(row["to_addr"],), data=row["data"])


def record(db: Database, row: dict, owner: str, now: datetime, settings: Settings, result: FlushResult,
           error: TemporarySendError | PermanentSendError | UncertainSendError | None,
           group: SentGroup | None = None) -> datetime | None:
    """Record how sending a claimed row went (``error`` None: accepted, committed with ``group``
    when given, at once otherwise); return when to try again if the server asked us to wait."""
    if error is None:
        if group is None:
            store.record_sent_many(db, owner, [(row["id"], now)])
        else:
            group.add(row["id"], now)
        result.sent += 1
    elif isinstance(error, TemporarySendError) and error.retry_after:
        # throttled: "later", never "failed", and it never counts towards dead
        until = now + timedelta(seconds=error.retry_after)
        store.postpone(db, row["id"], owner, until, str(error))
        result.retried += 1
        return until
    elif isinstance(error, TemporarySendError):
        _retry_or_die(db, row, owner, now, settings, str(error), result)
    elif isinstance(error, PermanentSendError):
        store.finish(db, row["id"], owner, "dead", now, error=str(error))
        result.dead += 1
        result.errors.append(f"{row['to_addr']}: {error}")
    else:  # uncertain: the server may have it
        store.finish(db, row["id"], owner, "unknown", now, error=str(error))
        result.unknown += 1
    return None


def _send_within_limit(db: Database, transport: Transport, row: dict, mail: Outgoing) -> None:
    """Send ``mail``, never over the transport's size limit: a bigger email, or one the server
    refuses as too big, goes without its attachments and with a note saying so (kept as the
    row's bytes, so a resend sends the same). Only an email with nothing left to leave off dies."""
    limit = transport.max_message_bytes
    if limit is not None and len(mail.data) > limit:
        mail = _smaller(db, row, mail, limit, f"{len(mail.data)} bytes, over the transport's {limit}")
    try:
        transport.send(mail)
    except TooLargeError as exc:
        smaller = _smaller(db, row, mail, limit, str(exc))
        try:
            transport.send(smaller)
        except TooLargeError as again:
            raise TooLargeError(f"too large to send even without attachments: {again}") from again


def _smaller(db: Database, row: dict, mail: Outgoing, limit: int | None, why: str) -> Outgoing:
    data = shrink.without_attachments(mail.data, limit)
    if data is None or (limit is not None and len(data) > limit):
        raise TooLargeError(f"too large to send even without attachments ({why})")
    log.info("outbox row %s: attachments left off (%s)", row["id"], why)
    store.replace_data(db, row["id"], data)
    return replace(mail, data=data)


def _retry_or_die(db: Database, row: dict, owner: str, now: datetime, settings: Settings,
                  error: str, result: FlushResult) -> None:
    if row["attempts"] >= settings.outbox_max_attempts:
        store.finish(db, row["id"], owner, "dead", now, error=f"gave up after {row['attempts']} attempts: {error}")
        result.dead += 1
        return
    store.finish(db, row["id"], owner, "failed", now, error=error,
                 next_attempt=now + backoff(row["attempts"], settings.outbox_backoff_seconds))
    result.retried += 1


def backoff(attempts: int, base_seconds: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to base * 2^(attempts-1), capped at a day."""
    ceiling = min(base_seconds * 2 ** max(attempts - 1, 0), 86_400)
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def _release(db: Database, row: dict, owner: str, now: datetime) -> None:
    """Give back a claimed row we did not start sending (shutdown requested)."""
    store.finish(db, row["id"], owner, "pending", now, error=None)


def give_back(db: Database, row: dict, owner: str, now: datetime, busy: datetime | None) -> None:
    """A claimed row not tried: it waits for the server (``busy``: it asked us to wait), or goes
    back to pending (a stop was asked for)."""
    if busy is not None:
        store.postpone(db, row["id"], owner, busy, "server busy: waiting as it asked")
    else:
        _release(db, row, owner, now)


def drain_eta(db: Database, now: datetime, settings: Settings) -> datetime | None:
    """When the last queued email will have gone at the configured pace (None: nothing queued).

    Emails in flight count as queued: after a kill they come back as uncertain and are sent
    or reconciled. The forecast replays the pace windows over the sends of the last day, and
    each send takes as long as the last sends took (``pacing.send_interval``): with no pace set
    a queue that is not empty never drains "now".
    """
    queued = sum(n for s, n in store.counts(db).items() if s in ("pending", "failed", "unknown", "sending"))
    if not queued:
        return None
    wins = pacing.pace_windows(settings)
    longest = max((length for length, _ in wins), default=timedelta(0))
    sent = store.send_times_after(db, now - max(longest, timedelta(days=1)))
    per_send = pacing.send_interval(sent) or pacing.ASSUMED_PER_SEND  # each send takes time, paced or not
    return pacing.drain_at([t for t in sent if t > now - longest], queued, now, wins, per_send)


def retry_dead(db: Database, row_id: int, now: datetime) -> dict:
    """Send a dead email again at the next tick, byte for byte (``outbox retry``, the lead's
    page); the row as it was. Refused, with the reason, when it is not dead or has no bytes."""
    from mailer.errors import MailerError  # imported here: keeps this module's import lines as they are

    row = store.get_row(db, row_id)  # NotFoundError for an unknown id
    if row["state"] != "dead":
        raise MailerError(f"outbox message {row_id} is {row['state']}, not dead: nothing to retry")
    if not row["data"]:
        raise MailerError(f"outbox message {row_id} cannot be retried: it was never built or its bytes "
                          f"were removed ({row['last_error'] or 'no reason kept'})")
    store.revive_dead(db, row_id, now, f"retried by hand after: {row['last_error'] or 'dead'}")
    return row
