import pytest

from connector.core.territories import (
    MAX_TERRITORIES,
    AssigneeKind,
    TerritoryCsvError,
    evaluate,
    overlaps,
    parse_csv,
    record_from,
)

TABLE = """\
name,assign_to,priority,countries,regions,postcodes,industries,min_employees,max_employees
North America,router:na,,US;CA,,,,,
California tech,rep:ann,,US,US-CA,,Software;Hardware,,
Bay Area,rep:bob,,US,,94000-94999,,,
Enterprise US,rep:cy,5,US,,,,1000,
UK London,rep:dee,,GB,,SW1;EC1;WC2,,,
UK,router:uk,,GB,,,,,
"""


def by_name(territories):
    return {t.name: t for t in territories}


def test_csv_is_parsed_into_territories():
    t = by_name(parse_csv(TABLE))
    assert t["California tech"].regions == {"US-CA"}
    assert t["California tech"].industries == {"software", "hardware"}
    assert t["California tech"].assignee_kind is AssigneeKind.REP
    assert t["North America"].assignee == "router:na"
    assert [str(r) for r in t["Bay Area"].postcodes] == ["94000-94999"]
    assert t["Enterprise US"].priority == 5 and t["Enterprise US"].min_employees == 1000
    assert t["UK London"].row == 6


def test_a_record_goes_to_the_most_specific_territory_and_the_reason_says_why():
    territories = parse_csv(TABLE)
    record = record_from({"country": "us", "state": "ca", "postcode": "94105",
                          "industry": "Software", "employees": "40"})
    result = evaluate(territories, record)
    assert result.territory.name == "California tech"
    assert result.reason == (
        "territory 'California tech' (rep:ann): country US, region US-CA, industry software;"
        " also in 'Bay Area', 'North America': 'California tech' is more specific "
        "(3 criteria against 2)")
    assert [t.name for t in result.matched] == ["California tech", "Bay Area",
                                                "North America"]


def test_equal_specificity_goes_to_the_higher_priority():
    territories = parse_csv(TABLE)
    record = record_from({"country": "US", "postcode": "94105", "employees": 5000})
    result = evaluate(territories, record)
    assert result.territory.name == "Enterprise US"
    assert "'Enterprise US' has the higher priority (5 against 0)" in result.reason


def test_postcode_prefixes_and_ranges():
    territories = parse_csv(TABLE)
    assert evaluate(territories, record_from(
        {"country": "GB", "postcode": "sw1a 1aa"})).territory.name == "UK London"
    assert evaluate(territories, record_from(
        {"country": "GB", "postcode": "N1 9GU"})).territory.name == "UK"
    assert evaluate(territories, record_from(
        {"country": "US", "postcode": "95014"})).territory.name == "North America"
    assert evaluate(territories, record_from(
        {"country": "US", "postcode": "94105-1234"})).territory.name == "Bay Area"


def test_a_record_in_no_territory():
    result = evaluate(parse_csv(TABLE), record_from({"country": "FR"}))
    assert result.territory is None and result.reason == "in no territory"


def test_overlaps_name_the_winner_and_why():
    found = {(o.first.name, o.second.name): o for o in overlaps(parse_csv(TABLE))}
    assert ("North America", "California tech") in found
    assert found[("North America", "California tech")].winner.name == "California tech"
    bay = found[("Bay Area", "Enterprise US")]
    assert (bay.winner.name, bay.ambiguous) == ("Enterprise US", False)
    assert bay.why == "'Enterprise US' has the higher priority (5 against 0)"
    # different countries, disjoint: never reported
    assert ("North America", "UK") not in found
    assert ("California tech", "UK London") not in found
    assert ("UK London", "UK") in found


def test_overlap_decided_only_by_row_order_is_ambiguous():
    territories = parse_csv("name,assign_to,industries\nA,rep:a,software\n"
                            "B,rep:b,Software;retail\nC,rep:c,retail\n")
    found = overlaps(territories)
    assert [(o.first.name, o.second.name, o.winner.name, o.ambiguous) for o in found] == [
        ("A", "B", "A", True), ("B", "C", "B", True)]
    assert "comes first in the table (row 2 against 3)" in found[0].why


