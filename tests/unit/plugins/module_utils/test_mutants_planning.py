"""Tests written to kill mutants of the CIDR planning that the suite let through.

Expected values are worked out by hand from the address arithmetic (and checked
with ``ipaddress``), never taken from the planner's own tables.
"""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import (
    InputError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    free_cidrs,
    propose,
)


def test_a_one_address_gap_between_used_blocks_is_free():
    # 10.0.0.1 lies between two used /32s: the first free /32 of 10.0.0.0/30.
    used = ["10.0.0.0/32", "10.0.0.2/32"]
    assert free_cidrs(used, 32, 1, ["10.0.0.0/30"]) == ["10.0.0.1/32"]
    assert free_cidrs(used, 32, 2, ["10.0.0.0/30"]) == ["10.0.0.1/32", "10.0.0.3/32"]


def test_adjacent_used_blocks_leave_the_next_aligned_block():
    used = ["10.0.0.0/25", "10.0.0.128/26", "10.0.0.192/27"]
    assert free_cidrs(used, 27, 1, ["10.0.0.0/24"]) == ["10.0.0.224/27"]


def test_one_block_by_default_from_the_private_ranges():
    assert free_cidrs([], 24) == ["10.0.0.0/24"]
    assert free_cidrs(["10.0.0.0/8"], 16) == ["172.16.0.0/16"]


def _field(exc_info):
    return exc_info.value.field


def test_propose_defaults_to_ipv4_pod_16_and_service_20():
    got = propose(None, None)
    assert set(got) == {"pod_cidrs", "service_cidrs"}
    pod, svc = (ipaddress.ip_network(got[k][0]) for k in ("pod_cidrs", "service_cidrs"))
    assert (pod.prefixlen, svc.prefixlen) == (16, 20)
    assert not pod.overlaps(svc)


def test_propose_dual_stack_defaults_and_own_v6_prefixes():
    got = propose({}, {"ip_stack": "dual"})
    v6 = [ipaddress.ip_network(got[k][0]) for k in ("pod_v6_cidrs", "service_v6_cidrs")]
    assert [n.prefixlen for n in v6] == [56, 112]
    assert all(n.subnet_of(ipaddress.ip_network("fd00::/8")) for n in v6)
    got = propose({}, {"ip_stack": "dual", "pod_prefix_v6": 64, "service_prefix_v6": 108})
    assert ipaddress.ip_network(got["pod_v6_cidrs"][0]).prefixlen == 64
    assert ipaddress.ip_network(got["service_v6_cidrs"][0]).prefixlen == 108


def test_propose_uses_the_requested_search_space_for_services_too():
    got = propose({}, {"search_space": ["192.168.0.0/16"], "pod_prefix": 18})
    space = ipaddress.ip_network("192.168.0.0/16")
    for key in ("pod_cidrs", "service_cidrs"):
        assert ipaddress.ip_network(got[key][0]).subnet_of(space)


def test_the_largest_service_cidr_kube_apiserver_accepts():
    # 20 host bits is the limit: /12 is accepted, /11 is not.
    assert (
        ipaddress.ip_network(propose({}, {"service_prefix": 12})["service_cidrs"][0]).prefixlen
        == 12
    )
    with pytest.raises(InputError) as exc:
        propose({}, {"service_prefix": 11})
    assert _field(exc) == "proposals.service_prefix"


def test_a_too_small_ipv6_service_cidr_names_ipv6():
    with pytest.raises(InputError) as exc:
        propose({}, {"ip_stack": "dual", "service_prefix_v6": 126})
    assert _field(exc) == "proposals.service_prefix_v6"
    assert "IPv6" in str(exc.value)


def test_propose_errors_name_their_fields():
    with pytest.raises(InputError) as exc:
        propose({}, "pod_prefix=16")
    assert _field(exc) == "proposals"
    with pytest.raises(InputError) as exc:
        propose({"vpc_cidr": "10.0.0.0/33"}, {})
    assert _field(exc) == "network.vpc_cidr"
    with pytest.raises(InputError) as exc:
        propose({}, {"ip_stack": "ipv7"})
    assert _field(exc) == "proposals.ip_stack"
