# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_cutover_result filter: one cut-over check's registered result as pass/fail."""

from __future__ import annotations

DOCUMENTATION = r"""
name: compose_cutover_result
author: ack-runbooks contributors (@ackops)
version_added: "1.3.0"
short_description: A cut-over check's result (a command's or a URL's) as name, passed, detail
description:
  - For the cutover step of the migrate-swarm runbook. A command check passes
    when it exits 0, a URL check when the status is the expected one.
options:
  _input:
    description: One loop item of a registered C(shell) or C(uri) result, with the check under C(migrate_swarm_check).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Results
  ansible.builtin.set_fact:
    checks: "{{ registered.results | map('ackops.runbooks.compose_cutover_result') | list }}"
"""

RETURN = r"""
_value:
  description: C(name), C(passed), C(detail).
  type: dict
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.cutover import check_result
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import documented_filter


@documented_filter(DOCUMENTATION)
def compose_cutover_result(result):
    return check_result(result)


class FilterModule:
    def filters(self):
        return {"compose_cutover_result": compose_cutover_result}
