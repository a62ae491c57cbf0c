"""Real mail servers for tests: Dovecot (IMAP + LMTP) behind an aiosmtpd SMTP front end.

A pytest plugin (``pytest_plugins = ["tests.rig"]``). The session fixture ``mail_rig`` starts
Dovecot in a temp folder without systemd (notes/test-rig.md) and an aiosmtpd server that
authenticates against the same users and hands each message to Dovecot over LMTP, so mail sent
over SMTP can be read back over IMAP. ``rig_users`` gives each test fresh mailboxes.

Ports (all on 127.0.0.1, picked free at start): ``smtp_port`` (AUTH optional, STARTTLS offered),
``smtps_port`` (implicit TLS), ``imap_port`` (STARTTLS offered), ``imaps_port``, ``lmtp_port``.
The certificate is self-signed; ``ca_file`` trusts it. ``smtp_settings(user, security)`` builds
transport settings; ``imap_client(user)`` is a logged-in IMAPClient.

Faults for tests: ``fail_next(n, code)`` answers the next n DATA with 451 or 550,
``drop_next(n)`` closes the connection after the message arrived without answering (the client
cannot know whether it was accepted), ``hold(after)`` lets ``after`` messages through, then
holds the next one's answer until the test releases it (events, never a clock),
``hang_up_smtp()`` closes idle SMTP connections, ``kick_imap(user)`` drops IMAP sessions.
``smtp_sessions(sender)`` counts the SMTP connections that carried mail from ``sender``.

OAuth: ``authority`` is a local OAuth provider (tests/oauth_provider.py) that issues tokens to
msal (client credentials) and google-auth (service accounts); the SMTP front end takes them with
AUTH XOAUTH2 and Dovecot with its oauth2 passdb, which asks the provider's introspection
endpoint. ``oauth_app(user)`` registers an app allowed to use one mailbox.
"""
from __future__ import annotations

import atexit
import dataclasses
import itertools
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from mailer.transports.smtp_imap import SmtpImapSettings
from tests.rig_servers import (DOMAIN, HOST, Fault, LmtpRelay, dovecot_binary, dovecot_config, free_ports,
                               make_certificate, oauth2_passdb_config, rig_controller, run_as, stop_process,
                               wait_for_port)
from tests.oauth_provider import start_authority

BASE_USERS = ("mailer", "alice", "bob", "carol")
DATA_SIZE_LIMIT = 2 * 1024 * 1024
STARTUP_SECONDS = 15.0

@dataclass(frozen=True)
class RigUser:
    """A mailbox on the rig: log in with name and password, mail it at ``address``."""

    name: str
    password: str

    @property
    def address(self) -> str:
        """``name@example.test``."""
        return f"{self.name}@{DOMAIN}"


class RigError(RuntimeError):
    """The rig could not start; the message carries Dovecot's log."""


