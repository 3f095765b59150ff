"""Complete blocked custom workflow action executions (HubSpot's callbacks API).

``POST /automation/actions/callbacks/2026-03/complete`` takes up to 100
``{"callbackId", "outputFields"}`` inputs and answers 204; ``legacy`` uses the v4 path
``/automation/v4/actions/callbacks/complete`` of the same shape. The calls go through
the client's transport: its call budget, retries and token refresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DATED_VERSION = "2026-03"
BATCH_LIMIT = 100


def batch_path(version: str = DATED_VERSION) -> str:
    if version == "legacy":
        return "/automation/v4/actions/callbacks/complete"
    return f"/automation/actions/callbacks/{DATED_VERSION}/complete"


def complete_callbacks(client: Any, outputs: Mapping[str, Mapping[str, Any]], *,
                       version: str = DATED_VERSION) -> None:
    """Complete each callback id with its output fields, 100 per call."""
    items: Sequence[tuple[str, Mapping[str, Any]]] = list(outputs.items())
    for i in range(0, len(items), BATCH_LIMIT):
        inputs = [{"callbackId": cid, "outputFields": {k: "" if v is None else str(v)
                                                        for k, v in fields.items()}}
                  for cid, fields in items[i:i + BATCH_LIMIT]]
        client.transport.request("POST", batch_path(version), json={"inputs": inputs})
