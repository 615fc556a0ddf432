"""From a fresh clone, with no lab and no -i: the runbooks that need no cluster
run, and the cluster runbooks stop with a message instead of doing nothing.

The clone is the tracked and untracked-but-not-ignored files of this checkout,
copied as git would check them out (symlinks kept), so the lab's generated
inventory, reports and caches are not in it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test runs ansible-playbook

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "workloads"
PLAYBOOK_BIN = Path(sys.executable).parent / "ansible-playbook"


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    target = tmp_path_factory.mktemp("clone")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = REPO / name
        if not os.path.lexists(source):
            continue  # deleted in the working tree
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest, follow_symlinks=False)
    assert not (target / "inventories" / "lab" / "hosts.yml").exists()
    return target


def play(clone: Path, playbook: str, extra: dict | None = None) -> subprocess.CompletedProcess:
    command = [str(PLAYBOOK_BIN), playbook]
    if extra:
        command += ["-e", json.dumps(extra)]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANSIBLE_", "ACKOPS_", "K8S_AUTH_"))
    }
    env |= {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run(
        command, cwd=clone, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_plan_cluster_runs_with_no_lab_and_no_inventory(clone):
    result = play(clone, "plan-cluster.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The default report directory: reports/ where ansible-playbook runs.
    assert json.loads((clone / "reports" / "plan-cluster.json").read_text())["valid"] is True


def test_manifest_audit_runs_with_no_lab_and_no_inventory(clone):
    result = play(
        clone,
        "audit-workloads.yml",
        {"audit_workloads_source": "manifests", "audit_workloads_manifest_dir": str(FIXTURES)},
    )
    # The fixtures hold deliberately bad workloads: the gate may fail the run,
    # but only after the audit ran and wrote its report.
    assert "Completely failed to parse inventory" not in result.stdout + result.stderr
    report = json.loads((clone / "reports" / "audit-workloads.json").read_text())
    assert report["Results"], result.stdout


def test_quick_start_audit_of_the_examples_from_the_readme(clone):
    """The README's command, verbatim: a relative directory, no -i, no source."""
    result = play(
        clone, "audit-workloads.yml", {"audit_workloads_manifest_dir": "examples/workloads"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reports = clone / "reports"
    report = json.loads((reports / "audit-workloads.json").read_text())
    # shop/web, legacy/reports, legacy/node-agent and the Argo Rollout legacy/checkout
    assert report["AuditCounts"]["audited"] == 4
    assert report["SourceType"] == "Path"
    names = {(r["Kind"], r["Name"]) for r in report["Results"]}
    assert ("Rollout", "checkout") in names
    assert json.loads((reports / "audit-workloads.sarif").read_text())["version"] == "2.1.0"
    assert (reports / "audit-workloads.junit.xml").read_text().startswith("<?xml")
    assert "Audited 4 workload(s)" in result.stdout
    # A summary on the console, not a table of every finding.
    assert "| Severity |" not in result.stdout
    assert not (clone / "playbooks" / "reports").exists()


def test_a_manifest_audit_that_finds_no_workload_fails_the_gate(clone, tmp_path):
    (tmp_path / "values.yaml").write_text("replicaCount: 3\nimage: {tag: latest}\n")
    result = play(clone, "audit-workloads.yml", {"audit_workloads_manifest_dir": str(tmp_path)})
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "no workload was audited (1 not a Kubernetes object (no apiVersion or kind))"
        in result.stdout
    )


def test_renew_certs_with_no_hosts_says_so_and_touches_nothing(clone):
    result = play(clone, "renew-certs.yml")
    assert result.returncode != 0
    assert "has no host in the groups masters or workers" in result.stdout
    assert "make lab-up" in result.stdout
    assert not list(clone.glob("reports/renew-certs*")), "no report: it stopped before any host"
