"""Applying a mapping: paths, transforms, type conversion, required fields, and the
properties derived from the mapping."""

from __future__ import annotations

import pytest

from connector.mapping import MappingError, parse_mapping_text

HEAD = """source: hubspot
object: contact
owner: {field: contact_owner, property: hubspot_owner_id}
fields:
"""


def mapping(fields: str, version: int | None = 3):
    return parse_mapping_text(HEAD + fields, "hubspot/contact (test)", version=version)


def apply(fields: str, record: dict):
    return mapping(fields).apply(record)


def test_nested_paths_and_list_indexes():
    m = mapping("  city: address.city\n  line: {source: 'address.lines[1]'}\n"
                "  first_tag: 'tags[0].name'\n")
    record = {"address": {"city": "Oslo", "lines": ["1 Main St", "Floor 2"]},
              "tags": [{"name": "vip"}]}
    assert m.apply(record) == {"city": "Oslo", "line": "Floor 2", "first_tag": "vip"}
    assert m.apply({"address": {"lines": []}}) == {"city": None, "line": None,
                                                   "first_tag": None}


def test_properties_are_derived_once_each_with_the_owner_property_last():
    m = mapping("  city: address.city\n  line: 'address.lines[0]'\n"
                "  name: {sources: [firstname, lastname], transforms: [{join: ' '}]}\n"
                "  first: firstname\n")
    assert m.properties == ("address", "firstname", "lastname", "hubspot_owner_id")


def test_text_transforms():
    assert apply("  e: {source: e, transforms: [trim, lower]}\n"
                 "  c: {source: c, transforms: [trim, upper]}\n",
                 {"e": "  Ada@Example.COM ", "c": " us "}) == {"e": "ada@example.com",
                                                               "c": "US"}


def test_value_map_then_default():
    fields = ("  country:\n    source: country\n    transforms:\n      - trim\n"
              "      - map: {'United States': US, 'U.S.': US, 'NO': Norway}\n"
              "      - default: unknown\n")
    assert apply(fields, {"country": " United States "}) == {"country": "US"}
    assert apply(fields, {"country": "NO"}) == {"country": "Norway"}
    assert apply(fields, {"country": "France"}) == {"country": "France"}
    assert apply(fields, {"country": "  "}) == {"country": "unknown"}
    assert apply(fields, {}) == {"country": "unknown"}


def test_map_matches_numbers_as_text():
    assert apply("  size: {source: n, transforms: [{map: {1: small, 2: large}}]}\n",
                 {"n": 2}) == {"size": "large"}


def test_regex_extract_keeps_the_first_group_or_the_whole_match():
    fields = ("  domain: {source: email, transforms: [lower, {regex: '@(.+)$'}]}\n"
              "  digits: {source: phone, transforms: [{regex: '[0-9]+'}]}\n")
    assert apply(fields, {"email": "Ada@Example.com", "phone": "tel 555"}) == {
        "domain": "example.com", "digits": "555"}
    assert apply(fields, {"email": "no-at-sign", "phone": "none"}) == {
        "domain": None, "digits": None}


def test_join_of_several_sources_skips_empty_parts():
    fields = "  name: {sources: [first, last], transforms: [trim, {join: ' '}]}\n"
    assert apply(fields, {"first": " Ada ", "last": "Lovelace"}) == {"name": "Ada Lovelace"}
    assert apply(fields, {"last": "Lovelace"}) == {"name": "Lovelace"}
    assert apply(fields, {}) == {"name": None}


def test_split_gives_a_list_whose_items_are_converted():
    fields = ("  tags: {source: tags, transforms: [{split: ';'}, lower]}\n"
              "  sizes: {source: sizes, type: integer, transforms: [{split: ','}]}\n")
    assert apply(fields, {"tags": "VIP; Partner;;", "sizes": "1, 20"}) == {
        "tags": ["vip", "partner"], "sizes": [1, 20]}


