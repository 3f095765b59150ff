"""OAuth 2.0 JWT bearer flow of a connected app: one signed assertion, one access token.

Salesforce does not say how long the token lives (it follows the org's session timeout),
so the token is kept for ``session_seconds`` (or the ``expires_in`` a server sends) and
renewed ``renew_margin`` seconds before that; a caller that meets an invalid-token error
calls :meth:`JwtBearerAuth.renew` and tries once more. One token serves both the REST API
(scope ``api``) and the Interaction Service (scope ``interaction_api``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import requests

from connector.core.errors import AuthenticationFailed, TransientCrmError

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PRODUCTION_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"


def default_audience(login_url: str) -> str:
    """The ``aud`` Salesforce expects for a token posted to ``login_url``.

    Salesforce's JWT bearer flow takes ``https://login.salesforce.com``, or
    ``https://test.salesforce.com`` for a sandbox, or an Experience Cloud site's URL; never
    the My Domain URL the assertion is posted to. A sandbox is recognised by its login
    host (``test.salesforce.com``) or its My Domain (``*.sandbox.my.salesforce.com``), an
    Experience Cloud site by its host (``*.my.site.com``, ``*.force.com``); anything else
    (a production My Domain, a proxy, a local test org) gets the production audience.
    SALESFORCE_JWT_AUDIENCE overrides the guess.
    """
    host = (urlsplit(login_url).hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return SANDBOX_AUDIENCE
    if host.endswith((".my.site.com", ".force.com")):
        return login_url.rstrip("/")
    return PRODUCTION_AUDIENCE


def load_private_key(value: str) -> str:
    """A PEM given inline (``SALESFORCE_PRIVATE_KEY``) or the path of a PEM file."""
    if value.lstrip().startswith("-----BEGIN"):
        return value
    path = Path(value)
    if not path.is_file():
        raise ValueError("SALESFORCE_PRIVATE_KEY is neither a PEM key nor the path of one")
    return path.read_text()


@dataclass(frozen=True)
class AccessToken:
    value: str
    instance_url: str
    expires_at: float

    def __repr__(self) -> str:
        return f"AccessToken(instance_url={self.instance_url!r}, expires_at={self.expires_at})"


class JwtBearerAuth:
    """Thread-safe token cache for one connected app and integration user."""

    def __init__(
        self,
        *,
        login_url: str,
        client_id: str,
        username: str,
        private_key: str,
        audience: str | None = None,
        session: requests.Session | None = None,
        session_seconds: float = 900.0,
        renew_margin: float = 60.0,
        assertion_seconds: int = 180,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.login_url = login_url.rstrip("/")
        self.client_id = client_id
        self.username = username
        self._key = private_key
        if audience is not None and not audience.startswith(("https://", "http://")):
            raise ValueError("SALESFORCE_JWT_AUDIENCE must be a URL such as "
                             "https://login.salesforce.com or https://test.salesforce.com")
        self.audience = audience.rstrip("/") if audience else default_audience(self.login_url)
        self._session = session or requests.Session()
        self.session_seconds = session_seconds
        self.renew_margin = renew_margin
        self.assertion_seconds = assertion_seconds
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self.logins = 0

    def __repr__(self) -> str:
        return f"JwtBearerAuth(login_url={self.login_url!r}, username={self.username!r})"

    def assertion(self) -> str:
        now = int(self._clock())
        claims = {"iss": self.client_id, "sub": self.username, "aud": self.audience,
                  "exp": now + self.assertion_seconds}
        return jwt.encode(claims, self._key, algorithm="RS256")

    def token(self) -> AccessToken:
        """The cached token, fetched again when missing or about to expire."""
        with self._lock:
            token = self._token
            if token is None or token.expires_at - self.renew_margin <= self._clock():
                token = self._token = self._login()
            return token

    def access_token(self) -> str:
        return self.token().value

    def instance_url(self) -> str:
        return self.token().instance_url

    def renew(self, stale: str | None = None) -> AccessToken:
        """Log in again, unless another thread already replaced the ``stale`` token."""
        with self._lock:
            if stale is None or self._token is None or self._token.value == stale:
                self._token = self._login()
            return self._token

    def _login(self) -> AccessToken:
        url = f"{self.login_url}/services/oauth2/token"
        try:
            resp = self._session.post(url, data={"grant_type": GRANT_TYPE,
                                                 "assertion": self.assertion()},
                                      timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransientCrmError(f"Salesforce login failed: {type(exc).__name__}") from None
        self.logins += 1
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code >= 500:
            raise TransientCrmError("Salesforce login failed", status=resp.status_code)
        if resp.status_code != 200 or "access_token" not in body:
            # e.g. {"error": "invalid_grant", "error_description": "user hasn't approved..."}
            reason = body.get("error_description") or body.get("error") or resp.reason
            raise AuthenticationFailed(f"Salesforce JWT bearer login refused: {reason}",
                                       status=resp.status_code, code=body.get("error"))
        lifetime = float(body.get("expires_in") or self.session_seconds)
        return AccessToken(value=body["access_token"],
                           instance_url=str(body.get("instance_url") or "").rstrip("/"),
                           expires_at=self._clock() + lifetime)
