"""Distribution models: who, among the eligible members, gets the next record.

Every model is a pure function of the eligible members and the router's state, and
returns the pick together with the new state; the store persists that state under a
row lock, so two workers can never pick from the same rotation position.

Round robin keeps the *position* of the last pick, not an index into a list, so adding
or removing a member never resets everyone else's turn, and a member skipped while away
does not "catch up" when back: the rotation simply moves past them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .model import DistributionModel, RouterMember


@dataclass(frozen=True)
class RotationState:
    last_position: int | None = None
    #: smooth weighted round robin "current weight" per rep id
    current_weights: Mapping[str, int] = field(default_factory=dict)


def walk_from(
    rotation: Sequence[RouterMember], last_position: int | None
) -> Iterator[RouterMember]:
    """``rotation`` (members sorted by position) in turn, starting with the first after
    ``last_position`` and wrapping round once. Lazy, and found by bisection: a caller that
    stops at the first member it can use looks at the members passed over, not at every
    member of the router."""
    start = 0 if last_position is None else \
        bisect_right(rotation, last_position, key=lambda m: m.position)
    for index in range(start, start + len(rotation)):
        yield rotation[index % len(rotation)]


def _rotation_order(
    members: Sequence[RouterMember], last_position: int | None
) -> list[RouterMember]:
    """Members in rotation order, starting with the first after ``last_position``."""
    ordered = sorted(members, key=lambda m: m.position)
    if last_position is None:
        return ordered
    after = [m for m in ordered if m.position > last_position]
    before = [m for m in ordered if m.position <= last_position]
    return after + before


def round_robin(
    eligible: Sequence[RouterMember], state: RotationState
) -> tuple[RouterMember, RotationState]:
    pick = _rotation_order(eligible, state.last_position)[0]
    return pick, replace(state, last_position=pick.position)


def weighted(
    eligible: Sequence[RouterMember], state: RotationState,
    members: Sequence[RouterMember] | None = None,
) -> tuple[RouterMember, RotationState]:
    """Smooth weighted round robin (as nginx does): deterministic and evenly interleaved.

    Only eligible members accumulate weight, so time away earns no backlog. ``members``
    is everyone in the router: the current weights of reps no longer in it are dropped
    (a rep removed and added again starts afresh), everyone else's are kept.
    """
    current = dict(state.current_weights)
    total = 0
    for member in eligible:
        weight = max(member.weight, 0)
        current[member.rep_id] = current.get(member.rep_id, 0) + weight
        total += weight
    ordered = _rotation_order(eligible, state.last_position)
    # max() keeps the first of equals, which is the next in rotation
    pick = max(ordered, key=lambda m: current[m.rep_id])
    current[pick.rep_id] -= total
    live = {m.rep_id for m in eligible} | (
        {m.rep_id for m in members} if members is not None else set(state.current_weights))
    return pick, RotationState(pick.position, {k: v for k, v in current.items() if k in live})


def load_balanced(
    eligible: Sequence[RouterMember], state: RotationState, window_counts: Mapping[str, int]
) -> tuple[RouterMember, RotationState]:
    """Fewest assignments in the window; ties go to whoever is next in rotation."""
    ordered = _rotation_order(eligible, state.last_position)
    # min() keeps the first of equals, which is the next in rotation
    pick = min(ordered, key=lambda m: window_counts.get(m.rep_id, 0))
    return pick, replace(state, last_position=pick.position)


def pick_member(
    model: DistributionModel,
    eligible: Sequence[RouterMember],
    state: RotationState,
    window_counts: Mapping[str, int],
    members: Sequence[RouterMember] | None = None,
) -> tuple[RouterMember, RotationState]:
    """``members`` (everyone in the router, eligible or not) lets the weighted model
    forget the state of reps removed from the router."""
    if not eligible:
        raise ValueError("no eligible member to pick from")
    if model == DistributionModel.WEIGHTED:
        positive = [m for m in eligible if m.weight > 0]
        return weighted(positive or list(eligible), state, members)
    if model == DistributionModel.LOAD_BALANCED:
        return load_balanced(eligible, state, window_counts)
    return round_robin(eligible, state)
