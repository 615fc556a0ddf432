# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``build_plan``: storage descriptions in, validated Kubernetes objects out.

The input keys are documented in ``storage/__init__.py``. Everything is
checked before any object is returned; the first problem raises
``StorageInputError`` naming the object, the key path and what is allowed.
"""

from __future__ import annotations

import base64

from ansible_collections.ackops.runbooks.plugins.module_utils.storage import (
    disk,
    nas,
    oss,
    workloads,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.model import (
    ACCESS_MODES,
    DRIVERS,
    REGION,
    VOLUME_MODES,
    VOLUME_TYPES,
    ClassSpec,
    Context,
    SecretRef,
    access_modes,
    claim_spec,
    metadata,
    volume_row,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    PLAN_OBJECT,
    Item,
    StorageInputError,
    one_of,
)

TOP_KEYS = (
    "region",
    "zones",
    "driver",
    "storage_classes",
    "existing_storage_classes",
    "volumes",
    "claims",
    "statefulsets",
    "secrets",
)
SECRET_KEYS = ("name", "namespace", "access_key_id", "access_key_secret", "existing", "labels")
SECRET_VALUE_KEYS = ("access_key_id", "access_key_secret")
# pkg/oss/utils.go parseCredentialsFromSecret: the keys the OSS driver reads first.
SECRET_DATA_KEYS = {"access_key_id": "akId", "access_key_secret": "akSecret"}
EXISTING_CLASS_KEYS = ("name", "type", "category", "performance_level")
CLAIM_KEYS = ("name", "namespace", "storage_class", "size", "access_modes", "volume_mode", "labels")
DEFAULT_NAMESPACE = "default"

CLASS_BUILDERS = {"disk": disk.disk_class, "nas": nas.nas_class, "oss": oss.oss_class}
CLASS_KEYS_BY_TYPE = {
    "disk": disk.DISK_CLASS_KEYS,
    "nas": nas.NAS_CLASS_KEYS,
    "oss": oss.OSS_CLASS_KEYS,
}
VOLUME_BUILDERS = {"disk": disk.disk_volume, "nas": nas.nas_volume, "oss": oss.oss_volume}
VOLUME_KEYS_BY_TYPE = {
    "disk": disk.DISK_VOLUME_KEYS,
    "nas": nas.NAS_VOLUME_KEYS,
    "oss": oss.OSS_VOLUME_KEYS,
}


def _raw_name(raw, fallback: str) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) and name else fallback


def _raw_namespace(raw) -> str:
    namespace = raw.get("namespace") if isinstance(raw, dict) else None
    return namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE


def _type(raw, path: str, obj: str, default: str | None = None) -> str:
    value = raw.get("type", default) if isinstance(raw, dict) else None
    if value not in VOLUME_TYPES:
        cause = "is required" if value is None else f"{value!r} is not a storage type"
        raise StorageInputError(
            f"{cause}; allowed: {one_of(VOLUME_TYPES)}",
            obj=obj,
            field=f"{path}.type",
            allowed=list(VOLUME_TYPES),
        )
    return value


def _namespace(item: Item) -> str:
    return item.name("namespace", required=False) or DEFAULT_NAMESPACE


def _context(params: dict) -> Context:
    if not isinstance(params, dict):
        raise StorageInputError(
            f"must be a dict; allowed: a dict with keys among {one_of(TOP_KEYS)}",
            obj=PLAN_OBJECT,
            field="params",
        )
    # Only the storage keys are read: the module's connection options may travel in the same dict.
    top = Item({k: v for k, v in params.items() if k in TOP_KEYS}, "", PLAN_OBJECT, TOP_KEYS)
    region = top.text(
        "region",
        required=True,
        pattern=REGION,
        what="an Alibaba Cloud region id such as cn-hangzhou",
    )
    zones = top.strings("zones", required=True)
    ctx = Context(region=region, zones=list(dict.fromkeys(zones)), driver="csi")
    for index, zone in enumerate(zones):
        ctx.check_zone_in_region(top, f"zones[{index}]", zone)
    ctx.driver = top.text("driver", default="csi", choices=DRIVERS)
    return ctx


def _secrets(raws: list, ctx: Context) -> list[dict]:
    objects = []
    for index, raw in enumerate(raws):
        obj = f"secret {_raw_name(raw, f'#{index}')}"
        item = Item(raw, f"secrets[{index}]", obj, SECRET_KEYS, secret_keys=SECRET_VALUE_KEYS)
        name = item.name(subdomain=True)
        namespace = _namespace(item)
        if name in ctx.secrets:
            item.fail("name", f"secret {name!r} is declared twice; allowed: unique names")
        existing = item.flag("existing", default=False)
        labels = item.mapping("labels", labels=True)
        values = {
            key: item.text(key, required=not existing, what="an AccessKey value")
            for key in SECRET_VALUE_KEYS
        }
        if existing and any(values.values()):
            key = next(k for k in SECRET_VALUE_KEYS if values[k])
            item.fail(
                key,
                "an existing Secret is not written: give its values or existing: true, not both; allowed: no value with existing: true",
            )
        ctx.secrets[name] = SecretRef(name, namespace)
        if existing:
            continue
        data = {
            SECRET_DATA_KEYS[key]: base64.b64encode(values[key].encode()).decode("ascii")
            for key in SECRET_VALUE_KEYS
        }
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": metadata(name, namespace, labels),
                "type": "Opaque",
                "data": data,
            }
        )
    return objects


def _classes(raws: list, ctx: Context) -> dict[str, ClassSpec]:
    classes: dict[str, ClassSpec] = {}
    defaults = []
    for index, raw in enumerate(raws):
        path = f"storage_classes[{index}]"
        obj = f"storage class {_raw_name(raw, f'#{index}')}"
        oss.refuse_inline_keys(raw, path, obj)
        kind = _type(raw, path, obj, default="disk")
        item = Item(raw, path, obj, CLASS_KEYS_BY_TYPE[kind], secret_keys=oss.SECRET_NAME_KEYS)
        spec = CLASS_BUILDERS[kind](item, ctx)
        if spec.name in classes:
            item.fail(
                "name", f"storage class {spec.name!r} is declared twice; allowed: unique names"
            )
        if item.flag("default", default=False):
            defaults.append(spec.name)
        classes[spec.name] = spec
    if len(defaults) > 1:
        ctx.warn(
            PLAN_OBJECT,
            f"several default storage classes ({one_of(defaults)}): Kubernetes picks the newest",
        )
    return classes


def _existing_classes(raws: list, ctx: Context, classes: dict[str, ClassSpec]) -> None:
    """Classes already in the cluster that claims may name; nothing is written for them."""
    for index, raw in enumerate(raws):
        path = f"existing_storage_classes[{index}]"
        obj = f"storage class {_raw_name(raw, f'#{index}')}"
        kind = _type(raw, path, obj, default="disk")
        item = Item(raw, path, obj, EXISTING_CLASS_KEYS)
        name = item.name(subdomain=True)
        if name in classes:
            item.fail(
                "name",
                f"storage class {name!r} is also in storage_classes; allowed: one of the two",
            )
        if kind == "disk":
            classes[name] = disk.existing_disk_class(item, ctx, name)
            continue
        for key in ("category", "performance_level"):
            if item.has(key):
                item.fail(key, "applies to disk classes only; allowed: type disk")
        modes = ACCESS_MODES if kind == "nas" else oss.ACCESS
        classes[name] = ClassSpec(
            name, kind, None, ["ReadWriteMany"], tuple(modes), oss=kind == "oss"
        )


class _Names:
    """PV names (cluster-wide) and PVC names (per namespace) must be unique across the plan."""

    def __init__(self):
        self.pvs: dict[str, str] = {}
        self.pvcs: dict[tuple[str, str], str] = {}

    def pv(self, item: Item, key: str, name: str) -> None:
        if name in self.pvs:
            item.fail(
                key,
                f"PersistentVolume {name!r} is also made by {self.pvs[name]}; allowed: unique PV names",
            )
        self.pvs[name] = item.obj

    def pvc(self, item: Item, key: str, namespace: str, name: str) -> None:
        if (namespace, name) in self.pvcs:
            item.fail(
                key,
                f"PersistentVolumeClaim {namespace}/{name} is also made by {self.pvcs[namespace, name]}; "
                "allowed: unique claim names per namespace",
            )
        self.pvcs[namespace, name] = item.obj


def _volumes(
    raws: list, ctx: Context, names: _Names, claims_index: dict
) -> tuple[list, list, list]:
    pvs, pvcs, rows = [], [], []
    for index, raw in enumerate(raws):
        path = f"volumes[{index}]"
        obj = f"volume {_raw_name(raw, f'#{index}')}"
        oss.refuse_inline_keys(raw, path, obj)
        kind = _type(raw, path, obj)
        item = Item(raw, path, obj, VOLUME_KEYS_BY_TYPE[kind], secret_keys=oss.SECRET_NAME_KEYS)
        name = item.name()
        namespace = _namespace(item)
        pv, pvc, _extra = VOLUME_BUILDERS[kind](item, ctx, name, namespace)
        names.pv(item, "name", pv["metadata"]["name"])
        names.pvc(item, "name", namespace, name)
        claims_index[namespace, name] = (kind, item.obj)
        pvs.append(pv)
        pvcs.append(pvc)
        spec = pvc["spec"]
        size = spec["resources"]["requests"]["storage"]
        rows.append(
            volume_row(
                name, namespace, kind, True, "", size, spec["accessModes"], pv["metadata"]["name"]
            )
        )
    return pvs, pvcs, rows


def class_claim(
    item: Item, ctx: Context, classes: dict[str, ClassSpec], *, class_key: str = "storage_class"
) -> tuple[ClassSpec, object, list[str], str | None]:
    """(class, size, access modes, volume mode) of a claim against a class of the plan."""
    class_name = item.name(class_key, subdomain=True)
    if class_name not in classes:
        known = one_of(sorted(classes)) or "none declared"
        item.fail(
            class_key,
            f"storage class {class_name!r} is not in storage_classes; allowed: {known}",
            allowed=sorted(classes),
        )
    spec = classes[class_name]
    size = item.size("size")
    if spec.check_size:
        for line in spec.check_size(
            size, lambda cause, allowed=None: item.fail("size", cause, allowed)
        ):
            ctx.warn(item.obj, line)
    modes = access_modes(
        item,
        "access_modes",
        spec.default_access_modes,
        spec.allowed_access_modes,
        f"what storage class {class_name} ({spec.type}) can serve",
    )
    volume_mode = item.text("volume_mode", choices=VOLUME_MODES)
    if volume_mode == "Block" and not spec.block:
        item.fail(
            "volume_mode",
            f"{spec.type} volumes are file systems; allowed: Filesystem",
            allowed=["Filesystem"],
        )
    if "ReadWriteMany" in modes and spec.type == "disk" and volume_mode != "Block":
        # pkg/disk/utils.go validateCapabilities: multi-node writing needs a block volume.
        item.fail(
            "access_modes",
            "a disk is written by several nodes only as a block volume (multiAttach); "
            "allowed: ReadWriteMany with volume_mode: Block",
        )
    return spec, size, modes, volume_mode


def claim_manifest(name, namespace, spec: ClassSpec, size, modes, volume_mode, labels) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(name, namespace, labels),
        "spec": claim_spec(size, modes, spec.name, volume_mode),
    }


def _claims(raws, ctx, classes, names: _Names, claims_index: dict) -> tuple[list, list]:
    pvcs, rows = [], []
    for index, raw in enumerate(raws):
        path = f"claims[{index}]"
        obj = f"claim {_raw_namespace(raw)}/{_raw_name(raw, f'#{index}')}"
        item = Item(raw, path, obj, CLAIM_KEYS)
        name = item.name()
        namespace = _namespace(item)
        spec, size, modes, volume_mode = class_claim(item, ctx, classes)
        labels = item.mapping("labels", labels=True)
        names.pvc(item, "name", namespace, name)
        claims_index[namespace, name] = (spec.type, item.obj)
        pvcs.append(claim_manifest(name, namespace, spec, size, modes, volume_mode, labels))
        rows.append(
            volume_row(name, namespace, spec.type, False, spec.name, size.quantity, modes, None)
        )
    return pvcs, rows


def build_plan(params: dict) -> dict:
    """Validate ``params`` and return ``{objects, warnings, volumes}`` (see the package docstring).

    Same input, same output: objects in apply order (Secrets, StorageClasses,
    PersistentVolumes, PersistentVolumeClaims, Services, StatefulSets), each
    kind in input order. No secret value appears outside the Secret objects.
    """
    ctx = _context(params)
    get = params.get
    lists = {}
    for key in (
        "secrets",
        "storage_classes",
        "existing_storage_classes",
        "volumes",
        "claims",
        "statefulsets",
    ):
        value = get(key)
        if value is None:
            value = []
        if not isinstance(value, (list, tuple)):
            raise StorageInputError(
                f"must be a list, got {type(value).__name__}; allowed: a list of dicts",
                obj=PLAN_OBJECT,
                field=key,
            )
        lists[key] = list(value)
    secrets = _secrets(lists["secrets"], ctx)
    classes = _classes(lists["storage_classes"], ctx)
    _existing_classes(lists["existing_storage_classes"], ctx, classes)
    names = _Names()
    claims_index: dict = {}
    pvs, static_pvcs, rows = _volumes(lists["volumes"], ctx, names, claims_index)
    dynamic_pvcs, claim_rows = _claims(lists["claims"], ctx, classes, names, claims_index)
    services, statefulsets, sts_rows = workloads.statefulsets(
        lists["statefulsets"], ctx, classes, names, claims_index, class_claim
    )
    for name, ref in ctx.secrets.items():
        if not ref.used:
            ctx.warn(f"secret {name}", "is not referenced by any OSS volume or class")
    objects = [
        *secrets,
        *(spec.manifest for spec in classes.values() if spec.manifest),
        *pvs,
        *static_pvcs,
        *dynamic_pvcs,
        *services,
        *statefulsets,
    ]
    return {
        "objects": objects,
        "warnings": list(ctx.warnings),
        "volumes": rows + claim_rows + sts_rows,
    }
