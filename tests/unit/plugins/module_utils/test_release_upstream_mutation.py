"""ingress-nginx canary annotations: the losses word for word, which annotation a refusal
names, the canary Ingress's losses (issue 18 kill tests for release/upstream.py).

ingress-nginx's canary rules: canary-by-header (with -value or -pattern), then
canary-by-cookie ("always"/"never"), then canary-weight out of canary-weight-total
(default 100); a request goes to canary when the first rule that applies says so.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.release import upstream as nginx
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    ReleaseRuleError,
)
from tests.unit.plugins.module_utils.test_release_translate import m, policy

LOST = "; rendered with no traffic to canary"


def parse_refused(annotations, stable="old-web", canary="new-web") -> ReleaseRuleError:
    with pytest.raises(ReleaseRuleError) as info:
        nginx.parse_upstream(annotations, stable, canary)
    return info.value


def test_parsing_losses_word_for_word_and_the_annotation_a_strict_parse_names():
    both = {
        nginx.CANARY: "true",
        nginx.BY_HEADER: "x-canary",
        nginx.BY_COOKIE: "beta",
        nginx.WEIGHT: "10",
    }
    losses = []
    nginx.parse_upstream(both, "old-web", "new-web", losses)
    assert losses == [
        "ingress-nginx sends a request to canary when the header rule OR the cookie rule says "
        'so; the policy ANDs its matches, so only header("x-canary", "always") is kept and '
        'cookie("beta", "always") is dropped',
        "ingress-nginx sends 10/100 of the requests no header/cookie rule decided to canary; "
        "the policy sends unmatched requests to stable, so that weight is dropped",
    ]
    assert parse_refused(both).rule == nginx.BY_COOKIE
    assert (
        parse_refused({nginx.CANARY: "true", nginx.BY_COOKIE: "beta", nginx.WEIGHT: "10"}).rule
        == nginx.WEIGHT
    )


@pytest.mark.parametrize(("stable", "canary", "rule"), [("Old", "new-web", "stable"), ("old-web", "", "canary")])  # fmt: skip
def test_a_bad_service_is_named_as_stable_or_canary(stable, canary, rule):
    assert parse_refused({nginx.CANARY: "true"}, stable, canary).rule == rule


def test_a_disabled_canary_lists_what_is_configured_but_not_enabled():
    error = parse_refused({nginx.CANARY: "false", nginx.WEIGHT: "10", nginx.BY_HEADER: "x"})
    assert error.reason == (
        f'is not "true": this is not a canary Ingress and {nginx.BY_HEADER}, {nginx.WEIGHT} are configured '
        "but not enabled"
    )
    assert parse_refused({}).reason == 'is not "true": this is not a canary Ingress'


def test_a_total_of_exactly_100_is_accepted():
    found = nginx.parse_upstream(
        {nginx.CANARY: "true", nginx.WEIGHT: "10", nginx.WEIGHT_TOTAL: "100"}, "old-web", "new-web"
    )
    assert (found["weight"], found["weight_total"]) == (10, 100)


@pytest.mark.parametrize(
    ("annotations", "rule"),
    [
        ({nginx.BY_HEADER_VALUE: "on"}, nginx.BY_HEADER_VALUE),
        ({nginx.BY_HEADER_PATTERN: "^on$"}, nginx.BY_HEADER_PATTERN),
    ],
)
def test_a_header_value_or_pattern_without_the_header_is_named(annotations, rule):
    error = parse_refused({nginx.CANARY: "true", **annotations})
    assert (error.rule, error.reason) == (rule, f"has no effect without {nginx.BY_HEADER}")


@pytest.mark.parametrize("bad", [True, 10.0, ["10"]])
def test_a_weight_that_is_no_integer_text_is_refused(bad):
    assert parse_refused({nginx.CANARY: "true", nginx.WEIGHT: bad}).rule == nginx.WEIGHT


def test_rendering_losses_word_for_word_and_named_policy():
    losses = []
    two = policy([m("header", "x-a", "1"), m("cookie", "c", "always")], weight=10)
    assert nginx.render_upstream(two, losses) == {nginx.CANARY: "true", nginx.WEIGHT: "0"}
    assert losses == [
        "ingress-nginx takes one header and one cookie rule and ORs them; the policy's 2 "
        'matches (header("x-a", "1"), cookie("c", "always")) must all hold' + LOST,
        "10/100 of the matched requests: ingress-nginx sends every matched request to canary "
        "(its weight applies to the unmatched ones)" + LOST,
    ]
    losses = []
    nginx.render_upstream(policy([m("cookie", "user", "beta")]), losses)
    assert losses == [
        'cookie("user", "beta"): canary-by-cookie only routes on the value "always" (and '
        '"never"), not on a chosen value or a pattern' + LOST
    ]
    with pytest.raises(ReleaseRuleError) as info:
        nginx.render_upstream(two)
    assert info.value.rule == "policy"


def test_the_canary_ingress_records_its_losses_instead_of_refusing():
    main = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"rules": [{"host": "web.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": "old-web", "port": {"number": 80}}}}]}}]},
    }  # fmt: skip
    losses = []
    ingress = nginx.canary_ingress(policy([m("cookie", "user", "beta")]), main, losses=losses)
    assert ingress["metadata"]["name"] == "web-canary"
    assert ingress["metadata"]["annotations"] == {nginx.CANARY: "true", nginx.WEIGHT: "0"}
    assert len(losses) == 1
    with pytest.raises(ReleaseRuleError):
        nginx.canary_ingress(policy([m("cookie", "user", "beta")]), main)