def test_disjoint_ranges_and_bands_do_not_overlap():
    territories = parse_csv(
        "name,assign_to,postcodes,min_employees,max_employees\n"
        "Low,rep:a,10000-49999,,\nHigh,rep:b,50000-99999,,\n"
        "Small,rep:c,,0,99\nLarge,rep:d,,100,\nMid,rep:e,,50,500\n")
    pairs = {(o.first.name, o.second.name) for o in overlaps(territories)}
    assert ("Low", "High") not in pairs and ("Small", "Large") not in pairs
    assert {("Small", "Mid"), ("Large", "Mid")} <= pairs


def test_regions_in_other_countries_do_not_overlap():
    territories = parse_csv("name,assign_to,countries,regions\nCA,rep:a,,US-CA\n"
                            "Canada,rep:b,CA,\nOntario,rep:c,,CA-ON\n")
    pairs = {(o.first.name, o.second.name) for o in overlaps(territories)}
    assert pairs == {("Canada", "Ontario")}


@pytest.mark.parametrize("text,expected", [
    ("name,assign_to\n,rep:a\n", "row 2, column name: is required"),
    ("name,assign_to\nA,team:a\n", "row 2, column assign_to: must be rep:<rep id> or "
     "router:<router id>"),
    ("name,assign_to,countries\nA,rep:a,USA\n",
     "row 2, column countries: 'USA' is not an ISO 3166-1 two-letter country code"),
    ("name,assign_to,regions\nA,rep:a,California\n",
     "row 2, column regions: 'CALIFORNIA' is not an ISO 3166-2 code such as US-CA"),
    ("name,assign_to,countries,regions\nA,rep:a,GB,US-CA\n",
     "row 2, column regions: US-CA is outside the row's countries"),
    ("name,assign_to,postcodes\nA,rep:a,9999-10000\n",
     "row 2, column postcodes: range '9999-10000' needs bounds of the same length, "
     "the lower first"),
    ("name,assign_to,priority\nA,rep:a,high\n",
     "row 2, column priority: 'high' is not a whole number"),
    ("name,assign_to,min_employees,max_employees\nA,rep:a,10,5\n",
     "row 2, column max_employees: is below min_employees"),
    ("name,assign_to,colour\nA,rep:a,red\n", "row 1, column colour: unknown column"),
    ("name\nA\n", "row 1, column assign_to: required column is missing"),
    ("name,assign_to\nA,rep:a\n\na,rep:b\n", "row 4, column name: 'a' is already row 2"),
    ("name,assign_to\nA,rep:a,extra\n", "row 2, column (row): 3 cells for 2 columns"),
])
def test_csv_errors_name_row_and_column(text, expected):
    with pytest.raises(TerritoryCsvError) as error:
        parse_csv(text)
    assert str(error.value).startswith(expected)


def test_every_problem_is_reported_at_once():
    with pytest.raises(TerritoryCsvError) as error:
        parse_csv("name,assign_to,countries\n,rep:a,US\nB,x,USA\n")
    assert [(p.row, p.column) for p in error.value.problems] == [
        (2, "name"), (3, "assign_to"), (3, "countries")]


def test_a_table_over_the_limit_is_refused():
    rows = "".join(f"T{i},rep:r{i}\n" for i in range(MAX_TERRITORIES + 1))
    with pytest.raises(TerritoryCsvError, match="more than"):
        parse_csv("name,assign_to\n" + rows)


def test_overlap_check_of_the_largest_table():
    rows = "".join(f"T{i},rep:r{i},US,,{i:05d}-{i:05d}\n" for i in range(MAX_TERRITORIES))
    territories = parse_csv("name,assign_to,countries,regions,postcodes\n" + rows)
    assert overlaps(territories) == []
