"""The lab's Docker Swarm host (`lab/lab up --swarm`, lab/README.md "Swarm host").

A real dockerd in the host's namespaces, a one-node Swarm, and the sample
stack of lab/swarm/stack, read the way the migrate-swarm runbook reads it:
the docker CLI over SSH on the manager. The last test takes the lab down,
checks that nothing of the Swarm is left, and brings a plain lab back up.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
STACK_SRC = REPO / "lab" / "swarm" / "stack"
STACK = "shop"
SERVICES = {"shop_db": "1/1", "shop_web": "2/2", "shop_edge": "1/1"}
DOCKER_EXES = {"/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2"}


@pytest.fixture(scope="module")
def swarm_lab(lab_handle):
    return lab_handle.ensure("small", swarm=True)


@pytest.fixture(scope="module")
def manager(swarm_lab) -> dict:
    doc = swarm_lab.status(refresh=True)
    assert doc["swarm"], "lab status --json has no swarm section after up --swarm"
    return doc["swarm"]["managers"][0]


def ssh(lab, manager: dict, command: str, check: bool = True) -> subprocess.CompletedProcess:
    """A shell command on the Swarm manager over real SSH, as Ansible runs it."""
    keys = lab.status()["ssh"]
    argv = [
        "ssh", "-i", keys["private_key"], "-p", str(manager["ssh_port"]),
        "-o", f"UserKnownHostsFile={keys['known_hosts']}",
        "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
        f"{manager['ssh_user']}@{manager['address']}", command,
    ]  # fmt: skip
    proc = subprocess.run(argv, text=True, capture_output=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"`{command}` on {manager['name']} failed:\n{proc.stderr}")
    return proc


def docker_json(lab, manager: dict, *args: str):
    return json.loads(ssh(lab, manager, shlex.join(["docker", *args])).stdout)


def test_status_and_inventory_report_the_manager(swarm_lab, manager):
    doc = swarm_lab.status()
    assert doc["args"] == {"size": "small", "swarm": True}
    assert manager["name"] == "lab-swarm-1"
    assert manager["role"] == "swarm_manager"
    assert manager["running"]
    assert manager["ssh_open"]
    assert manager["dockerd"]["alive"], manager["dockerd"]
    assert manager["swarm_state"] == "active"
    assert manager["stack"]["name"] == STACK
    assert {s["name"]: s["replicas"] for s in manager["stack"]["services"]} == SERVICES
    # The Swarm host is no Kubernetes node and not one of the cluster's hosts.
    assert manager["name"] not in {h["name"] for h in doc["hosts"]}
    inventory = yaml.safe_load(Path(doc["inventory"]).read_text())["all"]["children"]
    assert inventory["swarm_managers"]["hosts"] == {
        manager["name"]: {
            "ansible_host": manager["address"],
            "lab_zone": manager["zone"],
            "swarm_docker_host": manager["docker_host"],
        }
    }
    assert Path(manager["stack"]["file"]).is_file()


def test_ssh_session_reaches_dockerd_as_the_manager(swarm_lab, manager):
    out = ssh(swarm_lab, manager, "hostname; docker info --format '{{.Swarm.ControlAvailable}}'")
    assert out.stdout.split() == [manager["name"], "true"]


def test_stack_services_run_their_replicas_healthy(swarm_lab, manager):
    out = ssh(
        swarm_lab,
        manager,
        f"docker stack services {STACK} --format '{{{{.Name}}}} {{{{.Replicas}}}}'",
    ).stdout
    assert dict(line.split() for line in out.splitlines()) == SERVICES
    tasks = ssh(
        swarm_lab, manager,
        f"docker ps --filter label=com.docker.stack.namespace={STACK} --format '{{{{.Status}}}}'",
    ).stdout.splitlines()  # fmt: skip
    assert len(tasks) == 4, tasks
    assert all("(healthy)" in t for t in tasks), tasks


def test_service_inspect_shows_what_a_migration_reads(swarm_lab, manager):
    specs = {
        s["Spec"]["Name"]: s["Spec"]
        for s in docker_json(swarm_lab, manager, "service", "inspect", *SERVICES)
    }
    db, web, edge = specs["shop_db"], specs["shop_web"], specs["shop_edge"]
    db_c, web_c = db["TaskTemplate"]["ContainerSpec"], web["TaskTemplate"]["ContainerSpec"]
    # Named volume, secret, placement, healthcheck, resources.
    assert [(m["Type"], m["Source"], m["Target"]) for m in db_c["Mounts"]] == [
        ("volume", "shop_dbdata", "/data")
    ]
    assert [s["SecretName"] for s in db_c["Secrets"]] == ["shop_db_password"]
    assert sorted(db["TaskTemplate"]["Placement"]["Constraints"]) == [
        "node.labels.disk == ssd", "node.labels.tier == db", "node.role == manager",
    ]  # fmt: skip
    assert db_c["Healthcheck"]["Test"][:2] == ["CMD", "wget"]
    assert db_c["Healthcheck"]["Interval"] == 5_000_000_000
    assert db["TaskTemplate"]["Resources"]["Limits"]["MemoryBytes"] == 128 * 1024 * 1024
    # Config with a target and mode, secret with uid/gid/mode, replicas, preferences.
    (config,) = web_c["Configs"]
    assert (config["ConfigName"], config["File"]["Name"]) == (
        "shop_web_index",
        "/var/www/index.html",
    )
    assert config["File"]["Mode"] == 0o444
    (secret,) = web_c["Secrets"]
    assert secret["SecretName"] == "shop_api_token"
    assert (secret["File"]["UID"], secret["File"]["GID"], secret["File"]["Mode"]) == (
        "33",
        "33",
        0o400,
    )
    assert web["Mode"] == {"Replicated": {"Replicas": 2}}
    assert web["TaskTemplate"]["Placement"]["Preferences"] == [
        {"Spread": {"SpreadDescriptor": "node.labels.zone"}}
    ]
    assert web["UpdateConfig"]["Order"] == "start-first"
    # A global service publishing a host-mode port, placed by an engine label.
    assert "Global" in edge["Mode"]
    assert edge["EndpointSpec"]["Ports"][0] == {
        "Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080, "PublishMode": "host",
    }  # fmt: skip
    assert edge["TaskTemplate"]["Placement"]["Constraints"] == ["engine.labels.ackops.lab == swarm"]
    # Swarm keeps no depends_on: the stack file on the host still has it.
    stack = yaml.safe_load(Path(manager["stack"]["file"]).read_text())
    assert stack["services"]["web"]["depends_on"] == ["db"]
    assert stack["services"]["edge"]["depends_on"] == ["web"]
    volume = docker_json(swarm_lab, manager, "volume", "inspect", "shop_dbdata")[0]
    assert volume["Labels"]["ackops.io/data"] == "true"
    assert volume["Labels"]["com.docker.stack.namespace"] == STACK


def test_configs_and_secrets_hold_the_stack_files(swarm_lab, manager):
    config = docker_json(swarm_lab, manager, "config", "inspect", "shop_web_index")[0]
    data = base64.b64decode(config["Spec"]["Data"]).decode()
    assert data == (STACK_SRC / "configs" / "web-index.html").read_text()
    # Secret values are not readable through the API, only inside a task.
    secret = docker_json(swarm_lab, manager, "secret", "inspect", "shop_api_token")[0]
    assert "Data" not in secret["Spec"]
    expected = Path(manager["secret_files"]["api_token"]).read_text()
    assert len(expected) >= 16
    task = ssh(
        swarm_lab, manager, "docker ps -q --filter label=com.docker.swarm.service.name=shop_web"
    )
    container = task.stdout.split()[0]
    got = ssh(swarm_lab, manager, f"docker exec {container} cat /run/secrets/api_token").stdout
    assert got == expected


def test_node_and_engine_labels(swarm_lab, manager):
    (node,) = docker_json(swarm_lab, manager, "node", "inspect", manager["node_id"])
    assert node["Description"]["Hostname"] == manager["node_hostname"]
    assert node["Spec"]["Role"] == "manager"
    labels = node["Spec"]["Labels"]
    assert labels == manager["node_labels"]
    assert labels["zone"] == manager["zone"]
    assert labels["tier"] == "db"
    assert node["Description"]["Engine"]["Labels"] == manager["engine_labels"]


def test_published_port_answers_from_the_machine(manager):
    with urllib.request.urlopen(f"http://{manager['address']}:8080/", timeout=10) as resp:
        body = resp.read().decode()
    assert body == (STACK_SRC / "configs" / "edge-index.html").read_text()


def docker_processes() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            exe = str((proc / "exe").readlink())
        except OSError:
            continue
        if exe in DOCKER_EXES:
            found.append(f"{proc.name} {exe}")
    return found


def test_down_leaves_nothing_of_the_swarm(swarm_lab, manager):
    state_dir = Path(manager["paths"]["state"]).parent.parent
    assert docker_processes(), "no dockerd to stop: the test could not fail"
    try:
        proc = swarm_lab.down()
        assert proc.returncode == 0, proc.stderr
        assert docker_processes() == []
        namespaces = subprocess.run(["ip", "netns", "list"], text=True, capture_output=True).stdout
        assert "ackl-" not in namespaces
        assert not state_dir.exists()
        assert list(Path("/sys/fs/cgroup").glob("*/ackops-lab-swarm*")) == []
        assert not (REPO / "inventories" / "lab" / "hosts.yml").exists()
    finally:
        swarm_lab.up("small")  # never leave the shared lab down
    # A lab without --swarm starts nothing of it.
    doc = swarm_lab.status(refresh=True)
    assert doc["swarm"] is None
    assert docker_processes() == []
    inventory = yaml.safe_load(Path(doc["inventory"]).read_text())["all"]["children"]
    assert "swarm_managers" not in inventory
