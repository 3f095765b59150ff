"""Lead-to-account matching: which known company a lead belongs to, on which key, and why.

A lead matches a company on its registrable domain first (the email's domain or the
lead's website, against the company's domain and website), because a shared domain is
near-certain evidence; then on a fuzzy company name at or above a configurable threshold,
because names are typed by people. Domains are compared at the registrable level, one
label under the public suffix (``eu.acme.co.uk`` and ``www.acme.co.uk`` are both
``acme.co.uk``), which needs the public suffix list: the splitting and the name scoring
are ports (:class:`DomainSplitter`, :class:`NameScorer`) so this module stays standard
library only. Personal and free email domains (``data/free_email_domains.txt``) never
match: ``ann@gmail.com`` says nothing about Ann's employer.

Several companies at the top score (subsidiaries sharing a domain, duplicates in the
CRM) are a tie that the admin's ordered tie-breakers settle; what is left is settled by
company id so the same input always picks the same company.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Protocol

from .availability import SkipReason, unavailability
from .model import Rep


class DomainSplitter(Protocol):
    def registrable_domain(self, host: str) -> str | None:
        """The domain one label under the public suffix (``shop.acme.co.uk`` →
        ``acme.co.uk``), or None for a bare suffix, an IP address or a single label."""
        ...


class NameScorer(Protocol):
    def similarity(self, left: str, right: str) -> float:
        """How alike two normalised company names are, 0 (nothing) to 100 (equal)."""
        ...


class MatchKey(StrEnum):
    EMAIL_DOMAIN = "email_domain"
    WEBSITE = "website"
    NAME = "name"


class TieBreaker(StrEnum):
    MOST_RECENTLY_ACTIVE = "most_recently_active"
    LARGEST = "largest"
    OWNER_AVAILABLE = "owner_available"


@dataclass(frozen=True)
class Company:
    """A HubSpot company, a Salesforce Account or an API-only account."""

    id: str
    name: str
    domain: str | None = None
    website: str | None = None
    owner_rep_id: str | None = None
    #: employees, for the "largest" tie-breaker
    size: int | None = None
    last_activity: datetime | None = None
    #: role ("owner", "sdr", "csm", ...) → rep id
    account_team: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Lead:
    """What a lead says about its company; any of the three may be missing."""

    email: str | None = None
    website: str | None = None
    company: str | None = None


@dataclass(frozen=True)
class MatchSettings:
    #: lowest name similarity (0-100) that counts as a match; 92 lets a typo in a longer
    #: name through ("Umbrela" 93) and keeps a one-letter-longer short name out ("Globe"
    #: / "Globex" 91)
    name_threshold: float = 92.0
    tie_breakers: tuple[TieBreaker, ...] = (
        TieBreaker.MOST_RECENTLY_ACTIVE, TieBreaker.LARGEST, TieBreaker.OWNER_AVAILABLE)


@dataclass(frozen=True)
class Candidate:
    company: Company
    key: MatchKey
    #: the lead's value the match was made on (a registrable domain or a normalised name)
    value: str
    score: float
    reason: str


@dataclass(frozen=True)
class MatchResult:
    candidates: tuple[Candidate, ...]
    matched: Candidate | None
    #: how a tie at the top score was settled, "" when there was none
    tie_break: str = ""
    #: why the lead's own keys were not used (a free email domain, an unreadable website)
    ignored: tuple[str, ...] = ()

    def explain(self) -> dict[str, Any]:
        """The match in a JSON-friendly shape for the decision's reason."""
        best = self.matched
        return {
            "company_id": best.company.id if best else None,
            "company_name": best.company.name if best else None,
            "key": best.key.value if best else None,
            "value": best.value if best else None,
            "score": best.score if best else None,
            "tie_break": self.tie_break,
            "ignored": list(self.ignored),
            "message": self.message,
        }

    @property
    def message(self) -> str:
        if self.matched is None:
            return "no company matched" + (f" ({'; '.join(self.ignored)})"
                                           if self.ignored else "")
        best = self.matched
        text = (f"matched {best.company.name} ({best.company.id}) on "
                f"{best.key.value.replace('_', ' ')} {best.value}, score {best.score:g}")
        return text + (f"; {self.tie_break}" if self.tie_break else "")


