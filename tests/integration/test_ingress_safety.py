"""ingress-ha.yml against the lab's API server: safe moves, field owners, HPA, DaemonSet, nodes.

Each test works on controllers of its own in the namespace ``iha-test`` and
on six API-only nodes ``iha-n1`` .. ``iha-n6`` it creates with kwok's
annotation (kwok makes them Ready and runs the pods bound to them), in three
zones. The controllers select those nodes with the label ``ackops.io/iha-test``
besides the ingress label, so nothing else in the lab is moved. The nodes and
the namespace are deleted at the end.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time

import pytest
import yaml

from tests.integration.conftest import recap

pytestmark = pytest.mark.lab

NS = "iha-test"
MARK = "ackops.io/iha-test"
INGRESS_LABEL = "node-role.kubernetes.io/ingress"
NODES = [f"iha-n{i}" for i in range(1, 7)]
ZONES = ["iha-zone-a", "iha-zone-b", "iha-zone-c"]
# Three replicas, and the nodes that leave the group lose the label.
MOVE = ("-e", "ingress_ha_replicas=3", "-e", "ingress_ha_prune=true")
IMAGE = "registry-cn-hangzhou.ack.aliyuncs.com/acs/aliyun-ingress-controller:v1.2.1-aliyun.1"


def node_manifest(name: str, zone: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "topology.kubernetes.io/zone": zone,
                MARK: "1",
            },
            "annotations": {"kwok.x-k8s.io/node": "fake"},
        },
        "status": {
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
        },
    }


def controller(name: str, kind: str = "Deployment", replicas: int = 3, **meta) -> dict:
    labels = {"app": name}
    spec: dict = {
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "nodeSelector": {MARK: "1"},
                "containers": [{"name": "controller", "image": IMAGE}],
            },
        },
    }
    if kind == "Deployment":
        spec["replicas"] = replicas
    else:
        spec["updateStrategy"] = {"type": "OnDelete"}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": NS, **meta},
        "spec": spec,
    }


@pytest.fixture(scope="module")
def iha(lab_handle):
    """The lab as it is when healthy (these tests bring their own nodes), else a small one."""
    status = lab_handle.status(refresh=True)
    lab = lab_handle if status["up"] and lab_handle.healthy() else lab_handle.ensure("small")
    cleanup(lab)
    nodes = [node_manifest(n, ZONES[i % 3]) for i, n in enumerate(NODES)]
    lab.kubectl(
        "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": nodes})
    )
    lab.kubectl("create", "namespace", NS)
    deadline = time.time() + 60
    while time.time() < deadline:
        ready = [
            n
            for n in lab.kubectl_json("get", "nodes", "-l", MARK)["items"]
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n.get("status", {}).get("conditions", [])
            )
        ]
        if len(ready) == len(NODES):
            break
        time.sleep(1)
    else:
        pytest.fail("kwok did not make the iha-test nodes Ready")
    yield lab
    cleanup(lab)


def cleanup(lab):
    lab.kubectl(
        "delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=60s", check=False
    )
    lab.kubectl("delete", "nodes", "-l", MARK, "--ignore-not-found", check=False)
    lab.kubectl("delete", "node", "iha-notready", "--ignore-not-found", check=False)


def create(lab, obj: dict, manager: str | None = None) -> None:
    if manager:
        lab.kubectl(
            "apply", "--server-side", f"--field-manager={manager}", "-f", "-", input=json.dumps(obj)
        )
    else:
        lab.kubectl("create", "-f", "-", input=json.dumps(obj))


def run(lab, tmp_path, name, hosts, *args, take_ownership=True, background=False):
    """The runbook on controller ``name`` with ``hosts`` (node names) as the ingress group."""
    extra = tmp_path / "ingress.yml"
    extra.write_text(
        yaml.safe_dump({"all": {"children": {"iha_ingress": {"hosts": {h: {} for h in hosts}}}}})
    )
    argv = [
        "ingress-ha.yml", "-i", str(extra),
        "-e", "ingress_ha_group=iha_ingress",
        "-e", f"ingress_ha_namespace={NS}",
        "-e", f"ingress_ha_controller_name={name}",
        "-e", "ingress_ha_service_name=none",
        "-e", f"ingress_ha_report_dir={tmp_path}",
        "-e", "ingress_ha_wait_timeout=120",
        "-e", f"ingress_ha_take_ownership={str(take_ownership).lower()}",
        *args,
    ]  # fmt: skip
    if not background:
        return lab.playbook(*argv)
    holder: dict = {}
    thread = threading.Thread(target=lambda: holder.setdefault("proc", lab.playbook(*argv)))
    thread.start()
    return thread, holder


def report(tmp_path) -> dict:
    return json.loads((tmp_path / "ingress-ha.json").read_text())


def pods(lab, name) -> list[dict]:
    items = lab.kubectl_json("get", "pods", "-n", NS, "-l", f"app={name}")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def ready_pods(lab, name) -> list[dict]:
    return [
        p
        for p in pods(lab, name)
        if any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p.get("status", {}).get("conditions", [])
        )
    ]


def placed_on(lab, name) -> list[str]:
    return sorted(p["spec"].get("nodeName") or "-" for p in ready_pods(lab, name))


def labelled(lab) -> set[str]:
    items = lab.kubectl_json("get", "nodes", "-l", f"{MARK},{INGRESS_LABEL}=true")["items"]
    return {n["metadata"]["name"] for n in items}


def wait_ready(lab, name, count, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(ready_pods(lab, name)) == count and len(pods(lab, name)) == count:
            return
        time.sleep(1)
    pytest.fail(f"{name}: {count} ready pods expected, have {placed_on(lab, name)}")


def sampled_run(lab, tmp_path, name, hosts, *args):
    """Run in the background, counting Ready pods of ``name`` as often as kubectl allows."""
    thread, holder = run(lab, tmp_path, name, hosts, *args, background=True)
    samples = []
    while thread.is_alive():
        with contextlib.suppress(AssertionError, subprocess.SubprocessError):
            samples.append(len(ready_pods(lab, name)))
        time.sleep(0.2)
    thread.join()
    return holder["proc"], samples


def mine(states: dict) -> dict:
    """The digests of this file's nodes and of the controllers in its namespace."""
    keys = {f"Node//{n}" for n in NODES}
    return {k: v for k, v in states.items() if k in keys or k.split("/")[1] == NS}


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]


