#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.swarm_migrate_apply: converted Swarm stack (or its canary Services) applied."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_migrate_apply
author: ack-runbooks contributors (@ackops)
version_added: "1.3.0"
short_description: Apply a converted Swarm stack, or its canary NodePort Services, to Kubernetes
description:
  - The deploy and canary steps of the migrate-swarm runbook. Converts the
    stack exactly as M(ackops.runbooks.swarm_compose_convert) does (same
    options - O(files) and/or O(documents), the placement mapping, claims, secret
    values) and server-side applies the result through the collection's
    Kubernetes access layer (field manager C(ackops-migrate-swarm)), in
    dependency order, with a dry run in check mode.
  - Refuses, before anything is applied, while the migration report flags a
    behaviour change that O(accepted_changes) does not accept; the error lists
    each one (service, key, why).
  - With O(what=canary), applies only a NodePort Service C(<service>-canary)
    per service that publishes ports (O(canary_services), all when empty),
    selecting the same pods, for the SLB in front of Swarm to send a share of
    the traffic to, and returns the weight checklist.
  - With O(wait), waits until every Deployment, StatefulSet and DaemonSet is
    rolled out and its pods are Ready, and returns where the pods run.
  - Secret values are never returned, diffed or reported.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: A server-side dry run; reports what would be created or changed.
  diff_mode:
    support: full
    details: Per object changed, before and after without server noise; Secret values redacted.
  idempotent:
    support: full
options:
  what:
    description: V(stack) applies the converted stack, V(canary) only the canary NodePort Services.
    type: str
    choices: [stack, canary]
    default: stack
  accepted_changes:
    description:
      - Behaviour changes of the report accepted for this deploy, as C(SERVICE:KEY)
        (C(KEY) may end in C(*)), C(stack:KEY) for stack-level entries, or V(*) for all.
    type: list
    elements: str
    default: []
  canary_services:
    description: With O(what=canary), the compose services to make canary Services for; empty is all that publish ports.
    type: list
    elements: str
    default: []
  canary_node_ports:
    description: With O(what=canary), a fixed nodePort per C(SERVICE:PUBLISHED_PORT); others are assigned.
    type: dict
    default: {}
  canary_weights:
    description: The weight steps of the checklist, increasing percentages.
    type: list
    elements: int
    default: [5, 25, 50, 100]
  canary_nodes:
    description: Node addresses the SLB sends to, for the checklist.
    type: list
    elements: str
    default: []
  wait:
    description: Wait for the workloads to roll out (not in check mode).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for them.
    type: int
    default: 300
  files:
    description: Compose files in C(-f) order (see M(ackops.runbooks.swarm_compose_convert)).
    type: list
    elements: path
    default: []
  documents:
    description: Compose documents merged after O(files) (the live stack from M(ackops.runbooks.swarm_stack_info), overrides).
    type: list
    elements: dict
    default: []
  project_name: {description: As for swarm_compose_convert., type: str}
  project_directory: {description: As for swarm_compose_convert., type: path}
  variables: {description: As for swarm_compose_convert., type: dict, default: {}}
  dotenv: {description: As for swarm_compose_convert., type: path}
  use_dotenv: {description: As for swarm_compose_convert., type: bool, default: true}
  profiles: {description: As for swarm_compose_convert., type: list, elements: str, default: []}
  namespace: {description: Namespace of the objects., type: str}
  create_namespace: {description: Create the namespace too., type: bool, default: false}
  statefulsets: {description: As for swarm_compose_convert., type: list, elements: str, default: []}
  statefulset_for_named_volumes: {description: As for swarm_compose_convert., type: bool, default: false}
  storage_class: {description: As for swarm_compose_convert., type: str}
  volume_size: {description: As for swarm_compose_convert., type: str, default: 10Gi}
  volume_claims: {description: As for swarm_compose_convert., type: dict, default: {}}
  load_balancer:
    description: As for swarm_compose_convert.
    type: dict
    default: {}
    suboptions:
      services: {description: Service names or V(all)., type: raw, default: []}
      options: {description: ACK SLB settings., type: dict, default: {}}
      annotations: {description: Further annotations., type: dict, default: {}}
      keep_client_ip: {description: externalTrafficPolicy Local., type: bool, default: false}
  node_port_range: {description: As for swarm_compose_convert., type: str, default: 30000-32767}
  label_map: {description: As for swarm_compose_convert., type: dict, default: {}}
  node_names: {description: As for swarm_compose_convert., type: dict, default: {}}
  node_labels: {description: As for swarm_compose_convert., type: dict}
  bind_mounts: {description: As for swarm_compose_convert., type: dict, default: {}}
  network_policies: {description: As for swarm_compose_convert., type: bool, default: false}
  wait_image: {description: As for swarm_compose_convert., type: str, default: "busybox:1.36"}
  secret_values: {description: Secret name to value (from a vault; the task needs no_log)., type: dict, default: {}}
  config_values: {description: As for swarm_compose_convert., type: dict, default: {}}
  dest: {description: Not used here (the convert step writes manifests)., type: path}
  write_secrets: {description: Not used here., type: bool, default: false}
