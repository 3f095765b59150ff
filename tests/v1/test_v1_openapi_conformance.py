"""Schemathesis against /v1/openapi.json: no 5xx, and every response matches the spec
(status codes, content types, bodies), with a key of scope ``*``. Bounded: a few examples
per operation. As for the root API, "schema-valid request rejected" is left out: ids in
paths must name existing records and time zones must exist, which JSON Schema cannot say.
"""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from connector.service.api_keys import create_key
from tests.support.schemathesis_run import failures_of

EXAMPLES_PER_OPERATION = 15


def test_every_v1_operation_conforms_to_the_spec(app, container, account_id):
    _, key = create_key(container.db, account_id, ["*"])
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    operations, failures = failures_of(schema, headers, examples=EXAMPLES_PER_OPERATION,
                                       excluded=lambda case: [positive_data_acceptance])
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
