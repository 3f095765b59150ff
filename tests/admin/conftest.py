"""The console's app runs with HubSpot and Salesforce webhooks enabled, so the seeded
inbox events are stored by the real routes."""

from __future__ import annotations

import pytest

from tests.admin.seed import crm_settings, seed


@pytest.fixture
def config(config):
    return crm_settings(config)


@pytest.fixture
def two(container, client, make_account):
    """Two accounts with their admins, reps and routers: Acme and Globex."""
    acme = seed(container, client, make_account, name="Acme", email="ops@acme.example")
    globex = seed(container, client, make_account, name="Globex", email="ops@globex.example")
    return acme, globex
