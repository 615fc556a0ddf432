"""planning/cluster_plan.py called directly (issue 18), with expected values written by hand.

The report text is compared whole against hand-built plans, so every line of it is
held; the plan itself against the ACK planning guide's master table and worker
arithmetic worked out on paper.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_plan import (
    build_plan,
    export_files,
    markdown,
)

# --- build_plan --------------------------------------------------------------------------


def test_nothing_asked_plans_nothing_and_is_valid():
    assert build_plan() == {
        "master": None,
        "workers": None,
        "network": None,
        "proposals": None,
        "valid": True,
    }


@pytest.mark.parametrize(
    ("nodes", "cores", "memory"),
    # The ACK guide's master table: up to 5 nodes 4C8G, 20: 4C16G, 100: 8C32G, 200: 16C64G.
    [(1, 4, 8), (5, 4, 8), (6, 4, 16), (20, 4, 16), (21, 8, 32), (100, 8, 32), (200, 16, 64)],
)
def test_masters_follow_the_guides_table(nodes, cores, memory):
    master = build_plan(node_count=nodes)["master"]
    assert (master["node_count"], master["cores"], master["memory_gib"]) == (nodes, cores, memory)
    assert master["source"] == "guide"


def test_masters_beyond_the_table_are_extrapolated_and_say_so():
    master = build_plan(node_count=400)["master"]  # one doubling past 200 nodes
    assert (master["cores"], master["memory_gib"], master["source"]) == (32, 128, "extrapolated")


def test_a_bad_node_count_is_named_by_its_field():
    with pytest.raises(InputError) as exc:
        build_plan(node_count="many")
    assert str(exc.value).startswith("node_count: ")


def test_workers_take_the_default_sizes_and_four_gib_per_core():
    # 160 cores at 10 %: at least 10 instances; 10 x 16 cores is exactly 160.
    workers = build_plan(workers={"total_cores": 160, "failure_ratio": 0.1})["workers"]
    assert [o["instance_cores"] for o in workers["options"]] == [4, 8, 16, 32, 64, 96]
    best = workers["recommended"]
    assert (best["count"], best["instance_cores"], best["instance_memory_gib"]) == (10, 16, 64)
    assert best["load_cap_cores"] == 144
    assert workers["memory_per_core_gib"] == 4


def test_workers_given_sizes_and_memory_are_used():
    # 160 cores on 32-core instances: 5 carry the load, 10 keep a loss at 10 %.
    plan = {"total_cores": 160, "failure_ratio": 0.1, "instance_cores": [32]}
    plan["memory_per_core_gib"] = 8
    best = build_plan(workers=plan)["workers"]["recommended"]
    assert (best["count"], best["instance_cores"], best["instance_memory_gib"]) == (10, 32, 256)
    assert best["total_cores"] == 320


@pytest.mark.parametrize(
    ("workers", "field"),
    [
        (["160"], "workers: "),
        ({"failure_ratio": 0.1}, "workers.total_cores: "),
        ({"total_cores": 160}, "workers.failure_ratio: "),
        ({"total_cores": 160, "failure_ratio": 0.1, "instance_cores": None}, "workers.instance"),
        ({"total_cores": 160, "failure_ratio": 0.1, "memory_per_core_gib": None}, "workers.memory"),
    ],
)
def test_bad_workers_are_named_by_their_field(workers, field):
    with pytest.raises(InputError) as exc:
        build_plan(workers=workers)
    assert str(exc.value).startswith(field)


SOUND = {"name": "a", "pod_cidr": "10.0.0.0/16", "service_cidr": "172.21.0.0/20"}
# 300 pods per node need 512 addresses per node, a /23: ACK takes /24 to /28.
DENSE = {"name": "b", "pod_cidr": "10.8.0.0/16", "service_cidr": "172.22.0.0/20"}
DENSE["pods_per_node"] = 300


def test_what_ack_would_refuse_is_an_error_naming_the_cluster_by_its_index():
    result = build_plan(network={"clusters": [SOUND, DENSE]})
    assert result["valid"] is False
    assert result["network"]["valid"] is False
    (refused,) = [c for c in result["network"]["conflicts"] if c["type"] == "ack_would_refuse"]
    assert refused["first"] == {
        "role": "cluster",
        "name": "cluster 'b'",
        "field": "network.clusters[1]",
        "cidr": None,
    }
    assert refused["second"] == {"role": "ack", "name": "ACK", "field": None, "cidr": None}
    assert refused["severity"] == "error"
    assert refused["message"] == (
        "cluster 'b': ACK would refuse node_cidr_mask 23: ACK accepts 24 to 28 "
        "(14 to 254 pods per node)"
    )
    assert set(result["network"]["exports"]) == {"a", "b"}


def test_a_sound_network_is_valid_with_its_exports():
    result = build_plan(network={"clusters": [SOUND]})
    assert result["valid"] is True
    export = result["network"]["exports"]["a"]
    assert export["create_cluster"]["container_cidr"] == "10.0.0.0/16"
    assert export["problems"] == []


def test_network_errors_are_named_under_network():
    with pytest.raises(InputError) as exc:
        build_plan(network={"clusters": [{**SOUND, "pod_cidr": "10.0.0.1/16"}]})
    assert str(exc.value).startswith("network.clusters[0].pod_cidr: ")


def test_proposals_avoid_the_network_and_are_named_under_proposals():
    # Every private range but 10/8 reserved by the plan: the pod CIDR must come from
    # 10/8 after the cluster's own 10.0.0.0/16.
    network = {
        "clusters": [SOUND],
        "reserved": [{"cidr": "172.16.0.0/12"}, {"cidr": "192.168.0.0/16"}],
    }
    plan = build_plan(network=network, proposals={"count": 1})
    assert plan["proposals"]["pod_cidrs"] == ["10.1.0.0/16"]
    alone = build_plan(proposals={"count": 1})
    assert alone["network"] is None
    assert alone["valid"] is True
    assert alone["proposals"]["pod_cidrs"] != []
    with pytest.raises(InputError) as exc:
        build_plan(proposals={"ip_stack": "ipv7"})
    assert str(exc.value).startswith("proposals.ip_stack: ")


# --- export_files ------------------------------------------------------------------------


def test_no_exports_no_files():
    assert export_files({}) == {}
    assert export_files({"network": None}) == {}
    assert export_files({"network": {"exports": {}}}) == {}


def test_export_files_are_sorted_indented_json_with_a_final_newline():
    plan = {
        "network": {
            "exports": {
                "prod": {"terraform": {"pod_cidr": "10.0.0.0/16", "ip_stack": "ipv4"},
                         "create_cluster": {"node_cidr_mask": "26"}},
            }
        }
    }  # fmt: skip
    files = export_files(plan)
    assert files == {
        "auto.tfvars.json": "{\n"
        '  "ack_clusters": {\n'
        '    "prod": {\n'
        '      "ip_stack": "ipv4",\n'
        '      "pod_cidr": "10.0.0.0/16"\n'
        "    }\n"
        "  }\n"
        "}\n",
        "createcluster.json": '{\n  "prod": {\n    "node_cidr_mask": "26"\n  }\n}\n',
    }
    assert json.loads(files["auto.tfvars.json"])["ack_clusters"]["prod"]["ip_stack"] == "ipv4"


# --- markdown ----------------------------------------------------------------------------

MASTER = {
    "node_count": 3,
    "cores": 4,
    "memory_gib": 8,
    "source": "guide",
    "notes": ["first note", "second note"],
}
WORKERS = {
    "total_cores": 160,
    "failure_ratio": 0.125,
    "recommended": {"count": 10, "instance_cores": 16, "instance_memory_gib": 64,
                    "load_cap_cores": 144},
    "options": [
        {"instance_cores": 16, "count": 10, "total_cores": 160, "load_cap_cores": 144,
         "overprovisioned_cores": 0, "total_memory_gib": 640},
        {"instance_cores": 96, "count": 8, "total_cores": 768, "load_cap_cores": 672,
         "overprovisioned_cores": 608, "total_memory_gib": 3072.5},
    ],
    "notes": ["a note | with a bar"],
}  # fmt: skip
NETWORK = {
    "valid": False,
    "blocks": 3,
    "conflicts": [
        {"severity": "error", "type": "overlap",
         "first": {"field": "network.clusters[0].pod_cidr", "name": "pod CIDR of a"},
         "second": {"field": None, "name": "VPC | main"},
         "message": "10.0.0.0/16 overlaps x|y"},
    ],
    "capacity": [
        {"cluster": "a", "pod_cidr": "10.0.0.0/16", "pods_per_node": 64, "max_nodes": 256,
         "node_block": {"prefix": 25, "max_pods": 126, "max_nodes": 512}},
    ],
    "zones": [
        {"cluster": "a", "zone": "z1", "nodes": 3, "pods_per_node": None,
         "node_vswitch": {"cidr": "192.168.0.0/28", "proposed": True, "usable": 12, "needed": 3},
         "pod_vswitch": None},
        {"cluster": "a", "zone": "z2", "nodes": 2, "pods_per_node": 0,
         "node_vswitch": {"cidr": "192.168.0.16/28", "proposed": False, "usable": 12,
                          "needed": 2},
         "pod_vswitch": {"cidr": "192.168.4.0/22", "proposed": False, "usable": 1020,
                         "needed": 0}},
    ],
    "exports": {
        "a": {"terraform": {"pod_cidr": "10.0.0.0/16", "ip_stack": "ipv4"},
              "create_cluster": {"service_cidr": "172.21.0.0/20", "ip_stack": "ipv4"},
              "problems": ["p1"], "missing": ["m1", "m2"], "notes": ["n1"]},
        "b": {"terraform": {}, "create_cluster": {}, "problems": [], "missing": [], "notes": []},
    },
}  # fmt: skip
PROPOSALS = {
    "pod_cidrs": ["10.1.0.0/16", "10.2.0.0/16"],
    "service_cidrs": ["172.16.0.0/20", "172.16.16.0/20"],
    "pod_v6_cidrs": ["fd00:1::/56", "fd00:2::/56"],
    "service_v6_cidrs": [],
}

EXPECTED = """\
# Cluster plan

