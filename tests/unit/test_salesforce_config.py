"""Salesforce settings fail at start with the variable's name, never silently."""

from __future__ import annotations

import pytest

from connector.bootstrap import bootstrap
from connector.config import Config, ConfigError

PEM = "-----BEGIN PRIVATE KEY-----\nnot used at start\n-----END PRIVATE KEY-----\n"


def make(tmp_path, **settings) -> Config:
    return Config(database_url=f"sqlite:///{tmp_path / 'c.db'}", executor="inline",
                  jwt_secret="j" * 32, **settings)


@pytest.mark.parametrize("settings,message", [
    ({"salesforce_client_id": "key"}, "SALESFORCE_USERNAME, SALESFORCE_PRIVATE_KEY not set"),
    ({"byoc_scrt_url": "https://scrt.example"}, "SALESFORCE_CLIENT_ID"),
    ({"salesforce_client_id": "k", "salesforce_username": "u", "salesforce_private_key": PEM,
      "byoc_scrt_url": "https://scrt.example", "byoc_authorization_context": "P_C",
      "byoc_org_id": "00D5g000004Xyz1AAA"}, "use '00D5g000004Xyz1'"),
    ({"salesforce_client_id": "k", "salesforce_username": "u", "salesforce_private_key": PEM,
      "byoc_scrt_url": "https://scrt.example", "byoc_org_id": "00D5g000004Xyz1"},
     "BYOC_AUTHORIZATION_CONTEXT"),
    ({"salesforce_client_id": "k", "salesforce_username": "u", "salesforce_private_key": PEM,
      "byoc_scrt_url": "https://scrt.example", "byoc_org_id": "00D5g000004Xyz1",
      "byoc_authorization_context": "P_C", "byoc_route_encoding": "xml"},
     "BYOC_ROUTE_ENCODING"),
])
def test_incomplete_salesforce_settings_fail_at_start_naming_the_variable(tmp_path, settings,
                                                                           message):
    with pytest.raises(ConfigError, match=message):
        bootstrap(make(tmp_path, **settings))


def test_complete_settings_wire_the_clients(tmp_path):
    container = bootstrap(make(
        tmp_path, salesforce_client_id="k", salesforce_username="u",
        salesforce_private_key=PEM, byoc_scrt_url="https://scrt.example",
        byoc_org_id="00D5g000004Xyz1", byoc_authorization_context="P_C"))
    try:
        ports = container.extras["salesforce_ports"]
        assert ports.conversations is not None and ports.writer is not None
        assert "salesforce" in container.extras["handlers"]
    finally:
        container.close()


def test_env_variables_are_read(tmp_path):
    config = Config.from_env({"SALESFORCE_ACCOUNT_ID": "acc", "BYOC_PENDING_TIMEOUT_SECONDS":
                              "90", "BYOC_SWEEP_SECONDS": "7"})
    assert (config.salesforce_account_id, config.byoc_pending_timeout_seconds,
            config.byoc_sweep_seconds) == ("acc", 90, 7)
