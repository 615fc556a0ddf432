"""planning/ack_export.py and planning/terway.py called directly (issue 18).

Expected values are worked out by hand from what ACK and Alibaba Cloud document:
node_cidr_mask 24-28 (a /28 per node holds 16 - 2 = 14 pods, a /24 254), ip_stack
ipv4 or dual, four reserved addresses per vSwitch, vSwitch masks /16 to /29.
"""

from __future__ import annotations

import ipaddress
from fractions import Fraction

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.planning import terway
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.ack_export import (
    export_cluster,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    validate_plan,
)

net = ipaddress.ip_network


def settings(mode="flannel", stack="ipv4", pod=("10.0.0.0/16",), service=("172.21.0.0/20",)):
    return {
        "name": "c1",
        "ip_stack": stack,
        "network_mode": mode,
        "pod": [net(p) for p in pod],
        "service": [net(s) for s in service],
    }


def capacity(prefix, pod_cidr="10.0.0.0/16"):
    return {"pod_cidr": pod_cidr, "node_block": {"prefix": prefix}}


# --- ack_export -----------------------------------------------------------------------------


def test_a_flannel_cluster_with_vswitch_ids_exports_completely():
    got = export_cluster({"vswitch_ids": ["vsw-a", "vsw-b"]}, settings(), [capacity(26)], [])
    assert got == {
        "terraform": {
            "ip_stack": "ipv4",
            "service_cidr": "172.21.0.0/20",
            "pod_cidr": "10.0.0.0/16",
            "node_cidr_mask": 26,
            "vswitch_ids": ["vsw-a", "vsw-b"],
        },
        "create_cluster": {
            "ip_stack": "ipv4",
            "service_cidr": "172.21.0.0/20",
            "container_cidr": "10.0.0.0/16",
            "node_cidr_mask": "26",
            "vswitch_ids": ["vsw-a", "vsw-b"],
        },
        "missing": [],
        "problems": [],
        "notes": [],
    }


@pytest.mark.parametrize(("mask", "refused"), [(23, True), (24, False), (28, False), (29, True)])
def test_node_cidr_mask_bounds_are_acks(mask, refused):
    got = export_cluster({"vswitch_ids": ["v"]}, settings(), [capacity(mask)], [])
    expected = [f"node_cidr_mask {mask}: ACK accepts 24 to 28 (14 to 254 pods per node)"]
    assert got["problems"] == (expected if refused else [])
    assert got["terraform"]["node_cidr_mask"] == mask


def test_the_ipv4_pod_block_sets_the_mask_when_an_ipv6_one_comes_first():
    caps = [capacity(64, pod_cidr="fd00::/48"), capacity(25)]
    got = export_cluster({"vswitch_ids": ["v"]}, settings(), caps, [])
    assert got["create_cluster"]["node_cidr_mask"] == "25"
    assert got["problems"] == []


def test_no_capacity_no_mask():
    got = export_cluster({"vswitch_ids": ["v"]}, settings(), [], [])
    assert "node_cidr_mask" not in got["terraform"]
    assert "node_cidr_mask" not in got["create_cluster"]


def test_an_ipv6_stack_and_no_vswitches_are_named():
    got = export_cluster({}, settings(stack="ipv6"), [capacity(26)], [])
    assert got["problems"] == ["ip_stack ipv6: ACK takes ipv4 or dual"]
    assert got["missing"] == ["vswitch_ids: list the cluster's zones or give vswitch_ids"]
    assert "vswitch_ids" not in got["terraform"]


def test_an_ipv6_service_cidr_is_a_note_and_the_ipv4_one_is_exported():
    got = export_cluster(
        {"vswitch_ids": ["v"]},
        settings(stack="dual", service=("172.21.0.0/20", "fd00:21::/112")),
        [capacity(26)],
        [],
    )
    assert got["terraform"]["service_cidr"] == "172.21.0.0/20"
    assert got["notes"] == [
        "IPv6 service CIDR fd00:21::/112: the provider's and CreateCluster's documented "
        "arguments carry one service CIDR (IPv4); set the IPv6 one where ACK asks for it"
    ]


def zone(name, node_id=None, pod_cidr=None, pod_id=None, node_cidr="192.168.0.0/24"):
    entry = {"zone": name, "node_vswitch": {"cidr": node_cidr, "id": node_id}}
    if pod_cidr:
        entry["pod_vswitch"] = {"cidr": pod_cidr, "id": pod_id}
    return entry


