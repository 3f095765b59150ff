"""Validation errors in words an admin reads: which thing on the page (a rep by name,
positions counted from 1) and what it must be ("must be 0 or more"), followed by the
field as the API names it, for anyone comparing with the API.

The console validates with the API's pydantic schemas, so the same rules apply; only the
wording differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Loc = Sequence[str | int]


def plain(error: dict[str, Any]) -> str:
    """Pydantic's message in plain words: ``must be 0 or more``."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    simple = {
        "greater_than_equal": lambda: f"must be {ctx.get('ge')} or more",
        "less_than_equal": lambda: f"must be {ctx.get('le')} or less",
        "greater_than": lambda: f"must be more than {ctx.get('gt')}",
        "less_than": lambda: f"must be less than {ctx.get('lt')}",
        "int_parsing": lambda: "must be a whole number",
        "int_from_float": lambda: "must be a whole number",
        "int_type": lambda: "must be a whole number",
        "bool_parsing": lambda: "must be yes or no",
        "missing": lambda: "is required",
        "extra_forbidden": lambda: "is not a known setting",
        "literal_error": lambda: f"must be one of {ctx.get('expected')}",
        "string_too_short": lambda: ("must not be empty" if ctx.get("min_length") == 1
                                     else f"must have at least {ctx.get('min_length')} "
                                          "characters"),
        "string_too_long": lambda: f"must have at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": lambda: "is not in the expected form",
        "datetime_from_date_parsing": lambda: "must be a date and time such as "
                                              "2026-01-05T09:00",
        "datetime_parsing": lambda: "must be a date and time such as 2026-01-05T09:00",
        "list_type": lambda: "must be a list",
    }
    if kind in simple:
        return simple[kind]()
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


def describe(error: dict[str, Any], label: Callable[[Loc], str], prefix: str = "") -> str:
    """``Weight of Jane Doe <jane@...>: must be 0 or more (settings.users.1.weight)``."""
    loc = list(error.get("loc") or ())
    api = ".".join([*([prefix] if prefix else []), *(str(p) for p in loc)])
    what = label(loc)
    text = f"{what}: {plain(error)}" if what else plain(error)
    return f"{text} ({api})" if api else text


def nth(part: Any) -> str:
    """A 0-based index as people count: ``0`` -> ``1``."""
    return str(part + 1) if isinstance(part, int) else str(part)
