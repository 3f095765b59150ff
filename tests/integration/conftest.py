"""Fixtures of the tests that talk to the fake Salesforce org over real HTTP. A module that
needs another fake (HubSpot's) defines its own ``fake``, which takes precedence."""

from __future__ import annotations

import pytest

from adapters.salesforce.fake_keys import generate_key_pair
from adapters.salesforce.fake_server import FakeSalesforce


@pytest.fixture(scope="session")
def keys():
    """The connected app's key pair; the fake verifies JWT assertions with its certificate."""
    return generate_key_pair()


@pytest.fixture
def fake(keys):
    with FakeSalesforce(certificate_pem=keys.certificate_pem) as server:
        yield server
