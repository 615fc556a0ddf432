"""Master and worker sizing: the guide's numbers exactly, and every bad input named."""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_sizing import (
    master_spec,
    worker_plan,
)


@pytest.mark.parametrize(
    ("nodes", "cores", "memory"),
    [
        (1, 4, 8),
        (5, 4, 8),
        (6, 4, 16),
        (20, 4, 16),
        (21, 8, 32),
        (100, 8, 32),
        (101, 16, 64),
        (200, 16, 64),
    ],
)
def test_master_spec_follows_the_guide_table(nodes, cores, memory):
    spec = master_spec(nodes)
    assert (spec["cores"], spec["memory_gib"], spec["source"]) == (cores, memory, "guide")


def test_master_spec_warns_against_tiny_masters():
    assert "2 cores / 4 GiB masters are not recommended, even this small" in master_spec(3)["notes"]


@pytest.mark.parametrize(
    ("nodes", "cores", "memory"), [(201, 32, 128), (400, 32, 128), (401, 64, 256), (800, 64, 256)]
)
def test_master_spec_beyond_200_nodes_is_extrapolated_and_says_how(nodes, cores, memory):
    spec = master_spec(nodes)
    assert (spec["cores"], spec["memory_gib"], spec["source"]) == (cores, memory, "extrapolated")
    assert "the guide's table ends at 200 nodes" in spec["notes"][0]
    assert "double each time the node count doubles" in spec["notes"][0]


def test_master_spec_beyond_the_kubernetes_tested_limit_says_split():
    assert any("5000-node limit" in note for note in master_spec(6000)["notes"])


def test_guide_example_160_cores_at_10_percent():
    plan = worker_plan(160, 0.1, [4, 8, 16, 32, 64])
    best = plan["recommended"]
    assert (best["count"], best["instance_cores"], best["load_cap_cores"]) == (10, 16, 144)
    assert best["overprovisioned_cores"] == 0


def test_guide_example_160_cores_at_20_percent():
    best = worker_plan(160, 0.2, [4, 8, 16, 32, 64])["recommended"]
    assert (best["count"], best["instance_cores"], best["load_cap_cores"]) == (5, 32, 128)


def test_worker_plan_lists_minimum_count_and_cap_per_size():
    options = {o["instance_cores"]: o for o in worker_plan(160, 0.1, [8, 32])["options"]}
    assert (options[8]["count"], options[8]["load_cap_cores"]) == (20, 152)
    # 5 x 32 would carry the load, but losing one would be 20 % > 10 %: 10 are needed.
    assert (options[32]["count"], options[32]["overprovisioned_cores"]) == (10, 160)


def test_worker_memory_follows_the_cpu_memory_ratio():
    best = worker_plan(160, 0.1, [16], memory_per_core_gib=8)["recommended"]
    assert (best["instance_memory_gib"], best["total_memory_gib"]) == (128, 1280)


def test_worker_plan_notes_overprovisioning_and_bare_metal():
    assert "cores above the requirement" in worker_plan(16, 0.1, [4, 8])["notes"][0]
    assert any("bare-metal" in n for n in worker_plan(1200, 0.1)["notes"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: master_spec(0), "node_count: 0 must be greater than zero"),
        (lambda: master_spec(-3), "node_count: -3 must be greater than zero"),
        (
            lambda: master_spec("many"),
            "node_count: 'many' must be a whole number greater than zero",
        ),
        (lambda: worker_plan(0, 0.1), "workers.total_cores: 0 must be greater than zero"),
        (lambda: worker_plan(-160, 0.1), "workers.total_cores: -160 must be greater than zero"),
        (
            lambda: worker_plan(160, 1),
            "workers.failure_ratio: 1 must be greater than 0 and less than 1",
        ),
        (lambda: worker_plan(160, 1.5), "workers.failure_ratio: 1.5 must be greater than 0"),
        (lambda: worker_plan(160, 0), "workers.failure_ratio: 0 must be greater than 0"),
        (lambda: worker_plan(160, "ten"), "workers.failure_ratio: 'ten' must be a number"),
        (lambda: worker_plan(160, 0.1, []), "workers.instance_cores: [] must be a non-empty list"),
        (
            lambda: worker_plan(160, 0.1, [16, 0]),
            "workers.instance_cores[1]: 0 must be greater than zero",
        ),
        (
            lambda: worker_plan(160, 0.1, [16], memory_per_core_gib=-4),
            "workers.memory_per_core_gib: -4 must be greater than zero",
        ),
    ],
)
def test_bad_sizing_input_names_field_and_value(call, message):
    with pytest.raises(InputError) as exc:
        call()
    assert message in str(exc.value)
