from datetime import UTC, datetime

import pytest

from adapters.matching import PublicSuffixSplitter, RapidfuzzNameScorer
from connector.core.matching import (
    AccountAssignment,
    Company,
    Lead,
    MatchKey,
    MatchSettings,
    TieBreaker,
    assign_to_account,
    assignee_for,
    free_email_domains,
    host_of,
    index_companies,
    match,
    normalise_name,
)
from connector.core.model import Rep, RepStatus

SPLITTER = PublicSuffixSplitter()
SCORER = RapidfuzzNameScorer()


def when(day: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=UTC)


COMPANIES = [
    Company("acme-uk", "Acme Ltd", domain="acme.co.uk", owner_rep_id="r1", size=200,
            last_activity=when(20)),
    Company("acme-us", "Acme Inc.", website="https://www.acme.com/", owner_rep_id="r2",
            size=5000, last_activity=when(10)),
    Company("globex", "Globex Corporation", domain="globex.com", owner_rep_id="r3"),
    Company("initech", "Initech", domain="initech.io", owner_rep_id="r4"),
    Company("umbrella", "Umbrella Corp", website="umbrella-corp.com.au", owner_rep_id="r5"),
    Company("soylent", "Soylent & Co", domain="soylent.de", owner_rep_id="r6"),
    Company("stark", "Stark Industries", domain="stark.co.jp", owner_rep_id="r7"),
    Company("wayne", "Wayne Enterprises", website="http://wayne-enterprises.com:8080/about",
            owner_rep_id="r8"),
    Company("hooli", "Hooli", domain="hooli.xyz", owner_rep_id="r9"),
    Company("muller", "Müller GmbH", domain="mueller.de", owner_rep_id="r10"),
    Company("tyrell", "Tyrell Corporation", domain="tyrell.com.br", owner_rep_id="r11"),
    Company("cyberdyne", "Cyberdyne Systems", domain="cyberdyne.com", owner_rep_id="r12"),
    Company("cyberdyne-2", "Cyberdyne Systems", domain="cyberdyne-systems.net",
            owner_rep_id="r13"),
    # two companies on one domain: subsidiaries kept apart in the CRM
    Company("vandelay-im", "Vandelay Imports", domain="vandelay.com", owner_rep_id="r14",
            size=50, last_activity=when(25)),
    Company("vandelay-ex", "Vandelay Exports", domain="vandelay.com", owner_rep_id="r15",
            size=900, last_activity=when(5)),
]

