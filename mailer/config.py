"""One frozen Settings object, loaded in one place from ``HOME/mailer.toml`` and the environment.

The schema below is the single source of truth: every key has a type, a default and help text;
``init`` writes a commented file from it and ``load_settings`` rejects unknown keys and wrong
types with the file, the key, the value and what was expected.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailer import private
from mailer.errors import ConfigError

# section -> key -> (type, default, help). Types: str, int, bool, a range of whole numbers, or a
# tuple of allowed strings.
SCHEMA: dict[str, dict[str, tuple[Any, Any, str]]] = {
    "mailer": {
        "site_name": (str, "Community of Practice", "Name shown in emails and as the sender's name."),
        "address": (str, "cop@example.test", "The mailbox the service sends from and reads; reply "
                    "tokens are added as local+TOKEN@domain."),
        "unsubscribe_url": (str, "", "Base https URL of a one-click unsubscribe endpoint, if you run "
                            "one (TOKEN is appended); empty: unsubscribe by mailto and by reply."),
        "data": (str, "sample", "What a new database starts with: \"sample\" (the sample community "
                 "and its 30-day challenge in data/), \"none\", or a folder holding people.csv "
                 "and challenges/*.toml. Only read when mailer.db is first created."),
        "lead": (str, "", "The community lead's address: gets a volunteer call's list at closing "
                 "when the call names no sender (empty: nobody)."),
        "language": (("en", "de", "fr", "es", "ja"), "en", "The language of emails to people whose "
                     "row in people.csv gives none (docs/languages.md)."),
    },
    "transport": {
        "kind": (("maildir", "smtp-imap", "exchange", "graph"), "maildir", "How mail is sent and read."),
        "pace": (("none", "exchange-online", "google-workspace", "custom"), "none",
                 "Send-rate preset: exchange-online 30/min 10,000/day, google-workspace 2,000/day "
                 "(unset with kind = graph: exchange-online)."),
        "per_minute": (int, 0, "With pace = custom: messages per minute (0 = no limit)."),
        "per_day": (int, 0, "With pace = custom: messages per 24 hours (0 = no limit)."),
        "ca_file": (str, "", "Extra CA certificates (PEM file) to trust for SMTP and IMAP TLS, "
                    "e.g. a company's own CA (empty: the system's)."),
    },
    "smtp": {
        "host": (str, "localhost", "SMTP server."),
        "port": (int, 587, "SMTP port (587 STARTTLS, 465 TLS, 25 none)."),
        "security": (("none", "starttls", "tls"), "starttls", "Connection security."),
        "user": (str, "", "SMTP login (empty: no authentication)."),
        "password": (str, "", "SMTP password; better set MAILER_SMTP_PASSWORD."),
        "verp": (bool, True, "Send each email from its own bounce address local+b-ID@domain (VERP), so "
                 "only bounces of our own emails count; false if the server refuses plus-addressed senders."),
    },
    "imap": {
        "host": (str, "localhost", "IMAP server."),
        "port": (int, 993, "IMAP port (993 TLS, 143 none/STARTTLS)."),
        "security": (("none", "starttls", "tls"), "tls", "Connection security."),
        "user": (str, "", "IMAP login."),
        "password": (str, "", "IMAP password; better set MAILER_IMAP_PASSWORD."),
        "folder": (str, "INBOX", "Folder replies arrive in."),
        "processed_folder": (str, "Processed", "Folder processed mail is moved to."),
        "sent_folder": (str, "", "Sent folder used to reconcile uncertain sends (empty: none)."),
    },
    "graph": {
        "mailbox": (str, "", "With kind = graph: the service's mailbox (empty: mailer.address)."),
        "tenant_id": (str, "", "Microsoft Entra tenant id (a GUID or a domain) of the app registration."),
        "client_id": (str, "", "Application (client) id of the app registration."),
        "auth": (("client-secret", "certificate", "none"), "client-secret",
                 "How the app signs in: client-secret (MAILER_GRAPH_CLIENT_SECRET), certificate "
                 "(certificate_path), or none (local test servers only)."),
        "certificate_path": (str, "", "With auth = certificate: PEM file holding the private key and "
                             "its certificate (relative to the home folder)."),
        "endpoint": (str, "https://graph.microsoft.com/v1.0", "Graph API base URL (another cloud, or "
                     "a local test server)."),
        "authority": (str, "https://login.microsoftonline.com", "Sign-in authority (another cloud)."),
        "processed_folder": (str, "Processed", "Top-level folder processed mail is moved to "
                             "(created on first use)."),
        "native_meetings": (bool, False, "Meetups as Outlook events in the service mailbox's calendar "
                            "(needs Calendars.ReadWrite): Exchange Online sends the invitations, updates and "
                            "cancellations, and attendees' answers are read back (see Report-back meetups)."),
    },
    "exchange": {
        "mailbox": (str, "", "With kind = exchange: the service's mailbox address "
                    "(e.g. practice@corp.example.com)."),
        "endpoint": (str, "", "EWS URL, e.g. https://mail.corp.example.com/EWS/Exchange.asmx (http:// "
                     "allowed for a local server); empty: autodiscover from the mailbox address."),
        "auth": (("ntlm", "basic", "oauth2", "none"), "ntlm", "How to log in: ntlm or basic with username and "
                 "MAILER_EXCHANGE_PASSWORD; oauth2 app-only with impersonation; none only for local test servers."),
        "username": (str, "", "Login for ntlm/basic, e.g. CORP\\svc-cop."),
        "client_id": (str, "", "oauth2: the app registration's client id (its secret in "
                      "MAILER_EXCHANGE_CLIENT_SECRET)."),
        "tenant_id": (str, "", "oauth2: the directory (tenant) id."),
        "version": (str, "15.1", "Server build to assume, so no probe is needed: 15.1 Exchange 2016, 15.2 "
                    "Exchange 2019, 15.20 Exchange Online."),
        "max_connections": (int, 2, "Most EWS connections open at once (Exchange Online allows 27)."),
        "processed_folder": (str, "Processed", "Folder under the mailbox root that handled mail is moved to."),
        "native_meetings": (bool, False, "Meetups as Exchange calendar items instead of iMIP invitations: "
                            "Exchange sends the invitations, updates and cancellations, and attendees' "
                            "answers are read back into the same RSVP records."),
    },
    "outbox": {
        "max_attempts": (int, 8, "Attempts before a message is set aside as dead."),
        "backoff_seconds": (int, 60, "First retry delay; doubles each attempt, with jitter."),
        "lease_seconds": (int, 300, "How long a worker may hold a message it is sending."),
        "batch": (int, 500, "Most messages sent in one flush."),
    },
    "inbox": {
        "max_bytes": (int, 40 * 1024 * 1024, "Larger incoming messages are quarantined unread (a 25 MB "
                      "photo, the most Gmail sends, is about 34 MB once encoded)."),
        "bounce_threshold": (int, 3, "Soft bounces before we stop mailing someone (hard: at once)."),
        "keep_raw_days": (int, 90, "Days the raw bytes of a handled incoming message are kept (the inbox "
                          "record and mail/processed/); then they go and who sent it, its subject, "
                          "outcome and reason stay. Quarantined and unhandled messages keep theirs "
                          "(0: keep forever)."),
    },
    "tokens": {
        "ttl_days": (int, 90, "Days a reply token stays valid."),
    },
    "digests": {
        "cadence": (("daily", "weekly", "monthly", "off"), "weekly",
                    "How often sponsors and community leads get a digest (each person may choose "
                    "their own with `digest cadence`)."),
        "weekday": (("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
                    "monday", "The day weekly digests go out, in each recipient's time zone."),
        "hour": (range(24), 9, "The local hour (0-23) digests go out; monthly ones on the 1st."),
    },
    "worker": {
        "interval_seconds": (int, 30, "How often the worker wakes up."),
    },
    "approvals": {
        "remind_days_before": (int, 3, "Days before a charter's decision deadline that approvers "
                               "who have not answered are reminded (0: no reminder)."),
        "trusted_authserv_id": (str, "", "The authserv-id of your own mail server's "
                                "Authentication-Results header; when set, an approval by reply also "
                                "needs a DMARC or aligned DKIM pass there, else the approver is asked "
                                "to confirm (empty: not checked)."),
    },
}

# Keys whose value must have a shape beyond its type: (section, key) -> (pattern, what is expected).
SHAPES: dict[tuple[str, str], tuple[re.Pattern[str], str]] = {
    ("mailer", "address"): (re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*"),
                            "an email address like cop@example.org"),
}
# What ``init`` writes instead of the default: a home made with init is a real one, and must
# never mail the sample community (the quick start's ./var, with no mailer.toml, keeps it).
INIT_VALUES: dict[str, dict[str, Any]] = {"mailer": {"data": "none"}}

PACE_PRESETS = {"none": (0, 0), "exchange-online": (30, 10_000), "google-workspace": (0, 2_000)}
ENV_SECRETS = {("smtp", "password"): "MAILER_SMTP_PASSWORD", ("imap", "password"): "MAILER_IMAP_PASSWORD",
               ("exchange", "password"): "MAILER_EXCHANGE_PASSWORD",
               ("exchange", "client_secret"): "MAILER_EXCHANGE_CLIENT_SECRET",
               ("graph", "client_secret"): "MAILER_GRAPH_CLIENT_SECRET"}  # the last three: from env only
PACED_BY_DEFAULT = {"graph": "exchange-online"}  # kind -> pace preset when pace is not set


@dataclass(frozen=True)
class Settings:
    """Every setting, flattened as ``section_key`` (``smtp_host``), plus the home folder."""

    home: Path
    values: tuple[tuple[str, Any], ...]

    def __getattr__(self, name: str) -> Any:
        for key, value in object.__getattribute__(self, "values"):
            if key == name:
                return value
        raise AttributeError(name)

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.home / "mailer.db"

    @property
    def mail_dir(self) -> Path:
        """Root of the Maildir transport (outbox/, inbox/, processed/)."""
        return self.home / "mail"

    @property
    def rate_limits(self) -> tuple[int, int]:
        """(per minute, per day); 0 means no limit."""
        if self.transport_pace == "custom":
            return self.transport_per_minute, self.transport_per_day
        return PACE_PRESETS[self.transport_pace]


def load_settings(home: Path, env: dict[str, str] | None = None) -> Settings:
    """Read ``home/mailer.toml`` (defaults where it is absent) and secrets from ``env``."""
    env = os.environ if env is None else env
    path = home / "mailer.toml"
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    values = _validate(raw, path)
    refuse_exposed_secrets(path, raw)
    if "pace" not in raw.get("transport", {}) and values["transport_kind"] in PACED_BY_DEFAULT:
        values["transport_pace"] = PACED_BY_DEFAULT[values["transport_kind"]]
    for (section, key), var in ENV_SECRETS.items():
        if env.get(var):
            values[f"{section}_{key}"] = env[var]
        else:  # a secret with no key in the file (Exchange's) still reads as ""
            values.setdefault(f"{section}_{key}", "")
    return Settings(home=home, values=tuple(values.items()))


def refuse_exposed_secrets(path: Path, raw: dict[str, Any]) -> None:
    """``ConfigError`` when ``path`` holds a password and anyone but its owner may read it: the
    program refuses to run (ssh refuses a private key others can read, for the same reason)."""
    mode = private.readable_by_others(path)
    held = [(section, key) for (section, key) in ENV_SECRETS if raw.get(section, {}).get(key)]
    if mode is None or not held:
        return
    section, key = held[0]
    raise ConfigError(f"{path} holds {section}.{key} and others can read it (mode {mode:04o}): "
                      f"run chmod 600 {path}, or better move the password to {ENV_SECRETS[(section, key)]}")


def _validate(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    values = {f"{s}_{k}": spec[1] for s, keys in SCHEMA.items() for k, spec in keys.items()}
    for section, table in raw.items():
        if section not in SCHEMA:
            raise ConfigError(f"{path}: unknown section [{section}]; expected one of {', '.join(SCHEMA)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in table.items():
            values[f"{section}_{key}"] = _check(path, section, key, value)
    return values


def _check(path: Path, section: str, key: str, value: Any) -> Any:
    spec = SCHEMA[section].get(key)
    if spec is None:
        known = ", ".join(SCHEMA[section])
        raise ConfigError(f"{path}: unknown key {section}.{key}; expected one of {known}")
    kind = spec[0]
    if isinstance(kind, tuple):
        if value not in kind:
            raise ConfigError(f"{path}: {section}.{key} = {value!r}; expected one of {', '.join(kind)}")
    elif isinstance(kind, range):
        if isinstance(value, bool) or not isinstance(value, int) or value not in kind:
            raise ConfigError(f"{path}: {section}.{key} = {value!r}; expected a whole number "
                              f"{kind.start}-{kind.stop - 1}")
    elif kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ConfigError(f"{path}: {section}.{key} = {value!r}; expected a whole number >= 0")
    elif kind is not int and not isinstance(value, kind):
        raise ConfigError(f"{path}: {section}.{key} = {value!r}; expected a {kind.__name__}")
    shape = SHAPES.get((section, key))
    if shape and not shape[0].fullmatch(value):
        raise ConfigError(f"{path}: {section}.{key} = {value!r}; expected {shape[1]}")
    return value


def commented_toml(values: dict[str, dict[str, Any]] | None = None) -> str:
    """The text of a fresh mailer.toml: every key with its default (or its entry in
    ``values``, ``INIT_VALUES`` when None), commented with its help."""
    values = INIT_VALUES if values is None else values
    lines = ["# cop-mailer settings. Every key is optional; shown with its default.", ""]
    for section, keys in SCHEMA.items():
        lines.append(f"[{section}]")
        for key, (kind, default, help_text) in keys.items():
            lines.append(f"# {help_text}")
            if isinstance(kind, tuple):
                lines.append(f"# one of: {', '.join(kind)}")
            if key in values.get(section, {}):
                lines.append(f"# (default {_toml_value(default)}; written as below by init)")
            lines.append(f"{key} = {_toml_value(values.get(section, {}).get(key, default))}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
