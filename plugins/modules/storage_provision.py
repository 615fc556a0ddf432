#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.storage_provision: ACK volumes, classes and StatefulSets, declared."""

from __future__ import annotations

DOCUMENTATION = r"""
module: storage_provision
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Provision ACK cloud disk, NAS and OSS volumes, StorageClasses and StatefulSets
description:
  - Implements section 4 of the ACK best-practice guide declaratively, through the Kubernetes API.
  - "Turns volume descriptions into objects with the collection's storage plan
    (C(module_utils/storage/plan.py)): StorageClasses of the CSI drivers
    C(diskplugin.csi.alibabacloud.com), C(nasplugin.csi.alibabacloud.com),
    C(ossplugin.csi.alibabacloud.com) (or the legacy flexVolume ones with O(driver=flexvolume)),
    static PersistentVolumes with their PersistentVolumeClaims, Secrets for OSS credentials and
    StatefulSets with their headless Services. Every item is validated before anything is applied;
    a refusal names the item, the key and what is allowed, and changes nothing."
  - "Before the first write, reads the objects that exist and refuses a change the API server
    would reject half-way (a StorageClass's parameters, a PersistentVolume's source, a bound
    claim's class or a smaller size, a StatefulSet's C(volumeClaimTemplates), C(serviceName)
    or C(selector)), naming the object and the field."
  - Applies everything with server-side apply (field manager C(ackops-storage-provision)) in
    batches of O(batch_size) objects in dependency order, in this one module call; hundreds of
    PV/PVC pairs are one task.
  - "Scales StatefulSets safely: PersistentVolumeClaims are never deleted (the StatefulSets'
    C(persistentVolumeClaimRetentionPolicy) keeps them on scale-down), so a pod recreated by a
    scale-up gets the claim of its ordinal back; the claims kept above the replicas are reported."
  - With O(wait), waits for the StatefulSets to be ready and for every claim that can bind
    (static, Immediate class, or WaitForFirstConsumer with a consumer scheduled) to be Bound; a
    claim the provisioner refuses fails the task with the provisioner's Event.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: Every write is a server-side dry run (C(dryRun=All)); nothing is waited for.
  diff_mode:
    support: full
    details: Before/after of each object that changes, without server-maintained fields; Secret values redacted.
options:
  region:
    description: Region of the cluster (C(cn-hangzhou)); zones must be in it.
    type: str
  zones:
    description: The cluster's zones; static disks and StorageClasses may only use these.
    type: list
    elements: str
    default: []
  driver:
    description: C(csi) (ACK today) or C(flexvolume) for a cluster that still runs the legacy drivers.
    type: str
    choices: [csi, flexvolume]
    default: csi
  storage_classes:
    description: Dynamic StorageClasses (disk, NAS, OSS); keys as docs/provision-storage.md lists them.
    type: list
    elements: dict
    default: []
  volumes:
    description: Static volumes (disk, NAS, OSS), each a PersistentVolume and its claim.
    type: list
    elements: dict
    default: []
  claims:
    description: Claims of dynamic StorageClasses.
    type: list
    elements: dict
    default: []
  statefulsets:
    description: StatefulSets with a headless Service and volumeClaimTemplates.
    type: list
    elements: dict
    default: []
  secrets:
    description:
      - Credentials (OSS AccessKeys) made into Secrets the volumes reference.
      - The values of C(access_key_id) and C(access_key_secret) are masked in every output; they
        never appear in a PV, a diff or the report.
    type: list
    elements: dict
    default: []
  create_namespaces:
    description: Create the namespaces the claims, Secrets and StatefulSets go to when they do not exist.
    type: bool
    default: true
  batch_size:
    description: Objects per server-side apply batch.
    type: int
    default: 200
  wait:
    description: Wait for StatefulSets to be ready and for claims that can bind to be Bound (never in check mode).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the StatefulSets and for the claims.
    type: int
    default: 180
notes:
  - Nothing is ever deleted; a StorageClass whose parameters must change has to be deleted by hand
    (its volumes keep working) before it is declared again.
seealso:
  - name: ACK storage (CSI)
    description: Disk, NAS and OSS volumes in ACK.
    link: https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/storage-csi/
"""

