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


def _simple_salesforce(fake):
    """simple-salesforce on the fake's session: it builds https:// URLs from the instance,
    so they are pointed at the fake's plain-HTTP address (as SalesforceRecords does)."""
    from simple_salesforce import Salesforce

    sf = Salesforce(instance_url=fake.url, session_id=fake.issue_token(), version="61.0")
    sf.base_url = f"{fake.url}/services/data/v61.0/"

    def sobject(name):
        handle = getattr(sf, name)
        handle.base_url = f"{fake.url}/services/data/v61.0/sobjects/{name}/"
        return handle

    return sf, sobject


def test_simple_salesforce_reads_records_and_describes_through_the_fake(fake):
    sf, sobject = _simple_salesforce(fake)
    lead = fake.add_record("Lead", {"Email": "x@example.com"})

    assert sobject("Lead").get(lead)["Email"] == "x@example.com"
    assert "OwnerId" in {f["name"] for f in sobject("Lead").describe()["fields"]}
    assert "Case" in {o["name"] for o in sf.describe()["sobjects"]}
    user = fake.add_user("ana@example.com")
    soql = ("SELECT Id FROM User WHERE IsActive = true AND Email = 'ana@example.com' "
            "ORDER BY CreatedDate LIMIT 1")
    assert sf.query(soql)["records"][0]["Id"] == user


def test_simple_salesforce_meets_salesforces_errors_in_the_fake(fake):
    from simple_salesforce.exceptions import (
        SalesforceMalformedRequest,
        SalesforceResourceNotFound,
    )

    sf, sobject = _simple_salesforce(fake)
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.query("SELECT Name FROM Account")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sobject("Lead").get("00Q999999999999")
    assert missing.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("limits")


@pytest.mark.parametrize("sobject_type", ["Lead", "Case"])
def test_simple_salesforce_owner_writes_stick_only_with_the_auto_assign_header(fake,
                                                                                sobject_type):
    sf, sobject = _simple_salesforce(fake)
    rule_owner = fake.add_queue("Triage")
    fake.assignment_rules[sobject_type] = rule_owner
    record, owner = fake.add_record(sobject_type, {}), fake.add_user("ana@example.com")

    sobject(sobject_type).update(record, {"OwnerId": owner})
    assert fake.owner_of(record) == rule_owner
    sobject(sobject_type).update(record, {"OwnerId": owner},
                                 headers={"Sforce-Auto-Assign": "FALSE"})
    assert fake.owner_of(record) == owner
    answer = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": sobject_type}, "id": record, "OwnerId": owner}]})
    assert answer == [{"id": record, "success": True, "errors": []}]
    assert fake.owner_of(record) == rule_owner


def test_the_connectors_owner_writes_stick_against_an_active_assignment_rule(fake, keys):
    from connector.core.ports import OwnerWrite

    fake.assignment_rules.update({"Lead": fake.add_queue("Triage"),
                                  "Case": fake.add_queue("Cases")})
    owner = fake.add_user("ana@example.com")
    lead, case = fake.add_record("Lead", {}), fake.add_record("Case", {})
    records = SalesforceRecords(_auth(fake, keys), retry=RetryPolicy(max_attempts=1))

    results = records.write_owners([OwnerWrite("lead", lead, owner),
                                    OwnerWrite("case", case, owner),
                                    OwnerWrite("lead", "00Q999999999999", owner)])

    assert [r.ok for r in results] == [True, True, False]
    assert "INVALID_CROSS_REFERENCE_KEY" in results[2].error
    assert fake.owner_of(lead) == owner and fake.owner_of(case) == owner
    assert fake.reassigned == []
    (write,) = fake.requests_to("PATCH", "/services/data/v61.0/composite/sobjects")
    assert write.headers["sforce-auto-assign"] == "FALSE"
