# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud disks: dynamic StorageClasses and static PV/PVC pairs.

The accepted values are those kubernetes-sigs/alibaba-cloud-csi-driver
parses; each rule names the driver file it comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.model import (
    CLASS_KEYS,
    CSI_DRIVERS,
    CSI_FSTYPE,
    FLEX_DRIVERS,
    REGION_LABEL,
    ZONE_LABEL,
    ClassSpec,
    Context,
    access_modes,
    class_common,
    pv_manifest,
    reclaim_policy,
    static_pvc,
    storage_class_manifest,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    Item,
    Size,
    one_of,
)


@dataclass(frozen=True)
class Category:
    """pkg/disk/category.go AllCategories: size range in GiB (0 = no limit known) and features."""

    min_gib: int = 0
    max_gib: int = 0
    performance_levels: dict = field(default_factory=dict)  # PL -> (min, max)
    provisioned_iops: bool = False
    bursting: bool = False
    single_instance: bool = False  # elastic ephemeral disks: one instance, WaitForFirstConsumer
    regional: bool = False  # no zone: the disk is region-wide
    note: str = ""


# pkg/disk/category.go (AllCategories, PERFORMANCE_LEVEL0..3).
CATEGORIES = {
    "cloud": Category(note="basic disk, a legacy category most regions no longer sell"),
    "cloud_efficiency": Category(20, 65536),
    "cloud_ssd": Category(20, 65536),
    "cloud_essd": Category(
        20,
        65536,
        performance_levels={
            "PL0": (1, 65536),
            "PL1": (20, 65536),
            "PL2": (461, 65536),
            "PL3": (1261, 65536),
        },
    ),
    "cloud_essd_xc0": Category(40, 65536, note="financial cloud only"),
    "cloud_essd_xc1": Category(40, 65536, note="financial cloud only"),
    "cloud_auto": Category(1, 65536, provisioned_iops=True, bursting=True),
    "cloud_essd_entry": Category(10, 65536),
    "cloud_regional_disk_auto": Category(10, 65536, regional=True),
    "elastic_ephemeral_disk_standard": Category(64, 8192, single_instance=True),
    "elastic_ephemeral_disk_premium": Category(64, 8192, single_instance=True),
    "cloud_pperf": Category(note="private cloud only"),
    "cloud_sperf": Category(note="private cloud only"),
}
# pkg/disk/constants.go DiskHighAvail; pkg/disk/utils.go validateDiskType
# expands it (or a missing type) to cloud_ssd then cloud_efficiency.
AVAILABLE = "available"
AVAILABLE_EXPANDS_TO = ("cloud_ssd", "cloud_efficiency")
# The categories the legacy flexVolume provisioner alicloud/disk knows (the guide).
FLEX_CATEGORIES = ("cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", AVAILABLE)
# pkg/disk/utils.go SupportedFilesystemTypes.
FS_TYPES = ("ext4", "ext3", "xfs", "ntfs")
# pkg/disk/constants.go MinimumDiskSizeInGB: what volumeSizeAutoAvailable raises a request to.
AUTO_AVAILABLE_MIN_GIB = 20
# pkg/disk/constants.go SNAPSHOT_MIN/MAX_RETENTION_DAYS.
RETENTION_DAYS = (1, 65536)
# ECS disk ids: d- and the id (tags and ids are lower case alphanumerics).
DISK_ID = re.compile(r"^d-[a-z0-9]{8,40}$")
# Alibaba Cloud tag keys: at most 128 characters, not starting with aliyun/acs:/http(s)://.
TAG_RESERVED_PREFIXES = ("aliyun", "acs:", "http://", "https://")

DISK_CLASS_KEYS = (
    *CLASS_KEYS,
    "zones",
    "category",
    "performance_level",
    "provisioned_iops",
    "bursting_enabled",
    "fs_type",
    "encrypted",
    "kms_key_id",
    "resource_group_id",
    "tags",
    "volume_size_auto_available",
    "multi_attach",
    "read_only",
    "delete_snapshot_retention_days",
)
DISK_VOLUME_KEYS = (
    "name",
    "namespace",
    "type",
    "size",
    "disk_id",
    "zone",
    "category",
    "performance_level",
    "fs_type",
    "access_modes",
    "reclaim_policy",
    "labels",
)
# pkg/disk/utils.go validateCapabilities: several nodes need multiAttach.
SINGLE_NODE_MODES = ("ReadWriteOnce", "ReadWriteOncePod")
ALL_DISK_MODES = ("ReadWriteOnce", "ReadWriteOncePod", "ReadOnlyMany", "ReadWriteMany")


