"""The console's app runs with HubSpot and Salesforce webhooks enabled, so the seeded
inbox events are stored by the real routes."""

from __future__ import annotations

import pytest

from tests.admin.seed import crm_settings


@pytest.fixture
def config(config):
    return crm_settings(config)
