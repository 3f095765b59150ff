"""The /v1 fixtures (API keys, a settable clock) for the notification and insights tests."""

from tests.v1.conftest import clock, key_for, v1  # noqa: F401 - fixtures
