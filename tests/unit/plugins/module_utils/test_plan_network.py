"""The CIDR planner for today's ACK networks, checked against independent oracles.

Overlaps are checked against Python's ``ipaddress`` (``overlaps``, ``subnet_of``)
on generated /29-/32 IPv4 blocks and /125-/128 IPv6 blocks, never against the
planner's own conflict functions; vSwitch sizes against ``num_addresses``.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import random

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    DEFAULT_RESERVED,
    MAX_PROPOSALS,
    free_cidrs,
    max_nodes,
    propose,
    validate_plan,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_plan import (
    build_plan,
    markdown,
)

net = ipaddress.ip_network


def random_blocks(rng: random.Random, version: int, count: int) -> list[str]:
    """Small blocks packed into a tiny space, so that many of them overlap."""
    if version == 4:
        base, bits, prefixes = int(net("10.9.0.0/24").network_address), 32, range(29, 33)
    else:
        base, bits, prefixes = int(net("fd00:9::/120").network_address), 128, range(125, 129)
    make = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    blocks = []
    for _ in range(count):
        prefix = rng.choice(prefixes)
        size = 2 ** (bits - prefix)
        offset = rng.randrange(0, 256 // size) * size
        blocks.append(str(make((base + offset, prefix))))
    return blocks


@pytest.mark.parametrize("seed", range(8))
def test_vswitch_overlaps_match_ipaddress_for_both_families(seed):
    rng = random.Random(seed)
    cidrs = random_blocks(rng, 4, 40) + random_blocks(rng, 6, 40)
    plan = {"vswitches": cidrs}
    expected = {
        frozenset((f"network.vswitches[{i}]", f"network.vswitches[{j}]"))
        for i, j in itertools.combinations(range(len(cidrs)), 2)
        if net(cidrs[i]).version == net(cidrs[j]).version and net(cidrs[i]).overlaps(net(cidrs[j]))
    }
    found = {
        frozenset((c["first"]["field"], c["second"]["field"]))
        for c in validate_plan(plan)["conflicts"]
        if c["type"] == "vswitch_overlaps_vswitch"
    }
    assert found == expected
    assert expected  # the generator does produce overlaps


@pytest.mark.parametrize(
    ("space", "used", "prefix"),
    [
        (["10.9.0.0/24"], random_blocks(random.Random(1), 4, 30), 29),
        (["10.9.0.0/24"], random_blocks(random.Random(2), 4, 10), 30),
        (["fd00:9::/120"], random_blocks(random.Random(3), 6, 30), 125),
        (["fd00:9::/120"], random_blocks(random.Random(4), 6, 10), 126),
    ],
)
def test_free_blocks_overlap_nothing_used_and_are_aligned(space, used, prefix):
    free_total = sum(
        1
        for candidate in net(space[0]).subnets(new_prefix=prefix)
        if not any(candidate.overlaps(net(u)) for u in used)
    )
    wanted = min(free_total, 5)
    if wanted == 0:
        with pytest.raises(InputError):
            free_cidrs(used, prefix, 1, space)
        return
    found = [net(c) for c in free_cidrs(used, prefix, wanted, space)]
    assert len(found) == wanted
    for candidate in found:
        assert candidate.prefixlen == prefix
        assert candidate.subnet_of(net(space[0]))
        assert not any(candidate.overlaps(net(u)) for u in used)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(found, 2))


def test_proposals_never_use_reserved_ranges_in_either_family():
    reserved = [net(cidr) for _name, cidr, _sev, _why in DEFAULT_RESERVED]
    plan = {"reserved": [{"name": "lab", "cidr": "172.16.0.0/16"}]}
    result = propose(
        plan,
        {
            "count": 4,
            "search_space": ["172.16.0.0/12"],
            "ip_stack": "dual",
            "search_space_v6": ["fe80::/9"],
            "pod_prefix_v6": 64,
        },
    )
    proposed = [net(c) for key in result for c in result[key]]
    assert len(proposed) == 16
    for cidr in proposed:
        others = [*reserved, net("172.16.0.0/16")]
        assert not any(cidr.version == r.version and cidr.overlaps(r) for r in others), cidr


def test_a_plan_using_a_reserved_range_says_which_and_why():
    plan = {
        "clusters": [{"name": "a", "pod_cidr": "172.17.0.0/16", "service_cidr": "100.64.0.0/20"}],
        "reserved": ["10.99.0.0/16"],
        "vswitches": ["10.99.1.0/24"],
    }
    conflicts = {c["type"]: c for c in validate_plan(plan)["conflicts"]}
    assert conflicts["pod_overlaps_reserved"]["severity"] == "warning"  # Docker bridge
    assert "172.17.0.0/16 is reserved" in conflicts["pod_overlaps_reserved"]["message"]
    assert conflicts["service_overlaps_reserved"]["severity"] == "error"
    assert conflicts["vswitch_overlaps_reserved"]["second"]["field"] == "network.reserved[0]"


def test_proposal_count_is_capped():
    with pytest.raises(InputError) as exc:
        propose({}, {"count": MAX_PROPOSALS + 1})
    assert f"more than {MAX_PROPOSALS} proposals" in str(exc.value)


@pytest.mark.parametrize(
    ("cidr", "ok"),
    [
        ("10.96.0.0/12", True),
        ("10.0.0.0/11", False),
        ("10.0.0.0/8", False),
        ("fd00:10::/108", True),
        ("fd00:10::/107", False),
        ("fd00:10::/64", False),
    ],
)
def test_service_cidr_size_limits_are_kube_apiservers(cidr, ok):
    stack = "ipv6" if ":" in cidr else "ipv4"
    cluster = {"name": "a", "service_cidr": cidr, "ip_stack": stack}
    cluster |= (
        {"network_mode": "terway", "zones": [{"name": "z", "nodes": 1}]}
        if stack == "ipv6"
        else {"pod_cidr": "172.20.0.0/16"}
    )
    plan = {"vpc_cidr": "192.168.0.0/16", "clusters": [cluster]}
    if ok:
        assert validate_plan(plan)["valid"]
        return
    with pytest.raises(InputError) as exc:
        validate_plan(plan)
    bits = 32 if stack == "ipv4" else 128
    text = str(exc.value)
    assert f"network.clusters[0].service_cidr: '{cidr}' is too large" in text
    assert f"{net(cidr).num_addresses} addresses" in text
    assert f"mask must be >= /{bits - 20}" in text


@pytest.mark.parametrize(
    ("pod_cidr", "pods", "prefix", "message"),
    [
        (
            "10.0.0.0/26",
            128,
            None,
            "holds no node: 128 pods per node need a /24 block of 256 addresses",
        ),
        (
            "10.0.0.0/8",
            10**10,
            None,
            "holds no node: 10000000000 pods per node need a block of 17179869184",
        ),
        (
            "10.0.0.0/16",
            16,
            12,
            "holds no node: the pinned /12 per-node block has 1048576 addresses",
        ),
        ("10.0.0.0/8", 2, 25, "node_prefix: 25 is 17 bits longer than the pod CIDR /8"),
        ("fd00::/56", 110, 40, "holds no node"),
        ("fd00::/40", 110, 57, "17 bits longer"),
    ],
)
def test_capacity_that_cannot_work_is_refused_with_numbers(pod_cidr, pods, prefix, message):
    with pytest.raises(InputError) as exc:
        max_nodes(pod_cidr, pods, prefix)
    assert message in str(exc.value)


def test_an_unpinned_block_never_exceeds_what_kube_controller_manager_allocates():
    capacity = max_nodes("10.0.0.0/8", 2)
    # 2 pods fit a /30, but a /8 cluster CIDR takes node masks up to /24 only.
    assert capacity["node_block"]["prefix"] == 24
    assert capacity["node_block"]["max_nodes"] == 2**16
    with pytest.raises(InputError) as exc:
        max_nodes("fd00::/40", 110)
    assert "use a /48 or longer, or pin node_prefix_v6" in str(exc.value)


def test_ipv6_pod_cidr_capacity_follows_the_per_node_block():
    capacity = max_nodes("fd00:20::/48", 110)
    assert capacity["node_block"]["prefix"] == 64
    assert capacity["max_nodes"] == capacity["node_block"]["max_nodes"] == 2**16


def dual_terway(**changes):
    cluster = {
        "name": "tw",
        "network_mode": "terway",
        "ip_stack": "dual",
        "service_cidr": "172.21.0.0/20,fd00:21::/112",
        "pods_per_node": 64,
        "ip_headroom": 0.25,
        "zones": [
            {"name": "cn-hangzhou-i", "nodes": 50},
            {"name": "cn-hangzhou-j", "nodes": 7},
            {"name": "cn-hangzhou-k", "nodes": 300},
        ],
    }
    cluster.update(changes)
    return {"vpc_cidr": "192.168.0.0/16", "vswitches": ["192.168.0.0/24"], "clusters": [cluster]}


def test_terway_zone_vswitches_are_sized_from_pods_and_nodes_and_fit_the_vpc():
    plan = dual_terway()
    result = validate_plan(plan)
    assert result["valid"], result["conflicts"]
    taken = [net("192.168.0.0/24")]
    for zone in result["zones"]:
        for kind, needed in (
            ("node", zone["nodes"]),
            ("pod", math.ceil(zone["nodes"] * 64 * 1.25)),
        ):
            sizing = zone[f"{kind}_vswitch"]
            cidr = net(sizing["cidr"])
            assert sizing["needed"] == needed
            # Big enough (4 addresses reserved per vSwitch), and the next size down is not.
            assert cidr.num_addresses - 4 >= needed
            assert cidr.prefixlen == 29 or cidr.num_addresses // 2 - 4 < needed
            assert cidr.subnet_of(net("192.168.0.0/16"))
            assert not any(cidr.overlaps(other) for other in taken)
            taken.append(cidr)


def test_a_given_pod_vswitch_too_small_is_an_error_with_numbers():
    plan = dual_terway(zones=[{"name": "z1", "nodes": 30, "pod_vswitch": "192.168.128.0/24"}])
    result = validate_plan(plan)
    (problem,) = [c for c in result["conflicts"] if c["type"] == "vswitch_too_small"]
    assert not result["valid"]
    assert "252 usable addresses (256 minus 4 reserved) for 2400 needed" in problem["message"]
    assert problem["first"]["field"] == "network.clusters[0].zones[0].pod_vswitch"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zones": None}, "zones: None is required in Terway mode"),
        ({"pod_cidr": "172.20.0.0/16"}, "pod_cidr: '172.20.0.0/16' is not used in Terway mode"),
        ({"service_cidr": "172.21.0.0/20"}, "must hold IPv4 and IPv6 for ip_stack dual"),
        ({"service_cidr": ["172.21.0.0/20", "172.22.0.0/20"]}, "one CIDR per address family"),
        ({"network_mode": "flannel", "pod_cidr": "172.20.0.0/16,fd00::/56"}, "needs network_mode"),
        ({"zones": [{"name": "z", "nodes": 2000}]}, "do not fit one vSwitch"),
        ({"zones": [{"name": "z", "nodes": 0}]}, "zones[0].nodes: 0 must be greater than zero"),
        ({"ip_headroom": -1}, "ip_headroom: -1 must be between 0 and 10"),
    ],
)
def test_bad_terway_and_dual_stack_input_names_field_and_cause(changes, message):
    with pytest.raises(InputError) as exc:
        validate_plan(dual_terway(**changes))
    assert message in str(exc.value)


# Argument names of alicloud_cs_managed_kubernetes (the provider's docs,
# website/docs/r/cs_managed_kubernetes.html.markdown) and of alicloud_vswitch.
TERRAFORM_ARGUMENTS = {
    "pod_cidr",
    "service_cidr",
    "node_cidr_mask",
    "ip_stack",
    "vswitch_ids",
    "pod_vswitch_ids",
}
VSWITCH_ARGUMENTS = {"zone_id", "cidr_block"}
# Network fields of ACK's CreateCluster request body.
CREATE_CLUSTER_FIELDS = {
    "container_cidr",
    "service_cidr",
    "node_cidr_mask",
    "ip_stack",
    "vswitch_ids",
    "pod_vswitch_ids",
}


def test_exports_use_the_providers_and_the_apis_names_and_values():
    plan = dual_terway(
        zones=[
            {
                "name": "cn-hangzhou-i",
                "nodes": 10,
                "node_vswitch_id": "vsw-n1",
                "pod_vswitch_id": "vsw-p1",
            }
        ]
    )
    plan["clusters"].append(
        {
            "name": "fl",
            "pod_cidr": "172.30.0.0/16",
            "service_cidr": "172.31.0.0/20",
            "pods_per_node": 60,
            "vswitch_ids": ["vsw-a", "vsw-b"],
        }
    )
    exports = build_plan(network=plan)["network"]["exports"]
    terway, flannel = exports["tw"], exports["fl"]
    for export in (terway, flannel):
        assert set(export["terraform"]) - {"node_vswitches", "pod_vswitches"} <= TERRAFORM_ARGUMENTS
        assert set(export["create_cluster"]) <= CREATE_CLUSTER_FIELDS
        assert export["problems"] == []
    assert terway["terraform"]["pod_vswitch_ids"] == ["vsw-p1"]
    assert terway["create_cluster"]["vswitch_ids"] == ["vsw-n1"]
    assert terway["create_cluster"]["ip_stack"] == "dual"
    assert set(terway["terraform"]["pod_vswitches"][0]) == VSWITCH_ARGUMENTS
    assert "pod_cidr" not in terway["terraform"]
    assert flannel["terraform"]["node_cidr_mask"] == 26  # 60 pods + 2 need a /26
    assert flannel["create_cluster"]["node_cidr_mask"] == "26"
    assert flannel["create_cluster"]["container_cidr"] == "172.30.0.0/16"


def test_export_says_what_ack_would_refuse_and_what_is_missing():
    plan = {
        "clusters": [
            {
                "name": "big",
                "pod_cidr": "10.0.0.0/8",
                "service_cidr": "172.21.0.0/20",
                "pods_per_node": 500,
            }
        ]
    }
    export = build_plan(network=plan)["network"]["exports"]["big"]
    assert "node_cidr_mask 23: ACK accepts 24 to 28" in export["problems"][0]
    assert any("vswitch_ids" in m for m in export["missing"])


def test_what_ack_would_refuse_makes_the_plan_invalid():
    # 300 pods per node need a /23 per node (512 addresses >= 300 + 2); ACK takes /24 to /28.
    plan = {
        "clusters": [
            {
                "name": "dense",
                "pod_cidr": "10.0.0.0/16",
                "service_cidr": "172.21.0.0/20",
                "pods_per_node": 300,
            }
        ]
    }
    result = build_plan(network=plan)
    assert result["valid"] is False
    assert result["network"]["valid"] is False
    refused = [c for c in result["network"]["conflicts"] if c["type"] == "ack_would_refuse"]
    assert refused == [
        {
            "type": "ack_would_refuse",
            "severity": "error",
            "first": {
                "role": "cluster",
                "name": "cluster 'dense'",
                "field": "network.clusters[0]",
                "cidr": None,
            },
            "second": {"role": "ack", "name": "ACK", "field": None, "cidr": None},
            "message": "cluster 'dense': ACK would refuse node_cidr_mask 23: ACK accepts 24 "
            "to 28 (14 to 254 pods per node)",
        }
    ]
    assert "## Network: INVALID (1 conflict(s)" in markdown(result)
    sound = {**plan["clusters"][0], "pods_per_node": 128}
    assert build_plan(network={"clusters": [sound]})["valid"] is True


def test_masters_only_and_workers_only_plans_have_no_network_section():
    masters = build_plan(node_count=10)
    assert masters["network"] is None
    assert masters["valid"] is True
    workers = build_plan(workers={"total_cores": 160, "failure_ratio": 0.1})
    assert workers["workers"]["recommended"]["count"] == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"node_count": 0}, "node_count: 0 must be greater than zero"),
        (
            {"workers": {"total_cores": 160, "failure_ratio": 0.1, "instance_cores": []}},
            "workers.instance_cores: [] must be a non-empty list",
        ),
        (
            {"workers": {"total_cores": 160, "failure_ratio": 0.1, "memory_per_core_gib": 0}},
            "workers.memory_per_core_gib: 0 must be greater than zero",
        ),
    ],
)
def test_zero_and_empty_are_refused_not_replaced_by_defaults(kwargs, message):
    with pytest.raises(InputError) as exc:
        build_plan(**kwargs)
    assert message in str(exc.value)
