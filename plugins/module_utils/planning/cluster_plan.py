"""A whole cluster plan in one call: sizes, CIDR verdicts, capacity, proposals, report."""

from __future__ import annotations

import json

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.ack_export import (
    export_plan,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    _mapping,
    propose,
    validate_plan,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cluster_sizing import (
    DEFAULT_INSTANCE_CORES,
    master_spec,
    worker_plan,
)


def build_plan(node_count=None, workers=None, network=None, proposals=None) -> dict:
    """Evaluate whichever parts of a plan are given; raises InputError on unusable input."""
    result: dict = {"master": None, "workers": None, "network": None, "proposals": None}
    if node_count is not None:
        result["master"] = master_spec(node_count, field="node_count")
    if workers is not None:
        workers = _mapping("workers", workers)
        # An explicit empty list or null is refused by worker_plan, never
        # replaced by the defaults: only a missing key means "the defaults".
        result["workers"] = worker_plan(
            workers.get("total_cores"),
            workers.get("failure_ratio"),
            workers.get("instance_cores", DEFAULT_INSTANCE_CORES),
            workers.get("memory_per_core_gib", 4),
            field="workers",
        )
    if network is not None:
        result["network"] = validate_plan(network, field="network")
        exports = export_plan(network, result["network"], field="network")
        result["network"]["exports"] = exports
        _count_ack_refusals(result["network"], exports)
    if proposals is not None:
        result["proposals"] = propose(network or {}, proposals, field="proposals")
    result["valid"] = result["network"] is None or result["network"]["valid"]
    return result


def _count_ack_refusals(network: dict, exports: dict) -> None:
    """What ACK would refuse is an error of the plan, like a CIDR conflict.

    A plan ACK refuses to create (a node_cidr_mask outside 24-28, ip_stack ipv6) is not a
    plan to build from: each problem of the exports becomes an error-severity conflict
    (``ack_would_refuse``), so ``valid`` is false and the gate stops, naming it.
    """
    for index, (name, export) in enumerate(exports.items()):
        for problem in export["problems"]:
            network["conflicts"].append(
                {
                    "type": "ack_would_refuse",
                    "severity": "error",
                    "first": {
                        "role": "cluster",
                        "name": f"cluster {name!r}",
                        "field": f"network.clusters[{index}]",
                        "cidr": None,
                    },
                    "second": {"role": "ack", "name": "ACK", "field": None, "cidr": None},
                    "message": f"cluster {name!r}: ACK would refuse {problem}",
                }
            )
            network["valid"] = False


def export_files(plan: dict) -> dict:
    """The ACK exports as further report files, by suffix; empty without clusters.

    ``auto.tfvars.json`` holds ``{"ack_clusters": {name: variables}}`` (a map for
    ``for_each`` over alicloud_cs_managed_kubernetes), ``createcluster.json``
    ``{name: CreateCluster body}``.
    """
    exports = (plan.get("network") or {}).get("exports") or {}
    if not exports:
        return {}

    def text(data: dict) -> str:
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    return {
        "auto.tfvars.json": text(
            {"ack_clusters": {name: e["terraform"] for name, e in exports.items()}}
        ),
        "createcluster.json": text({name: e["create_cluster"] for name, e in exports.items()}),
    }


def _table(header: tuple, rows: list) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def markdown(plan: dict, title: str = "Cluster plan") -> str:
    """The plan report people read: one section per part that was planned."""
    lines = [f"# {title}", ""]
    master = plan.get("master")
    if master:
        lines += [
            f"## Masters ({master['node_count']} nodes)",
            "",
            f"{master['cores']} cores, {master['memory_gib']} GiB each ({master['source']}).",
            "",
        ]
        lines += [f"- {note}" for note in master["notes"]] + [""]
    workers = plan.get("workers")
    if workers:
        best = workers["recommended"]
        lines += [
            f"## Workers ({workers['total_cores']} cores, "
            f"{workers['failure_ratio']:.0%} failure tolerated)",
            "",
            f"Recommended: {best['count']} x {best['instance_cores']} cores / "
            f"{best['instance_memory_gib']} GiB, load cap {best['load_cap_cores']} cores.",
            "",
        ]
        lines += _table(
            ("instance cores", "count", "total cores", "load cap", "overprovisioned", "memory GiB"),
            [
                (
                    o["instance_cores"],
                    o["count"],
                    o["total_cores"],
                    o["load_cap_cores"],
                    o["overprovisioned_cores"],
                    o["total_memory_gib"],
                )
                for o in workers["options"]
            ],
        )
        lines += [""] + [f"- {note}" for note in workers["notes"]] + [""]
    network = plan.get("network")
    if network:
        verdict = "valid" if network["valid"] else "INVALID"
        lines += [
            f"## Network: {verdict} ({len(network['conflicts'])} conflict(s), "
            f"{network['blocks']} CIDRs checked)",
            "",
        ]
        if network["conflicts"]:
            rows = [
                (
                    c["severity"],
                    c["type"],
                    c["first"]["field"] or c["first"]["name"],
                    c["second"]["field"] or c["second"]["name"],
                    c["message"],
                )
                for c in network["conflicts"]
            ]
            lines += [*_table(("severity", "type", "first", "second", "message"), rows), ""]
        lines += ["### Max nodes", ""]
        rows = [
            (
                c["cluster"],
                c["pod_cidr"],
                c["pods_per_node"],
                c["max_nodes"],
                f"/{c['node_block']['prefix']}",
                c["node_block"]["max_pods"],
                c["node_block"]["max_nodes"],
            )
            for c in network["capacity"]
        ]
        header = (
            "cluster",
            "pod CIDR",
            "pods/node",
            "max nodes (guide)",
            "node block",
            "max pods/block",
            "max nodes (blocks)",
        )
        lines += [*_table(header, rows), ""]
        lines += _zones_markdown(network.get("zones") or [])
        lines += _exports_markdown(network.get("exports") or {})
    proposals = plan.get("proposals")
    if proposals:
        lines += [
            "## Free CIDRs for a new cluster",
            "",
            f"- pod: {', '.join(proposals['pod_cidrs'])}",
            f"- service: {', '.join(proposals['service_cidrs'])}",
        ]
        for key, label in (("pod_v6_cidrs", "pod (IPv6)"), ("service_v6_cidrs", "service (IPv6)")):
            if proposals.get(key):
                lines.append(f"- {label}: {', '.join(proposals[key])}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _vswitch_cell(sizing: dict | None) -> str:
    if not sizing:
        return "-"
    proposed = " (proposed)" if sizing["proposed"] else ""
    return f"{sizing['cidr']}{proposed}: {sizing['usable']} usable, {sizing['needed']} needed"


def _zones_markdown(zones: list[dict]) -> list[str]:
    if not zones:
        return []
    rows = [
        (
            z["cluster"],
            z["zone"],
            z["nodes"],
            z["pods_per_node"] if z["pods_per_node"] is not None else "-",
            _vswitch_cell(z.get("node_vswitch")),
            _vswitch_cell(z.get("pod_vswitch")),
        )
        for z in zones
    ]
    header = ("cluster", "zone", "nodes", "pods/node", "node vSwitch", "pod vSwitch")
    return ["### vSwitches per zone", "", *_table(header, rows), ""]


def _exports_markdown(exports: dict) -> list[str]:
    lines = []
    for name, export in exports.items():
        lines += [f"### Export for ACK: cluster '{name}'", ""]
        lines += [
            f"- Terraform (alicloud_cs_managed_kubernetes): "
            f"`{json.dumps(export['terraform'], sort_keys=True)}`",
            f"- CreateCluster body: `{json.dumps(export['create_cluster'], sort_keys=True)}`",
        ]
        lines += [f"- ACK would refuse: {p}" for p in export["problems"]]
        lines += [f"- to fill in: {m}" for m in export["missing"]]
        lines += [f"- note: {n}" for n in export["notes"]]
        lines.append("")
    return lines