# ---- moving: one pod at a time, with and without the PodDisruptionBudget


def test_moving_three_replicas_never_leaves_fewer_than_two_ready(iha, tmp_path):
    create(iha, controller("mover"))
    wait_ready(iha, "mover", 3)
    ok(run(iha, tmp_path, "mover", NODES[:3], *MOVE))
    assert placed_on(iha, "mover") == NODES[:3]

    # PDB on: the group changes to the three other nodes.
    proc, samples = sampled_run(iha, tmp_path, "mover", NODES[3:], *MOVE)
    ok(proc)
    assert len(samples) >= 5, samples
    assert min(samples) >= 2, samples
    assert placed_on(iha, "mover") == NODES[3:]
    assert labelled(iha) == set(NODES[3:])
    moves = [c for c in report(tmp_path)["changes"] if c.startswith("move pod")]
    assert len(moves) == 3, report(tmp_path)["changes"]
    assert report(tmp_path)["placement_problems"] == []

    # PDB off (deleted, not managed): still one at a time.
    iha.kubectl("delete", "pdb", "-n", NS, "mover")
    proc, samples = sampled_run(
        iha, tmp_path, "mover", NODES[:3],
        *MOVE, "-e", "ingress_ha_pdb=false",
    )  # fmt: skip
    ok(proc)
    assert min(samples) >= 2, samples
    assert placed_on(iha, "mover") == NODES[:3]
    assert iha.kubectl("get", "pdb", "-n", NS, "mover", check=False).returncode != 0


