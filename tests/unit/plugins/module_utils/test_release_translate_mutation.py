"""translate(): the stable service, the losses and the error's rule name reach every dialect
(issue 18 kill tests for release/translate.py).

Written by hand from the dialects' documented annotations: ACK's
alb.ingress.kubernetes.io/... service-match / service-weight (one match per service),
ingress-nginx's canary-by-header / canary-by-cookie / canary-weight (tried in that
order: header OR cookie OR weight), Gateway API HTTPRoute weights.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.release.ack import SERVICE_WEIGHT
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    ReleaseRuleError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.translate import translate
from ansible_collections.ackops.runbooks.plugins.module_utils.release.upstream import (
    BY_COOKIE,
    BY_HEADER,
    CANARY,
    WEIGHT,
)
from tests.unit.plugins.module_utils.test_release_translate import m, policy


def backend(name):
    return {"service": {"name": name, "port": {"number": 80}}}


def ingress(annotations):
    paths = [
        {"path": "/", "pathType": "Prefix", "backend": backend("old-web")},
        {"path": "/", "pathType": "Prefix", "backend": backend("new-web")},
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "annotations": annotations},
        "spec": {"rules": [{"http": {"paths": paths}}]},
    }


def weighted_route(old, new):
    refs = [{"name": "old-web", "port": 80, "weight": old}, {"name": "new-web", "port": 80, "weight": new}]  # fmt: skip
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                            "backendRefs": refs}]},
    }  # fmt: skip


def refused(*args, **kwargs) -> ReleaseRuleError:
    with pytest.raises(ReleaseRuleError) as info:
        translate(*args, **kwargs)
    return info.value


@pytest.mark.parametrize(("stable", "canary", "weight"), [("old-web", "new-web", 20), ("new-web", "old-web", 80)])  # fmt: skip
def test_an_ack_ingress_takes_the_stable_service_it_is_given(stable, canary, weight):
    source = ingress({SERVICE_WEIGHT: "new-web: 20, old-web: 80"})
    found, losses = translate(source, "ack", "policy", stable=stable)
    assert (found["stable"], found["canary"], found["weight"], losses) == (
        stable,
        canary,
        weight,
        [],
    )
    # Weights alone do not say which backend is the old one.
    assert refused(source, "ack", "policy").rule


def test_an_httproute_split_takes_the_stable_service_it_is_given():
    found, _losses = translate(weighted_route(1, 1), "gateway", "policy", stable="new-web")
    assert (found["stable"], found["canary"]) == ("new-web", "old-web")
    found, _losses = translate(weighted_route(1, 1), "gateway", "policy", stable="old-web")
    assert (found["stable"], found["canary"]) == ("old-web", "new-web")


def test_losses_of_an_upstream_source_are_reported():
    # ingress-nginx routes header OR cookie OR weight; the policy ANDs: only the header
    # rule is kept (it surely goes to canary), the cookie and the weight are losses.
    source = {
        "annotations": {CANARY: "true", BY_HEADER: "x-canary", BY_COOKIE: "beta", WEIGHT: "10"},
        "stable": "old-web",
        "canary": "new-web",
    }
    found, losses = translate(source, "upstream", "policy")
    assert found["matches"] == [m("header", "x-canary", "always")]
    assert len(losses) == 2
    assert "cookie" in losses[0]
    assert "10/100" in losses[1]
    assert refused(source, "upstream", "policy", strict=True).rule


def test_losses_of_an_ack_target_are_reported():
    two = policy([m("header", "x-a", "1"), m("header", "x-b", "2")])
    result, losses = translate(two, "policy", "ack")
    assert result["annotations"] == {SERVICE_WEIGHT: "new-web: 0, old-web: 100"}
    assert len(losses) == 1
    assert losses[0].startswith("ACK takes one match per service; the policy's 2 matches")
    assert losses[0].endswith("; rendered with no traffic to canary")
    error = refused(two, "policy", "ack", strict=True)
    assert (error.rule, error.position) == ("policy", "matches[1]")


def test_losses_of_a_gateway_source_are_reported():
    # A default rule that already sends traffic to canary beside a match rule: the
    # policy cannot hold it exactly.
    route = weighted_route(1, 1)
    route["spec"]["rules"].append(
        {
            "matches": [{"path": {"type": "PathPrefix", "value": "/"},
                         "headers": [{"name": "x-canary", "value": "on"}]}],
            "backendRefs": [{"name": "new-web", "port": 80}],
        }
    )  # fmt: skip
    found, losses = translate(route, "gateway", "policy", stable="old-web")
    assert losses
    assert found["stable"] == "old-web"
    assert refused(route, "gateway", "policy", stable="old-web", strict=True).rule


def test_a_gateway_target_is_named_after_the_stable_service_by_default():
    route, _losses = translate(policy(weight=10), "policy", "gateway")
    assert route["metadata"]["name"] == "old-web"
    route, _losses = translate(policy(weight=10), "policy", "gateway", route={"name": "web"})
    assert route["metadata"]["name"] == "web"


@pytest.mark.parametrize(
    ("source", "dialect", "reason"),
    [
        ("text", "ack", "the source must be a mapping with annotations, services"),
        ({"annotations": {}}, "ack", "the source lacks services"),
        ({"annotations": {}}, "upstream", "the source lacks stable, canary"),
        (["x"], "upstream", "the source must be a mapping with annotations, stable, canary"),
    ],
)
def test_a_malformed_source_is_named_by_its_dialect(source, dialect, reason):
    error = refused(source, dialect, "policy")
    assert (error.rule, error.position, error.reason) == (dialect, None, reason)


@pytest.mark.parametrize(
    ("source_dialect", "target_dialect", "rule"),
    [("istio", "policy", "source_dialect"), ("policy", "istio", "target_dialect")],
)
def test_an_unknown_dialect_is_named_by_its_argument(source_dialect, target_dialect, rule):
    error = refused(policy(weight=1), source_dialect, target_dialect)
    assert (error.rule, error.reason) == (
        rule,
        "unknown dialect 'istio': one of policy, ack, upstream, gateway",
    )