seealso:
  - module: ackops.runbooks.swarm_compose_convert
  - module: ackops.runbooks.swarm_stack_info
"""

EXAMPLES = r"""
- name: Deploy the converted stack
  ackops.runbooks.swarm_migrate_apply:
    documents: ["{{ shop_live.compose }}"]
    namespace: shop
    create_namespace: true
    accepted_changes: ["db:deploy.placement.constraints*"]
    secret_values: "{{ vault_shop_secrets }}"
  no_log: true

- name: Canary Services for the SLB
  ackops.runbooks.swarm_migrate_apply:
    what: canary
    documents: ["{{ shop_live.compose }}"]
    namespace: shop
    canary_node_ports: {"edge:8080": 30080}
"""

RETURN = r"""
objects:
  description: Per object applied, C(object), C(changed), C(validated).
  returned: success
  type: list
  elements: dict
changes:
  description: C(create ...) / C(update ...) per object changed (or that would be, in check mode).
  returned: success
  type: list
  elements: str
report:
  description: The migration report (as M(ackops.runbooks.swarm_compose_convert) returns it).
  returned: success
  type: dict
accepted:
  description: The behaviour changes accepted by O(accepted_changes).
  returned: success
  type: list
  elements: dict
placements:
  description: Per workload, C(workload), C(ready) and C(pods) (C(name), C(node), C(phase), C(ready)).
  returned: success
  type: list
  elements: dict
canary:
  description: With O(what=canary), C(services) (name, ports with nodePorts) and C(checklist).
  returned: when O(what=canary)
  type: dict
error:
  description: On failure, C(type), C(object), C(field), C(cause), C(details) (C(behaviour_changes) when refused).
  returned: failure
  type: dict
partial_changes:
  description: On failure, the objects changed before it.
  returned: failure
  type: list
  elements: dict
"""

import fnmatch

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.waits import poll_until
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    SOURCE_ANNOTATION,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.cutover import (
    canary_checklist,
    canary_services,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.options import (
    ARGSPEC,
    convert_params,
    hide_secret_variables,
)

FIELD_MANAGER = "ackops-migrate-swarm"
OPTIONS = {
    **ARGSPEC,
    "what": {"type": "str", "choices": ["stack", "canary"], "default": "stack"},
    "accepted_changes": {"type": "list", "elements": "str", "default": []},
    "canary_services": {"type": "list", "elements": "str", "default": []},
    "canary_node_ports": {"type": "dict", "default": {}},
    "canary_weights": {"type": "list", "elements": "int", "default": [5, 25, 50, 100]},
    "canary_nodes": {"type": "list", "elements": "str", "default": []},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 300},
}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}


def accepted(flag: dict, patterns: list[str]) -> bool:
    name = f"{flag.get('service') or 'stack'}:{flag['key']}"
    return any(p == "*" or fnmatch.fnmatchcase(name, p) for p in patterns)


def refuse_unaccepted(report: dict, patterns: list[str]) -> list[dict]:
    """The accepted flags; raises listing the others (nothing is applied then)."""
    flags = report.get("behaviour_changes") or []
    open_flags = [f for f in flags if not accepted(f, patterns)]
    if open_flags:
        listed = "; ".join(
            f"{f.get('service') or 'stack'}:{f['key']} ({f['message']})" for f in open_flags
        )
        raise RunbookError(
            f"{len(open_flags)} behaviour change(s) not accepted, nothing applied: {listed}. "
            "Read the analyze report; accept each with migrate_swarm_accepted_changes "
            "(SERVICE:KEY) or change the stack/inventory",
            obj=f"stack {report.get('project')}",
            field="accepted_changes",
            details={
                "behaviour_changes": [
                    {"service": f.get("service"), "key": f["key"], "message": f["message"]}
                    for f in open_flags
                ]
            },
        )
    return [f for f in flags if accepted(f, patterns)]


def rolled_out(obj: dict | None) -> bool:
    if not obj:
        return False
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if (status.get("observedGeneration") or 0) < (obj["metadata"].get("generation") or 0):
        return False
    if obj["kind"] == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        return (
            desired > 0  # 0 pods of a global service: no node matched, nothing rolled out
            and status.get("numberReady", 0) == desired
            and status.get("updatedNumberScheduled", 0) == desired
        )
    replicas = spec.get("replicas", 1)
    return (
        status.get("readyReplicas", 0) == replicas and status.get("updatedReplicas", 0) == replicas
    )


def _affinity_text(obj: dict) -> str:
    pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    required = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = [
        " and ".join(
            f"{e.get('key')} {e.get('operator')}"
            + (f" {list(e['values'])}" if e.get("values") else "")
            for e in term.get("matchExpressions") or []
        )
        for term in required.get("nodeSelectorTerms") or []
    ]
    selector = pod.get("nodeSelector") or {}
    parts = [f"({t})" for t in terms if t] + [f"{k}={v}" for k, v in sorted(selector.items())]
    return " or ".join(parts) if parts else "none (every schedulable node)"


def empty_daemonset(obj: dict, live: dict | None) -> str | None:
    """Why a converted global service's DaemonSet is a failure: it schedules no pod at all."""
    if obj["kind"] != "DaemonSet" or not live:
        return None
    status = live.get("status") or {}
    generation = (live.get("metadata") or {}).get("generation") or 0
    if "observedGeneration" not in status or status["observedGeneration"] < generation:
        return None  # the controller has not counted the nodes yet
    if status.get("desiredNumberScheduled", 0) != 0:
        return None
    meta = obj["metadata"]
    service = (meta.get("annotations") or {}).get(SOURCE_ANNOTATION) or meta["name"]
    return (
        f"service {service} (mode global) -> DaemonSet {meta.get('namespace')}/{meta['name']} "
        f"schedules 0 pods: no Kubernetes node matches its node affinity {_affinity_text(obj)} "
        "(run the labels step, fix migrate_swarm_node_map/label_map, or check node taints)"
    )


