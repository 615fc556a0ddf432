"""plan-cluster.yml as an operator runs it: partial plans, refusals, ACK exports.

Each test runs ansible-playbook from the repository root with no -i (the
runbook needs no cluster) and its reports in a scratch directory.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.unit.playbooks.test_planning_runbooks import PLAYBOOK_BIN, REPO, recap

pytestmark = pytest.mark.slow  # each test runs ansible-playbook (2-4 s)


def run(tmp_path, extra: dict, *args: str) -> subprocess.CompletedProcess:
    """plan-cluster.yml with no -i, its reports in ``tmp_path``."""
    command = [str(PLAYBOOK_BIN), "plan-cluster.yml", *args, "-e", json.dumps(extra)]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ACKOPS_REPORT_DIR": str(tmp_path)}
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_masters_only_plan_runs_and_reports_no_network(tmp_path):
    result = run(tmp_path, {"plan_cluster_node_count": 150, "plan_cluster_proposals": None})
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "plan-cluster.json").read_text())
    assert report["master"]["cores"] == 16
    assert report["network"] is None
    assert report["workers"] is None
    assert not (tmp_path / "plan-cluster.auto.tfvars.json").exists()


def test_a_workers_only_plan_runs(tmp_path):
    result = run(
        tmp_path,
        {"plan_cluster_workers": {"total_cores": 160, "failure_ratio": 0.2}},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "plan-cluster.json").read_text())
    assert report["workers"]["recommended"]["count"] == 5
    assert report["master"] is None


TERWAY = {
    "vpc_cidr": "192.168.0.0/16",
    "clusters": [
        {
            "name": "ack-tw",
            "network_mode": "terway",
            "ip_stack": "dual",
            "service_cidr": ["172.21.0.0/20", "fd00:21::/112"],
            "pods_per_node": 64,
            "zones": [
                {"name": "cn-hangzhou-i", "nodes": 40, "node_vswitch_id": "vsw-n1"},
                {"name": "cn-hangzhou-j", "nodes": 20, "node_vswitch_id": "vsw-n2"},
            ],
        }
    ],
}


def test_a_terway_dual_stack_plan_writes_the_ack_exports_idempotently(tmp_path):
    extra = {"plan_cluster_network": TERWAY, "plan_cluster_proposals": {"ip_stack": "dual"}}
    result = run(tmp_path, extra)
    assert result.returncode == 0, result.stdout + result.stderr
    tfvars = json.loads((tmp_path / "plan-cluster.auto.tfvars.json").read_text())
    cluster = tfvars["ack_clusters"]["ack-tw"]
    assert cluster["ip_stack"] == "dual"
    assert cluster["vswitch_ids"] == ["vsw-n1", "vsw-n2"]
    assert [v["zone_id"] for v in cluster["pod_vswitches"]] == ["cn-hangzhou-i", "cn-hangzhou-j"]
    body = json.loads((tmp_path / "plan-cluster.createcluster.json").read_text())
    assert body["ack-tw"]["service_cidr"] == "172.21.0.0/20"
    report = json.loads((tmp_path / "plan-cluster.json").read_text())
    assert report["proposals"]["service_v6_cidrs"]
    assert recap(run(tmp_path, extra))["changed"] == 0
    assert recap(run(tmp_path, extra, "--check"))["changed"] == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"plan_cluster_node_count": 0}, "node_count: 0 must be greater than zero"),
        (
            {
                "plan_cluster_workers": {
                    "total_cores": 160,
                    "failure_ratio": 0.1,
                    "instance_cores": [],
                }
            },
            "workers.instance_cores: [] must be a non-empty list",
        ),
        (
            {
                "plan_cluster_network": {
                    "clusters": [
                        {"name": "a", "pod_cidr": "10.0.0.0/16", "service_cidr": "10.96.0.0/8"}
                    ]
                }
            },
            "network.clusters[0].service_cidr: '10.96.0.0/8' has host bits set",
        ),
        (
            {
                "plan_cluster_network": {
                    "clusters": [
                        {"name": "a", "pod_cidr": "10.0.0.0/16", "service_cidr": "10.0.0.0/8"}
                    ]
                }
            },
            "mask must be >= /12 for IPv4",
        ),
        (
            {
                "plan_cluster_network": {
                    "clusters": [
                        {"name": "a", "pod_cidr": "10.0.0.0/26", "service_cidr": "10.1.0.0/20"}
                    ]
                }
            },
            "network.clusters[0].pod_cidr: '10.0.0.0/26' holds no node",
        ),
    ],
)
def test_refusals_name_field_and_cause_and_write_nothing(tmp_path, extra, message):
    result = run(tmp_path, extra)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert message in output
    assert "Traceback" not in output
    assert not (tmp_path / "plan-cluster.json").exists()


def test_an_unknown_key_prints_the_field_and_rule_not_the_whole_spec(tmp_path):
    result = run(tmp_path, {"plan_cluster_network": {"vswitch": []}})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "plan_cluster_network.vswitch. Supported parameters include" in output
    assert "argument_spec_data" not in output
    assert "short_description" not in output
    assert len(output.splitlines()) < 60


def test_the_play_runs_on_the_controllers_python_whatever_the_inventory_says(tmp_path):
    # An inventory naming another interpreter for localhost (a real one often
    # sets ansible_python_interpreter for all hosts) must not break the plan:
    # the play pins ansible_playbook_python, which play vars let it do.
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  vars:\n    ansible_python_interpreter: /nonexistent/bin/python3\n"
        "  hosts:\n    localhost:\n      ansible_connection: local\n"
    )
    extra = json.dumps({"plan_cluster_node_count": 3})
    command = [str(PLAYBOOK_BIN), "-i", str(inventory), "plan-cluster.yml", "-e", extra]
    env = {**os.environ, "ACKOPS_REPORT_DIR": str(tmp_path)}
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / "plan-cluster.json").read_text())["master"]["cores"] == 4
