"""Property tests of the ingress layer against hand-written references.

- ACK version ordering: tags are rendered from known (numbers, build) pairs in the
  forms ACK uses; their order must be the order of those pairs.
- LabelSelector matching: against the Kubernetes semantics table
  (k8s.io/apimachinery labels: In needs the key with a listed value, NotIn holds when
  the key is absent or its value is not listed, Exists/DoesNotExist look at the key
  only, matchLabels are ANDed equalities).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.ack_version import (
    VersionError,
    parse_tag,
    version_gate,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import selects

# bench/mutation.py runs fewer examples per mutant (ACKOPS_HYPOTHESIS_EXAMPLES).
EXAMPLES = int(os.environ.get("ACKOPS_HYPOTHESIS_EXAMPLES", "0"))
SETTINGS = settings(max_examples=EXAMPLES or 200, deadline=None, database=None)

# --- versions -----------------------------------------------------------------

numbers = st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12))
builds = st.integers(0, 30)
# A commit id as ACK prints it: hex with at least one letter (an all-digit field is a build).
commits = st.text("0123456789abcdef", min_size=7, max_size=7).filter(lambda c: not c.isdigit())


@st.composite
def tagged(draw):
    """(reference key, tag) with the tag written in one of ACK's forms."""
    (a, b, c), build = draw(numbers), draw(builds)
    v = draw(st.sampled_from(["", "v"]))
    form = draw(st.sampled_from(["plain", "dash", "aliyun", "fourth", "short"]))
    if form == "plain" or (form == "short" and c != 0):
        return ((a, b, c), 0), f"{v}{a}.{b}.{c}"
    if form == "short":
        return ((a, b, 0), 0), f"{v}{a}.{b}"
    if form == "dash":
        return ((a, b, c), build), f"{v}{a}.{b}.{c}-{build}"
    if form == "aliyun":
        return ((a, b, c), build), f"v{a}.{b}.{c}-aliyun.{build}"
    return ((a, b, c), build), f"{a}.{b}.{c}.{build}-{draw(commits)}-aliyun"


def reference_compare(x, y):
    """-1, 0, 1: numbers first, component by component, then the build."""
    for left, right in [*zip(x[0], y[0], strict=True), (x[1], y[1])]:
        if left != right:
            return -1 if left < right else 1
    return 0


@SETTINGS
@given(tagged(), tagged())
def test_ack_version_order_matches_the_reference(first, second):
    (ref_a, tag_a), (ref_b, tag_b) = first, second
    a, b = parse_tag(tag_a), parse_tag(tag_b)
    expected = reference_compare(ref_a, ref_b)
    assert (a < b, a == b, a > b) == (expected < 0, expected == 0, expected > 0)
    gate = version_gate(f"registry.example.com:5000/acs/nginx-ingress-controller:{tag_a}", tag_b)
    assert gate["supported"] is (expected >= 0)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("0.12.0", "0.12.0-5"),  # semver would say the opposite
        ("v1.2.1-aliyun.1", "v1.2.1-aliyun.2"),
        ("1.9.9-30", "1.10.0"),  # numeric, not lexical
        ("0.44.0.5-8e7c6dc-aliyun", "0.44.0.6-1a2b3c4-aliyun"),
        ("1.2", "1.2.0-1"),
    ],
)
def test_known_pairs(older, newer):
    assert parse_tag(older) < parse_tag(newer)
    assert version_gate(f"x/y:{newer}", older)["supported"] is True
    assert version_gate(f"x/y:{older}", newer)["supported"] is False


@pytest.mark.parametrize(
    "image", ["x/y", "x/y@sha256:" + "a" * 64, "registry:5000/x/y", "x/y:latest"]
)
def test_no_version_is_unknown_not_supported(image):
    gate = version_gate(image, "1.2.0")
    assert gate["supported"] is None
    assert gate["version"] is None


def test_a_tag_without_a_version_is_refused():
    with pytest.raises(VersionError):
        parse_tag("latest")


# --- label selectors ----------------------------------------------------------

KEYS = ["app", "tier", "env"]
VALUES = ["a", "b", "c"]
label_sets = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)
expressions = st.lists(
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(KEYS),
            "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
            "values": st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True),
        }
    ),
    max_size=3,
)


def k8s_requirement(op, present, value, values):
    """The table of k8s.io/apimachinery/pkg/labels Requirement.Matches."""
    table = {
        "In": present and value in values,
        "NotIn": (not present) or value not in values,
        "Exists": present,
        "DoesNotExist": not present,
    }
    return table[op]


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2),
    expressions,
    label_sets,
)
def test_selects_matches_the_kubernetes_table(match_labels, exprs, labels):
    selector = {"matchLabels": match_labels, "matchExpressions": exprs}
    for expr in exprs:
        if expr["operator"] in ("Exists", "DoesNotExist"):
            expr["values"] = []  # the API requires no values for these
    expected = all(k in labels and labels[k] == v for k, v in match_labels.items()) and all(
        k8s_requirement(e["operator"], e["key"] in labels, labels.get(e["key"]), e["values"])
        for e in exprs
    )
    # An empty selector selects everything (policy/v1 PodDisruptionBudget semantics).
    assert selects(selector, labels) is expected


def test_a_null_selector_selects_nothing_and_an_empty_one_everything():
    assert selects(None, {"app": "a"}) is False
    assert selects({}, {"app": "a"}) is True
    assert selects({}, {}) is True


@pytest.mark.parametrize(
    ("op", "labels", "expected"),
    [
        ("NotIn", {}, True),  # absent key: NotIn holds
        ("NotIn", {"tier": "a"}, False),
        ("NotIn", {"tier": "b"}, True),
        ("Exists", {}, False),
        ("Exists", {"tier": "z"}, True),
        ("DoesNotExist", {}, True),
        ("DoesNotExist", {"tier": "z"}, False),
        ("In", {}, False),
        ("In", {"tier": "a"}, True),
    ],
)
def test_each_operator_row(op, labels, expected):
    values = ["a"] if op in ("In", "NotIn") else []
    selector = {"matchExpressions": [{"key": "tier", "operator": op, "values": values}]}
    assert selects(selector, labels) is expected


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2),
    expressions,
    label_sets,
    st.booleans(),
)
def test_the_shared_k8s_evaluator_matches_the_table(match_labels, exprs, labels, empty_all):
    # The one evaluator in the access layer (k8s/selectors.py) that ingress and the audit use.
    from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.selectors import matches

    for expr in exprs:
        if expr["operator"] in ("Exists", "DoesNotExist"):
            expr["values"] = []
    expected = all(k in labels and labels[k] == v for k, v in match_labels.items()) and all(
        k8s_requirement(e["operator"], e["key"] in labels, labels.get(e["key"]), e["values"])
        for e in exprs
    )
    if not match_labels and not exprs:
        expected = empty_all
    selector = {"matchLabels": match_labels, "matchExpressions": exprs}
    assert matches(selector, labels, empty_matches_all=empty_all) is expected
