"""The renewal decision at its boundaries (issue 18: "the renewal threshold shifted by one day").

A leaf is due when it expires within ``threshold_days`` of now, the limit itself
included; one second later it is not. Expected reasons are written out by hand.
"""

from __future__ import annotations

import datetime as dt

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import Roots, inventory
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew import plan_renewal
from tests.unit.kubeadm_pki_factory import NOW, build_host


def decisions(host, **kwargs):
    plan = plan_renewal(inventory(Roots(**host.roots_kwargs)), now=NOW, **kwargs)
    return (
        {action.entry.name: action.reason for action in plan.renew},
        {item["name"]: item["reason"] for item in plan.skip},
    )


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_leaf_expiring_exactly_at_the_threshold_is_due_one_day_later_is_not(tmp_path):
    # The factory's leaves start a day before NOW: 31 days of validity end at NOW + 30 days.
    host = build_host(tmp_path, leaf_overrides={"apiserver": 31, "front-proxy-client": 32})
    renew, skip = decisions(host, threshold_days=30)
    assert renew["apiserver"] == "expires within 30 days"
    assert skip["front-proxy-client"] == (
        f"valid until {stamp(NOW + dt.timedelta(days=31))}, beyond the 30-day threshold"
    )
    # The same leaves against a 31-day window: both due.
    renew, _skip = decisions(host, threshold_days=31)
    assert renew["front-proxy-client"] == "expires within 31 days"


def test_a_zero_day_threshold_renews_only_what_has_expired(tmp_path):
    host = build_host(tmp_path, leaf_overrides={"apiserver": -1, "front-proxy-client": 2})
    renew, skip = decisions(host, threshold_days=0)
    assert renew["apiserver"] == "expired"
    assert skip["front-proxy-client"].endswith("beyond the 0-day threshold")


def test_force_renews_a_leaf_far_from_expiry_saying_forced(tmp_path):
    host = build_host(tmp_path)
    renew, _skip = decisions(host, threshold_days=30, force=True)
    assert renew["apiserver"] == "forced"
    assert "ca" not in renew  # CAs are never renewed


def test_cas_are_reported_never_renewed(tmp_path):
    host = build_host(tmp_path, leaf_days=5)
    _renew, skip = decisions(host, threshold_days=30)
    assert skip["ca"] == "CA: never renewed, only reported"
