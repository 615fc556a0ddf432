"""CIDR planning: each conflict type with both parties, capacity, proposals, bad input."""

from __future__ import annotations

import itertools
import random

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    block,
    conflict_between,
    free_cidrs,
    max_nodes,
    overlapping_conflicts,
    propose,
    validate_plan,
)
from tests.catalogue import record

SOUND = {
    "vpc_cidr": "192.168.0.0/16",
    "vswitches": [{"name": "vsw-h", "cidr": "192.168.0.0/20"}, "192.168.16.0/20"],
    "clusters": [
        {"name": "prod", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.21.0.0/20"},
        # service CIDRs may repeat across clusters
        {"name": "staging", "pod_cidr": "172.22.0.0/16", "service_cidr": "172.21.0.0/20"},
    ],
    "peer_routes": [{"name": "shared", "cidr": "10.10.0.0/16"}],
    "idc_routes": [{"name": "idc", "cidr": "10.0.0.0/13"}],
}


def plan_with(**changes):
    plan = {key: list(value) if isinstance(value, list) else value for key, value in SOUND.items()}
    plan.update(changes)
    return plan


def only_conflict(plan):
    result = validate_plan(plan)
    assert len(result["conflicts"]) == 1, result["conflicts"]
    return result["conflicts"][0]


def test_sound_plan_has_no_conflicts():
    result = validate_plan(SOUND)
    assert result["valid"] is True
    assert result["conflicts"] == []
    assert result["blocks"] == 9


@pytest.mark.parametrize(
    ("changes", "ctype", "first_field", "second_field", "text"),
    [
        (
            {"vpc_cidr": "8.8.0.0/16", "vswitches": ["8.8.0.0/20"]},
            "vpc_outside_private_ranges",
            "network.vpc_cidr",
            None,
            "network.vpc_cidr: VPC 8.8.0.0/16 is not inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16",
        ),
        (
            {"vswitches": [{"name": "vsw-x", "cidr": "192.169.0.0/24"}]},
            "vswitch_outside_vpc",
            "network.vswitches[0].cidr",
            "network.vpc_cidr",
            "vSwitch 'vsw-x' 192.169.0.0/24 is not inside VPC 192.168.0.0/16",
        ),
        (
            {"vswitches": ["192.168.0.0/20", {"name": "b", "cidr": "192.168.8.0/24"}]},
            "vswitch_overlaps_vswitch",
            "network.vswitches[0]",
            "network.vswitches[1].cidr",
            "vSwitch #0 192.168.0.0/20 overlaps vSwitch 'b' 192.168.8.0/24",
        ),
        (
            {
                "clusters": [
                    {"name": "a", "pod_cidr": "192.168.128.0/17", "service_cidr": "172.21.0.0/20"}
                ]
            },
            "pod_overlaps_vpc",
            "network.clusters[0].pod_cidr",
            "network.vpc_cidr",
            "cluster 'a' pod CIDR 192.168.128.0/17 overlaps VPC 192.168.0.0/16",
        ),
        (
            {
                "clusters": [
                    {"name": "a", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.20.16.0/20"}
                ]
            },
            "pod_overlaps_service",
            "network.clusters[0].pod_cidr",
            "network.clusters[0].service_cidr",
            "cluster 'a' pod CIDR 172.20.0.0/16 overlaps cluster 'a' service CIDR 172.20.16.0/20",
        ),
        (
            {
                "clusters": [
                    {"name": "a", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.21.0.0/20"},
                    {"name": "b", "pod_cidr": "172.20.0.0/17", "service_cidr": "172.21.0.0/20"},
                ]
            },
            "pod_overlaps_pod",
            "network.clusters[0].pod_cidr",
            "network.clusters[1].pod_cidr",
            "cluster 'a' pod CIDR 172.20.0.0/16 overlaps cluster 'b' pod CIDR 172.20.0.0/17",
        ),
        (
            {"peer_routes": [{"name": "vpc-b", "cidr": "172.20.128.0/17"}]},
            "pod_overlaps_peer_route",
            "network.clusters[0].pod_cidr",
            "network.peer_routes[0].cidr",
            "cluster 'prod' pod CIDR 172.20.0.0/16 overlaps route to peered VPC 'vpc-b' 172.20.128.0/17",
        ),
        (
            {"idc_routes": ["172.22.0.0/17"]},
            "pod_overlaps_idc_route",
            "network.clusters[1].pod_cidr",
            "network.idc_routes[0]",
            "cluster 'staging' pod CIDR 172.22.0.0/16 overlaps route to IDC #0 172.22.0.0/17: "
            "pods could not reach the IDC",
        ),
        (
            {
                "clusters": [
                    {"name": "a", "pod_cidr": "172.20.0.0/16", "service_cidr": "192.168.200.0/24"}
                ]
            },
            "service_overlaps_vpc",
            "network.clusters[0].service_cidr",
            "network.vpc_cidr",
            "cluster 'a' service CIDR 192.168.200.0/24 overlaps VPC 192.168.0.0/16",
        ),
        (
            {"peer_routes": ["192.168.0.0/24"]},
            "vpc_overlaps_peer_route",
            "network.vpc_cidr",
            "network.peer_routes[0]",
            "VPC 192.168.0.0/16 overlaps route to peered VPC #0 192.168.0.0/24",
        ),
        (
            {"idc_routes": [{"name": "idc", "cidr": "192.168.0.0/16"}]},
            "vpc_overlaps_idc_route",
            "network.vpc_cidr",
            "network.idc_routes[0].cidr",
            "VPC 192.168.0.0/16 overlaps route to IDC 'idc' 192.168.0.0/16",
        ),
    ],
)
def test_each_conflict_type_names_both_parties(changes, ctype, first_field, second_field, text):
    conflict = only_conflict(plan_with(**changes))
    assert conflict["type"] == ctype
    assert conflict["severity"] == "error"
    assert conflict["first"]["field"] == first_field
    assert conflict["second"]["field"] == second_field
    assert text in conflict["message"]


def test_service_overlapping_a_route_is_a_warning_and_the_plan_stays_valid():
    result = validate_plan(plan_with(idc_routes=["172.21.0.0/24"]))
    assert [c["type"] for c in result["conflicts"]] == ["service_overlaps_idc_route"] * 2
    assert {c["first"]["name"] for c in result["conflicts"]} == {
        "cluster 'prod' service CIDR",
        "cluster 'staging' service CIDR",
    }
    assert result["valid"] is True


def test_identical_service_cidrs_across_clusters_are_allowed_but_not_pod_and_service():
    plan = plan_with(
        clusters=[
            {"name": "a", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.21.0.0/20"},
            {"name": "b", "pod_cidr": "172.21.0.0/16", "service_cidr": "172.21.0.0/20"},
        ]
    )
    types = sorted(c["type"] for c in validate_plan(plan)["conflicts"])
    assert types == ["pod_overlaps_service", "pod_overlaps_service"]


def test_guide_max_nodes_for_a_16_at_128_pods_per_node():
    capacity = max_nodes("172.20.0.0/16", 128)
    assert (capacity["addresses"], capacity["max_nodes"]) == (65536, 512)
    # kubespray's per-node block: 128 pods + 2 need a /24 (a /25 holds 126).
    assert capacity["node_block"] == {
        "prefix": 24,
        "max_pods": 254,
        "max_nodes": 256,
        "fits_pods_per_node": True,
        "rule": "smallest per-node block holding 128 pods + 2 reserved addresses",
    }


def test_a_25_node_block_holds_126_pods():
    capacity = max_nodes("172.20.0.0/16", 126)
    assert capacity["node_block"]["prefix"] == 25
    assert capacity["node_block"]["max_pods"] == 126
    assert capacity["node_block"]["max_nodes"] == 512


def test_pinned_node_block_too_small_for_pods_per_node_is_a_conflict():
    plan = plan_with(
        clusters=[
            {
                "name": "a",
                "pod_cidr": "172.20.0.0/16",
                "service_cidr": "172.21.0.0/20",
                "pods_per_node": 128,
                "node_prefix": 25,
            }
        ]
    )
    conflict = only_conflict(plan)
    assert conflict["type"] == "pods_per_node_exceed_node_block"
    assert conflict["message"] == (
        "cluster 'a': 128 pods per node do not fit a /25 node block (at most 126)"
    )


@pytest.mark.parametrize(("nodes", "severity"), [(256, None), (300, "warning"), (513, "error")])
def test_planned_nodes_against_capacity(nodes, severity):
    plan = plan_with(
        clusters=[
            {
                "name": "a",
                "pod_cidr": "172.20.0.0/16",
                "service_cidr": "172.21.0.0/20",
                "nodes": nodes,
            }
        ]
    )
    conflicts = validate_plan(plan)["conflicts"]
    assert [c["severity"] for c in conflicts] == ([severity] if severity else [])
    if severity:
        assert conflicts[0]["type"] == "nodes_exceed_pod_cidr"
        assert "(512 by address count, 256 by /24 node blocks)" in conflicts[0]["message"]


def test_proposals_avoid_everything_in_the_plan_and_each_other():
    proposals = propose(SOUND, {"pod_prefix": 16, "service_prefix": 20, "count": 2})
    # 10.0.0.0/13 is the IDC, 10.10.0.0/16 the peer: the first free /16s are 10.8 and 10.9.
    assert proposals == {
        "pod_cidrs": ["10.8.0.0/16", "10.9.0.0/16"],
        "service_cidrs": ["10.11.0.0/20", "10.11.16.0/20"],
    }
    chosen = {
        **SOUND,
        "clusters": [
            *SOUND["clusters"],
            {
                "name": "new",
                "pod_cidr": proposals["pod_cidrs"][0],
                "service_cidr": proposals["service_cidrs"][0],
            },
        ],
    }
    assert validate_plan(chosen)["conflicts"] == []


def test_proposals_respect_the_search_space_order():
    assert free_cidrs(["172.16.0.0/13"], 16, 1, ["172.16.0.0/12"]) == ["172.24.0.0/16"]


def test_overlapping_search_spaces_never_give_a_block_twice():
    assert free_cidrs([], 16, 2, ["10.0.0.0/16", "10.0.0.0/8"]) == ["10.0.0.0/16", "10.1.0.0/16"]
    with pytest.raises(InputError) as exc:
        free_cidrs([], 24, 3, ["10.0.0.0/24", "10.0.0.0/24"])
    assert str(exc.value) == (
        "prefix: 24 leaves only 1 of 3 free block(s) in 10.0.0.0/24, 10.0.0.0/24: "
        "ask for a smaller block or fewer"
    )
    proposals = propose({}, {"search_space": ["10.0.0.0/15", "10.0.0.0/8"], "count": 3})
    assert proposals["pod_cidrs"] == ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"]
    assert proposals["service_cidrs"] == ["10.3.0.0/20", "10.3.16.0/20", "10.3.32.0/20"]


def test_proposal_search_that_cannot_fit_says_so():
    with pytest.raises(InputError) as exc:
        free_cidrs(["192.168.0.0/17"], 16, 1, ["192.168.0.0/16"])
    assert str(exc.value) == (
        "prefix: 16 leaves only 0 of 1 free block(s) in 192.168.0.0/16: "
        "ask for a smaller block or fewer"
    )


def pairwise(blocks):
    found = []
    for a, b in itertools.combinations(blocks, 2):
        if a.first <= b.last and b.first <= a.last:
            conflict = conflict_between(a, b)
            if conflict:
                found.append(conflict)
    return found


def test_sweep_finds_exactly_what_all_pairs_find():
    rng = random.Random(7)
    roles = ["pod", "service", "vswitch", "peer_route", "idc_route"]
    blocks = []
    for i in range(600):
        prefix = rng.randint(12, 28)
        address = rng.getrandbits(32) & ~((1 << (32 - prefix)) - 1)
        cidr = (
            f"{address >> 24}.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}/{prefix}"
        )
        role = rng.choice(roles)
        blocks.append(block(role, f"{role} {i}", f"f{i}", cidr, cluster=f"c{i}"))
    key = lambda c: (c["type"], c["first"]["field"], c["second"]["field"])  # noqa: E731
    assert sorted(map(key, overlapping_conflicts(blocks))) == sorted(map(key, pairwise(blocks)))
    assert pairwise(blocks)  # the sample does contain conflicts


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            {"vpc_cidr": "192.168.0.0/33"},
            "network.vpc_cidr: '192.168.0.0/33' is not a valid IPv4 or IPv6 CIDR",
        ),
        (
            {"vpc_cidr": "192.168.1.0/16"},
            "network.vpc_cidr: '192.168.1.0/16' has host bits set: did you mean 192.168.0.0/16?",
        ),
        (
            {"vpc_cidr": "192.168.0.0"},
            "network.vpc_cidr: '192.168.0.0' has no prefix length: write it as a CIDR, e.g. /16",
        ),
        (
            {"vpc_cidr": "fd00::/8"},
            "network.vpc_cidr: 'fd00::/8' is IPv6: this field takes IPv4 only",
        ),
        ({"vpc_cidr": 10}, "network.vpc_cidr: 10 must be a CIDR string such as 10.0.0.0/16"),
        (
            {"vswitches": ["192.168.0.0/24", "nonsense"]},
            "network.vswitches[1]: 'nonsense' has no prefix length",
        ),
        ({"vswitches": "192.168.0.0/24"}, "network.vswitches: '192.168.0.0/24' must be a list"),
        ({"idc_routes": [{"name": "x"}]}, "network.idc_routes[0]: {'name': 'x'} has no 'cidr' key"),
        (
            {"clusters": [{"name": "a", "pod_cidr": "172.20.0.0/16"}]},
            "network.clusters[0].service_cidr: None is required for a flannel cluster",
        ),
        (
            {
                "clusters": [
                    {
                        "name": "a",
                        "pod_cidr": "172.20.0.0/16",
                        "service_cidr": "172.21.0.0/20",
                        "pods_per_node": 0,
                    }
                ]
            },
            "network.clusters[0].pods_per_node: 0 must be greater than zero",
        ),
        (
            {
                "clusters": [
                    {
                        "name": "a",
                        "pod_cidr": "172.20.0.0/16",
                        "service_cidr": "172.21.0.0/20",
                        "nodes": -1,
                    }
                ]
            },
            "network.clusters[0].nodes: -1 must be greater than zero",
        ),
        (
            {
                "clusters": [
                    {
                        "name": "a",
                        "pod_cidr": "172.20.0.0/16",
                        "service_cidr": "172.21.0.0/20",
                        "node_prefix": 12,
                    }
                ]
            },
            "network.clusters[0].pod_cidr: '172.20.0.0/16' holds no node: the pinned /12 per-node "
            "block has 1048576 addresses, more than the pod CIDR /16",
        ),
        (
            {
                "clusters": [
                    {"name": "a", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.21.0.0/20"},
                    {"name": "a", "pod_cidr": "172.22.0.0/16", "service_cidr": "172.21.0.0/20"},
                ]
            },
            "network.clusters[1].name: 'a' is used by another cluster",
        ),
        ("192.168.0.0/16", "network: '192.168.0.0/16' must be a mapping"),
    ],
)
def test_bad_plan_input_names_field_and_value(plan, message):
    with pytest.raises(InputError) as exc:
        validate_plan(plan)
    assert message in str(exc.value)
    record(
        "plan-cluster",
        "CIDR",
        {"network": plan},
        str(exc.value),
        "validate_plan raised InputError: no plan returned",
    )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"pod_prefix": 0}, "proposals.pod_prefix: 0 must be greater than zero"),
        ({"pod_prefix": 40}, "proposals.pod_prefix: 40 must be at most 32 for IPv4"),
        ({"service_prefix": -20}, "proposals.service_prefix: -20 must be greater than zero"),
        ({"count": 0}, "proposals.count: 0 must be greater than zero"),
        (
            {"search_space": ["10.0.0.0/8", "bad"]},
            "proposals.search_space[1]: 'bad' has no prefix length",
        ),
    ],
)
def test_bad_proposal_input_names_field_and_value(request_, message):
    with pytest.raises(InputError) as exc:
        propose(SOUND, request_)
    assert message in str(exc.value)
    record("plan-cluster", "CIDR", {"proposals": request_}, str(exc.value),
           "propose raised InputError: no proposal returned")  # fmt: skip


