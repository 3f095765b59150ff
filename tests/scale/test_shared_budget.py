"""Bootstrap picks the Redis-shared call budget when REDIS_URL is set."""

from __future__ import annotations

import uuid

import pytest

from adapters.common.redis_window import RedisSlidingWindow
from adapters.hubspot.budget import SlidingWindowBudget
from connector.bootstrap import bootstrap, hubspot_budget, shared_budget
from connector.config import Config


def test_without_redis_each_process_keeps_its_own_window(tmp_path):
    container = bootstrap(Config(database_url=f"sqlite:///{tmp_path / 'db'}"))
    assert isinstance(hubspot_budget(container, 62515), SlidingWindowBudget)
    assert shared_budget(container, "salesforce", "00D", max_calls=5, window=1) is None
    container.close()


@pytest.mark.redis
def test_with_redis_budgets_are_shared_per_portal_and_org(tmp_path):
    prefix = f"test:{uuid.uuid4().hex}"
    container = bootstrap(Config(database_url=f"sqlite:///{tmp_path / 'db'}",
                                 redis_url="redis://127.0.0.1:6379/0"), budget_prefix=prefix)
    one, again = hubspot_budget(container, 62515), hubspot_budget(container, "62515")
    other = hubspot_budget(container, 99)
    assert isinstance(one, RedisSlidingWindow) and one is again and other is not one
    assert (one.key, one.max_calls, one.window) == (f"{prefix}:hubspot:62515", 190, 10.0)
    org = shared_budget(container, "salesforce", "00Dxx", max_calls=25, window=1.0)
    assert org.key == f"{prefix}:salesforce:00Dxx"
    one.acquire()
    assert one.in_window() == 1
    container.extras["redis"].delete(one.key)
    container.close()


@pytest.mark.redis
def test_salesforce_clients_share_one_redis_budget_per_org(tmp_path):
    from adapters.salesforce.fake_keys import generate_key_pair

    prefix = f"test:{uuid.uuid4().hex}"
    config = Config(database_url=f"sqlite:///{tmp_path / 'db'}",
                    redis_url="redis://127.0.0.1:6379/0", salesforce_client_id="client",
                    salesforce_username="router@example.com",
                    salesforce_private_key=generate_key_pair().private_key_pem,
                    salesforce_org_id="00D000000000001", byoc_scrt_url="http://127.0.0.1:9",
                    byoc_authorization_context="P1_Channel", salesforce_burst_limit=25)
    container = bootstrap(config, budget_prefix=prefix)
    ports = container.extras["salesforce_ports"]
    budget = ports.writer._budget
    assert budget is ports.conversations._budget
    assert isinstance(budget, RedisSlidingWindow)
    assert (budget.key, budget.max_calls) == (f"{prefix}:salesforce:00D000000000001", 25)
    container.close()