def test_zones_give_the_vswitches_and_ids_only_when_every_zone_has_one():
    zones = [zone("z1", "vsw-1"), zone("z2", None, node_cidr="192.168.1.0/24")]
    got = export_cluster({"vswitch_ids": ["ignored"]}, settings(), [capacity(26)], zones)
    assert got["terraform"]["node_vswitches"] == [
        {"zone_id": "z1", "cidr_block": "192.168.0.0/24"},
        {"zone_id": "z2", "cidr_block": "192.168.1.0/24"},
    ]
    assert "vswitch_ids" not in got["terraform"]
    assert "vswitch_ids" not in got["create_cluster"]
    assert got["missing"] == [
        "node_vswitch_id of zone z2 (vSwitch 192.168.1.0/24): create it, then set its ID"
    ]
    both = [zone("z1", "vsw-1"), zone("z2", "vsw-2", node_cidr="192.168.1.0/24")]
    got = export_cluster({}, settings(), [capacity(26)], both)
    assert got["create_cluster"]["vswitch_ids"] == ["vsw-1", "vsw-2"]
    assert got["missing"] == []


def test_terway_exports_pod_vswitches_and_its_notes():
    zones = [zone("z1", "vsw-n", "192.168.32.0/19", "vsw-p")]
    got = export_cluster({}, settings(mode="terway", stack="dual", pod=()), [], zones)
    assert got["terraform"]["pod_vswitches"] == [{"zone_id": "z1", "cidr_block": "192.168.32.0/19"}]
    assert got["terraform"]["pod_vswitch_ids"] == ["vsw-p"]
    assert got["create_cluster"]["pod_vswitch_ids"] == ["vsw-p"]
    assert "pod_cidr" not in got["terraform"]
    assert "container_cidr" not in got["create_cluster"]
    assert got["notes"] == [
        "Terway: add the terway-eniip addon (addons) to the cluster",
        "dual stack: the VPC and every vSwitch need IPv6 enabled (Alibaba Cloud assigns "
        "each vSwitch a /64)",
    ]
    missing_pod = [zone("z1", "vsw-n", "192.168.32.0/19", None)]
    got = export_cluster({}, settings(mode="terway", pod=()), [], missing_pod)
    assert "pod_vswitch_ids" not in got["terraform"]
    assert got["missing"] == [
        "pod_vswitch_id of zone z1 (vSwitch 192.168.32.0/19): create it, then set its ID"
    ]
    assert got["notes"] == ["Terway: add the terway-eniip addon (addons) to the cluster"]


# --- terway: vSwitch sizes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("addresses", "prefix"),
    [
        (1, 29),  # 1 + 4 reserved = 5: a /29 (8), the smallest vSwitch
        (4, 29),  # 8 exactly
        (5, 28),  # 9: a /28 (16)
        (12, 28),  # 16 exactly
        (13, 27),
        (252, 24),  # 256 exactly
        (253, 23),
        (65532, 16),  # 65536 exactly: the largest vSwitch
    ],
)
def test_vswitch_prefix_holds_the_addresses_plus_four_reserved(addresses, prefix):
    assert terway.vswitch_prefix(addresses, "f", "w") == prefix


def test_more_than_a_slash_16_holds_is_refused_with_the_numbers():
    with pytest.raises(InputError) as exc:
        terway.vswitch_prefix(65533, "network.clusters[0].zones[0].nodes", "zone z1 pod vSwitch")
    assert str(exc.value) == (
        "network.clusters[0].zones[0].nodes: 65533 addresses for zone z1 pod vSwitch do not "
        "fit one vSwitch: a vSwitch is at most /16 (65532 usable addresses); spread the nodes "
        "over more zones or lower pods_per_node"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, Fraction(0)), (0, Fraction(0)), ("0.2", Fraction(1, 5)), (10, Fraction(10))],
)
def test_headroom_is_an_exact_ratio_from_0_to_10(value, expected):
    assert terway._headroom("h", value) == expected


@pytest.mark.parametrize("value", [-0.1, 10.5, "-1"])
def test_headroom_outside_0_to_10_is_refused(value):
    with pytest.raises(InputError) as exc:
        terway._headroom("network.clusters[0].ip_headroom", value)
    assert str(exc.value).startswith("network.clusters[0].ip_headroom: ")
    assert str(exc.value).endswith("must be between 0 and 10 (0.2 means 20 % spare addresses)")


