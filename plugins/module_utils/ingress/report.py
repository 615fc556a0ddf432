# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated, highly available ingress nodes: the module result and the Markdown report."""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import zone_of


def result(
    *,
    params: dict,
    controller: dict,
    gate: dict,
    expected: int,
    nodes: list[dict],
    wanted: set[str],
    labelled: set[str],
    rows: list[dict],
    problems: list[str],
    service: dict,
    changes: list[str],
    diffs: list[dict],
    check_mode: bool,
) -> dict:
    """The module's result (RETURN of ingress_ha) for one run."""
    return {
        "changed": bool(changes),
        "changes": changes,
        "diff": diffs,
        "controller": {
            "kind": controller["kind"],
            "namespace": controller["metadata"]["namespace"],
            "name": controller["metadata"]["name"],
            "image": gate["image"],
            "replicas": expected,
        },
        "version": {
            "tag": gate["tag"],
            "ack_version": gate["version"],
            "gray_release_minimum": gate["minimum"],
            "gray_release_supported": gate["supported"],
            "reason": gate["reason"],
        },
        "nodes": {
            "selection": "inventory" if params["nodes"] else "automatic",
            "wanted": sorted(wanted),
            "labelled": sorted(labelled),
            "kept_without_prune": sorted(labelled - wanted),
            "zones": {
                n["metadata"]["name"]: zone_of(n)
                for n in nodes
                if n["metadata"]["name"] in labelled
            },
            "dedicated": params["dedicate"],
        },
        "pods": rows,
        "placement_problems": problems,
        "service": service,
        "check_mode": check_mode,
    }


def markdown(report: dict) -> str:
    """The report for people."""
    ctl, ver, nodes, svc = (
        report["controller"],
        report["version"],
        report["nodes"],
        report["service"],
    )
    gray = {True: "yes", False: "no", None: "unknown"}[ver["gray_release_supported"]]
    lines = [
        "# Ingress high availability"
        + (" (check mode: nothing changed)" if report["check_mode"] else ""),
        "",
        f"- Controller: {ctl['kind']} {ctl['namespace']}/{ctl['name']}, {ctl['replicas']} replica(s)",
        f"- Image: `{ctl['image']}` (ACK version {ver['ack_version'] or 'unknown'})",
        f"- Gray-release annotations (need {ver['gray_release_minimum']}): {gray}: {ver['reason']}",
        f"- Ingress nodes ({nodes['selection']}): {', '.join(nodes['labelled']) or 'none'}"
        + (", dedicated (tainted)" if nodes["dedicated"] else ""),
    ]
    if nodes["kept_without_prune"]:
        lines.append(
            f"- Labelled but no longer wanted (prune is off): {', '.join(nodes['kept_without_prune'])}"
        )
    address = ", ".join(svc.get("addresses") or []) or (
        "not assigned" if svc["found"] else "no such Service"
    )
    lines += [
        f"- LB Service {svc['namespace']}/{svc['name']}: {address}",
        "",
        "| pod | node | zone | ready |",
        "|---|---|---|---|",
    ]
    for row in report["pods"]:
        zone = nodes["zones"].get(row["node"], "")
        lines.append(
            f"| {row['pod']} | {row['node'] or '-'} | {zone} | {'yes' if row['ready'] else 'no'} |"
        )
    lines += ["", "Changes:" if report["changes"] else "Changes: none"]
    lines += [f"- {c}" for c in report["changes"]]
    for problem in report["placement_problems"]:
        lines.append(f"- problem: {problem}")
    extra = [
        ("Plan for the pods off the ingress nodes", report.get("plan")),
        ("Warnings", report.get("warnings")),
        ("Dedication", report.get("dedication")),
        ("Pods to delete (OnDelete)", report.get("pods_to_delete")),
    ]
    pdb = report.get("pdb") or {}
    if pdb and not pdb.get("managed"):
        extra.append(("PodDisruptionBudget", [pdb.get("reason", "")]))
    hpa = report.get("hpa")
    if hpa:
        extra.append(
            (
                "HorizontalPodAutoscaler",
                [
                    f"{hpa['name']}: minReplicas {hpa['min_replicas']}, maxReplicas "
                    f"{hpa['max_replicas']}, {hpa['labelled_nodes']} labelled node(s); "
                    "replicas left to it"
                ],
            )
        )
    for title, items in extra:
        if items:
            lines += ["", f"{title}:"] + [f"- {item}" for item in items]
    return "\n".join(lines) + "\n"