def placements(client, workloads: list[dict]) -> list[dict]:
    rows = []
    for obj in workloads:
        meta = obj["metadata"]
        live = client.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        selector = obj["spec"]["selector"]["matchLabels"]
        pods = client.list("v1", "Pod", meta.get("namespace"), label_selector=selector)
        rows.append(
            {
                "workload": f"{obj['kind']} {meta.get('namespace')}/{meta['name']}",
                "ready": rolled_out(live),
                "pods": [
                    {
                        "name": p["metadata"]["name"],
                        "node": (p.get("spec") or {}).get("nodeName"),
                        "phase": (p.get("status") or {}).get("phase"),
                        "ready": any(
                            c.get("type") == "Ready" and c.get("status") == "True"
                            for c in (p.get("status") or {}).get("conditions") or []
                        ),
                    }
                    for p in sorted(pods, key=lambda p: p["metadata"]["name"])
                    if not (p["metadata"].get("deletionTimestamp"))
                ],
            }
        )
    return rows


def wait_workloads(client, workloads: list[dict], timeout: float) -> None:
    def probe():
        pending = []
        for obj in workloads:
            meta = obj["metadata"]
            live = client.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            empty = empty_daemonset(obj, live)
            if empty:
                raise RunbookError(empty, obj=f"DaemonSet {meta.get('namespace')}/{meta['name']}")
            if not rolled_out(live):
                pending.append(f"{obj['kind']} {meta.get('namespace')}/{meta['name']}")
        return not pending, pending

    done, pending = poll_until(probe, timeout, client.clock, client.sleep)
    if not done:
        raise RunbookError(
            f"not rolled out after {timeout}s: {', '.join(pending)} "
            "(pods Pending: a node label or a claim missing? see kubectl describe)",
            obj=pending[0],
        )


def apply_step(module, connect, changes) -> dict:
    params = module.params
    for value in (params.get("secret_values") or {}).values():
        if value not in (None, ""):
            module.no_log_values.add(str(value))
    hide_secret_variables(module)
    conversion = convert_params(params)
    report = conversion.report
    result: dict = {"changed": False, "report": report}
    if params["what"] == "canary":
        objects = canary_services(
            conversion.objects,
            params["canary_services"],
            {str(k): v for k, v in params["canary_node_ports"].items()},
            params["namespace"],
        )
        # bad weights are refused before anything is applied
        canary_checklist(objects, params["canary_weights"], [])
        result["accepted"] = []
    else:
        result["accepted"] = refuse_unaccepted(report, params["accepted_changes"])
        objects = conversion.objects
    client = connect()
    results = client.apply_all(objects, dry_run=module.check_mode, changes=changes)
    result["changed"] = any(r["changed"] for r in results)
    result["changes"] = [
        f"{'create' if r['before'] is None else 'update'} {r['object']}"
        for r in results
        if r["changed"]
    ]
    result["objects"] = [
        {"object": r["object"], "changed": r["changed"], "validated": r["validated"]}
        for r in results
    ]
    if module._diff:
        result["diff"] = [r["diff"] for r in results if r["changed"]]
    workloads = [o for o in objects if o["kind"] in WORKLOADS]
    if params["what"] == "stack" and params["wait"] and not module.check_mode:
        wait_workloads(client, workloads, params["wait_timeout"])
    result["placements"] = [] if module.check_mode else placements(client, workloads)
    if params["what"] == "canary":
        live_services = []
        for svc in objects:
            meta = svc["metadata"]
            live = client.get("v1", "Service", meta["name"], meta.get("namespace")) or svc
            live_services.append(
                {"metadata": {"name": meta["name"]}, "spec": {"ports": live["spec"]["ports"]}}
            )
        result["canary"] = {
            "services": [
                {
                    "name": s["metadata"]["name"],
                    "ports": [
                        {k: p.get(k) for k in ("port", "targetPort", "protocol", "nodePort")}
                        for p in s["spec"]["ports"]
                    ],
                }
                for s in live_services
            ],
            "checklist": canary_checklist(
                live_services, params["canary_weights"], params["canary_nodes"]
            ),
        }
    return result


def main():
    run_k8s_module(OPTIONS, apply_step, FIELD_MANAGER)


if __name__ == "__main__":
    main()
