"""What kind of message came in: a person's reply, a calendar RSVP, an auto-reply or a bounce.

Triage is a table of small named rules, tried in order; the first that recognises the message
decides, and its name is recorded in the verdict ("auto-reply: Auto-Submitted header") so that
``explain`` and the inbox log can say why. The signs come from notes/email-safety.md (RFC 3464
delivery reports, RFC 3834 auto-replies, and the rules Discourse and Mailman use on real
Exchange and Gmail notices).

Order matters:
1. bounces that say so (a delivery report, a VERP address, MAILER-DAEMON) come first: a bounce
   may carry our own invite back, and it is never an answer;
2. an iTIP REPLY/COUNTER is a person pressing Accept or Propose, even when the calendar server
   that sent it stamped automation headers on the mail, so it comes before the auto-reply signs;
3. auto-reply signs; then an empty Return-Path, which RFC 3834 also recommends for
   auto-replies, so those are named as auto-replies first and only the rest count as bounces.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from mailer.inbound.message import ParsedMessage

KINDS = ("reply", "rsvp", "auto_reply", "bounce")
DAEMONS = ("mailer-daemon", "mailerdaemon", "postmaster", "mail-daemon")
NOREPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply)(?:$|[-_.+])", re.IGNORECASE)
AUTO_HEADER = re.compile(r"auto[-_]?(response|submitted|replied|reply|generated|respond)", re.IGNORECASE)
PRECEDENCE = ("bulk", "junk", "list", "auto_reply", "auto-reply")
# Out-of-office notices that carry no auto header at all still say so in their subject, in the
# mailbox owner's language (Exchange, Gmail, Zimbra, Lotus; list from notes/email-safety.md).
SUBJECT_PREFIXES = (
    "auto:", "automatic reply", "autosvar", "automatisk svar", "automatisch antwoord",
    "abwesenheitsnotiz", "automatische antwort", "risposta non al computer", "auto response",
    "respuesta automática", "respuesta automatica", "fuori sede", "out of office", "frånvaro",
    "réponse automatique", "reponse automatique", "resposta automática", "risposta automatica",
    "autoreply:", "auto-reply:", "automatic response",
)
ADDRESS = re.compile(r"[\w.+'=-]+@[\w-]+(?:\.[\w-]+)+")
STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
SCAN_CHARS = 100_000
VERP = re.compile(r"^[^@]*?bounces?\+([^@]+)@", re.IGNORECASE)
# Our own VERP return path (outbound.envelope.verp_sender): local+b-ID@domain.
OUR_VERP = re.compile(r"^[^@+]+\+b-([0-9a-f]{16,64})@", re.IGNORECASE)
# A non-standard notice that the mail is only late ("Delayed Mail (still being retried)").
DELAY_TEXT = re.compile(r"\b(delayed|still being retried|will (keep )?(re)?try|not yet been delivered)\b",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """What a message is, which rule decided, and for a bounce whom it is about."""

    kind: str  # one of KINDS
    rule: str  # e.g. "auto-reply: Auto-Submitted header"
    reason: str  # a sentence for a person
    bounced: str | None = None  # the address that failed (bounces only)
    hard: bool = False  # a permanent (5.x.x) failure (bounces only)
    delayed: bool = False  # only late, still being retried ("Action: delayed"): never a failure


Rule = Callable[[ParsedMessage], "Verdict | None"]


def classify(msg: ParsedMessage) -> Verdict:
    """The verdict of the first rule in ``RULES`` that recognises ``msg``; else a reply."""
    for rule in RULES:
        verdict = rule(msg)
        if verdict is not None:
            return verdict
    return Verdict("reply", "reply: no machine signs", "no sign of a bounce, an auto-reply or a calendar answer")


# --- bounces -------------------------------------------------------------------------------------

def delivery_report(msg: ParsedMessage) -> Verdict | None:
    """RFC 3464 ``multipart/report; report-type=delivery-status`` (Postfix, Exim, Exchange NDRs)."""
    report = msg.content_param("report-type") if msg.content_type == "multipart/report" else None
    if msg.delivery_status is None and report != "delivery-status":
        return None
    fields = _failed_recipient(msg.delivery_status or "")
    if fields is None and msg.delivery_status is not None:
        return Verdict("auto_reply", "auto-reply: delivery report without a failure",
                       "a delivery report that says the mail arrived (or was relayed)")
    if fields is None:  # report-type says delivery-status, but no status part: read its text
        address, hard = _bounced_from_text(msg)
        return _bounce("bounce: delivery-status report", address, hard, "delivery report: failed",
                       _delayed_text(msg, hard))
    address, status, action = fields
    address = address or _bounced_from_text(msg)[0]
    delayed = action == "delayed"  # RFC 3464 2.3.3: the MTA is still trying
    hard = not delayed and (bool(status and status.startswith("5")) or (not status and action == "failed"))
    return _bounce("bounce: delivery-status report", address, hard,
                   f"delivery report: {action or 'failed'} {status or ''}".strip(), delayed)


def _failed_recipient(status_text: str) -> tuple[str | None, str | None, str] | None:
    """(address, status, action) of the first recipient block that failed or was delayed."""
    for block in re.split(r"\n\s*\n", status_text):
        fields = _fields(block)
        action = fields.get("action", "").lower()
        status = STATUS.search(fields.get("status", ""))
        if action in ("failed", "delayed") or (status and status.group(1) in "45"):
            address = fields.get("final-recipient") or fields.get("original-recipient") or ""
            return _strip_type(address) or None, status.group(0) if status else None, action or "failed"
    return None


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in re.findall(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*(?:\n[ \t].*)*)", block, re.MULTILINE):
        fields.setdefault(name.lower(), value.strip())
    return fields


def _strip_type(value: str) -> str:
    """``rfc822; Bob@Example.com`` -> ``bob@example.com``."""
    address = value.split(";", 1)[-1].strip().strip("<>").strip()
    return address.lower() if "@" in address else ""


def verp_address(msg: ParsedMessage) -> Verdict | None:
    """Mail to a VERP return address (ours: ``local+b-ID@``; classic: ``bounces+TOKEN@``):
    only bounces are sent there."""
    ours = next((m.group(1) for m in map(OUR_VERP.match, msg.recipients) if m), None)
    if ours is not None:
        found, hard = _bounced_from_text(msg)
        return _bounce("bounce: VERP address", found, hard, f"sent to our bounce address +b-{ours}@",
                       _delayed_text(msg, hard))
    token = next((m.group(1) for m in map(VERP.match, msg.recipients) if m), None)
    if token is None:
        return None
    # Classic VERP encodes the recipient as ``user=domain``; otherwise read the bounce text.
    local, _, domain = token.rpartition("=")
    decoded = f"{local}@{domain}".lower() if local and "." in domain else None
    found, hard = _bounced_from_text(msg)
    return _bounce("bounce: VERP address", decoded or found, hard, f"sent to the bounce address bounces+{token}@")


def daemon_sender(msg: ParsedMessage) -> Verdict | None:
    """From MAILER-DAEMON or postmaster: a mail system talking, whatever the format."""
    if msg.from_addr.partition("@")[0] not in DAEMONS:
        return None
    address, hard = _bounced_from_text(msg)
    return _bounce("bounce: From MAILER-DAEMON/postmaster", address, hard, f"sent by {msg.from_addr}",
                   _delayed_text(msg, hard))


def null_return_path(msg: ParsedMessage) -> Verdict | None:
    """``Return-Path: <>``: the null sender that delivery reports use (RFC 5321 §4.5.5)."""
    if msg.return_path is None or msg.return_path.strip() not in ("", "<>"):
        return None
    address, hard = _bounced_from_text(msg)
    return _bounce("bounce: empty Return-Path", address, hard, "sent with an empty Return-Path (<>)",
                   _delayed_text(msg, hard))


def _bounced_from_text(msg: ParsedMessage) -> tuple[str | None, bool]:
    """The failed address and hardness from a bounce in no standard form.

    Exim names it in ``X-Failed-Recipients``; otherwise the first address in the text that is
    neither the sender nor one of our own recipients. Hard only when a 5.x.x status is written.
    """
    # A bounce says what failed near its top; a huge body is not scanned past this (cost).
    text = (msg.text or "")[:SCAN_CHARS] + "\n" + (msg.delivery_status or "")[:SCAN_CHARS]
    status = STATUS.search(text)
    hard = bool(status and status.group(1) == "5")
    failed = ADDRESS.findall(msg.header("x-failed-recipients") or "")
    if failed:
        return failed[0].lower(), hard
    ours = {msg.from_addr, *msg.recipients}
    for match in ADDRESS.finditer(text):
        found = match.group(0).lower().strip(".'")
        if found not in ours and found.partition("@")[0] not in DAEMONS:
            return found, hard
    return None, hard


def _delayed_text(msg: ParsedMessage, hard: bool) -> bool:
    """A notice in no standard form that says the mail is late, not lost (never when 5.x.x)."""
    return not hard and bool(DELAY_TEXT.search(f"{msg.subject}\n{(msg.text or '')[:4000]}"))


def _bounce(rule: str, address: str | None, hard: bool, detail: str, delayed: bool = False) -> Verdict:
    strength = "delay notice" if delayed else ("hard bounce" if hard else "soft bounce")
    who = address or "an address we could not read"
    return Verdict("bounce", rule, f"{strength} for {who} ({detail})", address, hard, delayed)


# --- calendar answers ------------------------------------------------------------------------------

def calendar_answer(msg: ParsedMessage) -> Verdict | None:
    """A text/calendar (or application/ics) part whose iTIP method is REPLY or COUNTER."""
    method = (msg.calendar_method or "").upper()
    if msg.calendar is None or method not in ("REPLY", "COUNTER"):
        return None
    what = "proposes a new time" if method == "COUNTER" else "answers an invitation"
    return Verdict("rsvp", f"rsvp: calendar {method}", f"a calendar {method} part: the attendee {what}")


# --- auto-replies ------------------------------------------------------------------------------------

def other_report(msg: ParsedMessage) -> Verdict | None:
    """Any other ``multipart/report``: read receipts (disposition-notification) and the like."""
    if msg.content_type != "multipart/report":
        return None
    kind = msg.content_param("report-type") or "unknown"
    return _auto("auto-reply: report", f"a machine report ({kind}), e.g. a read receipt")


def auto_submitted(msg: ParsedMessage) -> Verdict | None:
    """RFC 3834: ``Auto-Submitted`` present with any value but ``no``."""
    if not msg.has_header("auto-submitted"):
        return None
    value = (msg.header("auto-submitted") or "").split(";")[0].strip().lower()
    if value == "no":
        return None
    return _auto("auto-reply: Auto-Submitted header", f"Auto-Submitted: {value or '(empty)'}")


def precedence(msg: ParsedMessage) -> Verdict | None:
    """``Precedence: bulk|junk|list|auto_reply`` (older responders and list servers)."""
    value = (msg.header("precedence") or "").strip().lower()
    if value not in PRECEDENCE:
        return None
    return _auto("auto-reply: Precedence header", f"Precedence: {value}")


def autoreply_flag(msg: ParsedMessage) -> Verdict | None:
    """``X-Autoreply`` / ``X-Autorespond``, which vacation programs add."""
    name = next((n for n in ("x-autoreply", "x-autorespond") if msg.has_header(n)), None)
    if name is None:
        return None
    return _auto("auto-reply: X-Autoreply header", f"the message has an {name} header")


def auto_header_name(msg: ParsedMessage) -> Verdict | None:
    """Any header named like ``auto-response``, ``autoreplied``, ``x-auto-generated``…

    Except ``X-Auto-Response-Suppress`` (and Exchange's internal ``…AutoResponseSuppress``):
    it asks *us* not to auto-answer and says nothing about the message itself; Outlook puts
    it on people's own replies and calendar answers.
    """
    if not any(AUTO_HEADER.search(name) for name in msg.firsts()):
        return None  # the usual case: no name says auto at all (each name once, lower case)
    for name, _ in msg.headers:
        lowered = name.lower()
        if lowered == "auto-submitted" or lowered.endswith("suppress"):
            continue
        if AUTO_HEADER.search(lowered):
            return _auto("auto-reply: auto-* header", f"the message has an {name} header")
    return None


def noreply_sender(msg: ParsedMessage) -> Verdict | None:
    """From a no-reply address: nobody reads what it sends, so nobody wrote it either."""
    if not NOREPLY.match(msg.from_addr.partition("@")[0]):
        return None
    return _auto("auto-reply: no-reply sender", f"sent from {msg.from_addr}")


def subject_prefix(msg: ParsedMessage) -> Verdict | None:
    """A subject starting with a localised out-of-office notice ("Automatische Antwort: …")."""
    subject = msg.subject.strip().lower()
    prefix = next((p for p in SUBJECT_PREFIXES if subject.startswith(p)), None)
    if prefix is None:
        return None
    return _auto("auto-reply: localised subject", f"the subject starts with {msg.subject.strip()[:len(prefix)]!r}")


def exchange_rules_loop(msg: ParsedMessage) -> Verdict | None:
    """``X-MS-Exchange-Inbox-Rules-Loop``: an Exchange mailbox rule sent or forwarded it."""
    if not msg.has_header("x-ms-exchange-inbox-rules-loop"):
        return None
    return _auto("auto-reply: Exchange inbox rule", "an Exchange mailbox rule handled it (X-MS-Exchange-Inbox-Rules-Loop)")


def _auto(rule: str, detail: str) -> Verdict:
    return Verdict("auto_reply", rule, f"auto-reply, logged and never acted on: {detail}")


RULES: tuple[Rule, ...] = (
    delivery_report, verp_address, daemon_sender,
    calendar_answer,
    other_report, auto_submitted, precedence, autoreply_flag, auto_header_name, noreply_sender,
    subject_prefix, exchange_rules_loop,
    null_return_path,
)
