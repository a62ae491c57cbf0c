"""Transports, picked by the ``[transport] kind`` setting."""
from __future__ import annotations

from sqlite_utils import Database

from mailer.config import Settings
from mailer.errors import ConfigError
from mailer.transports.base import Transport


def make_transport(settings: Settings, db: Database | None = None) -> Transport:
    """Build the transport ``settings`` asks for; ``db`` keeps an incremental reader's position."""
    from mailer.transports import split

    for problem in split.problems(settings):
        raise ConfigError(f"{settings.home / 'mailer.toml'}: {problem}")
    if split.is_split(settings):
        return _split(settings, db)
    kind = settings.transport_kind
    if kind == "exchange":
        return _exchange(settings, db)
    if kind == "maildir":
        from mailer.transports.maildir import MaildirTransport

        return MaildirTransport(settings.mail_dir)
    if kind == "smtp-imap":
        return _smtp_imap(settings, settings.imap_sent_folder or None)
    if kind == "graph":
        from mailer.transports.graph import from_settings

        return from_settings(settings, db)
    raise ConfigError(f"{settings.home / 'mailer.toml'}: transport.kind = {kind!r} is not available "
                      "yet; expected maildir, smtp-imap, exchange or graph")


def _exchange(settings: Settings, db: Database | None) -> Transport:
    from mailer.store.sync_state import SyncState
    from mailer.transports.exchange import ExchangeTransport
    from mailer.transports.exchange_connect import ExchangeSettings, validate

    exchange = ExchangeSettings(
        mailbox=settings.exchange_mailbox, endpoint=settings.exchange_endpoint, auth=settings.exchange_auth,
        username=settings.exchange_username, password=settings.exchange_password,
        client_id=settings.exchange_client_id, client_secret=settings.exchange_client_secret,
        tenant_id=settings.exchange_tenant_id, version=settings.exchange_version,
        max_connections=settings.exchange_max_connections, processed_folder=settings.exchange_processed_folder,
        native_meetings=settings.exchange_native_meetings, source=str(settings.home / "mailer.toml"))
    validate(exchange)
    return ExchangeTransport(exchange, SyncState(db) if db is not None else None)


def _smtp_imap(settings: Settings, sent_folder: str | None) -> Transport:
    """SMTP + IMAP (password or XOAUTH2 login); over a pool of ``[smtp] connections`` when more than one."""
    from mailer.transports.oauth import token_sources
    from mailer.transports.smtp_imap import SmtpImapSettings, SmtpImapTransport

    transport = SmtpImapTransport(SmtpImapSettings(
        smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
        smtp_security=settings.smtp_security, smtp_user=settings.smtp_user,
        smtp_password=settings.smtp_password, imap_host=settings.imap_host,
        imap_port=settings.imap_port, imap_security=settings.imap_security,
        imap_user=settings.imap_user, imap_password=settings.imap_password,
        inbox_folder=settings.imap_folder, processed_folder=settings.imap_processed_folder,
        sent_folder=sent_folder, ca_file=settings.transport_ca_file or None,
        verp=settings.smtp_verp, **token_sources(settings)))
    if settings.smtp_connections <= 1:
        return transport
    from mailer.transports.smtp_pool import SmtpPool
    from mailer.transports.split import SplitTransport

    return SplitTransport(SmtpPool(transport, settings.smtp_connections), transport, True, ("smtp", "imap"))


def _split(settings: Settings, db: Database | None) -> Transport:
    """The ``[transport] send`` and ``read`` halves (checked by ``split.problems``)."""
    from mailer.transports.split import SplitTransport

    send, read = settings.transport_send, settings.transport_read
    if send == read:
        return _half(settings, db, send)
    copy = settings.transport_sent_copy == "reader"
    if (send, read) == ("smtp", "imap"):  # one SMTP + IMAP transport reads; it or its pool sends
        both = _smtp_imap(settings, settings.imap_sent_folder or None)
        sender = getattr(both, "sender", both)
        return SplitTransport(sender, getattr(both, "reader", both), copy, (send, read))
    return SplitTransport(_half(settings, db, send), _half(settings, db, read), copy, (send, read))


def _half(settings: Settings, db: Database | None, name: str) -> Transport:
    """The transport that sends or reads as ``name`` (smtp, imap, graph, exchange, maildir)."""
    if name in ("smtp", "imap"):
        return _smtp_imap(settings, settings.imap_sent_folder or None)
    if name == "exchange":
        return _exchange(settings, db)
    if name == "graph":
        from mailer.transports.graph import from_settings

        return from_settings(settings, db)
    from mailer.transports.maildir import MaildirTransport

    return MaildirTransport(settings.mail_dir)
