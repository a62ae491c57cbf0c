"""The local sign-in authority of the test Graph: what msal asks for in client credentials.

msal refuses an ``http://`` authority, so the tests give it ``AUTHORITY`` (https) and an http
client, ``RewritingSession``, that sends those requests to the local server instead. The
tenant's OpenID configuration and its token endpoint answer as Entra does: a right secret or a
client assertion signed with the app certificate's key gets a token with ``roles`` that expires.
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

import requests

AUTHORITY = "https://login.graph.test"  # msal wants https; RewritingSession sends it to us
TENANT = "tenant-1"
CLIENT_ID = "client-1"
SECRET = "s3cret"


def sign_in(h: Any, box: Any, parts: list[str], body: bytes):
    """The tenant's OpenID configuration and its client-credentials token endpoint."""
    base = f"{AUTHORITY}/{TENANT}"
    if parts == ["v2.0", ".well-known", "openid-configuration"]:
        return 200, {"token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0",
                     "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"}, {}
    if parts != ["oauth2", "v2.0", "token"]:
        return 404, {"error": "not_found", "error_description": "no such sign-in path"}, {}
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    box.token_requests += 1
    if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID \
            or not client_proven(box, form, f"{base}/oauth2/v2.0/token"):
        return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}, {}
    token = fake_jwt({"aud": "https://graph.microsoft.com", "tid": TENANT, "appid": CLIENT_ID,
                      "roles": box.roles, "jti": secrets.token_hex(6)})
    box.tokens[token] = time.time() + box.token_lifetime
    return 200, {"token_type": "Bearer", "expires_in": box.token_lifetime,
                 "ext_expires_in": box.token_lifetime, "access_token": token}, {}


def client_proven(box: Any, form: dict, audience: str) -> bool:
    """A right secret, or an assertion signed by the key of the app's certificate."""
    if "client_secret" in form:
        return form["client_secret"] == SECRET
    if box.certificate_pem is None or "client_assertion" not in form:
        return False
    import jwt
    from cryptography import x509

    key = x509.load_pem_x509_certificate(box.certificate_pem).public_key()
    try:
        claims = jwt.decode(form["client_assertion"], key, algorithms=["RS256", "PS256"], audience=audience)
    except jwt.PyJWTError:
        return False
    return claims.get("iss") == CLIENT_ID and claims.get("sub") == CLIENT_ID


def fake_jwt(claims: dict) -> str:
    """An unsigned JWT shape: enough for a client that reads its ``roles``."""
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


class RewritingSession(requests.Session):
    """msal's http client: the https test authority is sent to the local http server."""

    def __init__(self, local_base: str) -> None:
        super().__init__()
        self.local_base = local_base

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Rewrite the authority's URL, then send as usual."""
        if url.startswith(AUTHORITY):
            url = self.local_base + url[len(AUTHORITY):]
        return super().request(method, url, *args, **kwargs)
