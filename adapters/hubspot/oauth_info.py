"""Which portal an OAuth access token belongs to: ``GET /oauth/v1/access-tokens/{token}``.

The token endpoint does not say which portal installed the app; this documented call
answers ``hub_id`` (with the scopes and the installing user), so the install callback can
map the portal to the account that started the install.
"""

from __future__ import annotations

import requests

from connector.core.errors import AuthenticationFailed, TransientCrmError


def hub_id_for_token(base_url: str, access_token: str, *,
                     session: requests.Session | None = None, timeout: float = 10.0) -> str:
    http = session or requests.Session()
    try:
        resp = http.get(f"{base_url.rstrip('/')}/oauth/v1/access-tokens/{access_token}",
                        timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise TransientCrmError(f"token info unreachable: {type(exc).__name__}") from None
    if resp.status_code >= 500:
        raise TransientCrmError("token info error", status=resp.status_code)
    if resp.status_code != 200:
        raise AuthenticationFailed("HubSpot did not recognise the new access token",
                                   status=resp.status_code)
    hub_id = (resp.json() or {}).get("hub_id")
    if hub_id is None:
        raise AuthenticationFailed("token info without hub_id")
    return str(hub_id)