def _categories(item: Item, ctx: Context) -> tuple[list[str], list[str]]:
    """(as written for the ``type`` parameter, as the driver tries them)."""
    allowed = FLEX_CATEGORIES if ctx.flex else (*CATEGORIES, AVAILABLE)
    written = item.strings("category", required=True)
    for index, name in enumerate(written):
        if name not in allowed:
            why = " (the flexVolume provisioner alicloud/disk)" if ctx.flex else ""
            item.fail(
                f"category[{index}]" if isinstance(item.raw["category"], list) else "category",
                f"unknown disk category {name!r}{why}; allowed: {one_of(allowed)}",
                allowed=list(allowed),
            )
    if AVAILABLE in written and len(written) > 1:
        item.fail(
            "category",
            f"{AVAILABLE!r} already means {' then '.join(AVAILABLE_EXPANDS_TO)}; "
            "allowed: 'available' alone, or a list of categories without it",
        )
    tried = list(AVAILABLE_EXPANDS_TO) if written == [AVAILABLE] else written
    return list(dict.fromkeys(written)), list(dict.fromkeys(tried))


def _performance_levels(item: Item, tried: list[str]) -> list[str]:
    # pkg/disk/utils.go validateDiskPerformanceLevel accepts PL0..PL3, comma
    # separated; pkg/disk/cloud.go generateCreateAttempts applies them only to
    # categories that have levels (cloud_essd) and silently drops them for the
    # others, so a level with no such category is refused here.
    levels = item.strings("performance_level")
    all_levels = tuple(CATEGORIES["cloud_essd"].performance_levels)
    for index, level in enumerate(levels):
        if level not in all_levels:
            item.fail(
                f"performance_level[{index}]"
                if isinstance(item.raw["performance_level"], list)
                else "performance_level",
                f"{level!r} is not a performance level; allowed: {one_of(all_levels)}",
                allowed=list(all_levels),
            )
    with_levels = [c for c in tried if CATEGORIES[c].performance_levels] if levels else []
    if levels and not with_levels:
        item.fail(
            "performance_level",
            f"performance level {','.join(levels)} does not apply to category "
            f"{','.join(tried)}; allowed: only with category cloud_essd",
            allowed=["cloud_essd"],
        )
    return list(dict.fromkeys(levels))


def _tags(item: Item) -> dict[str, str]:
    tags = item.mapping("tags")
    for key, value in tags.items():
        bad_key = len(key) > 128 or key.lower().startswith(TAG_RESERVED_PREFIXES) or ":" in key
        if bad_key or len(value) > 128:
            item.fail(
                f"tags.{key}",
                "is not a valid disk tag; allowed: keys and values of at most 128 characters, "
                "keys without ':' and not starting with aliyun, acs:, http:// or https://",
            )
    return tags


def attempts(tried: list[str], levels: list[str]) -> list[tuple[str, str | None]]:
    """pkg/disk/cloud.go generateCreateAttempts: what the driver tries, in order."""
    result = []
    for name in tried:
        category = CATEGORIES.get(name, Category())
        if category.performance_levels and levels:
            result += [(name, level) for level in levels if level in category.performance_levels]
        else:
            result.append((name, None))
    return result


def size_range(name: str, level: str | None) -> tuple[int, int]:
    """pkg/disk/category.go GetSizeRange: the level's range if it has one, else the category's."""
    category = CATEGORIES.get(name, Category())
    if level and level in category.performance_levels:
        return category.performance_levels[level]
    return category.min_gib, category.max_gib


def _label(name: str, level: str | None) -> str:
    return f"{name} {level}" if level else name


def size_checker(tried: list[str], levels: list[str], auto_available: bool):
    """Check a claim's size against every attempt the driver would make.

    pkg/disk/cloud.go skips an attempt whose minimum is above the request; it
    fails only when every attempt is skipped. A size that fits some attempts
    is accepted with a warning naming the ones that will be skipped.
    """
    plan = attempts(tried, levels)

    def check(size: Size, fail) -> list[str]:
        gib = size.gib
        warnings = []
        if auto_available and gib < AUTO_AVAILABLE_MIN_GIB:
            # pkg/disk/utils.go getDiskVolumeOptions: volumeSizeAutoAvailable.
            warnings.append(
                f"size {size.quantity} is raised to {AUTO_AVAILABLE_MIN_GIB}Gi by "
                "volume_size_auto_available"
            )
            gib = AUTO_AVAILABLE_MIN_GIB
        fitting, skipped = [], []
        for name, level in plan:
            low, high = size_range(name, level)
            ok = (not low or gib >= low) and (not high or gib <= high)
            (fitting if ok else skipped).append((name, level, low, high))
        ranges = "; ".join(
            f"{_label(n, lv)}: {lo}..{hi} GiB" if lo else f"{_label(n, lv)}: no limit"
            for n, lv, lo, hi in fitting + skipped
        )
        if not fitting:
            below = all(gib < lo for _name, _level, lo, _high in skipped)
            why = "below the minimum" if below else "outside the size range"
            fail(
                f"size {size.quantity} ({gib} GiB) is {why} of the class's disk category; allowed: {ranges}"
            )
        for name, level, low, high in skipped:
            warnings.append(
                f"size {size.quantity} is outside {_label(name, level)} ({low}..{high} GiB): "
                "the driver skips that category"
            )
        return warnings

    return check


