"""ACK's service-match / service-weight parser: every refusal at its character (issue 18).

Offsets are 0-based and counted by hand on the annotation text; reasons are written
out as an operator should read them.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.release.ack import (
    parse_service_match,
    parse_service_weight,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    ReleaseRuleError,
)

SERVICES = ["old-web", "new-web"]


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", None, None),  # nothing to parse: no match, no error
        (":", 0, "expected a service name, found ':'"),
        ("new-web", 7, "expected ':' after the service name, found the end of the line"),
        ("new-web: ", 9, "expected a match type (header, cookie or query), found the end of the line"),
        ("new-web: body(", 9, "unknown match type 'body': one of header, cookie, query"),
        ("new-web: header", 15, "expected '(' after header, found the end of the line"),
        ("new-web: header(foo", 16, "expected the header name in double quotes, found 'f'"),
        ('new-web: header("foo"', 21, "expected ',' after the header name, found the end of the line"),
        ('new-web: header("foo", bar)', 23, 'expected a value, "exact" or /regex/, found \'b\''),
        ('new-web: header("foo", ', 23, 'expected a value, "exact" or /regex/, found the end of the line'),
        ('new-web: header("foo", "bar"', 28, "expected ')' to close header(, found the end of the line"),
        ('new-web: header("foo", "bar', 23,
         "unbalanced quote: the header value opened at character 23 is never closed"),
        ('new-web: header("foo", /ba', 23,
         "unbalanced slash: regular expression opened at character 23 is never closed"),
        ('new-web: query("a\\q", "1")', 17, 'unknown escape \\q in the query name (only \\" and \\\\)'),
        ('new-web: header("", "1")', 16, "empty header name"),
        ('other: header("x", "1")', 0,
         "service 'other' is not a backend of this Ingress's host and path (old-web, new-web)"),
        ('new-web: header("x", "1") x', 26, "unexpected 'x' after the match (one match per service)"),
    ],
)  # fmt: skip
def test_service_match_refusals_at_their_character(text, position, reason):
    if reason is None:
        assert parse_service_match(text, SERVICES) == {}
        return
    with pytest.raises(ReleaseRuleError) as exc:
        parse_service_match(text, SERVICES)
    assert (exc.value.position, exc.value.reason) == (position, reason)
    assert exc.value.rule.endswith("service-match")


def test_service_match_with_no_backends_says_none():
    with pytest.raises(ReleaseRuleError) as exc:
        parse_service_match('new-web: header("x", "1")', [])
    assert exc.value.reason == (
        "service 'new-web' is not a backend of this Ingress's host and path (none)"
    )


def test_service_match_reads_escapes_regexes_and_lines():
    # Line 1 is 35 characters, then its newline and an empty line: line 3 starts at 37.
    text = 'new-web: header("x-a", /^v\\/1\\.0$/)\n\nold-web:\tcookie( "k" , "a\\"b\\\\c" )'
    got = parse_service_match(text, SERVICES)
    assert got == {
        "new-web": ({"type": "header", "name": "x-a", "value": "^v/1\\.0$", "regex": True}, 0),
        "old-web": ({"type": "cookie", "name": "k", "value": 'a"b\\c', "regex": False}, 37),
    }


def test_a_second_match_for_one_service_is_refused_at_its_line():
    text = 'new-web: header("a", "1")\nnew-web: header("b", "2")'
    with pytest.raises(ReleaseRuleError) as exc:
        parse_service_match(text, SERVICES)
    assert (exc.value.position, exc.value.reason) == (
        26,
        "a second match for service 'new-web' (ACK takes one per service)",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new-web: 20, old-web: 80", {"new-web": 20, "old-web": 80}),
        ("new-web:20,old-web:80", {"new-web": 20, "old-web": 80}),
        ("new-web: 0", {"new-web": 0}),
        ("new-web: 100\n", {"new-web": 100}),
    ],
)
def test_service_weight_values(text, expected):
    assert parse_service_weight(text, SERVICES) == expected


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("new-web 20", 8, "expected ':' after the service name, found '2'"),
        (": 20", 0, "expected a service name, found ':'"),
        ("new-web: x", 9, "weight 'x' for service 'new-web' is not a non-negative integer"),
        ("new-web: -1", 9, "weight '-1' for service 'new-web' is not a non-negative integer"),
    ],
)
def test_service_weight_refusals_at_their_character(text, position, reason):
    with pytest.raises(ReleaseRuleError) as exc:
        parse_service_weight(text, SERVICES)
    assert (exc.value.position, exc.value.reason) == (position, reason)


# --- the upstream canary Ingress -----------------------------------------------------------


def main_ingress():
    def path(service, p="/"):
        return {"path": p, "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"number": 80}}}}  # fmt: skip

    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "web"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {"host": "a.example.com", "http": {"paths": [path("old-web"), path("api"),
                                                             path("old-web", "/v2")]}},
                {"http": {"paths": [path("old-web")]}},
                {"host": "b.example.com", "http": {"paths": [path("api")]}},
            ],
        },
    }  # fmt: skip


def test_the_canary_ingress_copies_every_stable_path_class_and_namespace():
    from ansible_collections.ackops.runbooks.plugins.module_utils.release.upstream import (
        canary_ingress,
    )

    policy = {"stable": "old-web", "canary": "new-web", "weight": 10}
    got = canary_ingress(policy, main_ingress(), port="http")
    assert got["metadata"]["name"] == "shop-canary"
    assert got["metadata"]["namespace"] == "web"
    assert got["spec"]["ingressClassName"] == "nginx"
    canary = {"name": "new-web", "port": {"name": "http"}}
    assert got["spec"]["rules"] == [
        {"host": "a.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": canary}},
            {"path": "/v2", "pathType": "Prefix", "backend": {"service": canary}}]}},
        {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": canary}}]}},
    ]  # fmt: skip
    numbered = canary_ingress(policy, main_ingress(), name="x", port=8080)
    assert numbered["metadata"]["name"] == "x"
    assert numbered["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {
        "number": 8080
    }
    kept = canary_ingress(policy, main_ingress())
    assert kept["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {
        "number": 80
    }
    # The main Ingress is left as it was (the paths are copied, not shared).
    ingress = main_ingress()
    canary_ingress(policy, ingress, port="http")
    assert ingress == main_ingress()
    bare = main_ingress()
    del bare["spec"]["ingressClassName"]
    del bare["metadata"]["namespace"]
    plain = canary_ingress(policy, bare)
    assert "ingressClassName" not in plain["spec"]
    assert "namespace" not in plain["metadata"]
