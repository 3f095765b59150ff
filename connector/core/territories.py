"""Territories: which rep or router a record belongs to by where it is and what it is.

A territory lists values per dimension: countries (ISO 3166-1 alpha-2), regions (ISO
3166-2, ``US-CA``), postcode ranges, industries and a size band of employees. A record
is in a territory when every dimension the territory lists matches (an unlisted
dimension matches anything); within a dimension any listed value matches.

Tables overlap: "US" and "US-CA, tech" both hold a Californian tech company. Precedence,
first that differs wins:

1. the most specific territory, the one that lists more dimensions, because it was
   written for fewer records and an admin who narrows a territory means it to win;
2. the higher explicit ``priority``, for overlaps of equal specificity;
3. the earlier row in the table, a last resort that :func:`overlaps` reports as
   ambiguous so the admin can set a priority instead of relying on order.

Postcode ranges compare the leading characters of the postcode (upper case, no spaces)
as text against bounds of equal length: ``94000-94999`` holds ``94105`` and
``94105-1234``; ``SW1`` holds ``SW1A 1AA`` (and ``SW19``: a prefix is a prefix).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: more rows than any real territory table has; it also bounds the pairwise overlap check
MAX_TERRITORIES = 1000


class AssigneeKind(StrEnum):
    REP = "rep"
    ROUTER = "router"


@dataclass(frozen=True)
class PostcodeRange:
    low: str
    high: str

    def holds(self, postcode: str) -> bool:
        head = postcode[:len(self.low)]
        return len(head) == len(self.low) and self.low <= head <= self.high

    def meets(self, other: PostcodeRange) -> bool:
        """Whether some postcode is in both (compared on the shorter bounds' length)."""
        n = min(len(self.low), len(other.low))
        return self.low[:n] <= other.high[:n] and other.low[:n] <= self.high[:n]

    def __str__(self) -> str:
        return self.low if self.low == self.high else f"{self.low}-{self.high}"


@dataclass(frozen=True)
class Territory:
    name: str
    assignee_kind: AssigneeKind
    assignee_id: str
    priority: int = 0
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    postcodes: tuple[PostcodeRange, ...] = ()
    industries: frozenset[str] = frozenset()
    min_employees: int | None = None
    max_employees: int | None = None
    #: the row in the CSV as a spreadsheet numbers it (the header is row 1); the last
    #: tie-breaker
    row: int = 0

    @property
    def has_size_band(self) -> bool:
        return self.min_employees is not None or self.max_employees is not None

    @property
    def specificity(self) -> int:
        """How many dimensions the territory lists."""
        return sum((bool(self.countries), bool(self.regions), bool(self.postcodes),
                    bool(self.industries), self.has_size_band))

    @property
    def assignee(self) -> str:
        return f"{self.assignee_kind.value}:{self.assignee_id}"


@dataclass(frozen=True)
class TerritoryRecord:
    """The record's values the territories read, normalised by :func:`record_from`."""

    country: str | None = None
    region: str | None = None
    postcode: str | None = None
    industry: str | None = None
    employees: int | None = None


@dataclass(frozen=True)
class TerritoryMatch:
    territory: Territory | None
    reason: str
    #: every territory the record is in, the winner first
    matched: tuple[Territory, ...] = ()


@dataclass(frozen=True)
class Overlap:
    first: Territory
    second: Territory
    winner: Territory
    why: str
    #: decided only by row order: the admin should set a priority
    ambiguous: bool


@dataclass(frozen=True)
class CsvProblem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class TerritoryCsvError(ValueError):
    """The CSV has problems; ``problems`` names each row and column."""

    def __init__(self, problems: Sequence[CsvProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:20]) +
                         (f"; and {len(self.problems) - 20} more"
                          if len(self.problems) > 20 else ""))


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _postcode(text: str) -> str:
    return "".join(text.split()).upper()


def record_from(fields: Mapping[str, Any], *, country: str = "country",
                region: str = "state", postcode: str = "postcode",
                industry: str = "industry", employees: str = "employees",
                ) -> TerritoryRecord:
    """A record's territory values from its mapped fields (names configurable). A region
    without its country prefix ("CA") takes the record's country ("US-CA")."""
    def text(name: str) -> str | None:
        value = fields.get(name)
        return str(value).strip() or None if value is not None else None

    c = text(country)
    c = c.upper() if c else None
    r = text(region)
    if r:
        r = r.upper()
        if "-" not in r and c:
            r = f"{c}-{r}"
    p = text(postcode)
    i = text(industry)
    e = fields.get(employees)
    try:
        n = int(e) if e is not None and str(e).strip() != "" else None
    except (TypeError, ValueError):
        n = None
    return TerritoryRecord(c, r, _postcode(p) if p else None, _norm(i) if i else None, n)


