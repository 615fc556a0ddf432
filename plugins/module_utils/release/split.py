# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Layer-4 canary arithmetic: a target weight to replica counts for the old and new Deployments.

Old and new pods sit behind one Service, so the new version's share of the
traffic is its share of the ready pods: ``new / (old + new)``. From a target
weight, find the replica counts whose share is nearest, under one of these
constraints:

- ``total``: old + new is fixed (for example the capacity you pay for);
- ``old_replicas`` alone: the old side stays as it is, the new side is chosen;
- ``new_replicas`` alone: the new side stays as it is, the old side is chosen;
- ``old_replicas`` and ``new_replicas``: their sum is kept as the total
  (redistribute what runs now).

``min_per_side`` keeps at least that many pods on each side (so neither version
vanishes before ``promote`` / ``rollback``). On a tie the answer with fewer new
pods wins (the cautious side), then the smaller total.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import (
    InputError,
    exact_number,
)


def _count(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InputError(field, value, "must be a whole number, zero or more")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise InputError(field, value, "must be a whole number, zero or more")
    return value


def _result(old: int, new: int, wanted: Fraction) -> dict:
    achieved = Fraction(new, old + new)
    return {
        "old": old,
        "new": new,
        "achieved_weight": float(achieved * 100),
        "error": float((achieved - wanted) * 100),
    }


def _best(candidates: list[tuple[int, int]], wanted: Fraction) -> tuple[int, int]:
    """Nearest share; ties to fewer new pods, then the smaller total."""
    return min(candidates, key=lambda c: (abs(Fraction(c[1], c[0] + c[1]) - wanted), c[1], sum(c)))


def split_replicas(
    weight_percent: Any,
    total: Any = None,
    min_per_side: Any = 0,
    old_replicas: Any = None,
    new_replicas: Any = None,
) -> dict:
    """Replica counts for a target weight (percent of traffic to the new version).

    Returns ``{old, new, achieved_weight, error}``: the counts, the share of
    traffic the new version gets with them (percent) and ``achieved -
    requested`` in percentage points. Raises ``InputError`` for a request that
    cannot be met: a weight outside 0-100, a total too small for the minimum on
    each side, a fixed side below the minimum, a weight of 100 with old pods
    that must stay (or 0 with new pods that must stay), nothing to size from.
    """
    wanted = exact_number("weight_percent", weight_percent)
    if not 0 <= wanted <= 100:
        raise InputError("weight_percent", weight_percent, "must be between 0 and 100")
    wanted /= 100
    minimum = _count("min_per_side", min_per_side)
    old_fixed = None if old_replicas is None else _count("old_replicas", old_replicas)
    new_fixed = None if new_replicas is None else _count("new_replicas", new_replicas)

    if total is not None and (old_fixed is not None or new_fixed is not None):
        raise InputError(
            "total",
            total,
            "cannot be given with old_replicas/new_replicas: give the total, or the side that stays",
        )
    if total is None and old_fixed is not None and new_fixed is not None:
        total = old_fixed + new_fixed
        old_fixed = new_fixed = None

    if total is not None:
        size = _count("total", total)
        if size == 0:
            raise InputError("total", total, "must be at least 1")
        if size < 2 * minimum:
            raise InputError(
                "total", total, f"cannot keep min_per_side={minimum} pods on each side"
            )
        low, high = minimum, size - minimum
        # The nearest counts to wanted * size within [low, high]: floor and ceiling.
        ideal = wanted * size
        picks = {
            min(max(n, low), high)
            for n in (
                ideal.numerator // ideal.denominator,
                -(-ideal.numerator // ideal.denominator),
            )
        }
        old, new = _best([(size - n, n) for n in picks], wanted)
        return _result(old, new, wanted)

    if old_fixed is None and new_fixed is None:
        raise InputError(
            "total", None, "nothing to size from: give total, old_replicas, new_replicas or both"
        )

    # One side stays; the other is free (at least min_per_side, and one pod in all).
    fixed, fixed_field = (
        (old_fixed, "old_replicas") if old_fixed is not None else (new_fixed, "new_replicas")
    )
    if fixed < minimum:
        raise InputError(fixed_field, fixed, f"is below min_per_side={minimum}")
    # The free side's share of the traffic that we want.
    free_share = wanted if fixed_field == "old_replicas" else 1 - wanted
    if fixed > 0 and free_share == 1:
        raise InputError(
            "weight_percent",
            weight_percent,
            f"cannot be reached while {fixed_field}={fixed} stay: only a total without that side "
            "gets there (promote or rollback instead)",
        )
    low = max(minimum, 1 if fixed == 0 else 0)
    if fixed == 0:
        picks = {low}
    else:
        # free / (free + fixed) = share  =>  free = share * fixed / (1 - share)
        ideal = free_share * fixed / (1 - free_share)
        picks = {
            max(n, low)
            for n in (
                ideal.numerator // ideal.denominator,
                -(-ideal.numerator // ideal.denominator),
            )
        }
    if fixed_field == "old_replicas":
        candidates = [(fixed, n) for n in picks]
    else:
        candidates = [(n, fixed) for n in picks]
    old, new = _best(candidates, wanted)
    return _result(old, new, wanted)
