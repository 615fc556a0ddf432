#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.storage_migrate: flexVolume PVs moved to CSI, one volume at a time."""

from __future__ import annotations

DOCUMENTATION = r"""
module: storage_migrate
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Migrate ACK flexVolume disk, NAS and OSS volumes to the CSI drivers, one volume at a time
description:
  - "Reads the cluster's PersistentVolumes of the legacy flexVolume drivers (C(alicloud/disk),
    C(alicloud/nas), C(alicloud/oss)) that are bound, their claims and StorageClasses, and asks the
    collection's storage plan (C(module_utils/storage/migrate.py)) for their CSI equivalents: a PV of
    C(diskplugin|nasplugin|ossplugin.csi.alibabacloud.com) for the same disk id, NAS server and path or
    OSS bucket, inline C(akId)/C(akSecret) moved into a Secret."
  - "Without O(migrate) (or in check mode) it changes nothing and returns the whole plan: every
    volume, its workloads and the steps."
  - "With O(migrate), one volume at a time: the old PV's reclaim policy is set to C(Retain) first
    (so nothing can delete the disk, NAS path or bucket), the workloads that mount the claim
    (Deployments, StatefulSets) are scaled to zero and their pods waited for, the new CSI PV is
    created pre-bound to the claim, the claim is deleted and recreated with the same name bound to
    the new PV, and the workloads are scaled back to their replicas. The data path is never touched.
    The old PVs are kept (Released, Retain) until the operator deletes them."
  - "A failure stops the run at that volume; the error says which steps were done and, in
    C(error.details.restore), how to put the old objects back."
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: Check mode returns the plan and changes nothing.
  diff_mode:
    support: none
options:
  migrate:
    description: Carry the migration out; without it only the plan is returned.
    type: bool
    default: false
  volumes:
    description: Names of the flexVolume PVs to migrate; empty means all of them.
    type: list
    elements: str
    default: []
  pv_suffix:
    description: Appended to an old PV's name for its CSI twin (the old PV stays until the end, so the names differ).
    type: str
    default: -csi
  class_suffix:
    description: Appended to a flexVolume StorageClass's name for its CSI equivalent.
    type: str
    default: -csi
  region:
    description: Region id, for the topology labels of the new disk PVs.
    type: str
  oss_secret:
    description:
      - C(name) and C(namespace) of an existing Secret (keys C(akId), C(akSecret)) for OSS PVs that had no key
        of their own; without it such PVs are skipped. A reference, never a key value.
    type: dict
  timeout:
    description: Seconds to wait for each step (pods gone, claim bound, workload ready).
    type: int
    default: 300
seealso:
  - name: Migrate from FlexVolume to CSI
    description: ACK's procedure for the same migration.
    link: https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/migrate-from-flexvolume-to-csi
"""

EXAMPLES = r"""
- name: The migration plan
  ackops.runbooks.storage_migrate:
    kubeconfig: "{{ k8s_kubeconfig }}"
  register: plan

- name: Migrate two volumes
  ackops.runbooks.storage_migrate:
    migrate: true
    volumes: [d-bp1abc, nas-logs]
"""

RETURN = r"""
volumes:
  description: One row per flexVolume PV found, with what was (or would be) done.
  returned: success
  type: list
  elements: dict
  sample: [{pv: d-bp1abc, claim: web/data, new_pv: d-bp1abc-csi, target: d-bp1abc,
            workloads: [Deployment web/app], state: migrated}]
changes:
  description: What changed, one line each.
  returned: success
  type: list
  elements: str
retained:
  description: The old PVs kept (Retain, Released); delete them once the migration is accepted.
  returned: success
  type: list
  elements: str
warnings:
  description: Warnings of the plan and of the run.
  returned: success
  type: list
  elements: str
markdown:
  description: The report as Markdown.
  returned: success
  type: str
error:
  description:
    - What failed and where, the same keys in every module of the collection;
      C(error.details.restore) lists the shell commands that put the old objects back, to run in
      order with the cluster's kubeconfig (lines starting with C(#) explain); C(error.details.done)
      the steps completed.
  returned: failure
  type: dict
partial_changes:
  description: What was changed before the failure, in order.
  returned: failure
  type: list
  elements: dict
"""

import json
import shlex

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.waits import is_gone, poll_until

