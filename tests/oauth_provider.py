"""A local OAuth provider for the test rig: tokens for msal and google-auth, introspection for Dovecot.

Microsoft's app-only grant (client credentials) and Google's service-account grant (a JWT signed
with the account's key, RFC 7523) issue tokens here; each token may log in to one mailbox, and
Dovecot's oauth2 passdb asks ``/introspect`` (introspection_mode = post, form ``token=``) who
that is. The rig's SMTP front end asks the same object. The tenant's URLs are under
``tests.graph_signin.AUTHORITY`` (https, which msal insists on), so a test gives msal a
``RewritingSession`` pointing at ``OAuthAuthority.base``.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.rig_servers import DOMAIN, GOOGLE_SCOPE, HOST

RIG_TENANT = "rig-tenant"


@dataclass
class Grant:
    """What one issued access token allows: log in as ``mailbox`` (a rig user name) until ``expires``."""

    mailbox: str
    expires: float


@dataclass
class OAuthAuthority:
    """Registered apps and service accounts, and every token issued; a ThreadingHTTPServer serves them."""

    apps: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # client id -> secret, mailbox, lifetime
    accounts: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # client_email -> public key PEM, lifetime
    tokens: dict[str, Grant] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)  # why token requests were refused, in order
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: object = None

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        return f"http://{HOST}:{self.server.server_address[1]}"  # type: ignore[attr-defined]

    def register_app(self, mailbox: str, lifetime: int = 3600) -> tuple[str, str]:
        """A new app registration allowed to use ``mailbox``: its (client id, secret)."""
        client_id, secret = f"app-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
        with self.lock:
            self.apps[client_id] = (secret, mailbox, lifetime)
        return client_id, secret

    def register_service_account(self, public_pem: bytes, lifetime: int = 3600) -> str:
        """A new service account with domain-wide delegation for GOOGLE_SCOPE: its client_email."""
        email_ = f"sa-{secrets.token_hex(4)}@rig-project.iam.gserviceaccount.com"
        with self.lock:
            self.accounts[email_] = (public_pem, lifetime)
        return email_

    def mailbox_for(self, token: str) -> str | None:
        """The mailbox a valid (issued, unexpired) token may log in to, else None."""
        with self.lock:
            grant = self.tokens.get(token)
        return grant.mailbox if grant is not None and grant.expires > time.time() else None

    def expire(self) -> None:
        """Every token issued so far expires now (as when a cached token outlived its grant)."""
        with self.lock:
            for grant in self.tokens.values():
                grant.expires = 0.0

    def issue(self, mailbox: str, lifetime: int, fake_jwt) -> dict:
        """A token for ``mailbox``, as the token endpoint answers it."""
        token = fake_jwt({"aud": "https://outlook.office365.com", "sub": mailbox, "jti": secrets.token_hex(8)})
        with self.lock:
            self.tokens[token] = Grant(mailbox, time.time() + lifetime)
        return {"token_type": "Bearer", "expires_in": lifetime, "access_token": token}

    def refuse(self, error: str, description: str) -> tuple[int, dict]:
        """The OAuth error answer (RFC 6749 5.2), remembered for the test."""
        with self.lock:
            self.refusals.append(error)
        return 400 if error != "invalid_client" else 401, {"error": error, "error_description": description}


def microsoft_grant(authority: OAuthAuthority, form: dict[str, str]) -> tuple[int, dict]:
    """Client credentials as Entra ID takes them: the app's secret, and the Exchange scope."""
    from tests.graph_signin import fake_jwt

    app = authority.apps.get(form.get("client_id", ""))
    if form.get("grant_type") != "client_credentials" or app is None or form.get("client_secret") != app[0]:
        return authority.refuse("invalid_client", "AADSTS7000215: Invalid client secret provided.")
    if form.get("scope") != "https://outlook.office365.com/.default":
        return authority.refuse("invalid_scope", f"AADSTS70011: The provided value for scope {form.get('scope')} "
                                "is not valid.")
    return 200, authority.issue(app[1], app[2], fake_jwt)


def google_grant(authority: OAuthAuthority, form: dict[str, str]) -> tuple[int, dict]:
    """A service account's signed JWT (RFC 7523) asking, by domain-wide delegation, for ``sub``'s mail.
    google-auth names Google's token endpoint as the audience whatever ``token_uri`` says."""
    import jwt

    from tests.graph_signin import fake_jwt

    try:
        issuer = jwt.decode(form.get("assertion", ""), options={"verify_signature": False})["iss"]
        public_pem, lifetime = authority.accounts[issuer]
        claims = jwt.decode(form["assertion"], public_pem, algorithms=["RS256"],
                            audience="https://oauth2.googleapis.com/token")
    except (jwt.PyJWTError, KeyError):
        return authority.refuse("invalid_grant", "Invalid JWT Signature.")
    local, _, domain = str(claims.get("sub", "")).partition("@")
    if claims.get("scope") != GOOGLE_SCOPE or domain != DOMAIN:
        return authority.refuse("unauthorized_client", "Client is unauthorized to retrieve access tokens using "
                                "this method, or client not authorized for any of the scopes requested.")
    return 200, authority.issue(local, lifetime, fake_jwt)


def introspect(authority: OAuthAuthority, form: dict[str, str]) -> tuple[int, dict]:
    """RFC 7662 introspection as Dovecot's oauth2 passdb asks for it (``username_attribute = username``)."""
    mailbox = authority.mailbox_for(form.get("token", ""))
    return 200, ({"active": "true", "username": mailbox} if mailbox else {"active": "false"})


def openid_configuration() -> dict:
    """The tenant's OpenID configuration (msal reads the token endpoint from it)."""
    from tests.graph_signin import AUTHORITY

    base = f"{AUTHORITY}/{RIG_TENANT}"
    return {"token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"}


class _OAuthHandler(BaseHTTPRequestHandler):
    """Routes: the tenant's OpenID configuration and token endpoint, Google's token endpoint, introspection."""

    authority: OAuthAuthority

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        """Only the OpenID configuration is read with GET."""
        if self.path == f"/{RIG_TENANT}/v2.0/.well-known/openid-configuration":
            self._answer(200, openid_configuration())
        else:
            self._answer(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802
        """Token requests and introspection, all as form posts."""
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        routes = {f"/{RIG_TENANT}/oauth2/v2.0/token": lambda: microsoft_grant(self.authority, form),
                  "/google/token": lambda: google_grant(self.authority, form),
                  "/introspect": lambda: introspect(self.authority, form)}
        route = routes.get(self.path)
        self._answer(*(route() if route else (404, {"error": "not_found"})))

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        """Quiet: the tests read ``OAuthAuthority`` instead."""


def start_authority() -> OAuthAuthority:
    """An ``OAuthAuthority`` served on a free loopback port in a daemon thread."""
    authority = OAuthAuthority()
    handler = type("Handler", (_OAuthHandler,), {"authority": authority})
    authority.server = ThreadingHTTPServer((HOST, 0), handler)
    threading.Thread(target=authority.server.serve_forever, daemon=True).start()
    return authority
