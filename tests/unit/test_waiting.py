"""The tests' one waiting helper: it returns what it waited for and fails by name."""

from __future__ import annotations

import pytest

from tests.support.waiting import wait_until


def test_it_returns_the_first_truthy_value():
    answers = iter([0, None, "", "owner-7", "later"])
    assert wait_until(lambda: next(answers), 5, interval=0) == "owner-7"


def test_it_fails_naming_what_never_happened():
    with pytest.raises(AssertionError, match="the owner written"):
        wait_until(lambda: False, 0, "the owner written", interval=0)


def test_listed_errors_count_as_not_yet_and_others_surface():
    calls: list[int] = []

    def flaky() -> bool:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("not listening yet")
        return True

    assert wait_until(flaky, 5, interval=0, ignore=(ConnectionError,)) is True
    with pytest.raises(KeyError):
        wait_until(lambda: {}["missing"], 5, interval=0, ignore=(ConnectionError,))
