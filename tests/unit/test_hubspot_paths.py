"""HUBSPOT_API_VERSION and the paths it gives every HubSpot call."""

import pytest

from adapters.hubspot.client import object_path
from adapters.hubspot.paths import LATEST, ApiPaths, parse_api_version
from connector.config import Config, ConfigError
from connector.core.errors import PermanentCrmError


def test_the_default_is_the_newest_generally_available_date_version():
    assert LATEST == "2026-09"
    assert Config.from_env({}).hubspot_api_version == "2026-09"
    assert Config.from_env({"HUBSPOT_API_VERSION": " Legacy "}).hubspot_api_version == "legacy"
    assert Config.from_env({"HUBSPOT_API_VERSION": "2026-03"}).hubspot_api_version == "2026-03"
    assert parse_api_version("2027-03-beta") == "2027-03-beta"


@pytest.mark.parametrize("raw", ["v3", "2026-04", "2026-9", "latest", "2026-09; drop"])
def test_a_bad_version_is_refused_naming_the_variable(raw):
    with pytest.raises(ConfigError, match="HUBSPOT_API_VERSION") as exc:
        Config.from_env({"HUBSPOT_API_VERSION": raw})
    assert repr(raw) in str(exc.value)


def test_dated_and_legacy_paths():
    dated, legacy = ApiPaths("2026-09"), ApiPaths("legacy")
    assert dated.batch_read("0-1") == "/crm/objects/2026-09/0-1/batch/read"
    assert dated.batch_update("contacts") == "/crm/objects/2026-09/contacts/batch/update"
    assert dated.owners() == "/crm/owners/2026-09"
    assert dated.associations_batch_read("contacts", "companies") == \
        "/crm/associations/2026-09/contacts/companies/batch/read"
    assert legacy.batch_update("tickets") == "/crm/v3/objects/tickets/batch/update"
    assert legacy.owners() == "/crm/v3/owners"
    assert legacy.associations_batch_read("deals", "contacts") == \
        "/crm/v4/associations/deals/contacts/batch/read"


def test_object_types_named_or_numbered():
    assert [object_path(t) for t in ("contact", "0-1", "Companies", "0-5", "2-1234")] == [
        "contacts", "contacts", "companies", "tickets", "2-1234"]
    for unknown in ("contacts/../owners", "0-7", "3-1"):
        with pytest.raises(PermanentCrmError):
            object_path(unknown)


def _response(status, headers=None, body=None):
    import json

    import requests

    resp = requests.Response()
    resp.status_code = status
    resp.headers.update(headers or {})
    resp._content = json.dumps(body or {}).encode()
    return resp


def test_a_429_with_only_the_secondly_headers_waits_a_second():
    from adapters.hubspot.transport import retry_after_hint

    assert retry_after_hint(_response(429, {"X-HubSpot-RateLimit-Secondly": "19",
                                            "X-HubSpot-RateLimit-Secondly-Remaining": "0"})) \
        == 1.0
    assert retry_after_hint(_response(429, {"X-HubSpot-RateLimit-Secondly-Remaining": "4"})) \
        is None


def test_a_validation_refusal_keeps_the_property_hubspot_names():
    from adapters.hubspot.client import batch_error_message
    from adapters.hubspot.transport import error_for

    nested = [{"code": "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
               "message": "closedate is required because of a conditional property rule "
                          "based on [dealstage]", "context": {"propertyName": ["closedate"]}}]
    err = error_for(_response(400, body={"status": "error", "category": "VALIDATION_ERROR",
                                         "message": "The property values provided are invalid",
                                         "errors": nested}))
    assert isinstance(err, PermanentCrmError) and err.retryable is False
    assert str(err).startswith("The property values provided are invalid (closedate is "
                               "required because of a conditional property rule based on "
                               "[dealstage])")
    assert batch_error_message({"category": "VALIDATION_ERROR", "message": "x" * 600,
                                "errors": nested}).startswith("VALIDATION_ERROR: xxx")
    assert len(batch_error_message({"message": "x" * 600})) == 500


@pytest.mark.parametrize("version, path", [
    ("2026-09", "/automation/actions/callbacks/2026-03/complete"),
    ("2026-03", "/automation/actions/callbacks/2026-03/complete"),
    ("legacy", "/automation/v4/actions/callbacks/complete"),
])
def test_workflow_callbacks_follow_the_api_version(config, version, path):
    """The callbacks API has one dated version; an app on ``legacy`` keeps the v4 path."""
    from dataclasses import replace
    from types import SimpleNamespace

    from connector.bootstrap import bootstrap

    sent = []
    client = SimpleNamespace(transport=SimpleNamespace(
        request=lambda method, url, json: sent.append((method, url, json))))
    container = bootstrap(replace(config, hubspot_api_version=version))
    try:
        container.extras["hubspot_callbacks"](client, {"cb-1": {"owner_id": 7}})
    finally:
        container.close()
    assert sent == [("POST", path, {"inputs": [{"callbackId": "cb-1",
                                                 "outputFields": {"owner_id": "7"}}]})]