def test_a_budget_forbidding_evictions_stops_after_waiting_in_a_consistent_state(iha, tmp_path):
    # mover runs on n1-n3 (previous test, or set up here).
    if placed_on(iha, "mover") != NODES[:3]:
        iha.kubectl("delete", "deployment", "-n", NS, "mover", "--ignore-not-found")
        create(iha, controller("mover"))
        ok(run(iha, tmp_path, "mover", NODES[:3], *MOVE))
    started = time.time()
    proc = run(
        iha, tmp_path, "mover", NODES[3:],
        *MOVE,
        "-e", "ingress_ha_pdb_max_unavailable=0", "-e", "ingress_ha_wait_timeout=20",
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert time.time() - started >= 20  # it waited for the budget before stopping
    assert "was refused for 20s" in output, output
    assert "still to move: mover-" in output, output
    assert "partial_changes" in output, output
    assert "label node iha-n4" in output, output
    # Consistent: the new nodes carry the label, no pod was evicted, all three still serve.
    assert labelled(iha) == set(NODES[3:])
    assert placed_on(iha, "mover") == NODES[:3]
    pdb = iha.kubectl_json("get", "pdb", "-n", NS, "mover")
    assert pdb["spec"]["maxUnavailable"] == 0
    # Once the budget allows one disruption, a rerun finishes the move.
    ok(run(iha, tmp_path, "mover", NODES[3:], *MOVE))
    assert placed_on(iha, "mover") == NODES[3:]
    iha.kubectl("delete", "deployment,pdb", "-n", NS, "mover")


# ---- field ownership: a Helm-charted controller


def test_fields_owned_by_helm_are_not_taken_without_the_flag(iha, tmp_path):
    charted = controller(
        "charted",
        replicas=2,
        labels={"app.kubernetes.io/managed-by": "Helm"},
        annotations={"meta.helm.sh/release-name": "edge", "meta.helm.sh/release-namespace": NS},
    )
    create(iha, charted, manager="helm")
    wait_ready(iha, "charted", 2)
    before = iha.kubectl_json("get", "deployment", "-n", NS, "charted")
    labels_before = labelled(iha)
    proc = run(
        iha, tmp_path, "charted", NODES[:3], "-e", "ingress_ha_replicas=3", take_ownership=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    for fragment in (
        "helm",
        ".spec.replicas",
        ".spec.template.spec.nodeSelector",
        "Helm release iha-test/edge",
        "controller.replicaCount",
        "controller.nodeSelector",
        "ingress_ha_take_ownership=true",
    ):
        assert fragment in output, (fragment, output)
    after = iha.kubectl_json("get", "deployment", "-n", NS, "charted")
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert labelled(iha) == labels_before  # refused before the first write
    assert iha.kubectl("get", "pdb", "-n", NS, "charted", check=False).returncode != 0

    ok(run(iha, tmp_path, "charted", NODES[:3], "-e", "ingress_ha_replicas=3"))
    taken = iha.kubectl_json("get", "deployment", "-n", NS, "charted")
    assert taken["spec"]["replicas"] == 3
    assert report(tmp_path)["owner"]["type"] == "helm"
    iha.kubectl("delete", "deployment,pdb", "-n", NS, "charted")


# ---- HPA


def test_with_an_hpa_the_replicas_are_left_to_it_and_max_replicas_checked(iha, tmp_path):
    create(iha, controller("scaled", replicas=2))
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "scaled", "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"},
            "minReplicas": 2,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                }
            ],
        },
    }
    create(iha, hpa)
    wait_ready(iha, "scaled", 2)
    hosts = NODES[:3]
    ok(run(iha, tmp_path, "scaled", hosts, *MOVE))
    first = report(tmp_path)
    assert first["hpa"]["max_replicas"] == 5
    assert any("maxReplicas 5, more than the 3 labelled" in w for w in first["warnings"])
    deployment = iha.kubectl_json("get", "deployment", "-n", NS, "scaled")
    assert deployment["spec"]["replicas"] == 2  # not the 3 asked for: the HPA owns it
    assert not any("spec.replicas" in c for c in first["changes"])

    proc = run(iha, tmp_path, "scaled", hosts, *MOVE)
    ok(proc)
    assert recap(proc.stdout)["localhost"]["changed"] == 0, proc.stdout
    assert report(tmp_path)["changes"] == []
    iha.kubectl("delete", "deployment,pdb,hpa", "-n", NS, "scaled")


# ---- DaemonSet


def test_a_daemonset_gets_no_pdb_the_right_nodes_and_its_on_delete_pods_listed(iha, tmp_path):
    create(iha, controller("daemon", kind="DaemonSet"))
    wait_ready(iha, "daemon", len(NODES))
    check = run(iha, tmp_path, "daemon", NODES[:2], "-e", "ingress_ha_prune=true", "--check")
    ok(check)
    planned = report(tmp_path)
    assert any("the DaemonSet controller deletes pod daemon-" in line for line in planned["plan"])
    assert any("not an eviction" in line for line in planned["plan"])
    assert len(planned["placement_problems"]) >= 4  # pods on nodes that will lose the label

    ok(run(iha, tmp_path, "daemon", NODES[:2], "-e", "ingress_ha_prune=true"))
    done = report(tmp_path)
    assert done["pdb"]["managed"] is False
    assert "no PodDisruptionBudget for a DaemonSet" in done["pdb"]["reason"]
    assert iha.kubectl("get", "pdb", "-n", NS, "daemon", check=False).returncode != 0
    assert placed_on(iha, "daemon") == NODES[:2]
    assert done["placement_problems"] == []
    # OnDelete: the pods still on the first template are listed, not waited for.
    ds = iha.kubectl_json("get", "daemonset", "-n", NS, "daemon")
    stale = sorted(
        p["metadata"]["name"]
        for p in pods(iha, "daemon")
        if p["metadata"]["labels"].get("pod-template-generation")
        != str(ds["metadata"]["generation"])
    )
    assert stale
    assert done["pods_to_delete"] == stale
    assert any("updates OnDelete" in w for w in done["warnings"])
    iha.kubectl("delete", "daemonset", "-n", NS, "daemon")


