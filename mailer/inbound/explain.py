"""How one raw message would be understood, for a person to read: ``python run.py explain``.

``explain`` runs the same pure steps the inbox runs (parse, classify, new text, intent) and
returns a plain dict, the public contract of the command's ``--json`` output:

| key        | meaning                                                                   |
|------------|---------------------------------------------------------------------------|
| kind       | reply, rsvp, auto_reply or bounce                                          |
| intent     | the commands vocabulary of the context; "none" for auto-replies and bounces; |
|            | for an RSVP accept/decline/tentative from PARTSTAT, or "counter"           |
| reply_text | the new text of the reply (quotes and signature removed)                   |
| comment    | the words that came with the intent, or the RSVP's comment                 |
| role       | the volunteer role named, or null                                          |
| rsvp       | {attendee, uid, partstat, sequence, …} or null                             |
| bounced    | the failed address of a bounce, or null                                    |
| hard       | true/false for a bounce, else null                                         |
| rule       | the rules that decided kind and intent ("auto-reply: Auto-Submitted header") |
| context    | journal, approval, volunteer, meetup or confirm (a held answer)            |
| route      | given a home: {via, purpose, ref, person, context, refused} as the worker  |
|            | routes it (token, in-reply-to, body-reference or none), else null          |
| from       | the sender as the worker reads it (the raw From header's one address), or "" |
| from_problem | why the From header names nobody (two From headers, not one address), or null |
| size       | the message's size in bytes                                                |
| read_as    | the intent the text reads as, whether or not the worker would act on it    |
| outcome    | what the worker would do: "quarantined: …", "ignored: …", "refused: …" or  |
|            | "acted on: INTENT"; the intent is "none" whenever it would not act         |
| files      | each file part: filename, mime_type, size, kept, why (kept or left out)    |

Nothing is stored or sent; it never raises for a message, however broken.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from mailer.inbound.attachments import choose
from mailer.inbound.calendar_reply import Rsvp, read_rsvp
from mailer.inbound.classify import Verdict, classify
from mailer.inbound.commands import interpret
from mailer.inbound.message import ParsedMessage, parse_message

DEFAULT_CONTEXT = "journal"
PARTSTAT_INTENT = {"ACCEPTED": "accept", "DECLINED": "decline", "TENTATIVE": "tentative"}


def explain(raw: bytes, context: str | None,
            lookup_context: Callable[[ParsedMessage], str | None] | None = None,
            router: Callable[[ParsedMessage], dict[str, Any]] | None = None,
            max_bytes: int | None = None) -> dict[str, Any]:
    """How ``raw`` would be understood in ``context`` (else the routed context, else
    ``lookup_context(msg)``, else journal). ``router`` (``routing.describe`` over a home's
    store) and ``max_bytes`` (``inbox.max_bytes``) make the outcome the worker's own."""
    msg = parse_message(raw)
    route = router(msg) if router is not None else None
    if context is None and route is not None:
        context = route.get("context")
    if context is None and lookup_context is not None:
        context = lookup_context(msg)
    context = context or DEFAULT_CONTEXT
    verdict = classify(msg)
    result: dict[str, Any] = {
        "kind": verdict.kind, "intent": "none", "reply_text": _reply_text(msg), "comment": "",
        "role": None, "rsvp": None, "bounced": None, "hard": None, "rule": verdict.rule,
        "reason": verdict.reason, "context": context, "subject": msg.subject, "from": msg.from_addr,
        "from_problem": msg.sender_problem,
        "files": files_reading(msg) if verdict.kind == "reply" else [],
    }
    if verdict.kind == "bounce":
        result.update(bounced=verdict.bounced, hard=verdict.hard)
    elif verdict.kind == "rsvp":
        result.update(rsvp_reading(msg, verdict))
    elif verdict.kind == "reply":
        intent = interpret(context, result["reply_text"])
        result.update(intent=intent.intent, comment=intent.comment, role=intent.role,
                      rule=f"{verdict.rule}; {intent.rule}")
    result.update(route=route, size=len(raw))
    result["outcome"] = _outcome(result, route, max_bytes)
    result["read_as"] = result["intent"]
    if not result["outcome"].startswith("acted on"):
        result["intent"] = "none"  # never "journal" for a message the worker would not act on
    return result


def _outcome(result: dict[str, Any], route: dict[str, Any] | None, max_bytes: int | None) -> str:
    """What the worker would do, in the order it decides (mailer.inbox.handle)."""
    if max_bytes is not None and result["size"] > max_bytes:
        return f"quarantined: {result['size']:,} bytes is over inbox.max_bytes ({max_bytes:,}); never read"
    if result["kind"] == "bounce" and route is not None and "bounce_tied_by" in route:
        return _bounce_outcome(result, route)
    if result["kind"] in ("auto_reply", "bounce"):
        return "ignored: logged only; never counted as an answer and never answered"
    if route is not None and route.get("refused"):
        return f"refused: {route['refused']}"
    return f"acted on: {result['intent']}" + ("" if route is not None else " (no home: routing not checked)")


