# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the disk, NAS and OSS renderers share: the plan context, a class, object metadata."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    Item,
    Size,
    StorageInputError,
    one_of,
)

# CSI driver names: pkg/disk/disk.go (DriverName), pkg/nas/nas.go, pkg/oss/oss.go (driverName).
CSI_DRIVERS = {
    "disk": "diskplugin.csi.alibabacloud.com",
    "nas": "nasplugin.csi.alibabacloud.com",
    "oss": "ossplugin.csi.alibabacloud.com",
}
FLEX_DRIVERS = {"disk": "alicloud/disk", "nas": "alicloud/nas", "oss": "alicloud/oss"}
DRIVERS = ("csi", "flexvolume")
VOLUME_TYPES = ("disk", "nas", "oss")

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
PV_NAME_LABEL = "alicloud-pvname"  # the guide's label; static PVCs select their PV by it
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "ackops.runbooks.provision_storage"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
# external-provisioner turns these StorageClass parameters into the CSI
# fsType and the node-publish secret of every volume it provisions.
CSI_FSTYPE = "csi.storage.k8s.io/fstype"
CSI_PUBLISH_SECRET_NAME = "csi.storage.k8s.io/node-publish-secret-name"
CSI_PUBLISH_SECRET_NAMESPACE = "csi.storage.k8s.io/node-publish-secret-namespace"

ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
VOLUME_MODES = ("Filesystem", "Block")

REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+$")
# A zone id is its region's id and one short suffix: cn-hangzhou-h,
# ap-southeast-1a, cn-shanghai-finance-1z.
_ZONE_SUFFIX = re.compile(r"^-?[a-z][a-z0-9]?$")


def zone_in_region(zone: str, region: str) -> bool:
    return zone.startswith(region) and bool(_ZONE_SUFFIX.match(zone[len(region) :]))


@dataclass
class Context:
    """The cluster facts every item is checked against, and the warnings collected."""

    region: str
    zones: list[str]
    driver: str
    secrets: dict = field(default_factory=dict)  # name -> SecretRef
    warnings: list[str] = field(default_factory=list)

    @property
    def flex(self) -> bool:
        return self.driver == "flexvolume"

    def warn(self, obj: str, text: str) -> None:
        line = f"{obj}: {text}"
        if line not in self.warnings:
            self.warnings.append(line)

    def zone(self, item: Item, key: str, *, required: bool = True) -> str | None:
        """A zone of the cluster (hence of its region): where a disk can attach."""
        zone = item.text(
            key, required=required, what=f"a zone of the cluster: {one_of(self.zones)}"
        )
        if zone is None:
            return None
        self.check_zone(item, key, zone)
        return zone

    def check_zone_in_region(self, item: Item, key: str, zone: str) -> None:
        if not zone_in_region(zone, self.region):
            item.fail(
                key,
                f"zone {zone!r} is not in region {self.region}; allowed: zones of {self.region} "
                f"({self.region}-<letter>, e.g. {self.region}-a)",
            )

    def check_zone(self, item: Item, key: str, zone: str) -> None:
        """A zone of the cluster: in its region, and one where it has nodes."""
        if zone not in self.zones:
            where = (
                "has no nodes of this cluster"
                if zone_in_region(zone, self.region)
                else f"is not in region {self.region}"
            )
            item.fail(
                key,
                f"zone {zone!r} {where}; allowed: the cluster's zones {one_of(self.zones)}",
                allowed=list(self.zones),
            )

    def secret_ref(self, item: Item, key: str) -> SecretRef:
        name = item.name(key, subdomain=True)
        if name not in self.secrets:
            known = one_of(sorted(self.secrets)) or "none declared"
            item.fail(
                key,
                # The value is not echoed: it may be a key pasted where its Secret's name belongs.
                f"is not the name of a secrets item; allowed: {known}",
                allowed=sorted(self.secrets),
            )
        ref = self.secrets[name]  # a declared name: safe to show from here on
        ref.used = True
        return ref


@dataclass
class SecretRef:
    name: str
    namespace: str
    used: bool = False

    def reference(self) -> dict:
        return {"name": self.name, "namespace": self.namespace}


@dataclass
class ClassSpec:
    """A StorageClass of the plan, with what the claims against it must respect."""

    name: str
    type: str  # disk | nas | oss
    manifest: dict | None  # None: the class is already in the cluster
    default_access_modes: list[str]
    allowed_access_modes: tuple[str, ...]
    block: bool = False  # volumeMode Block allowed
    # check_size(size, fail) -> list of warnings; fail(cause, allowed) raises
    check_size: Callable[[Size, Callable], list[str]] | None = None
    oss: bool = False


def metadata(name: str, namespace: str | None = None, labels: dict | None = None) -> dict:
    meta: dict = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = {**(labels or {}), MANAGED_BY_LABEL: MANAGED_BY}
    return meta


def access_modes(
    item: Item, key: str, default: list[str], allowed: tuple[str, ...], why: str
) -> list[str]:
    modes = item.strings(key, default=default)
    if not modes:
        item.fail(key, f"must not be empty; allowed: {one_of(allowed)}", allowed=list(allowed))
    for index, mode in enumerate(modes):
        if mode not in allowed:
            raise StorageInputError(
                f"{mode!r} is not allowed here ({why}); allowed: {one_of(allowed)}",
                obj=item.obj,
                field=f"{item.field(key)}[{index}]",
                allowed=list(allowed),
            )
    return list(dict.fromkeys(modes))


