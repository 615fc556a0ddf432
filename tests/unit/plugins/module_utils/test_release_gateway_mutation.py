"""HTTPRoutes read back into a policy, by hand (issue 18 kill tests for release/gateway.py).

Gateway API semantics used as the oracle: a match without a path matches the
PathPrefix "/", a path without a type is a PathPrefix and without a value is "/"; a
backendRef without a weight weighs 1, core Services have the group "" (or "core");
a request takes the rule whose matches it satisfies, else the rule for everything.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.release.gateway import (
    parse_httproute,
    render_httproute,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    ReleaseRuleError,
)
from tests.unit.plugins.module_utils.test_release_translate import m, policy

HEADER = {"headers": [{"name": "x-canary", "value": "on"}]}
ON = [m("header", "x-canary", "on")]


def ref(name, weight=None, **extra):
    return {"name": name, "port": 80, **({} if weight is None else {"weight": weight}), **extra}


def route(*rules):
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"rules": list(rules)},
    }


def default(*refs):
    return {"backendRefs": list(refs)}


def matched(*refs, matches=None):
    return {"matches": matches or [HEADER], "backendRefs": list(refs)}


def refused(source, **kwargs) -> ReleaseRuleError:
    with pytest.raises(ReleaseRuleError) as info:
        parse_httproute(source, **kwargs)
    return info.value


@pytest.mark.parametrize(
    "path",
    [{"value": "/"}, {"type": "PathPrefix"}, {}, None],
    ids=["no-type", "no-value", "empty", "none"],
)
def test_a_path_written_short_is_the_same_prefix_slash(path):
    match = dict(HEADER) if path is None else {**HEADER, "path": path}
    explicit = {"path": {"type": "PathPrefix", "value": "/"}}
    found = parse_httproute(
        route({"matches": [explicit], "backendRefs": [ref("old-web")]}, matched(ref("new-web"), matches=[match]))
    )  # fmt: skip
    assert found == policy(ON)


def test_a_weight_left_out_weighs_one():
    found = parse_httproute(route(default(ref("old-web"), ref("new-web", 1))), stable="old-web")
    assert (found["weight"], found["weight_total"]) == (1, 2)


def test_a_split_of_one_to_nothing_is_a_weight_of_zero():
    found = parse_httproute(route(default(ref("old-web", 1), ref("new-web", 0))), stable="old-web")
    assert (found["weight"], found["weight_total"]) == (0, 1)
    error = refused(route(default(ref("old-web", 0), ref("new-web", 0))), stable="old-web")
    assert (error.position, error.reason) == ("spec.rules[0].backendRefs", "every weight is 0")


def test_the_stable_service_is_the_only_one_the_default_rule_feeds():
    source = route(default(ref("old-web", 1), ref("new-web", 0)), matched(ref("new-web")))
    found = parse_httproute(source)
    assert (found["stable"], found["canary"], found["matches"]) == ("old-web", "new-web", ON)


def test_a_default_rule_feeding_canary_is_a_loss():
    source = route(default(ref("old-web", 9), ref("new-web", 1)), matched(ref("new-web")))
    losses = []
    found = parse_httproute(source, stable="old-web", losses=losses)
    assert losses == [
        "the rule for unmatched requests sends some to canary; the policy sends unmatched "
        "requests to stable, so that share is dropped"
    ]
    assert found == policy(ON)
    error = refused(source, stable="old-web")
    assert (error.rule, error.position) == ("HTTPRoute", "spec.rules[0]")


@pytest.mark.parametrize(
    "rules",
    [
        # two match rules
        (default(ref("old-web")), matched(ref("new-web")),
         matched(ref("new-web"), matches=[{"headers": [{"name": "x-beta", "value": "1"}]}])),
        # one rule with two (ORed) matches
        (default(ref("old-web")),
         matched(ref("new-web"), matches=[HEADER, {"headers": [{"name": "x-beta", "value": "1"}]}])),
    ],
    ids=["two-rules", "two-matches"],
)  # fmt: skip
def test_ored_matches_keep_the_first_and_say_so(rules):
    losses = []
    found = parse_httproute(route(*rules), stable="old-web", losses=losses)
    assert losses == [
        "several match rules or matches (ORed); the policy holds one set of ANDed matches, so "
        "only spec.rules[1].matches[0] is kept"
    ]
    assert found == policy(ON)
    error = refused(route(*rules), stable="old-web")
    assert (error.rule, error.position) == ("HTTPRoute", "spec.rules[1]")


def test_a_match_rule_that_feeds_only_stable_sends_nothing_to_canary():
    source = route(default(ref("old-web", 1), ref("new-web", 0)), matched(ref("old-web")))
    found = parse_httproute(source, stable="old-web")
    assert (found["matches"], found["weight"], found["weight_total"]) == (ON, 0, 1)


def test_a_match_rule_split_evenly():
    source = route(default(ref("old-web")), matched(ref("old-web", 1), ref("new-web", 1)))
    found = parse_httproute(source, stable="old-web")
    assert (found["weight"], found["weight_total"]) == (1, 2)


def test_core_services_by_group_and_nothing_else():
    source = route(default(ref("old-web", group="core"), ref("new-web", 1, group="", kind="Service")))  # fmt: skip
    assert parse_httproute(source, stable="old-web")["weight"] == 1
    error = refused(route(default(ref("old-web", group="example.com"), ref("new-web"))), stable="old-web")  # fmt: skip
    assert (error.position, error.reason) == (
        "spec.rules[0].backendRefs[0]",
        "only Service backends take part in a release",
    )


@pytest.mark.parametrize(
    ("source", "position", "reason"),
    [
        ({"kind": "Service", "apiVersion": "v1"}, None, "not an HTTPRoute"),
        ({**route(), "spec": {"rules": "x"}}, "spec.rules", "no rules"),
        (
            route(
                {"filters": [{"type": "RequestHeaderModifier"}], "backendRefs": [ref("old-web")]}
            ),
            "spec.rules[0].filters",
            "filters are not part of a release rule",
        ),
    ],
)
def test_malformed_routes(source, position, reason):
    error = refused(source, stable="old-web")
    assert (error.rule, error.position, error.reason) == ("HTTPRoute", position, reason)


def test_render_puts_the_hostnames_in_and_refuses_a_bad_path_or_port():
    out = render_httproute(policy(weight=10), "web", hostnames=["web.example.com"])
    assert out["spec"]["hostnames"] == ["web.example.com"]
    for bad in (5, "web"):
        with pytest.raises(ReleaseRuleError) as info:
            render_httproute(policy(weight=10), "web", path=bad)
        assert info.value.rule == "path"
    with pytest.raises(ReleaseRuleError) as info:
        render_httproute(policy(weight=10), "web", port={"old-web": 80})
    assert (info.value.rule, info.value.reason) == ("port", "no port given for service 'new-web'")
    out = render_httproute(policy(weight=10), "web", port={"old-web": 80, "new-web": 8080})
    ports = [r["port"] for r in out["spec"]["rules"][0]["backendRefs"]]
    assert sorted(ports) == [80, 8080]


def test_render_weights_up_to_the_crd_maximum():
    out = render_httproute(policy(weight=1, total=1_000_000), "web")
    weights = sorted(r["weight"] for r in out["spec"]["rules"][0]["backendRefs"])
    assert weights == [1, 999_999]
    with pytest.raises(ReleaseRuleError):
        render_httproute(policy(weight=1, total=1_000_001), "web")
    out = render_httproute(policy(), "web")
    assert sorted(r["weight"] for r in out["spec"]["rules"][0]["backendRefs"]) == [0, 100]


def test_an_exact_slash_beside_a_prefix_slash_is_a_second_path():
    exact = {**HEADER, "path": {"type": "Exact", "value": "/"}}
    error = refused(route(default(ref("old-web")), matched(ref("new-web"), matches=[exact])))
    assert error.position == "spec.rules[1].matches[0].path"


def test_a_policy_gateway_api_cannot_hold_is_refused_as_the_policy_with_every_problem():
    two_cookies_and_a_long_header = policy(
        [m("cookie", "a", "1"), m("cookie", "b", "2"), m("header", "x-long", "v" * 5000)]
    )
    with pytest.raises(ReleaseRuleError) as info:
        render_httproute(two_cookies_and_a_long_header, "web")
    assert info.value.rule == "policy"
    losses = []
    render_httproute(two_cookies_and_a_long_header, "web", losses=losses)
    assert len(losses) == 2
    assert losses[1] == (
        "the x-long match is longer than Gateway API's 4096 characters; rendered with no "
        "traffic to canary"
    )


def test_a_cookie_regex_anchored_at_the_start_matches_right_after_the_name():
    import re

    losses = []
    out = render_httproute(policy([m("cookie", "user", "^beta", regex=True)]), "web", losses=losses)
    (header,) = out["spec"]["rules"][0]["matches"][0]["headers"]
    # Python's re stands in for the gateway's regex engine on this plain pattern.
    assert re.search(header["value"], "a=1; user=beta7")
    assert not re.search(header["value"], "a=1; user=xbeta")
    assert losses == [
        'cookie("user", /^beta/): a cookie regex embedded in a Cookie header regex can match '
        "across the cookie's ';' (its '.' and negated classes are not confined to the value)"
    ]


def test_a_cookie_value_ending_in_an_escaped_character_survives_a_round_trip():
    source = policy([m("cookie", "user", "v1.")])
    assert parse_httproute(render_httproute(source, "web")) == source
