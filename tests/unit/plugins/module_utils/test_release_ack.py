"""ACK's service-match / service-weight: parse, render, refuse, and the version that drops them."""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.release.ack import (
    SERVICE_MATCH,
    SERVICE_WEIGHT,
    ack_deprecation,
    parse_ack,
    render_ack,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    ReleaseRuleError,
    same_rules,
)
from tests.catalogue import record

SERVICES = ["old-nginx", "new-nginx"]


def header(name, value, regex=False):
    return {"type": "header", "name": name, "value": value, "regex": regex}


def test_guide_example_match_and_weight():
    policy = parse_ack(
        {
            SERVICE_MATCH: 'new-nginx: header("foo", /^bar$/)\n',
            SERVICE_WEIGHT: "new-nginx: 20, old-nginx: 60\n",
        },
        SERVICES,
    )
    assert policy == {
        "stable": "old-nginx",
        "canary": "new-nginx",
        "matches": [header("foo", "^bar$", regex=True)],
        "weight": 20,
        "weight_total": 80,
    }


def test_exact_cookie_and_query_and_no_weight():
    policy = parse_ack({SERVICE_MATCH: 'new-nginx: cookie("user", "beta")'}, SERVICES)
    assert policy["matches"] == [
        {"type": "cookie", "name": "user", "value": "beta", "regex": False}
    ]
    assert policy["weight"] is None  # every matched request goes to new-nginx
    policy = parse_ack({SERVICE_MATCH: 'new-nginx:query("lang",/^zh/)'}, SERVICES)
    assert policy["matches"] == [{"type": "query", "name": "lang", "value": "^zh", "regex": True}]


def test_unlisted_service_weighs_100():
    # Guide: default weight 100 for services of the same host and path.
    policy = parse_ack({SERVICE_WEIGHT: "new-nginx: 20"}, SERVICES, stable="old-nginx")
    assert (policy["weight"], policy["weight_total"]) == (20, 120)
    policy = parse_ack({}, SERVICES, stable="old-nginx")
    assert (policy["weight"], policy["weight_total"]) == (100, 200)


def test_weights_on_separate_lines():
    policy = parse_ack(
        {SERVICE_WEIGHT: "new-nginx: 1\nold-nginx: 3\n"}, SERVICES, stable="old-nginx"
    )
    assert (policy["weight"], policy["weight_total"]) == (1, 4)


def test_escapes_in_strings_and_regexes():
    text = r'new-nginx: header("x-say", "a \"quoted\" \\ word")'
    assert parse_ack({SERVICE_MATCH: text}, SERVICES)["matches"][0]["value"] == 'a "quoted" \\ word'
    text = r'new-nginx: header("x-path", /^\/api\/v2\d/)'
    assert parse_ack({SERVICE_MATCH: text}, SERVICES)["matches"][0]["value"] == r"^/api/v2\d"


@pytest.mark.parametrize(
    "annotations",
    [
        {
            SERVICE_MATCH: 'new-nginx: header("foo", /^bar$/)',
            SERVICE_WEIGHT: "new-nginx: 20, old-nginx: 60",
        },
        {SERVICE_MATCH: 'new-nginx: header("foo", "bar")'},
        {SERVICE_MATCH: 'new-nginx: cookie("u", /a\\/b/)'},
        {
            SERVICE_MATCH: r'new-nginx: query("q", "say \"hi\"")',
            SERVICE_WEIGHT: "new-nginx: 0, old-nginx: 100",
        },
        {SERVICE_WEIGHT: "new-nginx: 25, old-nginx: 75"},
    ],
)
def test_render_parses_back_to_the_same_rule(annotations):
    policy = parse_ack(annotations, SERVICES, stable="old-nginx")
    rendered = render_ack(policy)
    assert parse_ack(rendered, SERVICES, stable="old-nginx") == policy
    assert same_rules(parse_ack(rendered, SERVICES, stable="old-nginx"), policy)


def test_render_text():
    policy = {
        "stable": "old-nginx",
        "canary": "new-nginx",
        "matches": [header("foo", "^b/ar$", regex=True)],
        "weight": 20,
        "weight_total": 80,
    }
    assert render_ack(policy) == {
        SERVICE_MATCH: 'new-nginx: header("foo", /^b\\/ar$/)',
        SERVICE_WEIGHT: "new-nginx: 20, old-nginx: 60",
    }
    assert render_ack({"stable": "old-nginx", "canary": "new-nginx", "weight": 10}) == {
        SERVICE_WEIGHT: "new-nginx: 10, old-nginx: 90"
    }


def test_several_matches_refused_or_lost():
    policy = {
        "stable": "old-nginx",
        "canary": "new-nginx",
        "matches": [header("a", "1"), {"type": "query", "name": "b", "value": "2", "regex": False}],
    }
    with pytest.raises(ReleaseRuleError, match="one match per service"):
        render_ack(policy)
    losses = []
    annotations = render_ack(policy, losses)
    # Keeping one of two ANDed matches would send the canary more than asked: it gets nothing.
    assert annotations == {SERVICE_WEIGHT: "new-nginx: 0, old-nginx: 100"}
    assert len(losses) == 1
    assert 'query("b", "2")' in losses[0]


