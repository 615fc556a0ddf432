"""split_replicas against a brute-force oracle that tries every replica count."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.release.split import split_replicas

# The oracle searches the free side up to this many pods: far beyond any answer below.
SEARCH = 1000


def oracle_total(weight, total, minimum):
    """Every new count from 0 to total; nearest share, ties to fewer new pods."""
    wanted = Fraction(str(weight)) / 100
    options = [(total - n, n) for n in range(total + 1) if n >= minimum and total - n >= minimum]
    return min(options, key=lambda c: (abs(Fraction(c[1], total) - wanted), c[1]))


def oracle_fixed(weight, minimum, old=None, new=None):
    """Every count of the free side up to SEARCH; ties to fewer new pods, then fewer pods."""
    wanted = Fraction(str(weight)) / 100
    options = []
    for free in range(SEARCH):
        pair = (old, free) if old is not None else (free, new)
        if free < minimum or sum(pair) == 0:
            continue
        options.append(pair)
    return min(options, key=lambda c: (abs(Fraction(c[1], sum(c)) - wanted), c[1], sum(c)))


def check(result, pair, weight):
    old, new = pair
    assert (result["old"], result["new"]) == (old, new)
    achieved = 100 * new / (old + new)
    assert result["achieved_weight"] == pytest.approx(achieved)
    assert result["error"] == pytest.approx(achieved - float(weight))


WEIGHTS = [0, 1, 5, 10, 12.5, 20, 25, 33, 33.3, 50, 66.7, 75, 80, 90, 99, 100]


@pytest.mark.parametrize("total", [1, 2, 3, 4, 5, 7, 10, 13, 20, 37])
@pytest.mark.parametrize("minimum", [0, 1, 2])
@pytest.mark.parametrize("weight", WEIGHTS)
def test_total_matches_oracle(weight, total, minimum):
    if total < 2 * minimum:
        with pytest.raises(InputError, match="min_per_side"):
            split_replicas(weight, total=total, min_per_side=minimum)
        return
    check(
        split_replicas(weight, total=total, min_per_side=minimum),
        oracle_total(weight, total, minimum),
        weight,
    )


@pytest.mark.parametrize("fixed", [0, 1, 2, 3, 4, 5, 9])
@pytest.mark.parametrize("minimum", [0, 1, 2])
@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("side", ["old", "new"])
def test_fixed_side_matches_oracle(side, weight, minimum, fixed):
    kwargs = {f"{side}_replicas": fixed}
    free_share_all = (side == "old" and weight == 100) or (side == "new" and weight == 0)
    if fixed < minimum:
        with pytest.raises(InputError, match="below min_per_side"):
            split_replicas(weight, min_per_side=minimum, **kwargs)
        return
    if fixed > 0 and free_share_all:
        with pytest.raises(InputError, match="cannot be reached"):
            split_replicas(weight, min_per_side=minimum, **kwargs)
        return
    expected = oracle_fixed(weight, minimum, **{side: fixed})
    check(split_replicas(weight, min_per_side=minimum, **kwargs), expected, weight)


@pytest.mark.parametrize(("old", "new"), [(1, 1), (4, 1), (3, 3), (0, 5), (7, 2)])
@pytest.mark.parametrize("weight", [0, 20, 50, 80, 100])
def test_both_sides_keep_their_sum(old, new, weight):
    check(
        split_replicas(weight, old_replicas=old, new_replicas=new),
        oracle_total(weight, old + new, 0),
        weight,
    )


def test_guide_examples():
    # ACK-GUIDE section 5: 1:1 is about half, 4 new : 1 old about 80 %.
    assert split_replicas(50, total=2) == {
        "old": 1,
        "new": 1,
        "achieved_weight": 50.0,
        "error": 0.0,
    }
    assert split_replicas(80, total=5) == {
        "old": 1,
        "new": 4,
        "achieved_weight": 80.0,
        "error": 0.0,
    }


def test_numeric_strings_are_accepted():
    assert split_replicas("20", total="5")["new"] == 1


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((101,), {"total": 4}, "weight_percent"),
        ((-1,), {"total": 4}, "weight_percent"),
        (("lots",), {"total": 4}, "weight_percent"),
        ((50,), {"total": 0}, "total"),
        ((50,), {"total": -3}, "total"),
        ((50,), {"total": 2.5}, "total"),
        ((50,), {"total": True}, "total"),
        ((50,), {"total": 3, "min_per_side": 2}, "total"),
        ((50,), {"total": 4, "old_replicas": 2}, "total"),
        ((50,), {}, "total"),
        ((50,), {"old_replicas": 1, "min_per_side": 2}, "old_replicas"),
        ((50,), {"old_replicas": -1}, "old_replicas"),
        ((100,), {"old_replicas": 2}, "weight_percent"),
        ((0,), {"new_replicas": 2}, "weight_percent"),
        ((50,), {"total": 4, "min_per_side": -1}, "min_per_side"),
    ],
)
def test_impossible_requests_are_refused(args, kwargs, field):
    with pytest.raises(InputError) as info:
        split_replicas(*args, **kwargs)
    assert info.value.field == field
