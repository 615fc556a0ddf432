"""A whole cluster plan in one call: sizes, CIDR verdicts, capacity, proposals, report."""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
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
        result["workers"] = worker_plan(
            workers.get("total_cores"),
            workers.get("failure_ratio"),
            workers.get("instance_cores") or DEFAULT_INSTANCE_CORES,
            workers.get("memory_per_core_gib", 4),
            field="workers",
        )
    if network is not None:
        result["network"] = validate_plan(network, field="network")
    if proposals is not None:
        result["proposals"] = propose(network or {}, proposals, field="proposals")
    result["valid"] = result["network"] is None or result["network"]["valid"]
    return result


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
    proposals = plan.get("proposals")
    if proposals:
        lines += [
            "## Free CIDRs for a new cluster",
            "",
            f"- pod: {', '.join(proposals['pod_cidrs'])}",
            f"- service: {', '.join(proposals['service_cidrs'])}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
