# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_decommission filter: may a migrated Swarm stack be removed?"""

from __future__ import annotations

DOCUMENTATION = r"""
name: compose_decommission
author: ack-runbooks contributors (@ackops)
version_added: "1.3.0"
short_description: The decommission guard of the migrate-swarm runbook
description:
  - Decides from the live stack (RV(ackops.runbooks.swarm_stack_info#module:services))
    and the inventory's traffic check whether the Swarm stack may be removed.
  - Refused (V(refuse)) while tasks of the stack run and no traffic check is
    given or it exits non-zero; V(remove) when it passes (or nothing runs) and
    O(remove) is true; V(report) when it passes without O(remove); V(none) when
    the stack is not deployed.
options:
  _input:
    description: The registered result of M(ackops.runbooks.swarm_stack_info).
    type: dict
    required: true
  check:
    description: The registered result of the traffic check (C(rc), C(stdout)); none when no check ran.
    type: dict
  remove:
    description: Removal was asked for.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Decide
  ansible.builtin.set_fact:
    decision: "{{ live | ackops.runbooks.compose_decommission(check=traffic, remove=true) }}"
"""

RETURN = r"""
_value:
  description: The decision.
  type: dict
  contains:
    allowed: {description: False when refused., type: bool}
    action: {description: "V(refuse), V(remove), V(report) or V(none).", type: str}
    reasons: {description: Why., type: list, elements: str}
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.cutover import (
    decommission_decision,
)
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import documented_filter


@documented_filter(DOCUMENTATION)
def compose_decommission(live, check=None, remove=False):
    running = {s["service"]: int(s.get("running") or 0) for s in live.get("services") or []}
    if check is not None and "rc" not in check:
        check = None  # a skipped task
    return decommission_decision(bool(live.get("exists")), running, check, remove)


class FilterModule:
    def filters(self):
        return {"compose_decommission": compose_decommission}
