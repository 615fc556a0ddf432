"""The cert_report filter: sorting, thresholds, input errors."""

from __future__ import annotations

import datetime as dt

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.filter.cert_report import cert_report
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.cert_report import build_report

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def cert(name, days, kind="leaf", key_matches=True):
    not_after = (NOW + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": f"pki:{name}.crt",
        "name": name,
        "kind": kind,
        "not_after": not_after,
        "path": f"/etc/kubernetes/pki/{name}.crt",
        "chains_to": "ca",
        "key_matches": key_matches,
        "residual_time": f"{days}d",
    }


RESULTS = {
    "master2": {"host": "m2", "certificates": [cert("apiserver", 20), cert("ca", 3000, "ca")]},
    "master1": {"host": "m1", "certificates": [cert("apiserver", 5), cert("etcd-peer", 200)]},
    "worker1": {"host": "w1", "certificates": [cert("kubelet.conf", -2, key_matches=False)]},
}


def test_sorted_by_expiry_across_hosts():
    report = build_report(RESULTS, 30, 7, now=NOW)
    order = [(row["host"], row["name"]) for row in report["certificates"]]
    assert order == [
        ("worker1", "kubelet.conf"),
        ("master1", "apiserver"),
        ("master2", "apiserver"),
        ("master1", "etcd-peer"),
        ("master2", "ca"),
    ]


@pytest.mark.parametrize(
    ("days", "status"),
    [
        (-2, "expired"),
        (0, "expired"),
        (5, "critical"),
        (7, "warning"),
        (29, "warning"),
        (30, "ok"),
        (3000, "ok"),
    ],
)
def test_thresholds(days, status):
    report = build_report({"h": {"certificates": [cert("x", days)]}}, 30, 7, now=NOW)
    assert report["certificates"][0]["status"] == status


def test_summary_and_markdown():
    report = build_report(RESULTS, 30, 7, now=NOW)
    summary = report["summary"]
    assert (summary["expired"], summary["critical"], summary["warning"], summary["ok"]) == (
        1,
        1,
        1,
        2,
    )
    assert summary["worst"] == "expired"
    assert summary["hosts"] == 3
    assert summary["key_mismatches"] == ["worker1:pki:kubelet.conf.crt"]
    lines = report["markdown"].splitlines()
    assert lines[2].startswith("| Host | Certificate |")
    assert lines[4].startswith("| worker1 | kubelet.conf | leaf |")
    assert len(lines) == 4 + 5


def test_list_input_uses_each_results_host():
    report = build_report(list(RESULTS.values()), now=NOW)
    assert {row["host"] for row in report["certificates"]} == {"m1", "m2", "w1"}


@pytest.mark.parametrize(
    ("results", "args", "message"),
    [
        ({"h": {"failed": True}}, (), "host h: the result has no 'certificates' list"),
        ([{"certificates": []}], (), "item 0 is not an inventory result with a 'host' key"),
        ("text", (), "expected a dict of host: result or a list of results, got str"),
        (RESULTS, (5, 10), "0 <= critical_days <= warning_days"),
        ({"h": {"certificates": [{"id": "x", "not_after": "soon"}]}}, (), "host h: x: not_after"),
    ],
)
def test_bad_input_is_explained(results, args, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(")):
        cert_report(results, *args)
