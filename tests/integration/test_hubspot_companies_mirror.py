"""HubSpot companies mirrored by the inbox handler become the companies leads are matched
against (source "hubspot", external id the HubSpot record id), owner included; a deleted
company is no longer matched."""

from __future__ import annotations

from sqlalchemy import select

from connector.store.models import CompanyRow
from tests.integration.test_hubspot_processing import crm, event, reps, run  # noqa: F401


def _companies(container) -> list[CompanyRow]:
    with container.db.session() as session:
        rows = list(session.scalars(select(CompanyRow).order_by(CompanyRow.external_id)))
        session.expunge_all()
        return rows


def test_company_events_fill_the_companies_and_deletion_removes(container, crm, reps):  # noqa: F811
    crm.records["501"] = {"name": " Acme Ltd ", "domain": "ACME.co.uk",
                          "numberofemployees": "250", "hubspot_owner_id": "900"}
    crm.records["502"] = {"name": "Globex", "domain": "globex.example",
                          "hubspot_owner_id": "77"}  # an owner who is not one of our reps
    results = run(container, event("creation", 501, object_type="company"),
                  event("creation", 502, object_type="company"))
    assert set(results.values()) == {None}
    acme, globex = _companies(container)
    assert (acme.source, acme.external_id, acme.name, acme.domain, acme.size) == \
        ("hubspot", "501", "Acme Ltd", "acme.co.uk", 250)
    assert acme.owner_rep_id == reps[0] and globex.owner_rep_id is None

    crm.records["501"]["name"] = "Acme Limited"
    run(container, event("propertyChange", 501, object_type="company",
                         property_name="name", property_value="Acme Limited"))
    assert [c.name for c in _companies(container)] == ["Acme Limited", "Globex"]

    run(container, event("deletion", 502, object_type="company"))
    assert [c.external_id for c in _companies(container)] == ["501"]


def test_a_router_with_a_match_action_subscribes_to_companies(container, client, headers):
    from connector.service.hubspot_subscriptions import wanted_subscriptions
    from tests.integration.helpers import make_router, make_user

    ann = make_user(client, headers, "ann@example.com")
    make_router(client, headers, [ann])
    wanted, _ = wanted_subscriptions(container.db, container.mappings)
    assert not any(kind.startswith("company.") for kind, _ in wanted)
    make_router(client, headers, [ann], account_match={"role": "owner"})
    wanted, _ = wanted_subscriptions(container.db, container.mappings)
    assert {("company.creation", None), ("company.propertyChange", "domain"),
            ("company.propertyChange", "hubspot_owner_id"), ("company.deletion", None)} \
        <= wanted
