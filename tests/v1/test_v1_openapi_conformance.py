"""Schemathesis against /v1/openapi.json: no 5xx, and every response matches the spec
(status codes, content types, bodies), with a key of scope ``*``. Bounded: a few examples
per operation. As for the root API, "schema-valid request rejected" is left out: ids in
paths must name existing records and time zones must exist, which JSON Schema cannot say.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from connector.service.api_keys import create_key

EXAMPLES_PER_OPERATION = 15


def test_every_v1_operation_conforms_to_the_spec(app, container, account_id):
    _, key = create_key(container.db, account_id, ["*"])
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