@pytest.mark.parametrize(
    ("service_cidr", "message"),
    [
        (
            "10.1.0.0/32",
            "network.clusters[0].service_cidr: '10.1.0.0/32' is too small for a service CIDR: "
            "1 addresses; kube-apiserver needs at least 8 and kubeadm puts cluster DNS on the "
            "10th address, so at least 16: the mask must be <= /28 for IPv4",
        ),
        (
            "10.1.0.0/30",
            "network.clusters[0].service_cidr: '10.1.0.0/30' is too small for a service CIDR: "
            "4 addresses;",
        ),
        (
            # 8 addresses satisfy kube-apiserver, but kubeadm's DNS address .10 is outside
            "10.1.0.0/29",
            "network.clusters[0].service_cidr: '10.1.0.0/29' is too small for a service CIDR: "
            "8 addresses;",
        ),
    ],
)
def test_service_cidr_too_small_to_work_is_refused(service_cidr, message):
    plan = {"clusters": [{"name": "a", "pod_cidr": "10.0.0.0/16", "service_cidr": service_cidr}]}
    with pytest.raises(InputError) as exc:
        validate_plan(plan)
    assert message in str(exc.value)
    record(
        "plan-cluster",
        "CIDR",
        {"network": plan},
        str(exc.value),
        "validate_plan raised InputError: no plan returned",
    )


