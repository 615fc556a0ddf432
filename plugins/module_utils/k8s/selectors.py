# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes label selectors, evaluated as the API server evaluates them.

One implementation for every runbook (the workload audit, ingress-ha's
PodDisruptionBudget checks). ``matches`` follows metav1.LabelSelector: a null
selector selects nothing, an empty one (``{}``) everything, as policy/v1
PodDisruptionBudgets and NetworkPolicy podSelectors use it; callers whose
objects give ``{}`` another meaning pass ``empty_matches_all=False``. A
malformed selector (wrong types, an unknown operator) selects nothing rather
than everything.
"""

from __future__ import annotations

from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def matches(selector: Any, labels: dict, empty_matches_all: bool = True) -> bool:
    """Whether ``selector`` (matchLabels and matchExpressions) selects ``labels``."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return False
    if not match_labels and not expressions:
        return empty_matches_all
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    for expr in expressions:
        if not isinstance(expr, dict):
            return False
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if not isinstance(key, str) or not isinstance(values, list) or op not in OPERATORS:
            return False
        present = key in labels
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and present and labels[key] in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True