# --- terway: plan_zones through validate_plan ------------------------------------------------


def terway_plan(**changes):
    cluster = {
        "name": "tw",
        "network_mode": "terway",
        "service_cidr": "172.21.0.0/20",
        "pods_per_node": 64,
        "zones": [
            {"name": "z1", "nodes": 10},
            {"name": "z2", "nodes": 3, "node_vswitch": "192.168.200.0/29", "node_vswitch_id": "v"},
        ],
    }
    cluster.update(changes)
    return {"vpc_cidr": "192.168.0.0/16", "clusters": [cluster]}


def test_zone_vswitches_worked_out_by_hand():
    # z1: 10 nodes -> 14 addresses -> /28 (12 usable); 640 pods -> 644 -> /22 (1020 usable)
    # z2: node vSwitch given (/29: 4 usable for 3 nodes); 192 pods -> 196 -> /24 (252)
    # Proposed largest first from the VPC's start: /22 192.168.0.0, /24 192.168.4.0,
    # /28 192.168.5.0.
    result = validate_plan(terway_plan())
    assert result["valid"], result["conflicts"]
    assert result["zones"] == [
        {
            "cluster": "tw",
            "zone": "z1",
            "nodes": 10,
            "pods_per_node": 64,
            "node_vswitch": {"needed": 10, "prefix": 28, "id": None, "cidr": "192.168.5.0/28",
                             "usable": 12, "proposed": True},
            "pod_vswitch": {"needed": 640, "prefix": 22, "id": None, "cidr": "192.168.0.0/22",
                            "usable": 1020, "proposed": True},
        },
        {
            "cluster": "tw",
            "zone": "z2",
            "nodes": 3,
            "pods_per_node": 64,
            "node_vswitch": {"needed": 3, "prefix": 29, "id": "v", "cidr": "192.168.200.0/29",
                             "usable": 4, "proposed": False},
            "pod_vswitch": {"needed": 192, "prefix": 24, "id": None, "cidr": "192.168.4.0/24",
                            "usable": 252, "proposed": True},
        },
    ]  # fmt: skip


def test_headroom_and_the_default_of_128_pods_per_node():
    plan = terway_plan(ip_headroom=0.5, zones=[{"name": "z1", "nodes": 10}])
    (zone,) = validate_plan(plan)["zones"]
    assert zone["pod_vswitch"]["needed"] == 960  # 640 x 1.5
    cluster = terway_plan(zones=[{"name": "z1", "nodes": 2}])
    del cluster["clusters"][0]["pods_per_node"]
    (zone,) = validate_plan(cluster)["zones"]
    assert zone["pods_per_node"] == 128
    assert zone["pod_vswitch"]["needed"] == 256


def test_a_flannel_clusters_zones_size_node_vswitches_only():
    plan = {
        "vpc_cidr": "192.168.0.0/16",
        "clusters": [{"name": "fl", "pod_cidr": "10.0.0.0/16", "service_cidr": "172.21.0.0/20",
                      "zones": [{"name": "z1", "nodes": 5}]}],
    }  # fmt: skip
    (zone,) = validate_plan(plan)["zones"]
    assert zone["pods_per_node"] is None
    assert "pod_vswitch" not in zone
    assert zone["node_vswitch"]["prefix"] == 28  # 5 + 4 = 9 -> 16
    no_zones = {**plan, "clusters": [{**plan["clusters"][0], "zones": None}]}
    assert validate_plan(no_zones)["zones"] == []


def test_given_vswitches_too_small_or_of_a_bad_mask_are_errors_with_numbers():
    plan = terway_plan(zones=[
        {"name": "z1", "nodes": 10, "pod_vswitch": "192.168.128.0/24"},
        {"name": "z2", "nodes": 3, "node_vswitch": "192.168.200.0/30"},
    ])  # fmt: skip
    result = validate_plan(plan)
    assert result["valid"] is False
    sized = [c for c in result["conflicts"] if c["type"] == "vswitch_too_small"]
    assert [c["message"] for c in sized] == [
        "cluster 'tw' zone z1 pod vSwitch 192.168.128.0/24: 252 usable addresses (256 minus 4 "
        "reserved) for 640 needed: use a /22 or larger",
        "cluster 'tw' zone z2 node vSwitch 192.168.200.0/30: a vSwitch mask must be /16 to "
        "/29, not /30",
        "cluster 'tw' zone z2 node vSwitch 192.168.200.0/30: 0 usable addresses (4 minus 4 "
        "reserved) for 3 needed: use a /29 or larger",
    ]
    assert sized[0]["severity"] == "error"
    assert sized[0]["first"]["field"] == "network.clusters[0].zones[0].pod_vswitch"
    assert sized[0]["second"] == {
        "role": "zone",
        "name": "cluster 'tw' zone z1 pod vSwitch",
        "field": None,
        "cidr": None,
    }


