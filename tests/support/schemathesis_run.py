"""Schemathesis over every operation of a spec, a bounded number of examples each, with
every failure collected rather than the first one only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings


def failures_of(schema: Any, headers: dict[str, str], *, examples: int,
                excluded: Callable[[Any], Sequence[Any]]) -> tuple[int, list[str]]:
    """(operations checked, failures); ``excluded(case)`` names the checks left out."""
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, excluded_checks=list(excluded(case)))

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return operations, failures
