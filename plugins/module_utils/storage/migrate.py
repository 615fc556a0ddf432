# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flexVolume -> CSI: the plan, computed from the objects read from the API server.

``plan_flex_migration(cluster, options) -> dict`` is pure: it reads plain
dicts and returns plain dicts; the runbook executes the steps one volume at a
time (Retain first, scale the workload down, replace the PVC, scale up).

``cluster``::

    {"persistent_volumes": [PV, ...], "persistent_volume_claims": [PVC, ...],
     "storage_classes": [StorageClass, ...]}

``options`` (all optional):

=================  ===========================================================
volumes            list of PV names to migrate (default, or empty: every
                   flexVolume PV with an ``alicloud/disk|nas|oss`` driver).
                   Only PVs bound to an existing claim move; the others are
                   in ``skipped`` with the reason.
pv_suffix          appended to the old PV name for the new CSI PV
                   (default ``-csi``): the old PV stays, retained, until the
                   end, so the names must differ.
class_suffix       appended to a flexVolume class name for its CSI class
                   (default ``-csi``); ``class_names`` {old: new} overrides it.
class_names        dict old class name -> CSI class name.
secret_namespace   namespace of the Secrets made from inline OSS AccessKeys
                   (default: the namespace of the PV's claim, else ``default``).
oss_secret         {name, namespace} of an existing Secret (keys akId/akSecret)
                   for OSS PVs that had no key of their own (the flexVolume
                   plugin's key); without it those PVs are not migrated.
region             region id, for the topology labels of new disk PVs.
=================  ===========================================================

Returns::

    {"volumes": [step, ...],                   # one per PV, sorted by old PV name
     "storage_classes": [CSI StorageClass, ...],
     "warnings": ["<object>: <why>", ...],
     "skipped": [{"pv": name, "reason": why}, ...]}

A step::

    {"pv": old PV name, "type": "disk"|"nas"|"oss",
     "state": "pending" | "migrated" (the claim is already bound to the new PV),
     "source": {"disk_id"} | {"server", "path"} | {"bucket", "url", "path"},
     "old_pv": a reference to the old PV (apiVersion, kind, metadata name,
               uid, resourceVersion; spec persistentVolumeReclaimPolicy) --
               never its volume source, which may hold inline keys,
     "old_pvc": the claim as read (status and managedFields dropped),
     "old_reclaim_policy": str, "final_reclaim_policy": str,
     "retain_patch": merge patch setting the old PV to Retain,
     "objects": manifests to apply before new_pv: the Secret holding the
                OSS keys moved out of the PV, when there were some,
     "new_pv": CSI PV, pre-bound (claimRef) to the new PVC, policy Retain
               until the runbook sets final_reclaim_policy,
     "new_pvc": PVC with the old name/namespace, volumeName = new PV,
     "rollback": {"pvc": the old PVC, bound to the old PV again,
                  "pv_patch": merge patch clearing the old PV's claimRef uid,
                  "delete": [new PVC, new PV identities], "text": how}}

No value of an inline ``akId``/``akSecret`` appears anywhere but in the
``data`` of the Secret manifests in ``objects``.
"""

from __future__ import annotations

import base64
import copy
import hashlib

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.disk import CATEGORIES
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.model import (
    CSI_DRIVERS,
    CSI_FSTYPE,
    FLEX_DRIVERS,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    PV_NAME_LABEL,
    REGION_LABEL,
    ZONE_LABEL,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.oss import (
    BUCKET,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    DNS_SUBDOMAIN,
    Item,
    StorageInputError,
)

OPTION_KEYS = (
    "volumes",
    "pv_suffix",
    "class_suffix",
    "class_names",
    "secret_namespace",
    "oss_secret",
    "region",
)
OPTIONS_OBJECT = "migration options"
FLEX_TYPES = {driver: kind for kind, driver in FLEX_DRIVERS.items()}
LEGACY_ZONE_LABELS = (ZONE_LABEL, "failure-domain.beta.kubernetes.io/zone")
LEGACY_REGION_LABELS = (REGION_LABEL, "failure-domain.beta.kubernetes.io/region")
MIGRATED_FROM = "ackops.runbooks/migrated-from"
# flexVolume provisioner alicloud/disk parameters -> the CSI disk driver's
# (pkg/disk/constants.go, pkg/disk/utils.go getDiskVolumeOptions).
DISK_CLASS_PARAMETERS = {
    "type": "type",
    "regionid": "regionId",
    "zoneid": "zoneId",
    "fstype": CSI_FSTYPE,
    "readonly": "readOnly",
    "encrypted": "encrypted",
}
# The old alicloud/nas provisioner (alicloud-nas-controller): server is host:/path
# like CSI subpath's (pkg/nas/subpath_controller.go), archiveOnDelete the same.
NAS_CLASS_PARAMETERS = {"server": "server", "archiveOnDelete": "archiveOnDelete"}
NAS_CLASS_IGNORED = ("driver",)  # which mount client the old controller used


def _options(options) -> dict:
    if options is None:
        options = {}
    item = Item(options, "options", OPTIONS_OBJECT, OPTION_KEYS)
    pvs = item.strings("volumes") or None
    oss_secret = None
    if item.has("oss_secret"):
        ref = Item(
            item.raw["oss_secret"], "options.oss_secret", OPTIONS_OBJECT, ("name", "namespace")
        )
        oss_secret = {
            "name": ref.name("name", subdomain=True),
            "namespace": ref.name("namespace", required=False) or "default",
        }
    class_names = item.mapping("class_names")
    for old, new in class_names.items():
        if not DNS_SUBDOMAIN.match(new):
            item.fail(
                f"class_names.{old}",
                f"{new!r} is not a valid class name; allowed: a DNS subdomain name",
            )
    suffixes = {}
    for key in ("pv_suffix", "class_suffix"):
        suffix = item.text(key, default="-csi")
        if not DNS_SUBDOMAIN.match(f"a{suffix}"):
            item.fail(
                key,
                f"{suffix!r} cannot end a name; allowed: lowercase letters, digits, '-' and '.'",
            )
        suffixes[key] = suffix
    return {
        "volumes": pvs,
        "class_names": class_names,
        "secret_namespace": item.name("secret_namespace", required=False),
        "oss_secret": oss_secret,
        "region": item.text("region"),
        **suffixes,
    }


def _cluster_list(cluster, key: str) -> list[dict]:
    value = cluster.get(key) if isinstance(cluster, dict) else None
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(o, dict) for o in value):
        raise StorageInputError(
            "must be a list; allowed: a list of objects as read from the API server",
            obj="cluster",
            field=f"cluster.{key}",
        )
    return value


def _name(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def _suffixed(name: str, suffix: str) -> str:
    """``name + suffix``, shortened with a stable hash when over 253 characters."""
    candidate = f"{name}{suffix}"
    if len(candidate) <= 253:
        return candidate
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[: 253 - len(suffix) - 11]}-{digest}{suffix}"


def _labels(obj: dict) -> dict:
    labels = dict((obj.get("metadata") or {}).get("labels") or {})
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    return labels


def _first(mapping: dict, keys) -> str | None:
    return next((mapping[k] for k in keys if mapping.get(k)), None)


def _class_name(old: str, opts: dict) -> str:
    return opts["class_names"].get(old) or _suffixed(old, opts["class_suffix"])


def _migrate_class(sc: dict, opts: dict, warn) -> dict | None:
    provisioner = sc.get("provisioner")
    kind = FLEX_TYPES.get(provisioner)
    name = _name(sc)
    obj = f"storage class {name}"
    if kind is None:
        return None
    params = dict(sc.get("parameters") or {})
    if kind == "disk":
        mapping, ignored = DISK_CLASS_PARAMETERS, ()
    elif kind == "nas":
        mapping, ignored = NAS_CLASS_PARAMETERS, NAS_CLASS_IGNORED
    else:
        warn(obj, "alicloud/oss never provisioned volumes; nothing to migrate for this class")
        return None
    parameters = {}
    for key in sorted(params):
        if key in mapping:
            parameters[mapping[key]] = str(params[key])
        elif key not in ignored:
            warn(obj, f"parameter {key} has no CSI equivalent and is dropped")
    if kind == "disk":
        for category in parameters.get("type", "").split(","):
            if category and category != "available" and category not in CATEGORIES:
                warn(
                    obj,
                    f"category {category} is unknown to the CSI disk driver: claims of this class will fail",
                )
        parameters.setdefault(CSI_FSTYPE, "ext4")
    else:
        parameters["volumeAs"] = "subpath"
        if "server" not in parameters:
            warn(obj, "has no server parameter: the CSI class cannot provision")
    new = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": _class_name(name, opts),
            "labels": _labels(sc),
            "annotations": {MIGRATED_FROM: name},
        },
        "provisioner": CSI_DRIVERS[kind],
        "parameters": parameters,
        "reclaimPolicy": sc.get("reclaimPolicy") or "Delete",
        "volumeBindingMode": sc.get("volumeBindingMode") or "Immediate",
        "allowVolumeExpansion": bool(sc.get("allowVolumeExpansion", kind == "disk")),
    }
    if sc.get("mountOptions"):
        new["mountOptions"] = list(sc["mountOptions"])
    if sc.get("allowedTopologies"):
        new["allowedTopologies"] = copy.deepcopy(sc["allowedTopologies"])
    zones = parameters.get("zoneId", "").split(",")
    if len([z for z in zones if z]) > 1 and new["volumeBindingMode"] != "WaitForFirstConsumer":
        new["volumeBindingMode"] = "WaitForFirstConsumer"
        warn(
            obj,
            "spans several zones: the CSI class uses WaitForFirstConsumer so disks follow their pods",
        )
    return new


# The beta labels kubelets no longer set; a PV still selecting nodes by them
# would fit no node once the old labels are gone.
CURRENT_KEYS = {
    "failure-domain.beta.kubernetes.io/zone": ZONE_LABEL,
    "failure-domain.beta.kubernetes.io/region": REGION_LABEL,
}


def _current_topology_keys(affinity: dict) -> dict:
    """``affinity`` with the beta zone/region keys renamed to topology.kubernetes.io/*."""
    new = copy.deepcopy(affinity)
    for term in ((new.get("required") or {}).get("nodeSelectorTerms")) or []:
        for expression in term.get("matchExpressions") or []:
            expression["key"] = CURRENT_KEYS.get(expression.get("key"), expression.get("key"))
    return new


def _other_opts_ok(value: str) -> bool:
    """pkg/oss/utils.go parseOtherOpts: every word is -o, follows -o, or starts with -o."""
    words = value.split()
    index = 0
    while index < len(words):
        if words[index] == "-o" and index + 1 < len(words):
            index += 2
        elif words[index].startswith("-o") and words[index] != "-o":
            index += 1
        else:
            return False
    return True


def _disk_source(pv: dict, flex: dict, opts: dict, warn) -> tuple[dict, dict, dict]:
    options = flex.get("options") or {}
    disk_id = options.get("volumeId") or (
        pv["metadata"]["name"] if _name(pv).startswith("d-") else None
    )
    if not disk_id:
        raise _Skip("no volumeId in flexVolume.options and the PV is not named after a disk id")
    csi = {
        "driver": CSI_DRIVERS["disk"],
        "volumeHandle": disk_id,
        "fsType": flex.get("fsType") or options.get("fsType") or "ext4",
    }
    if flex.get("readOnly"):
        csi["readOnly"] = True
    labels = (pv.get("metadata") or {}).get("labels") or {}
    extra: dict = {}
    zone = _first(labels, LEGACY_ZONE_LABELS)
    region = _first(labels, LEGACY_REGION_LABELS) or opts["region"]
    topology = {}
    if zone:
        topology[ZONE_LABEL] = zone
        if not pv["spec"].get("nodeAffinity"):
            extra["nodeAffinity"] = {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": ZONE_LABEL, "operator": "In", "values": [zone]}
                            ]
                        }
                    ]
                }
            }
    elif not pv["spec"].get("nodeAffinity"):
        warn(
            f"volume {_name(pv)}",
            "no zone label: the CSI PV gets no zone affinity, a pod in another zone cannot attach the disk",
        )
    if region:
        topology[REGION_LABEL] = region
    return {"csi": csi, **extra}, {"disk_id": disk_id}, topology


def _nas_source(pv: dict, flex: dict) -> tuple[dict, dict, dict]:
    options = dict(flex.get("options") or {})
    server, path = options.get("server"), options.get("path")
    if server and ":" in server and not server.startswith("[") and not path:
        server, path = server.split(":", 1)
    if not server:
        raise _Skip("no server in flexVolume.options")
    path = path or "/"
    attributes = {"server": server, "path": path}
    vers = str(options.get("vers") or "3")
    attributes["vers"] = {"3.0": "3", "4": "4.0"}.get(vers, vers)
    if options.get("mode"):
        attributes["mode"] = str(options["mode"])
    source: dict = {
        "csi": {"driver": CSI_DRIVERS["nas"], "volumeHandle": None, "volumeAttributes": attributes}
    }
    if options.get("options"):
        source["mountOptions"] = [
            o.strip() for o in str(options["options"]).split(",") if o.strip()
        ]
    return source, {"server": server, "path": path}, {}


def _oss_source(pv: dict, flex: dict, namespace: str, opts: dict) -> tuple[dict, dict, dict | None]:
    options = flex.get("options") or {}
    bucket, url = options.get("bucket"), options.get("url")
    if not bucket or not url:
        raise _Skip("no bucket or url in flexVolume.options")
    if not BUCKET.match(bucket):
        raise _Skip(f"bucket name {bucket!r} is not one OSS accepts")
    host = url.removeprefix("http://").removeprefix("https://")
    if len(url.split(".")) >= 4 and host.startswith(bucket + "."):
        # pkg/oss/utils.go validateEndpoint refuses a bucket domain.
        raise _Skip(
            f"url {url!r} is the bucket's own domain, which the CSI driver refuses; use the endpoint"
        )
    attributes = {"bucket": bucket, "url": url, "path": str(options.get("path") or "/")}
    other = options.get("otherOpts")
    if other:
        if not _other_opts_ok(str(other)):
            raise _Skip("otherOpts has an option not preceded by -o, which the CSI driver refuses")
        attributes["otherOpts"] = " ".join(str(other).split())
    csi = {"driver": CSI_DRIVERS["oss"], "volumeHandle": None, "volumeAttributes": attributes}
    ak_id, ak_secret = options.get("akId"), options.get("akSecret")
    secret = None
    if ak_id and ak_secret:
        secret_name = _suffixed(_name(pv), "-oss-credentials")
        secret_namespace = opts["secret_namespace"] or namespace
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": secret_name,
                "namespace": secret_namespace,
                "labels": {MANAGED_BY_LABEL: MANAGED_BY},
                "annotations": {MIGRATED_FROM: _name(pv)},
            },
            "type": "Opaque",
            "data": {
                "akId": base64.b64encode(str(ak_id).encode()).decode("ascii"),
                "akSecret": base64.b64encode(str(ak_secret).encode()).decode("ascii"),
            },
        }
        csi["nodePublishSecretRef"] = {"name": secret_name, "namespace": secret_namespace}
    elif ak_id or ak_secret:
        raise _Skip("only one of akId/akSecret is set in flexVolume.options")
    elif (flex.get("secretRef") or {}).get("name"):
        ref = flex["secretRef"]
        csi["nodePublishSecretRef"] = {
            "name": ref["name"],
            "namespace": ref.get("namespace") or namespace,
        }
    elif opts["oss_secret"]:
        csi["nodePublishSecretRef"] = dict(opts["oss_secret"])
    else:
        raise _Skip(
            "the PV has no AccessKey of its own (the flexVolume plugin used its DaemonSet's); "
            "give options.oss_secret, a Secret with akId/akSecret, to migrate it"
        )
    return {"csi": csi}, {"bucket": bucket, "url": url, "path": attributes["path"]}, secret


class _Skip(Exception):
    """This PV cannot be migrated; the message says why (never a secret value)."""


def _as_read(obj: dict) -> dict:
    """The object as the API server returned it, without status and managedFields."""
    body = {key: copy.deepcopy(value) for key, value in obj.items() if key != "status"}
    body.setdefault("apiVersion", "v1")
    body.setdefault("kind", "PersistentVolumeClaim")
    body["metadata"] = {k: v for k, v in body.get("metadata", {}).items() if k != "managedFields"}
    return body


def _clean_pvc(pvc: dict) -> dict:
    meta = pvc.get("metadata") or {}
    spec = pvc.get("spec") or {}
    body = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace") or "default"},
        "spec": {
            "accessModes": list(spec.get("accessModes") or []),
            "resources": copy.deepcopy(spec.get("resources") or {}),
            "storageClassName": spec.get("storageClassName") or "",
        },
    }
    if meta.get("labels"):
        body["metadata"]["labels"] = dict(meta["labels"])
    if spec.get("volumeMode"):
        body["spec"]["volumeMode"] = spec["volumeMode"]
    if spec.get("volumeName"):
        body["spec"]["volumeName"] = spec["volumeName"]
    return body


def _step(pv: dict, kind: str, pvcs: dict, flex_classes: set, opts: dict, warn) -> dict:
    name = _name(pv)
    spec = pv.get("spec") or {}
    flex = spec["flexVolume"]
    claim_ref = spec.get("claimRef") or {}
    new_name = _suffixed(name, opts["pv_suffix"])
    # Only a bound PV moves: a second, unbound PV on the same disk, path or bucket
    # could be bound by any new claim and mounted twice.
    if not claim_ref.get("name"):
        raise _Skip("not bound to a claim; bind it or delete it before migrating")
    key = (claim_ref.get("namespace") or "default", claim_ref["name"])
    pvc = pvcs.get(key)
    if pvc is None:
        raise _Skip(f"its claim {key[0]}/{key[1]} no longer exists (the PV is Released)")
    bound_to = (pvc.get("spec") or {}).get("volumeName")
    if bound_to not in (None, "", name, new_name):
        raise _Skip(f"its claim {key[0]}/{key[1]} is bound to PV {bound_to}")
    # An earlier run already swapped the claim: the same objects, nothing left to do.
    state = "migrated" if bound_to == new_name else "pending"
    namespace = key[0]
    secret = None
    topology: dict = {}
    if kind == "disk":
        source, identity, topology = _disk_source(pv, flex, opts, warn)
    elif kind == "nas":
        source, identity, _topology = _nas_source(pv, flex)
    else:
        source, identity, secret = _oss_source(pv, flex, namespace, opts)
    source["csi"]["volumeHandle"] = source["csi"]["volumeHandle"] or new_name
    old_class = spec.get("storageClassName") or ""
    new_class = _class_name(old_class, opts) if old_class in flex_classes else old_class
    old_policy = spec.get("persistentVolumeReclaimPolicy") or "Retain"
    old_labels = {
        k: v
        for k, v in ((pv.get("metadata") or {}).get("labels") or {}).items()
        if k not in LEGACY_ZONE_LABELS + LEGACY_REGION_LABELS + (PV_NAME_LABEL,)
    }
    new_pv_spec: dict = {
        "capacity": copy.deepcopy(spec.get("capacity") or {}),
        "accessModes": list(spec.get("accessModes") or []),
        # Retain while migrating: deleting the new PVC on a rollback must never delete the data.
        "persistentVolumeReclaimPolicy": "Retain",
        **source,
    }
    if spec.get("mountOptions") and "mountOptions" not in new_pv_spec:
        new_pv_spec["mountOptions"] = list(spec["mountOptions"])
    if spec.get("nodeAffinity"):
        new_pv_spec["nodeAffinity"] = _current_topology_keys(spec["nodeAffinity"])
    if new_class:
        new_pv_spec["storageClassName"] = new_class
    if spec.get("volumeMode"):
        new_pv_spec["volumeMode"] = spec["volumeMode"]
    meta = pvc["metadata"]
    old_pvc = _as_read(pvc)
    new_pv_spec["claimRef"] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "namespace": namespace,
        "name": meta["name"],
    }
    new_pvc = _clean_pvc(pvc)
    new_pvc["metadata"].setdefault("labels", {})[MANAGED_BY_LABEL] = MANAGED_BY
    new_pvc["metadata"]["annotations"] = {MIGRATED_FROM: name}
    new_pvc["spec"]["storageClassName"] = new_class
    new_pvc["spec"]["volumeName"] = new_name
    new_pvc["spec"].pop("selector", None)
    restore_pvc = _clean_pvc(pvc)
    restore_pvc["spec"]["volumeName"] = name
    restore_pvc["spec"]["storageClassName"] = old_class
    restore_pvc["metadata"].get("labels", {}).pop(MANAGED_BY_LABEL, None)
    if not restore_pvc["metadata"].get("labels"):
        restore_pvc["metadata"].pop("labels", None)
    if (pvc.get("spec") or {}).get("selector"):
        restore_pvc["spec"]["selector"] = copy.deepcopy(pvc["spec"]["selector"])
    rollback = {
        "pvc": restore_pvc,
        "pv_patch": {"spec": {"claimRef": {"uid": None, "resourceVersion": None}}},
        "delete": [
            {"kind": "PersistentVolumeClaim", "namespace": namespace, "name": meta["name"]},
            {"kind": "PersistentVolume", "name": new_name},
        ],
        "text": (
            f"delete PVC {namespace}/{meta['name']} and PV {new_name} (Retain: the data stays), "
            f"clear the claimRef uid of PV {name}, recreate PVC {namespace}/{meta['name']} "
            f"with volumeName {name}, set PV {name} back to {old_policy}, scale the workload up"
        ),
    }
    new_pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": new_name,
            "labels": {
                **old_labels,
                **topology,
                PV_NAME_LABEL: new_name,
                MANAGED_BY_LABEL: MANAGED_BY,
            },
            "annotations": {MIGRATED_FROM: name},
        },
        "spec": new_pv_spec,
    }
    return {
        "pv": name,
        "type": kind,
        "state": state,
        "source": identity,
        "old_pv": {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                field: value
                for field, value in (pv.get("metadata") or {}).items()
                if field in ("name", "uid", "resourceVersion")
            },
            "spec": {"persistentVolumeReclaimPolicy": old_policy},
        },
        "old_pvc": old_pvc,
        "old_reclaim_policy": old_policy,
        "final_reclaim_policy": old_policy,
        "retain_patch": {"spec": {"persistentVolumeReclaimPolicy": "Retain"}},
        "objects": [secret] if secret else [],
        "new_pv": new_pv,
        "new_pvc": new_pvc,
        "rollback": rollback,
    }


def plan_flex_migration(cluster: dict, options: dict | None = None) -> dict:
    """The flexVolume -> CSI plan for ``cluster`` (see the module docstring)."""
    if not isinstance(cluster, dict):
        raise StorageInputError(
            "must be a dict; allowed: a dict of object lists", obj="cluster", field="cluster"
        )
    opts = _options(options)
    pvs = _cluster_list(cluster, "persistent_volumes")
    pvcs = {
        ((c.get("metadata") or {}).get("namespace") or "default", _name(c)): c
        for c in _cluster_list(cluster, "persistent_volume_claims")
    }
    classes = _cluster_list(cluster, "storage_classes")
    warnings: list[str] = []

    def warn(obj: str, text: str) -> None:
        line = f"{obj}: {text}"
        if line not in warnings:
            warnings.append(line)

    flex_classes = {_name(sc) for sc in classes if sc.get("provisioner") in FLEX_TYPES}
    new_classes = []
    for sc in sorted(classes, key=_name):
        new = _migrate_class(sc, opts, warn)
        if new is not None:
            new_classes.append(new)
    wanted = set(opts["volumes"]) if opts["volumes"] else None
    steps, skipped = [], []
    flex_names = set()
    for pv in sorted(pvs, key=_name):
        flex = (pv.get("spec") or {}).get("flexVolume")
        name = _name(pv)
        if not flex:
            continue
        flex_names.add(name)
        if wanted is not None and name not in wanted:
            continue
        kind = FLEX_TYPES.get(flex.get("driver"))
        if kind is None:
            skipped.append(
                {
                    "pv": name,
                    "reason": f"flexVolume driver {flex.get('driver')!r} is not an Alibaba Cloud one",
                }
            )
            continue
        try:
            steps.append(_step(pv, kind, pvcs, flex_classes, opts, warn))
        except _Skip as why:
            skipped.append({"pv": name, "reason": str(why)})
    for name in sorted((wanted or set()) - flex_names):
        skipped.append({"pv": name, "reason": "no flexVolume PV of that name in the cluster"})
    for entry in skipped:
        warn(f"volume {entry['pv']}", f"not migrated: {entry['reason']}")
    return {
        "volumes": steps,
        "storage_classes": new_classes,
        "warnings": warnings,
        "skipped": skipped,
    }