def test_a_mask_too_large_with_room_enough_is_a_mask_error():
    plan = {
        "vpc_cidr": "10.0.0.0/8",
        "clusters": [{"name": "fl", "pod_cidr": "172.16.0.0/16", "service_cidr": "172.21.0.0/20",
                      "zones": [{"name": "z1", "nodes": 5, "node_vswitch": "10.0.0.0/15"}]}],
    }  # fmt: skip
    result = validate_plan(plan)
    (bad,) = [c for c in result["conflicts"] if c["type"] == "vswitch_mask_invalid"]
    assert bad["message"] == (
        "cluster 'fl' zone z1 node vSwitch 10.0.0.0/15: a vSwitch mask must be /16 to /29, not /15"
    )


@pytest.mark.parametrize(
    ("changes", "field", "cause"),
    [
        ({"zones": []}, "network.clusters[0].zones", "must be a non-empty list of zones"),
        ({"zones": [{"nodes": 1}]}, "network.clusters[0].zones[0].name", "e.g. cn-hangzhou-i"),
        ({"zones": [{"name": " ", "nodes": 1}]}, "network.clusters[0].zones[0].name", "zone ID"),
        (
            {"zones": [{"name": "z", "nodes": 1}, {"name": "z", "nodes": 1}]},
            "network.clusters[0].zones[1].name",
            "is listed twice in this cluster",
        ),
        (
            {"nodes": 12},
            "network.clusters[0].nodes",
            "differs from the 13 nodes its zones list: in Terway mode the zones say how many "
            "nodes each pod vSwitch serves (drop nodes or fix the zones)",
        ),
    ],
)
def test_bad_zones_name_field_and_cause(changes, field, cause):
    with pytest.raises(InputError) as exc:
        validate_plan(terway_plan(**changes))
    assert str(exc.value).startswith(f"{field}: ")
    assert cause in str(exc.value)


def test_terway_nodes_matching_the_zones_are_accepted():
    assert validate_plan(terway_plan(nodes=13))["valid"] is True


def test_a_pod_vswitch_on_a_flannel_cluster_is_refused():
    plan = {
        "vpc_cidr": "192.168.0.0/16",
        "clusters": [{"name": "fl", "pod_cidr": "10.0.0.0/16", "service_cidr": "172.21.0.0/20",
                      "zones": [{"name": "z1", "nodes": 5, "pod_vswitch_id": "vsw-x"}]}],
    }  # fmt: skip
    with pytest.raises(InputError) as exc:
        validate_plan(plan)
    assert str(exc.value).startswith("network.clusters[0].zones[0].pod_vswitch_id: ")
    assert str(exc.value).endswith(
        "is for Terway: a Flannel cluster's pods use pod_cidr (set network_mode: terway or "
        "remove it)"
    )


def test_a_vswitch_to_propose_without_a_vpc_names_the_first_one():
    plan = terway_plan()
    del plan["vpc_cidr"]
    with pytest.raises(InputError) as exc:
        validate_plan(plan)
    assert str(exc.value).startswith("network.clusters[0].zones[0].node_vswitch: ")
    assert str(exc.value).endswith(
        "is not given, and there is no network.vpc_cidr to propose it from"
    )


def test_a_vswitch_exactly_full_and_a_slash_16_are_fine():
    # 4 nodes in a /29: 8 - 4 reserved = 4 usable, exactly enough.
    plan = terway_plan(zones=[{"name": "z1", "nodes": 4, "node_vswitch": "192.168.200.0/29"}])
    result = validate_plan(plan)
    assert [c for c in result["conflicts"] if c["type"].startswith("vswitch")] == []
    wide = {
        "vpc_cidr": "10.0.0.0/8",
        "clusters": [{"name": "fl", "pod_cidr": "172.16.0.0/16", "service_cidr": "172.21.0.0/20",
                      "zones": [{"name": "z1", "nodes": 5, "node_vswitch": "10.0.0.0/16"}]}],
    }  # fmt: skip
    assert [c for c in validate_plan(wide)["conflicts"] if c["type"].startswith("vswitch")] == []