def _why_in(t: Territory, record: TerritoryRecord) -> list[str] | None:
    """The matching values, one per listed dimension, or None when the record is out."""
    why = []
    for label, listed, value in (("country", t.countries, record.country),
                                 ("region", t.regions, record.region),
                                 ("industry", t.industries, record.industry)):
        if listed and value not in listed:
            return None
        if listed:
            why.append(f"{label} {value}")
    if t.postcodes:
        held = next((r for r in t.postcodes if record.postcode and r.holds(record.postcode)),
                    None)
        if held is None:
            return None
        why.append(f"postcode {record.postcode} in {held}")
    if t.has_size_band:
        n = record.employees
        if n is None or (t.min_employees is not None and n < t.min_employees) or \
                (t.max_employees is not None and n > t.max_employees):
            return None
        why.append(f"{n} employees in {_band(t)}")
    return why


def _band(t: Territory) -> str:
    low = t.min_employees if t.min_employees is not None else 0
    return f"{low}+" if t.max_employees is None else f"{low}-{t.max_employees}"


def _precedence(t: Territory) -> tuple[int, int, int]:
    return (-t.specificity, -t.priority, t.row)


def _beats(winner: Territory, loser: Territory) -> tuple[str, bool]:
    """Why ``winner`` comes first; True when only the row order decided."""
    if winner.specificity != loser.specificity:
        return (f"{winner.name!r} is more specific ({winner.specificity} criteria against "
                f"{loser.specificity})", False)
    if winner.priority != loser.priority:
        return (f"{winner.name!r} has the higher priority ({winner.priority} against "
                f"{loser.priority})", False)
    return (f"{winner.name!r} comes first in the table (row {winner.row} against "
            f"{loser.row}); equal specificity and priority", True)


def evaluate(territories: Iterable[Territory], record: TerritoryRecord) -> TerritoryMatch:
    """The territory a record belongs to, with the values that put it there and, when it
    is in several, why the winner won."""
    found = []
    for t in territories:
        why = _why_in(t, record)
        if why is not None:
            found.append((t, why))
    if not found:
        return TerritoryMatch(None, "in no territory")
    found.sort(key=lambda pair: _precedence(pair[0]))
    winner, why = found[0]
    reason = (f"territory {winner.name!r} ({winner.assignee}): "
              f"{', '.join(why) or 'matches every record'}")
    if len(found) > 1:
        others = ", ".join(repr(t.name) for t, _ in found[1:])
        reason += f"; also in {others}: {_beats(winner, found[1][0])[0]}"
    return TerritoryMatch(winner, reason, tuple(t for t, _ in found))


def _sets_meet(a: frozenset[str], b: frozenset[str]) -> bool:
    return not a or not b or bool(a & b)


def _countries(t: Territory) -> frozenset[str]:
    """The countries a territory can hold: its regions are country-qualified, so a region
    list limits the country too."""
    from_regions = frozenset(r.split("-", 1)[0] for r in t.regions)
    if t.countries and from_regions:
        return t.countries & from_regions
    return t.countries or from_regions


def _bands_meet(a: Territory, b: Territory) -> bool:
    low = max(a.min_employees or 0, b.min_employees or 0)
    highs = [h for h in (a.max_employees, b.max_employees) if h is not None]
    return not highs or low <= min(highs)


def _postcodes_meet(a: Territory, b: Territory) -> bool:
    return not a.postcodes or not b.postcodes or any(
        x.meets(y) for x in a.postcodes for y in b.postcodes)


def can_overlap(a: Territory, b: Territory) -> bool:
    """Whether some record could be in both."""
    return (_sets_meet(_countries(a), _countries(b)) and _sets_meet(a.regions, b.regions)
            and _postcodes_meet(a, b) and _sets_meet(a.industries, b.industries)
            and _bands_meet(a, b))


def overlaps(territories: Sequence[Territory]) -> list[Overlap]:
    """Every pair of territories some record could be in, with the one that wins and why;
    ``ambiguous`` marks pairs only the row order separates."""
    found = []
    countries = [_countries(t) for t in territories]
    for i, a in enumerate(territories):
        for j in range(i + 1, len(territories)):
            b = territories[j]
            if _sets_meet(countries[i], countries[j]) and can_overlap(a, b):
                winner, loser = sorted((a, b), key=_precedence)
                why, ambiguous = _beats(winner, loser)
                found.append(Overlap(a, b, winner, why, ambiguous))
    return found


COLUMNS = ("name", "assign_to", "priority", "countries", "regions", "postcodes",
           "industries", "min_employees", "max_employees")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_POSTCODE = re.compile(r"^[A-Z0-9]{1,10}$")


def _split(cell: str) -> list[str]:
    return [v.strip() for v in cell.split(";") if v.strip()]


