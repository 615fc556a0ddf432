"""plan-cluster.yml and audit-workloads.yml run on the controller: no lab needed.

Each test runs ansible-playbook from the repository root against the example
inventory, so the example plan, the play's argument spec and the role are
exercised as an operator runs them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.catalogue import record

pytestmark = pytest.mark.slow  # each test runs ansible-playbook (2-4 s)

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "workloads"
PLAYBOOK_BIN = Path(sys.executable).parent / "ansible-playbook"


def run(
    playbook: str, *args: str, extra: dict | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    command = [str(PLAYBOOK_BIN), "-i", "inventories/example/hosts.yml", playbook, *args]
    if extra is not None:
        command += ["-e", json.dumps(extra)]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **(env or {})}
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def recap(result: subprocess.CompletedProcess) -> dict:
    match = re.search(r"localhost\s+:\s+(.*)", result.stdout)
    assert match, result.stdout + result.stderr
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def test_plan_cluster_runs_on_the_example_plan_idempotently(tmp_path):
    extra = {"plan_cluster_report_dir": str(tmp_path)}
    first = run("plan-cluster.yml", extra=extra)
    assert first.returncode == 0, first.stdout + first.stderr
    report = json.loads((tmp_path / "plan-cluster.json").read_text())
    assert report["valid"] is True
    assert report["network"]["conflicts"] == []
    assert report["network"]["capacity"][0]["max_nodes"] == 512
    assert report["proposals"]["pod_cidrs"]
    again = run("plan-cluster.yml", extra=extra)
    assert recap(again)["changed"] == 0
    checked = run("plan-cluster.yml", "--check", "--diff", extra=extra)
    assert recap(checked)["changed"] == 0


def test_reports_go_where_ackops_report_dir_says_relative_to_where_ansible_runs():
    # Relative to the directory ansible-playbook runs in (the repository root
    # here), not to playbooks/ where the real playbook lives; build/ is ignored.
    relative = f"build/test-reports-{os.getpid()}"
    target = REPO / relative
    try:
        checked = run("plan-cluster.yml", "--check", env={"ACKOPS_REPORT_DIR": relative})
        assert checked.returncode == 0, checked.stdout + checked.stderr
        # A report is output: a check run writes its preview, and never counts as a change.
        assert recap(checked)["changed"] == 0
        assert json.loads((target / "plan-cluster.json").read_text())["valid"] is True
        assert (target / "plan-cluster.md").read_text().startswith("# Cluster plan\n")
        assert not (REPO / "playbooks" / relative).exists()
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_an_empty_report_dir_prints_and_writes_nothing(tmp_path):
    result = run(
        "plan-cluster.yml",
        extra={"plan_cluster_report_dir": ""},
        env={"ACKOPS_REPORT_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# Cluster plan" in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("ratio", "count", "cores", "cap"), [(0.1, 10, 16, 144), (0.2, 5, 32, 128)]
)
def test_plan_cluster_reports_the_guide_worker_examples(tmp_path, ratio, count, cores, cap):
    result = run(
        "plan-cluster.yml",
        extra={
            "plan_cluster_report_dir": str(tmp_path),
            "plan_cluster_workers": {"total_cores": 160, "failure_ratio": ratio},
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    markdown = (tmp_path / "plan-cluster.md").read_text()
    assert f"Recommended: {count} x {cores} cores" in markdown
    assert f"load cap {cap} cores" in markdown


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"plan_cluster_workers": {"total_cores": 160, "failure_ratio": 1}},
            "workers.failure_ratio: 1.0 must be greater than 0 and less than 1",
        ),
        (
            {"plan_cluster_workers": {"total_cores": 0, "failure_ratio": 0.1}},
            "workers.total_cores: 0 must be greater than zero",
        ),
        ({"plan_cluster_node_count": -5}, "node_count: -5 must be greater than zero"),
        (
            {"plan_cluster_network": {"vpc_cidr": "192.168.0.0/33"}},
            "network.vpc_cidr: '192.168.0.0/33' is not a valid IPv4 or IPv6 CIDR",
        ),
        (
            {"plan_cluster_network": {"vpc_cidr": "192.168.0.0/16", "vswitch": []}},
            "plan_cluster_network.vswitch. Supported parameters include",
        ),
        (
            {"plan_cluster_network": {"vpc_cidr": "8.8.0.0/16"}},
            "network.vpc_cidr: VPC 8.8.0.0/16 is not inside 10.0.0.0/8, 172.16.0.0/12, "
            "192.168.0.0/16",
        ),
    ],
)
def test_plan_cluster_bad_input_fails_with_field_and_value(tmp_path, extra, message):
    result = run("plan-cluster.yml", extra={"plan_cluster_report_dir": str(tmp_path), **extra})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert message in output
    assert "Traceback" not in output
    record("plan-cluster", "variable", extra, message)


def audit_manifests(tmp_path, *args, **extra):
    return run(
        "audit-workloads.yml",
        *args,
        extra={
            "audit_workloads_source": "manifests",
            "audit_workloads_manifest_dir": str(FIXTURES),
            "audit_workloads_report_dir": str(tmp_path),
            **extra,
        },
    )


def test_audit_workloads_on_manifests_writes_polaris_json_and_markdown(tmp_path):
    result = audit_manifests(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "audit-workloads.json").read_text())
    assert report["PolarisOutputVersion"] == "1.0"
    assert {r["Name"] for r in report["Results"]} == {"web", "debug", "legacy"}
    assert "26 finding(s): 10 danger, 16 warning." in (tmp_path / "audit-workloads.md").read_text()
    assert recap(audit_manifests(tmp_path))["changed"] == 0


def test_audit_workloads_gate_fails_on_danger_after_writing_reports(tmp_path):
    result = audit_manifests(tmp_path, audit_workloads_fail_on="danger")
    output = " ".join(result.stdout.split())
    assert result.returncode == 2
    assert "Audit gate failed: 10 finding(s) at or above danger." in output
    assert "Pod shop/debug: Bare Pod" in output
    assert (tmp_path / "audit-workloads.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"audit_workloads_manifest_dir": "/nonexistent/deploy"},
            "manifest_dir: '/nonexistent/deploy' does not exist",
        ),
        ({"audit_workloads_fail_on": "critical"}, "audit_workloads_fail_on"),
        (
            {"audit_workloads_skip_checks": ["noSuchCheck"]},
            "value of audit_workloads_skip_checks must be one or more of: barePod,",
        ),
    ],
)
def test_audit_workloads_bad_input_fails_with_field_and_value(tmp_path, extra, message):
    result = audit_manifests(tmp_path, **extra)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert message in output
    assert "Traceback" not in output
    record("audit-workloads", "variable", extra, message)
