"""The inbox: incoming mail is kept raw, then parsed, classified, routed and acted on once.

``receive`` is what the worker runs: a batch at a time, it parses each new message once
(deduplicated by Message-ID, else a hash of the bytes, and by the transport's own id), handles
it and keeps its raw bytes with the outcome in the same transaction, commits, and only then
lets the transport file the batch away on the server. ``process`` handles whatever stored
message is still unhandled (left by ``ingest``, which only stores and files away, or put back
by ``replay``), each in its own transaction. In both, a message whose handling raises is rolled
back and kept quarantined with its reason, and the rest go on.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Iterator

from sqlite_utils import Database

from mailer import bounces, outbox, routing
from mailer.config import Settings
from mailer.locale.text import _
from mailer.flows import outcome as flow_outcome
from mailer.flows.registry import flow_for
from mailer.flows.base import PlannedEmail, RoutedReply
from mailer.inbound.calendar_reply import read_rsvp
from mailer.inbound.classify import classify
from mailer.inbound.commands import interpret
from mailer.inbound.explain import rsvp_reading
from mailer.inbound.history import sent_text
from mailer.inbound.message import ParsedMessage, parse_message
from mailer.inbound.reply import reply_text
from mailer.outbound.safe_text import one_line
from mailer.outbound.subject import reply_subject
from mailer.store import inbox as store
from mailer.store import outbox as outbox_store
from mailer.store import people
from mailer.transports.base import Fetched, Transport, read, settle

log = logging.getLogger(__name__)
UNSUBSCRIBE_SUBJECTS = {"unsubscribe", "stop"}
# Messages stored, handled and committed together: few commits, and memory bounded by a batch.
BATCH = 200


@dataclass
class InboxResult:
    """What one pass over the inbox did."""

    fetched: int = 0
    duplicates: int = 0
    done: int = 0
    ignored: int = 0
    quarantined: int = 0
    answers: int = 0
    notes: list[str] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)  # handled messages per outcome (store.OUTCOMES)


def dedupe_key(raw: bytes, msg: ParsedMessage | None) -> str:
    """Message-ID when there is one, else the sha256 of the bytes."""
    if msg is not None and msg.message_id:
        return "mid:" + msg.message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def receive(db: Database, transport: Transport, now: datetime, settings: Settings,
            result: InboxResult) -> None:
    """Store, handle and file away what the transport holds, ``BATCH`` messages at a time.

    Each message is parsed once, handled in a savepoint and kept raw with its outcome; a batch
    is one transaction, and only once it is committed are its messages filed away on the server.
    A crash leaves each message either not kept (none of its effect is: fetched and handled
    again) or kept with its effect (the next fetch recognises it and only files it away).
    """
    process(db, now, settings, result)  # what an interrupted pass left comes first: oldest first
    for chunk in _chunks(read(transport), BATCH):
        _take_chunk(db, chunk, now, settings, result)
        settle(transport, chunk)  # files the batch away, then moves the sync position past it


def ingest(db: Database, transport: Transport, now: datetime, result: InboxResult) -> None:
    """Store every message the transport holds, then let the transport file it away (no handling)."""
    for chunk in _chunks(read(transport), BATCH):
        _store_chunk(db, chunk, now, result)
        settle(transport, chunk)


def _chunks(items: Iterable[Fetched], size: int) -> Iterator[list[Fetched]]:
    chunk: list[Fetched] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _store_chunk(db: Database, chunk: list[Fetched], now: datetime, result: InboxResult) -> None:
    """Keep the messages of ``chunk`` not seen before, unhandled, in one transaction (each read
    only as far as its header block, for dedupe and the listing)."""
    seen = store.seen_transport_ids(db, [f.transport_id for f in chunk])
    with db.atomic():
        for fetched in chunk:
            if fetched.transport_id in seen:
                continue
            msg = _parse_headers_only(fetched.raw)
            new = store.store_raw(db, dedupe_key(fetched.raw, msg), fetched.transport_id, fetched.raw,
                                  msg.from_addr if msg else "", msg.subject if msg else "", now)
            result.fetched += bool(new)
            result.duplicates += not new


def _parse_headers_only(raw: bytes) -> ParsedMessage | None:
    # Only the header block: cheap, and enough for dedupe and the listing.
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    try:
        return parse_message(raw[: end if end >= 0 else len(raw)][:262_144])
    except Exception:  # noqa: BLE001 - a header block we cannot read still gets stored by hash
        return None


def _take_chunk(db: Database, chunk: list[Fetched], now: datetime, settings: Settings,
                result: InboxResult) -> None:
    """Handle and keep the new messages of ``chunk`` in one transaction, each in its savepoint.

    Should the transaction itself be lost (an error that ends it), nothing of the batch is
    kept: its messages are then stored raw and handled one transaction each by ``process``.
    """
    seen = store.seen_transport_ids(db, [f.transport_id for f in chunk])
    fresh = [fetched for fetched in chunk if fetched.transport_id not in seen]
    parsed = [_parse_once(fetched.raw, settings) for fetched in fresh]
    batch = InboxResult()
    try:
        with db.atomic():
            # Which Message-IDs (or hashes) we keep already: one query for the batch, not one a
            # message, read in the batch's transaction like the writes that depend on it.
            kept = store.kept_dedupe_keys(db, [key for _, key in parsed])
            for fetched, (msg, key) in zip(fresh, parsed):
                _take(db, fetched, msg, key, kept, now, settings, batch)
    except sqlite3.Error:
        raise  # the database failed, not a message: stop; the batch is not kept, nor filed away
    except Exception:  # noqa: BLE001 - the batch is rolled back whole; one by one instead
        log.warning("inbox batch of %d rolled back; handling its messages one by one", len(fresh))
        _store_chunk(db, fresh, now, result)
        process(db, now, settings, result)
        return
    _add(result, batch)


def _parse_once(raw: bytes, settings: Settings) -> tuple[ParsedMessage | None, str]:
    """The message parsed (only its header block when it is over ``inbox.max_bytes``: it is
    quarantined unread) and its dedupe key."""
    msg = parse_message(raw) if len(raw) <= settings.inbox_max_bytes else _parse_headers_only(raw)
    return msg, dedupe_key(raw, msg)


def _take(db: Database, fetched: Fetched, msg: ParsedMessage | None, key: str, kept: set[str],
          now: datetime, settings: Settings, result: InboxResult) -> None:
    """Handle one parsed message (unless we have it already: its key is in ``kept``) and keep
    it with its outcome; its key joins ``kept``."""
    raw = fetched.raw
    if key in kept:
        result.duplicates += 1
        return
    row = {"raw": raw, "size": len(raw)}
    whole = len(raw) <= settings.inbox_max_bytes
    try:
        with store.savepoint(db):
            outcome, failure = handle(db, row, now, settings, result, msg if whole else None), None
    except sqlite3.Error:
        raise  # the database failed, not the message: stop, nothing of the batch is kept
    except Exception as exc:  # noqa: BLE001 - the per-message catch: quarantine, go on
        if not db.conn.in_transaction:
            raise  # the error ended the batch's transaction: nothing more can be kept in it
        outcome, failure = ("quarantined", None, None, f"{type(exc).__name__}: {exc}", "kept"), exc
    msg_id = store.store_handled(db, key, fetched.transport_id, raw, msg.from_addr if msg else "",
                                 msg.subject if msg else "", outcome, now)
    kept.add(key)
    result.fetched += 1
    if failure is not None:
        log.warning("inbox message %s quarantined: %s", msg_id, failure)
        result.quarantined += 1
        result.outcomes["kept"] += 1
    else:
        _count(result, msg_id, outcome)


def process(db: Database, now: datetime, settings: Settings, result: InboxResult) -> None:
    """Handle every stored message not yet processed, each in its own transaction."""
    for msg_id in store.unprocessed(db):
        row = store.get_message(db, msg_id)
        try:
            with db.atomic():
                outcome = handle(db, row, now, settings, result)
                store.set_outcome(db, msg_id, *outcome[:4], now, outcome=outcome[4])
        except sqlite3.Error:
            raise  # the database failed, not the message: stop, the message stays 'new'
        except Exception as exc:  # noqa: BLE001 - the per-message catch: quarantine, go on
            _quarantine(db, msg_id, exc, now, result)
            continue
        _count(result, msg_id, outcome)


def _quarantine(db: Database, msg_id: int, exc: Exception, now: datetime, result: InboxResult) -> None:
    log.warning("inbox message %s quarantined: %s", msg_id, exc)
    store.set_outcome(db, msg_id, "quarantined", None, None, f"{type(exc).__name__}: {exc}", now, outcome="kept")
    result.quarantined += 1
    result.outcomes["kept"] += 1


def _count(result: InboxResult, msg_id: int, outcome: tuple) -> None:
    state, _, _, reason, ended = outcome
    result.outcomes[ended or "none"] += 1
    if state == "done":
        result.done += 1
    else:
        result.ignored += 1
    if reason and (state != "done" or ended == "none"):
        result.notes.append(f"#{msg_id}: {reason}")


def _add(result: InboxResult, other: InboxResult) -> None:
    for name in ("fetched", "duplicates", "done", "ignored", "quarantined", "answers"):
        setattr(result, name, getattr(result, name) + getattr(other, name))
    result.notes += other.notes
    result.outcomes.update(other.outcomes)


def handle(db: Database, row: dict, now: datetime, settings: Settings, result: InboxResult,
           msg: ParsedMessage | None = None) -> tuple[str, str | None, str | None, str | None, str]:
    """Act on one stored message (``msg``: its parse, when already done); returns
    (state, kind, rule, reason, outcome), the outcome one of ``store.OUTCOMES``."""
    if row["size"] > settings.inbox_max_bytes:
        raise ValueError(f"message of {row['size']} bytes exceeds inbox.max_bytes")
    msg = msg or parse_message(row["raw"])
    verdict = classify(msg)
    if verdict.kind == "bounce":
        return (*_bounce(db, msg, verdict, settings), "kept")  # the lead sees it; never answered
    if verdict.kind == "auto_reply":
        return "ignored", "auto_reply", verdict.rule, "auto-reply: logged, never acted on", "kept"
    return _reply(db, msg, verdict, now, settings, result)


def _bounce(db: Database, msg: ParsedMessage, verdict, settings: Settings) -> tuple[str, str, str, str]:
    """Count a bounce against the person we sent the returned email to, and only then."""
    found, why_not = bounces.counted(db, msg, verdict.delayed, settings.mailer_address)
    if found is None:
        log.info("bounce ignored: %s (%s)", why_not, verdict.reason)
        return "ignored", "bounce", verdict.rule, why_not
    address = found.sent["to_addr"]
    person = people.record_bounce(db, address, verdict.hard, settings.inbox_bounce_threshold)
    what = "hard" if verdict.hard else "soft"
    rule = f"{verdict.rule}; tied by {found.via}"
    if person is None:
        return "ignored", "bounce", rule, f"{what} bounce for {address}, no longer a person"
    return "done", "bounce", rule, f"{what} bounce for {person['email']} ({person['status']})"


def _reply(db: Database, msg: ParsedMessage, verdict, now: datetime, settings: Settings,
           result: InboxResult) -> tuple[str, str, str, str | None, str]:
    route = routing.route(db, msg, settings.mailer_address, now)
    if route.refused:
        if route.keep and (flow := flow_for(route.token["purpose"])):
            flow[0].keep_unattributed(db, msg, route.token["ref"], now)  # for a person to see
        if route.ask:  # found only by a reference in the body: its owner is asked, nothing acts
            asked = _ask_token_owner(db, msg, route, now, settings, result)
            return "ignored", verdict.kind, f"route: {route.via}", route.refused, "answer" if asked else "kept"
        if verdict.kind == "rsvp" and route.token is None and not route.keep:
            # A calendar client answered an event we do not know: a "reply by hand" note would go
            # to a machine (principle 5). Kept for the organiser; nothing is sent.
            return "ignored", verdict.kind, f"route: {route.via}", _unknown_event(msg), "kept"
        answered = _answer_unrouted(db, msg, route, now, settings, result)
        return "ignored", verdict.kind, f"route: {route.via}", route.refused, "answer" if answered else "kept"
    flow = flow_for(route.token["purpose"])
    if flow is None:
        return ("ignored", verdict.kind, f"route: {route.via}",
                f"no flow handles {route.token['purpose']} replies yet", "kept")
    reply = _routed(msg, verdict, route, flow[1], now, answered_text(db, msg, route))
    before = db.conn.total_changes
    plans = outbox.as_answers(flow[0].handle_reply(db, reply, now, settings), reply.person_email)
    ended, reason = _outcome_of(reply, db.conn.total_changes > before, plans)
    if plans:  # most replies (journal entries) want no answer
        result.answers += outbox.enqueue(db, plans, now, settings)
    return "done", verdict.kind, f"route: {route.via}; intent: {reply.intent}", reason, ended


def _outcome_of(reply: RoutedReply, changed: bool, plans: list[PlannedEmail]) -> tuple[str, str | None]:
    """What a routed reply ended in, and why when it is not plain: what its handler marked
    (``flows.outcome``), else a change when it wrote to the store, else an answer when it
    planned one. None of these is a bug in the handler: kept as "none", and shown."""
    marked = flow_outcome.marked(reply)
    if marked is not None:
        return marked
    if changed:
        return "change", None
    if plans:
        return "answer", None
    log.warning("a %s reply (%s) was handled without an outcome", reply.purpose, reply.ref)
    return "none", f"no outcome: the {reply.purpose} handler changed nothing and answered nothing (a bug)"


def answered_text(db: Database, msg: ParsedMessage, route: routing.Route) -> str:
    """The text of our emails this reply answers (In-Reply-To, the token's email, References):
    a stretch quoting them is history, never the author's words (DESIGN principle 9)."""
    ids = [*msg.in_reply_to, route.token.get("message_id", ""), *reversed(msg.references)]
    return "\n".join(sent_text(raw) for raw in outbox_store.answered_data(db, ids))


def _routed(msg: ParsedMessage, verdict, route: routing.Route, context: str, now: datetime,
            answered: str | None = None) -> RoutedReply:
    text = reply_text(msg, route.person["name"], answered)
    if not text.strip() and msg.subject.strip().lower() in UNSUBSCRIBE_SUBJECTS:
        text = msg.subject.strip()  # List-Unsubscribe's mailto: the subject is the command
    base = dict(person_id=route.person["id"], person_email=route.person["email"], person=route.person,
                purpose=route.token["purpose"], ref=route.token["ref"], message=msg, reply_text=text,
                received_at=now)
    if verdict.kind == "rsvp":  # the calendar part decides, not the generated body text
        reading = rsvp_reading(msg, verdict)
        return RoutedReply(**base, intent=reading["intent"], comment=reading.get("comment") or "",
                           rsvp=reading.get("rsvp"))
    intent = interpret(context, text)
    return RoutedReply(**base, intent=intent.intent, comment=intent.comment, role=intent.role)


def _unknown_event(msg: ParsedMessage) -> str:
    """Why a calendar answer to no meetup of ours is kept: whose, to which event."""
    rsvp = read_rsvp(msg.calendar or "", msg.from_addr)
    who = (rsvp.attendee if rsvp else "") or msg.from_addr or "(nobody)"
    uid = rsvp.uid if rsvp and rsvp.uid else "(none)"
    return f"calendar answer from {who} to an event we do not know (UID {uid}): kept for the organiser"


def _answer_unrouted(db: Database, msg: ParsedMessage, route: routing.Route, now: datetime,
                     settings: Settings, result: InboxResult) -> bool:
    """One helpful answer a day to a known member whose reply we could not place; whether one
    was sent for this message (else it is kept for the lead).

    Never when a token was found for someone else: the From may be forged, and answering it
    would mail whoever the forger named.
    """
    if route.token is not None:
        return False
    sender = people.find_person(db, msg.from_addr) if msg.from_addr else None
    day = now.date().isoformat()
    if sender is None:
        return False
    if not store.claim_auto_answer(db, sender["email"], "unrouted", day):
        return False  # told once today already: this one is kept for the lead
    plan = PlannedEmail(
        key=f"system:unrouted:{sender['email']}:{day}", to=sender["email"],
        subject=reply_subject(msg.subject, _("We could not place your reply")),
        template="system/unrouted", context={"their_subject": one_line(msg.subject)}, auto_reply=True,
        in_reply_to=msg.message_id)
    result.answers += outbox.enqueue(db, [plan], now, settings)
    return True


def rehearse(db: Database, msg: ParsedMessage, now: datetime, settings: Settings) -> tuple:
    """What handling ``msg`` at ``now`` would end in, (state, kind, rule, reason, outcome), with
    every effect undone (nothing stored, nothing queued): ``explain`` reports the worker's own
    decision, so the two cannot disagree."""
    with store.rehearsal(db):
        try:
            return handle(db, {"raw": b"", "size": 0}, now, settings, InboxResult(), msg)
        except sqlite3.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - the worker would quarantine it: so says the rehearsal
            return "quarantined", None, None, f"{type(exc).__name__}: {exc}", "kept"


def _ask_token_owner(db: Database, msg: ParsedMessage, route: routing.Route, now: datetime,
                     settings: Settings, result: InboxResult) -> bool:
    """Ask the token's recipient, at their own address, whether they wrote a reply found only
    by the reference in its body; the question carries a fresh token for the same purpose, so
    answering it acts. At most one a day per token's record and person."""
    person, token = route.person, route.token
    day = now.date().isoformat()
    plan = PlannedEmail(
        key=f"system:did-you-write:{token['ref']}:{person['id']}:{day}", to=person["email"],
        subject=_("Did you write this? %(subject)s",
                  subject=one_line(reply_subject(msg.subject, "")) or _("your answer")),
        template="system/did_you_write", context={"their_subject": one_line(msg.subject)}, auto_reply=True,
        reply_purpose=token["purpose"], reply_ref=token["ref"])
    asked = outbox.enqueue(db, [plan], now, settings)
    result.answers += asked
    return bool(asked)


def replay(db: Database, msg_id: int) -> None:
    """Put a quarantined (or ignored) message back in line; the next pass processes it again."""
    store.reset_for_replay(db, msg_id)
