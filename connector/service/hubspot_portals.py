"""Which account a HubSpot portal belongs to (``account_sources``, the one mapping of
CRM portals/orgs to accounts), its tokens, and a CRM client for it.

A portal that installed the public app has OAuth tokens, stored encrypted and refreshed by
the client (every new token set is saved again, encrypted). A portal without tokens uses
the private-app token (``HUBSPOT_ACCESS_TOKEN``). The CRM client itself is built by a
factory that ``bootstrap`` passes in, so this module knows the store but no adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.core.errors import AuthenticationFailed
from connector.store import hubspot_repository as hs_repo
from connector.store import sources_repo
from connector.store.crypto import TokenCipher
from connector.store.db import Database

SOURCE = "hubspot"


@dataclass(frozen=True)
class StoredTokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float  # epoch seconds


#: factory(portal_id, tokens or None, save(tokens), interactive) -> client implementing
#: RecordReader, OwnerDirectory and OwnerWriter; ``interactive`` asks for short retries.
ClientFactory = Callable[[str, StoredTokens | None, Callable[[StoredTokens], None], bool], Any]


class PortalRegistry:
    def __init__(self, db: Database, client_factory: ClientFactory, *,
                 cipher: TokenCipher | None = None) -> None:
        self.db = db
        self._factory = client_factory
        self._cipher = cipher
        self._clients: dict[tuple[str, bool], Any] = {}
        self._lock = threading.Lock()

    def account_for(self, portal_id: str) -> str | None:
        with self.db.read_session() as session:
            return sources_repo.account_for(session, SOURCE, str(portal_id))

    def portal_for_account(self, account_id: str) -> str | None:
        """The account's first connected portal (where its API dispatches write owners)."""
        with self.db.read_session() as session:
            keys = sources_repo.keys_for_account(session, account_id, SOURCE)
        return keys[0][1] if keys else None

    def connect(self, portal_id: str, account_id: str,
                tokens: StoredTokens | None = None, *, move: bool = False) -> None:
        """Connect a portal to an account in the one mapping of portals/orgs to accounts
        and store its OAuth tokens, encrypted, in the same transaction. A portal that
        belongs to another account raises ``SourceTaken`` (unless ``move``)."""
        encrypted = self._encrypted(tokens) if tokens is not None else None
        with self.db.session() as session:
            sources_repo.link(session, account_id, SOURCE, str(portal_id), move=move)
            if encrypted is not None:
                hs_repo.save_portal_tokens(session, str(portal_id), **encrypted)
        with self._lock:
            self._clients.pop((str(portal_id), True), None)
            self._clients.pop((str(portal_id), False), None)

    def _encrypted(self, tokens: StoredTokens) -> dict[str, Any]:
        if self._cipher is None:
            raise AuthenticationFailed("CONNECTOR_SECRET_KEY is not set; OAuth tokens cannot "
                                       "be stored")
        return {"access_token_enc": self._cipher.encrypt(tokens.access_token),
                "refresh_token_enc": self._cipher.encrypt(tokens.refresh_token),
                "expires_at": datetime.fromtimestamp(tokens.expires_at, UTC)}

    def _load_tokens(self, portal_id: str) -> StoredTokens | None:
        with self.db.read_session() as session:
            row = hs_repo.get_portal(session, portal_id)
            if row is None or not row.access_token_enc:
                return None
            if self._cipher is None:
                raise AuthenticationFailed("CONNECTOR_SECRET_KEY is not set; the stored "
                                           f"tokens of portal {portal_id} cannot be read")
            return StoredTokens(self._cipher.decrypt(row.access_token_enc),
                                self._cipher.decrypt(row.refresh_token_enc or ""),
                                row.expires_at.timestamp() if row.expires_at else 0.0)

    def _saver(self, portal_id: str) -> Callable[[StoredTokens], None]:
        def save(tokens: StoredTokens) -> None:
            encrypted = self._encrypted(tokens)
            with self.db.session() as session:
                if hs_repo.get_portal(session, portal_id) is not None:
                    hs_repo.save_portal_tokens(session, portal_id, **encrypted)
        return save

    def client_for(self, portal_id: str, *, interactive: bool = False) -> Any:
        """The cached client of a portal; raises AuthenticationFailed without credentials."""
        key = (str(portal_id), interactive)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                tokens = self._load_tokens(str(portal_id))
                client = self._factory(str(portal_id), tokens, self._saver(str(portal_id)),
                                       interactive)
                self._clients[key] = client
            return client


@dataclass
class HubSpotServices:
    """What the web layer and the handlers need of HubSpot, wired by ``bootstrap``.

    ``receiver`` verifies and parses webhooks (None when no client secret is configured);
    ``oauth()`` gives the OAuth helper of the public app (None when not configured) and
    ``hub_id_for(access_token)`` names the portal a fresh token belongs to.
    """

    portals: PortalRegistry
    receiver: Any = None
    oauth: Callable[[], Any] | None = None
    hub_id_for: Callable[[str], str] | None = None
    #: what the install asks for: read/write of every object type with a mapping, and
    #: owners (``bootstrap`` works them out from the mappings)
    scopes: tuple[str, ...] = ()
