"""planning/cluster_sizing.py against sizes worked out on paper (issue 18).

Masters: the ACK guide's table to 200 nodes (16 cores / 64 GiB), then one doubling of
both per doubling of the node count (ceil(log2(nodes / 200)) doublings). Workers:
enough instances for the load, and at least 1/ratio of them so that losing one is at
most the tolerated share.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_sizing import (
    master_spec,
    worker_plan,
)

SMALL = "2 cores / 4 GiB masters are not recommended, even this small"
TEST_ENVS = "test environments may use smaller masters"
ETCD = "run etcd on dedicated SSD hosts and measure API latency before trusting it"


def extrapolated(doublings: int, nodes: int) -> str:
    return (
        "the guide's table ends at 200 nodes; this size is extrapolated assuming cores and "
        "memory double each time the node count doubles (16 cores / 64 GiB at 200 nodes, so "
        f"{doublings} doubling(s) for {nodes} nodes)"
    )


def test_the_guides_rows_and_their_notes():
    assert master_spec(5) == {
        "node_count": 5,
        "cores": 4,
        "memory_gib": 8,
        "source": "guide",
        "notes": [SMALL, TEST_ENVS],
    }
    assert master_spec(6)["notes"] == [TEST_ENVS]


@pytest.mark.parametrize(
    ("nodes", "doublings", "cores", "memory"),
    [
        (201, 1, 32, 128),  # 201/200 -> log2 just above 0 -> 1
        (400, 1, 32, 128),  # exactly one doubling
        (401, 2, 64, 256),
        (1000, 3, 128, 512),  # log2(5) = 2.32 -> 3
        (5000, 5, 512, 2048),  # log2(25) = 4.64 -> 5
    ],
)
def test_beyond_the_table_each_doubling_doubles_the_master(nodes, doublings, cores, memory):
    assert master_spec(nodes) == {
        "node_count": nodes,
        "cores": cores,
        "memory_gib": memory,
        "source": "extrapolated",
        "notes": [extrapolated(doublings, nodes), ETCD],
    }


def test_past_the_5000_nodes_kubernetes_is_tested_at_it_says_split():
    assert master_spec(5001)["notes"] == [
        extrapolated(5, 5001),
        ETCD,
        "5001 nodes exceeds the 5000-node limit Kubernetes is tested at: split the workload "
        "across clusters",
    ]


def test_a_worker_plan_whole_by_hand():
    # 160 cores at 10 %: 10 instances at least. 16 cores: 10 x 16 = 160 exactly.
    plan = worker_plan(160, 0.1, [16, 96])
    assert plan["total_cores"] == 160
    assert plan["failure_ratio"] == 0.1
    assert plan["memory_per_core_gib"] == 4
    assert plan["options"] == [
        {
            "instance_cores": 16,
            "instance_memory_gib": 64,
            "count": 10,
            "total_cores": 160,
            "total_memory_gib": 640,
            "load_cap_cores": 144,
            "overprovisioned_cores": 0,
            "loss_of_one_instance": 0.1,
        },
        {
            "instance_cores": 96,
            "instance_memory_gib": 384,
            "count": 10,
            "total_cores": 960,
            "total_memory_gib": 3840,
            "load_cap_cores": 864,
            "overprovisioned_cores": 800,
            "loss_of_one_instance": 0.1,
        },
    ]
    assert plan["recommended"]["instance_cores"] == 16
    assert plan["notes"] == [
        "memory-heavy (Java) workloads want 1:8 CPU:memory (memory_per_core_gib: 8)"
    ]


def test_fractional_memory_is_kept_exact():
    # 3-core instances at 1.5 GiB a core: 4.5 GiB each; 2 of them hold 9 GiB (whole).
    plan = worker_plan(6, 0.5, [3], memory_per_core_gib="1.5")
    (option,) = plan["options"]
    assert option["instance_memory_gib"] == 4.5
    assert isinstance(option["instance_memory_gib"], float)
    assert option["total_memory_gib"] == 9
    assert isinstance(option["total_memory_gib"], int)
    assert plan["memory_per_core_gib"] == 1.5
    half = worker_plan(6, 0.5, [4], memory_per_core_gib=0.5)  # below 1 GiB a core: allowed
    assert half["options"][0]["instance_memory_gib"] == 2


def test_overprovisioning_and_bare_metal_notes_at_their_thresholds():
    plan = worker_plan(999, 0.5, [96], memory_per_core_gib=8)
    # 999 cores on 96-core instances: 11 carry the load (1056 cores), 57 above.
    assert plan["notes"] == [
        "no instance size fits 999 cores at 50% failure tolerance exactly: 57 cores above "
        "the requirement"
    ]
    plan = worker_plan(1000, 0.5, [100], memory_per_core_gib=8)
    assert plan["notes"] == [
        "1000 cores is at the scale where the guide suggests bare-metal instances (>= 96 "
        "cores each)"
    ]
    assert worker_plan(16, 0.5, [8], memory_per_core_gib="7.5")["notes"] == [
        "memory-heavy (Java) workloads want 1:8 CPU:memory (memory_per_core_gib: 8)"
    ]


def test_memory_per_core_must_be_above_zero():
    with pytest.raises(InputError) as exc:
        worker_plan(16, 0.5, [8], memory_per_core_gib=0)
    assert str(exc.value) == "workers.memory_per_core_gib: 0 must be greater than zero"
