"""The default mapping files load, and a mapping derives what to fetch and maps a record."""

from __future__ import annotations

import pytest

from connector.mapping import MappingError, MappingRegistry, parse_mapping

DEFAULTS = [("hubspot", "contact"), ("hubspot", "company"), ("hubspot", "deal"),
            ("hubspot", "ticket"), ("salesforce", "lead"), ("salesforce", "contact"),
            ("salesforce", "case"), ("salesforce", "conversation")]


@pytest.mark.parametrize(("source", "obj"), DEFAULTS)
def test_every_default_mapping_loads(source, obj):
    mapping = MappingRegistry().get(source, obj)
    assert mapping.source == source and mapping.object == obj
    assert mapping.owner_property in mapping.properties


def test_properties_are_derived_from_fields_once_each():
    mapping = parse_mapping({"source": "hubspot", "object": "contact",
                             "owner": {"field": "contact_owner",
                                       "property": "hubspot_owner_id"},
                             "fields": {"email": {"source": "email"},
                                        "city": {"source": "address.city"},
                                        "line": {"source": "address.lines[0]"}}})
    assert mapping.properties == ("email", "address", "hubspot_owner_id")
    assert mapping.apply({"email": "a@b.io", "address": {"city": "Oslo", "lines": ["1 St"]}}) \
        == {"email": "a@b.io", "city": "Oslo", "line": "1 St"}


def test_transforms_and_required_fields():
    mapping = MappingRegistry().get("hubspot", "contact")
    assert mapping.apply({"email": "  Ada@Example.COM "})["email"] == "ada@example.com"
    conversation = MappingRegistry().get("salesforce", "conversation")
    with pytest.raises(MappingError) as info:
        conversation.apply({"channelAddressIdentifier": "x"})
    assert "field 'conversation_identifier': required" in str(info.value)


def test_missing_mapping_names_the_path(tmp_path):
    with pytest.raises(MappingError, match="no mapping for hubspot/widget"):
        MappingRegistry(tmp_path).get("hubspot", "widget")
