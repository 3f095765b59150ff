"""Every way a mapping document can be wrong, with the exact message an admin reads:
file, line, field, and what was expected."""

from __future__ import annotations

import pytest

from connector.mapping import MappingError, load_mapping_file, parse_mapping, parse_mapping_text
from connector.mapping.validation import validate_text

ORIGIN = "mappings/hubspot/contact.yaml"
HEAD = """source: hubspot
object: contact
owner:
  field: contact_owner
  property: hubspot_owner_id
fields:
"""  # the first field is on line 7


def errors(text: str, expected=("hubspot", "contact")) -> list[str]:
    _, issues = validate_text(text, ORIGIN, expected=expected)
    return [str(i) for i in issues]


def test_a_valid_document_has_no_errors():
    assert errors(HEAD + "  email: {source: email, transforms: [trim, lower]}\n") == []


CASES = [
    ("unknown type",
     HEAD + "  email: {source: email}\n  employees: {source: numemployees, type: numbr}\n",
     f"{ORIGIN}:8: field 'employees': type must be one of string, number, integer, boolean, "
     "date, datetime, enum; got 'numbr'"),
    ("misspelt key",
     HEAD + "  email:\n    sorce: email\n",
     f"{ORIGIN}:8: field 'email': unknown key 'sorce'; expected one of default, description, "
     "required, source, sources, transforms, type, values"),
    ("unknown top-level key",
     HEAD + "  email: email\nfilters: []\n",
     f"{ORIGIN}:8: unknown key 'filters'; expected one of description, fields, object, "
     "object_type, owner, source"),
    ("owner without property",
     "source: hubspot\nobject: contact\nowner:\n  field: contact_owner\nfields:\n  e: email\n",
     f"{ORIGIN}:3: missing 'property' in owner"),
    ("no fields key",
     "source: hubspot\nobject: contact\nowner: {field: a, property: b}\n",
     f"{ORIGIN}:1: missing 'fields'"),
    ("empty fields",
     HEAD.replace("fields:\n", "fields: {}\n"),
     f"{ORIGIN}:6: fields must be an object with at least one field; got {{}}"),
    ("unknown source",
     HEAD.replace("source: hubspot", "source: pipedrive") + "  e: email\n",
     f"{ORIGIN}:1: source must be one of hubspot, salesforce; got 'pipedrive'"),
    ("source of another folder",
     HEAD.replace("source: hubspot", "source: salesforce") + "  e: email\n",
     f"{ORIGIN}:1: source must be 'hubspot' (the mapping being edited); got 'salesforce'"),
    ("object of another file",
     HEAD.replace("object: contact", "object: deal") + "  e: email\n",
     f"{ORIGIN}:2: object must be 'contact' (the mapping being edited); got 'deal'"),
    ("bad path",
     HEAD + "  city: {source: 'address..city'}\n",
     f"{ORIGIN}:7: field 'city': source must be a path such as email, address.city or "
     "lines[0]; got 'address..city'"),
    ("bad shorthand path",
     HEAD + "  city: 'address city'\n",
     f"{ORIGIN}:7: field 'city': expected a source path or an object with 'source'; "
     "got 'address city'"),
    ("field is a number",
     HEAD + "  city: 5\n",
     f"{ORIGIN}:7: field 'city': expected a source path or an object with 'source'; got 5"),
    ("bad field name",
     HEAD + "  first name: {source: firstname}\n",
     f"{ORIGIN}:7: field 'first name': name is not valid; expected a name of letters, digits "
     "and _ (not starting with a digit)"),
    ("required is not a boolean",
     HEAD + "  email: {source: email, required: 'sometimes'}\n",
     f"{ORIGIN}:7: field 'email': required must be true or false; got 'sometimes'"),
    ("unknown transform",
     HEAD + "  email:\n    source: email\n    transforms:\n      - trim\n      - lowercase\n",
     f"{ORIGIN}:11: field 'email': transform 2 must be trim, lower, upper, or one of "
     "{default: V}, {map: {...}}, {regex: PATTERN}, {join: SEP}, {split: SEP}; got 'lowercase'"),
    ("transform with two keys",
     HEAD + "  email: {source: email, transforms: [{split: ',', join: ' '}]}\n",
     f"{ORIGIN}:7: field 'email': transform 1 must be trim, lower, upper, or one of "
     "{default: V}, {map: {...}}, {regex: PATTERN}, {join: SEP}, {split: SEP}; "
     "got {\"split\": \",\", \"join\": \" \"}"),
    ("map is not an object",
     HEAD + "  country: {source: country, transforms: [{map: US}]}\n",
     f"{ORIGIN}:7: field 'country': transform 1 (map) must be an object of value: "
     "replacement; got 'US'"),
    ("regex is not text",
     HEAD + "  domain: {source: email, transforms: [{regex: 5}]}\n",
     f"{ORIGIN}:7: field 'domain': transform 1 (regex) must be a regular expression; got 5"),
    ("split on nothing",
     HEAD + "  tags: {source: tags, transforms: [{split: ''}]}\n",
     f"{ORIGIN}:7: field 'tags': transform 1 (split) must be a non-empty separator text; "
     "got ''"),
    ("one path in sources",
     HEAD + "  name: {sources: [firstname], transforms: [{join: ' '}]}\n",
     f"{ORIGIN}:7: field 'name': sources must be a list of at least two paths; "
     "got [\"firstname\"]"),
    ("enum value read as boolean",
     HEAD + "  opt_in: {source: optin, type: enum, values: [yes, 'no']}\n",
     f"{ORIGIN}:7: field 'opt_in': values[0] must be text (quote values such as 'yes' or "
     "'no'); got true"),
    ("default of a wrong shape",
     HEAD + "  email: {source: email, default: [a]}\n",
     f"{ORIGIN}:7: field 'email': default must be text, a number or true/false; got [\"a\"]"),
    # semantic checks (the shape is right, the meaning is not)
    ("invalid regex",
     HEAD + "  domain:\n    source: email\n    transforms: [{regex: '@(.+'}]\n",
     f"{ORIGIN}:9: field 'domain': transform 1 (regex) is not a valid regular expression: "
     "missing ), unterminated subpattern at position 1"),
    ("sources without join",
     HEAD + "  name: {sources: [firstname, lastname]}\n",
     f"{ORIGIN}:7: field 'name': 'sources' reads several values; add a {{join: SEPARATOR}} "
     "transform to combine them"),
    ("source and sources",
     HEAD + "  name:\n    source: firstname\n    sources: [firstname, lastname]\n"
            "    transforms: [{join: ' '}]\n",
     f"{ORIGIN}:9: field 'name': give 'source' or 'sources', not both"),
    ("neither source nor sources",
     HEAD + "  name: {type: string}\n",
     f"{ORIGIN}:7: field 'name': missing 'source' (the path to read) or 'sources' (several "
     "paths to join)"),
    ("enum without values",
     HEAD + "  tier:\n    source: tier\n    type: enum\n",
     f"{ORIGIN}:9: field 'tier': type enum needs 'values' (the allowed values)"),
    ("values without enum",
     HEAD + "  tier:\n    source: tier\n    values: [gold]\n",
     f"{ORIGIN}:9: field 'tier': 'values' only applies to type enum; got type 'string'"),
    ("map key read as boolean",
     HEAD + "  country:\n    source: country\n    transforms:\n      - map: {NO: Norway}\n",
     f"{ORIGIN}:10: field 'country': transform 1 (map) has a key YAML reads as false; put "
     "the key in quotes"),
    ("default that does not fit the type",
     HEAD + "  employees:\n    source: numemployees\n    type: number\n    default: many\n",
     f"{ORIGIN}:10: field 'employees': default 'many' does not fit type 'number': expected "
     "a number"),
    ("default transform that does not fit the type",
     HEAD + "  employees:\n    source: numemployees\n    type: integer\n"
            "    transforms: [{default: 2.5}]\n",
     f"{ORIGIN}:7: field 'employees': default 2.5 does not fit type 'integer': expected a "
     "whole number"),
    ("enum default not among the values",
     HEAD + "  tier: {source: tier, type: enum, values: [gold, silver], default: bronze}\n",
     f"{ORIGIN}:7: field 'tier': default 'bronze' does not fit type 'enum': expected one of "
     "gold, silver"),
    # the text itself
    ("field listed twice",
     HEAD + "  email: {source: email}\n  company: {source: company}\n"
            "  email: {source: work_email}\n",
     f"{ORIGIN}:9: duplicate key 'email' (first on line 7)"),
    ("broken YAML",
     HEAD + "  email: {source: email\n",
     f"{ORIGIN}:8: not valid YAML: expected ',' or '}}', but got '<stream end>'"),
    ("empty document", "",
     f"{ORIGIN}:1: the document is empty; expected a mapping with source, object, owner and "
     "fields"),
    ("a list instead of a mapping", "- email\n- name\n",
     f"{ORIGIN}:1: the mapping must be an object with source, object, owner and fields; got "
     "[\"email\", \"name\"]"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_error_names_file_line_field_and_what_was_expected(text, message):
    assert errors(text) == [message]


def test_several_errors_are_all_reported_in_line_order():
    text = HEAD + "  a: {source: a, type: numbr}\n  b: {source: b, required: maybe}\n"
    assert errors(text) == [
        f"{ORIGIN}:7: field 'a': type must be one of string, number, integer, boolean, date, "
        "datetime, enum; got 'numbr'",
        f"{ORIGIN}:8: field 'b': required must be true or false; got 'maybe'",
    ]


def test_a_file_is_checked_against_its_folder_and_name(tmp_path):
    path = tmp_path / "hubspot" / "ticket.yaml"
    path.parent.mkdir()
    path.write_text(HEAD + "  email: {source: email}\n")
    with pytest.raises(MappingError) as info:
        load_mapping_file(path)
    assert info.value.errors == [
        f"{path}:2: object must be 'ticket' (the folder and name of the file); got 'contact'"]
    assert info.value.issues[0].line == 2 and info.value.issues[0].field is None


def test_a_file_error_carries_line_and_field_for_editors(tmp_path):
    path = tmp_path / "hubspot" / "contact.yaml"
    path.parent.mkdir()
    path.write_text(HEAD + "  email: {source: email}\n  employees: {source: n, type: numbr}\n")
    with pytest.raises(MappingError) as info:
        load_mapping_file(path)
    issue = info.value.issues[0]
    assert (issue.line, issue.field) == (8, "employees")
    assert issue.as_dict()["text"] == str(info.value)


def test_parse_text_raises_with_every_issue():
    with pytest.raises(MappingError) as info:
        parse_mapping_text(HEAD + "  a: {source: a, type: numbr}\n", "hubspot/contact v3")
    assert str(info.value).startswith("hubspot/contact v3:7: field 'a': type must be")


def test_a_loaded_document_without_text_names_no_line():
    with pytest.raises(MappingError) as info:
        parse_mapping({"source": "hubspot", "object": "contact",
                       "owner": {"field": "contact_owner"}, "fields": {"e": "email"}})
    assert info.value.errors == ["<memory>: missing 'property' in owner"]


def test_the_readme_example_is_a_valid_mapping():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Field mappings", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    mapping = parse_mapping_text(example, "README.md", expected=("hubspot", "contact"))
    record = mapping.apply({"email": " Ada@Example.com ", "firstname": "Ada",
                            "lastname": "Lovelace", "country": "NO", "hs_tags": "A;B",
                            "numemployees": "12", "tier": "GOLD",
                            "createdate": "1709632800000", "address": {"lines": ["1 St"]}})
    assert record["full_name"] == "Ada Lovelace" and record["domain"] == "example.com"
    assert record["country"] == "Norway" and record["tags"] == ["a", "b"]
    assert record["first_line"] == "1 St" and record["created"] == "2024-03-05T10:00:00Z"
    assert mapping.properties == ("email", "address", "firstname", "lastname", "country",
                                  "hs_tags", "numemployees", "tier", "createdate",
                                  "hubspot_owner_id")


MORE = [
    ("owner is not an object", "source: hubspot\nobject: contact\nowner: 5\nfields: {e: e}\n",
     f"{ORIGIN}:3: owner must be an object with field and property; got 5"),
    ("field with no value", HEAD + "  email:\n",
     f"{ORIGIN}:7: field 'email': expected a source path or an object with 'source'; got null"),
    ("field name that is a number", HEAD + "  1: email\n",
     f"{ORIGIN}:7: field '1': name is not valid; expected a name of letters, digits and _ "
     "(not starting with a digit)"),
    ("transforms not a list", HEAD + "  e: {source: x, transforms: trim}\n",
     f"{ORIGIN}:7: field 'e': transforms must be a list of transforms; got 'trim'"),
    ("unknown key in owner", HEAD.replace("  property:", "  colour: red\n  property:")
     + "  e: e\n", f"{ORIGIN}:5: owner: unknown key 'colour'; expected one of field, property"),
    ("two documents", HEAD + "  e: e\n---\nsource: hubspot\n",
     f"{ORIGIN}:8: not valid YAML: expected a single document in the stream, but found "
     "another document"),
    ("a tab for indentation", HEAD + "\temail: x\n",
     f"{ORIGIN}:7: not valid YAML: found character '\\t' that cannot start any token"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in MORE],
                         ids=[c[0] for c in MORE])
def test_more_shapes_that_are_wrong(text, message):
    assert errors(text) == [message]


PATTERNS_AND_VALUES = [
    ("object that is not a lower-case name",
     HEAD.replace("object: contact", "object: Contact-1") + "  e: e\n",
     f"{ORIGIN}:2: object must be a lower-case name such as contact; got 'Contact-1'"),
    ("object_type that is not a lower-case name",
     HEAD.replace("object: contact", "object: contact\nobject_type: 'lead type'") + "  e: e\n",
     f"{ORIGIN}:3: object_type must be a lower-case name such as contact; got 'lead type'"),
    ("owner field that is not a field name",
     HEAD.replace("field: contact_owner", "field: 'contact owner'") + "  e: e\n",
     f"{ORIGIN}:4: owner.field must be a field name such as contact_owner; "
     "got 'contact owner'"),
    ("empty owner property",
     HEAD.replace("property: hubspot_owner_id", "property: ''") + "  e: e\n",
     f"{ORIGIN}:5: owner.property must be a CRM property name such as hubspot_owner_id; "
     "got ''"),
    ("top-level description that is not text", "description: 5\n" + HEAD + "  e: e\n",
     f"{ORIGIN}:1: description must be text; got 5"),
    ("field description that is not text", HEAD + "  e: {source: e, description: [a]}\n",
     f"{ORIGIN}:7: field 'e': description must be text; got [\"a\"]"),
    ("bad path inside sources",
     HEAD + "  n: {sources: [first, 'a..b'], transforms: [{join: ' '}]}\n",
     f"{ORIGIN}:7: field 'n': sources[1] must be a path such as email, address.city or "
     "lines[0]; got 'a..b'"),
    ("empty enum values", HEAD + "  t: {source: t, type: enum, values: []}\n",
     f"{ORIGIN}:7: field 't': values must be a non-empty list of text values; got []"),
    ("empty map", HEAD + "  t: {source: t, transforms: [{map: {}}]}\n",
     f"{ORIGIN}:7: field 't': transform 1 (map) must be an object of value: replacement; "
     "got {}"),
    ("empty regex", HEAD + "  t: {source: t, transforms: [{regex: ''}]}\n",
     f"{ORIGIN}:7: field 't': transform 1 (regex) must be a regular expression; got ''"),
    ("join on a number", HEAD + "  n: {sources: [a, b], transforms: [{join: 5}]}\n",
     f"{ORIGIN}:7: field 'n': transform 1 (join) must be a separator text; got 5"),
    ("default transform of a list", HEAD + "  t: {source: t, transforms: [{default: [1]}]}\n",
     f"{ORIGIN}:7: field 't': transform 1 (default) must be text, a number or true/false; "
     "got [1]"),
    ("map key read as null",
     HEAD + "  t:\n    source: t\n    transforms:\n      - map: {~: none}\n",
     f"{ORIGIN}:10: field 't': transform 1 (map) has a key YAML reads as null; put the key "
     "in quotes"),
    ("transform with an unknown key", HEAD + "  t: {source: t, transforms: [{lowercase: true}]}\n",
     f"{ORIGIN}:7: field 't': transform 1 must be trim, lower, upper, or one of "
     "{default: V}, {map: {...}}, {regex: PATTERN}, {join: SEP}, {split: SEP}; "
     "got {\"lowercase\": true}"),
    ("missing source", "object: contact\nowner: {field: a, property: b}\nfields: {e: e}\n",
     f"{ORIGIN}:1: missing 'source'"),
    ("missing owner", "source: hubspot\nobject: contact\nfields: {e: e}\n",
     f"{ORIGIN}:1: missing 'owner'"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in PATTERNS_AND_VALUES],
                         ids=[c[0] for c in PATTERNS_AND_VALUES])
def test_names_patterns_and_empty_values_that_are_wrong(text, message):
    assert errors(text) == [message]


def test_a_file_that_cannot_be_read_says_so(tmp_path):
    path = tmp_path / "hubspot" / "contact.yaml"
    with pytest.raises(MappingError) as info:
        load_mapping_file(path)
    assert info.value.errors == [f"{path}: cannot read: No such file or directory"]
