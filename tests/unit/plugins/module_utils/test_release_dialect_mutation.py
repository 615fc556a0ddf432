"""release/dialect.py and the parts of release/ack.py the suite left loose (issue 18).

Every expected value is written out by hand: the dialect an operator must get for a
controller image (ACK builds speak service-match/service-weight from 0.12.0-5 up to,
not including, 1.12.0; canary-* from 0.22.0; other ingress-nginx builds canary-*).
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.release.ack import (
    ack_deprecation,
    ingress_services,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.dialect import (
    choose_dialect,
)

ACK_1_2 = "registry.cn-hangzhou.aliyuncs.com/acs/aliyun-ingress-controller:v1.2.1-aliyun.1"
ACK_1_12 = "registry.cn-hangzhou.aliyuncs.com/acs/aliyun-ingress-controller:v1.12.0-aliyun.1"
ACK_0_20 = "registry.cn-hangzhou.aliyuncs.com/acs/aliyun-ingress-controller:v0.20.0.1-aliyun"
UPSTREAM = "registry.k8s.io/ingress-nginx/controller:v1.9.4"
DEPRECATED_AUTO = (
    "ACK's service-match/service-weight are deprecated (removed in 1.12.0); set the dialect "
    "to upstream to use canary-* instead"
)
DEPRECATED_CHOSEN = (
    "ACK's service-match/service-weight are deprecated (removed in 1.12.0); the canary-* "
    "annotations (upstream) are the supported way"
)


def controller(image):
    return {
        "kind": "Deployment",
        "metadata": {"name": "nginx-ingress-controller", "namespace": "kube-system"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}},
    }


def test_an_ack_build_before_1_12_speaks_ack_by_itself():
    assert choose_dialect(controller(ACK_1_2)) == {
        "dialect": "ack",
        "reason": "ACK controller v1.2.1-aliyun.1 (ACK 1.2.1-1) is at least 0.12.0-5 "
        "(ACK 0.12.0-5) and older than 1.12.0",
        "controller_image": ACK_1_2,
        "version": "1.2.1-1",
        "warnings": [DEPRECATED_AUTO],
    }


@pytest.mark.parametrize("choice", [None, "", "auto"])
def test_no_choice_empty_and_auto_all_decide_from_the_controller(choice):
    assert choose_dialect(controller(ACK_1_2), choice)["dialect"] == "ack"


def test_an_ack_build_from_1_12_on_speaks_upstream():
    got = choose_dialect(controller(ACK_1_12))
    assert got["dialect"] == "upstream"
    assert got["reason"] == (
        "ACK Nginx Ingress Controller v1.12.0-aliyun.1 is 1.12 or newer: "
        "service-match/service-weight are no longer available there (deprecated, removed "
        "in 1.12.0); use the canary-* annotations"
    )
    assert got["warnings"] == []


def test_a_non_ack_controller_speaks_upstream():
    got = choose_dialect(controller(UPSTREAM))
    assert (got["dialect"], got["warnings"]) == ("upstream", [])
    assert got["reason"] == (
        "registry.k8s.io/ingress-nginx/controller:v1.9.4 is not an ACK build: upstream "
        "ingress-nginx canary annotations"
    )


def test_an_ack_build_without_a_version_warns_and_speaks_upstream():
    image = "registry.cn-hangzhou.aliyuncs.com/acs/aliyun-ingress-controller"
    got = choose_dialect(controller(image))
    assert got["dialect"] == "upstream"
    assert got["version"] is None
    assert len(got["warnings"]) == 1
    assert got["warnings"][0].endswith("cannot tell whether it is at least 0.12.0-5")
    assert got["reason"].startswith("ACK controller of unknown version (")
    assert got["reason"].endswith("): canary-* works on every version that has them")


def test_the_inventory_choice_wins_and_says_so():
    got = choose_dialect(controller(ACK_1_2), "ack")
    assert (got["dialect"], got["reason"]) == ("ack", "chosen in the inventory (ack)")
    assert got["warnings"] == [DEPRECATED_CHOSEN]
    got = choose_dialect(controller(ACK_1_2), "upstream")
    assert (got["dialect"], got["reason"], got["warnings"]) == (
        "upstream",
        "chosen in the inventory (upstream)",
        [],
    )
    # No controller in the cluster: the inventory's choice stands alone.
    alone = choose_dialect(None, "gateway")
    assert alone == {
        "dialect": "gateway",
        "reason": "chosen in the inventory (gateway)",
        "controller_image": None,
        "version": None,
        "warnings": [],
    }
    assert choose_dialect(None, "ack")["warnings"] == [DEPRECATED_CHOSEN]


@pytest.mark.parametrize(
    ("image", "choice", "message"),
    [
        (
            UPSTREAM,
            "ack",
            "release_dialect: 'ack' needs ACK's ingress controller; "
            "registry.k8s.io/ingress-nginx/controller:v1.9.4 is not an ACK build (use upstream)",
        ),
        (
            ACK_1_12,
            "ack",
            "release_dialect: 'ack' cannot be used: ACK Nginx Ingress Controller "
            "v1.12.0-aliyun.1 is 1.12 or newer: service-match/service-weight are no longer "
            "available there (deprecated, removed in 1.12.0); use the canary-* annotations",
        ),
        (
            ACK_0_20,
            "upstream",
            "release_dialect: 'upstream' needs ACK's controller 0.22.0 or newer for the "
            f"canary-* annotations; {ACK_0_20} is older (use ack)",
        ),
    ],
)
def test_a_choice_the_controller_cannot_speak_is_refused(image, choice, message):
    with pytest.raises(InputError) as exc:
        choose_dialect(controller(image), choice)
    assert str(exc.value) == message


def test_an_ack_build_of_unknown_version_may_still_be_chosen_ack():
    image = "registry.cn-hangzhou.aliyuncs.com/acs/aliyun-ingress-controller"
    assert choose_dialect(controller(image), "ack")["dialect"] == "ack"


def test_an_ack_build_older_than_the_gray_release_annotations_is_refused():
    image = "registry.cn-hangzhou.aliyuncs.com/acs/aliyun-ingress-controller:v0.11.0-aliyun"
    with pytest.raises(InputError) as exc:
        choose_dialect(controller(image))
    assert str(exc.value).startswith(f"controller: '{image}' is older than 0.12.0-5")


def test_no_controller_and_no_choice_is_refused():
    with pytest.raises(InputError) as exc:
        choose_dialect(None)
    assert str(exc.value).startswith("release_dialect: ")
    assert str(exc.value).endswith(
        "no ingress controller found and no dialect in the inventory: set it (gateway for "
        "Gateway API)"
    )


def test_an_unknown_dialect_is_refused():
    with pytest.raises(InputError) as exc:
        choose_dialect(None, "istio")
    assert str(exc.value) == "release_dialect: 'istio' must be one of ack, upstream, gateway"


def test_ack_deprecation_names_the_major_minor_it_was_removed_in():
    assert ack_deprecation("v1.2.1-aliyun.1") is None
    assert ack_deprecation("v2.0.0-aliyun.1", "1.12.0") == (
        "ACK Nginx Ingress Controller v2.0.0-aliyun.1 is 1.12 or newer: "
        "service-match/service-weight are no longer available there (deprecated, removed in "
        "1.12.0); use the canary-* annotations"
    )


# --- ingress_services ----------------------------------------------------------------------


def test_ingress_services_default_backend_first_each_once():
    ingress = {
        "spec": {
            "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
            "rules": [
                {"http": {"paths": [{"backend": {"service": {"name": "web"}}},
                                    {"backend": {"service": {"name": "fallback"}}}]}},
                {"host": "no-http.example.com"},
                {"http": {"paths": [{"backend": {"resource": {"kind": "Bucket"}}},
                                    {"backend": {"service": {"name": "api"}}}]}},
            ],
        }
    }  # fmt: skip
    assert ingress_services(ingress) == ["fallback", "web", "api"]
    assert ingress_services({"spec": {}}) == []
    assert ingress_services(None) == []


# --- Gateway API limits: HTTPRouteMatch (gateway.networking.k8s.io v1) --------------------
# headers and queryParams: at most 16 entries each; a header value at most 4096
# characters, a query parameter value at most 1024 (the CRD's maxItems / maxLength).

PATH = {"type": "PathPrefix", "value": "/"}


def match(kind, name, value, regex=False):
    return {"type": kind, "name": name, "value": value, "regex": regex}


def route_matches(matches, losses=None):
    from ansible_collections.ackops.runbooks.plugins.module_utils.release.gateway import (
        _route_matches,
    )

    policy = {"stable": "old", "canary": "new", "matches": matches, "weight": None}
    return _route_matches(policy, PATH, losses)


@pytest.mark.parametrize("kind", ["header", "query"])
def test_sixteen_matches_fit_seventeen_do_not(kind):
    sixteen = [match(kind, f"x-{i}", "on") for i in range(16)]
    (got,) = route_matches(sixteen, [])
    key = "headers" if kind == "header" else "queryParams"
    assert len(got[key]) == 16
    losses = []
    assert route_matches([*sixteen, match(kind, "x-16", "on")], losses) is None
    assert losses == ["more than 16 header or query matches; rendered with no traffic to canary"]


def test_value_length_limits_are_4096_for_headers_and_1024_for_queries():
    assert route_matches([match("header", "x", "a" * 4096)], []) is not None
    assert route_matches([match("query", "q", "a" * 1024)], []) is not None
    losses = []
    assert route_matches([match("header", "x", "a" * 4097)], losses) is None
    assert losses == [
        "the x match is longer than Gateway API's 4096 characters; rendered with no traffic "
        "to canary"
    ]
    losses = []
    assert route_matches([match("query", "q", "a" * 1025)], losses) is None
    assert losses == [
        "the q match is longer than Gateway API's 1024 characters; rendered with no traffic "
        "to canary"
    ]


def test_header_names_are_case_insensitive_one_entry_each():
    losses = []
    got = route_matches([match("header", "X-Canary", "on"), match("header", "x-canary", "1")],
                        losses)  # fmt: skip
    assert got is None
    assert losses == [
        'header("x-canary", "1"): a second match on the x-canary header (an HTTPRoute match '
        "holds one entry per header name); rendered with no traffic to canary"
    ]
    # A query parameter of the same name is no second header.
    assert route_matches([match("header", "v", "1"), match("query", "v", "1")], []) is not None


def test_a_regex_match_is_rendered_with_its_caveat_noted():
    losses = []
    (got,) = route_matches([match("header", "x-user", "^vip-", regex=True)], losses)
    assert got == {
        "path": PATH,
        "headers": [{"type": "RegularExpression", "name": "x-user", "value": "^vip-"}],
    }
    assert losses == [
        'header("x-user", /^vip-/): Gateway API leaves RegularExpression to the '
        "implementation (RE2 and whole-value matching on Envoy-based gateways, PCRE search "
        "on nginx)"
    ]
    with pytest.raises(Exception, match="more than 16"):
        route_matches([match("query", f"q{i}", "1") for i in range(17)], None)


def test_escaping_round_trips_and_anchors_by_hand():
    from ansible_collections.ackops.runbooks.plugins.module_utils.release import gateway

    assert gateway._unescape(r"a\.b") == "a.b"
    assert gateway._unescape("a.b") is None  # a bare '.' is regex syntax
    assert gateway._unescape("ab\\") is None  # a trailing lone backslash
    assert gateway._unescape(r"\q") is None  # escapes only regex metacharacters
    assert gateway._ends_with_anchor("abc$") is True
    assert gateway._ends_with_anchor(r"abc\$") is False  # an escaped dollar
    assert gateway._ends_with_anchor(r"abc\\$") is True  # an escaped backslash, then $
    assert gateway._ends_with_anchor("abc") is False
    assert gateway._ends_with_anchor("$") is True


# --- policy checks: what a policy may hold, each refusal written out -------------------------


def policy_error(policy):
    from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
        ReleaseRuleError,
        check_policy,
    )

    with pytest.raises(ReleaseRuleError) as exc:
        check_policy(policy)
    return exc.value


BASE = {"stable": "old-web", "canary": "new-web"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"colour": "x"}, "policy: unknown keys ['colour']"),
        ({"matches": [{"type": "header", "name": "x", "value": "1", "why": 1}]},
         "policy: at matches[0]: unknown keys ['why']"),
        ({"matches": [{"type": "cookie", "name": "a b", "value": "1"}]},
         "policy: at matches[0]: cookie name 'a b' has characters a cookie name cannot hold"),
        ({"matches": [{"type": "query", "name": "a b", "value": "1"}]},
         "policy: at matches[0]: query parameter name 'a b' holds white space"),
        ({"matches": [{"type": "query", "name": "a\x1fb", "value": "1"}]},
         "policy: at matches[0]: query parameter name 'a\\x1fb' holds white space"),
        ({"matches": [{"type": "header", "name": "x", "value": "a\x01"}]},
         "policy: at matches[0]: value for header 'x' holds a control character"),
        ({"matches": [{"type": "header", "name": "x", "value": "(", "regex": True}]},
         "policy: at matches[0]: bad regular expression '(': missing ), unterminated "
         "subpattern (at 0 in the pattern)"),
        ({"canary": "New_Web"},
         "policy: at canary: 'New_Web' is not a Service name (lower-case RFC 1035 label, at "
         "most 63)"),
    ],
)  # fmt: skip
def test_policy_refusals_word_for_word(extra, message):
    error = policy_error({**BASE, **extra})
    assert str(error) == message
    assert set(error.details) >= {"rule", "position", "reason"}
    assert error.details["rule"] == "policy"


def test_a_query_name_may_hold_what_a_header_name_may_not_and_tabs_are_values():
    from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
        check_policy,
    )

    got = check_policy({**BASE, "matches": [
        {"type": "query", "name": "a:b", "value": "x\ty"},  # ':' is no header token character
    ]})  # fmt: skip
    assert got["matches"] == [{"type": "query", "name": "a:b", "value": "x\ty", "regex": False}]
    assert got["weight"] is None
    assert got["weight_total"] == 100


def test_same_rules_by_hand():
    from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
        same_rules,
    )

    hdr = {"type": "header", "name": "X-Canary", "value": "on"}
    a = {**BASE, "matches": [hdr], "weight": 20, "weight_total": 80}
    assert same_rules(a, {**BASE, "matches": [{**hdr, "name": "x-canary"}], "weight": 25})
    assert not same_rules(a, {"stable": "other", "canary": "new-web", "matches": [hdr],
                              "weight": 25})  # fmt: skip
    assert not same_rules(a, {**BASE, "matches": [], "weight": 25})
    assert not same_rules(a, {**BASE, "matches": [{**hdr, "value": "off"}], "weight": 25})
    assert not same_rules(a, {**BASE, "matches": [hdr], "weight": 26})