# (lead email, lead website, lead company, expected company id, expected key)
TABLE = [
    # email domains, with subdomains and country-code suffixes
    ("ann@acme.co.uk", None, None, "acme-uk", MatchKey.EMAIL_DOMAIN),
    ("ann@eu.acme.co.uk", None, None, "acme-uk", MatchKey.EMAIL_DOMAIN),
    ("ann@mail.eu.acme.co.uk", None, None, "acme-uk", MatchKey.EMAIL_DOMAIN),
    ("Ann@ACME.CO.UK", None, None, "acme-uk", MatchKey.EMAIL_DOMAIN),
    ("bob@acme.com", None, None, "acme-us", MatchKey.EMAIL_DOMAIN),
    ("bob@sales.acme.com", None, None, "acme-us", MatchKey.EMAIL_DOMAIN),
    ("bob@acme.com.", None, None, "acme-us", MatchKey.EMAIL_DOMAIN),
    ("cy@globex.com", None, None, "globex", MatchKey.EMAIL_DOMAIN),
    ("cy@us.globex.com", None, None, "globex", MatchKey.EMAIL_DOMAIN),
    ("dee@initech.io", None, None, "initech", MatchKey.EMAIL_DOMAIN),
    ("ed@umbrella-corp.com.au", None, None, "umbrella", MatchKey.EMAIL_DOMAIN),
    ("ed@syd.umbrella-corp.com.au", None, None, "umbrella", MatchKey.EMAIL_DOMAIN),
    ("fay@soylent.de", None, None, "soylent", MatchKey.EMAIL_DOMAIN),
    ("gus@stark.co.jp", None, None, "stark", MatchKey.EMAIL_DOMAIN),
    ("gus@tokyo.stark.co.jp", None, None, "stark", MatchKey.EMAIL_DOMAIN),
    ("hal@wayne-enterprises.com", None, None, "wayne", MatchKey.EMAIL_DOMAIN),
    ("ivy@hooli.xyz", None, None, "hooli", MatchKey.EMAIL_DOMAIN),
    ("jo@mueller.de", None, None, "muller", MatchKey.EMAIL_DOMAIN),
    ("kim@tyrell.com.br", None, None, "tyrell", MatchKey.EMAIL_DOMAIN),
    ("kim@rio.tyrell.com.br", None, None, "tyrell", MatchKey.EMAIL_DOMAIN),
    ("lu@cyberdyne.com", None, None, "cyberdyne", MatchKey.EMAIL_DOMAIN),
    ("lu@cyberdyne-systems.net", None, None, "cyberdyne-2", MatchKey.EMAIL_DOMAIN),
    # a country-code suffix is not the company's other country
    ("max@acme.co.jp", None, None, None, None),
    ("max@acme.de", None, None, None, None),
    ("max@globex.co.uk", None, None, None, None),
    ("max@co.uk", None, None, None, None),
    # lookalike domains
    ("ned@acme-corp.com", None, None, None, None),
    ("ned@notacme.com", None, None, None, None),
    ("ned@acme.com.evil.io", None, None, None, None),
    # websites
    (None, "https://www.acme.co.uk/contact", None, "acme-uk", MatchKey.WEBSITE),
    (None, "acme.com", None, "acme-us", MatchKey.WEBSITE),
    (None, "HTTP://Shop.Globex.com:443/x?y=1", None, "globex", MatchKey.WEBSITE),
    (None, "wayne-enterprises.com/", None, "wayne", MatchKey.WEBSITE),
    (None, "www.stark.co.jp", None, "stark", MatchKey.WEBSITE),
    # free and personal mail: never a match on the domain, the name may still match
    ("ann@gmail.com", None, None, None, None),
    ("ann@googlemail.com", None, None, None, None),
    ("ann@yahoo.co.uk", None, None, None, None),
    ("ann@mail.yahoo.co.uk", None, None, None, None),
    ("ann@hotmail.fr", None, None, None, None),
    ("ann@outlook.com", None, None, None, None),
    ("ann@icloud.com", None, None, None, None),
    ("ann@proton.me", None, None, None, None),
    ("ann@gmx.de", None, None, None, None),
    ("ann@gmail.com", None, "Initech", "initech", MatchKey.NAME),
    ("ann@yahoo.com", "initech.io", None, "initech", MatchKey.WEBSITE),
    # names: legal forms, punctuation, accents, typos; near misses stay apart
    (None, None, "Globex Corp.", "globex", MatchKey.NAME),
    (None, None, "globex", "globex", MatchKey.NAME),
    (None, None, "Umbrela Corporation", "umbrella", MatchKey.NAME),
    (None, None, "Soylent and Company", "soylent", MatchKey.NAME),
    (None, None, "Muller", "muller", MatchKey.NAME),
    (None, None, "Stark Industires", "stark", MatchKey.NAME),
    (None, None, "Hooly", None, None),
    (None, None, "Initech Systems", None, None),
    (None, None, "Stark Foods", None, None),
    (None, None, "Globe", None, None),
    (None, None, "Wayne Industries", None, None),
    (None, None, "", None, None),
    # domain beats name
    ("pat@acme.com", None, "Acme Ltd", "acme-us", MatchKey.EMAIL_DOMAIN),
    # nothing usable
    ("not-an-email", None, None, None, None),
    (None, "localhost", None, None, None),
]


def test_the_table_is_big_enough():
    assert len(TABLE) >= 50


@pytest.mark.parametrize("email,website,company,expected,key", TABLE)
def test_lead_to_account_table(email, website, company, expected, key):
    result = match(Lead(email, website, company), COMPANIES, splitter=SPLITTER, scorer=SCORER)
    if expected is None:
        assert result.matched is None, result.message
    else:
        assert result.matched is not None, result.message
        assert (result.matched.company.id, result.matched.key) == (expected, key)


def test_several_candidates_on_one_domain_break_ties_in_the_admins_order():
    lead = Lead("sue@vandelay.com")
    recent = match(lead, COMPANIES, splitter=SPLITTER, scorer=SCORER)
    assert [c.company.id for c in recent.candidates] == ["vandelay-ex", "vandelay-im"]
    assert recent.matched.company.id == "vandelay-im"
    assert recent.tie_break == ("tie between Vandelay Exports, Vandelay Imports broken by "
                                "most recently active")
    largest = match(lead, COMPANIES, splitter=SPLITTER, scorer=SCORER,
                    settings=MatchSettings(tie_breakers=(TieBreaker.LARGEST,)))
    assert largest.matched.company.id == "vandelay-ex"
    available = match(lead, COMPANIES, splitter=SPLITTER, scorer=SCORER,
                      settings=MatchSettings(tie_breakers=(TieBreaker.OWNER_AVAILABLE,
                                                           TieBreaker.LARGEST)),
                      available_rep_ids={"r14"})
    assert available.matched.company.id == "vandelay-im"
    assert "owner available" in available.tie_break