@pytest.mark.parametrize("value", ["fd00::%eth0/112", "fe80::%eth0/64", "fd00::%1/112"])
def test_a_cidr_with_an_ipv6_zone_id_is_refused(value):
    plan = {
        "clusters": [
            {
                "name": "a",
                "ip_stack": "dual",
                "network_mode": "terway",
                "service_cidr": ["10.1.0.0/20", value],
                "zones": [{"name": "z", "nodes": 3}],
            }
        ]
    }
    with pytest.raises(InputError) as exc:
        validate_plan(plan)
    assert str(exc.value) == (
        f"network.clusters[0].service_cidr[1]: {value!r} holds a zone id (%...): "
        "a CIDR has no interface part; remove it"
    )
    record(
        "plan-cluster",
        "CIDR",
        {"network": plan},
        str(exc.value),
        "validate_plan raised InputError: no plan returned",
    )
    with pytest.raises(InputError) as exc:
        free_cidrs([], 120, 1, [value])
    assert str(exc.value).startswith(f"search_space[0]: {value!r} holds a zone id")


def test_the_smallest_service_cidrs_that_work_are_accepted():
    plan = {"clusters": [{"name": "a", "pod_cidr": "10.0.0.0/16", "service_cidr": "10.1.0.0/28"}]}
    assert validate_plan(plan)["valid"] is True
    assert propose({}, {"service_prefix": 28})["service_cidrs"] == ["10.1.0.0/28"]
    dual = propose({}, {"ip_stack": "dual", "service_prefix_v6": 124})
    assert dual["service_v6_cidrs"] == ["fd00:0:0:100::/124"]


def test_ipv6_service_cidr_too_small_is_refused_in_plans_and_proposals():
    plan = {
        "clusters": [
            {
                "name": "a",
                "ip_stack": "dual",
                "pod_cidr": ["10.0.0.0/16", "fd00:1::/56"],
                "service_cidr": ["10.1.0.0/20", "fd00::/125"],
            }
        ]
    }
    with pytest.raises(InputError) as exc:
        validate_plan(plan)
    assert "'fd00::/125' is too small for a service CIDR: 8 addresses;" in str(exc.value)
    assert "the mask must be <= /124 for IPv6" in str(exc.value)
    with pytest.raises(InputError) as exc:
        propose({}, {"service_prefix": 30})
    assert str(exc.value).startswith(
        "proposals.service_prefix: 30 is too small for a service CIDR: 4 addresses;"
    )
    with pytest.raises(InputError) as exc:
        propose({}, {"ip_stack": "dual", "service_prefix_v6": 128})
    assert str(exc.value).startswith(
        "proposals.service_prefix_v6: 128 is too small for a service CIDR: 1 addresses;"
    )
