# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ackops.runbooks.cert_report: the fleet-wide certificate expiry report."""

from __future__ import annotations

DOCUMENTATION = r"""
name: cert_report
author: ack-runbooks contributors (@ackops)
version_added: "0.1.0"
short_description: Fleet-wide certificate expiry report from k8s_cert_info results
description:
  - Turns the per-host results of M(ackops.runbooks.k8s_cert_info) into one report,
    every certificate of every host sorted by expiry, soonest first.
  - Each row gets a status, V(expired), V(critical) (fewer than O(critical_days) days left),
    V(warning) (fewer than O(warning_days)) or V(ok); the summary counts them and names the worst.
  - The result is JSON-ready (for files, AWX C(set_stats), alerting) and carries a Markdown table
    under C(markdown) for people.
positional: warning_days, critical_days
options:
  _input:
    description:
      - Either a dict of inventory host name to that host's registered
        M(ackops.runbooks.k8s_cert_info) result, or a list of such results (each has C(host)).
    type: raw
    required: true
  warning_days:
    description: Rows with fewer days left than this are V(warning).
    type: int
    default: 30
  critical_days:
    description: Rows with fewer days left than this are V(critical). Must not exceed O(warning_days).
    type: int
    default: 7
"""

EXAMPLES = r"""
- name: Build the report from every host's inventory result
  ansible.builtin.set_fact:
    cert_report: >-
      {{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'k8s_certs')))
         | ackops.runbooks.cert_report(warning_days=30, critical_days=7) }}
  run_once: true

- name: Fail the scheduled run when anything is critical or expired
  ansible.builtin.assert:
    that: cert_report.summary.critical + cert_report.summary.expired == 0
    fail_msg: "{{ cert_report.markdown }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    generated:
      description: When the report was made, UTC.
      type: str
    thresholds:
      description: The O(warning_days) and O(critical_days) used.
      type: dict
    summary:
      description: >-
        Counts per status (C(expired), C(critical), C(warning), C(ok)), C(hosts), C(total),
        C(worst) status, the C(soonest) row and C(key_mismatches) (C(host:id) strings).
      type: dict
    certificates:
      description: >-
        One row per certificate, soonest expiry first, with C(host), C(id), C(name), C(kind),
        C(path), C(subject), C(serial), C(not_after), C(expires), C(residual_time), C(days_left),
        C(chains_to), C(key_matches), C(status).
      type: list
      elements: dict
    markdown:
      description: The rows as a Markdown table.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.cert_report import (
    ReportError,
    build_report,
)


def cert_report(results, warning_days=30, critical_days=7):
    try:
        return build_report(results, int(warning_days), int(critical_days))
    except (ReportError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"cert_report: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"cert_report": cert_report}
