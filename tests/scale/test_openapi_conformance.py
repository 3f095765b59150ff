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


def test_every_operation_conforms_to_the_spec(config):
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
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = auth(account_id)

    def excluded(case):
        if case.operation.label in SOAP_OPERATIONS:
            return [positive_data_acceptance, not_a_server_error]
        return [positive_data_acceptance]

    operations, failures = failures_of(schema, headers, examples=EXAMPLES_PER_OPERATION,
                                       excluded=excluded)
    container.close()
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
