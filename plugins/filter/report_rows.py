# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ackops.runbooks.report_rows: table rows from a mapping of named groups of entries."""

from __future__ import annotations

DOCUMENTATION = r"""
name: report_rows
author: ack-runbooks contributors (@ackops)
version_added: "1.2.0"
short_description: Flatten a mapping of named groups into the rows of a report table
description:
  - Reports often group their entries by name (compose services, hosts, namespaces),
    a mapping of each name to a group holding a list of entries, while a report table
    (the report role's C(report_html)) wants one row per entry.
  - Each entry of each group becomes a row, with the group's name under O(key) and
    the group's fields named in O(parent) copied in (an entry's own field wins).
  - Groups in name order, entries in their order.
options:
  _input:
    description: Group name to the group, a mapping holding the list O(items), or the list itself.
    type: dict
    required: true
  items:
    description: The key of the list of entries in each group; empty when each group is the list.
    type: str
    default: ""
  key:
    description: The row field that gets the group's name.
    type: str
    default: name
  parent:
    description: Fields of the group copied into each of its rows.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: One row per compose key of every service
  ansible.builtin.debug:
    msg: "{{ conversion.report.services | ackops.runbooks.report_rows(items='entries', key='service', parent=['kind']) }}"
"""

RETURN = r"""
_value:
  description: The rows.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def report_rows(groups, items="", key="name", parent=None):
    if not isinstance(groups, dict):
        raise AnsibleFilterError("report_rows: expects a mapping of group name to group")
    rows = []
    for name in sorted(groups, key=str):
        group = groups[name]
        entries = group.get(items) if items and isinstance(group, dict) else group
        if entries is None:
            entries = []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            where = f"{name}.{items}" if items else str(name)
            raise AnsibleFilterError(f"report_rows: {where} is not a list of mappings")
        copied = {p: group.get(p) for p in parent or [] if isinstance(group, dict) and p in group}
        rows += [{key: name, **copied, **entry} for entry in entries]
    return rows


class FilterModule:
    def filters(self):
        return {"report_rows": report_rows}