def _bounce_outcome(result: dict[str, Any], route: dict[str, Any]) -> str:
    """A bounce in a home: counted against the address our returned email went to, as the
    worker counts it (``bounces.counted``), or ignored with the worker's reason."""
    if route["bounce_tied_by"] is None:
        return f"ignored: {route['bounce_ignored']}"
    strength = "hard" if result["hard"] else "soft"
    return (f"acted on: {strength} bounce counted against {route['bounce_to']} "
            f"(tied by {route['bounce_tied_by']}); never answered")


def files_reading(msg: ParsedMessage) -> list[dict[str, Any]]:
    """Each file of a reply: whether a journal entry would keep it, and why (not)."""
    choice = choose(msg.files, msg.html)
    kept = [{"filename": f.filename, "mime_type": f.mime_type, "size": f.size, "kept": True,
             "why": "kept" if whole else "kept as a name and size only (not an image or a document)"}
            for f, whole in choice.kept]
    return kept + [{"filename": f.filename, "mime_type": f.mime_type, "size": f.size, "kept": False, "why": why}
                   for f, why in choice.dropped]


def _reply_text(msg: ParsedMessage) -> str:
    """The new text by ``inbound.reply``; until that module exists, the plain body as it is."""
    try:
        from mailer.inbound.reply import reply_text
    except ImportError:
        return (msg.text or re.sub(r"<[^>]+>", " ", msg.html or "")).strip()
    return reply_text(msg)


def rsvp_reading(msg: ParsedMessage, verdict: Verdict) -> dict[str, Any]:
    """What a calendar reply says: intent (accept, decline, tentative, counter), comment, rsvp."""
    rsvp = read_rsvp(msg.calendar or "", msg.from_addr)
    if rsvp is None:
        return {"intent": "unclear", "rule": f"{verdict.rule}; rsvp: calendar part unreadable"}
    if (msg.calendar_method or rsvp.method).upper() == "COUNTER":
        intent, why = "counter", "a COUNTER proposes a new time"
    else:
        intent = PARTSTAT_INTENT.get(rsvp.partstat or "", "unclear")
        why = f"PARTSTAT={rsvp.partstat or '(none)'}"
    return {"intent": intent, "comment": rsvp.comment, "rsvp": rsvp_dict(rsvp),
            "rule": f"{verdict.rule}; rsvp: {why}"}


def rsvp_dict(rsvp: Rsvp) -> dict[str, Any]:
    """The RSVP as plain JSON-ready values."""
    return {
        "attendee": rsvp.attendee, "uid": rsvp.uid, "partstat": rsvp.partstat,
        "sequence": rsvp.sequence, "method": rsvp.method,
        "dtstamp": rsvp.dtstamp.isoformat() if rsvp.dtstamp else None,
        "recurrence_id": rsvp.recurrence_id, "comment": rsvp.comment,
    }


def describe(result: dict[str, Any]) -> str:
    """A few plain lines telling a person how the message was understood and why."""
    sender = result.get("from") or f"nobody ({result.get('from_problem') or 'no From address'})"
    lines = [f"  from:    {sender}", f"  kind:    {_kind_line(result)}"]
    if result.get("kind") in ("reply", "rsvp"):
        comment = f' (comment: "{_short(result["comment"])}")' if result.get("comment") else ""
        role = f" as {result['role']}" if result.get("role") else ""
        where = f"{result.get('context')} context" if result.get("kind") == "reply" else "from the calendar part"
        unread = result.get("read_as") not in (None, "none", result.get("intent"))
        reading = f" (reads as {result['read_as']}; not acted on)" if unread else ""
        lines.append(f"  intent:  {result.get('intent')}{reading}{role}{comment} [{where}]")
    if result.get("rsvp"):
        r = result["rsvp"]
        lines.append(f"  rsvp:    {r.get('attendee') or '(no attendee)'} {r.get('partstat') or ''} "
                     f"uid={r.get('uid')} sequence={r.get('sequence')}")
    if result.get("kind") == "reply":
        lines.append(f'  text:    "{_short(result.get("reply_text") or "")}"')
    for item in result.get("files") or []:
        mark = "keep" if item["kept"] else "drop"
        lines.append(f"  file:    {mark} {item['filename']} ({item['mime_type']}, {item['size']:,} bytes): {item['why']}")
    lines.append(f"  why:     {result.get('rule')}")
    route = result.get("route")
    if route and "via" in route:  # a bounce is tied, not routed: its outcome line says how
        whom = f" for {route['person']} ({route['purpose']} {route['ref']})" if route.get("person") else ""
        lines.append(f"  route:   {route['via']}{whom}")
    if result.get("outcome"):
        lines.append(f"  outcome: {result['outcome']}")
    return "\n".join(lines)


def _kind_line(result: dict[str, Any]) -> str:
    kind = result.get("kind")
    if kind == "bounce":
        strength = "hard" if result.get("hard") else "soft"
        return f"bounce ({strength}) for {result.get('bounced') or 'an address we could not read'}"
    return {"reply": "a person's reply", "rsvp": "a calendar answer (RSVP)",
            "auto_reply": "an auto-reply"}.get(kind, str(kind))


def _short(text: str, limit: int = 70) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
