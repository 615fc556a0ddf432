"""Tests written to kill mutants of the certificate report that the suite let through.

Expected rows, counts and Markdown are written out by hand from the input
certificates and a fixed clock.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.cert_report import (
    ReportError,
    build_report,
    classify,
)

NOW = dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.UTC)


def cert(name, not_after, **extra):
    return {
        "id": f"{name}-id",
        "name": name,
        "kind": "leaf",
        "storage": "file",
        "path": f"/etc/kubernetes/pki/{name}.crt",
        "subject": f"CN={name}",
        "serial": "0a1b",
        "not_after": not_after,
        "residual_time": "10d",
        "chains_to": "ca",
        "key_matches": True,
        **extra,
    }


def test_every_row_field_comes_from_its_certificate():
    report = build_report(
        {"m1": {"certificates": [cert("apiserver", "2026-12-14T23:59:00Z")]}}, now=NOW
    )
    assert report["certificates"] == [
        {
            "host": "m1",
            "id": "apiserver-id",
            "name": "apiserver",
            "kind": "leaf",
            "storage": "file",
            "path": "/etc/kubernetes/pki/apiserver.crt",
            "subject": "CN=apiserver",
            "serial": "0a1b",
            "not_after": "2026-12-14T23:59:00Z",
            "expires": "Dec 14, 2026 23:59 UTC",
            "residual_time": "10d",
            "days_left": 10,  # 10 days 11h59m
            "chains_to": "ca",
            "key_matches": True,
            "status": "warning",
        }
    ]
    assert report["generated"] == "2026-12-04T12:00:00Z"
    assert report["thresholds"] == {"warning_days": 30, "critical_days": 7}
    assert report["summary"]["total"] == 1
    assert report["summary"]["soonest"]["name"] == "apiserver"


def test_days_left_is_floored_so_an_expired_certificate_is_negative():
    report = build_report({"m1": {"certificates": [cert("old", "2026-12-04T00:00:00Z")]}}, now=NOW)
    row = report["certificates"][0]
    assert (row["days_left"], row["status"]) == (-1, "expired")  # expired 12 hours ago


@pytest.mark.parametrize(
    ("days", "status"),
    [
        (-1, "expired"),
        (0, "expired"),
        (0.5, "critical"),
        (1, "critical"),
        (6.9, "critical"),
        (7, "warning"),
        (29.99, "warning"),
        (30, "ok"),
    ],
)
def test_classify_boundaries(days, status):
    assert classify(days, 30, 7) == status


def test_same_expiry_on_one_host_sorts_by_name_with_no_name_first():
    day = "2027-01-01T00:00:00Z"
    report = build_report(
        {"m1": {"certificates": [cert("b", day), cert("A", day), cert(None, day)]}}, now=NOW
    )
    assert [r["name"] for r in report["certificates"]] == [None, "A", "b"]


def test_an_empty_fleet_is_ok_with_nothing_soonest():
    report = build_report({"m1": {"certificates": []}}, now=NOW)
    assert report["summary"]["worst"] == "ok"
    assert report["summary"]["soonest"] is None
    assert report["summary"]["total"] == 0


def test_without_a_clock_it_uses_the_current_utc_time():
    report = build_report({"m1": {"certificates": [cert("far", "2999-01-01T00:00:00Z")]}})
    assert report["certificates"][0]["status"] == "ok"
    generated = dt.datetime.strptime(report["generated"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(generated.replace(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


@pytest.mark.parametrize(("warning", "critical"), [(0, 0), (7, 7), (1, 0)])
def test_edge_thresholds_are_accepted(warning, critical):
    report = build_report({}, warning_days=warning, critical_days=critical, now=NOW)
    assert report["thresholds"] == {"warning_days": warning, "critical_days": critical}


@pytest.mark.parametrize(
    ("warning", "critical"), [("30", 7), (30, "7"), (30.0, 7), (6, 7), (5, -1)]
)
def test_bad_thresholds_are_refused(warning, critical):
    with pytest.raises(ReportError):
        build_report({}, warning_days=warning, critical_days=critical, now=NOW)


def test_the_markdown_table_exactly():
    report = build_report(
        {"m|1": {"certificates": [cert("etcd", "2026-12-06T12:00:00Z", chains_to=None)]}},
        warning_days=20,
        critical_days=5,
        now=NOW,
    )
    assert report["markdown"] == (
        "Certificates by expiry (warning < 20 days, critical < 5 days)\n"
        "\n"
        "| Host | Certificate | Kind | Expires | Residual | CA | Status | Path |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| m\\|1 | etcd | leaf | Dec 06, 2026 12:00 UTC | 10d |  | critical "
        "| /etc/kubernetes/pki/etcd.crt |\n"
    )
