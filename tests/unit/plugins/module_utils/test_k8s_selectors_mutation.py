"""Malformed label selectors select nothing (issue 18: the two survivors of k8s/selectors.py)."""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.selectors import matches


@pytest.mark.parametrize(
    "expressions",
    [
        ["app In (web)"],  # an expression that is not a mapping
        [{"key": 5, "operator": "DoesNotExist"}],  # a key that is not a string
        [{"key": "app", "operator": "In", "values": "web"}],  # values not a list
        [{"key": "app", "operator": "Equals", "values": ["web"]}],  # no such operator
    ],
)
def test_a_malformed_expression_selects_nothing(expressions):
    assert matches({"matchExpressions": expressions}, {"app": "web"}) is False
    # The same labels with a well-formed expression are selected.
    good = [{"key": "app", "operator": "In", "values": ["web"]}]
    assert matches({"matchExpressions": good}, {"app": "web"}) is True
