# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_split filter: replica counts for a layer-4 canary weight."""

from __future__ import annotations

DOCUMENTATION = r"""
name: release_split
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Old and new replica counts that give a traffic weight behind one Service
description:
  - Old and new Deployments behind one Service share its traffic by ready pod
    count, so the new version's weight is C(new / (old + new)). From a target
    weight (percent to the new version) this finds the counts whose weight is
    nearest, and reports the weight they achieve and the error.
  - Give O(total) (old + new fixed), or O(old_replicas) (old side stays, new
    side chosen), or O(new_replicas) (new side stays), or both sides (their
    sum is kept and redistributed).
  - O(min_per_side) keeps at least that many pods on each side. On a tie the
    answer with fewer new pods wins, then the smaller total.
  - Impossible requests fail with the option and the reason (a weight outside
    0-100, a total below twice the minimum, a fixed side below the minimum,
    100 % while old pods must stay).
options:
  _input:
    description: The weight for the new version, in percent (0-100, decimals allowed).
    type: raw
    required: true
  total:
    description: Old plus new replicas, fixed.
    type: int
  min_per_side:
    description: Fewest replicas on either side.
    type: int
    default: 0
  old_replicas:
    description: Old replicas that stay as they are (alone), or the current old count (with O(new_replicas)).
    type: int
  new_replicas:
    description: New replicas that stay as they are (alone), or the current new count (with O(old_replicas)).
    type: int
"""

EXAMPLES = r"""
- name: 20 % to the new version with 5 pods in all
  ansible.builtin.debug:
    msg: "{{ 20 | ackops.runbooks.release_split(total=5) }}"
  # => {old: 4, new: 1, achieved_weight: 20.0, error: 0.0}

- name: A third to the new version while the 4 old pods stay
  ansible.builtin.debug:
    msg: "{{ 33 | ackops.runbooks.release_split(old_replicas=4) }}"
  # => {old: 4, new: 2, achieved_weight: 33.33, error: 0.33}
"""

RETURN = r"""
_value:
  description: The replica counts and the weight they give.
  type: dict
  contains:
    old: {description: Replicas of the old version., type: int}
    new: {description: Replicas of the new version., type: int}
    achieved_weight: {description: Percent of the traffic the new version gets with these counts., type: float}
    error: {description: Achieved minus requested weight, in percentage points., type: float}
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.release.split import split_replicas
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import documented_filter


@documented_filter(DOCUMENTATION)
def release_split(weight_percent, total=None, min_per_side=0, old_replicas=None, new_replicas=None):
    return split_replicas(weight_percent, total, min_per_side, old_replicas, new_replicas)


class FilterModule:
    def filters(self):
        return {"release_split": release_split}
