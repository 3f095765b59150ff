"""The seed's error model: each status and code with its exact body."""

from __future__ import annotations

import pytest

from connector.store.models import AccountRow
from tests.v1.conftest import error, make_rep

INVALID = "The request body was invalid or contained errors."


def test_missing_key_is_401_unauthorized(client, clock):
    response = client.get("/v1/reps")
    assert response.status_code == 401
    assert response.json == error("UNAUTHORIZED", "Invalid or missing API key.")


@pytest.mark.parametrize("header", ["Bearer ck_not-a-key", "Bearer ", "Basic abc",
                                    "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"])
def test_invalid_key_is_401_unauthorized(client, clock, header):
    response = client.get("/v1/reps", headers={"Authorization": header})
    assert (response.status_code, response.json) == (
        401, error("UNAUTHORIZED", "Invalid or missing API key."))


def test_a_jwt_of_the_root_api_is_not_a_v1_key(client, clock, headers):
    assert client.get("/v1/reps", headers=headers).status_code == 401


def test_key_without_the_scope_is_403_forbidden(client, key_for, account_id, clock):
    response = client.get("/v1/reps", headers=key_for(account_id, ["leads:write"]))
    assert response.status_code == 403
    assert response.json == error("FORBIDDEN", "This API key lacks the scope 'reps:read'")


def test_key_of_a_deactivated_account_is_403(client, container, v1, account_id):
    with container.db.session() as session:
        session.get(AccountRow, account_id).active = False
    response = client.get("/v1/reps", headers=v1)
    assert (response.status_code, response.json) == (
        403, error("FORBIDDEN", "The account is not active"))


def test_unknown_rep_is_404_not_found(client, v1):
    response = client.get("/v1/reps/rep_123", headers=v1)
    assert (response.status_code, response.json) == (404, error("NOT_FOUND", "Rep not found"))


def test_unknown_path_is_404_not_found_in_the_v1_shape(client, v1):
    response = client.get("/v1/nothing/here", headers=v1)
    assert (response.status_code, response.json) == (
        404, error("NOT_FOUND", "The requested resource does not exist."))


def test_same_rep_email_twice_is_409_conflict(client, v1):
    make_rep(client, v1, "alex@company.com")
    response = client.post("/v1/reps", json={"email": "ALEX@company.com"}, headers=v1)
    assert (response.status_code, response.json) == (
        409, error("CONFLICT", "A rep with this email already exists"))


def test_422_names_every_invalid_field(client, v1):
    response = client.post("/v1/reps", json={"email": "nope", "status": "SLEEPING",
                                             "timezone": "Mars/Base", "capacity": -1,
                                             "colour": "red"}, headers=v1)
    assert response.status_code == 422
    assert response.json == error("VALIDATION_ERROR", INVALID, {
        "email": "must be an email address",
        "status": "Input should be 'AVAILABLE', 'BUSY', 'AWAY' or 'OFFLINE'",
        "capacity": "Input should be greater than or equal to 0",
        "timezone": "unknown IANA time zone 'Mars/Base'",
        "colour": "unknown field"})


def test_422_for_a_body_that_is_not_an_object(client, v1):
    response = client.post("/v1/leads", data="[1, 2]", headers=v1)
    assert (response.status_code, response.json) == (
        422, error("VALIDATION_ERROR", INVALID, {"body": "must be a JSON object"}))


def test_422_names_a_missing_required_field_and_a_bad_condition(client, v1):
    response = client.post("/v1/rules", json={"rules": [{"conditions": {"groups": [
        {"conditions": [{"field": "country", "operator": "resembles", "value": "x"}]}]},
        "actions": [{"type": "ASSIGN_REP"}]}]}, headers=v1)
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert fields["name"] == "required"
    assert fields["rules.0.conditions.groups.0.conditions.0.operator"].startswith(
        "unknown operator 'resembles'")
    assert fields["rules.0.actions.0"] == "ASSIGN_REP needs 'rep_id'"


def test_429_rate_limited_with_retry_after(client, container, account_id, key_for, clock):
    from connector.service.api_keys import RateLimiter

    container.extras["v1_rate_limiter"] = RateLimiter(3, 60.0, clock=clock.monotonic)
    headers = key_for(account_id)
    other = key_for(account_id)
    for _ in range(3):
        assert client.get("/v1/reps", headers=headers).status_code == 200
    clock.advance(seconds=20)
    response = client.get("/v1/reps", headers=headers)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "40"
    assert response.json == error("RATE_LIMITED", "Rate limit of 3 requests per 60 seconds "
                                                  "exceeded; retry in 40 s")
    assert client.get("/v1/reps", headers=other).status_code == 200  # per key
    clock.advance(seconds=40)
    assert client.get("/v1/reps", headers=headers).status_code == 200


def test_500_server_error_says_nothing_of_the_internals(client, v1, monkeypatch):
    from connector.service import reps

    def broken(*args, **kwargs):
        raise RuntimeError("password=hunter2 in SELECT * FROM reps")

    monkeypatch.setattr(reps, "list_reps", broken)
    response = client.get("/v1/reps", headers=v1)
    assert (response.status_code, response.json) == (
        500, error("SERVER_ERROR", "Internal server error. Our team has been notified."))
    assert "hunter2" not in response.get_data(as_text=True)


def test_plain_http_is_refused_when_https_is_required(config, account_id):
    from dataclasses import replace

    from connector.bootstrap import bootstrap
    from connector.service.api_keys import create_key
    from connector.web import create_app

    container = bootstrap(replace(config, require_https=True))
    try:
        client = create_app(container=container).test_client()
        _, key = create_key(container.db, account_id, ["*"])
        headers = {"Authorization": f"Bearer {key}"}
        response = client.get("/v1/reps", headers=headers)
        assert (response.status_code, response.json) == (
            403, error("FORBIDDEN", "HTTPS is required: plain HTTP requests are refused"))
        assert client.get("/users", headers=headers).status_code == 403
        assert client.get("/v1/reps", headers=headers,
                          base_url="https://localhost").status_code == 200
    finally:
        container.close()
