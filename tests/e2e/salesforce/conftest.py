from __future__ import annotations

import pytest

from adapters.salesforce.fake_keys import generate_key_pair
from adapters.salesforce.fake_server import FakeSalesforce
from connector.salesforce_demo import start_env
from tests.support.salesforce_spec import request_problems


@pytest.fixture(scope="session")
def keys():
    return generate_key_pair()


@pytest.fixture
def fake(keys):
    server = FakeSalesforce(certificate_pem=keys.certificate_pem,
                            request_validator=request_problems).start()
    yield server
    server.stop()


@pytest.fixture
def make_env(tmp_path, fake, keys):
    envs = []

    def make(**overrides):
        env = start_env(tmp_path, fake, keys, **overrides)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.stop()


@pytest.fixture
def env(make_env):
    return make_env()
