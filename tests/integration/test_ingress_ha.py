"""ingress-ha.yml against the lab: labels, one replica per node, idempotence, refusals.

The module-scoped fixture brings up a fresh lab with four workers (the lab's
fresh state: a 2-replica controller, no ingress labels). The tests run in file
order: check mode first (nothing may move), then the converge to 3 replicas,
the second run, the shrink with pruning, and the refusals, each of which must
leave every object's spec, labels and annotations as they were; last, with
`make faults` only, an API server restart in the middle of a run.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import yaml

from tests.faults import failures, lab_shape, matrix_only, record
from tests.integration.conftest import Watched, recap, wait_until

pytestmark = pytest.mark.lab

INGRESS_LABEL = "node-role.kubernetes.io/ingress"
NAMESPACE = "kube-system"
CONTROLLER = "nginx-ingress-controller"


@pytest.fixture(scope="module")
def ha_lab(lab_handle):
    return lab_handle.up("small", workers=4)


def run(lab, tmp_path, hosts, *args, take_ownership=True):
    """The runbook with ``hosts`` as the ingress group (an extra inventory layered on the lab's).

    The lab deploys the controller by server-side apply as field manager
    ``ackops-lab`` (standing in for ACK's add-on manager), so changing its
    replicas and nodeSelector needs ``ingress_ha_take_ownership``.
    """
    return lab.playbook("ingress-ha.yml", *arguments(tmp_path, hosts, take_ownership), *args)


def arguments(tmp_path, hosts, take_ownership=True) -> list[str]:
    """run()'s arguments: the ingress group's inventory, the report directory, the wait."""
    extra = tmp_path / "ingress.yml"
    group = {"hosts": {h: {} for h in hosts}}
    extra.write_text(yaml.safe_dump({"all": {"children": {"ingress": group}}}))
    return [
        "-i",
        str(extra),
        "-e",
        f"ingress_ha_report_dir={tmp_path}",
        "-e",
        "ingress_ha_wait_timeout=90",
        "-e",
        f"ingress_ha_take_ownership={str(take_ownership).lower()}",
    ]


def snapshot(lab) -> dict[str, str]:
    """What the runbook could write on nodes, the controller and PodDisruptionBudgets."""
    return lab.object_states("nodes,deployments,daemonsets,pdb")


def labelled_nodes(lab) -> set[str]:
    nodes = lab.kubectl_json("get", "nodes", "-l", f"{INGRESS_LABEL}=true")["items"]
    return {n["metadata"]["name"] for n in nodes}


def controller_pods(lab) -> list[dict]:
    pods = lab.kubectl_json("get", "pods", "-n", NAMESPACE, "-l", "app=ingress-nginx")["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def assert_failed_unchanged(lab, proc, before, *fragments):
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert recap(proc.stdout)["localhost"]["failed"] == 1, output
    for fragment in fragments:
        assert fragment in output, output
    assert snapshot(lab) == before


def test_fields_of_another_field_manager_are_not_taken_without_the_flag(ha_lab, tmp_path):
    before = snapshot(ha_lab)
    workers = [w.name for w in ha_lab.workers[:3]]
    proc = run(ha_lab, tmp_path, workers, "-e", "ingress_ha_replicas=3", take_ownership=False)
    assert_failed_unchanged(
        ha_lab,
        proc,
        before,
        "ackops-lab",
        ".spec.replicas",
        ".spec.template.spec.nodeSelector",
        "ingress_ha_take_ownership=true",
    )
    assert not labelled_nodes(ha_lab)


def test_check_mode_before_the_first_run_changes_nothing(ha_lab, tmp_path):
    workers = [w.name for w in ha_lab.workers[:3]]
    before = snapshot(ha_lab)
    assert not labelled_nodes(ha_lab)
    proc = run(ha_lab, tmp_path, workers, "-e", "ingress_ha_replicas=3", "--check", "--diff")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert recap(proc.stdout)["localhost"]["changed"] == 1
    assert snapshot(ha_lab) == before
    report = json.loads((tmp_path / "ingress-ha.json").read_text())
    assert report["check_mode"] is True
    assert sum(c.startswith("label node") for c in report["changes"]) == 3


def test_three_replicas_on_three_labelled_workers(ha_lab, tmp_path):
    workers = ha_lab.workers[:3]
    proc = run(ha_lab, tmp_path, [w.name for w in workers], "-e", "ingress_ha_replicas=3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert recap(proc.stdout)["localhost"]["changed"] == 1
    wanted = {w.node_name for w in workers}
    assert labelled_nodes(ha_lab) == wanted
    pods = controller_pods(ha_lab)
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(wanted)
    deployment = ha_lab.kubectl_json("get", "deployment", "-n", NAMESPACE, CONTROLLER)
    assert deployment["spec"]["replicas"] == 3
    pdb = ha_lab.kubectl_json("get", "pdb", "-n", NAMESPACE, CONTROLLER)
    assert pdb["spec"]["maxUnavailable"] == 1
    report = json.loads((tmp_path / "ingress-ha.json").read_text())
    assert report["service"]["addresses"], report["service"]
    assert report["version"]["gray_release_supported"] is True
    assert {row["node"] for row in report["pods"]} == wanted
    assert "nginx-ingress-lb" in (tmp_path / "ingress-ha.md").read_text()


def test_second_run_changes_nothing(ha_lab, tmp_path):
    before = snapshot(ha_lab)
    proc = run(
        ha_lab, tmp_path, [w.name for w in ha_lab.workers[:3]], "-e", "ingress_ha_replicas=3"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert recap(proc.stdout)["localhost"]["changed"] == 0, proc.stdout
    assert snapshot(ha_lab) == before


def test_shrinking_the_group_with_prune_moves_the_controller_off(ha_lab, tmp_path):
    kept, dropped = ha_lab.workers[:2], ha_lab.workers[2]
    proc = run(
        ha_lab,
        tmp_path,
        [w.name for w in kept],
        "-e",
        "ingress_ha_replicas=2",
        "-e",
        "ingress_ha_prune=true",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert labelled_nodes(ha_lab) == {w.node_name for w in kept}
    nodes = sorted(p["spec"]["nodeName"] for p in controller_pods(ha_lab))
    assert nodes == sorted(w.node_name for w in kept)
    assert dropped.node_name not in nodes


def test_refuses_more_replicas_than_nodes(ha_lab, tmp_path):
    before = snapshot(ha_lab)
    proc = run(
        ha_lab, tmp_path, [w.name for w in ha_lab.workers[:2]], "-e", "ingress_ha_replicas=3"
    )
    assert_failed_unchanged(ha_lab, proc, before, "for 3 replicas")


def test_refuses_a_master_in_the_ingress_group(ha_lab, tmp_path):
    before = snapshot(ha_lab)
    master = ha_lab.masters[0]
    hosts = [master.name] + [w.name for w in ha_lab.workers[:2]]
    proc = run(ha_lab, tmp_path, hosts, "-e", "ingress_ha_replicas=2")
    assert_failed_unchanged(ha_lab, proc, before, f"host {master.name}", "masters group")


def test_refuses_a_missing_controller(ha_lab, tmp_path):
    before = snapshot(ha_lab)
    proc = run(
        ha_lab,
        tmp_path,
        [w.name for w in ha_lab.workers[:2]],
        "-e",
        "ingress_ha_controller_name=no-such-controller",
    )
    assert_failed_unchanged(ha_lab, proc, before, "kube-system/no-such-controller")


def test_refuses_an_unreachable_api_server(ha_lab, tmp_path):
    before = snapshot(ha_lab)
    config = yaml.safe_load(ha_lab.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    closed = tmp_path / "closed.kubeconfig"
    closed.write_text(yaml.safe_dump(config))
    proc = run(
        ha_lab,
        tmp_path,
        [w.name for w in ha_lab.workers[:2]],
        "-e",
        f"ingress_ha_kubeconfig={closed}",
    )
    assert_failed_unchanged(ha_lab, proc, before, "cannot reach", "https://127.0.0.1:1")


@matrix_only
def test_an_apiserver_restart_during_the_run_is_survived_by_rerunning(ha_lab, tmp_path):
    """The API server frozen (SIGSTOP) as the runbook's task starts, then killed and started
    again by the host's kubelet: whatever the run says, it names the API server and no
    traceback; the next run converges (labels, one controller pod per node) and the one
    after it changes nothing. Recorded in the fault matrix."""
    workers = ha_lab.workers[1:4]
    hosts = [w.name for w in workers]
    master = ha_lab.masters[0]
    pid = ha_lab.component_pids(master.name)["kube-apiserver"]
    grow = ("-e", "ingress_ha_replicas=3", "-e", "ingress_ha_prune=true")
    watched = Watched(ha_lab, *arguments(tmp_path, hosts), *grow, playbook="ingress-ha.yml")
    stopped = False
    try:
        watched.wait_for(r"^TASK \[.*Label the ingress nodes", 300)
        os.kill(pid, signal.SIGSTOP)
        stopped = True
        time.sleep(5)
    finally:
        if stopped:
            os.kill(pid, signal.SIGKILL)
            os.kill(pid, signal.SIGCONT)
    try:
        code, first, _ = watched.finish(600)
    finally:
        watched.stop()
    assert "Traceback" not in first, first[-4000:]
    assert wait_until(ha_lab.healthy, 180), "the API server did not come back"
    assert ha_lab.component_pids(master.name)["kube-apiserver"] != pid
    if code != 0:
        said = failures(first)
        assert said, first[-4000:]
        assert any(word in said[0][2] for word in ("API server", "cannot reach", "6443")), said
        outcome = f"the run failed (exit {code}): {said[0][0]}: {said[0][2]}"
    else:
        outcome = "the run rode it out (exit 0)"
    again = run(ha_lab, tmp_path, hosts, *grow)
    assert again.returncode == 0, again.stdout + again.stderr
    wanted = {w.node_name for w in workers}
    assert labelled_nodes(ha_lab) == wanted
    assert sorted(p["spec"]["nodeName"] for p in controller_pods(ha_lab)) == sorted(wanted)
    third = run(ha_lab, tmp_path, hosts, *grow)
    assert third.returncode == 0, third.stdout + third.stderr
    assert recap(third.stdout)["localhost"]["changed"] == 0, third.stdout
    record(
        "ingress-apiserver-restart", "ingress-ha",
        f"API server (pid {pid}) frozen as the task started, killed 5 s later and started "
        f"again by the kubelet: {outcome}. The next run converged (3 labelled nodes, one "
        "controller pod on each) and the one after it changed nothing.",
        True, None, None, None, lab=lab_shape(ha_lab),
    )  # fmt: skip