EXAMPLES = r"""
- name: An ESSD class over two zones and a static NAS volume
  ackops.runbooks.storage_provision:
    kubeconfig: "{{ k8s_kubeconfig }}"
    region: cn-hangzhou
    zones: [cn-hangzhou-h, cn-hangzhou-i]
    storage_classes:
      - {name: essd-pl1, type: disk, category: cloud_essd, performance_level: PL1}
    volumes:
      - {name: shared, namespace: web, type: nas, server: 0cd8b4a576-grs79.cn-hangzhou.nas.aliyuncs.com,
         path: /shared, size: 100Gi}
  register: storage

- name: Preview
  ackops.runbooks.storage_provision:
    volumes: "{{ provision_storage_volumes }}"
  check_mode: true
  diff: true
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode), one line per object.
  returned: success
  type: list
  elements: str
  sample: ["create PersistentVolume d-bp1abc", "create PersistentVolumeClaim web/d-bp1abc"]
objects:
  description: Every object of the plan, whether it changed and whether the server validated it.
  returned: success
  type: list
  elements: dict
  sample: [{object: StorageClass essd-pl1, changed: false, validated: true}]
claims:
  description: Every claim of the plan (StatefulSet ordinals included) and what it is bound to.
  returned: success
  type: list
  elements: dict
  sample: [{claim: web/data-db-0, phase: Bound, volume: d-bp1abc, storage_class: essd-pl1,
            zone: cn-hangzhou-h, handle: d-bp1abc, waiting_for_consumer: false}]
statefulsets:
  description: StatefulSets, their replicas and the claims kept above the replicas after a scale-down.
  returned: success
  type: list
  elements: dict
  sample: [{statefulset: web/db, replicas: 2, ready: 2, kept_claims: [web/data-db-2]}]
volumes:
  description: The plan's summary of each volume and class.
  returned: success
  type: list
  elements: dict
warnings:
  description: Warnings of the plan (for example NAS C(mode) on a large volume) and of the run.
  returned: success
  type: list
  elements: str
markdown:
  description: The report as Markdown.
  returned: success
  type: str
check_mode:
  description: Whether this was a check-mode run.
  returned: success
  type: bool
error:
  description:
    - What failed and where, the same keys in every module of the collection; C(error.object) names the
      volume description or the Kubernetes object, C(error.field) the key.
  returned: failure
  type: dict
  sample: {type: input, host: null, object: volume data-0, field: "volumes[0].zone",
           cause: "zone cn-beijing-a is not in region cn-hangzhou", details: {}}
partial_changes:
  description: What was changed before the failure, in order.
  returned: failure
  type: list
  elements: dict
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.diff import describe
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import apply_rank

FIELD_MANAGER = "ackops-storage-provision"
PLAN_KEYS = (
    "region",
    "zones",
    "driver",
    "storage_classes",
    "volumes",
    "claims",
    "statefulsets",
    "secrets",
)
SELECTED_NODE = "volume.kubernetes.io/selected-node"
ZONE_KEYS = ("topology.kubernetes.io/zone", "topology.diskplugin.csi.alibabacloud.com/zone")
PV_SOURCES = ("csi", "flexVolume", "nfs", "hostPath", "local")

OPTIONS = {
    "region": {"type": "str"},
    "zones": {"type": "list", "elements": "str", "default": []},
    "driver": {"type": "str", "choices": ["csi", "flexvolume"], "default": "csi"},
    "storage_classes": {"type": "list", "elements": "dict", "default": []},
    "volumes": {"type": "list", "elements": "dict", "default": []},
    "claims": {"type": "list", "elements": "dict", "default": []},
    "statefulsets": {"type": "list", "elements": "dict", "default": []},
    # Not no_log as a whole: that would mask every name and namespace the Secrets share with
    # the volumes. Only the values of the secret keys are masked (hide_secret_values).
    "secrets": {"type": "list", "elements": "dict", "default": [], "no_log": False},
    "create_namespaces": {"type": "bool", "default": True},
    "batch_size": {"type": "int", "default": 200},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 180},
}


class StorageConflict(RunbookError):
    """An object exists in a shape the API server would not let this run change."""

    error_type = "conflict"


class ClaimNotBound(RunbookError):
    """A claim that should bind did not, within the wait."""

    error_type = "kubernetes"


# ---- reading what exists


def _key(obj: dict) -> tuple:
    meta = obj.get("metadata") or {}
    return (obj.get("kind"), meta.get("namespace"), meta.get("name"))


def existing_objects(client, objects: list[dict]) -> dict[tuple, dict]:
    """The live objects of the plan, one list request per kind and namespace."""
    scopes = {
        (o["apiVersion"], o["kind"], (o.get("metadata") or {}).get("namespace")) for o in objects
    }
    found: dict[tuple, dict] = {}
    wanted = {_key(o) for o in objects}
    for api_version, kind, namespace in sorted(scopes, key=lambda s: tuple(x or "" for x in s)):
        if kind == "Namespace":
            items = [client.get(api_version, kind, k[2]) for k in wanted if k[0] == kind]
        else:
            items = client.list(api_version, kind, namespace)
        for item in items:
            if item is None:
                continue
            item.setdefault("kind", kind)
            if _key(item) in wanted:
                found[_key(item)] = item
    return found


def missing_namespaces(client, objects: list[dict]) -> list[dict]:
    """Namespace objects for the namespaces the plan uses that do not exist yet."""
    names = sorted({(o.get("metadata") or {}).get("namespace") for o in objects} - {None, ""})
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        for name in names
        if client.get("v1", "Namespace", name) is None
    ]


# ---- changes the API server would refuse half-way


def _quantity_bytes(value) -> float | None:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
    units.update({"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18})
    text = str(value)
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * units[suffix]
            except ValueError:
                return None
    try:
        return float(text)
    except ValueError:
        return None


def _template_shape(tpl: dict) -> dict:
    spec = tpl.get("spec") or {}
    return {
        "name": (tpl.get("metadata") or {}).get("name"),
        "storageClassName": spec.get("storageClassName"),
        "accessModes": spec.get("accessModes"),
        "storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage"),
    }


def conflicts(desired: dict, live: dict) -> list[tuple[str, str]]:
    """(field, cause) for each change of ``desired`` over ``live`` the API server would reject."""
    kind = desired.get("kind")
    out: list[tuple[str, str]] = []
    want, have = desired.get("spec") or {}, live.get("spec") or {}

    def differ(field: str, a, b, why: str) -> None:
        if a is not None and a != b:
            out.append((field, f"{why}: the cluster has {b!r}, the plan wants {a!r}"))

    if kind == "StorageClass":
        for field in ("provisioner", "reclaimPolicy", "volumeBindingMode"):
            default = {"reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}.get(field)
            differ(
                field, desired.get(field) or default, live.get(field) or default, "cannot change"
            )
        params_want = {k: str(v) for k, v in (desired.get("parameters") or {}).items()}
        differ("parameters", params_want, live.get("parameters") or {}, "cannot change")
    elif kind == "PersistentVolume":
        for source in PV_SOURCES:
            if source in want or source in have:
                a, b = want.get(source), have.get(source)
                if isinstance(a, dict) and isinstance(b, dict):
                    # The server adds defaults (fsType, readOnly); compare what the plan sets.
                    b = {k: b.get(k) for k in a}
                differ(f"spec.{source}", a, b, "a volume's source cannot change")
    elif kind == "PersistentVolumeClaim":
        for field in ("storageClassName", "accessModes", "selector", "volumeMode"):
            if field in want and have.get(field) is not None:
                differ(
                    f"spec.{field}", want[field], have[field], "cannot change on an existing claim"
                )
        if want.get("volumeName") and have.get("volumeName"):
            differ(
                "spec.volumeName",
                want["volumeName"],
                have["volumeName"],
                "the claim is bound elsewhere",
            )
        size_want = ((want.get("resources") or {}).get("requests") or {}).get("storage")
        size_have = ((have.get("resources") or {}).get("requests") or {}).get("storage")
        a, b = _quantity_bytes(size_want), _quantity_bytes(size_have)
        if a is not None and b is not None and a < b:
            out.append(
                (
                    "spec.resources.requests.storage",
                    f"a claim cannot shrink from {size_have} to {size_want}",
                )
            )
    elif kind == "StatefulSet":
        for field in ("serviceName", "selector", "podManagementPolicy"):
            if field in want:
                differ(
                    f"spec.{field}",
                    want[field],
                    have.get(field),
                    "cannot change on an existing StatefulSet",
                )
        a = [_template_shape(t) for t in want.get("volumeClaimTemplates") or []]
        b = [_template_shape(t) for t in have.get("volumeClaimTemplates") or []]
        if "volumeClaimTemplates" in want and a != b:
            out.append(
                (
                    "spec.volumeClaimTemplates",
                    f"cannot change on an existing StatefulSet: the cluster has {b}, the plan wants {a}",
                )
            )
    return out


def refuse_conflicts(objects: list[dict], live: dict[tuple, dict]) -> None:
    for obj in objects:
        have = live.get(_key(obj))
        if have is None:
            continue
        found = conflicts(obj, have)
        if found:
            field, cause = found[0]
            raise StorageConflict(
                cause + "; nothing was changed",
                obj=describe(obj),
                field=field,
                details={"conflicts": [{"field": f, "cause": c} for f, c in found]},
            )


# ---- applying


def apply_batches(client, objects, batch_size, dry_run, changes) -> list[dict]:
    """apply_all over slices of the plan, in one dependency order across the slices."""
    ordered = sorted(objects, key=apply_rank)
    results = []
    for start in range(0, len(ordered), max(1, batch_size)):
        results += client.apply_all(
            ordered[start : start + batch_size], dry_run=dry_run, changes=changes
        )
    return results


# ---- claims and StatefulSets after the apply


def statefulset_claims(sts: dict, replicas: int | None = None) -> list[tuple[str, str]]:
    """(namespace, claim name) of each ordinal below ``replicas`` for each volumeClaimTemplate."""
    meta, spec = sts["metadata"], sts.get("spec") or {}
    count = spec.get("replicas", 1) if replicas is None else replicas
    start = (spec.get("ordinals") or {}).get("start", 0)
    return [
        (meta.get("namespace"), f"{(tpl.get('metadata') or {}).get('name')}-{meta['name']}-{i}")
        for tpl in spec.get("volumeClaimTemplates") or []
        for i in range(start, start + count)
    ]


def planned_claims(objects: list[dict]) -> list[tuple[str, str]]:
    out = []
    for obj in objects:
        if obj.get("kind") == "PersistentVolumeClaim":
            out.append((obj["metadata"].get("namespace"), obj["metadata"]["name"]))
        elif obj.get("kind") == "StatefulSet":
            out += statefulset_claims(obj)
    return out


def claim_state(client, namespace: str, name: str, classes: dict) -> dict:
    pvc = client.get("v1", "PersistentVolumeClaim", name, namespace)
    row = {"claim": f"{namespace}/{name}", "phase": "Absent", "volume": None}
    if pvc is None:
        return row
    spec = pvc.get("spec") or {}
    sc_name = spec.get("storageClassName")
    sc = classes.get(sc_name) if sc_name else None
    annotations = (pvc.get("metadata") or {}).get("annotations") or {}
    row.update(
        phase=(pvc.get("status") or {}).get("phase", "Pending"),
        volume=spec.get("volumeName") or None,
        storage_class=sc_name,
        waiting_for_consumer=bool(
            sc
            and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
            and not annotations.get(SELECTED_NODE)
            and not spec.get("volumeName")
        ),
    )
    if row["volume"]:
        pv = client.get("v1", "PersistentVolume", row["volume"])
        if pv:
            pv_spec = pv.get("spec") or {}
            source = pv_spec.get("csi") or pv_spec.get("flexVolume") or {}
            row["handle"] = source.get("volumeHandle") or (source.get("options") or {}).get(
                "volumeId"
            )
            row["driver"] = source.get("driver")
            row["zone"] = _pv_zone(pv)
    return row


def _pv_zone(pv: dict) -> str | None:
    terms = (((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
        "nodeSelectorTerms"
    ) or []
    for term in terms:
        for expr in term.get("matchExpressions") or []:
            if expr.get("key") in ZONE_KEYS and expr.get("values"):
                return ",".join(expr["values"])
    labels = (pv.get("metadata") or {}).get("labels") or {}
    return next((labels[k] for k in ZONE_KEYS if labels.get(k)), None)


def refusal_events(client, namespace: str, name: str) -> list[str]:
    """The provisioner's and binder's warnings about one claim, oldest first."""
    events = client.list("v1", "Event", namespace)
    return [
        e.get("message", "")
        for e in events
        if (e.get("involvedObject") or {}).get("kind") == "PersistentVolumeClaim"
        and (e.get("involvedObject") or {}).get("name") == name
        and e.get("type") == "Warning"
        and e.get("reason") in ("ProvisioningFailed", "FailedBinding")
    ]


def wait_statefulsets(client, statefulsets: list[dict], timeout: float) -> None:
    for sts in statefulsets:
        meta = sts["metadata"]
        replicas = (sts.get("spec") or {}).get("replicas", 1)

        def ready(obj, replicas=replicas):
            status = (obj or {}).get("status") or {}
            return (
                status.get("observedGeneration", 0)
                >= (obj or {}).get("metadata", {}).get("generation", 0)
                and status.get("replicas", 0) == replicas
                and status.get("readyReplicas", 0) == replicas
            )

        client.wait(
            sts["apiVersion"], "StatefulSet", meta["name"], meta.get("namespace"), ready, timeout
        )


def wait_claims(client, claims, classes: dict, timeout: float) -> list[dict]:
    """Until every claim that can bind is Bound; ClaimNotBound names the first that did not."""

    def probe():
        rows = [claim_state(client, ns, name, classes) for ns, name in claims]
        pending = [r for r in rows if r["phase"] != "Bound" and not r.get("waiting_for_consumer")]
        return not pending, rows

    done, rows = client_poll(client, probe, timeout)
    if not done:
        row = next(r for r in rows if r["phase"] != "Bound" and not r.get("waiting_for_consumer"))
        ns, name = row["claim"].split("/", 1)
        events = refusal_events(client, ns, name)
        cause = f"still {row['phase']} after {int(timeout)}s"
        if events:
            cause += f"; the provisioner says: {events[-1]}"
        raise ClaimNotBound(
            cause, obj=f"PersistentVolumeClaim {row['claim']}", details={"events": events}
        )
    return rows


def client_poll(client, probe, timeout):
    from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.waits import poll_until

    return poll_until(probe, timeout, client.clock, client.sleep, interval=1.0)


# ---- report


def markdown(result: dict) -> str:
    lines = ["# provision-storage", ""]
    mode = (
        "check mode: nothing was changed, the server validated a dry run"
        if result["check_mode"]
        else "applied"
    )
    lines += [f"- {len(result['objects'])} objects, {len(result['changes'])} changed ({mode})", ""]
    if result["changes"]:
        lines += ["## Changes", ""] + [f"- {c}" for c in result["changes"]] + [""]
    if result["claims"]:
        lines += [
            "## Claims",
            "",
            "| claim | phase | volume | class | zone |",
            "|---|---|---|---|---|",
        ]
        for c in result["claims"]:
            phase = c["phase"] + (
                " (waiting for first consumer)" if c.get("waiting_for_consumer") else ""
            )
            lines.append(
                f"| {c['claim']} | {phase} | {c.get('volume') or ''} | {c.get('storage_class') or ''} "
                f"| {c.get('zone') or ''} |"
            )
        lines.append("")
    kept = [(s["statefulset"], k) for s in result["statefulsets"] for k in s["kept_claims"]]
    if kept:
        lines += ["## Claims kept above the replicas", ""]
        lines += [
            f"- {k} ({s}); delete it by hand once its data is not needed" for s, k in kept
        ] + [""]
    lines += ["## Warnings", ""] + ([f"- {w}" for w in result["warnings"]] or ["- none"]) + [""]
    return "\n".join(lines)


# ---- the module


def hide_secret_values(module, secret_keys) -> None:
    """Mask the AccessKey values of ``secrets`` everywhere Ansible prints or returns the result."""
    for item in module.params["secrets"] or []:
        if not isinstance(item, dict):
            continue
        for key in secret_keys:
            value = item.get(key)
            if value not in (None, ""):
                module.no_log_values.add(str(value))


def provision(module, connect, changes) -> dict:
    from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import (
        SECRET_VALUE_KEYS,
        build_plan,
    )

    params = module.params
    hide_secret_values(module, SECRET_VALUE_KEYS)
    if params["batch_size"] < 1:
        raise RunbookError("must be at least 1", obj="module options", field="batch_size")
    plan = build_plan({key: params[key] for key in PLAN_KEYS})
    objects = plan["objects"]
    warnings = list(plan.get("warnings") or [])
    client = connect()
    if params["create_namespaces"]:
        objects = missing_namespaces(client, objects) + objects
    live = existing_objects(client, objects)
    refuse_conflicts(objects, live)
    results = apply_batches(client, objects, params["batch_size"], module.check_mode, changes)

    classes = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "StorageClass"}
    for sc in client.list("storage.k8s.io/v1", "StorageClass"):
        classes.setdefault(sc["metadata"]["name"], sc)
    statefulsets = [o for o in objects if o.get("kind") == "StatefulSet"]
    claims = planned_claims(objects)
    if params["wait"] and not module.check_mode:
        wait_statefulsets(client, statefulsets, params["wait_timeout"])
        rows = wait_claims(client, claims, classes, params["wait_timeout"])
    else:
        rows = [claim_state(client, ns, name, classes) for ns, name in claims]
    sts_rows = []
    for sts in statefulsets:
        meta = sts["metadata"]
        live_sts = (
            client.get(sts["apiVersion"], "StatefulSet", meta["name"], meta.get("namespace")) or {}
        )
        replicas = (sts.get("spec") or {}).get("replicas", 1)
        wanted = set(statefulset_claims(sts))
        # Claims of ordinals above the replicas: up to what the StatefulSet ever had, as they exist.
        kept = []
        for ns, name in statefulset_claims(sts, replicas + 64):
            if (ns, name) in wanted:
                continue
            if client.get("v1", "PersistentVolumeClaim", name, ns) is None:
                break
            kept.append(f"{ns}/{name}")
        sts_rows.append(
            {
                "statefulset": f"{meta.get('namespace')}/{meta['name']}",
                "replicas": replicas,
                "ready": ((live_sts.get("status") or {}).get("readyReplicas", 0)),
                "kept_claims": kept,
            }
        )
    for row in rows:
        if (
            row["phase"] == "Pending"
            and not row.get("waiting_for_consumer")
            and not module.check_mode
        ):
            ns, name = row["claim"].split("/", 1)
            for message in refusal_events(client, ns, name)[-1:]:
                warnings.append(f"PersistentVolumeClaim {row['claim']}: {message}")

    result = {
        "changed": any(r["changed"] for r in results),
        "changes": [
            f"{'create' if r['before'] is None else 'update'} {r['object']}"
            for r in results
            if r["changed"]
        ],
        "objects": [
            {"object": r["object"], "changed": r["changed"], "validated": r["validated"]}
            for r in results
        ],
        "claims": rows,
        "statefulsets": sts_rows,
        "volumes": plan.get("volumes") or [],
        "warnings": warnings,
        "check_mode": module.check_mode,
    }
    result["markdown"] = markdown(result)
    if module._diff:
        result["diff"] = [r["diff"] for r in results if r["changed"]]
    return result


def main():
    run_k8s_module(OPTIONS, provision, FIELD_MANAGER)


if __name__ == "__main__":
    main()
