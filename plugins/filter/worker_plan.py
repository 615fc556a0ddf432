# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""worker_plan filter: worker instances for a core count and failure tolerance."""

from __future__ import annotations

DOCUMENTATION = r"""
name: worker_plan
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Worker instance count, size and load cap for a failure tolerance
description:
  - For O(_input) total cores and a tolerated failure ratio, returns for each
    instance size on offer the minimum instance count (enough cores, and enough
    instances that losing one is at most O(failure_ratio) of the cluster) and the
    load cap (the cores left with one instance lost).
  - The recommendation provisions the fewest cores, then the fewest instances;
    160 cores at 0.1 gives 10 x 16 cores with a cap of 144, at 0.2 5 x 32 with a
    cap of 128.
options:
  _input:
    description: Total cores the workloads need; a whole number above zero.
    type: int
    required: true
  failure_ratio:
    description: Share of the cluster that may be lost at once, above 0 and below 1 (0.1 = 10 %).
    type: float
    required: true
  instance_cores:
    description: Instance sizes on offer, in cores.
    type: list
    elements: int
    default: [4, 8, 16, 32, 64, 96]
  memory_per_core_gib:
    description: GiB of memory per core (4 for general purpose, 8 for memory-heavy Java).
    type: float
    default: 4
"""

EXAMPLES = r"""
- name: Plan workers for 160 cores that survive losing 10 %
  ansible.builtin.debug:
    msg: "{{ 160 | ackops.runbooks.worker_plan(failure_ratio=0.1) }}"
  # => recommended: count 10, instance_cores 16, load_cap_cores 144
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    recommended:
      description: The option to buy (same keys as each entry of RV(_value.options)).
      type: dict
    options:
      description: One entry per instance size.
      type: list
      elements: dict
      contains:
        instance_cores: {description: Cores per instance., type: int}
        instance_memory_gib: {description: Memory per instance in GiB., type: float}
        count: {description: Minimum number of instances., type: int}
        total_cores: {description: Cores provisioned., type: int}
        load_cap_cores:
          description: Cores left with one instance lost; keep the load below.
          type: int
        overprovisioned_cores: {description: Cores above the requirement., type: int}
        loss_of_one_instance: {description: Share of the cluster one instance is., type: float}
    notes:
      description: Caveats (overprovisioning, bare metal, memory ratio).
      type: list
      elements: str
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_sizing import (
    worker_plan,
)
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import (
    documented_filter,
)


@documented_filter(DOCUMENTATION, input_name="total_cores")
def worker_plan_filter(total_cores, failure_ratio, instance_cores, memory_per_core_gib):
    return worker_plan(total_cores, failure_ratio, instance_cores, memory_per_core_gib, field="")


class FilterModule:
    def filters(self):
        return {"worker_plan": worker_plan_filter}
