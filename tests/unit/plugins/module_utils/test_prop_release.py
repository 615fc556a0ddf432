"""Property tests of the canary weight -> replica arithmetic against brute force.

The oracle enumerates every allowed (old, new) pair and keeps the nearest share
``new / (old + new)``; ties go to fewer new pods, then the smaller total, as the
split's contract says.
"""

from __future__ import annotations

import os
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import (
    InputError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.split import (
    split_replicas,
)

# bench/mutation.py runs fewer examples per mutant (ACKOPS_HYPOTHESIS_EXAMPLES).
EXAMPLES = int(os.environ.get("ACKOPS_HYPOTHESIS_EXAMPLES", "0"))
SETTINGS = settings(max_examples=EXAMPLES or 300, deadline=None, database=None)
# Weights as people write them: whole percents and some with decimals.
weights = st.one_of(st.integers(0, 100), st.integers(0, 10000).map(lambda n: Fraction(n, 100)))


def nearest(candidates, weight):
    wanted = Fraction(weight) / 100
    return min(
        candidates,
        key=lambda c: (abs(Fraction(c[1], c[0] + c[1]) - wanted), c[1], c[0] + c[1]),
    )


def _as_number(weight):
    return weight if isinstance(weight, int) else str(float(weight))


@SETTINGS
@given(weights, st.integers(1, 60), st.integers(0, 5))
def test_fixed_total_matches_brute_force(weight, total, minimum):
    weight = Fraction(_as_number(weight))
    candidates = [(total - n, n) for n in range(minimum, total - minimum + 1)]
    if not candidates:
        with pytest.raises(InputError):
            split_replicas(_as_number(weight), total=total, min_per_side=minimum)
        return
    got = split_replicas(_as_number(weight), total=total, min_per_side=minimum)
    assert (got["old"], got["new"]) == nearest(candidates, weight)
    assert got["old"] + got["new"] == total
    share = Fraction(got["new"], total) * 100
    assert got["achieved_weight"] == pytest.approx(float(share))
    assert got["error"] == pytest.approx(float(share - weight))


# 0 and 100 with a fixed side are refusals or trivial (see the parametrized cases); between
# 5% and 95% the ideal free count is at most 19x the fixed one, so brute force stays small.
mid_weights = st.one_of(
    st.integers(5, 95), st.integers(500, 9500).map(lambda n: Fraction(n, 100)), st.just(0)
)


@SETTINGS
@given(mid_weights, st.integers(0, 15), st.integers(0, 3), st.sampled_from(["old", "new"]))
def test_one_fixed_side_matches_brute_force(weight, fixed, minimum, side):
    weight = Fraction(_as_number(weight))
    kwargs = {f"{side}_replicas": fixed, "min_per_side": minimum}
    free_share = weight / 100 if side == "old" else 1 - weight / 100
    low = max(minimum, 1 if fixed == 0 else 0)
    if fixed < minimum or (fixed > 0 and free_share == 1):
        with pytest.raises(InputError):
            split_replicas(_as_number(weight), **kwargs)
        return
    # The share is monotone in the free count: past the ideal nothing gets nearer,
    # so searching up to a generous bound is exhaustive.
    bound = 40 * (fixed + 1) + low + 2
    frees = range(low, bound)
    candidates = [(fixed, n) if side == "old" else (n, fixed) for n in frees]
    got = split_replicas(_as_number(weight), **kwargs)
    assert (got["old"], got["new"]) == nearest(candidates, weight)
    assert (got["old"] if side == "old" else got["new"]) == fixed


@SETTINGS
@given(weights, st.integers(0, 12), st.integers(0, 12))
def test_both_sides_given_redistribute_their_sum(weight, old, new):
    if old + new == 0:
        with pytest.raises(InputError):
            split_replicas(_as_number(weight), old_replicas=old, new_replicas=new)
        return
    got = split_replicas(_as_number(weight), old_replicas=old, new_replicas=new)
    expected = split_replicas(_as_number(weight), total=old + new)
    assert got == expected
    candidates = [(old + new - n, n) for n in range(old + new + 1)]
    assert (got["old"], got["new"]) == nearest(candidates, Fraction(_as_number(weight)))


@pytest.mark.parametrize(
    ("weight", "total", "old", "new"),
    [
        (10, 10, 9, 1),
        (25, 4, 3, 1),
        (50, 3, 2, 1),  # 1/3 and 2/3 are as near: fewer new pods
        (15, 10, 9, 1),  # 10% and 20% are as near: fewer new pods
        (16, 10, 8, 2),
        (100, 5, 0, 5),
        (0, 5, 5, 0),
    ],
)
def test_hand_computed_splits(weight, total, old, new):
    got = split_replicas(weight, total=total)
    assert (got["old"], got["new"]) == (old, new)


@pytest.mark.parametrize(
    ("kwargs", "old", "new"),
    [
        ({"weight_percent": 100, "old_replicas": 0}, 0, 1),
        ({"weight_percent": 0, "new_replicas": 0}, 1, 0),
        ({"weight_percent": 0, "old_replicas": 4}, 4, 0),
        ({"weight_percent": 0, "old_replicas": 4, "min_per_side": 1}, 4, 1),
        ({"weight_percent": 100, "new_replicas": 3}, 0, 3),
        ({"weight_percent": 20, "old_replicas": 4}, 4, 1),
        ({"weight_percent": 50, "new_replicas": 2, "min_per_side": 3}, None, None),
    ],
)
def test_hand_computed_fixed_sides(kwargs, old, new):
    if old is None:
        with pytest.raises(InputError):
            split_replicas(**kwargs)
        return
    got = split_replicas(**kwargs)
    assert (got["old"], got["new"]) == (old, new)
