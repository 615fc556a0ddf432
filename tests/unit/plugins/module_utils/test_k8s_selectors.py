"""Label selectors as the API server evaluates them (metav1.LabelSelector semantics).

The expected values are the rules of the Kubernetes documentation ("Labels and
Selectors", and PodDisruptionBudgetSpec.selector), written out by hand.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.selectors import matches

APP = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        (None, APP, False),  # null selects nothing
        ({}, APP, True),  # empty selects everything
        ({"matchLabels": {}}, {}, True),
        ({"matchLabels": {"app": "web"}}, APP, True),
        ({"matchLabels": {"app": "web", "tier": "back"}}, APP, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, APP, True),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}]}, APP, False),
        ({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}, APP, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["api"]}]}, APP, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, APP, False),
        # NotIn also selects objects without the key
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, APP, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, APP, True),
        ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, APP, False),
        ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, APP, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, APP, False),
        # all requirements must hold (AND)
        ({"matchLabels": {"app": "web"},
          "matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}]}, APP, False),
        # malformed selects nothing, never everything
        ({"matchExpressions": [{"key": "app", "operator": "Like", "values": ["w*"]}]}, APP, False),
        ({"matchLabels": ["app", "web"]}, APP, False),
        ("app=web", APP, False),
    ],
)  # fmt: skip
def test_selector_semantics(selector, labels, expected):
    assert matches(selector, labels) is expected


def test_empty_can_be_told_to_select_nothing():
    assert matches({}, APP, empty_matches_all=False) is False
