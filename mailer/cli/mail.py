"""Commands to look at and play with mail: outbox, inbox, reply, explain."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from mailer import inbox as inbox_flow
from mailer import outbox as outbox_flow
from mailer.app import App
from mailer.cli.now import parse_now
from mailer.cli.output import rows as _rows
from mailer.errors import ConfigError, MailerError, NotFoundError
from mailer.simulation.replies import CLIENTS, compose_reply
from mailer.store import inbox as inbox_store
from mailer.store import outbox as outbox_store
from mailer.store import people


@click.group("outbox")
def outbox_group() -> None:
    """Outgoing mail: what is queued, sent, dead or uncertain."""


@outbox_group.command("list")
@click.option("--state", type=click.Choice(["pending", "sending", "sent", "failed", "dead", "unknown"]))
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def outbox_list(app: App, state: str | None, limit: int, as_json: bool) -> None:
    """Recent outgoing emails, newest first."""
    _rows(outbox_store.list_rows(app.db, state, limit), as_json, ("id", "state", "to_addr", "subject"))


@outbox_group.command("show")
@click.argument("row_id", type=int)
@click.option("--raw", is_flag=True, help="Print the exact bytes that go on the wire.")
@click.pass_obj
def outbox_show(app: App, row_id: int, raw: bool) -> None:
    """One outgoing email: its state and history, or its raw bytes."""
    row = outbox_store.get_row(app.db, row_id)
    if raw:
        click.echo(row["data"].decode("utf-8", "replace"))
        return
    for key in ("id", "key", "message_id", "to_addr", "subject", "state", "attempts",
                "created_at", "next_attempt_at", "sent_at", "last_error"):
        click.echo(f"{key:16} {row[key] if row[key] is not None else '-'}")


@outbox_group.command("retry")
@click.argument("row_id", type=int)
@click.option("--now", "now_text", help="When it is retried (ISO 8601).")
@click.pass_obj
def outbox_retry(app: App, row_id: int, now_text: str | None) -> None:
    """Send a dead email again, byte for byte, at the next tick (after fixing what killed it)."""
    row = outbox_flow.retry_dead(app.db, row_id, parse_now(now_text))
    click.echo(f"outbox message {row_id} to {row['to_addr']} goes out again at the next tick")


@click.group()
def inbox() -> None:
    """Incoming mail: how each message was understood, and quarantine."""


@inbox.command("list")
@click.option("--state", type=click.Choice(["new", "done", "ignored", "quarantined"]))
@click.option("--limit", default=50, show_default=True)
@click.option("--for-lead", is_flag=True,
              help="Only what waits for a person: records kept for the lead, messages without an outcome, quarantine.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def inbox_list(app: App, state: str | None, limit: int, for_lead: bool, as_json: bool) -> None:
    """Recent incoming messages, newest first, each with its outcome (change, answer, kept, none)."""
    found = (inbox_store.waiting_for_lead(app.db, limit=limit) if for_lead
             else inbox_store.list_messages(app.db, state, limit))
    if for_lead and state:
        found = [row for row in found if row["state"] == state]
    _rows(found, as_json, ("id", "state", "outcome", "kind", "intent", "from_addr", "subject", "reason"))


@inbox.command("show")
@click.argument("msg_id", type=int)
@click.option("--raw", is_flag=True, help="Print the message as it arrived.")
@click.pass_obj
def inbox_show(app: App, msg_id: int, raw: bool) -> None:
    """One incoming message: what was decided and why, or its raw bytes."""
    row = inbox_store.get_message(app.db, msg_id)
    if raw:
        if not row["raw"]:
            raise NotFoundError(inbox_store.RAW_GONE.format(id=msg_id))
        click.echo(row["raw"].decode("utf-8", "replace"))
        return
    for key in ("id", "from_addr", "subject", "state", "outcome", "kind", "rule", "reason", "size",
                "received_at", "processed_at"):
        click.echo(f"{key:13} {row[key] if row[key] is not None else '-'}")


@inbox.command("replay")
@click.argument("msg_id", type=int)
@click.pass_obj
def inbox_replay(app: App, msg_id: int) -> None:
    """Put a quarantined message back in line; the next tick processes it again."""
    inbox_flow.replay(app.db, msg_id)
    click.echo(f"message {msg_id} will be processed on the next tick")


@click.command()
@click.option("--to", "to_addr", help="Answer the latest email sent to this address.")
@click.option("--message-id", help="Answer this email (its Message-ID).")
@click.option("--text", required=True, help="What the person writes.")
@click.option("--client", type=click.Choice(CLIENTS), default="gmail", show_default=True)
@click.option("--from", "from_addr", help="Send as this address instead (to try a forged reply).")
@click.option("--now", "now_text", help="When the reply is written (ISO 8601).")
@click.pass_obj
def reply(app: App, to_addr: str | None, message_id: str | None, text: str, client: str,
          from_addr: str | None, now_text: str | None) -> None:
    """Write into mail/inbox the reply a person's mail client would send (Maildir only)."""
    from mailer.transports.maildir import deliver_to_inbox

    if app.settings.transport_kind != "maildir":
        raise ConfigError("reply works with the maildir transport only; reply from your mail client instead")
    row = _original(app, to_addr, message_id)
    sender = from_addr or row["to_addr"]
    person = people.find_person(app.db, row["to_addr"])
    raw = compose_reply(row["data"], sender, person["name"] if person else sender,
                        text.replace("\\n", "\n"), client, parse_now(now_text))
    name = deliver_to_inbox(app.settings.mail_dir, raw)
    click.echo(f"reply from {sender} to \"{row['subject']}\" is in mail/inbox ({name}); run tick to process it")


