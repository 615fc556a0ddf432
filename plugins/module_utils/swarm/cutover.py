# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The traffic side of a Swarm migration: canary Services, the weight checklist, the decommission guard.

- ``canary_services``: a NodePort Service per converted service that publishes
  ports, selecting the same pods, that the SLB in front of Swarm can send a
  share of the traffic to (ACK guide, section 6, step 5).
- ``canary_checklist``: the weight steps and the rollback, as a checklist.
- ``decommission_decision``: whether the Swarm stack may be removed - never
  while its tasks run and the inventory's traffic check does not pass.
"""

from __future__ import annotations

import copy

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

SOURCE_ANNOTATION = "ackops.io/compose-service"
CANARY_LABEL = "ackops.io/migrate-swarm-canary"
WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet")


class CutoverError(RunbookError):
    error_type = "input"


def _published(objects: list[dict]) -> dict[str, dict]:
    """Compose service -> {selector, ports: [(port, targetPort, protocol)]} of what it publishes."""
    found: dict[str, dict] = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        service = (meta.get("annotations") or {}).get(SOURCE_ANNOTATION)
        if not service:
            continue
        if obj["kind"] == "Service" and obj["spec"].get("type") in ("NodePort", "LoadBalancer"):
            entry = found.setdefault(service, {"selector": obj["spec"]["selector"], "ports": []})
            for port in obj["spec"].get("ports") or []:
                entry["ports"].append(
                    (
                        port["port"],
                        port.get("targetPort", port["port"]),
                        port.get("protocol", "TCP"),
                    )
                )
        elif obj["kind"] in WORKLOADS:
            template = obj["spec"]["template"]
            for container in template["spec"].get("containers") or []:
                for port in container.get("ports") or []:
                    if "hostPort" in port:
                        entry = found.setdefault(
                            service,
                            {"selector": obj["spec"]["selector"]["matchLabels"], "ports": []},
                        )
                        entry["ports"].append(
                            (port["hostPort"], port["containerPort"], port.get("protocol", "TCP"))
                        )
    return found


def canary_services(
    objects: list[dict],
    services: list[str] | None = None,
    node_ports: dict[str, int] | None = None,
    namespace: str | None = None,
) -> list[dict]:
    """NodePort Services ``<service>-canary`` for the services (all publishing ones when empty).

    ``node_ports`` fixes a nodePort per ``SERVICE:PORT`` (the published port);
    otherwise Kubernetes assigns one (kept on later applies: server-side apply
    does not own an unset field).
    """
    node_ports = node_ports or {}
    published = _published(objects)
    wanted = list(services or sorted(published))
    missing = [s for s in wanted if s not in published]
    if missing:
        raise CutoverError(
            f"publish no port, so they get no canary Service: {missing} "
            f"(services that publish ports: {sorted(published)})",
            obj="migrate_swarm_canary_services",
        )
    result = []
    for service in wanted:
        entry = published[service]
        ports, seen = [], set()
        for port, target, protocol in entry["ports"]:
            if (port, protocol) in seen:
                continue
            seen.add((port, protocol))
            spec = {
                "name": f"{protocol.lower()}-{port}",
                "port": int(port),
                "targetPort": target,
                "protocol": protocol,
            }
            fixed = node_ports.get(f"{service}:{port}")
            if fixed is not None:
                spec["nodePort"] = int(fixed)
            ports.append(spec)
        for key in node_ports:
            name, _colon, port = key.partition(":")
            if name == service and not any(str(p["port"]) == port for p in ports):
                raise CutoverError(
                    f"names port {port} that service {service} does not publish",
                    obj="migrate_swarm_canary_node_ports",
                    field=key,
                )
        meta = {
            "name": f"{_dns(service)}-canary",
            "labels": {CANARY_LABEL: service, "app.kubernetes.io/managed-by": "ackops-runbooks"},
            "annotations": {SOURCE_ANNOTATION: service},
        }
        if namespace:
            meta["namespace"] = namespace
        result.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": meta,
                "spec": {
                    "type": "NodePort",
                    "selector": copy.deepcopy(entry["selector"]),
                    "ports": ports,
                },
            }
        )
    return result


def _dns(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:50]


def canary_checklist(services: list[dict], weights: list[int], nodes: list[str]) -> list[dict]:
    """One item per weight step, then the rollback: what to set on the SLB and what to check."""
    bad = [w for w in weights if not isinstance(w, int) or isinstance(w, bool) or not 0 < w <= 100]
    if bad or list(weights) != sorted(set(weights)):
        raise CutoverError(
            f"must be increasing whole percentages in 1..100, got {weights}",
            obj="migrate_swarm_canary_weights",
        )
    backends = []
    for svc in services:
        for port in svc["spec"]["ports"]:
            node_port = port.get("nodePort", "<assigned nodePort>")
            backends.append(
                f"{svc['metadata']['name']} port {port['port']}: nodes {', '.join(nodes) or '<k8s nodes>'} "
                f"port {node_port}"
            )
    items = [
        {
            "step": 0,
            "action": "add the Kubernetes nodes to the SLB's backend group at weight 0",
            "backends": backends,
            "weight": 0,
        }
    ]
    for index, weight in enumerate(weights, start=1):
        items.append(
            {
                "step": index,
                "weight": weight,
                "swarm_weight": 100 - weight,
                "action": f"send {weight}% to Kubernetes, {100 - weight}% to Swarm",
                "check": "error rate and latency of the Kubernetes backends no worse than Swarm's; "
                "pods Ready; no restarts",
            }
        )
    items.append(
        {
            "step": "rollback",
            "weight": 0,
            "swarm_weight": 100,
            "action": "set the Kubernetes backends to weight 0 (all traffic back to Swarm)",
            "check": "Swarm tasks serve all requests again",
        }
    )
    return items


def decommission_decision(
    exists: bool,
    running: dict[str, int],
    check: dict | None,
    remove: bool,
) -> dict:
    """May the stack be removed?  ``check`` is the traffic check's ``{rc, ...}`` (None: none given).

    A traffic check that ran and failed always refuses, whatever the task counts say (they may be
    stale or miss tasks that are starting).  Without a check, refused while tasks run.
    Removal needs ``remove`` too; without it the decision is a report.  The check's output never
    goes into the reasons: a check command may print credentials.
    """
    running_total = sum(running.values())
    if not exists:
        return {"allowed": True, "action": "none", "reasons": ["the stack is not deployed"]}
    reasons = []
    busy = ", ".join(f"{s} ({n})" for s, n in sorted(running.items()) if n)
    if check is not None and _rc(check) != 0:
        reasons.append(
            f"the traffic check failed (rc {check.get('rc')}): the Swarm side may still receive traffic"
        )
        if busy:
            reasons.append(f"running tasks: {busy}")
        return {"allowed": False, "action": "refuse", "reasons": reasons}
    if check is None and running_total:
        reasons.append(
            "no traffic check is configured (migrate_swarm_traffic_check): "
            "nothing proves the Swarm side receives no traffic"
        )
        reasons.append(f"running tasks: {busy}")
        return {"allowed": False, "action": "refuse", "reasons": reasons}
    if not remove:
        return {
            "allowed": True,
            "action": "report",
            "reasons": ["the checks pass; set migrate_swarm_remove_stack=true to remove the stack"],
        }
    return {
        "allowed": True,
        "action": "remove",
        "reasons": ["the checks pass and removal was asked for"],
    }


def _rc(check: dict) -> int:
    try:
        return int(check.get("rc", 1))
    except (TypeError, ValueError):
        return 1


def check_result(result: dict) -> dict:
    """A registered loop item of a cut-over check (command or URL) as ``{name, passed, detail}``."""
    check = result.get("migrate_swarm_check") or {}
    if check.get("url"):
        name = check.get("name") or _safe_url(check["url"])
        wanted = int(check.get("status") or 200)
        status = result.get("status")
        passed = status == wanted
        detail = f"status {status}" + (
            "" if passed else f", wanted {wanted}: {result.get('msg', '')}"
        )
        return {"name": name, "passed": passed, "detail": detail.strip()}
    # A command line or its output may carry a credential (curl -u, an SLB CLI's
    # secret key): the report names the check and its exit code only.
    command = str(check.get("command") or "").split()
    name = check.get("name") or (f"{command[0]} check" if command else "?")
    rc = result.get("rc")
    return {"name": name, "passed": rc == 0, "detail": f"exit {rc}"}


def _safe_url(url: str) -> str:
    """A URL without its user info, query and fragment (they may carry credentials)."""
    scheme, separator, rest = str(url).partition("://")
    if not separator:
        return scheme.split("?", 1)[0].split("#", 1)[0]
    host_path = rest.split("@", 1)[-1] if "@" in rest.split("/", 1)[0] else rest
    host_path = host_path.split("?", 1)[0].split("#", 1)[0]
    return f"{scheme}://{host_path}"
