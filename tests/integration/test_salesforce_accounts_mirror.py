"""Salesforce Accounts from Outbound Messages become the companies leads are matched
against; they are not routed and nothing is written back."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select

from connector.jobs import inbox
from connector.store.models import CompanyRow, DecisionRow
from tests.integration.helpers import make_user
from tests.integration.test_salesforce_integrity import ORG, drain, writer  # noqa: F401


def store_account(container, notification_id, record):
    inbox.store_events(container.db, [inbox.NewEvent(
        "salesforce", ORG, f"outbound:{notification_id}", "salesforce",
        {"eventType": "OutboundMessage", "sobject": "Account", "record": record,
         "received_at": time.time()})])


def test_an_account_message_fills_the_companies(container, client, headers,
                                                 writer):  # noqa: F811
    ana = make_user(client, headers, "ana@example.com", crm_ids={"salesforce": "005ana"})
    store_account(container, "n1", {"Id": "001A", "Name": "Acme Ltd",
                                     "Website": "https://www.acme.co.uk", "OwnerId": "005ana",
                                     "NumberOfEmployees": "250",
                                     "LastActivityDate": "2026-11-30"})
    store_account(container, "n2", {"Id": "001B", "Name": "Globex", "OwnerId": "005other"})
    drain(container)
    with container.db.session() as session:
        acme, globex = session.scalars(select(CompanyRow).order_by(CompanyRow.external_id))
        assert (acme.source, acme.name, acme.website, acme.size, acme.owner_rep_id) == \
            ("salesforce", "Acme Ltd", "https://www.acme.co.uk", 250, ana)
        assert acme.last_activity_at == datetime(2026, 11, 30, tzinfo=UTC)
        assert globex.owner_rep_id is None
        assert session.query(DecisionRow).count() == 0
    assert writer.written == []
    store_account(container, "n3", {"Id": "001A", "Name": "Acme Limited"})
    drain(container)
    with container.db.session() as session:
        names = list(session.scalars(select(CompanyRow.name).order_by(CompanyRow.external_id)))
    assert names == ["Acme Limited", "Globex"]
    response = client.post("/v1/match", json={"website": "acme.co.uk"},
                           headers=_key(container))
    assert response.json["matched"]["company_name"] == "Acme Limited"


def _key(container):
    from connector.service.api_keys import create_key

    with container.db.session() as session:
        account_id = session.scalar(select(CompanyRow.account_id))
    _, secret = create_key(container.db, account_id, ["*"])
    return {"Authorization": f"Bearer {secret}"}