M, W = SERVICE_MATCH, SERVICE_WEIGHT
MALFORMED = [
    # (annotations, stable, rule, position, reason fragment)
    ({M: 'new-nginx: header("foo", /^(bar$/)'}, None, M, 25, "bad regular expression"),
    ({M: 'new-nginx: header("foo", /[a-/)'}, None, M, 25, "bad regular expression"),
    ({M: 'new-nginx: header("foo", /^bar$)'}, None, M, 25, "unbalanced slash"),
    ({M: 'new-nginx: header("foo", "bar)'}, None, M, 25, "unbalanced quote"),
    ({M: 'new-nginx: header("foo, bar)'}, None, M, 18, "unbalanced quote"),
    ({M: 'new-nginx: header(foo, "bar")'}, None, M, 18, "double quotes"),
    ({M: 'new-nginx: hdr("foo", "bar")'}, None, M, 11, "unknown match type 'hdr'"),
    ({M: 'new-nginx: path("foo", "bar")'}, None, M, 11, "unknown match type 'path'"),
    ({M: 'blue: header("foo", "bar")'}, None, M, 0, "not a backend"),
    ({M: 'new-nginx: header("", "bar")'}, None, M, 18, "empty header name"),
    ({M: 'new-nginx: header("foo", "")'}, None, M, 25, "empty value"),
    ({M: 'new-nginx: header("foo", //)'}, None, M, 25, "empty regular expression"),
    ({M: 'new-nginx: header("fo o", "bar")'}, None, M, 18, "cannot hold"),
    (
        {M: 'new-nginx: header("foo", "bar") && cookie("a", "b")'},
        None,
        M,
        32,
        "one match per service",
    ),
    ({M: 'new-nginx header("foo", "bar")'}, None, M, 10, "expected ':'"),
    ({M: 'new-nginx: header("foo" "bar")'}, None, M, 24, "expected ','"),
    ({M: 'new-nginx: header("foo", "bar"'}, None, M, 30, "expected ')'"),
    ({M: 'new-nginx: header("foo", bar)'}, None, M, 25, "expected a value"),
    ({M: r'new-nginx: header("foo", "a\nb")'}, None, M, 27, "unknown escape"),
    ({M: 'new-nginx: header("a", "1")\nnew-nginx: cookie("b", "2")'}, None, M, 28, "second match"),
    ({M: 'new-nginx: header("a", "1")\nold-nginx: cookie("b", "2")'}, None, M, 28, "both backends"),
    ({M: 'new-nginx: header("a", "1")'}, "new-nginx", M, 0, "given as the stable"),
    ({W: "new-nginx: 20.5, old-nginx: 60"}, "old-nginx", W, 11, "not a non-negative integer"),
    ({W: "new-nginx: twenty"}, "old-nginx", W, 11, "not a non-negative integer"),
    ({W: "new-nginx: -5"}, "old-nginx", W, 11, "not a non-negative integer"),
    ({W: "new-nginx: , old-nginx: 60"}, "old-nginx", W, 11, "no weight"),
    ({W: "new-nginx 20"}, "old-nginx", W, 10, "expected ':'"),
    ({W: "new-nginx: 20,, old-nginx: 60"}, "old-nginx", W, 14, "empty entry"),
    ({W: "new-nginx: 0, old-nginx: 0"}, "old-nginx", W, 0, "every weight is 0"),
    ({W: "blue: 20"}, "old-nginx", W, 0, "not a backend"),
    ({W: "new-nginx: 20, new-nginx: 30"}, "old-nginx", W, 15, "second weight"),
    ({W: "new-nginx: 20"}, None, M, None, "say which backend is the stable"),
    ({M: 42}, None, M, None, "must be a string"),
]


@pytest.mark.parametrize(("annotations", "stable", "rule", "position", "reason"), MALFORMED)
def test_malformed_rules_are_refused(annotations, stable, rule, position, reason):
    with pytest.raises(ReleaseRuleError) as info:
        parse_ack(annotations, SERVICES, stable=stable)
    error = info.value
    assert isinstance(error, RunbookError)
    assert (error.rule, error.position) == (rule, position)
    assert reason in error.reason
    # The message a person reads names all three.
    assert rule in str(error)
    assert reason in str(error)
    if position is not None:
        assert f"at character {position}" in str(error)
    assert error.as_error()["details"]["rule"] == rule
    record("release", "release rule", {"ack annotations": annotations, "stable": stable},
           str(error), "parse_ack raised ReleaseRuleError: no rule returned")  # fmt: skip


@pytest.mark.parametrize(
    "services",
    [
        ["old-nginx"],
        ["old-nginx", "new-nginx", "third"],
        ["Old_Nginx", "new-nginx"],
        ["", "new-nginx"],
    ],
)
def test_backends_must_be_two_service_names(services):
    with pytest.raises(ReleaseRuleError):
        parse_ack({M: 'new-nginx: header("a", "1")'}, services)


@pytest.mark.parametrize(
    ("version", "fragment"),
    [
        ("v1.12.0-aliyun.1", "no longer available"),
        ("v1.13.2-aliyun.1", "no longer available"),
        ("v1.11.5-aliyun.1", None),
        ("v1.2.1-aliyun.1", None),
        ("0.44.0.5-8e7c6dc-aliyun", None),
        ("0.12.0-5", None),
        ("0.12.0-4", "not there yet"),
        ("0.11.0", "not there yet"),
        ("latest", "cannot tell"),
    ],
)
def test_deprecation_by_controller_version(version, fragment):
    found = ack_deprecation(version)
    if fragment is None:
        assert found is None
    else:
        assert fragment in found
        assert version in found


def test_deprecation_version_is_a_parameter():
    assert ack_deprecation("v1.11.5-aliyun.1", removed_in="1.10.0") is not None
    assert ack_deprecation("v1.12.0-aliyun.1", removed_in="2.0.0") is None
