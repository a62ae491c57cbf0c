"""The one exception hierarchy of cop-mailer.

Everything the program raises on purpose is a ``MailerError``. The worker catches it per
message (and quarantines or retries); the CLI catches it and prints a plain message.
"""
from __future__ import annotations


class MailerError(Exception):
    """Base of every error cop-mailer raises on purpose."""


class ConfigError(MailerError):
    """Raised when mailer.toml (or an input file like a challenge TOML or a CSV) is invalid.

    The message names the file, the key or line, the value and what was expected.
    """


class AddressError(MailerError):
    """Raised for an address mail can never be sent to (a non-ASCII local part, a bad IDNA domain)."""


class StoreError(MailerError):
    """Raised when the database is in a state the program cannot work with."""


class HomeBusyError(MailerError):
    """Raised when another worker (or ``tick``) holds the home's worker lock."""


class LocalFileError(MailerError):
    """Raised when a file or folder on this machine (a Maildir, an export, a backup) cannot be
    read or written: permissions, a file where a folder should be. The message names the path;
    what the database holds is not lost."""


class OverLimitError(MailerError):
    """Raised when a command would have more emails fall due in a day than the transport's pace
    lets go in a day (``mailer.capacity``); the message gives the figures and the ways out."""


class NotFoundError(MailerError):
    """Raised when a record named on the command line (a message, a person) does not exist."""


class InboundError(MailerError):
    """Raised while processing one incoming message; the message is quarantined with it."""


class TransportError(MailerError):
    """Base for problems talking to a mail server."""


class TemporarySendError(TransportError):
    """A 4xx reply or a connection problem before the data was handed over: retry later.

    ``retry_after`` (seconds) is set when the server asked us to wait (Exchange's ErrorServerBusy
    back-off hint): the message is "later", not "failed", and nothing is sent before then.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GoneError(TransportError):
    """The server no longer has the item asked for (a calendar event deleted or already cancelled)."""


class PermanentSendError(TransportError):
    """A 5xx reply: this message will never be accepted as it is (state ``dead``)."""


class TooLargeError(PermanentSendError):
    """The message is over the size the server takes (HTTP 413, SMTP 552 5.3.4, Exchange's
    ErrorMessageSizeExceeded): the outbox sends it again without its attachments."""


class UncertainSendError(TransportError):
    """The connection broke after the data was handed over: the server may have it (state ``unknown``)."""