def test_a_tie_no_rule_settles_goes_to_the_lowest_company_id():
    result = match(Lead(company="Cyberdyne Systems Inc"), COMPANIES, splitter=SPLITTER,
                   scorer=SCORER)
    assert [c.score for c in result.candidates] == [100.0, 100.0]
    assert result.matched.company.id == "cyberdyne"
    assert "lowest company id" in result.tie_break


def test_threshold_is_configurable():
    lead = Lead(company="Hooly")
    assert match(lead, COMPANIES, splitter=SPLITTER, scorer=SCORER).matched is None
    loose = match(lead, COMPANIES, splitter=SPLITTER, scorer=SCORER,
                  settings=MatchSettings(name_threshold=75))
    assert loose.matched.company.id == "hooli"
    assert loose.matched.score == 80.0
    assert loose.candidates[0].reason == "name 'Hooly' is 80% like 'Hooli' (threshold 75)"


def test_the_explanation_names_company_key_and_score():
    result = match(Lead("ann@eu.acme.co.uk"), COMPANIES, splitter=SPLITTER, scorer=SCORER)
    assert result.explain() == {
        "company_id": "acme-uk", "company_name": "Acme Ltd", "key": "email_domain",
        "value": "acme.co.uk", "score": 100.0, "tie_break": "", "ignored": [],
        "message": "matched Acme Ltd (acme-uk) on email domain acme.co.uk, score 100"}


def test_a_free_mail_domain_is_ignored_and_said_so():
    result = match(Lead("ann@gmail.com"), COMPANIES, splitter=SPLITTER, scorer=SCORER)
    assert result.message == "no company matched (gmail.com is a personal or free email domain)"


def test_the_free_mail_list_ships_with_the_package():
    domains = free_email_domains()
    assert {"gmail.com", "yahoo.co.uk", "outlook.com"} <= domains
    assert all(d == d.lower() and "." in d and " " not in d for d in domains)


def test_assignee_is_the_owner_or_a_team_member_by_role():
    company = Company("c", "C", owner_rep_id="own", account_team={"sdr": "s1"})
    assert assignee_for(company) == "own"
    assert assignee_for(company, "sdr") == "s1"
    assert assignee_for(company, "csm") is None


def test_normalisation():
    assert normalise_name("The Acme Co., Ltd.") == "acme"
    assert normalise_name("Müller & Söhne GmbH") == "muller and sohne"
    assert normalise_name("Ltd") == "ltd"
    assert host_of("https://www.Acme.com:8443/a?b") == "www.acme.com"
    assert host_of("nodot") is None


def test_an_index_matches_as_the_plain_list_does():
    index = index_companies(COMPANIES, SPLITTER)
    for email, website, company, _, _ in TABLE:
        lead = Lead(email, website, company)
        assert match(lead, index, splitter=SPLITTER, scorer=SCORER) == \
            match(lead, COMPANIES, splitter=SPLITTER, scorer=SCORER)


def test_a_tie_between_many_companies_names_five():
    many = [Company(f"d{i:02d}", f"Dupe {i}", domain="dupe.com") for i in range(12)]
    result = match(Lead("x@dupe.com"), many, splitter=SPLITTER, scorer=SCORER)
    assert result.matched.company.id == "d00"
    assert result.tie_break == ("tie between Dupe 0, Dupe 1, Dupe 2, Dupe 3, Dupe 4 and 7 "
                                "more not settled by the tie-breakers; lowest company id")


def test_assign_to_account_falls_through_with_the_reason():
    now = when(30)
    reps = {"r1": Rep("r1", "ann@acme.co.uk"),
            "r2": Rep("r2", "bob@acme.com", status=RepStatus.UNAVAILABLE)}
    uk = match(Lead("x@acme.co.uk"), COMPANIES, splitter=SPLITTER, scorer=SCORER)
    assert assign_to_account(uk, None, reps, now) == AccountAssignment(
        "r1", "matched Acme Ltd (acme-uk) on email domain acme.co.uk, score 100; assigned "
              "to its owner ann@acme.co.uk")
    us = match(Lead("x@acme.com"), COMPANIES, splitter=SPLITTER, scorer=SCORER)
    assert assign_to_account(us, None, reps, now).reason.endswith(
        "its owner r2 cannot take it (unavailable); the router's model decides")
    assert assign_to_account(us, "sdr", reps, now) == AccountAssignment(
        None, "matched Acme Inc. (acme-us) on email domain acme.com, score 100; the company "
              "has no sdr; the router's model decides")
    globex = match(Lead("x@globex.com"), COMPANIES, splitter=SPLITTER, scorer=SCORER)
    assert assign_to_account(globex, None, reps, now).reason.endswith(
        "its owner r3 cannot take it (user no longer exists); the router's model decides")
    none = match(Lead("x@gmail.com"), COMPANIES, splitter=SPLITTER, scorer=SCORER)
    assert assign_to_account(none, None, reps, now).rep_id is None
