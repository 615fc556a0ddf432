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
    capacity_conflicts,
    cidr_list,
    free_cidrs,
    max_nodes,
    overlapping_conflicts,
    parse_cidr,
    plan_blocks,
    propose,
    validate_plan,
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


# ---- max_nodes: kube-controller-manager's per-node blocks, worked out by hand


def test_max_nodes_for_a_16_at_128_pods():
    got = max_nodes("10.0.0.0/16", 128)
    # 128 pods + network + broadcast need 130 addresses: a /24 (256); 256 of them in a /16.
    assert (got["max_nodes"], got["addresses"]) == (512, 65536)
    block = got["node_block"]
    assert (block["prefix"], block["max_pods"], block["max_nodes"]) == (24, 254, 256)
    assert block["fits_pods_per_node"] is True
    assert block["rule"].startswith("smallest per-node block holding 128 pods")


def test_a_block_exactly_full_of_pods_fits():
    block = max_nodes("10.0.0.0/16", 254)["node_block"]
    assert (block["prefix"], block["max_pods"], block["fits_pods_per_node"]) == (24, 254, True)


def test_a_block_as_large_as_the_pod_cidr_holds_one_node():
    got = max_nodes("10.0.0.0/24", 200)
    assert got["max_nodes"] == 1
    assert (got["node_block"]["prefix"], got["node_block"]["max_nodes"]) == (24, 1)


def test_sixteen_bits_between_pod_cidr_and_block_is_allowed_not_clamped():
    got = max_nodes("10.0.0.0/14", 1)  # 3 addresses -> a /30: exactly 16 bits longer
    assert got["node_block"]["prefix"] == 30
    assert got["node_block"]["rule"].startswith("smallest per-node block")
    clamped = max_nodes("10.0.0.0/13", 1)  # 17 bits: clamped to /29
    assert clamped["node_block"]["prefix"] == 29
    assert "longest mask" in clamped["node_block"]["rule"]
    pinned = max_nodes("10.0.0.0/8", 110, 24)
    assert pinned["node_block"]["max_nodes"] == 65536
    assert pinned["node_block"]["rule"] == "per-node block /24 as configured"
    with pytest.raises(InputError) as exc:
        max_nodes("10.0.0.0/8", 110, 25)
    assert _field(exc) == "node_prefix"


def test_ipv6_default_node_mask_allows_a_48():
    got = max_nodes("fd00::/48", 110)
    assert got["node_block"]["prefix"] == 64
    assert got["max_nodes"] == got["node_block"]["max_nodes"] == 65536
    assert "IPv6 default" in got["node_block"]["rule"]
    with pytest.raises(InputError):
        max_nodes("fd00::/47", 110)


def test_a_pinned_32_block_holds_no_pod_and_is_reported():
    got = max_nodes("10.0.0.0/24", 1, 32)
    assert (got["node_block"]["max_pods"], got["node_block"]["fits_pods_per_node"]) == (0, False)
    with pytest.raises(InputError) as exc:
        max_nodes("10.0.0.0/24", 1, 33)
    assert _field(exc) == "node_prefix"
    with pytest.raises(InputError) as exc:
        max_nodes("10.0.0.0/24", 1, 0, field_root="network.clusters[0]")
    assert _field(exc) == "network.clusters[0].node_prefix"


def test_pods_needing_the_whole_address_space_name_a_0_block():
    with pytest.raises(InputError) as exc:
        max_nodes("10.0.0.0/8", 2**32 - 2)
    assert "a /0 block" in str(exc.value)


def test_up_to_32_proposals():
    assert len(free_cidrs([], 24, 32, ["10.0.0.0/16"])) == 32
    with pytest.raises(InputError):
        free_cidrs([], 24, 33, ["10.0.0.0/16"])


def test_a_list_holds_one_cidr_per_family():
    nets = cidr_list("f", ["10.0.0.0/16", "fd00::/56"])
    assert [str(n) for n in nets] == ["10.0.0.0/16", "fd00::/56"]
    assert [str(n) for n in cidr_list("f", "10.0.0.0/16,fd00::/56")] == ["10.0.0.0/16", "fd00::/56"]


def test_an_unnamed_cluster_is_named_by_its_index():
    _vpc, blocks = plan_blocks(
        {"clusters": [{"pod_cidr": "10.0.0.0/16", "service_cidr": "172.16.0.0/20"}]}
    )
    assert {b.cluster for b in blocks if b.role in ("pod", "service")} == {"0"}
    with pytest.raises(InputError) as exc:
        plan_blocks({"clusters": ["a"]})
    assert _field(exc) == "network.clusters[0]"
    with pytest.raises(InputError) as exc:
        plan_blocks({"clusters": [{"network_mode": "calico"}]})
    assert _field(exc) == "network.clusters[0].network_mode"


