from collections import Counter
from datetime import UTC, datetime

import pytest

from connector.core.distribution import RotationState
from connector.core.fairness import (
    CreditReason,
    FairnessLedger,
    ReturnPolicy,
    calibrate,
    credit,
    fair_pick,
    joined,
)
from connector.core.model import DistributionModel, RouterMember

A, B, C, D = (RouterMember(r, p) for p, r in enumerate("abcd"))
RR = DistributionModel.ROUND_ROBIN
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def route(policy, eligible, n, rotation=None, ledger=None, model=RR):
    rotation, ledger = rotation or RotationState(), ledger or FairnessLedger()
    picks, reasons = [], []
    for _ in range(n):
        pick = fair_pick(policy, model, eligible, rotation, ledger)
        rotation, ledger = pick.rotation, pick.ledger
        picks.append(pick.member.rep_id)
        reasons.append(pick.explanation)
    return picks, rotation, ledger, reasons


def two_week_absence(policy):
    """d is away for ten working days of 12 records; then 60 records with d back."""
    picks, rotation, ledger, _ = route(policy, [A, B, C], 120)
    assert Counter(picks) == {"a": 40, "b": 40, "c": 40}
    return route(policy, [A, B, C, D], 60, rotation, ledger)


def test_keep_position_after_a_two_week_absence_takes_the_normal_turn():
    picks, _, ledger, reasons = two_week_absence(ReturnPolicy.KEEP_POSITION)
    assert picks[:8] == list("dabcdabc")
    assert Counter(picks) == {"a": 15, "b": 15, "c": 15, "d": 15}
    assert dict(ledger.assigned) == {"a": 55, "b": 55, "c": 55, "d": 15}
    assert reasons[0] == "keep position: round robin picks d"


def test_catch_up_after_a_two_week_absence_levels_then_resumes_the_rotation():
    picks, _, ledger, reasons = two_week_absence(ReturnPolicy.CATCH_UP)
    # average (120 + x) / 4; d is a whole record behind while x <= 38
    assert picks[:39] == ["d"] * 39
    assert picks[39:47] == list("dabcdabc")
    assert dict(ledger.assigned) == {"a": 45, "b": 45, "c": 45, "d": 45}
    assert reasons[0] == ("catch up: counts a 40, b 40, c 40, d 0; average 120/4 = 30.00; "
                          "d is 30.00 below, the furthest behind; the rotation stays where "
                          "it was")
    assert reasons[39] == ("catch up: counts a 40, b 40, c 40, d 39; average 159/4 = 39.75; "
                           "nobody is a whole record behind; round robin picks d")


def test_catch_up_with_weights_compares_shares():
    heavy, light = RouterMember("h", 0, weight=3), RouterMember("l", 1, weight=1)
    ledger = FairnessLedger(assigned={"h": 30, "l": 0})
    pick = fair_pick(ReturnPolicy.CATCH_UP, DistributionModel.WEIGHTED, [heavy, light],
                     RotationState(), ledger)
    assert pick.member.rep_id == "l"
    assert "average per unit of weight 30/4 = 7.50; l is 7.50 below" in pick.explanation
    level = FairnessLedger(assigned={"h": 30, "l": 10})
    assert "nobody is a whole record behind" in fair_pick(
        ReturnPolicy.CATCH_UP, DistributionModel.WEIGHTED, [heavy, light], RotationState(),
        level).explanation


def test_a_credit_is_paid_as_a_turn_outside_the_rotation():
    _, rotation, ledger, _ = route(ReturnPolicy.KEEP_POSITION, [A, B, C, D], 2)  # a, b
    ledger, given = credit(ledger, "a", "lead-7", CreditReason.REASSIGNED_AWAY, NOW)
    assert (given.rep_id, given.reason) == ("a", CreditReason.REASSIGNED_AWAY)
    picks, _, ledger, reasons = route(ReturnPolicy.KEEP_POSITION, [A, B, C, D], 4,
                                      rotation, ledger)
    assert picks == list("acda")
    assert reasons[0] == ("keep position: a is owed 1 record (1 credits +0 calibration), "
                          "paid before the rotation, which stays where it was")
    assert dict(ledger.credits) == {}


def test_a_rejected_record_counts_in_the_catch_up_arithmetic():
    ledger = FairnessLedger(assigned={"a": 10, "b": 10, "c": 10, "d": 10})
    ledger, _ = credit(ledger, "c", "lead-1", CreditReason.REJECTED, NOW)
    ledger, _ = credit(ledger, "c", "lead-2", CreditReason.REJECTED, NOW)
    pick = fair_pick(ReturnPolicy.CATCH_UP, RR, [A, B, C, D], RotationState(), ledger)
    assert pick.member.rep_id == "c"
    assert "c 8 (= 10 assigned - 2 credits - 0 calibration)" in pick.explanation
    assert "average 38/4 = 9.50; c is 1.50 below" in pick.explanation


def test_calibration_is_audited_and_moves_turns():
    ledger, entry = calibrate(FairnessLedger(), "b", +2, by="maria@example.com",
                              why="two leads routed by hand last week", at=NOW)
    assert (entry.by, entry.why, entry.delta, entry.at) == (
        "maria@example.com", "two leads routed by hand last week", 2, NOW)
    picks, _, _, _ = route(ReturnPolicy.KEEP_POSITION, [A, B, C, D], 6, ledger=ledger)
    assert picks == list("bbabcd")
    ledger, _ = calibrate(FairnessLedger(assigned={"a": 5}), "a", -2, by="m", why="dupes",
                          at=NOW)
    assert ledger.arithmetic("a") == "7 (= 5 assigned - 0 credits + 2 calibration)"
    ledger, _ = calibrate(FairnessLedger(), "a", -1, by="maria@example.com",
                          why="got a duplicate", at=NOW)
    picks, _, ledger, reasons = route(ReturnPolicy.KEEP_POSITION, [A, B, C, D], 5,
                                      ledger=ledger)
    assert picks == list("bcdab")
    assert reasons[0] == "keep position: round robin picks b; a passed over (owes 1)"
    assert dict(ledger.calibration) == {}


@pytest.mark.parametrize("delta,by,why,error", [
    (0, "m", "x", "delta must be"), (5000, "m", "x", "delta must be"),
    (True, "m", "x", "delta must be"), (1, " ", "x", "by is required"),
    (1, "m", "", "why is required"),
])
def test_calibration_needs_a_sane_delta_a_who_and_a_why(delta, by, why, error):
    with pytest.raises(ValueError, match=error):
        calibrate(FairnessLedger(), "a", delta, by=by, why=why, at=NOW)


def test_a_newcomer_starts_at_the_average():
    ledger = joined(FairnessLedger(assigned={"a": 40, "b": 41, "c": 40}), "d",
                    ["a", "b", "c", "d"])
    assert ledger.assigned["d"] == 40
    picks, _, _, _ = route(ReturnPolicy.CATCH_UP, [A, B, C, D], 4, ledger=ledger)
    assert Counter(picks) == {"a": 1, "b": 1, "c": 1, "d": 1}


def test_only_eligible_members_are_picked():
    picks, _, _, _ = route(ReturnPolicy.CATCH_UP, [B, C], 3,
                           ledger=FairnessLedger(assigned={"a": 0, "b": 5, "c": 5}))
    assert set(picks) <= {"b", "c"}
    with pytest.raises(ValueError):
        fair_pick(ReturnPolicy.CATCH_UP, RR, [], RotationState(), FairnessLedger())
