"""Custom workflow actions of the fake HubSpot: HubSpot's side of an action execution and
the callbacks API that completes a blocked one (developers.hubspot.com, "Custom workflow
actions" and "Complete a callback").

* ``execute(action_url, object_id, input_fields)`` is what a workflow does for each
  enrolled record: a signed ``POST`` to the action URL with ``callbackId``, ``origin``
  (``portalId``, ``actionDefinitionId``, ``actionDefinitionVersion``), ``context``
  (``source: WORKFLOWS``, ``workflowId``), ``object`` (``objectId``, ``objectType``) and
  ``inputFields``. Workflow action requests are signed ``X-HubSpot-Signature`` v2
  (SHA-256 of secret + method + URI + body); ``signature="v3"`` sends v3 as well.
* The answer's ``outputFields`` complete the execution, unless ``hs_execution_state`` is
  ``BLOCK``: the execution then waits for the callbacks API (or expires after
  ``hs_expiration_duration``, by default a week).
* ``POST /automation/v4/actions/callbacks/{callbackId}/complete`` and the date-versioned
  ``POST /automation/actions/callbacks/2026-03/{callbackId}/complete`` (body
  ``outputFields``, answer 204 with no body), and the batch form
  ``POST /automation/v4/actions/callbacks/complete`` or
  ``POST /automation/actions/callbacks/2026-03/complete`` (``inputs``). These are ordinary
  API calls: Bearer checked, counted against the rate limit.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from adapters.hubspot.fake_routes import Reply, _error
from adapters.hubspot.signatures import sign_v2, sign_v3

if TYPE_CHECKING:
    from adapters.hubspot.fake_server import FakeHubSpot

_COMPLETE = re.compile(r"^/automation/(?:v4/actions/callbacks/(?P<v4>[^/]+)"
                       r"|actions/callbacks/(?P<version>\d{4}-\d{2})/(?P<dated>[^/]+))/complete$")
_BATCH = re.compile(r"^/automation/(?:v4/actions/callbacks|actions/callbacks/2026-03)/complete$")
_ids = itertools.count(1)


@dataclass
class Execution:
    callback_id: str
    object_id: str
    object_type: str
    input_fields: dict[str, Any]
    state: str = "RUNNING"  # RUNNING -> COMPLETED | BLOCKED -> COMPLETED
    output_fields: dict[str, Any] = field(default_factory=dict)
    completions: int = 0


class FakeWorkflows:
    """Executions of the app's custom action in the fake portal."""

    def __init__(self, hs: FakeHubSpot, *, action_definition_id: int = 4242,
                 workflow_id: int = 777) -> None:
        self.hs = hs
        self.action_definition_id = action_definition_id
        self.workflow_id = workflow_id
        self.executions: dict[str, Execution] = {}
        self._lock = threading.Lock()

    def payload(self, object_id: str | int, input_fields: Mapping[str, Any], *,
                object_type: str = "CONTACT") -> dict[str, Any]:
        n = next(_ids)
        callback_id = f"ap-{self.hs.portal_id}-{self.workflow_id}-{n}-0"
        return {"callbackId": callback_id,
                "origin": {"portalId": self.hs.portal_id,
                           "actionDefinitionId": self.action_definition_id,
                           "actionDefinitionVersion": 1},
                "context": {"source": "WORKFLOWS", "workflowId": self.workflow_id},
                "object": {"objectId": int(object_id), "objectType": object_type},
                "inputFields": dict(input_fields)}

    def signed_headers(self, url: str, body: bytes, signature: str = "v2") -> dict[str, str]:
        secret = self.hs.client_secret
        headers = {"Content-Type": "application/json",
                   "X-HubSpot-Signature": sign_v2(secret, "POST", url, body),
                   "X-HubSpot-Signature-Version": "v2"}
        if signature == "v3":
            timestamp = str(int(time.time() * 1000))
            headers.update({"X-HubSpot-Request-Timestamp": timestamp,
                            "X-HubSpot-Signature-v3": sign_v3(secret, "POST", url, body,
                                                              timestamp)})
        return headers

    def execute(self, action_url: str, object_id: str | int, input_fields: Mapping[str, Any],
                *, object_type: str = "CONTACT", signature: str = "v2",
                timeout: float = 10.0) -> tuple[Execution, requests.Response]:
        """Run the action for one enrolled record, as a workflow does."""
        payload = self.payload(object_id, input_fields, object_type=object_type)
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        execution = Execution(payload["callbackId"], str(object_id), object_type,
                              dict(input_fields))
        with self._lock:
            self.executions[execution.callback_id] = execution
        response = requests.post(action_url, data=body,
                                 headers=self.signed_headers(action_url, body, signature),
                                 timeout=timeout)
        outputs = {}
        if response.status_code == 200:
            try:
                outputs = response.json().get("outputFields") or {}
            except ValueError:
                outputs = {}
        with self._lock:
            if response.status_code != 200:
                execution.state = "FAILED"
            elif outputs.get("hs_execution_state") == "BLOCK":
                execution.state = "BLOCKED"
            else:
                execution.state, execution.output_fields = "COMPLETED", outputs
        return execution, response

    # the callbacks API ------------------------------------------------------------------
    def route(self, method: str, path: str, headers: Mapping[str, str],
              body: bytes) -> Reply | None:
        match = _COMPLETE.match(path)
        batch = _BATCH.match(path)
        if method != "POST" or (match is None and batch is None):
            return None
        if (denied := self.hs._check_bearer(headers)) is not None:
            return denied
        admitted, rate_headers = self.hs._admit()
        if not admitted:
            return 429, rate_headers, {"status": "error", "errorType": "RATE_LIMIT",
                                       "message": "You have reached your secondly limit.",
                                       "policyName": "SECONDLY"}
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "Invalid JSON body", "VALIDATION_ERROR")
        if batch is not None:
            self.hs.calls[f"POST {path}"] += 1
            inputs = data.get("inputs") if isinstance(data, dict) else None
            if not isinstance(inputs, list) or not inputs:
                return _error(400, "'inputs' must be a non-empty list", "VALIDATION_ERROR")
            for item in inputs:
                reply = self._complete(str((item or {}).get("callbackId") or ""), item)
                if reply[0] != 204:
                    return reply
            return 204, {}, None
        if match["version"] and match["version"] != "2026-03":
            return _error(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")
        key = ("POST /automation/v4/actions/callbacks/{callbackId}/complete" if match["v4"]
               else "POST /automation/actions/callbacks/{version}/{callbackId}/complete")
        self.hs.calls[key] += 1
        return self._complete(match["v4"] or match["dated"], data)

    def _complete(self, callback_id: str, data: Any) -> Reply:
        if not isinstance(data, dict) or not isinstance(data.get("outputFields"), dict):
            return _error(400, "Invalid input JSON: 'outputFields' is required and must be an "
                          "object", "VALIDATION_ERROR")
        with self._lock:
            execution = self.executions.get(callback_id)
            if execution is None or execution.state != "BLOCKED":
                state = "unknown" if execution is None else execution.state.lower()
                return _error(404 if execution is None else 400,
                              f"No blocked action execution with callback id "
                              f"{callback_id[:80]} ({state})",
                              "OBJECT_NOT_FOUND" if execution is None else "VALIDATION_ERROR")
            execution.state = "COMPLETED"
            execution.output_fields = dict(data["outputFields"])
            execution.completions += 1
        return 204, {}, None