## Masters (3 nodes)

4 cores, 8 GiB each (guide).

- first note
- second note

## Workers (160 cores, 12% failure tolerated)

Recommended: 10 x 16 cores / 64 GiB, load cap 144 cores.

| instance cores | count | total cores | load cap | overprovisioned | memory GiB |
|---|---|---|---|---|---|
| 16 | 10 | 160 | 144 | 0 | 640 |
| 96 | 8 | 768 | 672 | 608 | 3072.5 |

- a note | with a bar

## Network: INVALID (1 conflict(s), 3 CIDRs checked)

| severity | type | first | second | message |
|---|---|---|---|---|
| error | overlap | network.clusters[0].pod_cidr | VPC \\| main | 10.0.0.0/16 overlaps x\\|y |

### Max nodes

| cluster | pod CIDR | pods/node | max nodes (guide) | node block | max pods/block | max nodes (blocks) |
|---|---|---|---|---|---|---|
| a | 10.0.0.0/16 | 64 | 256 | /25 | 126 | 512 |

### vSwitches per zone

| cluster | zone | nodes | pods/node | node vSwitch | pod vSwitch |
|---|---|---|---|---|---|
| a | z1 | 3 | - | 192.168.0.0/28 (proposed): 12 usable, 3 needed | - |
| a | z2 | 2 | 0 | 192.168.0.16/28: 12 usable, 2 needed | 192.168.4.0/22: 1020 usable, 0 needed |

