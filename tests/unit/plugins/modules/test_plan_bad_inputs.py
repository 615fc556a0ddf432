"""plan-cluster's table of bad inputs: each row runs the real module or filter.

Every row is an input a user could write and the message it must get: the
field, and the cause (with the numbers where arithmetic is involved). The
module rows run ``cluster_plan_info.main`` in this process (its real argument
spec, then the planner) and read what ``fail_json`` prints; the filter rows
call the filters as Jinja does. No row may produce a traceback.

docs/plan-cluster.md shows the same table, generated from these rows with the
messages the code gives today; regenerate it with

    PYTHONPATH=collections .venv/bin/python -m tests.unit.plugins.modules.test_plan_bad_inputs
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleError
from ansible.module_utils import basic

from ansible_collections.ackops.runbooks.plugins.filter.cidr_conflicts import cidr_conflicts
from ansible_collections.ackops.runbooks.plugins.filter.free_cidrs import free_cidrs_filter
from ansible_collections.ackops.runbooks.plugins.filter.master_spec import master_spec_filter
from ansible_collections.ackops.runbooks.plugins.filter.max_nodes import max_nodes_filter
from ansible_collections.ackops.runbooks.plugins.filter.worker_plan import worker_plan_filter
from ansible_collections.ackops.runbooks.plugins.modules import cluster_plan_info
from tests.catalogue import record

REPO = Path(__file__).resolve().parents[4]
DOC = REPO / "docs" / "plan-cluster.md"
START, END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"

VPC = "192.168.0.0/16"


def cluster(**changes) -> dict:
    base = {"name": "prod", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.21.0.0/20"}
    base.update(changes)
    return {"network": {"vpc_cidr": VPC, "clusters": [base]}}


def terway(**changes) -> dict:
    base = {
        "name": "tw",
        "network_mode": "terway",
        "service_cidr": "172.21.0.0/20",
        "pods_per_node": 64,
        "zones": [{"name": "cn-hangzhou-i", "nodes": 40}],
    }
    base.update(changes)
    return {"network": {"vpc_cidr": VPC, "clusters": [base]}}


def workers(**changes) -> dict:
    base = {"total_cores": 160, "failure_ratio": 0.1}
    base.update(changes)
    return {"workers": base}


# (input shown in the docs, how to run it, fragments the message must hold)
MODULE_ROWS = [
    ("node_count: 0", {"node_count": 0}, ["node_count", "0 must be greater than zero"]),
    ("node_count: -5", {"node_count": -5}, ["node_count", "-5 must be greater than zero"]),
    ("node_count: 2.5", {"node_count": 2.5}, ["node_count", "cannot be converted to an int"]),
    ("node_count: three", {"node_count": "three"}, ["node_count", "cannot be converted"]),
    (
        "node_count: .inf",
        {"node_count": float("inf")},
        ["node_count: inf must be a finite number"],
    ),
    (
        "workers.instance_cores: [8, .inf]",
        workers(instance_cores=[8, float("inf")]),
        ["workers.instance_cores[1]: inf must be a finite number"],
    ),
    (
        "workers.instance_cores: []",
        workers(instance_cores=[]),
        ["workers.instance_cores", "must be a non-empty list"],
    ),
    (
        "workers.instance_cores: [0, 8]",
        workers(instance_cores=[0, 8]),
        ["workers.instance_cores[0]", "0 must be greater than zero"],
    ),
    (
        "workers.failure_ratio: 1",
        workers(failure_ratio=1),
        ["workers.failure_ratio", "must be greater than 0 and less than 1"],
    ),
    (
        "workers.failure_ratio: 0",
        workers(failure_ratio=0),
        ["workers.failure_ratio", "must be greater than 0 and less than 1"],
    ),
    (
        "workers.total_cores: 0",
        workers(total_cores=0),
        ["workers.total_cores", "0 must be greater than zero"],
    ),
    (
        "workers.memory_per_core_gib: -4",
        workers(memory_per_core_gib=-4),
        ["workers.memory_per_core_gib", "must be greater than zero"],
    ),
    (
        "workers without failure_ratio",
        {"workers": {"total_cores": 160}},
        ["failure_ratio", "missing required arguments"],
    ),
    (
        "network.vpc_cidr: 192.168.0.0/33",
        {"network": {"vpc_cidr": "192.168.0.0/33"}},
        ["network.vpc_cidr", "is not a valid IPv4 or IPv6 CIDR"],
    ),
    (
        "network.vpc_cidr: 192.168.1.0/16",
        {"network": {"vpc_cidr": "192.168.1.0/16"}},
        ["network.vpc_cidr", "has host bits set: did you mean 192.168.0.0/16?"],
    ),
    (
        "network.vpc_cidr: fd00::/48",
        {"network": {"vpc_cidr": "fd00::/48"}},
        ["network.vpc_cidr", "is IPv6: this field takes IPv4 only"],
    ),
    (
        "network.vswitches[1]: nonsense",
        {"network": {"vswitches": ["192.168.0.0/24", "nonsense"]}},
        ["network.vswitches[1]", "has no prefix length"],
    ),
    (
        "network.idc_routes[0] without cidr",
        {"network": {"idc_routes": [{"name": "office"}]}},
        ["network.idc_routes[0]", "has no 'cidr' key"],
    ),
    (
        "network.reserved[0]: 10.0.0.1/8",
        {"network": {"reserved": ["10.0.0.1/8"]}},
        ["network.reserved[0]", "did you mean 10.0.0.0/8?"],
    ),
    (
        "pod_cidr /26 at 128 pods per node",
        cluster(pod_cidr="172.20.0.0/26"),
        [
            "network.clusters[0].pod_cidr",
            "holds no node: 128 pods per node need a /24 block of 256 addresses",
        ],
    ),
    (
        "pods_per_node: 10000000000",
        cluster(pods_per_node=10**10),
        [
            "network.clusters[0].pod_cidr",
            "10000000000 pods per node need a block of 17179869184 addresses",
        ],
    ),
    (
        "pods_per_node: 0",
        cluster(pods_per_node=0),
        ["network.clusters[0].pods_per_node", "0 must be greater than zero"],
    ),
    (
        "pods_per_node: 1.5",
        cluster(pods_per_node=1.5),
        ["pods_per_node", "cannot be converted to an int"],
    ),
    (
        "node_prefix: 12 on a /16 pod CIDR",
        cluster(node_prefix=12),
        [
            "network.clusters[0].pod_cidr",
            "the pinned /12 per-node block has 1048576 addresses, more than",
        ],
    ),
    (
        "node_prefix: 25 on a /8 pod CIDR",
        cluster(pod_cidr="10.0.0.0/8", node_prefix=25),
        ["network.clusters[0].node_prefix", "17 bits longer than the pod CIDR /8"],
    ),
    (
        "node_prefix: 40",
        cluster(node_prefix=40),
        ["network.clusters[0].node_prefix", "must be at most /32"],
    ),
    (
        "nodes: -1",
        cluster(nodes=-1),
        ["network.clusters[0].nodes", "-1 must be greater than zero"],
    ),
    (
        "service_cidr: 10.0.0.0/8",
        cluster(service_cidr="10.0.0.0/8"),
        ["network.clusters[0].service_cidr", "16777216 addresses", "mask must be >= /12"],
    ),
    (
        "service_cidr: 10.1.0.0/30",
        cluster(service_cidr="10.1.0.0/30"),
        ["network.clusters[0].service_cidr", "too small", "4 addresses", "mask must be <= /28"],
    ),
    (
        "service_cidr: fd00:21::/125 (ip_stack dual)",
        terway(ip_stack="dual", service_cidr=["172.21.0.0/20", "fd00:21::/125"]),
        ["network.clusters[0].service_cidr", "too small", "8 addresses", "mask must be <= /124"],
    ),
    (
        "service_cidr: fd00:21::%eth0/112 (ip_stack dual)",
        terway(ip_stack="dual", service_cidr=["172.21.0.0/20", "fd00:21::%eth0/112"]),
        ["network.clusters[0].service_cidr[1]", "zone id"],
    ),
    (
        "service_cidr: fd00:21::/64 (ip_stack dual)",
        terway(ip_stack="dual", service_cidr=["172.21.0.0/20", "fd00:21::/64"]),
        ["network.clusters[0].service_cidr", "mask must be >= /108 for IPv6"],
    ),
    (
        "ip_stack: dual with one service CIDR",
        terway(ip_stack="dual"),
        ["network.clusters[0].service_cidr", "must hold IPv4 and IPv6 for ip_stack dual"],
    ),
    (
        "two IPv4 service CIDRs",
        terway(ip_stack="dual", service_cidr="172.21.0.0/20,172.22.0.0/20"),
        ["network.clusters[0].service_cidr", "one CIDR per address family"],
    ),
    (
        "ip_stack: dual with Flannel",
        cluster(
            ip_stack="dual",
            pod_cidr="172.20.0.0/16,fd00:20::/56",
            service_cidr="172.21.0.0/20,fd00:21::/112",
        ),
        ["network.clusters[0].ip_stack", "needs network_mode: terway"],
    ),
    (
        "ip_stack: ipv5",
        cluster(ip_stack="ipv5"),
        ["ip_stack", "value of ip_stack must be one of: ipv4, dual, ipv6"],
    ),
    (
        "Flannel cluster without pod_cidr",
        cluster(pod_cidr=None),
        ["network.clusters[0].pod_cidr", "is required for a flannel cluster"],
    ),
    (
        "Terway cluster with pod_cidr",
        terway(pod_cidr="172.20.0.0/16"),
        ["network.clusters[0].pod_cidr", "is not used in Terway mode"],
    ),
    (
        "Terway cluster without zones",
        terway(zones=None),
        ["network.clusters[0].zones", "is required in Terway mode"],
    ),
    (
        "Terway zone with 2000 nodes at 64 pods",
        terway(zones=[{"name": "cn-hangzhou-i", "nodes": 2000}]),
        ["network.clusters[0].zones[0].nodes", "128000 addresses", "at most /16"],
    ),
    (
        "zone nodes: 0",
        terway(zones=[{"name": "cn-hangzhou-i", "nodes": 0}]),
        ["network.clusters[0].zones[0].nodes", "0 must be greater than zero"],
    ),
    (
        "zone listed twice",
        terway(zones=[{"name": "z", "nodes": 1}, {"name": "z", "nodes": 2}]),
        ["network.clusters[0].zones[1].name", "is listed twice"],
    ),
    (
        "pod_vswitch on a Flannel cluster",
        cluster(zones=[{"name": "z", "nodes": 3, "pod_vswitch": "192.168.1.0/24"}]),
        ["network.clusters[0].zones[0].pod_vswitch", "is for Terway"],
    ),
    (
        "Terway zones with no vpc_cidr to carve from",
        {"network": {"clusters": terway()["network"]["clusters"]}},
        ["network.clusters[0].zones[0]", "there is no network.vpc_cidr to propose it from"],
    ),
    (
        "node_prefix on a Terway cluster",
        terway(node_prefix=24),
        ["network.clusters[0].node_prefix", "is a Flannel setting"],
    ),
    (
        "Terway nodes: 50 with zones listing 40",
        terway(nodes=50),
        ["network.clusters[0].nodes", "differs from the 40 nodes its zones list"],
    ),
    (
        "ip_headroom: -0.5",
        terway(ip_headroom=-0.5),
        ["network.clusters[0].ip_headroom", "must be between 0 and 10"],
    ),
    (
        "two clusters named prod",
        {"network": {"clusters": [cluster()["network"]["clusters"][0]] * 2}},
        ["network.clusters[1].name", "is used by another cluster"],
    ),
    (
        "proposals.count: 1000",
        {"proposals": {"count": 1000}},
        ["proposals.count", "more than 32 proposals"],
    ),
    (
        "proposals.pod_prefix: 40",
        {"proposals": {"pod_prefix": 40}},
        ["proposals.pod_prefix", "must be at most 32 for IPv4"],
    ),
    (
        "proposals.service_prefix: 8",
        {"proposals": {"service_prefix": 8}},
        ["proposals.service_prefix", "at most 20 host bits"],
    ),
    (
        "proposals.service_prefix: 30",
        {"proposals": {"service_prefix": 30}},
        ["proposals.service_prefix", "too small", "4 addresses", "mask must be <= /28"],
    ),
    (
        "proposals.service_prefix_v6: 64 (ip_stack dual)",
        {"proposals": {"ip_stack": "dual", "service_prefix_v6": 64}},
        ["proposals.service_prefix_v6", "at most 20 host bits"],
    ),
    (
        "proposals.pod_prefix: 8 in 192.168.0.0/16",
        {"proposals": {"pod_prefix": 8, "search_space": ["192.168.0.0/16"]}},
        ["proposals.pod_prefix", "leaves only 0 of 1 free block(s)"],
    ),
    (
        "proposals.search_space: [fd00::/8]",
        {"proposals": {"search_space": ["fd00::/8"]}},
        ["proposals.search_space[0]", "is IPv6: this field takes IPv4 only"],
    ),
]

FILTER_ROWS = [
    (
        ".inf (YAML infinity) | worker_plan(failure_ratio=0.1)",
        lambda: worker_plan_filter(float("inf"), failure_ratio=0.1),
        ["worker_plan: total_cores: inf must be a finite whole number"],
    ),
    (
        "'inf' | worker_plan(failure_ratio=0.1)",
        lambda: worker_plan_filter("inf", failure_ratio=0.1),
        ["worker_plan: total_cores: 'inf' must be a finite whole number"],
    ),
    (
        "160 | worker_plan(failure_ratio=0.1, instance_cores=[8, inf])",
        lambda: worker_plan_filter(160, failure_ratio=0.1, instance_cores=[8, float("inf")]),
        ["worker_plan: instance_cores: [8, inf] must hold finite whole numbers"],
    ),
    (
        "'10.0.0.0/16' | max_nodes(pods_per_node=inf)",
        lambda: max_nodes_filter("10.0.0.0/16", pods_per_node=float("inf")),
        ["max_nodes: pods_per_node: inf must be a finite whole number"],
    ),
    (
        "'10.0.0.0/26' | max_nodes(pods_per_node=128)",
        lambda: max_nodes_filter("10.0.0.0/26", pods_per_node=128),
        ["max_nodes", "pod_cidr", "holds no node"],
    ),
    (
        "'10.0.0.0/16' | max_nodes(pods_per_node=0)",
        lambda: max_nodes_filter("10.0.0.0/16", pods_per_node=0),
        ["max_nodes", "pods_per_node", "0 must be greater than zero"],
    ),
    (
        "0 | master_spec",
        lambda: master_spec_filter(0),
        ["master_spec", "node_count", "0 must be greater than zero"],
    ),
    (
        "160 | worker_plan(failure_ratio=0.1, instance_cores=[])",
        lambda: worker_plan_filter(160, failure_ratio=0.1, instance_cores=[]),
        ["worker_plan", "instance_cores", "must be a non-empty list"],
    ),
    (
        "[] | free_cidrs(prefix=16, count=100)",
        lambda: free_cidrs_filter([], prefix=16, count=100),
        ["free_cidrs", "count", "more than 32 proposals"],
    ),
    (
        "{'clusters': [{'name': 'a', 'pod_cidr': '172.20.0.0/16', 'service_cidr': '10.0.0.0/11'}]} "
        "| cidr_conflicts",
        lambda: cidr_conflicts(
            {
                "clusters": [
                    {"name": "a", "pod_cidr": "172.20.0.0/16", "service_cidr": "10.0.0.0/11"}
                ]
            }
        ),
        ["cidr_conflicts", "plan.clusters[0].service_cidr", "mask must be >= /12"],
    ),
]


def run_module(args: dict) -> dict:
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
    saved = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE)
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = payload, "legacy"
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            cluster_plan_info.main()
    finally:
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = saved
    return json.loads(out.getvalue())


def run_filter(call) -> str:
    try:
        call()
    except AnsibleError as exc:
        return str(exc)
    raise AssertionError("the filter accepted the input")


@pytest.mark.parametrize(
    ("shown", "args", "fragments"), MODULE_ROWS, ids=[r[0] for r in MODULE_ROWS]
)
def test_module_refuses_with_field_and_cause(shown, args, fragments):
    result = run_module(args)
    assert result.get("failed") is True, result
    assert "Traceback" not in json.dumps(result)
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    proof = None
    if "error" in result:  # refused by the planner, not by Ansible's argument spec
        assert result["error"]["field"] in result["msg"]
        assert result["changed"] is False
        proof = "module result changed=false"
    record("plan-cluster", "CIDR" if "cidr" in shown.lower() else "variable", shown,
           result["msg"], proof)  # fmt: skip


@pytest.mark.parametrize(
    ("shown", "call", "fragments"), FILTER_ROWS, ids=[r[0] for r in FILTER_ROWS]
)
def test_filter_refuses_with_field_and_cause(shown, call, fragments):
    message = run_filter(call)
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message
    record("plan-cluster", "CIDR" if "cidr" in shown.lower() else "filter argument", shown,
           message, "the filter raised AnsibleError: no value returned")  # fmt: skip


def test_the_table_has_at_least_30_rows():
    assert len(MODULE_ROWS) + len(FILTER_ROWS) >= 30


def render() -> str:
    def cell(text: str) -> str:
        return " ".join(str(text).split()).replace("|", "\\|")

    lines = ["| # | input | message |", "|---|---|---|"]
    rows = [(shown, run_module(args)["msg"]) for shown, args, _ in MODULE_ROWS]
    rows += [(f"filter: `{shown}`", run_filter(call)) for shown, call, _ in FILTER_ROWS]
    for number, (shown, message) in enumerate(rows, 1):
        lines.append(f"| {number} | {cell(shown)} | {cell(message)} |")
    return "\n".join(lines)


def test_the_docs_show_the_table_as_the_code_answers_today():
    text = DOC.read_text()
    match = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    assert match, f"{DOC} has no {START} ... {END} section"
    assert match.group(1) == render(), (
        "docs/plan-cluster.md is out of date: "
        "run PYTHONPATH=collections .venv/bin/python -m tests.unit.plugins.modules.test_plan_bad_inputs"
    )


if __name__ == "__main__":
    text = DOC.read_text()
    if START not in text:
        sys.exit(f"{DOC} has no {START} marker")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{render()}\n{END}{tail}")
    print(f"wrote {DOC}")