# ---- nodes checked before use, no silent automatic selection


def test_a_cordoned_node_and_a_notready_node_in_the_group_are_refused(iha, tmp_path):
    create(iha, controller("picky", replicas=2))
    wait_ready(iha, "picky", 2)
    iha.kubectl("cordon", NODES[5])
    notready = node_manifest("iha-notready", ZONES[0])
    del notready["metadata"]["annotations"]  # no kwok: nothing heartbeats for it
    iha.kubectl("create", "-f", "-", input=json.dumps(notready))
    condition = {
        "type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "lab test",
        "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    iha.kubectl(
        "patch", "node", "iha-notready", "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"conditions": [condition]}}),
    )  # fmt: skip
    try:
        before = iha.object_states("nodes,deployments,pdb")
        proc = run(
            iha,
            tmp_path,
            "picky",
            [NODES[4], NODES[5], "iha-notready"],
            "-e",
            "ingress_ha_replicas=2",
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, output
        assert f"node {NODES[5]} is cordoned" in output, output
        assert (
            "node iha-notready is NotReady" in output or "node iha-notready is Unknown" in output
        ), output
        assert mine(iha.object_states("nodes,deployments,pdb")) == mine(before)
    finally:
        iha.kubectl("uncordon", NODES[5])
        iha.kubectl("delete", "node", "iha-notready", "--ignore-not-found")


def test_an_empty_group_without_automatic_selection_is_refused(iha, tmp_path):
    if iha.kubectl("get", "deployment", "-n", NS, "picky", check=False).returncode != 0:
        create(iha, controller("picky", replicas=2))
    before = iha.object_states("nodes,deployments,pdb")
    proc = run(iha, tmp_path, "picky", [], "-e", "ingress_ha_replicas=2")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "automatic selection was not asked for" in output, output
    assert mine(iha.object_states("nodes,deployments,pdb")) == mine(before)


# ---- dedication: other pods evicted, and only this runbook's taint removed


def taints(lab, name) -> list[dict]:
    return lab.kubectl_json("get", "node", name).get("spec", {}).get("taints") or []


def test_dedication_evicts_other_pods_and_undoing_it_removes_only_its_own_taint(iha, tmp_path):
    dedicated = {"key": INGRESS_LABEL, "value": "true", "effect": "NoSchedule"}
    create(iha, controller("edge", replicas=2))
    bystander = controller("bystander", replicas=1)
    bystander["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": NODES[0]}
    create(iha, bystander)
    wait_ready(iha, "edge", 2)
    wait_ready(iha, "bystander", 1)
    # Someone else's identical taint on n3, which is not in the group.
    iha.kubectl("taint", "node", NODES[2], f"{INGRESS_LABEL}=true:NoSchedule")
    try:
        ok(run(iha, tmp_path, "edge", NODES[:2], *MOVE[2:], "-e", "ingress_ha_replicas=2",
               "-e", "ingress_ha_dedicate=true"))  # fmt: skip
        done = report(tmp_path)
        assert any(c.startswith("dedicate: evict pod bystander-") for c in done["changes"]), done
        assert [p["spec"].get("nodeName") for p in ready_pods(iha, "bystander")] == []
        assert placed_on(iha, "edge") == NODES[:2]
        for name in NODES[:2]:
            assert dedicated in taints(iha, name)
        ok(run(iha, tmp_path, "edge", NODES[:2], *MOVE[2:], "-e", "ingress_ha_replicas=2"))
        for name in NODES[:2]:
            assert dedicated not in taints(iha, name)
        assert dedicated in taints(iha, NODES[2])  # not added by the runbook: kept
    finally:
        iha.kubectl("taint", "node", NODES[2], f"{INGRESS_LABEL}-", check=False)
        iha.kubectl("delete", "deployment,pdb", "-n", NS, "edge", "bystander", "--ignore-not-found")