FIELD_MANAGER = "ackops-storage-migrate"
FLEX_DRIVERS = ("alicloud/disk", "alicloud/nas", "alicloud/oss")

OPTIONS = {
    "migrate": {"type": "bool", "default": False},
    "volumes": {"type": "list", "elements": "str", "default": []},
    "pv_suffix": {"type": "str", "default": "-csi"},
    "class_suffix": {"type": "str", "default": "-csi"},
    "region": {"type": "str"},
    # The name and namespace of a Secret, not a secret value.
    "oss_secret": {"type": "dict", "no_log": False},
    "timeout": {"type": "int", "default": 300},
}


class MigrationError(RunbookError):
    """A migration step failed; details say what was done and how to restore."""

    error_type = "migration"


# ---- reading the cluster


def read_cluster(client) -> dict:
    return {
        "persistent_volumes": client.list("v1", "PersistentVolume"),
        "persistent_volume_claims": client.list("v1", "PersistentVolumeClaim"),
        "storage_classes": client.list("storage.k8s.io/v1", "StorageClass"),
    }


def is_flex(pv: dict) -> bool:
    return ((pv.get("spec") or {}).get("flexVolume") or {}).get("driver") in FLEX_DRIVERS


def claim_users(client, namespace: str, claim: str) -> list[dict]:
    """The Deployments and StatefulSets whose pods mount ``claim`` (bare pods are refused)."""
    owners: dict[tuple, dict] = {}
    for pod in client.list("v1", "Pod", namespace):
        volumes = (pod.get("spec") or {}).get("volumes") or []
        if not any(
            (v.get("persistentVolumeClaim") or {}).get("claimName") == claim for v in volumes
        ):
            continue
        refs = (pod.get("metadata") or {}).get("ownerReferences") or []
        ref = next((r for r in refs if r.get("controller")), None)
        name = pod["metadata"]["name"]
        if ref is None:
            raise MigrationError(
                f"pod {namespace}/{name} mounts the claim and has no controller to scale down; "
                "stop it by hand first",
                obj=f"PersistentVolumeClaim {namespace}/{claim}",
            )
        if ref["kind"] == "ReplicaSet":
            rs = client.get("apps/v1", "ReplicaSet", ref["name"], namespace) or {}
            rs_ref = next(
                (
                    r
                    for r in (rs.get("metadata") or {}).get("ownerReferences") or []
                    if r.get("controller")
                ),
                None,
            )
            ref = rs_ref or {"kind": "ReplicaSet", "name": ref["name"]}
        if ref["kind"] not in ("Deployment", "StatefulSet", "ReplicaSet"):
            raise MigrationError(
                f"pod {namespace}/{name} is run by a {ref['kind']}, which cannot be scaled to zero",
                obj=f"PersistentVolumeClaim {namespace}/{claim}",
            )
        workload = client.get("apps/v1", ref["kind"], ref["name"], namespace)
        if workload is not None:
            owners[(ref["kind"], ref["name"])] = workload
    return list(owners.values())