def test_terway_refuses_a_v6_node_prefix_too():
    cluster = {
        "name": "t",
        "network_mode": "terway",
        "ip_stack": "dual",
        "service_cidr": ["172.16.0.0/20", "fd00:1::/112"],
        "node_prefix_v6": 64,
    }
    with pytest.raises(InputError) as exc:
        plan_blocks({"clusters": [cluster]})
    assert _field(exc) == "network.clusters[0].node_prefix_v6"


# ---- capacity verdicts, whole


POD = {
    "role": "pod",
    "name": "cluster 'a' pod CIDR",
    "field": "network.clusters[0].pod_cidr",
    "cidr": "10.0.0.0/16",
}


def _cluster(**extra):
    return {"name": "a", "pod_cidr": "10.0.0.0/16", "service_cidr": "172.16.0.0/20", **extra}


def test_pods_per_node_over_a_pinned_block_is_one_whole_conflict():
    _caps, conflicts = capacity_conflicts(
        {"clusters": [_cluster(node_prefix=26, pods_per_node=110)]}
    )
    assert conflicts == [
        {
            "type": "pods_per_node_exceed_node_block",
            "severity": "error",
            "first": POD,
            "second": {
                "role": "pods_per_node",
                "name": "pods per node",
                "field": "network.clusters[0].pods_per_node",
                "cidr": None,
            },
            "message": "cluster 'a': 110 pods per node do not fit a /26 node block (at most 62)",
        }
    ]


@pytest.mark.parametrize(
    ("extra", "severity"),
    [
        ({"nodes": 256}, None),  # 256 /24 blocks: fits both counts
        ({"nodes": 257}, "warning"),  # over the blocks, within the guide's 512
        ({"nodes": 512}, "warning"),
        ({"nodes": 513}, "error"),
        ({"nodes": 257, "node_prefix": 24}, "error"),  # pinned: the blocks are the limit
    ],
)
def test_planned_nodes_against_both_counts(extra, severity):
    _caps, conflicts = capacity_conflicts({"clusters": [_cluster(pods_per_node=128, **extra)]})
    if severity is None:
        assert conflicts == []
        return
    (conflict,) = conflicts
    assert conflict["type"] == "nodes_exceed_pod_cidr"
    assert conflict["severity"] == severity
    assert conflict["first"] == POD
    assert conflict["second"] == {
        "role": "nodes",
        "name": "planned nodes",
        "field": "network.clusters[0].nodes",
        "cidr": None,
    }


# ---- second pass: what the first mutation run still let through


def test_a_list_element_that_is_a_bare_comma_is_an_input_error():
    with pytest.raises(InputError):
        cidr_list("f", ["10.0.0.0/16", ","])


def test_a_found_32_is_occupied_for_the_next_overlapping_space():
    assert free_cidrs([], 32, 2, ["10.0.0.0/32", "10.0.0.0/31"]) == ["10.0.0.0/32", "10.0.0.1/32"]


def test_nothing_past_the_end_of_the_search_space():
    with pytest.raises(InputError):
        free_cidrs(["10.0.0.0/31"], 32, 1, ["10.0.0.0/31"])


def test_a_space_too_small_for_the_block_is_skipped_not_the_end():
    assert free_cidrs([], 24, 1, ["10.0.0.0/25", "10.1.0.0/16"]) == ["10.1.0.0/24"]


def test_free_cidrs_errors_name_their_fields():
    with pytest.raises(InputError) as exc:
        free_cidrs(["bad"], 24, 1, ["10.0.0.0/8"], field_root="proposals")
    assert _field(exc) == "proposals.used[0]"
    with pytest.raises(InputError) as exc:
        free_cidrs([], 24, 1, "10.0.0.0/8", field_root="proposals")
    assert _field(exc) == "proposals.search_space"


def test_a_cidr_of_the_wrong_family_names_the_family_wanted():
    with pytest.raises(InputError) as exc:
        parse_cidr("f", "10.0.0.0/8", (6,))
    assert "takes IPv6 only" in str(exc.value)
    with pytest.raises(InputError) as exc:
        parse_cidr("f", "fd00::/8", (4,))
    assert "takes IPv4 only" in str(exc.value)


def _overlaps(plan):
    return overlapping_conflicts(plan_blocks(plan)[1])


