#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.report_write: a runbook's JSON, Markdown (and HTML) report, together."""

from __future__ import annotations

DOCUMENTATION = r"""
module: report_write
author: ack-runbooks contributors (@ackops)
version_added: "1.1.0"
short_description: Write a runbook's report as JSON and Markdown, both at once
description:
  - Writes O(dir)/O(name).json (O(data) with sorted keys, indented, one trailing
    newline) and O(dir)/O(name).md (O(markdown)) on the host it runs on, which for
    every runbook of the collection is the controller (C(delegate_to=localhost)).
  - Each file goes to a temporary file in O(dir) first; both are renamed into
    place once both are complete, so readers never see a half-written report.
  - A file whose content would not change is left alone; RV(ignore:changed) comes from
    comparing the contents. In check mode nothing is written.
  - The directory is created 0755 and the files 0644; reports hold findings,
    never keys or credentials (see roles/report/README.md).
  - Most playbooks call it through the C(write) entry point of the role
    ackops.runbooks.report, which also prints the Markdown and publishes a
    summary with O(publish).
extends_documentation_fragment:
  - ackops.runbooks.attributes
attributes:
  check_mode:
    support: full
    details: Compares and reports, writes nothing.
  diff_mode:
    support: full
    details: The before and after text of each file that would change.
  idempotent:
    support: full
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: Makes a relative O(dir) absolute on the controller.
options:
  dir:
    description:
      - Directory of the report files; created when missing.
      - On the local connection (C(delegate_to=localhost)) a relative path is
        relative to the directory ansible-playbook runs in (the project root for
        the collection's runbooks and AWX), not to the playbook's directory.
    type: path
    required: true
  name:
    description:
      - Base name of both files, for example C(renew-certs) for
        C(renew-certs.json) and C(renew-certs.md).
      - Letters, digits, C(.), C(_) and C(-), not starting with C(.).
    type: str
    required: true
  data:
    description: What the JSON report holds; any value JSON can represent.
    type: raw
    required: true
  markdown:
    description: The Markdown report; a trailing newline is added when missing.
    type: str
    required: true
  extra_files:
    description:
      - Further formats of the same report, written together with the JSON and
        Markdown files, the same way; maps a file suffix (lower-case words joined
        by C(.), for example C(sarif) or C(junit.xml)) to the file's text.
    type: dict
    default: {}
  html:
    description:
      - The report as one self-contained HTML page, O(dir)/O(name).html, written
        with the other files. Tables with a severity colour per row, sortable
        columns, a filter box; inline CSS and JavaScript only, pinned by a
        Content-Security-Policy, so the page loads nothing from anywhere.
      - "A mapping: C(title), C(facts) (label to value, shown above the tables in label order),
        and C(tables), a list of C(title), C(columns), C(rows), C(severity) and
        C(empty) (the text shown for no rows). C(columns) and C(rows) at the top
        level are a single table."
      - "C(rows) is a list of mappings (a runbook's own report rows). Each column
        is a row key (a dotted path such as C(object.name) reaches into a row) or
        a mapping with C(key), C(label), C(type) (V(auto), V(text), V(number)) and
        thresholds C(warning) and C(critical) with C(worse) (V(below): a value under
        the threshold is that bad, as days left; V(above): over it, as a count)."
      - "A row's severity is the worse of its C(severity) field (the row key
        naming it: V(ok), V(info), V(warning), V(critical) and V(expired), with
        their usual synonyms such as V(danger), V(error), V(passed)) and its
        cells' thresholds."
      - Every value is HTML-escaped. A column named like a credential (password,
        secret, token, private key, access key) is refused and a value holding a
        private key or a bearer token is shown as C([redacted]).
      - A fact whose label, or a key of a mapping in a cell, is named like a
        credential is shown as C([redacted]).
      - Omitted, no HTML page is written.
    type: dict
  fragment_hosts:
    description:
      - Write the report as a fragment of a sliced run (AWX/AAP job slicing) that
        covered these hosts, for the report_merge filter and the report role's
        C(merge) entry point to merge into the fleet report.
      - The files are named O(name).fragment-<the first 12 hex digits of the sha256
        of the sorted host names, one a line>, so a slice re-run overwrites its own
        fragment. The JSON file holds C(fragment) (C(report), C(covered_hosts),
        C(run_id), C(additive)), C(data) (O(data)) and C(html) (O(html) with
        credential-named keys and key material redacted; its rows are stored).
      - Omitted, the report itself is written.
    type: list
    elements: str
  fragment_run_id:
    description:
      - The run the fragment belongs to (the AWX workflow job id of the slices); the
        merge refuses fragments of another run. Empty for none.
      - Only with O(fragment_hosts).
    type: str
    default: ""
  fragment_additive:
    description:
      - The keys whose numbers add up over the slices (dotted paths into O(data),
        or C(html.facts.<label>)); the merge sums them. Any other number that
        differs between fragments fails the merge.
      - Only with O(fragment_hosts).
    type: list
    elements: str
    default: []
  publish:
    description:
      - Also publish the report's summary for AWX in this task, as
        C(ansible.builtin.set_stats) does with its defaults (aggregated, for the
        whole run). What is published is O(publish.stats) with C(ackops_reports.<name>)
        added, which holds C(files), C(html), C(counts), C(changes), C(changed),
        C(failed) and C(reason). The report role's C(write) entry point uses it.
      - Done by the action on the controller. With it, an empty O(dir) writes no
        file and still publishes (C(files) is then empty).
      - Omitted, nothing is published.
    type: dict
    suboptions:
      stats:
        description: The runbook's own data, usually one key named after the runbook.
        type: dict
        default: {}
      changes:
        description: What the run changed, one entry per change (C(changed) is whether there is any).
        type: list
        elements: raw
        default: []
      failure:
        description:
          - Why the run is about to fail; "" when it is not. Published as C(failed) and
            as C(reason), on one line (whitespace folded) cut at 300 characters.
        type: str
        default: ""
seealso:
  - module: ansible.builtin.set_stats
  - module: ansible.builtin.copy
  - plugin: ackops.runbooks.report_merge
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write reports/plan-cluster.json and reports/plan-cluster.md
  ackops.runbooks.report_write:
    dir: reports
    name: plan-cluster
    data: "{{ plan.report }}"
    markdown: "{{ plan.report_markdown }}"
  delegate_to: localhost
  run_once: true

- name: The usual way, through the report role (print, write, set_stats)
  ansible.builtin.include_role:
    name: ackops.runbooks.report
    tasks_from: write
  vars:
    report_name: plan-cluster
    report_dir: reports
    report_data: "{{ plan }}"
    report_markdown: "{{ plan.report_markdown }}"
    report_stats:
      plan_cluster: {valid: "{{ plan.valid }}"}

- name: One slice of a sliced job writes its fragment
  ackops.runbooks.report_write:
    dir: reports
    name: renew-certs
    data: "{{ report }}"
    markdown: "{{ report.markdown }}"
    fragment_hosts: "{{ ansible_play_hosts_all }}"
    fragment_run_id: "{{ awx_workflow_job_id | default('') }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
dir:
  description: The report directory, absolute.
  returned: success
  type: str
  sample: /srv/ack-runbooks/reports
json_path:
  description: The JSON report, absolute.
  returned: success
  type: str
  sample: /srv/ack-runbooks/reports/plan-cluster.json
markdown_path:
  description: The Markdown report, absolute.
  returned: success
  type: str
  sample: /srv/ack-runbooks/reports/plan-cluster.md
written:
  description: The files whose content changed (would change in check mode).
  returned: success
  type: list
  elements: str
  sample: [/srv/ack-runbooks/reports/plan-cluster.json]
html_path:
  description: The HTML report, absolute.
  returned: when O(html) was given
  type: str
  sample: /srv/ack-runbooks/reports/renew-certs.html
counts:
  description:
    - Rows of the HTML report per severity level (V(none), V(ok), V(info),
      V(warning), V(critical), V(expired)); levels without rows are left out.
  returned: when O(html) was given
  type: dict
  sample: {ok: 18, warning: 3, critical: 1}
summary:
  description: What was published under C(ackops_reports.<name>).
  returned: when O(publish) was given
  type: dict
  sample: {files: [/srv/ack-runbooks/reports/renew-certs.json, /srv/ack-runbooks/reports/renew-certs.md],
           html: "", counts: {}, changes: [], changed: false, failed: false, reason: ""}
name:
  description: The base name of the files written, O(name) or the fragment's name.
  returned: success
  type: str
  sample: renew-certs.fragment-3f1c0a9be27d
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import run_module
from ansible_collections.ackops.runbooks.plugins.module_utils.common.report import (
    fragment_name,
    make_fragment,
    redact,
    write_report,
)

ARGSPEC = {
    "dir": {"type": "path", "required": True},
    "name": {"type": "str", "required": True},
    "data": {"type": "raw", "required": True},
    "markdown": {"type": "str", "required": True},
    "extra_files": {"type": "dict", "default": {}},
    "html": {"type": "dict"},
    "fragment_hosts": {"type": "list", "elements": "str"},
    "fragment_run_id": {"type": "str", "default": ""},
    "fragment_additive": {"type": "list", "elements": "str", "default": []},
    # Handled by the action (plugins/action/report_write.py), which never passes it on.
    "publish": {
        "type": "dict",
        "options": {
            "stats": {"type": "dict", "default": {}},
            "changes": {"type": "list", "elements": "raw", "default": []},
            "failure": {"type": "str", "default": ""},
        },
    },
}


def write(params: dict, check_mode: bool, want_diff: bool, changes) -> dict:
    """The report, or with fragment_hosts the fragment of a slice."""
    name, data, html = params["name"], params["data"], params["html"]
    hosts = params["fragment_hosts"]
    if hosts is not None:
        data = make_fragment(
            name,
            hosts,
            data,
            html,
            run_id=params["fragment_run_id"],
            additive=params["fragment_additive"],
        )
        name = fragment_name(name, hosts)
        html = redact(html) if html is not None else None
    result = write_report(
        params["dir"],
        name,
        data,
        params["markdown"],
        check_mode=check_mode,
        want_diff=want_diff,
        changes=changes,
        extra_files=params["extra_files"],
        html=html,
    )
    result["name"] = name
    return result


def main():
    module = AnsibleModule(argument_spec=ARGSPEC, supports_check_mode=True)
    run_module(
        module, lambda changes: write(module.params, module.check_mode, module._diff, changes)
    )


if __name__ == "__main__":
    main()
