"""Round robin walks the rotation from the last pick and stops at the first rep who can
take the record: the decision names the reps passed over, and only those are looked at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.core.distribution import RotationState, walk_from
from connector.core.engine import RouterState, decide, walk_rotation
from connector.core.model import (
    Account,
    DistributionModel,
    Rep,
    RepStatus,
    RoutableObject,
    Router,
    RouterMember,
    RouterSettings,
)
from connector.core.outcomes import Outcome

NOW = datetime(2026, 6, 3, 14, tzinfo=UTC)
ACCOUNT = Account("acc", "Acme")
OBJ = RoutableObject("o1", "contact", {})


class CountingReps(dict):
    """The reps mapping, counting which reps the router asked for."""

    def __init__(self, reps: dict[str, Rep]) -> None:
        super().__init__(reps)
        self.asked: list[str] = []

    def get(self, key, default=None):
        self.asked.append(key)
        return super().get(key, default)


def _router(size: int, model=DistributionModel.ROUND_ROBIN) -> Router:
    # positions out of order on purpose: the walk follows positions, not list order
    members = tuple(RouterMember(f"r{i}", position=10 * i) for i in reversed(range(size)))
    return Router("rt", "acc", "All", "contact", published=True,
                  settings=RouterSettings(members=members, model=model))


def _reps(size: int, away: set[int] = frozenset()) -> CountingReps:
    return CountingReps({f"r{i}": Rep(f"r{i}", f"rep{i}@x.io",
                                      status=RepStatus.UNAVAILABLE if i in away
                                      else RepStatus.AVAILABLE) for i in range(size)})


def test_walk_from_starts_after_the_last_position_and_wraps_once():
    rotation = _router(5).settings.rotation
    assert [m.position for m in walk_from(rotation, None)] == [0, 10, 20, 30, 40]
    assert [m.position for m in walk_from(rotation, 20)] == [30, 40, 0, 10, 20]
    assert [m.position for m in walk_from(rotation, 25)] == [30, 40, 0, 10, 20]
    assert [m.position for m in walk_from(rotation, 40)] == [0, 10, 20, 30, 40]
    assert list(walk_from((), 3)) == []


def test_round_robin_names_only_the_reps_passed_over_and_looks_at_no_other():
    reps = _reps(1000, away={501, 502})
    state = RouterState(rotation=RotationState(last_position=5000))  # r500 was last
    decision = decide(account=ACCOUNT, router=_router(1000), obj=OBJ, reps=reps,
                      state=state, now=NOW)
    assert decision.outcome is Outcome.ASSIGNED and decision.rep.id == "r503"
    assert [(s.rep_id, s.reason) for s in decision.skipped] == [
        ("r501", "unavailable"), ("r502", "unavailable")]
    assert decision.new_rotation.last_position == 5030
    assert reps.asked == ["r501", "r502", "r503"]


def test_a_walk_that_finds_nobody_names_everyone_in_rotation_order():
    reps = _reps(4, away={0, 1, 2, 3})
    state = RouterState(rotation=RotationState(last_position=10))
    decision = decide(account=ACCOUNT, router=_router(4), obj=OBJ, reps=reps, state=state,
                      now=NOW)
    assert decision.outcome is Outcome.NO_USERS_AVAILABLE
    assert [s.rep_id for s in decision.skipped] == ["r2", "r3", "r0", "r1"]


@pytest.mark.parametrize("model", [DistributionModel.WEIGHTED,
                                   DistributionModel.LOAD_BALANCED])
def test_models_that_weigh_everyone_still_walk_all_the_way_round(model):
    reps = _reps(6, away={4})
    settings = _router(6, model).settings
    walk = walk_rotation(settings, reps, RouterState(), NOW,
                         first_only=model == DistributionModel.ROUND_ROBIN)
    assert [m.rep_id for m in walk.eligible] == ["r0", "r1", "r2", "r3", "r5"]
    assert [s.rep_id for s in walk.skipped] == ["r4"]
    state = RouterState(window_counts={"r0": 3, "r1": 3, "r2": 1, "r3": 3, "r5": 3})
    decision = decide(account=ACCOUNT, router=_router(6, model), obj=OBJ, reps=reps,
                      state=state, now=NOW)
    expected = "r2" if model == DistributionModel.LOAD_BALANCED else "r0"
    assert decision.rep.id == expected
