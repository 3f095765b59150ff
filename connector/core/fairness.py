"""Fairness controls: what a router owes a rep, and how it pays it back.

Today's rule (``keep_position``) is the rotation's: a rep away for two weeks comes back
to their normal turn and does not catch up, which suits teams paid on what they work
while present. ``catch_up`` suits teams that split a territory's records evenly over a
month: whoever is a whole record below the eligible reps' average gets the next record,
until they are level, and then the rotation resumes where it was.

Both policies honour the same ledger, counted by the store over the router's fairness
window:

- ``assigned``: records the rep got;
- ``credits``: records taken back from the rep (reassigned away, or rejected), each
  worth one record owed to them, so a rep is not penalised for a lead that was not theirs;
- ``calibration``: manual adjustments (+n: the rep is owed n more records; -n: n fewer),
  each audited with who made it and why (:class:`Calibration`).

Under ``keep_position`` what is owed is paid as turns outside the rotation (the rotation
position does not move) and a negative balance passes the rep over on their turn; under
``catch_up`` it moves the rep's effective count (assigned - credits - calibration), which
the average compares. Every pick comes with the arithmetic, for the decision's reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from .distribution import RotationState, pick_member
from .model import DistributionModel, RouterMember

#: a calibration larger than this is a typing mistake, not a correction
MAX_CALIBRATION = 1000


class ReturnPolicy(StrEnum):
    KEEP_POSITION = "keep_position"
    CATCH_UP = "catch_up"


class CreditReason(StrEnum):
    REASSIGNED_AWAY = "reassigned away"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Calibration:
    """A manual adjustment, kept as the audit trail of the ledger's calibration."""

    rep_id: str
    delta: int
    by: str
    why: str
    at: datetime


@dataclass(frozen=True)
class Credit:
    rep_id: str
    record_id: str
    reason: CreditReason
    at: datetime


@dataclass(frozen=True)
class FairnessLedger:
    assigned: Mapping[str, int] = field(default_factory=dict)
    credits: Mapping[str, int] = field(default_factory=dict)
    calibration: Mapping[str, int] = field(default_factory=dict)

    def owed(self, rep_id: str) -> int:
        """Records owed to the rep (negative: the rep has had too many)."""
        return self.credits.get(rep_id, 0) + self.calibration.get(rep_id, 0)

    def effective(self, rep_id: str) -> int:
        return self.assigned.get(rep_id, 0) - self.owed(rep_id)

    def arithmetic(self, rep_id: str) -> str:
        """``effective (= assigned - credits - calibration)``, shortened when nothing is owed."""
        credits, calibration = self.credits.get(rep_id, 0), self.calibration.get(rep_id, 0)
        if not credits and not calibration:
            return str(self.effective(rep_id))
        sign = "-" if calibration >= 0 else "+"
        return (f"{self.effective(rep_id)} (= {self.assigned.get(rep_id, 0)} assigned"
                f" - {credits} credits {sign} {abs(calibration)} calibration)")


@dataclass(frozen=True)
class FairPick:
    member: RouterMember
    rotation: RotationState
    #: the ledger with the assignment counted and any owed turn settled
    ledger: FairnessLedger
    explanation: str


def _add(counts: Mapping[str, int], rep_id: str, n: int) -> dict[str, int]:
    out = dict(counts)
    out[rep_id] = out.get(rep_id, 0) + n
    if out[rep_id] == 0:
        del out[rep_id]
    return out


def credit(ledger: FairnessLedger, rep_id: str, record_id: str, reason: CreditReason,
           at: datetime) -> tuple[FairnessLedger, Credit]:
    """Give the rep back one record taken from them."""
    return (replace(ledger, credits=_add(ledger.credits, rep_id, 1)),
            Credit(rep_id, record_id, reason, at))


def calibrate(ledger: FairnessLedger, rep_id: str, delta: int, *, by: str, why: str,
              at: datetime) -> tuple[FairnessLedger, Calibration]:
    """A manual +n / -n for one rep; ``by`` and ``why`` are required, for the audit."""
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0 \
            or abs(delta) > MAX_CALIBRATION:
        raise ValueError(f"delta must be a whole number from -{MAX_CALIBRATION} to "
                         f"{MAX_CALIBRATION}, not 0")
    if not by.strip():
        raise ValueError("by is required: who calibrates")
    if not why.strip():
        raise ValueError("why is required: the reason for the calibration")
    return (replace(ledger, calibration=_add(ledger.calibration, rep_id, delta)),
            Calibration(rep_id, delta, by.strip(), why.strip()[:500], at))


def joined(ledger: FairnessLedger, rep_id: str, present: Sequence[str]) -> FairnessLedger:
    """A rep added to a router starts at the present reps' average, so ``catch_up`` does
    not hand a newcomer every record until they equal people who have worked for weeks."""
    others = [r for r in present if r != rep_id]
    if not others:
        return ledger
    average = sum(ledger.effective(r) for r in others) // len(others)
    return replace(ledger, assigned={**ledger.assigned, rep_id: average},
                   credits={k: v for k, v in ledger.credits.items() if k != rep_id},
                   calibration={k: v for k, v in ledger.calibration.items() if k != rep_id})


