from collections import Counter

from connector.core.distribution import RotationState, load_balanced, pick_member, round_robin
from connector.core.model import DistributionModel, RouterMember

A, B, C, D = (RouterMember(r, p) for p, r in enumerate("abcd"))


def run(model, members_over_time, window=None, state=None):
    state = state or RotationState()
    picks = []
    for eligible in members_over_time:
        member, state = pick_member(model, eligible, state, window or {})
        picks.append(member.rep_id)
    return picks, state


def test_round_robin_is_strict_order():
    picks, _ = run(DistributionModel.ROUND_ROBIN, [[A, B, C, D]] * 6)
    assert picks == list("abcdab")


def test_skipped_member_does_not_catch_up():
    # b is away for two rounds; when back, b takes only its normal turn
    away = [[A, C, D]] * 6
    back = [[A, B, C, D]] * 4
    picks, _ = run(DistributionModel.ROUND_ROBIN, away + back)
    assert picks[:6] == list("acdacd")
    assert picks[6:] == list("abcd")


def test_adding_or_removing_a_member_keeps_the_others_turn():
    _, state = run(DistributionModel.ROUND_ROBIN, [[A, B, C, D]] * 2)  # a, b done
    E = RouterMember("e", 4)
    picks, state = run(DistributionModel.ROUND_ROBIN, [[A, B, C, D, E]] * 3, state=state)
    assert picks == list("cde")
    picks, _ = run(DistributionModel.ROUND_ROBIN, [[A, C, D, E]] * 3, state=state)  # b leaves
    assert picks == list("acd")


def test_weighted_is_exact_and_interleaved():
    heavy = RouterMember("h", 0, weight=3)
    light = RouterMember("l", 1, weight=1)
    picks, _ = run(DistributionModel.WEIGHTED, [[heavy, light]] * 8)
    assert Counter(picks) == {"h": 6, "l": 2}
    assert picks[:4].count("l") == 1  # smooth: no run of all heavy first
    again, _ = run(DistributionModel.WEIGHTED, [[heavy, light]] * 8)
    assert again == picks  # deterministic


def test_weighted_absent_member_earns_no_backlog():
    x, y = RouterMember("x", 0, weight=1), RouterMember("y", 1, weight=1)
    _, state = run(DistributionModel.WEIGHTED, [[x]] * 10)
    picks, _ = run(DistributionModel.WEIGHTED, [[x, y]] * 4, state=state)
    assert Counter(picks) == {"x": 2, "y": 2}


def test_zero_weight_member_gets_nothing_while_others_can_take():
    x, z = RouterMember("x", 0, weight=2), RouterMember("z", 1, weight=0)
    picks, _ = run(DistributionModel.WEIGHTED, [[x, z]] * 5)
    assert set(picks) == {"x"}


def test_load_balanced_picks_fewest_and_breaks_ties_by_rotation():
    member, state = load_balanced([A, B, C], RotationState(), {"a": 5, "b": 2, "c": 2})
    assert member.rep_id == "b"
    member, _ = load_balanced([A, B, C], state, {"a": 5, "b": 3, "c": 3})
    assert member.rep_id == "c"  # tie between b and c: c is next after b


def test_round_robin_wraps_from_the_highest_position():
    member, state = round_robin([A, B], RotationState(last_position=3))
    assert member.rep_id == "a" and state.last_position == 0


def test_weighted_forgets_removed_members_and_keeps_the_others_state():
    heavy, light, gone = RouterMember("h", 0, weight=3), RouterMember("l", 1), \
        RouterMember("g", 2, weight=2)
    state = RotationState()
    for _ in range(2):
        _, state = pick_member(DistributionModel.WEIGHTED, [heavy, light, gone], state, {},
                               [heavy, light, gone])
    assert set(state.current_weights) == {"h", "l", "g"}
    before = dict(state.current_weights)
    # g leaves the router; l is in it but away for this pick
    _, after = pick_member(DistributionModel.WEIGHTED, [heavy], state, {}, [heavy, light])
    assert "g" not in after.current_weights
    assert after.current_weights["l"] == before["l"]


def test_weighted_keeps_away_members_state_when_members_are_not_given():
    heavy, light = RouterMember("h", 0, weight=3), RouterMember("l", 1)
    _, state = pick_member(DistributionModel.WEIGHTED, [heavy, light], RotationState(), {})
    _, state = pick_member(DistributionModel.WEIGHTED, [heavy], state, {})
    assert set(state.current_weights) == {"h", "l"}