def test_unnamed_clusters_are_named_by_their_index_everywhere():
    from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_plan import (
        build_plan,
    )

    plan = {
        "vpc_cidr": "192.168.0.0/16",
        "clusters": [
            {"pod_cidr": "10.0.0.0/16", "service_cidr": "172.21.0.0/20"},  # no zones
            {"pod_cidr": "10.8.0.0/16", "service_cidr": "172.22.0.0/20",
             "zones": [{"name": "z1", "nodes": 3}]},
        ],
    }  # fmt: skip
    network = build_plan(network=plan)["network"]
    assert [z["cluster"] for z in network["zones"]] == ["1"]
    assert set(network["exports"]) == {"0", "1"}
    assert network["exports"]["1"]["terraform"]["node_vswitches"] == [
        {"zone_id": "z1", "cidr_block": "192.168.0.0/29"}  # 3 + 4 = 7 addresses: a /29
    ]
    assert network["exports"]["0"]["terraform"]["node_cidr_mask"] == 24  # 128 pods a node


def test_two_zones_of_one_size_are_proposed_in_zone_order():
    plan = terway_plan(zones=[{"name": "z1", "nodes": 10}, {"name": "z2", "nodes": 10}])
    zones = validate_plan(plan)["zones"]
    assert [(z["zone"], z["pod_vswitch"]["cidr"], z["node_vswitch"]["cidr"]) for z in zones] == [
        ("z1", "192.168.0.0/22", "192.168.8.0/28"),
        ("z2", "192.168.4.0/22", "192.168.8.16/28"),
    ]


def test_a_vpc_too_small_names_the_vswitch_and_its_size():
    plan = terway_plan(zones=[{"name": "z1", "nodes": 10}])
    plan["vpc_cidr"] = "192.168.0.0/24"
    with pytest.raises(InputError) as exc:
        validate_plan(plan)
    assert str(exc.value) == (
        "network.clusters[0].zones[0].pod_vswitch.size: 22 leaves only 0 of 1 free block(s) "
        "in 192.168.0.0/24: ask for a smaller block or fewer"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nodes": "many"}, "network.clusters[0].nodes: "),
        ({"pods_per_node": 0}, "network.clusters[0].pods_per_node: "),
        ({"ip_headroom": "lots"}, "network.clusters[0].ip_headroom: "),
        ({"zones": ["z1"]}, "network.clusters[0].zones[0]: "),
    ],
)
def test_bad_cluster_and_zone_values_name_their_field(changes, field):
    with pytest.raises(InputError) as exc:
        validate_plan(terway_plan(**changes))
    assert str(exc.value).startswith(field)


def test_same_size_vswitches_of_different_needs_keep_zone_order():
    # 640 and 576 pods both need a /22; 10 and 9 nodes both a /28.
    plan = terway_plan(zones=[{"name": "z1", "nodes": 10}, {"name": "z2", "nodes": 9}])
    zones = validate_plan(plan)["zones"]
    assert [(z["pod_vswitch"]["cidr"], z["node_vswitch"]["cidr"]) for z in zones] == [
        ("192.168.0.0/22", "192.168.8.0/28"),
        ("192.168.4.0/22", "192.168.8.16/28"),
    ]


def test_a_given_vswitch_is_named_in_its_conflicts_and_must_be_ipv4():
    plan = terway_plan(zones=[{"name": "z1", "nodes": 10, "pod_vswitch": "192.168.128.0/24"}])
    (small,) = [c for c in validate_plan(plan)["conflicts"] if c["type"] == "vswitch_too_small"]
    assert small["first"]["name"] == "cluster 'tw' zone z1 pod vSwitch"
    with pytest.raises(InputError) as exc:
        validate_plan(terway_plan(zones=[{"name": "z1", "nodes": 1, "pod_vswitch": "fd00::/64"}]))
    assert str(exc.value).startswith("network.clusters[0].zones[0].pod_vswitch: 'fd00::/64'")