def _settle_owed_turn(ledger: FairnessLedger, rep_id: str) -> FairnessLedger:
    """One owed record paid: credits first, then a positive calibration."""
    if ledger.credits.get(rep_id, 0) > 0:
        return replace(ledger, credits=_add(ledger.credits, rep_id, -1))
    return replace(ledger, calibration=_add(ledger.calibration, rep_id, -1))


def _in_turn(members: Sequence[RouterMember], last_position: int | None
             ) -> list[RouterMember]:
    """Members in the order the rotation would reach them after ``last_position``, so that
    among equals the one whose turn comes first is chosen."""
    return sorted(members, key=lambda m: (last_position is not None
                                          and m.position <= last_position, m.position))


def _weight(model: DistributionModel, member: RouterMember) -> int:
    return max(member.weight, 0) if model is DistributionModel.WEIGHTED else 1


def _keep_position(model, eligible, rotation, window_counts, members, ledger):
    owed = [m for m in _in_turn(eligible, rotation.last_position)
            if ledger.owed(m.rep_id) > 0]
    if owed:
        pick = max(owed, key=lambda m: ledger.owed(m.rep_id))  # first of equals: next in turn
        n = ledger.owed(pick.rep_id)
        why = (f"keep position: {pick.rep_id} is owed {n} record{'s' if n != 1 else ''} "
               f"({ledger.credits.get(pick.rep_id, 0)} credits "
               f"{ledger.calibration.get(pick.rep_id, 0):+d} calibration), paid before the "
               f"rotation, which stays where it was")
        return pick, rotation, _settle_owed_turn(ledger, pick.rep_id), why
    passed: list[str] = []
    candidates = list(eligible)
    while True:
        pick, new_rotation = pick_member(model, candidates, rotation, window_counts, members)
        if ledger.owed(pick.rep_id) >= 0 or len(candidates) == 1:
            break
        passed.append(f"{pick.rep_id} passed over (owes {-ledger.owed(pick.rep_id)})")
        ledger = replace(ledger, calibration=_add(ledger.calibration, pick.rep_id, 1))
        rotation = new_rotation
        candidates = [m for m in candidates if m.rep_id != pick.rep_id]
    why = f"keep position: {model.value.replace('_', ' ')} picks {pick.rep_id}"
    if passed:
        why += "; " + "; ".join(passed)
    return pick, new_rotation, ledger, why


def _catch_up(model, eligible, rotation, window_counts, members, ledger):
    weights = {m.rep_id: _weight(model, m) for m in eligible}
    total_weight = sum(weights.values())
    total = sum(ledger.effective(m.rep_id) for m in eligible)
    counts = ", ".join(f"{m.rep_id} {ledger.arithmetic(m.rep_id)}"
                       for m in sorted(eligible, key=lambda m: m.position))
    if total_weight == 0:
        pick, new_rotation = pick_member(model, eligible, rotation, window_counts, members)
        return pick, new_rotation, ledger, (
            f"catch up: no eligible rep has a weight; {model.value.replace('_', ' ')} "
            f"picks {pick.rep_id}")
    per_weight = total / total_weight
    shares = ("" if model is not DistributionModel.WEIGHTED else " per unit of weight")
    average = f"average{shares} {total}/{total_weight} = {per_weight:.2f}"

    def behind(m: RouterMember) -> float:
        return per_weight * weights[m.rep_id] - ledger.effective(m.rep_id)

    lagging = [m for m in _in_turn(eligible, rotation.last_position)
               if weights[m.rep_id] > 0 and behind(m) >= 1]
    if lagging:
        pick = max(lagging, key=behind)  # first of equals: next in turn
        return pick, rotation, ledger, (
            f"catch up: counts {counts}; {average}; {pick.rep_id} is "
            f"{behind(pick):.2f} below, the furthest behind; the rotation stays where it was")
    pick, new_rotation = pick_member(model, eligible, rotation, window_counts, members)
    return pick, new_rotation, ledger, (
        f"catch up: counts {counts}; {average}; nobody is a whole record behind; "
        f"{model.value.replace('_', ' ')} picks {pick.rep_id}")


def fair_pick(policy: ReturnPolicy, model: DistributionModel,
              eligible: Sequence[RouterMember], rotation: RotationState,
              ledger: FairnessLedger, window_counts: Mapping[str, int] | None = None,
              members: Sequence[RouterMember] | None = None) -> FairPick:
    """Who among ``eligible`` gets the next record under ``policy``, with the new rotation,
    the ledger with the assignment counted, and the arithmetic as one sentence.

    ``eligible`` are the members the engine found available and under their caps; this
    only chooses among them, so availability and caps keep their precedence.
    """
    if not eligible:
        raise ValueError("no eligible member to pick from")
    choose = _catch_up if policy is ReturnPolicy.CATCH_UP else _keep_position
    pick, new_rotation, ledger, why = choose(model, eligible, rotation, window_counts or {},
                                             members, ledger)
    ledger = replace(ledger, assigned=_add(ledger.assigned, pick.rep_id, 1))
    return FairPick(pick, new_rotation, ledger, why)