def _original(app: App, to_addr: str | None, message_id: str | None) -> dict:
    if bool(to_addr) == bool(message_id):
        raise MailerError("give exactly one of --to ADDRESS or --message-id ID")
    row = (outbox_store.latest_to(app.db, to_addr) if to_addr
           else outbox_store.find_by_message_id(app.db, message_id))
    if row is None:
        raise NotFoundError(f"no email was sent to {to_addr}" if to_addr else f"no email has Message-ID {message_id}")
    return row


@click.command()
@click.option("--context", type=click.Choice(["journal", "approval", "volunteer", "meetup", "confirm"]),
              help="What the message answers (default: read from its reply token).")
@click.option("--now", "now_text", help="Check token expiry as of this time (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, one per line.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def explain(app: App, context: str | None, now_text: str | None, as_json: bool, files: tuple[Path, ...]) -> None:
    """Show how raw .eml files would be understood, and routed when the home has a database;
    changes nothing."""
    from mailer.inbound.explain import describe, explain as explain_raw

    router = _router(app, parse_now(now_text))
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise MailerError(f"{path}: cannot read: {exc}") from exc
        result = {"file": str(path), **explain_raw(raw, context, router=router,
                                                   max_bytes=app.settings.inbox_max_bytes)}
        click.echo(json.dumps(result, ensure_ascii=False, default=str) if as_json
                   else f"{path}\n{describe(result)}{_ends_in(result.get('route'))}\n")


def _ends_in(route: dict | None) -> str:
    """The outcome line of ``explain``: what the worker's handling ends in (and why, when kept)."""
    if not route or not route.get("ends_in"):
        return ""
    why = f" ({route['ends_because']})" if route.get("ends_because") else ""
    return f"\n  ends in: {route['ends_in']}{why}"


def _router(app: App, now: datetime):
    """Routing through this home's reply tokens and people, as the worker routes, when the
    home has a database (else None: the message is read on its own)."""
    if not app.settings.db_path.exists():
        return None
    from mailer import bounces, routing
    from mailer.inbound.classify import classify

    def route(msg) -> dict:
        state, _, _, reason, ends_in = inbox_flow.rehearse(app.db, msg, now, app.settings)
        worker = {"ends_in": ends_in, "ends_because": reason, "worker_state": state}
        verdict = classify(msg)
        if verdict.kind == "bounce":  # a bounce is not routed: it counts when tied to our mail
            tied, why_not = bounces.counted(app.db, msg, verdict.delayed, app.settings.mailer_address)
            return {"bounce_tied_by": tied.via if tied else None, "bounce_ignored": why_not,
                    "bounce_to": tied.sent["to_addr"] if tied else None, **worker}
        routed = routing.route(app.db, msg, app.settings.mailer_address, now)
        found = routing.describe(routed)
        if routed.token is not None and routed.person is not None:  # read as the worker reads it
            found["answered"] = inbox_flow.answered_text(app.db, msg, routed)
        if found["refused"] and state == "ignored":
            found["refused"] = reason  # the worker's own words (a calendar answer kept, not answered)
        return {**found, **worker}
    return route
