# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ackops.runbooks.report_counts: rows per severity of a report's HTML table spec."""

from __future__ import annotations

DOCUMENTATION = r"""
name: report_counts
author: ack-runbooks contributors (@ackops)
version_added: "1.2.0"
short_description: Rows per severity level of a report's table spec
description:
  - Counts the rows of a report's HTML table spec (the report role's C(report_html),
    M(ackops.runbooks.report_write)'s O(ackops.runbooks.report_write#module:html)) by severity
    level, the way the HTML page colours them - V(none), V(ok), V(info), V(warning),
    V(critical), V(expired); levels without rows are left out.
  - The report role publishes these counts with set_stats for every report, so a
    workflow or an alert reads any runbook's counts the same way.
options:
  _input:
    description: The table spec.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Counts by severity
  ansible.builtin.debug:
    msg: "{{ {'columns': ['host', 'days_left'], 'rows': rows, 'severity': 'status'} | ackops.runbooks.report_counts }}"
"""

RETURN = r"""
_value:
  description: Rows per level.
  type: dict
  sample: {ok: 20, warning: 1, critical: 1}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.common.report import html_counts


def report_counts(spec):
    try:
        return html_counts(spec)
    except RunbookError as exc:
        raise AnsibleFilterError(f"report_counts: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"report_counts": report_counts}
