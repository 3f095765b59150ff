"""Schemathesis against the app's own /openapi.json: no 5xx, and every response matches
the spec (status codes, content types, bodies). Bounded: a few examples per operation.

One check is left out: "schema-valid request rejected" (positive data acceptance). The API
also enforces rules JSON Schema cannot state (an ``after`` cursor must name an existing
record, IANA time zone names, an account's own required custom fields), so a 400 for such
input is correct; every 400 must still be a documented status with the Error body.

Salesforce Outbound Messages speak SOAP 1.1, which answers every fault with HTTP 500 (the
documented SOAP Fault body); for that operation the no-5xx check gives way to the
response-conformance checks.
"""

from __future__ import annotations

import re
from dataclasses import replace

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from connector.bootstrap import bootstrap
from connector.store.models import AccountRow
from connector.web import create_app
from tests.conftest import auth
from tests.support.schemathesis_run import failures_of

EXAMPLES_PER_OPERATION = 12
SOAP_OPERATIONS = {"POST /webhooks/salesforce/outbound",
                   "POST /webhooks/salesforce/outbound/{secret}"}


def _fuzzed_app(config):
    container = bootstrap(replace(config, hubspot_client_secret="fuzz-client-secret",
                                  hubspot_client_id="fuzz-client", public_url="http://localhost",
                                  hubspot_api_base="http://127.0.0.1:9",
                                  salesforce_webhook_secret="fuzz-webhook-secret",
                                  salesforce_org_id="00D000000000001",
                                  salesforce_outbound_secrets=("fuzz-outbound-" + "s" * 20,),
                                  metrics_token="fuzz-metrics-token"))
    app = create_app(container=container)
    with container.db.session() as session:
        account = AccountRow(name="Fuzz", active=True)
        session.add(account)
        session.flush()
        account_id = account.id
    return container, schemathesis.openapi.from_wsgi("/openapi.json", app), auth(account_id)


def test_every_operation_conforms_to_the_spec(config):
    container, schema, headers = _fuzzed_app(config)

    def excluded(case):
        if case.operation.label in SOAP_OPERATIONS:
            return [positive_data_acceptance, not_a_server_error]
        return [positive_data_acceptance]

    operations, failures = failures_of(schema, headers, examples=EXAMPLES_PER_OPERATION,
                                       excluded=excluded)
    container.close()
    assert operations >= 20
    assert not failures, "\n\n".join(failures)


def _deep(depth: int) -> dict:
    body: dict = {}
    for _ in range(depth):
        body = {"k": body}
    return body


def test_every_operation_refuses_what_no_field_can_hold_with_a_documented_400(config):
    """The request limits, operation by operation: a NUL in a path parameter, and in a
    JSON body nesting past the cap, an integer beyond 64 bits, a NUL or an unpaired
    surrogate. Each gets a 400 the spec documents, with the Error body; none a 5xx."""
    container, schema, headers = _fuzzed_app(config)
    failures: list[str] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SOAP_OPERATIONS:
            continue
        names = re.findall(r"{(\w+)}", operation.path)
        cases = []
        if names:
            cases.append(("NUL in the path", operation.Case(
                path_parameters={n: "x\x00y" for n in names})))
        body = operation.definition.raw.get("requestBody", {}).get("content", {})
        schema_of = body.get("application/json", {}).get("schema", {})
        if body and (schema_of.get("type") != "array"):
            parameters = {n: "x" for n in names}
            for label, value in (("deep JSON", _deep(40)), ("big integer", {"n": 2**70}),
                                 ("NUL", {"name": "a\x00"}),
                                 ("surrogate", {"name": "\ud800"})):
                cases.append((label, operation.Case(path_parameters=parameters, body=value,
                                                    media_type="application/json")))
        for label, case in cases:
            checked += 1
            try:
                response = case.call_and_validate(
                    headers=headers, excluded_checks=[positive_data_acceptance])
                # the /v1 API answers in its own model: 422 VALIDATION_ERROR naming the field
                v1 = operation.path.startswith("/v1/")
                wanted = 422 if v1 else 400
                error = response.json().get("error") if response.status_code == wanted else None
                if response.status_code != wanted:
                    failures.append(f"{operation.label} {label}: {response.status_code}")
                elif (v1 and (not isinstance(error, dict) or error.get("code")
                              != "VALIDATION_ERROR")) or (not v1 and error is not True):
                    failures.append(f"{operation.label} {label}: {response.text[:200]}")
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
                failures.append(f"{operation.label} {label}: {str(exc)[:800]}")
    container.close()
    assert checked >= 40
    assert not failures, "\n\n".join(failures)
