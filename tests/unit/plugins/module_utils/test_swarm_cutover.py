"""The migrate-swarm runbook's pure steps: node labels, canary Services and checklist, decommission guard."""

from __future__ import annotations

import re

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.cutover import (
    CutoverError,
    canary_checklist,
    canary_services,
    check_result,
    decommission_decision,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.labels import (
    LabelError,
    cluster_labels,
    conflicts,
    desired_labels,
)
from tests.unit.manifests import assert_valid_manifests
from tests.unit.plugins.module_utils.test_swarm_helpers import convert_text

SWARM_NODES = [
    {
        "hostname": "swarm-1",
        "role": "manager",
        "labels": {"zone": "west", "tier": "db"},
        "engine_labels": {"storage": "ssd"},
    },
    {"hostname": "swarm-2", "role": "worker", "labels": {"zone": "east"}, "engine_labels": {}},
]

# -- labels ------------------------------------------------------------------------------------


def test_labels_follow_the_node_map_and_the_label_map():
    wanted, entries = desired_labels(
        SWARM_NODES,
        {"swarm-1": ["k1", "k2"], "swarm-2": ["k3"]},
        {"node.labels.zone": "topology.kubernetes.io/zone"},
    )
    assert wanted == {
        "k1": {"topology.kubernetes.io/zone": "west", "tier": "db", "storage": "ssd"},
        "k2": {"topology.kubernetes.io/zone": "west", "tier": "db", "storage": "ssd"},
        "k3": {"topology.kubernetes.io/zone": "east"},
    }
    assert {(e["node"], e["attribute"]) for e in entries if e["status"] == "mapped"} >= {
        ("k1", "engine.labels.storage"),
        ("k3", "node.labels.zone"),
    }


def test_engine_labels_can_be_left_out_and_a_label_skipped():
    wanted, entries = desired_labels(
        SWARM_NODES, {"swarm-1": ["k1"]}, {"node.labels.tier": ""}, engine_labels=False
    )
    assert wanted == {"k1": {"zone": "west"}}
    assert [e["status"] for e in entries if e.get("attribute") == "node.labels.tier"] == ["skipped"]
    # swarm-2 is not mapped: said so, not silently dropped
    assert {"swarm_node": "swarm-2", "status": "unmapped"}.items() <= next(
        e for e in entries if e["swarm_node"] == "swarm-2"
    ).items()


def test_two_swarm_nodes_giving_one_node_different_values_are_refused():
    with pytest.raises(LabelError, match="zone=west from Swarm node swarm-1 and zone=east"):
        desired_labels(SWARM_NODES, {"swarm-1": ["k1"], "swarm-2": ["k1"]})


def test_unknown_swarm_node_and_invalid_label_are_refused():
    with pytest.raises(LabelError, match=r"Swarm does not have: \['ghost'\]"):
        desired_labels(SWARM_NODES, {"ghost": ["k1"]})
    nodes = [{"hostname": "s", "labels": {"zone": "not valid!"}, "engine_labels": {}}]
    with pytest.raises(LabelError, match=re.escape("node.labels.zone='not valid!'")):
        desired_labels(nodes, {"s": ["k1"]})


def test_conflicts_spare_labels_the_runbook_owns():
    wanted = {"k1": {"zone": "west"}, "k9": {"zone": "west"}}
    live = {"k1": {"zone": "east"}}
    found = conflicts(wanted, live)
    assert [(c["node"], c["label"]) for c in found] == [("k1", "zone"), ("k9", None)]
    assert conflicts({"k1": {"zone": "west"}}, live, owned={"k1": {"zone"}}) == []
    assert cluster_labels(live, {"k1": {"zone": "west", "tier": "db"}}) == {
        "tier": ["db"],
        "zone": ["west"],
    }


# -- canary --------------------------------------------------------------------------------------

STACK = """
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
  edge:
    image: nginx:1.27
    ports:
      - {target: 443, published: 8443, mode: host}
  db:
    image: postgres:16
"""


def test_canary_services_select_the_pods_of_each_publishing_service(tmp_path):
    conversion = convert_text(tmp_path, STACK, namespace="shop")
    services = canary_services(conversion.objects, node_ports={"web:8080": 30080}, namespace="shop")
    assert_valid_manifests(services)
    by_name = {s["metadata"]["name"]: s for s in services}
    assert sorted(by_name) == ["edge-canary", "web-canary"]
    web = by_name["web-canary"]
    assert web["spec"]["type"] == "NodePort"
    assert web["spec"]["ports"] == [
        {"name": "tcp-8080", "port": 8080, "targetPort": 80, "protocol": "TCP", "nodePort": 30080}
    ]
    deployment = next(
        o
        for o in conversion.objects
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "web"
    )
    assert web["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    # a host-mode port: the container port behind the hostPort
    assert by_name["edge-canary"]["spec"]["ports"][0]["targetPort"] == 443
    assert "nodePort" not in by_name["edge-canary"]["spec"]["ports"][0]


def test_canary_refuses_a_service_without_published_ports_and_an_unknown_port(tmp_path):
    conversion = convert_text(tmp_path, STACK)
    with pytest.raises(CutoverError, match=r"publish no port.*\['db'\]"):
        canary_services(conversion.objects, ["db"])
    with pytest.raises(CutoverError, match="port 9999 that service web does not publish"):
        canary_services(conversion.objects, ["web"], {"web:9999": 30099})


def test_checklist_steps_weights_then_rollback():
    services = [
        {"metadata": {"name": "web-canary"}, "spec": {"ports": [{"port": 8080, "nodePort": 30080}]}}
    ]
    items = canary_checklist(services, [10, 50, 100], ["10.0.0.1", "10.0.0.2"])
    assert [i["step"] for i in items] == [0, 1, 2, 3, "rollback"]
    assert [i["weight"] for i in items] == [0, 10, 50, 100, 0]
    assert items[2]["swarm_weight"] == 50
    assert items[0]["backends"] == ["web-canary port 8080: nodes 10.0.0.1, 10.0.0.2 port 30080"]
    assert items[-1]["swarm_weight"] == 100
    for bad in ([50, 10], [0, 10], [10, 101], [10, 10]):
        with pytest.raises(CutoverError):
            canary_checklist(services, bad, [])


# -- decommission ----------------------------------------------------------------------------------

PASS = {"rc": 0, "stdout": ""}
FAIL = {"rc": 1, "stdout": "3 established connections on :8080"}


@pytest.mark.parametrize(
    ("exists", "running", "check", "remove", "action"),
    [
        (True, {"web": 2}, FAIL, True, "refuse"),
        (True, {"web": 2}, None, True, "refuse"),
        (True, {"web": 2}, PASS, False, "report"),
        (True, {"web": 2}, PASS, True, "remove"),
        # a check that ran and failed refuses even when the (possibly stale) counts say 0
        (True, {"web": 0}, FAIL, True, "refuse"),
        (True, {"web": 0}, FAIL, False, "refuse"),
        (True, {"web": 0}, {"rc": "x"}, True, "refuse"),
        (True, {"web": 0}, PASS, True, "remove"),
        (True, {"web": 0}, None, False, "report"),
        (False, {}, None, True, "none"),
    ],
)
def test_decommission_guard(exists, running, check, remove, action):
    decision = decommission_decision(exists, running, check, remove)
    assert decision["action"] == action
    assert decision["allowed"] is (action != "refuse")
    assert decision["reasons"]


def test_decommission_refusal_says_why():
    decision = decommission_decision(True, {"web": 2, "db": 1}, FAIL, True)
    text = " ".join(decision["reasons"])
    assert "rc 1" in text
    assert "db (1), web (2)" in text
    # the check's output may carry credentials: never in the reasons (they go into reports)
    assert "established connections" not in text


def test_decommission_failed_check_never_echoes_output():
    secret = {"rc": 1, "stdout": "curl -u admin:hunter2 42 connections/s", "stderr": "s3cret"}
    decision = decommission_decision(True, {"web": 0}, secret, True)
    assert decision["action"] == "refuse"
    assert decision["allowed"] is False
    text = " ".join(decision["reasons"])
    assert "hunter2" not in text
    assert "s3cret" not in text
    assert "42 connections" not in text


def test_cutover_check_results():
    assert check_result({"migrate_swarm_check": {"name": "dns", "command": "true"}, "rc": 0}) == {
        "name": "dns",
        "passed": True,
        "detail": "exit 0",
    }
    failed = check_result({"migrate_swarm_check": {"command": "false"}, "rc": 1, "stderr": "no"})
    assert (failed["name"], failed["passed"], failed["detail"]) == ("false check", False, "exit 1")


def test_a_failed_cutover_check_never_shows_its_command_or_output():
    # A check's command line and output may carry credentials: only a name and the exit code.
    item = {
        "migrate_swarm_check": {"command": "curl -fsu admin:hunter2 https://shop.example/health"},
        "rc": 22,
        "stdout": "token=s3cret-value",
    }
    assert check_result(item) == {"name": "curl check", "passed": False, "detail": "exit 22"}
    url = {
        "migrate_swarm_check": {"url": "https://admin:hunter2@shop.example/health?key=s3cret"},
        "status": 401,
        "msg": "Unauthorized",
    }
    assert check_result(url)["name"] == "https://shop.example/health"
    url = {"migrate_swarm_check": {"url": "http://x/", "status": 204}, "status": 200, "msg": "OK"}
    assert check_result(url)["passed"] is False
    assert check_result({**url, "status": 204})["passed"] is True


def test_decommission_report_records_only_the_check_name_and_rc():
    from pathlib import Path

    import yaml

    role = Path(__file__).resolve().parents[4] / "roles" / "migrate_swarm"
    tasks = yaml.safe_load((role / "tasks" / "step_decommission.yml").read_text())
    check_task = next(t for t in tasks if "ansible.builtin.shell" in t)
    assert check_task.get("no_log") is True
    report = next(t for t in tasks if t.get("vars", {}).get("report_data"))
    recorded = str(report["vars"]["report_data"]["traffic_check"])
    assert "migrate_swarm_traffic.rc" in recorded
    assert "migrate_swarm_traffic_check," not in recorded  # the command itself
    assert "stdout" not in recorded
    assert "stderr" not in recorded
    markdown = (role / "templates" / "report_decommission.md.j2").read_text()
    assert "~ migrate_swarm_traffic_check" not in markdown
    assert "migrate_swarm_traffic.stdout" not in markdown
    # the step re-reads the stack's tasks before the decision, not prepare's counts
    names = [t.get("name", "") for t in tasks]
    reread = next(i for i, t in enumerate(tasks) if "ackops.runbooks.swarm_stack_info" in t)
    assert reread < names.index("Decide")


def test_a_label_mapped_to_null_is_not_migrated_like_empty():
    wanted, entries = desired_labels(SWARM_NODES, {"swarm-1": ["k1"]}, {"node.labels.tier": None})
    assert "tier" not in wanted["k1"]
    assert "None" not in wanted["k1"]
    assert [e["status"] for e in entries if e.get("attribute") == "node.labels.tier"] == ["skipped"]


def test_a_command_check_with_url_null_is_judged_as_a_command():
    # the argument spec fills absent suboptions with None
    item = {"migrate_swarm_check": {"name": "dns", "command": "true", "url": None}, "rc": 1}
    assert check_result(item) == {"name": "dns", "passed": False, "detail": "exit 1"}
