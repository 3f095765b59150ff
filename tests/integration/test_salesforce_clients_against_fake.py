"""The Salesforce clients against the fake org over real HTTP: many threads meeting one
expired token, and an attempt cut short by its deadline."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from adapters.salesforce.auth import JwtBearerAuth
from adapters.salesforce.interaction import InteractionClient
from adapters.salesforce.records import SalesforceRecords
from adapters.salesforce.retry import RetryPolicy
from connector.core.errors import TransientCrmError
from connector.core.ports import RouteRequest

THREADS = 6


def _auth(fake, keys):
    return JwtBearerAuth(login_url=fake.url, client_id=fake.client_id,
                         username=fake.username, private_key=keys.private_key_pem)


def _interaction(fake, auth, **kw):
    return InteractionClient(scrt_url=fake.url, org_id=fake.org_id,
                             authorization_context=fake.authorization_context, auth=auth,
                             retry=RetryPolicy(max_attempts=2, backoff_base=0.0), **kw)


def _together(calls):
    """Run the calls in threads released at once; re-raise the first error."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        barrier.wait()
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if errors:
        raise errors[0]


def test_threads_meeting_an_expired_token_on_the_route_api_log_in_once(fake, keys):
    auth = _auth(fake, keys)
    client = _interaction(fake, auth)
    auth.token()
    fake.expire_tokens()
    fake.latency = 0.2  # every thread sends the expired token before any answer

    _together([lambda n=n: client.route(RouteRequest(f"conv-{n}", "Initial",
                                                     str(uuid.uuid4())))
               for n in range(THREADS)])

    assert auth.logins == 2
    assert len(fake.psrs) == THREADS


def test_threads_meeting_an_expired_session_on_the_rest_api_log_in_once(fake, keys):
    auth = _auth(fake, keys)
    records = SalesforceRecords(auth, retry=RetryPolicy(max_attempts=2, backoff_base=0.0))
    users = [fake.add_user(f"rep{n}@example.com") for n in range(THREADS)]
    auth.token()
    fake.expire_tokens()
    fake.latency = 0.2
    found: list[str | None] = []

    _together([lambda n=n: found.append(records.owner_id_for_email(f"rep{n}@example.com"))
               for n in range(THREADS)])

    assert auth.logins == 2
    assert sorted(found) == sorted(users)


def test_an_attempt_is_cut_short_by_the_transfer_deadline(fake, keys):
    auth = _auth(fake, keys)
    client = _interaction(fake, auth, timeout=(5.0, 20.0))
    auth.token()
    fake.latency = 3.0  # the Interaction Service answers, but too late
    started = time.monotonic()

    with pytest.raises(TransientCrmError, match="timed out"):
        client.route(RouteRequest("conv-late", "Transfer", str(uuid.uuid4()),
                                  deadline_at=time.time() + 0.5))

    assert time.monotonic() - started < 1.5
