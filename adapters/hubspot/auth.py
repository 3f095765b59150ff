"""Access tokens for HubSpot calls: a private app's static token, or OAuth for a public app.

The OAuth flow follows HubSpot's documentation: send the installer to
``https://app.hubspot.com/oauth/authorize?client_id=...&scope=...&redirect_uri=...&state=...``,
exchange the returned code at ``POST /oauth/v1/token`` (form-encoded,
``grant_type=authorization_code``), and refresh with ``grant_type=refresh_token`` before the
access token expires (HubSpot's access tokens last 30 minutes). HubSpot's guidelines say a
401 is not the signal to refresh; we refresh ahead of expiry by a margin, and once more on a
401 in case the token was revoked and re-issued.

Persistence is the caller's: ``on_tokens`` receives every new :class:`TokenSet` so the store
can encrypt and save it. The SDK equivalent is ``client.oauth.tokens_api.create(...)``; plain
``requests`` is used here so the token base URL can point at the fake and errors map onto
:mod:`connector.core.errors`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

import requests

from connector.core.errors import AuthenticationFailed, TransientCrmError

DEFAULT_API_BASE = "https://api.hubapi.com"
DEFAULT_AUTHORIZE_BASE = "https://app.hubspot.com"


class TokenProvider(Protocol):
    def access_token(self) -> str:
        """A currently valid access token (refreshing first if it is about to expire)."""
        ...

    def refresh(self) -> bool:
        """Get a new token after a 401; False when this provider cannot refresh."""
        ...


class StaticToken:
    """A private app's access token: it does not expire and cannot be refreshed."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("a HubSpot access token is required")
        self._token = token

    def access_token(self) -> str:
        return self._token

    def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


@dataclass(frozen=True)
class TokenSet:
    """OAuth tokens; ``expires_at`` is epoch seconds. Secrets are kept out of the repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float


class OAuthTokens:
    """Tokens of one HubSpot portal that installed our public app; thread-safe."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        tokens: TokenSet | None = None,
        on_tokens: Callable[[TokenSet], None] | None = None,
        base_url: str = DEFAULT_API_BASE,
        authorize_base_url: str = DEFAULT_AUTHORIZE_BASE,
        session: requests.Session | None = None,
        refresh_margin: float = 300.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._tokens = tokens
        self._on_tokens = on_tokens
        self.base_url = base_url.rstrip("/")
        self.authorize_base_url = authorize_base_url.rstrip("/")
        self._session = session or requests.Session()
        self.refresh_margin = refresh_margin
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OAuthTokens(client_id={self.client_id!r}, <secrets hidden>)"

    @property
    def tokens(self) -> TokenSet | None:
        return self._tokens

    def install_url(
        self, scopes: Iterable[str], state: str, optional_scopes: Iterable[str] = ()
    ) -> str:
        """The URL that starts the install; ``state`` must be checked on the redirect."""
        params = {
            "client_id": self.client_id,
            "scope": " ".join(scopes),
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        optional = " ".join(optional_scopes)
        if optional:
            params["optional_scope"] = optional
        return f"{self.authorize_base_url}/oauth/authorize?{urlencode(params)}"

    def exchange_code(self, code: str) -> TokenSet:
        """Trade the authorization code from the redirect for tokens."""
        return self._token_call({"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": self.redirect_uri})

    def access_token(self) -> str:
        with self._lock:
            if self._tokens is None:
                raise AuthenticationFailed("the HubSpot app is not installed (no OAuth tokens)")
            if self._tokens.expires_at - self._clock() <= self.refresh_margin:
                self._refresh_locked()
            return self._tokens.access_token

    def refresh(self) -> bool:
        with self._lock:
            if self._tokens is None:
                return False
            self._refresh_locked()
            return True

    def _refresh_locked(self) -> None:
        assert self._tokens is not None
        self._token_call({"grant_type": "refresh_token",
                          "refresh_token": self._tokens.refresh_token,
                          "redirect_uri": self.redirect_uri})

    def _token_call(self, form: dict[str, str]) -> TokenSet:
        form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        try:
            resp = self._session.post(
                f"{self.base_url}/oauth/v1/token", data=form, timeout=self.timeout,
                headers={"Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise TransientCrmError(f"token endpoint unreachable: {type(exc).__name__}") from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise TransientCrmError("token endpoint error", status=resp.status_code)
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if resp.status_code != 200:
            code = data.get("status") or data.get("error") or data.get("category")
            raise AuthenticationFailed(
                f"HubSpot refused the {form['grant_type']} grant: "
                f"{data.get('message') or 'no message'}",
                status=resp.status_code, code=code,
            )
        try:
            tokens = TokenSet(
                access_token=data["access_token"],
                refresh_token=data.get("refresh_token")
                or (self._tokens.refresh_token if self._tokens else ""),
                expires_at=self._clock() + float(data.get("expires_in", 1800)),
            )
        except KeyError:
            raise AuthenticationFailed("token response without access_token") from None
        self._tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)
        return tokens