### Export for ACK: cluster 'a'

- Terraform (alicloud_cs_managed_kubernetes): `{"ip_stack": "ipv4", "pod_cidr": "10.0.0.0/16"}`
- CreateCluster body: `{"ip_stack": "ipv4", "service_cidr": "172.21.0.0/20"}`
- ACK would refuse: p1
- to fill in: m1
- to fill in: m2
- note: n1

### Export for ACK: cluster 'b'

- Terraform (alicloud_cs_managed_kubernetes): `{}`
- CreateCluster body: `{}`

## Free CIDRs for a new cluster

- pod: 10.1.0.0/16, 10.2.0.0/16
- service: 172.16.0.0/20, 172.16.16.0/20
- pod (IPv6): fd00:1::/56, fd00:2::/56
"""


def test_the_whole_report_of_a_hand_built_plan():
    plan = {"master": MASTER, "workers": WORKERS, "network": NETWORK, "proposals": PROPOSALS}
    assert markdown(plan) == EXPECTED


def test_a_valid_network_without_conflicts_zones_or_exports():
    network = {**NETWORK, "valid": True, "blocks": 2, "conflicts": [], "zones": [], "exports": {}}
    text = markdown({"network": network}, title="Plan B")
    assert text == (
        "# Plan B\n\n"
        "## Network: valid (0 conflict(s), 2 CIDRs checked)\n\n"
        "### Max nodes\n\n"
        "| cluster | pod CIDR | pods/node | max nodes (guide) | node block | max pods/block "
        "| max nodes (blocks) |\n"
        "|---|---|---|---|---|---|---|\n"
        "| a | 10.0.0.0/16 | 64 | 256 | /25 | 126 | 512 |\n"
    )
    missing = {k: v for k, v in network.items() if k not in ("zones", "exports")}
    assert markdown({"network": missing}, title="Plan B") == text


def test_a_conflict_without_a_field_is_shown_by_name():
    conflict = {**NETWORK["conflicts"][0], "first": {"field": None, "name": "the VPC"}}
    text = markdown({"network": {**NETWORK, "conflicts": [conflict]}})
    assert "| error | overlap | the VPC | VPC \\| main |" in text


def test_an_empty_plan_is_just_the_title():
    assert markdown({}) == "# Cluster plan\n"
    assert markdown({"master": None, "workers": None, "network": None, "proposals": None}) == (
        "# Cluster plan\n"
    )


def test_proposals_list_the_v6_service_cidrs_when_there_are_some():
    proposals = {
        **PROPOSALS,
        "pod_v6_cidrs": [],
        "service_v6_cidrs": ["fd00:2::/112", "fd00:3::/112"],
    }
    assert markdown({"proposals": proposals}) == (
        "# Cluster plan\n\n"
        "## Free CIDRs for a new cluster\n\n"
        "- pod: 10.1.0.0/16, 10.2.0.0/16\n"
        "- service: 172.16.0.0/20, 172.16.16.0/20\n"
        "- service (IPv6): fd00:2::/112, fd00:3::/112\n"
    )
