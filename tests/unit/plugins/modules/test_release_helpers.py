"""The release steps' pure helpers: Ingress path rewriting, HTTPRoute backend swap, gate judgement."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.release_steps import gates
from ansible_collections.ackops.runbooks.plugins.module_utils.release_steps.traffic import (
    rewrite_paths,
    swap_backend,
)


def path(p: str, service: str) -> dict:
    return {
        "path": p,
        "pathType": "Prefix",
        "backend": {"service": {"name": service, "port": {"number": 80}}},
    }


def ingress(*paths: dict) -> dict:
    return {
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"rules": [{"host": "a.example.com", "http": {"paths": list(paths)}}]},
    }


def served(ing: dict) -> list[tuple[str, str]]:
    return [
        (p["path"], p["backend"]["service"]["name"])
        for rule in ing["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]


# ---- rewrite_paths


def test_both_adds_the_new_backend_next_to_each_stable_path_once():
    ing = ingress(path("/", "v1"), path("/static", "static"), path("/api", "v1"))
    out = rewrite_paths(ing, "v1", "v2", "both")
    assert served(out) == [
        ("/", "v1"),
        ("/", "v2"),
        ("/static", "static"),
        ("/api", "v1"),
        ("/api", "v2"),
    ]
    # run again on its own output: the same (idempotent), and the input is not modified
    assert rewrite_paths(out, "v1", "v2", "both") == out
    assert served(ing) == [("/", "v1"), ("/static", "static"), ("/api", "v1")]


def test_new_sends_every_stable_path_to_the_new_service():
    ing = rewrite_paths(ingress(path("/", "v1"), path("/static", "static")), "v1", "v2", "both")
    out = rewrite_paths(ing, "v1", "v2", "new")
    assert served(out) == [("/", "v2"), ("/static", "static")]
    assert rewrite_paths(out, "v1", "v2", "new") == out


def test_old_drops_the_new_paths():
    ing = rewrite_paths(ingress(path("/", "v1"), path("/static", "static")), "v1", "v2", "both")
    assert served(rewrite_paths(ing, "v1", "v2", "old")) == [("/", "v1"), ("/static", "static")]


def test_rules_without_http_are_kept():
    ing = ingress(path("/", "v1"))
    ing["spec"]["rules"].append({"host": "b.example.com"})
    out = rewrite_paths(ing, "v1", "v2", "new")
    assert out["spec"]["rules"][1] == {"host": "b.example.com"}


# ---- swap_backend


def test_swap_backend_moves_only_the_stable_refs():
    rules = [
        {
            "backendRefs": [
                {"name": "v1", "port": 80, "weight": 80},
                {"name": "v2", "port": 80, "weight": 20},
            ]
        },
        {"backendRefs": [{"name": "static", "port": 80}]},
        {"matches": [{"path": {"type": "PathPrefix", "value": "/x"}}]},
    ]
    before = copy.deepcopy(rules)
    out = swap_backend(rules, "v1", "v2")
    assert [[r["name"] for r in rule.get("backendRefs", [])] for rule in out] == [
        ["v2", "v2"],
        ["static"],
        [],
    ]
    assert out[0]["backendRefs"][0]["weight"] == 80
    assert rules == before


# ---- gate judgement


@pytest.mark.parametrize(
    ("check", "status", "body", "problem"),
    [
        ({}, 200, "", ""),
        ({}, 503, "", "answered 503, expected 200"),
        ({"status": 204}, 200, "", "answered 200, expected 204"),
        ({"body_regex": "^ok"}, 200, "ok\n", ""),
        ({"body_regex": "^ok"}, 200, "fail", "body does not match"),
        ({"max": 0.01}, 200, " 0.002\n", ""),
        ({"max": 0.01}, 200, "0.5", "above the maximum 0.01"),
        ({"min": 10}, 200, "9", "below the minimum 10"),
        ({"min": 10, "max": 20}, 200, "20", ""),
        ({"value_regex": r"ok ([0-9.]+)", "max": 1}, 200, "ok 0.5", ""),
        ({"value_regex": r"ok ([0-9.]+)", "max": 1}, 200, "ok 1.5", "above the maximum"),
        ({"value_regex": r"ok ([0-9.]+)", "max": 1}, 200, "nothing", "no value matching"),
        ({"max": 1}, 200, "NaNo", "is not a number"),
    ],
)
def test_judge(check, status, body, problem):
    found = gates._judge({"url": "http://h/x", **check}, status, body)
    if problem:
        assert problem in found
    else:
        assert found == ""


def test_check_http_retries_then_fails_with_the_last_reason(monkeypatch):
    answers = [(503, ""), (200, "ok 0.9")]
    monkeypatch.setattr(gates, "_fetch", lambda url, headers, timeout: answers.pop(0))
    slept = []
    with pytest.raises(gates.GateError) as err:
        gates.check_http(
            {
                "url": "http://h/m",
                "value_regex": r"ok (\S+)",
                "max": 0.5,
                "retries": 2,
                "interval": 3,
            },
            0,
            "shift",
            sleep=slept.append,
        )
    assert "above the maximum" in str(err.value)
    assert slept == [3.0]
    assert answers == []


def test_check_http_passes_on_a_later_attempt(monkeypatch):
    answers = [OSError("refused"), (200, "")]

    def fetch(url, headers, timeout):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(gates, "_fetch", fetch)
    line = gates.check_http({"url": "http://h/ok", "retries": 2}, 0, "shift", sleep=lambda s: None)
    assert "answered 200" in line


def test_check_http_refuses_a_url_that_is_not_http():
    with pytest.raises(gates.GateError) as err:
        gates.check_http({"url": "file:///etc/passwd"}, 2, "shift")
    assert "http:// or https://" in str(err.value)


# ---- disruption budgets


def pdb(selector, healthy, desired, min_available=None):
    spec = {"selector": selector}
    if min_available is not None:
        spec["minAvailable"] = min_available
    return {
        "metadata": {"name": "b", "namespace": "ns"},
        "spec": spec,
        "status": {"currentHealthy": healthy, "desiredHealthy": desired},
    }


def test_pdb_not_selecting_the_new_pods_is_ignored():
    assert (
        gates.check_pdbs(
            [pdb({"matchLabels": {"version": "v1"}}, 0, 3)], {"version": "v2"}, 1, "shift"
        )
        == []
    )


def test_pdb_unhealthy_or_unsatisfiable_stops_the_step():
    labels = {"app": "web", "version": "v2"}
    with pytest.raises(gates.GateError) as err:
        gates.check_pdbs([pdb({"matchLabels": {"version": "v2"}}, 1, 2)], labels, 4, "shift")
    assert "1 healthy pods, the budget wants 2" in str(err.value)
    with pytest.raises(gates.GateError) as err:
        gates.check_pdbs(
            [pdb({"matchLabels": {"version": "v2"}}, 4, 4, min_available=6)], labels, 4, "shift"
        )
    assert "minAvailable is 6" in str(err.value)
    ok = gates.check_pdbs([pdb({"matchLabels": {"version": "v2"}}, 2, 2)], labels, 4, "shift")
    assert ok == ["disruption budget: PodDisruptionBudget ns/b 2/2 healthy"]


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        (None, False),
        ({}, True),  # policy/v1: an empty selector selects every pod
        ({"matchLabels": {"version": "v2"}}, True),
        (
            {"matchExpressions": [{"key": "version", "operator": "In", "values": ["v2", "v3"]}]},
            True,
        ),
        ({"matchExpressions": [{"key": "version", "operator": "NotIn", "values": ["v2"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "version", "operator": "Bogus", "values": ["v2"]}]}, False),
    ],
)
def test_labels_match(selector, selected):
    assert gates.labels_match(selector, {"app": "web", "version": "v2"}) is selected