def disk_class(item: Item, ctx: Context) -> ClassSpec:
    written, tried = _categories(item, ctx)
    regional_only = all(CATEGORIES.get(c, Category()).regional for c in tried)
    common = class_common(item, ctx, zonal=not regional_only, expansion_default=True)
    obj = item.obj
    levels = _performance_levels(item, tried)
    fs_type = item.text("fs_type", default="ext4", choices=FS_TYPES)
    encrypted = item.flag("encrypted", default=False)
    kms_key_id = item.text("kms_key_id")
    if kms_key_id and not encrypted:
        item.fail(
            "kms_key_id",
            "needs encrypted: true (the key encrypts the disk); allowed: set encrypted: true",
        )
    iops = item.integer("provisioned_iops", minimum=0)
    bursting = item.flag("bursting_enabled", default=None)
    for key, value, feature in (
        ("provisioned_iops", iops, "provisioned_iops"),
        ("bursting_enabled", bursting, "bursting"),
    ):
        # pkg/disk/cloud.go buildCreateDiskRequest drops both for categories without them.
        supporting = [c for c in CATEGORIES if getattr(CATEGORIES[c], feature)]
        if value is not None and not any(
            getattr(CATEGORIES.get(c, Category()), feature) for c in tried
        ):
            item.fail(
                key,
                f"does not apply to category {','.join(tried)}; allowed: only with category {one_of(supporting)}",
                allowed=supporting,
            )
    if (
        any(CATEGORIES.get(c, Category()).single_instance for c in tried)
        and common.binding != "WaitForFirstConsumer"
    ):
        # pkg/disk/cloud.go: elastic ephemeral disks need the selected instance.
        item.fail(
            "volume_binding_mode",
            "elastic ephemeral disks attach to the one instance they are created for, which only "
            "WaitForFirstConsumer knows; allowed: WaitForFirstConsumer",
            allowed=["WaitForFirstConsumer"],
        )
    retention = item.integer(
        "delete_snapshot_retention_days", minimum=RETENTION_DAYS[0], maximum=RETENTION_DAYS[1]
    )
    multi_attach = item.flag("multi_attach", default=False)
    auto_available = item.flag("volume_size_auto_available", default=False)
    tags = _tags(item)
    resource_group = item.text("resource_group_id")
    read_only = item.flag("read_only", default=False)

    for name in tried:
        if CATEGORIES.get(name, Category()).note:
            ctx.warn(obj, f"category {name}: {CATEGORIES[name].note}")
    if written == [AVAILABLE] and len(common.zones) > 1:
        ctx.warn(
            obj,
            "the guide keeps 'available' for single-zone clusters; this class spans several zones",
        )

    if ctx.flex:
        # The legacy provisioner alicloud/disk (the guide): type, regionid,
        # zoneid, fstype, readonly, encrypted; nothing else is parsed.
        for key in (
            "performance_level",
            "provisioned_iops",
            "bursting_enabled",
            "kms_key_id",
            "tags",
            "resource_group_id",
            "volume_size_auto_available",
            "multi_attach",
            "delete_snapshot_retention_days",
        ):
            if item.has(key):
                item.fail(
                    key,
                    "is not parsed by the flexVolume provisioner alicloud/disk; allowed: "
                    "category, zones, fs_type, read_only, encrypted (or driver csi)",
                )
        parameters = {"type": ",".join(written), "regionid": ctx.region}
        if common.zones:
            parameters["zoneid"] = ",".join(common.zones)
        parameters["fstype"] = fs_type
        if read_only:
            parameters["readonly"] = "true"
        if encrypted:
            parameters["encrypted"] = "true"
        provisioner = FLEX_DRIVERS["disk"]
    else:
        # Parameter names: pkg/disk/constants.go (type, performanceLevel,
        # provisionedIops, burstingEnabled, diskTags/, zoneId) and
        # pkg/disk/utils.go getDiskVolumeOptions (regionId, encrypted,
        # kmsKeyId, resourceGroupId, multiAttach, readOnly,
        # volumeSizeAutoAvailable, volumeDeleteSnapshotRetentionDays).
        parameters = {"type": ",".join(written), "regionId": ctx.region}
        if common.zones:
            parameters["zoneId"] = ",".join(common.zones)
        parameters[CSI_FSTYPE] = fs_type
        if levels:
            parameters["performanceLevel"] = ",".join(levels)
        if iops is not None:
            parameters["provisionedIops"] = str(iops)
        if bursting is not None:
            parameters["burstingEnabled"] = "true" if bursting else "false"
        if encrypted:
            parameters["encrypted"] = "true"
        if kms_key_id:
            parameters["kmsKeyId"] = kms_key_id
        if resource_group:
            parameters["resourceGroupId"] = resource_group
        for key, value in tags.items():
            parameters[f"diskTags/{key}"] = value
        if auto_available:
            parameters["volumeSizeAutoAvailable"] = "true"
        if multi_attach:
            parameters["multiAttach"] = "true"
        if read_only:
            parameters["readOnly"] = "true"
        if retention is not None:
            parameters["volumeDeleteSnapshotRetentionDays"] = str(retention)
        provisioner = CSI_DRIVERS["disk"]

    manifest = storage_class_manifest(
        common.name,
        provisioner,
        parameters,
        reclaim=common.reclaim,
        binding=common.binding,
        expansion=common.expansion,
        default=common.default,
        labels=common.labels,
        mount_options=common.mount_options,
        zones=common.zones,
    )
    allowed = ALL_DISK_MODES if multi_attach else SINGLE_NODE_MODES
    return ClassSpec(
        name=common.name,
        type="disk",
        manifest=manifest,
        default_access_modes=["ReadWriteOnce"],
        allowed_access_modes=allowed,
        block=True,
        check_size=size_checker(tried, levels, auto_available),
    )