@cache
def free_email_domains() -> frozenset[str]:
    """The shipped list of personal and free email domains."""
    text = (resources.files("connector.core") / "data" / "free_email_domains.txt").read_text(
        encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def host_of(value: str) -> str | None:
    """The host of a website or URL as people type it (``https://www.Acme.com/about``,
    ``acme.com``, ``www.acme.com:8080``), lowercase, without a trailing dot."""
    text = value.strip().lower()
    if not text:
        return None
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    if not text or " " in text or "." not in text:
        return None
    return text


def email_host(email: str) -> str | None:
    local, at, host = email.strip().lower().rpartition("@")
    if not at or not local:
        return None
    return host_of(host)


_LEGAL_FORMS = frozenset({
    "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "llp", "lp", "ltd",
    "limited", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv",
    "ab", "as", "asa", "oy", "pty", "kk", "group", "holding", "holdings", "the"})


def normalise_name(name: str) -> str:
    """A company name without accents, punctuation and legal forms (``The Acme Co., Ltd.``
    → ``acme``), so that only the distinctive words are compared. "&" reads as "and"."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ")
    words = re.findall(r"[a-z0-9]+", text)
    kept = [w for w in words if w not in _LEGAL_FORMS]
    return " ".join(kept or words)


def _company_domains(company: Company, splitter: DomainSplitter) -> set[str]:
    domains = set()
    for value in (company.domain, company.website):
        host = host_of(value) if value else None
        registrable = splitter.registrable_domain(host) if host else None
        if registrable:
            domains.add(registrable)
    return domains


@dataclass(frozen=True)
class CompanyIndex:
    """Companies with their registrable domains and normalised names worked out once, so
    matching many leads does not consult the public suffix list per company per lead."""

    companies: tuple[Company, ...]
    by_domain: Mapping[str, tuple[int, ...]]
    names: tuple[str, ...]


def index_companies(companies: Iterable[Company], splitter: DomainSplitter) -> CompanyIndex:
    listed = tuple(companies)
    by_domain: dict[str, list[int]] = {}
    for i, company in enumerate(listed):
        for domain in _company_domains(company, splitter):
            by_domain.setdefault(domain, []).append(i)
    return CompanyIndex(listed, {d: tuple(ids) for d, ids in by_domain.items()},
                        tuple(normalise_name(c.name) if c.name else "" for c in listed))


def _lead_domains(lead: Lead, splitter: DomainSplitter, free: Collection[str],
                  ignored: list[str]) -> list[tuple[MatchKey, str]]:
    keys: list[tuple[MatchKey, str]] = []
    for key, raw, host in ((MatchKey.EMAIL_DOMAIN, lead.email,
                            email_host(lead.email) if lead.email else None),
                           (MatchKey.WEBSITE, lead.website,
                            host_of(lead.website) if lead.website else None)):
        if not raw:
            continue
        registrable = splitter.registrable_domain(host) if host else None
        if registrable is None:
            ignored.append(f"{key.value.replace('_', ' ')} {raw.strip()!r} has no "
                           "registrable domain")
        elif registrable in free or (host or "") in free:
            ignored.append(f"{registrable} is a personal or free email domain")
        elif all(v != registrable for _, v in keys):
            keys.append((key, registrable))
    return keys


def candidates(lead: Lead, companies: Iterable[Company] | CompanyIndex, *,
               splitter: DomainSplitter, scorer: NameScorer,
               settings: MatchSettings = MatchSettings(),
               free_domains: Collection[str] | None = None,
               ) -> tuple[list[Candidate], list[str]]:
    """Every company the lead matches, each on its best key (a domain match scores 100 and
    beats a name match of equal score), best first; and why lead keys were ignored."""
    index = companies if isinstance(companies, CompanyIndex) \
        else index_companies(companies, splitter)
    free = free_email_domains() if free_domains is None else free_domains
    ignored: list[str] = []
    best: dict[int, Candidate] = {}
    for key, value in _lead_domains(lead, splitter, free, ignored):
        for i in index.by_domain.get(value, ()):
            best.setdefault(i, Candidate(index.companies[i], key, value, 100.0,
                                         f"{key.value.replace('_', ' ')} {value} is the "
                                         f"company's domain"))
    lead_name = normalise_name(lead.company) if lead.company else ""
    if lead_name:
        for i, company_name in enumerate(index.names):
            if i in best or not company_name:
                continue
            score = round(scorer.similarity(lead_name, company_name), 1)
            if score >= settings.name_threshold:
                company = index.companies[i]
                best[i] = Candidate(company, MatchKey.NAME, lead_name, score,
                                    f"name {lead.company!r} is {score:g}% like "
                                    f"{company.name!r} (threshold "
                                    f"{settings.name_threshold:g})")
    key_rank = {MatchKey.EMAIL_DOMAIN: 0, MatchKey.WEBSITE: 1, MatchKey.NAME: 2}
    found = sorted(best.values(), key=lambda c: (-c.score, key_rank[c.key], c.company.id))
    return found, ignored


def _tie_value(rule: TieBreaker, company: Company, available: Collection[str]) -> Any:
    """Bigger is better."""
    if rule is TieBreaker.MOST_RECENTLY_ACTIVE:
        return company.last_activity.timestamp() if company.last_activity else float("-inf")
    if rule is TieBreaker.LARGEST:
        return company.size if company.size is not None else -1
    return 1 if company.owner_rep_id and company.owner_rep_id in available else 0


def _break_tie(tied: Sequence[Candidate], rules: Sequence[TieBreaker],
               available: Collection[str]) -> tuple[Candidate, str]:
    names = ", ".join(c.company.name for c in tied[:5]) + (
        f" and {len(tied) - 5} more" if len(tied) > 5 else "")
    remaining = list(tied)
    for rule in rules:
        best = max(_tie_value(rule, c.company, available) for c in remaining)
        narrowed = [c for c in remaining if _tie_value(rule, c.company, available) == best]
        if len(narrowed) < len(remaining):
            remaining = narrowed
            if len(remaining) == 1:
                return remaining[0], (f"tie between {names} broken by "
                                      f"{rule.value.replace('_', ' ')}")
    pick = min(remaining, key=lambda c: c.company.id)
    return pick, f"tie between {names} not settled by the tie-breakers; lowest company id"


def match(lead: Lead, companies: Iterable[Company] | CompanyIndex, *, splitter: DomainSplitter,
          scorer: NameScorer, settings: MatchSettings = MatchSettings(),
          available_rep_ids: Collection[str] = frozenset(),
          free_domains: Collection[str] | None = None) -> MatchResult:
    """The company a lead belongs to, with every candidate and the reason.

    Candidates at the top score on the same kind of key tie; ``settings.tie_breakers`` are
    applied in the admin's order, each keeping only the best under it, until one is left.
    ``available_rep_ids`` are the reps who can take a record now (for "owner available").
    Pass a :class:`CompanyIndex` when matching many leads against the same companies.
    """
    found, ignored = candidates(lead, companies, splitter=splitter, scorer=scorer,
                                settings=settings, free_domains=free_domains)
    if not found:
        return MatchResult((), None, ignored=tuple(ignored))
    top = found[0]
    tied = [c for c in found if c.score == top.score and
            (c.key is MatchKey.NAME) == (top.key is MatchKey.NAME)]
    if len(tied) == 1:
        return MatchResult(tuple(found), top, ignored=tuple(ignored))
    pick, note = _break_tie(tied, settings.tie_breakers, available_rep_ids)
    return MatchResult(tuple(found), pick, tie_break=note, ignored=tuple(ignored))


@dataclass(frozen=True)
class AccountAssignment:
    """The outcome of "assign to the matched company's owner (or team member)": a rep, or
    None with the reason the router's own model decides instead."""

    rep_id: str | None
    reason: str


def assign_to_account(result: MatchResult, role: str | None, reps: Mapping[str, Rep],
                      now: datetime) -> AccountAssignment:
    """The router action: the matched company's owner, or its account team member in
    ``role``, when that rep exists and is available now; otherwise fall through, saying
    why, so the decision's reason shows both the match and the fall-through."""
    place = role or "owner"
    if result.matched is None:
        return AccountAssignment(None, f"{result.message}; the router's model decides")
    company = result.matched.company
    rep_id = assignee_for(company, role)
    if rep_id is None:
        return AccountAssignment(None, f"{result.message}; the company has no {place}; "
                                       "the router's model decides")
    rep = reps.get(rep_id)
    why = unavailability(rep, now) if rep is not None else SkipReason.NOT_A_USER
    if why is not None:
        return AccountAssignment(None, f"{result.message}; its {place} {rep_id} cannot "
                                       f"take it ({why}); the router's model decides")
    return AccountAssignment(rep_id, f"{result.message}; assigned to its {place} "
                                     f"{rep.email}")


def assignee_for(company: Company, role: str | None = None) -> str | None:
    """The rep a matched company's records go to: its owner, or the member of its account
    team in ``role``; None when there is nobody in that place (the router's model then
    decides)."""
    if role is None or role == "owner":
        return company.owner_rep_id or company.account_team.get("owner")
    return company.account_team.get(role)
