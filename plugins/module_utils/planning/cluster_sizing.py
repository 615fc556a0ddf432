"""Master and worker sizing from the ACK planning guide (section 1.1 and 1.2)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import (
    InputError,
    exact_number,
    field_path,
    non_empty_list,
    positive_int,
    ratio_below_one,
)

# (largest node count, cores, memory GiB): the guide's table, in order.
MASTER_TABLE = ((5, 4, 8), (20, 4, 16), (100, 8, 32), (200, 16, 64))
GUIDE_MAX_NODES = MASTER_TABLE[-1][0]
# Kubernetes' published scalability envelope; beyond it no master size is "enough".
KUBERNETES_TESTED_NODES = 5000
# Guide 1.2: bare metal (>= 96 cores each) once a cluster needs about 1000 cores.
BARE_METAL_CORES = 1000
BARE_METAL_INSTANCE_CORES = 96
DEFAULT_INSTANCE_CORES = (4, 8, 16, 32, 64, 96)


def master_spec(node_count: Any, field: str = "node_count") -> dict:
    """Master size for a node count; beyond 200 nodes, an extrapolation that says so.

    The extrapolation assumes what the guide's last two rows show: cores and
    memory double when the node count doubles (8/32 at 100 nodes, 16/64 at 200),
    so each doubling beyond 200 doubles the master again.
    """
    nodes = positive_int(field, node_count)
    notes = []
    for limit, cores, memory in MASTER_TABLE:
        if nodes <= limit:
            if limit == MASTER_TABLE[0][0]:
                notes.append("2 cores / 4 GiB masters are not recommended, even this small")
            notes.append("test environments may use smaller masters")
            return {
                "node_count": nodes,
                "cores": cores,
                "memory_gib": memory,
                "source": "guide",
                "notes": notes,
            }
    doublings = math.ceil(math.log2(nodes / GUIDE_MAX_NODES))
    cores = MASTER_TABLE[-1][1] * 2**doublings
    memory = MASTER_TABLE[-1][2] * 2**doublings
    notes.append(
        f"the guide's table ends at {GUIDE_MAX_NODES} nodes; this size is extrapolated "
        "assuming cores and memory double each time the node count doubles "
        f"(16 cores / 64 GiB at 200 nodes, so {doublings} doubling(s) for {nodes} nodes)"
    )
    notes.append("run etcd on dedicated SSD hosts and measure API latency before trusting it")
    if nodes > KUBERNETES_TESTED_NODES:
        notes.append(
            f"{nodes} nodes exceeds the {KUBERNETES_TESTED_NODES}-node limit Kubernetes is "
            "tested at: split the workload across clusters"
        )
    return {
        "node_count": nodes,
        "cores": cores,
        "memory_gib": memory,
        "source": "extrapolated",
        "notes": notes,
    }


def _option(instance_cores: int, total: int, ratio: Fraction, memory_ratio: Fraction) -> dict:
    # Enough instances to carry the load, and enough that losing one is at most
    # `ratio` of the cluster.
    count = max(math.ceil(Fraction(total, instance_cores)), math.ceil(1 / ratio))
    provisioned = count * instance_cores
    return {
        "instance_cores": instance_cores,
        "instance_memory_gib": _whole(instance_cores * memory_ratio),
        "count": count,
        "total_cores": provisioned,
        "total_memory_gib": _whole(provisioned * memory_ratio),
        "load_cap_cores": provisioned - instance_cores,
        "overprovisioned_cores": provisioned - total,
        "loss_of_one_instance": float(Fraction(instance_cores, provisioned)),
    }


def _whole(number: Fraction) -> int | float:
    return int(number) if number.denominator == 1 else float(number)


def worker_plan(
    total_cores: Any,
    failure_ratio: Any,
    instance_cores: Any = DEFAULT_INSTANCE_CORES,
    memory_per_core_gib: Any = 4,
    field: str = "workers",
) -> dict:
    """Instance count and load cap for each size on offer, and the one to buy.

    The recommendation provisions the fewest cores, then the fewest instances:
    160 cores at 10 % gives 10 x 16 cores (cap 144), at 20 % 5 x 32 (cap 128).
    """
    total = positive_int(field_path(field, "total_cores"), total_cores)
    ratio = ratio_below_one(field_path(field, "failure_ratio"), failure_ratio)
    sizes_field = field_path(field, "instance_cores")
    sizes = non_empty_list(sizes_field, instance_cores)
    sizes = sorted({positive_int(f"{sizes_field}[{i}]", size) for i, size in enumerate(sizes)})
    memory_field = field_path(field, "memory_per_core_gib")
    memory_ratio = exact_number(memory_field, memory_per_core_gib)
    if memory_ratio <= 0:
        raise InputError(memory_field, memory_per_core_gib, "must be greater than zero")
    options = [_option(size, total, ratio, memory_ratio) for size in sizes]
    best = min(options, key=lambda o: (o["total_cores"], o["count"]))
    notes = []
    if best["overprovisioned_cores"]:
        notes.append(
            f"no instance size fits {total} cores at {float(ratio):.0%} failure tolerance "
            f"exactly: {best['overprovisioned_cores']} cores above the requirement"
        )
    if total >= BARE_METAL_CORES:
        notes.append(
            f"{total} cores is at the scale where the guide suggests bare-metal instances "
            f"(>= {BARE_METAL_INSTANCE_CORES} cores each)"
        )
    if memory_ratio < 8:
        notes.append("memory-heavy (Java) workloads want 1:8 CPU:memory (memory_per_core_gib: 8)")
    return {
        "total_cores": total,
        "failure_ratio": float(ratio),
        "memory_per_core_gib": _whole(memory_ratio),
        "recommended": best,
        "options": options,
        "notes": notes,
    }
