"""Fixtures of the /v1 tests: keys with given scopes, a settable clock, and helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.service.api_keys import RateLimiter, create_key

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class Clock:
    """The time the app sees (``extras["now"]``) and the rate limiter's monotonic clock."""

    def __init__(self, start: datetime = START) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.at += timedelta(**delta)


@pytest.fixture
def clock(container) -> Clock:
    c = Clock()
    container.extras["now"] = c
    container.extras["v1_rate_limiter"] = RateLimiter(
        container.config.v1_rate_limit_per_minute, 60.0, clock=c.monotonic)
    return c


@pytest.fixture
def key_for(container):
    def make(account_id: str, scopes=("*",)) -> dict[str, str]:
        _, secret = create_key(container.db, account_id, list(scopes))
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def v1(key_for, account_id, clock) -> dict[str, str]:
    """Headers with a key of scope ``*`` for the default account."""
    return key_for(account_id)


def error(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def make_rep(client, headers, email: str, **extra) -> str:
    response = client.post("/v1/reps", json={"email": email, "name": email.split("@")[0],
                                             **extra}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def make_ruleset(client, headers, rules: list, default_actions: list | None = None,
                 active: bool = True) -> dict:
    response = client.post("/v1/rules", json={
        "name": "Main", "active": active, "rules": rules,
        "default_rule": {"actions": default_actions or []}}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def when(field: str, operator: str, value=None) -> dict:
    return {"match": "any", "groups": [{"match": "all", "conditions": [
        {"field": field, "operator": operator, "value": value}]}]}
