"""The Lead lookup and create a ``/v1`` lead makes, through simple-salesforce and through
``SalesforceRecords`` against the fake org: the same SOQL, the same sObject Collections
create, the same refusals."""

from __future__ import annotations

import pytest

from adapters.salesforce.auth import JwtBearerAuth
from adapters.salesforce.records import LEAD_BY_EMAIL, SalesforceRecords, soql_quote
from adapters.salesforce.retry import RetryPolicy
from connector.core.errors import PermanentCrmError

from .test_salesforce_clients_against_fake import _simple_salesforce

NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}


def _records(fake, keys) -> SalesforceRecords:
    auth = JwtBearerAuth(login_url=fake.url, client_id=fake.client_id,
                         username=fake.username, private_key=keys.private_key_pem)
    return SalesforceRecords(auth, retry=RetryPolicy(max_attempts=1, backoff_base=0.0))


def test_simple_salesforce_finds_an_unconverted_lead_by_email(fake):
    sf, _ = _simple_salesforce(fake)
    fake.add_record("Lead", {"Email": "pat@example.org", "IsConverted": True})
    lead = fake.add_record("Lead", {"Email": "Pat@Example.org", "OwnerId": "005x"})
    found = sf.query(LEAD_BY_EMAIL.format(soql_quote("pat@example.org")))
    assert found["totalSize"] == 1 and found["records"][0]["Id"] == lead
    assert found["records"][0]["OwnerId"] == "005x"
    none = sf.query(LEAD_BY_EMAIL.format(soql_quote("o'brien@example.org")))
    assert none == {"totalSize": 0, "done": True, "records": []}


def test_simple_salesforce_creates_a_lead_with_its_owner_in_one_call(fake):
    sf, sobject = _simple_salesforce(fake)
    ana = fake.add_user("ana@example.com")
    rule_owner = fake.add_user("rule@example.com")
    fake.assignment_rules["Lead"] = rule_owner
    made = sf.restful("composite/sobjects", method="POST", headers=NO_AUTO_ASSIGN, json={
        "allOrNone": True, "records": [{"attributes": {"type": "Lead"}, "LastName": "Lee",
                                        "Company": "Acme", "Email": "pat@example.org",
                                        "OwnerId": ana}]})
    assert made[0]["success"] is True and made[0]["errors"] == []
    assert sobject("Lead").get(made[0]["id"])["OwnerId"] == ana  # the rule did not run
    again = sf.restful("composite/sobjects", method="POST", json={
        "records": [{"attributes": {"type": "Lead"}, "LastName": "Kim", "Company": "Acme"}]})
    assert fake.owner_of(again[0]["id"]) == rule_owner  # without the header, it does


def test_simple_salesforce_meets_the_create_refusals(fake):
    sf, _ = _simple_salesforce(fake)
    refused = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False,
        "records": [{"attributes": {"type": "Lead"}, "Email": "x@example.org"},
                    {"attributes": {"type": "Lead"}, "LastName": "Lee", "Company": "Acme",
                     "OwnerId": "005000000000999"},
                    {"attributes": {"type": "Lead"}, "Id": "00Q000000000001",
                     "LastName": "Lee", "Company": "Acme"}]})
    assert [r["success"] for r in refused] == [False, False, False]
    assert refused[0]["errors"][0] == {"statusCode": "REQUIRED_FIELD_MISSING",
                                       "message": "Required fields are missing: "
                                                  "[LastName, Company]",
                                       "fields": ["LastName", "Company"]}
    assert refused[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert refused[2]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert not any(r["type"] == "Lead" for r in fake.records.values())


def test_our_client_finds_creates_and_reports_what_salesforce_names(fake, keys):
    records = _records(fake, keys)
    ana = fake.add_user("ana@example.com")
    assert records.find_lead_by_email("pat@example.org") is None
    made = records.create_lead({"LastName": "Lee", "Company": "Acme",
                                "Email": "pat@example.org", "OwnerId": ana})
    assert fake.owner_of(made) == ana
    assert records.find_lead_by_email("PAT@example.org") == made
    creates = fake.requests_to("POST", "/services/data/v61.0/composite/sobjects")
    assert creates[0].headers.get("sforce-auto-assign") == "FALSE"
    with pytest.raises(PermanentCrmError, match="REQUIRED_FIELD_MISSING: Required fields "
                                                r"are missing: \[Company\]"):
        records.create_lead({"LastName": "Lee"})