def label(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return (
        f"{obj.get('kind')} {ns}/{meta.get('name')}"
        if ns
        else f"{obj.get('kind')} {meta.get('name')}"
    )


# ---- the steps of one volume


class Volume:
    """One step of the plan: a flexVolume PV, its claim, its CSI twin and the workloads to stop."""

    def __init__(self, step: dict):
        self.step = step
        self.pv_name = step["pv"]
        self.new_pv = step["new_pv"]
        self.new_pvc = step.get("new_pvc")
        claim = step.get("old_pvc") or step.get("pvc")
        meta = (claim or {}).get("metadata") or claim or {}
        self.claim = (
            {"namespace": meta["namespace"], "name": meta["name"]} if meta.get("name") else None
        )
        # Manifests to apply before the new PV: the Secret holding OSS keys moved out of the PV.
        self.objects = list(step.get("objects") or ([step["secret"]] if step.get("secret") else []))
        self.workloads: list[dict] = []
        self.replicas: dict[str, int] = {}
        self.done: list[str] = []

    @property
    def claim_ref(self) -> str | None:
        return f"{self.claim['namespace']}/{self.claim['name']}" if self.claim else None

    @property
    def new_name(self) -> str:
        return self.new_pv["metadata"]["name"]

    def row(self, state: str) -> dict:
        csi = self.new_pv["spec"].get("csi") or {}
        return {
            "pv": self.pv_name,
            "type": self.step.get("type"),
            "claim": self.claim_ref,
            "new_pv": self.new_name,
            "driver": csi.get("driver"),
            "source": self.step.get("source"),
            "workloads": [
                f"{label(w)} ({self.replicas.get(label(w), '?')} replicas)" for w in self.workloads
            ],
            "steps": self.steps(),
            "rollback": (self.step.get("rollback") or {}).get("text"),
            "state": state,
        }

    def steps(self) -> list[str]:
        out = [f"set persistentVolumeReclaimPolicy Retain on PersistentVolume {self.pv_name}"]
        if self.step.get("secret"):
            out.append(
                f"apply Secret {label(self.step['secret']).split(' ', 1)[1]} (the PV's AccessKey, moved)"
            )
        out += [f"scale {label(w)} to 0 and wait for its pods to go" for w in self.workloads]
        target = f" pre-bound to {self.claim_ref}" if self.claim else ""
        out.append(
            f"create PersistentVolume {self.new_name} (CSI, {self.step.get('source')}){target}"
        )
        if self.claim:
            out += [
                f"delete PersistentVolumeClaim {self.claim_ref} (the old PV is kept, Released, Retain)",
                f"create PersistentVolumeClaim {self.claim_ref} bound to {self.new_name} and wait for Bound",
            ]
        final = self.step.get("final_reclaim_policy") or "Retain"
        if final != "Retain":
            out.append(
                f"set persistentVolumeReclaimPolicy {final} on PersistentVolume {self.new_name}"
            )
        out += [
            f"scale {label(w)} back to {self.replicas.get(label(w), '?')}" for w in self.workloads
        ]
        return out

    def restore(self) -> list[str]:
        """Shell commands that put the old objects back from where this volume stopped.

        Run in order with the cluster's kubeconfig; lines starting with ``#`` say why.
        The old claim is inlined (no file to save by hand); the old reclaim policy comes
        back only once the claim is bound again, so a Released PV is never set to Delete.
        """
        out = []
        rollback = self.step.get("rollback") or {}
        scaled_up = [w for w in self.workloads if f"scaled up {label(w)}" in self.done]
        if "claim deleted" in self.done and self.claim:
            ns, name = self.claim["namespace"], self.claim["name"]
            for w in scaled_up:  # the claim cannot go while a pod mounts it
                out.append(
                    f"kubectl -n {ns} scale {w['kind'].lower()} {w['metadata']['name']} --replicas=0"
                )
            out += [
                f"kubectl -n {ns} delete pvc {name} --ignore-not-found --wait=true",
                f"kubectl delete pv {self.new_name} --ignore-not-found",
                f"kubectl patch pv {self.pv_name} --type merge -p "
                '\'{"spec":{"claimRef":{"uid":null,"resourceVersion":null}}}\'',
            ]
            old_pvc = rollback.get("pvc")
            if old_pvc:
                body = json.dumps(old_pvc, sort_keys=True, separators=(",", ":"))
                out.append(f"printf '%s\\n' {shlex.quote(body)} | kubectl create -f -")
            else:
                out.append(
                    f"# recreate PersistentVolumeClaim {ns}/{name} with spec.volumeName {self.pv_name}"
                )
            out.append(
                f"kubectl -n {ns} wait pvc/{name} --for=jsonpath='{{.status.phase}}'=Bound --timeout=120s"
            )
        elif "new PV created" in self.done:
            out.append(f"kubectl delete pv {self.new_name} --ignore-not-found")
        for w in self.workloads:
            kind = w["kind"].lower()
            ns = w["metadata"]["namespace"]
            out.append(
                f"kubectl -n {ns} scale {kind} {w['metadata']['name']} --replicas={self.replicas.get(label(w), 1)}"
            )
        if "retain" in self.done:
            policy = self.step.get("old_reclaim_policy") or "Delete"
            if policy != "Retain":
                out.append(
                    f"kubectl patch pv {self.pv_name} -p "
                    f'\'{{"spec":{{"persistentVolumeReclaimPolicy":"{policy}"}}}}\''
                )
        if rollback.get("text"):
            out.append(f"# in short: {rollback['text']}")
        return out


def pods_of(client, workload: dict) -> list[dict]:
    selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    ns = workload["metadata"]["namespace"]
    return client.list("v1", "Pod", ns, label_selector=selector) if selector else []


def wait_for(client, what: str, obj: str, probe, timeout: float) -> None:
    done, _state = poll_until(probe, timeout, client.clock, client.sleep, interval=1.0)
    if not done:
        raise MigrationError(f"{what} did not happen within {int(timeout)}s", obj=obj)


def set_policy(client, pv_name: str, policy: str, changes) -> None:
    pv = client.get("v1", "PersistentVolume", pv_name)
    if pv is None or (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == policy:
        return
    client.json_patch(
        pv, [{"op": "replace", "path": "/spec/persistentVolumeReclaimPolicy", "value": policy}]
    )
    changes.record(
        "reclaim", f"PersistentVolume {pv_name}", change=f"{policy} on PersistentVolume {pv_name}"
    )


def migrate_volume(client, vol: Volume, timeout: float, changes) -> None:
    # 1. Retain first: from here nothing can delete the disk, the NAS path or the bucket.
    set_policy(client, vol.pv_name, "Retain", changes)
    vol.done.append("retain")
    if vol.objects:
        client.apply_all(vol.objects, changes=changes)
    # 2. The workloads down.
    for w in vol.workloads:
        if vol.replicas[label(w)]:
            client.scale(w, 0)
            changes.record("scale", label(w), change=f"scale {label(w)} to 0")
        vol.done.append(f"scaled down {label(w)}")
        wait_for(
            client,
            "its pods stopping",
            label(w),
            lambda w=w: (not pods_of(client, w), None),
            timeout,
        )
    # 3. The CSI PV, pre-bound to the claim's name (no uid: the recreated claim takes it).
    if client.get("v1", "PersistentVolume", vol.new_name) is None:
        client.create(vol.new_pv)
        changes.record("create", f"PersistentVolume {vol.new_name}")
    vol.done.append("new PV created")
    # 4. The claim recreated with its name, bound to the new PV.
    if vol.claim:
        ns, name = vol.claim["namespace"], vol.claim["name"]
        old = client.get("v1", "PersistentVolumeClaim", name, ns)
        if old is not None:
            client.delete("v1", "PersistentVolumeClaim", name, ns)
            changes.record("delete", f"PersistentVolumeClaim {vol.claim_ref}")
        vol.done.append("claim deleted")
        wait_for(
            client,
            "the old claim going",
            f"PersistentVolumeClaim {vol.claim_ref}",
            lambda: (is_gone(client.get("v1", "PersistentVolumeClaim", name, ns)), None),
            timeout,
        )
        client.create(vol.new_pvc)
        changes.record("create", f"PersistentVolumeClaim {vol.claim_ref}")
        vol.done.append("claim recreated")

        def bound():
            pvc = client.get("v1", "PersistentVolumeClaim", name, ns) or {}
            return (pvc.get("status") or {}).get("phase") == "Bound", None

        wait_for(
            client,
            "the new claim binding",
            f"PersistentVolumeClaim {vol.claim_ref}",
            bound,
            timeout,
        )
    final = vol.step.get("final_reclaim_policy") or "Retain"
    set_policy(client, vol.new_name, final, changes)
    # 5. The workloads back.
    for w in vol.workloads:
        replicas = vol.replicas[label(w)]
        if replicas:
            client.scale(w, replicas)
            changes.record("scale", label(w), change=f"scale {label(w)} to {replicas}")
        vol.done.append(f"scaled up {label(w)}")

        def ready(w=w, replicas=replicas):
            live = (
                client.get("apps/v1", w["kind"], w["metadata"]["name"], w["metadata"]["namespace"])
                or {}
            )
            return (live.get("status") or {}).get("readyReplicas", 0) >= replicas, None

        wait_for(client, f"{replicas} ready replicas", label(w), ready, timeout)


# ---- the module


def markdown(result: dict) -> str:
    lines = ["# flexVolume to CSI migration", ""]
    if not result["volumes"]:
        lines += ["- no bound flexVolume PersistentVolume left", ""]
    for row in result["volumes"]:
        lines += [
            f"## {row['pv']} ({row['state']})",
            "",
            f"- claim {row['claim']} -> {row['new_pv']} ({row['driver']}, {row['source']})",
        ]
        lines += [f"- workloads: {', '.join(row['workloads']) or 'none'}"]
        lines += [f"- rollback: {row['rollback']}", ""] if row.get("rollback") else [""]
        lines += [f"{i}. {s}" for i, s in enumerate(row["steps"], 1)] + [""]
    if result["retained"]:
        lines += ["## Old PVs kept (Retain)", ""] + [f"- {p}" for p in result["retained"]] + [""]
    lines += ["## Warnings", ""] + ([f"- {w}" for w in result["warnings"]] or ["- none"]) + [""]
    return "\n".join(lines)


def migrate(module, connect, changes) -> dict:
    from ansible_collections.ackops.runbooks.plugins.module_utils.storage.migrate import (
        OPTION_KEYS,
        plan_flex_migration,
    )

    params = module.params
    options = {key: params[key] for key in ("pv_suffix", "class_suffix", "region") if params[key]}
    if params["volumes"]:
        options["volumes" if "volumes" in OPTION_KEYS else "pvs"] = params["volumes"]
    if params["oss_secret"]:
        options["oss_secret"] = params["oss_secret"]
    client = connect()
    plan = plan_flex_migration(read_cluster(client), options)
    warnings = list(plan.get("warnings") or [])
    steps = plan.get("volumes", plan.get("steps")) or []
    pending = [Volume(s) for s in steps if s.get("state") == "pending"]
    done_before = [Volume(s) for s in steps if s.get("state") != "pending"]
    for vol in pending:
        if vol.claim:
            vol.workloads = claim_users(client, vol.claim["namespace"], vol.claim["name"])
            for w in vol.workloads:
                vol.replicas[label(w)] = (w.get("spec") or {}).get("replicas", 1)
    carry_out = params["migrate"] and not module.check_mode
    # The CSI classes first (a dry run in check mode): the new claims name them.
    classes = client.apply_all(
        plan.get("storage_classes") or [], dry_run=not carry_out, changes=changes
    )
    if not carry_out:
        # The server validates every new PV before anything is asked for real.
        for vol in pending:
            if client.get("v1", "PersistentVolume", vol.new_name) is None:
                client.apply(vol.new_pv, dry_run=True)
    rows = [vol.row("migrated earlier") for vol in done_before]
    for vol in pending:
        if not carry_out:
            rows.append(vol.row("planned"))
            continue
        try:
            migrate_volume(client, vol, params["timeout"], changes)
        except Exception as exc:  # whatever stopped it, the report must say how to restore
            cause = exc.cause if isinstance(exc, RunbookError) else f"{type(exc).__name__}: {exc}"
            raise MigrationError(
                f"migration of PersistentVolume {vol.pv_name} stopped: {cause}; the volumes "
                "before it are migrated, the ones after it untouched; how to restore: error.details.restore",
                obj=getattr(exc, "obj", None) or f"PersistentVolume {vol.pv_name}",
                field=getattr(exc, "field", None),
                details={
                    "done": vol.done,
                    "restore": vol.restore(),
                    "old_pvc": (vol.step.get("rollback") or {}).get("pvc"),
                },
            ) from exc
        rows.append(vol.row("migrated"))
    retained = sorted(
        pv["metadata"]["name"]
        for pv in client.list("v1", "PersistentVolume")
        if is_flex(pv) and (pv.get("status") or {}).get("phase") == "Released"
    )
    lines = [
        f"{'create' if c['before'] is None else 'update'} {c['object']}"
        for c in classes
        if c["changed"]
    ]
    if carry_out:
        lines = [c.get("change") or f"{c['action']} {c['target']}" for c in changes]
    result = {
        "changed": bool(changes) if carry_out else False,
        "changes": lines,
        "volumes": rows,
        "storage_classes": [c["object"] for c in classes],
        "skipped": plan.get("skipped") or [],
        "retained": retained,
        "warnings": warnings,
        "check_mode": module.check_mode,
    }
    result["markdown"] = markdown(result)
    return result


def main():
    run_k8s_module(OPTIONS, migrate, FIELD_MANAGER)


if __name__ == "__main__":
    main()