def existing_disk_class(item: Item, ctx: Context, name: str) -> ClassSpec:
    """A disk class already in the cluster (ACK's alicloud-disk-*): not written, claims checked.

    With ``category`` (and ``performance_level``) the claims' sizes are checked as for
    a class of the plan; without, only the access modes are.
    """
    check_size = None
    if item.has("category"):
        _written, tried = _categories(item, ctx)
        levels = _performance_levels(item, tried)
        check_size = size_checker(tried, levels, False)
    elif item.has("performance_level"):
        item.fail("performance_level", "needs category; allowed: set category too")
    return ClassSpec(
        name=name,
        type="disk",
        manifest=None,
        default_access_modes=["ReadWriteOnce"],
        allowed_access_modes=SINGLE_NODE_MODES,
        block=True,
        check_size=check_size,
    )


def disk_volume(item: Item, ctx: Context, name: str, namespace: str) -> tuple[dict, dict, dict]:
    """A static disk: (PV named after the disk id, PVC bound by selector, summary row)."""
    disk_id = item.text(
        "disk_id",
        required=True,
        pattern=DISK_ID,
        what="an ECS disk id: d- and 8 to 40 lowercase letters or digits",
    )
    zone = ctx.zone(item, "zone")
    size = item.size("size")
    category = item.text("category", choices=tuple(CATEGORIES))
    levels = item.strings("performance_level")
    if category:
        levels = _performance_levels(item, [category])
        check = size_checker([category], levels, False)
        for line in check(size, lambda cause, allowed=None: item.fail("size", cause, allowed)):
            ctx.warn(item.obj, line)
    elif levels:
        item.fail(
            "performance_level",
            "needs category: the level applies to cloud_essd only; allowed: set category: cloud_essd",
        )
    fs_type = item.text("fs_type", default="ext4", choices=FS_TYPES)
    modes = access_modes(
        item,
        "access_modes",
        ["ReadWriteOnce"],
        SINGLE_NODE_MODES,
        "a static disk attaches to one node",
    )
    policy = reclaim_policy(item, "Retain")
    labels = item.mapping("labels", labels=True)
    pv_labels = {**labels, ZONE_LABEL: zone, REGION_LABEL: ctx.region}
    if ctx.flex:
        source = {
            "flexVolume": {
                "driver": FLEX_DRIVERS["disk"],
                "fsType": fs_type,
                "options": {"volumeId": disk_id},
            }
        }
    else:
        attributes = {}
        if category:
            attributes["type"] = category
        if levels:
            attributes["performanceLevel"] = levels[0]
        csi = {"driver": CSI_DRIVERS["disk"], "volumeHandle": disk_id, "fsType": fs_type}
        if attributes:
            csi["volumeAttributes"] = attributes
        source = {"csi": csi}
    # A disk attaches only in its own zone: pods using it must land there.
    source["nodeAffinity"] = {
        "required": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": ZONE_LABEL, "operator": "In", "values": [zone]}]}
            ]
        }
    }
    pv = pv_manifest(disk_id, size, modes, policy, pv_labels, source)
    pvc = static_pvc(name, namespace, disk_id, size, modes, labels)
    row = {"zone": zone, "disk_id": disk_id}
    return pv, pvc, row