def _integer(cell: str, row: int, column: str, problems: list[CsvProblem]) -> int | None:
    if not cell.strip():
        return None
    try:
        value = int(cell.strip())
    except ValueError:
        problems.append(CsvProblem(row, column, f"{cell.strip()[:40]!r} is not a whole number"))
        return None
    if column != "priority" and value < 0:
        problems.append(CsvProblem(row, column, "must not be negative"))
    return value


def _postcode_ranges(cell: str, row: int, problems: list[CsvProblem]) -> list[PostcodeRange]:
    ranges = []
    for item in _split(cell):
        low, _, high = (_postcode(part) for part in item.partition("-"))
        high = high or low
        if not _POSTCODE.match(low) or not _POSTCODE.match(high):
            problems.append(CsvProblem(row, "postcodes", f"{item[:40]!r} is not a postcode "
                                       "or a range like 94000-94999"))
        elif len(low) != len(high) or low > high:
            problems.append(CsvProblem(row, "postcodes", f"range {item!r} needs bounds of "
                                       "the same length, the lower first"))
        else:
            ranges.append(PostcodeRange(low, high))
    return ranges


def _parse_row(cells: Mapping[str, str], row: int, problems: list[CsvProblem]
               ) -> Territory | None:
    before = len(problems)
    name = cells.get("name", "").strip()
    if not name:
        problems.append(CsvProblem(row, "name", "is required"))
    kind, _, target = cells.get("assign_to", "").strip().partition(":")
    if kind not in {k.value for k in AssigneeKind} or not target.strip():
        problems.append(CsvProblem(row, "assign_to", "must be rep:<rep id> or "
                                   "router:<router id>"))
    countries = [c.upper() for c in _split(cells.get("countries", ""))]
    for c in countries:
        if not _COUNTRY.match(c):
            problems.append(CsvProblem(row, "countries", f"{c[:40]!r} is not an ISO 3166-1 "
                                       "two-letter country code"))
    regions = [r.upper() for r in _split(cells.get("regions", ""))]
    for r in regions:
        if not _REGION.match(r):
            problems.append(CsvProblem(row, "regions", f"{r[:40]!r} is not an ISO 3166-2 "
                                       "code such as US-CA"))
        elif countries and r.split("-", 1)[0] not in countries:
            problems.append(CsvProblem(row, "regions", f"{r} is outside the row's countries"))
    postcodes = _postcode_ranges(cells.get("postcodes", ""), row, problems)
    industries = [_norm(i) for i in _split(cells.get("industries", ""))]
    priority = _integer(cells.get("priority", ""), row, "priority", problems) or 0
    low = _integer(cells.get("min_employees", ""), row, "min_employees", problems)
    high = _integer(cells.get("max_employees", ""), row, "max_employees", problems)
    if low is not None and high is not None and low > high:
        problems.append(CsvProblem(row, "max_employees", "is below min_employees"))
    if len(problems) > before:
        return None
    return Territory(name, AssigneeKind(kind), target.strip(), priority, frozenset(countries),
                     frozenset(regions), tuple(postcodes), frozenset(industries), low, high,
                     row=row)


def parse_csv(text: str) -> list[Territory]:
    """Territories from CSV with a header of :data:`COLUMNS` (``name`` and ``assign_to``
    required, the others optional; lists separated by ``;``). Rows are numbered as a
    spreadsheet shows them, the header being row 1. Raises :class:`TerritoryCsvError`
    listing every problem, so one upload shows them all."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    problems: list[CsvProblem] = []
    for column in header:
        if column not in COLUMNS:
            problems.append(CsvProblem(1, column or "(empty)", "unknown column; expected "
                                       f"{', '.join(COLUMNS)}"))
    for column in ("name", "assign_to"):
        if column not in header:
            problems.append(CsvProblem(1, column, "required column is missing"))
    if len(set(header)) != len(header):
        problems.append(CsvProblem(1, "(header)", "a column appears twice"))
    if problems:
        raise TerritoryCsvError(problems)
    territories, names = [], {}
    for row, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if row - 1 > MAX_TERRITORIES:
            raise TerritoryCsvError([CsvProblem(row, "(row)", "more than "
                                                f"{MAX_TERRITORIES} territories")])
        if len(cells) > len(header):
            problems.append(CsvProblem(row, "(row)", f"{len(cells)} cells for "
                                       f"{len(header)} columns"))
            continue
        territory = _parse_row(dict(zip(header, cells, strict=False)), row, problems)
        if territory is None:
            continue
        key = _norm(territory.name)
        if key in names:
            problems.append(CsvProblem(row, "name", f"{territory.name!r} is already row "
                                       f"{names[key]}"))
            continue
        names[key] = row
        territories.append(territory)
    if problems:
        raise TerritoryCsvError(problems)
    return territories