@pytest.mark.parametrize(("kind", "raw", "value"), [
    ("string", 42, "42"), ("string", 4.0, "4"), ("string", True, "true"),
    ("number", "1200", 1200), ("number", " 12.5 ", 12.5), ("number", 3, 3),
    ("integer", "12", 12), ("integer", 12.0, 12), ("integer", "7.0", 7),
    ("boolean", "true", True), ("boolean", "No", False), ("boolean", 1, True),
    ("boolean", "on", True), ("boolean", False, False),
    ("date", "2024-03-05", "2024-03-05"), ("date", "2024-03-05T23:30:00-02:00", "2024-03-06"),
    ("date", 1709596800000, "2024-03-05"), ("date", "1709596800000", "2024-03-05"),
    ("datetime", "2024-03-05T10:00:00.000Z", "2024-03-05T10:00:00Z"),
    ("datetime", "2024-03-05T10:00:00.000+0100", "2024-03-05T09:00:00Z"),
    ("datetime", "2024-03-05", "2024-03-05T00:00:00Z"),
    ("datetime", 1709632800, "2024-03-05T10:00:00Z"),
])
def test_type_conversion(kind, raw, value):
    assert apply(f"  v: {{source: v, type: {kind}}}\n", {"v": raw}) == {"v": value}


def test_enum_matches_case_insensitively_and_returns_the_listed_value():
    fields = "  tier: {source: tier, type: enum, values: [Gold, Silver]}\n"
    assert apply(fields, {"tier": " gold "}) == {"tier": "Gold"}


@pytest.mark.parametrize(("kind", "raw", "message"), [
    ("number", "lots", "field 'v': expected a number; got 'lots' (from 'v')"),
    ("number", True, "field 'v': expected a number; got True (from 'v')"),
    ("integer", "12.5", "field 'v': expected a whole number; got '12.5' (from 'v')"),
    ("boolean", "maybe", "field 'v': expected true or false; got 'maybe' (from 'v')"),
    ("date", "next week", "field 'v': expected a date (YYYY-MM-DD or epoch milliseconds); "
                          "got 'next week' (from 'v')"),
    ("datetime", "soon", "field 'v': expected a date and time (ISO 8601 or epoch "
                         "milliseconds); got 'soon' (from 'v')"),
    ("string", {"a": 1}, "field 'v': expected text; got {'a': 1} (from 'v')"),
])
def test_a_value_that_does_not_fit_its_type_fails_the_record(kind, raw, message):
    with pytest.raises(MappingError) as info:
        apply(f"  v: {{source: v, type: {kind}}}\n", {"v": raw})
    assert info.value.errors == [f"hubspot/contact v3: {message}"]


def test_an_enum_value_outside_the_list_fails_the_record():
    with pytest.raises(MappingError) as info:
        apply("  tier: {source: t, type: enum, values: [gold, silver]}\n", {"t": "bronze"})
    assert str(info.value) == "hubspot/contact v3: field 'tier': expected one of gold, " \
                              "silver; got 'bronze' (from 't')"


def test_required_fields_fail_the_record_naming_each_field():
    fields = ("  email: {source: email, required: true, transforms: [trim]}\n"
              "  name: {sources: [first, last], required: true, transforms: [{join: ' '}]}\n"
              "  company: company\n")
    with pytest.raises(MappingError) as info:
        apply(fields, {"email": "   ", "company": "Acme"})
    assert info.value.errors == [
        "hubspot/contact v3: field 'email': required, but 'email' is empty",
        "hubspot/contact v3: field 'name': required, but 'first', 'last' are empty"]
    assert str(info.value) == "; ".join(info.value.errors)


@pytest.mark.parametrize(("version", "identity"), [
    (0, "hubspot/contact v0 (default file)"), (7, "hubspot/contact v7"),
    (None, "hubspot/contact (draft)")])
def test_record_errors_name_the_mapping_and_its_version(version, identity):
    with pytest.raises(MappingError) as info:
        mapping("  e: {source: e, required: true}\n", version=version).apply({})
    assert info.value.errors == [f"{identity}: field 'e': required, but 'e' is empty"]


def test_a_default_satisfies_a_required_field():
    assert apply("  src: {source: s, required: true, default: web}\n", {}) == {"src": "web"}


def test_optional_empty_fields_map_to_none():
    assert apply("  a: a\n  b: {source: b, type: number}\n", {"a": ""}) == {"a": None,
                                                                            "b": None}


def test_regex_reads_numbers_as_text():
    assert apply("  area: {source: phone, transforms: [{regex: '^(\\d{3})'}]}\n",
                 {"phone": 5551234}) == {"area": "555"}


def test_mapping_errors_survive_pickling_for_worker_processes():
    import pickle

    with pytest.raises(MappingError) as info:
        apply("  e: {source: e, required: true}\n", {})
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.errors == info.value.errors and str(copy) == str(info.value)
