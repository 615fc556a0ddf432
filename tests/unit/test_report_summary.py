"""Every runbook reports through the one report role, so every run publishes ackops_reports.

The runner tests (tests/integration/test_runner.py) check the published
summary of each runbook's real runs; this checks that no runbook can skip it:
each runbook playbook at the project root reaches a role that includes
ackops.runbooks.report (write or merge), and the reports people read as pages
(certificates, audit, plan, storage) pass their rows as report_html.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def runbooks() -> dict[str, Path]:
    """Root shim -> the playbook it imports (every runbook has one)."""
    found = {}
    for shim in sorted(REPO.glob("*.yml")):
        plays = yaml.safe_load(shim.read_text())
        if not isinstance(plays, list):
            continue
        for play in plays:
            target = play.get("ansible.builtin.import_playbook") if isinstance(play, dict) else None
            if target:
                found[shim.stem] = REPO / target
    return found


def roles_of(playbook: Path) -> set[str]:
    return set(re.findall(r"name:\s*ackops\.runbooks\.(\w+)", playbook.read_text()))


def report_calls(role: str) -> list[dict]:
    """The include_role tasks of ``role`` that include the report role, with their vars."""
    calls = []
    for path in sorted((REPO / "roles" / role / "tasks").glob("*.yml")):
        stack = list(yaml.safe_load(path.read_text()) or [])
        while stack:
            task = stack.pop()
            if not isinstance(task, dict):
                continue
            for key in ("block", "rescue", "always"):
                stack += task.get(key) or []
            include = task.get("ansible.builtin.include_role") or {}
            if include.get("name") == "ackops.runbooks.report":
                calls.append({"file": path.name, **include, "vars": task.get("vars") or {}})
    return calls


RUNBOOKS = runbooks()


def test_the_runbooks_are_found():
    assert {"renew-certs", "plan-cluster", "audit-workloads", "provision-storage"} <= set(RUNBOOKS)


@pytest.mark.parametrize("runbook", sorted(RUNBOOKS))
def test_every_runbook_publishes_through_the_report_role(runbook):
    roles = roles_of(RUNBOOKS[runbook])
    assert roles, f"{runbook}: runs no role of the collection"
    if roles == {"report"}:  # report-merge.yml: the report role itself
        text = RUNBOOKS[runbook].read_text()
        assert "tasks_from: merge" in text
        assert "include_tasks: write.yml" in (REPO / "roles/report/tasks/merge.yml").read_text()
        return
    calls = [c for role in roles for c in report_calls(role)]
    assert calls, f"{runbook}: none of {sorted(roles)} includes ackops.runbooks.report"
    assert {c["tasks_from"] for c in calls} <= {"write", "merge"}


# The reports the issue asks to be pages, and the role that writes each.
PAGES = {
    "renew_certs": 1,  # the certificate report (before and after)
    "audit_workloads": 1,
    "plan_cluster": 1,
    "provision_storage": 1,  # claims and the flexVolume migration
    "migrate_swarm": 1,  # the analyze/convert report
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_page_reports_pass_their_rows(role):
    calls = [c for c in report_calls(role) if c["tasks_from"] == "write"]
    with_html = [c for c in calls if c["vars"].get("report_html")]
    assert len(with_html) >= PAGES[role], calls
    for call in with_html:
        spec = call["vars"]["report_html"]
        for table in spec["tables"]:
            assert table["columns"], call["file"]
            assert isinstance(table["rows"], str)
            assert table["rows"].startswith("{{"), "rows come from the run's data"
