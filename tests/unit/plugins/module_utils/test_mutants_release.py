"""Tests written to kill mutants of the canary split that the suite let through."""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import (
    InputError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.split import (
    split_replicas,
)


def test_whole_floats_are_counts():
    got = split_replicas(25, total=4.0)
    assert (got["old"], got["new"]) == (3, 1)
    got = split_replicas(50, new_replicas=2.0)
    assert (got["old"], got["new"]) == (2, 2)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"new_replicas": -1}, "new_replicas"),
        ({"new_replicas": 1, "min_per_side": 2}, "new_replicas"),
        ({"old_replicas": 1, "min_per_side": 2}, "old_replicas"),
        ({"total": 2.5}, "total"),
    ],
)
def test_errors_name_the_field(kwargs, field):
    with pytest.raises(InputError) as exc:
        split_replicas(50, **kwargs)
    assert exc.value.field == field


def test_a_fixed_new_side_is_named_when_the_weight_cannot_be_reached():
    with pytest.raises(InputError) as exc:
        split_replicas(0, new_replicas=3)
    assert "new_replicas=3" in str(exc.value)