def reclaim_policy(item: Item, default: str, *, only: str | None = None, why: str = "") -> str:
    policy = item.text("reclaim_policy", default=default, choices=RECLAIM_POLICIES)
    if only is not None and policy != only:
        item.fail("reclaim_policy", f"must be {only} ({why}); allowed: {only}", allowed=[only])
    return policy


def claim_spec(
    size: Size,
    modes: list[str],
    class_name: str,
    volume_mode: str | None = None,
    pv_name: str | None = None,
) -> dict:
    """A PVC spec; with ``pv_name``, bound to that PV by the guide's ``alicloud-pvname`` selector."""
    spec: dict = {
        "accessModes": modes,
        "resources": {"requests": {"storage": size.quantity}},
        "storageClassName": class_name,
    }
    if pv_name:
        spec["selector"] = {"matchLabels": {PV_NAME_LABEL: pv_name}}
    if volume_mode:
        spec["volumeMode"] = volume_mode
    return spec


def static_pvc(
    name: str, namespace: str, pv_name: str, size: Size, modes: list[str], labels: dict
) -> dict:
    """The PVC of a static PV: no class, bound by selector."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(name, namespace, labels),
        # "" rather than unset: unset would let the default class provision a new volume.
        "spec": claim_spec(size, modes, "", pv_name=pv_name),
    }


def volume_row(
    name: str,
    namespace: str,
    kind: str,
    static: bool,
    class_name: str,
    size: str,
    modes: list[str],
    pv: str | None,
) -> dict:
    """One row of the plan's ``volumes`` summary (``pvc`` is the claim's name)."""
    return {
        "name": name,
        "namespace": namespace,
        "type": kind,
        "kind": "static" if static else "dynamic",
        "class": class_name,
        "size": size,
        "access_modes": list(modes),
        "pv": pv,
        "pvc": name,
    }


def pv_manifest(
    pv_name: str, size: Size, modes: list[str], policy: str, labels: dict, source: dict
) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": metadata(pv_name, None, {**labels, PV_NAME_LABEL: pv_name}),
        "spec": {
            "capacity": {"storage": size.quantity},
            "accessModes": modes,
            "persistentVolumeReclaimPolicy": policy,
            **source,
        },
    }


def storage_class_manifest(
    name: str,
    provisioner: str,
    parameters: dict,
    *,
    reclaim: str,
    binding: str,
    expansion: bool,
    default: bool,
    labels: dict,
    mount_options: list[str] | None = None,
    zones: list[str] | None = None,
) -> dict:
    meta = metadata(name, None, labels)
    if default:
        meta["annotations"] = {DEFAULT_CLASS_ANNOTATION: "true"}
    manifest = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": meta,
        "provisioner": provisioner,
        "parameters": dict(parameters),
        "reclaimPolicy": reclaim,
        "volumeBindingMode": binding,
        "allowVolumeExpansion": expansion,
    }
    if mount_options:
        manifest["mountOptions"] = list(mount_options)
    if zones:
        manifest["allowedTopologies"] = [
            {"matchLabelExpressions": [{"key": ZONE_LABEL, "values": list(zones)}]}
        ]
    return manifest


# Keys every storage_classes item accepts, whatever its type.
CLASS_KEYS = (
    "name",
    "type",
    "reclaim_policy",
    "volume_binding_mode",
    "allow_volume_expansion",
    "default",
    "labels",
    "mount_options",
)


@dataclass
class ClassCommon:
    name: str
    reclaim: str
    binding: str
    expansion: bool
    default: bool
    labels: dict
    mount_options: list[str]
    zones: list[str] = field(default_factory=list)


def class_common(
    item: Item,
    ctx: Context,
    *,
    zonal: bool,
    reclaim_only: str | None = None,
    reclaim_why: str = "",
    expansion_default: bool = False,
) -> ClassCommon:
    """The keys every class has; ``zonal`` classes also read ``zones`` and pick the binding mode.

    Several zones need WaitForFirstConsumer: the volume must be created in
    the zone of the node the scheduler picks, or the pod can never attach it.
    """
    zones: list[str] = []
    if zonal:
        zones = item.strings("zones", default=ctx.zones)
        if not zones:
            item.fail("zones", f"must not be empty; allowed: {one_of(ctx.zones)}")
        for index, zone in enumerate(zones):
            ctx.check_zone(item, f"zones[{index}]", zone)
        zones = list(dict.fromkeys(zones))
    binding_default = "WaitForFirstConsumer" if len(zones) > 1 else "Immediate"
    binding = item.text("volume_binding_mode", default=binding_default, choices=BINDING_MODES)
    if len(zones) > 1 and binding != "WaitForFirstConsumer":
        item.fail(
            "volume_binding_mode",
            f"must be WaitForFirstConsumer for a class spanning several zones ({one_of(zones)}): "
            "Immediate creates the volume before the pod has a node, possibly in another zone; "
            "allowed: WaitForFirstConsumer",
            allowed=["WaitForFirstConsumer"],
        )
    return ClassCommon(
        name=item.name(subdomain=True),
        reclaim=reclaim_policy(item, reclaim_only or "Delete", only=reclaim_only, why=reclaim_why),
        binding=binding,
        expansion=item.flag("allow_volume_expansion", default=expansion_default),
        default=item.flag("default", default=False),
        labels=item.mapping("labels", labels=True),
        mount_options=item.strings("mount_options"),
        zones=zones,
    )
