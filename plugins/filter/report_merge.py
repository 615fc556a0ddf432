# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ackops.runbooks.report_merge: the fleet report from the fragments of a sliced run."""

from __future__ import annotations

DOCUMENTATION = r"""
name: report_merge
author: ack-runbooks contributors (@ackops)
version_added: "1.2.0"
short_description: Merge the report fragments of a sliced job into the fleet report
description:
  - With AWX/AAP job slicing, each slice of a job runs the runbook on part of the
    inventory and writes its report as a fragment (the report role's
    C(report_fragment)), C(<name>.fragment-<digest of its hosts>.json), holding the
    hosts it covered, the report's data and its HTML table spec.
  - This filter builds one report from the fragments, as a single run over every
    host would have written it. Each host must be covered by exactly one fragment;
    a host in two fragments (fragments of two runs mixed) is an error naming it.
  - "The data is merged key by key: equal values kept, lists joined (lists of
    names: their union), mappings merged. Numbers are added only for the keys the
    report declared additive when it wrote its fragments (the report role's
    C(report_additive)); any other disagreement (two different thresholds, two
    different minimums) is an error naming the key and the fragments' files. A
    certificate report (C(certificates) and C(thresholds), from
    M(ackops.runbooks.k8s_cert_info) through the cert_report filter) gets its rows,
    summary and Markdown rebuilt from all rows, so it equals a single run's."
  - The HTML tables' rows are joined (the tables must have the same columns).
  - "Every fragment must be of one run: the fragments carry the run id of the
    slice that wrote them (AWX's workflow job id, or C(ackops_report_run_id)); a
    fragment of another run than O(run_id) (or than most fragments) is an error
    naming its file."
  - "With O(expected_hosts), the result lists the C(missing_hosts) (expected,
    covered by no fragment: a slice failed or never ran), in the data too and as
    a section of the Markdown; the report role's merge fails on them."
options:
  _input:
    description: The fragments, as read from their JSON files.
    type: list
    elements: dict
    required: true
  expected_hosts:
    description: The hosts the sliced job ran on; omitted, missing hosts are not looked for.
    type: list
    elements: str
  sources:
    description: The fragments' file names, in the order of the input, for errors.
    type: list
    elements: str
  run_id:
    description: The run every fragment must be of; omitted or empty, the run most fragments name.
    type: str
"""

EXAMPLES = r"""
- name: Read the fragments the slices wrote
  ansible.builtin.set_fact:
    fragments: "{{ query('ansible.builtin.fileglob', 'reports/renew-certs.fragment-*.json')
      | map('ansible.builtin.file') | map('from_json') | list }}"

- name: The fleet report
  ansible.builtin.set_fact:
    fleet: "{{ fragments | ackops.runbooks.report_merge(expected_hosts=groups['masters'] + groups['workers']) }}"
"""

RETURN = r"""
_value:
  description: The merged report.
  type: dict
  contains:
    report:
      description: The report's name (C(renew-certs)).
      type: str
    covered_hosts:
      description: Every host the fragments covered, sorted.
      type: list
      elements: str
    expected_hosts:
      description: O(expected_hosts), sorted; when given.
      type: list
      elements: str
    missing_hosts:
      description: The expected hosts no fragment covered, sorted; when O(expected_hosts) is given.
      type: list
      elements: str
    severity:
      description:
        - Critical and expired counts of the merged report, from its rebuilt summary
          (a certificate report) or else from its HTML rows.
      type: dict
      sample: {critical: 1, expired: 0}
    data:
      description: The merged data, what the report's JSON file holds.
      type: raw
    markdown:
      description: The merged report as Markdown.
      type: str
    html:
      description: The merged HTML table spec (for the report role's C(report_html)); empty when the fragments had none.
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.common.report import (
    FRAGMENT_KEY,
    html_counts,
    merge_fragments,
    render_markdown_tables,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.cert_report import summarise

# What a certificate report's single run computes from all of its rows.
_CERT_REBUILT = ("summary", "certificates", "markdown")


def _is_cert_report(data) -> bool:
    return isinstance(data, dict) and "certificates" in data and "thresholds" in data


def _missing_markdown(hosts) -> str:
    if not hosts:
        return ""
    lines = "\n".join(f"- {host}" for host in hosts)
    return f"\n\n## Missing: no slice reported these hosts\n\n{lines}"


def report_merge(fragments, expected_hosts=None, sources=None, run_id=None):
    if not isinstance(fragments, list):
        raise AnsibleFilterError("report_merge: expects a list of fragments")
    options = {"expected_hosts": expected_hosts, "sources": sources, "run_id": run_id}
    datas = [f.get("data") if isinstance(f, dict) else None for f in fragments]
    certs = bool(datas) and all(_is_cert_report(d) for d in datas)
    try:
        if certs:
            rows = [row for d in datas for row in d.get("certificates") or []]
            stripped = [
                {
                    **f,
                    "data": {k: v for k, v in f["data"].items() if k not in _CERT_REBUILT},
                }
                for f in fragments
            ]
            # The thresholds must agree (a merge of reports classified differently
            # would be wrong); generated is when the newest slice ran.
            newest = max(d.get("generated") or "" for d in datas)
            for f in stripped:
                f["data"].pop("generated", None)
            merged = merge_fragments(stripped, **options)
            thresholds = merged["data"]["thresholds"]
            merged["data"] |= {"generated": newest} | summarise(
                rows, thresholds["warning_days"], thresholds["critical_days"]
            )
            summary = merged["data"]["summary"]
            severity = {"critical": summary["critical"], "expired": summary["expired"]}
            markdown = merged["data"]["markdown"].rstrip("\n")
        else:
            merged = merge_fragments(fragments, **options)
            counts = html_counts(merged["html"]) if merged["html"] else {}
            severity = {"critical": counts.get("critical", 0), "expired": counts.get("expired", 0)}
            markdown = (
                render_markdown_tables(merged["html"])
                if merged["html"]
                else f"# {merged['report']}\n\nHosts: {', '.join(merged['covered_hosts'])}\n"
            ).rstrip("\n")
    except (RunbookError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"report_merge: {exc}") from exc
    merged["markdown"] = markdown + _missing_markdown(merged.get("missing_hosts")) + "\n"
    merged["severity"] = severity
    merged.pop(FRAGMENT_KEY, None)
    return merged


class FilterModule:
    def filters(self):
        return {"report_merge": report_merge}