class MailRig:
    """The running servers and what tests need from them."""

    def __init__(self, root: Path, binary: str) -> None:
        self.root, self.binary = root, binary
        self.host = HOST
        self.imap_port, self.imaps_port, self.lmtp_port, self.smtp_port, self.smtps_port = free_ports(5)
        self.ca_file = str(root / "tls" / "cert.pem")
        self.users: dict[str, RigUser] = {}
        self.relay = LmtpRelay(self.lmtp_port, set())
        self.data_size_limit = DATA_SIZE_LIMIT
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._dovecot: subprocess.Popen | None = None
        self._controllers: list = []
        self.authority = None  # the local OAuth provider (tests.rig_servers.OAuthAuthority), once started

    # --- users -------------------------------------------------------------------------
    def add_user(self, prefix: str, exact: bool = False) -> RigUser:
        """A brand-new mailbox named ``<prefix><n>`` (or ``prefix`` itself when ``exact``).

        Users can be added while Dovecot runs (each has its own passwd-file).
        """
        with self._lock:
            name = prefix if exact else f"{prefix}{next(self._counter)}"
            user = RigUser(name, f"pw-{name}-{os.urandom(4).hex()}")
            (self.root / "users" / name).write_text(f"{user.name}:{{PLAIN}}{user.password}\n")
            self.users[name] = user
            self.relay.names.add(name)
        return user

    def fresh_users(self, prefixes=BASE_USERS) -> dict[str, RigUser]:
        """One new mailbox per prefix, keyed by prefix (``{"alice": alice7, ...}``)."""
        return {prefix: self.add_user(prefix) for prefix in prefixes}

    def _user(self, user: RigUser | str) -> RigUser:
        return user if isinstance(user, RigUser) else self.users[user]

    def smtp_settings(self, user: RigUser | str, security: str = "none", **overrides) -> SmtpImapSettings:
        """Transport settings that send as ``user`` and read ``user``'s mailbox.

        ``security`` ("none", "starttls", "tls") picks the ports for both protocols and trusts
        the rig's self-signed certificate; ``overrides`` replace any other field.
        """
        u = self._user(user)
        tls = security == "tls"
        base = SmtpImapSettings(
            smtp_host=HOST, smtp_port=self.smtps_port if tls else self.smtp_port, smtp_security=security,
            smtp_user=u.name, smtp_password=u.password, imap_host=HOST,
            imap_port=self.imaps_port if tls else self.imap_port, imap_security=security,
            imap_user=u.name, imap_password=u.password, timeout=10.0, ca_file=self.ca_file)
        return dataclasses.replace(base, **overrides)

    @contextmanager
    def imap_client(self, user: RigUser | str) -> Iterator:
        """A logged-in IMAPClient on ``user``'s mailbox, logged out afterwards."""
        from imapclient import IMAPClient

        u = self._user(user)
        client = IMAPClient(HOST, self.imap_port, ssl=False, timeout=10)
        client.login(u.name, u.password)
        try:
            yield client
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - a test may have broken the connection on purpose
                pass

    def oauth_app(self, user: RigUser | str, lifetime: int = 3600) -> tuple[str, str]:
        """A new app registration at the rig's OAuth provider, allowed to use ``user``'s mailbox
        over SMTP and IMAP (XOAUTH2): its (client id, secret). Tokens last ``lifetime`` seconds."""
        return self.authority.register_app(self._user(user).name, lifetime)

    # --- faults and what the SMTP side saw ---------------------------------------------
    def fail_next(self, n: int, code: int) -> None:
        """Answer the next ``n`` DATA with ``code`` (e.g. 451, 550) instead of delivering."""
        self._plan(n, Fault("reply", code=code))

    def drop_next(self, n: int = 1, deliver: bool = True) -> None:
        """After the next ``n`` messages arrive, close the connection without replying."""
        self._plan(n, Fault("drop", deliver=deliver))

    def hold(self, after: int = 0, deliver: bool = True) -> Fault:
        """Let ``after`` messages through, then take in (and deliver) the next one but answer
        only once the returned fault's ``release`` event is set; its ``reached`` event is set
        when that message is in. A test waits on events, never on a clock."""
        fault = Fault("hold", deliver=deliver)
        with self.relay.lock:
            self.relay.faults.extend([Fault("pass")] * after + [fault])
        return fault

    def _plan(self, n: int, fault: Fault) -> None:
        with self.relay.lock:
            self.relay.faults.extend([fault] * n)

    def reset_faults(self) -> None:
        """Forget faults a previous test planned but did not use; let any held answer go."""
        with self.relay.lock:
            for fault in self.relay.faults:
                fault.release.set()
            self.relay.faults.clear()

    def smtp_sessions(self, sender: str) -> int:
        """How many SMTP connections reached DATA with ``sender`` as envelope sender."""
        with self.relay.lock:
            return len(self.relay.stats.sessions_by_sender.get(sender, ()))

    def hang_up_smtp(self) -> None:
        """Close every open SMTP connection from the server side, as an idle timeout does."""
        loop = self._controllers[0].loop
        with self.relay.lock:
            servers, self.relay.open_sessions = self.relay.open_sessions, []
        done = threading.Event()

        def close_all() -> None:
            for server in servers:
                server.transport.close()
            done.set()

        loop.call_soon_threadsafe(close_all)
        done.wait(5)

    def kick_imap(self, user: RigUser | str) -> None:
        """Disconnect ``user``'s IMAP sessions (``doveadm kick``), as a server restart would."""
        doveadm = shutil.which("doveadm") or shutil.which("doveadm", path="/usr/bin:/usr/sbin")
        subprocess.run([doveadm or "doveadm", "-c", str(self.root / "dovecot.conf"), "kick",
                        self._user(user).name], check=True, capture_output=True, timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        """The end of dovecot.log, for failure messages."""
        log = self.root / "dovecot.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    # --- life cycle --------------------------------------------------------------------
    def start(self) -> "MailRig":
        """Write the config, start Dovecot in the foreground and the SMTP front end."""
        user, group = run_as()
        for sub in ("run", "state"):
            (self.root / sub).mkdir()
        (self.root / "mail").mkdir(mode=0o777)
        os.chmod(self.root / "mail", 0o777)  # the mail processes run as ``user``, not us
        (self.root / "users").mkdir()
        make_certificate(self.root / "tls")
        self.authority = self.relay.authority = start_authority()
        (self.root / "dovecot-oauth2.conf.ext").write_text(oauth2_passdb_config(f"{self.authority.base}/introspect"))
        (self.root / "dovecot.conf").write_text(dovecot_config(
            self.root, self.imap_port, self.imaps_port, self.lmtp_port, user, group))
        for name in BASE_USERS:
            self.add_user(name, exact=True)
        self._start_dovecot()
        self._start_smtp()
        return self

    def _start_dovecot(self) -> None:
        with open(self.root / "dovecot.out", "wb") as out:  # config errors go to stderr
            self._dovecot = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        alive = lambda: self._dovecot.poll() is None  # noqa: E731
        if not all(wait_for_port(p, deadline, alive) for p in (self.imap_port, self.imaps_port, self.lmtp_port)):
            output = (self.root / "dovecot.out").read_text(errors="replace")
            log = self.log_tail()
            self.stop()
            raise RigError(f"Dovecot did not open ports {self.imap_port}/{self.imaps_port}/{self.lmtp_port}.\n"
                           f"{output}\n--- dovecot.log ---\n{log}")

    def _start_smtp(self) -> None:
        """SMTP with optional STARTTLS on smtp_port, implicit TLS on smtps_port.

        AUTH is offered and checked when a client uses it, but not required: the rig is both
        our submission server and the MX that people's replies arrive through.
        """
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(self.root / "tls" / "cert.pem", self.root / "tls" / "key.pem")
        common = dict(hostname=HOST, ready_timeout=STARTUP_SECONDS, authenticator=self._authenticate,
                      auth_required=False, auth_require_tls=False, data_size_limit=self.data_size_limit)
        self._controllers = [
            rig_controller(self.relay, port=self.smtp_port, tls_context=server_tls, **common),
            rig_controller(self.relay, port=self.smtps_port, ssl_context=server_tls, **common),
        ]
        for controller in self._controllers:
            controller.start()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        """aiosmtpd authenticator: the rig's users and passwords."""
        from aiosmtpd.smtp import AuthResult

        user = self.users.get(auth_data.login.decode(errors="replace"))
        ok = user is not None and auth_data.password.decode(errors="replace") == user.password
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535

    def stop(self) -> None:
        """Stop the SMTP front end and Dovecot (by pid), then remove the temp folder."""
        try:
            while self._controllers:
                self._controllers.pop().stop()
        finally:  # whatever happened above, Dovecot must not outlive the tests
            if self._dovecot is not None:
                stop_process(self._dovecot)
                self._dovecot = None
            if self.authority is not None:
                self.authority.server.shutdown()
                self.authority.server.server_close()
                self.authority = None
            shutil.rmtree(self.root, ignore_errors=True)


def _missing() -> str | None:
    """Why the rig cannot run here, or None."""
    if dovecot_binary() is None:
        return "Dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (apt-get install openssl; dovecot-core normally brings it)"
    try:
        import aiosmtpd  # noqa: F401
        import imapclient  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[test]')"
    return None


def start_rig() -> MailRig:
    """Start a rig in a fresh folder under the system temp dir (the services must reach it)."""
    # Not pytest's tmp_path: its parents are private to us, and Dovecot's processes run as
    # another user when we are root.
    root = Path(tempfile.mkdtemp(prefix="mailrig-"))
    os.chmod(root, 0o755)
    rig = MailRig(root, dovecot_binary() or "dovecot")
    try:
        return rig.start()
    except BaseException:
        rig.stop()
        raise


@pytest.fixture(scope="session")
def mail_rig() -> Iterator[MailRig]:
    """Dovecot + SMTP front end, started once per test run; skips (or fails in CI) without Dovecot."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") or os.environ.get("MAILER_REQUIRE_RIG") == "1":
            pytest.fail(f"the mail test rig is required here: {reason}", pytrace=False)
        pytest.skip(f"mail test rig unavailable: {reason}")
    rig = start_rig()
    atexit.register(rig.stop)  # also if the session ends abnormally
    yield rig
    rig.stop()
    atexit.unregister(rig.stop)


@pytest.fixture
def rig_users(mail_rig: MailRig) -> dict[str, RigUser]:
    """Fresh mailboxes for this test (mailer, alice, bob, carol) and no leftover faults."""
    mail_rig.reset_faults()
    return mail_rig.fresh_users()
