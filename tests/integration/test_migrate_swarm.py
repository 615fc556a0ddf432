"""migrate-swarm on the lab: the real Swarm's stack `shop` moved to the lab's Kubernetes.

One module-scoped run takes the steps analyze, convert, labels and deploy
from the live Swarm (read over SSH on lab-swarm-1: the stack file is not
used), a second identical run must change nothing, then decommission is tried
while a client holds a connection to the Swarm's published port (refused),
without the removal flag (report only) and with it (removed). The stack is
gone afterwards, so the lab is marked dirty: the next test that needs the
Swarm brings a fresh one up.
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest

from tests.integration.conftest import assert_ok, changed_total, flat
from tests.integration.test_lab_swarm import ssh

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
STACK_SRC = REPO / "lab" / "swarm" / "stack"
NAMESPACE = "shop-migrate"
# Established connections to the tasks' port 80 (Swarm publishes it as 8080 in host mode), read
# inside the stack's containers: the lab's stand-in for an SLB's per-backend connection count.
TRAFFIC_CHECK = (
    "for c in $(docker ps -q --filter label=com.docker.stack.namespace=shop); do "
    "docker exec $c netstat -tn 2>/dev/null; done | grep -E ':80 .*ESTABLISHED' && exit 1 || exit 0"
)


def stack_services(lab, manager) -> list[str]:
    out = ssh(lab, manager, "docker stack services shop --format '{{.Name}}'", check=False)
    return sorted(out.stdout.split())


@pytest.fixture(scope="module")
def migration(lab_handle, tmp_path_factory):
    lab = lab_handle.ensure("small", swarm=True)
    doc = lab.status(refresh=True)
    manager = doc["swarm"]["managers"][0]
    if not stack_services(lab, manager):  # an earlier session decommissioned it
        lab = lab_handle.up("small", swarm=True)
        doc = lab.status(refresh=True)
        manager = doc["swarm"]["managers"][0]
    master, worker = lab.masters[0], lab.workers[0]
    work = tmp_path_factory.mktemp("migrate-swarm")
    secrets = {k: Path(v).read_text() for k, v in manager["secret_files"].items()}
    extra = {
        "migrate_swarm_stack": "shop",
        "migrate_swarm_namespace": NAMESPACE,
        "migrate_swarm_node_map": {manager["node_hostname"]: [master.name, worker.name]},
        "migrate_swarm_label_map": {
            "node.labels.zone": "topology.kubernetes.io/zone",
            "node.labels.ackops.io/lab": "",  # the lab's own node label, another value on Kubernetes
        },
        "migrate_swarm_convert_options": {"storage_class": "alibabacloud-cnfs-nas"},
        # the vault gives one secret; the other is read from a running task (explicit flag)
        "migrate_swarm_secret_values": {"db_password": secrets["db_password"]},
        "migrate_swarm_secrets_from_tasks": True,
        "migrate_swarm_accepted_changes": [
            "db:deploy.placement.constraints*",
            "*:deploy.restart_policy",
        ],
        "migrate_swarm_wait_timeout": 150,
        "migrate_swarm_manifest_dir": str(work / "manifests"),
        "migrate_swarm_report_dir": str(work / "reports"),
        "migrate_swarm_traffic_check": TRAFFIC_CHECK,
    }
    vars_file = work / "vars.json"
    vars_file.write_text(json.dumps(extra))
    vars_file.chmod(0o600)
    lab.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true")
    steps = ["-e", f"@{vars_file}", "-e", "migrate_swarm_steps=analyze,convert,labels,deploy"]
    first = lab.playbook("migrate-swarm.yml", *steps)
    second = lab.playbook("migrate-swarm.yml", *steps, "--diff")
    return {
        "lab": lab,
        "manager": manager,
        "master": master,
        "worker": worker,
        "work": work,
        "vars": vars_file,
        "secrets": secrets,
        "first": first,
        "second": second,
    }


def report(migration, step: str) -> dict:
    return json.loads((migration["work"] / "reports" / f"migrate-swarm-{step}.json").read_text())


def test_steps_run_and_a_second_run_changes_nothing(migration):
    assert_ok(migration["first"], "analyze,convert,labels,deploy")
    assert changed_total(migration["first"]) > 0
    assert_ok(migration["second"], "second run")
    assert changed_total(migration["second"]) == 0, flat(migration["second"].stdout)[-3000:]


def node_satisfies(node: dict, affinity: dict) -> bool:
    labels = node["metadata"].get("labels") or {}
    terms = (
        affinity.get("nodeAffinity", {})
        .get("requiredDuringSchedulingIgnoredDuringExecution", {})
        .get("nodeSelectorTerms", [{}])
    )
    for term in terms:
        ok = True
        for expr in term.get("matchExpressions", []):
            key, op, values = expr["key"], expr["operator"], expr.get("values", [])
            ok &= {
                "In": key in labels and labels[key] in values,
                "NotIn": labels.get(key) not in values,
                "Exists": key in labels,
                "DoesNotExist": key not in labels,
            }[op]
        if ok:
            return True
    return False


def test_pods_run_on_the_nodes_the_constraints_select(migration):
    lab = migration["lab"]
    pods = lab.kubectl_json("get", "pods", "-n", NAMESPACE)["items"]
    nodes = {n["metadata"]["name"]: n for n in lab.kubectl_json("get", "nodes")["items"]}
    by_service: dict[str, list[dict]] = {}
    for pod in pods:
        name = pod["metadata"]["labels"]["app.kubernetes.io/name"]
        by_service.setdefault(name, []).append(pod)
        assert pod["status"]["phase"] == "Running", (pod["metadata"]["name"], pod["status"])
        node = nodes[pod["spec"]["nodeName"]]
        # the converted constraints hold on the node the pod runs on
        assert node_satisfies(node, pod["spec"].get("affinity") or {}), pod["metadata"]["name"]
    assert {s: len(p) for s, p in by_service.items()} == {"db": 1, "web": 2, "edge": 1}
    master, worker = migration["master"].node_name, migration["worker"].node_name
    # node.role == manager + tier/disk labels: the master (tolerated); web by zone and tier,
    # edge by the engine label: the labelled worker (the master is tainted for them)
    assert [p["spec"]["nodeName"] for p in by_service["db"]] == [master]
    assert {p["spec"]["nodeName"] for p in by_service["web"] + by_service["edge"]} == {worker}
    # the labels step put the Swarm node's labels on exactly the mapped nodes
    for name, node in nodes.items():
        labels = node["metadata"]["labels"]
        assert (labels.get("tier") == "db" and labels.get("ackops.lab") == "swarm") is (
            name in (master, worker)
        ), name
    assert report(migration, "deploy")["placements"]


def test_configs_and_secrets_hold_the_swarm_content(migration):
    lab = migration["lab"]
    for name, file in (("web-index", "web-index.html"), ("edge-index", "edge-index.html")):
        cm = lab.kubectl_json("get", "configmap", name, "-n", NAMESPACE)
        (content,) = cm["data"].values()
        assert content == (STACK_SRC / "configs" / file).read_text()
    for name, key in (("db-password", "db_password"), ("api-token", "api_token")):
        secret = lab.kubectl_json("get", "secret", name, "-n", NAMESPACE)
        assert base64.b64decode(secret["data"][key]).decode() == migration["secrets"][key]
    deploy = report(migration, "deploy")
    assert deploy["secrets_read_from_tasks"] == ["api_token"]


def test_report_lists_what_was_lost_and_no_secret_leaks(migration):
    analyze = report(migration, "analyze")
    assert analyze["source"] == "swarm"
    assert "depends_on" in {n["key"] for n in analyze["not_kept_by_swarm"]}
    flags = {(f["service"], f["key"]) for f in analyze["conversion"]["behaviour_changes"]}
    assert ("db", "deploy.placement.constraints[2]") in flags  # node.role == manager
    lossy = [
        e
        for info in analyze["conversion"]["services"].values()
        for e in info["entries"]
        if e["status"] == "converted_with_loss"
    ]
    assert any(e["key"] == "volumes[0]" for e in lossy)
    accepted = {
        (f["service"], f["key"]) for f in report(migration, "deploy")["accepted_behaviour_changes"]
    }
    assert ("db", "deploy.placement.constraints[2]") in accepted
    convert = report(migration, "convert")
    assert sorted(convert["manifests"]["held_back"])  # Secret manifests not written
    written = list((migration["work"] / "manifests").rglob("*.yaml"))
    assert written
    assert not [p for p in written if "-secret-" in p.name]
    outputs = [migration["first"].stdout, migration["second"].stdout]
    outputs += [p.read_text() for p in (migration["work"] / "reports").iterdir()]
    outputs += [p.read_text() for p in written]
    for value in migration["secrets"].values():
        assert not [o for o in outputs if value.strip() in o], "a secret value leaked"


def decommission(migration, *extra: str):
    return migration["lab"].playbook(
        "migrate-swarm.yml",
        "-e", f"@{migration['vars']}",
        "-e", "migrate_swarm_steps=decommission",
        *extra,
    )  # fmt: skip


def test_decommission_only_when_the_check_passes_and_when_asked(migration):
    lab, manager = migration["lab"], migration["manager"]
    assert len(stack_services(lab, manager)) == 3
    with socket.create_connection((manager["address"], 8080), timeout=10) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: shop\r\n")  # an unfinished request: held open
        refused = decommission(migration, "-e", "migrate_swarm_remove_stack=true")
    assert refused.returncode != 0
    assert "refused" in flat(refused.stdout)
    assert "traffic check failed" in " ".join(
        report(migration, "decommission")["decision"]["reasons"]
    )
    assert len(stack_services(lab, manager)) == 3
    not_asked = decommission(migration)
    assert_ok(not_asked, "decommission without the flag")
    assert report(migration, "decommission")["decision"]["action"] == "report"
    assert len(stack_services(lab, manager)) == 3
    lab.dirty = True  # from here on the Swarm may lose its stack
    removed = decommission(migration, "-e", "migrate_swarm_remove_stack=true")
    assert_ok(removed, "decommission")
    assert report(migration, "decommission")["removed"] is True
    assert stack_services(lab, manager) == []
    # the Kubernetes side is untouched
    assert (
        lab.kubectl_json("get", "deployment", "web", "-n", NAMESPACE)["status"]["readyReplicas"]
        == 2
    )
