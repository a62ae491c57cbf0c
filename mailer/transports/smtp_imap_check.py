"""``run.py check`` for the SMTP + IMAP transport: log in to both, open the folders, send nothing."""
from __future__ import annotations

from imapclient import IMAPClient

from mailer.errors import TransportError
from mailer.transports.base import CheckLine
from mailer.transports.imap_box import _IMAP_ERRORS, _Imap
from mailer.transports.oauth import check_tokens
from mailer.transports.smtp_imap import SmtpImapSettings, _Smtp


def check_smtp_imap(s: SmtpImapSettings, smtp: _Smtp, imap: _Imap) -> list[CheckLine]:
    """One line each for log in, inbox, send, calendar and the Sent folder (after one for each
    OAuth token source: whether it gave a token)."""
    tokens = check_tokens([("SMTP", s.smtp_user, s.smtp_tokens), ("IMAP", s.imap_user, s.imap_tokens)])
    return tokens + _check_both(s, smtp, imap)


def _check_both(s: SmtpImapSettings, smtp: _Smtp, imap: _Imap) -> list[CheckLine]:
    send = _check_smtp(s, smtp)
    try:
        client = imap.connect()
    except TransportError as exc:
        return [CheckLine("log in", False, str(exc)), send]
    try:
        lines = [CheckLine("log in", True, f"IMAP {s.imap_host}:{s.imap_port} accepted {s.imap_user}"),
                 _check_folder("read the inbox", client, s.inbox_folder), send,
                 CheckLine("calendar", True, "invitations go out as iCalendar (iMIP) attachments")]
        if s.sent_folder is None:
            lines.append(CheckLine("Sent folder", False,
                                   "imap.sent_folder is not set: uncertain sends are resent"))
        else:
            lines.append(_check_folder("Sent folder", client, s.sent_folder))
    finally:
        imap.logout()
    return lines


def _check_smtp(s: SmtpImapSettings, smtp: _Smtp) -> CheckLine:
    """Connect, secure and log in, then QUIT: no MAIL command, so nothing can be sent."""
    try:
        smtp.conn = smtp.connect()
        return CheckLine("send", True, f"SMTP {s.smtp_host}:{s.smtp_port} ({s.smtp_security}) accepted us; "
                         "nothing was sent")
    except TransportError as exc:
        return CheckLine("send", False, str(exc))
    finally:
        smtp.quit()


def _check_folder(what: str, client: IMAPClient, folder: str) -> CheckLine:
    try:
        info = client.select_folder(folder, readonly=True)
    except _IMAP_ERRORS as exc:
        return CheckLine(what, False, f"cannot open IMAP folder {folder!r}: {exc}")
    return CheckLine(what, True, f"IMAP folder {folder!r} readable ({info.get(b'EXISTS', 0)} messages)")