def test_a_range_the_plan_reserves_is_an_error_with_its_reason():
    plan = {
        "reserved": [{"name": "office", "cidr": "10.8.0.0/16"}, "10.9.0.0/16"],
        "clusters": [_cluster(pod_cidr="10.8.0.0/14")],
    }
    conflicts = sorted(_overlaps(plan), key=lambda c: c["second"]["cidr"])
    assert [(c["type"], c["severity"]) for c in conflicts] == [
        ("pod_overlaps_reserved", "error")
    ] * 2
    assert conflicts[0]["second"] == {
        "role": "reserved",
        "name": "reserved range 'office'",
        "field": "network.reserved[0].cidr",
        "cidr": "10.8.0.0/16",
    }
    assert conflicts[0]["message"].endswith("10.8.0.0/16 is reserved: the plan reserves it")
    assert conflicts[1]["second"]["name"] == "reserved range #1"
    assert conflicts[1]["message"].endswith("10.9.0.0/16 is reserved: the plan reserves it")
    assert conflicts[0]["first"] == {**POD, "cidr": "10.8.0.0/14"}


def test_a_default_reserved_range_carries_its_own_name_severity_and_reason():
    (conflict,) = _overlaps({"clusters": [_cluster(pod_cidr="172.17.0.0/16")]})
    assert conflict["severity"] == "warning"
    assert conflict["second"]["name"] == "reserved range 'Docker bridge'"
    assert conflict["message"].endswith(
        "172.17.0.0/16 is reserved: hosts running Docker route it to docker0"
    )


def test_an_unnamed_vswitch_mapping_is_named_by_its_index():
    plan = {"vswitches": [{"cidr": "10.0.0.0/24"}, {"cidr": "10.0.0.0/25", "name": "b"}]}
    (conflict,) = _overlaps(plan)
    assert {conflict["first"]["name"], conflict["second"]["name"]} == {"vSwitch '0'", "vSwitch 'b'"}


def test_vpc_and_vswitch_containment_conflicts_whole():
    (outside,) = validate_plan({"vpc_cidr": "8.8.0.0/16"})["conflicts"]
    assert outside["second"] == {
        "role": "private_ranges",
        "name": "private ranges",
        "field": None,
        "cidr": "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16",
    }
    got = validate_plan({"vpc_cidr": "10.0.0.0/16", "vswitches": ["10.1.0.0/24"]})["conflicts"]
    assert [c["type"] for c in got] == ["vswitch_outside_vpc"]
    assert got[0]["message"].endswith("a vSwitch must be a subnet of its VPC")


def test_validate_plan_counts_the_plans_own_blocks_and_reserved_ranges_only():
    got = validate_plan({"vpc_cidr": "10.0.0.0/8", "reserved": ["10.0.0.0/24"]})
    assert got["blocks"] == 2  # the VPC and the plan's reserved range; not the defaults


def test_errors_name_the_plan_field_given():
    with pytest.raises(InputError) as exc:
        plan_blocks({"clusters": "a"}, "net")
    assert _field(exc) == "net.clusters"
    with pytest.raises(InputError) as exc:
        plan_blocks({"reserved": ["bad"]}, "net")
    assert _field(exc) == "net.reserved[0]"
    with pytest.raises(InputError) as exc:
        capacity_conflicts({"clusters": "a"}, "net")
    assert _field(exc) == "net.clusters"
    with pytest.raises(InputError) as exc:
        validate_plan({"clusters": [_cluster(pods_per_node=0)]}, "net")
    assert _field(exc) == "net.clusters[0].pods_per_node"


def test_capacity_checks_every_cluster_and_names_fields():
    plan = {
        "clusters": [
            _cluster(node_prefix=26, pods_per_node=110),
            {**_cluster(node_prefix=26, pods_per_node=110), "name": "b", "pod_cidr": "10.1.0.0/16"},
        ]
    }
    _caps, conflicts = capacity_conflicts(plan)
    assert [c["first"]["name"] for c in conflicts] == [
        "cluster 'a' pod CIDR",
        "cluster 'b' pod CIDR",
    ]
    unnamed = {k: v for k, v in _cluster().items() if k != "name"}
    caps, _ = capacity_conflicts({"clusters": [unnamed]})
    assert caps[0]["cluster"] == "0"
    with pytest.raises(InputError) as exc:
        capacity_conflicts({"clusters": [_cluster(pods_per_node=None)]})
    assert _field(exc) == "network.clusters[0].pods_per_node"
    with pytest.raises(InputError) as exc:
        capacity_conflicts({"clusters": [_cluster(ip_stack="ipv5")]})
    assert _field(exc) == "network.clusters[0].ip_stack"
