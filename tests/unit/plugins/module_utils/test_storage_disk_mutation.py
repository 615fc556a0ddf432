"""Cloud disk classes and volumes, written out whole (issue 18 kill tests for storage/disk.py).

Oracles: the ECS disk categories' size ranges (cloud_essd PL0 1-65536 GiB, PL1 20-,
PL2 461-, PL3 1261-; cloud_ssd/cloud_efficiency 20-65536; elastic ephemeral disks
64-8192), the parameter names of the Alibaba Cloud CSI disk driver (pkg/disk: type,
regionId, zoneId, performanceLevel, provisionedIops, burstingEnabled, encrypted,
kmsKeyId, resourceGroupId, diskTags/<key>, volumeSizeAutoAvailable, multiAttach,
readOnly, volumeDeleteSnapshotRetentionDays) and the flexVolume provisioner's (type,
regionid, zoneid, fstype, readonly, encrypted); ECS tag rules (128 characters, no
aliyun/acs:/http(s):// prefix). All typed out here.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from tests.unit.plugins.module_utils.test_storage_plan_mutation import MANAGED, of_kind, refused
from tests.unit.plugins.module_utils.test_storage_refusals import disk, plan

DRIVER = "diskplugin.csi.alibabacloud.com"
ZONE = "topology.kubernetes.io/zone"
DISK_ID = "d-bp1j17ifxfasvts3tf40"


def one_zone(**items):
    return {**plan(**items), "zones": ["cn-hangzhou-h"]}


def class_of(params):
    result = build_plan(params)
    return of_kind(result, "StorageClass")[0], result


def claim_on(cls: dict, size, **claim):
    return plan(
        storage_classes=[{"name": "d", **cls}],
        claims=[{"name": "c", "storage_class": "d", "size": size, **claim}],
    )


def test_a_csi_class_with_every_parameter():
    sc, result = class_of(
        one_zone(
            storage_classes=[
                {
                    "name": "d",
                    "category": "cloud_ssd",
                    "fs_type": "xfs",
                    "encrypted": True,
                    "kms_key_id": "key-1",
                    "resource_group_id": "rg-1",
                    "tags": {"team": "db", "env": "prod"},
                    "volume_size_auto_available": True,
                    "multi_attach": True,
                    "read_only": True,
                    "delete_snapshot_retention_days": 7,
                    "mount_options": ["nodiratime"],
                    "labels": {"tier": "db"},
                    "default": True,
                    "reclaim_policy": "Retain",
                    "allow_volume_expansion": False,
                }
            ]
        )
    )
    assert sc == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "d",
            "labels": {"tier": "db", **MANAGED},
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": DRIVER,
        "parameters": {
            "type": "cloud_ssd",
            "regionId": "cn-hangzhou",
            "zoneId": "cn-hangzhou-h",
            "csi.storage.k8s.io/fstype": "xfs",
            "encrypted": "true",
            "kmsKeyId": "key-1",
            "resourceGroupId": "rg-1",
            "diskTags/env": "prod",
            "diskTags/team": "db",
            "volumeSizeAutoAvailable": "true",
            "multiAttach": "true",
            "readOnly": "true",
            "volumeDeleteSnapshotRetentionDays": "7",
        },
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": False,
        "mountOptions": ["nodiratime"],
        "allowedTopologies": [
            {"matchLabelExpressions": [{"key": ZONE, "values": ["cn-hangzhou-h"]}]}
        ],
    }
    assert result["warnings"] == ["secret keys: is not referenced by any OSS volume or class"]


def test_a_csi_class_by_default():
    sc, _result = class_of(plan(storage_classes=[{"name": "d", "category": "cloud_essd"}]))
    assert sc["parameters"] == {
        "type": "cloud_essd",
        "regionId": "cn-hangzhou",
        "zoneId": "cn-hangzhou-h,cn-hangzhou-i",
        "csi.storage.k8s.io/fstype": "ext4",
    }
    assert (sc["reclaimPolicy"], sc["allowVolumeExpansion"], sc["volumeBindingMode"]) == (
        "Delete",
        True,
        "WaitForFirstConsumer",
    )
    assert "mountOptions" not in sc
    assert "annotations" not in sc["metadata"]


def test_bursting_off_and_zero_iops_are_written():
    sc, _result = class_of(
        plan(
            storage_classes=[
                {
                    "name": "d",
                    "category": "cloud_auto",
                    "bursting_enabled": "no",
                    "provisioned_iops": 0,
                }
            ]
        )
    )
    assert (sc["parameters"]["burstingEnabled"], sc["parameters"]["provisionedIops"]) == (
        "false",
        "0",
    )


def test_a_flexvolume_class_with_every_parameter_it_knows():
    sc, _result = class_of(
        {
            **one_zone(storage_classes=[{"name": "d", "category": ["cloud_ssd", "cloud"],
                                         "fs_type": "ext3", "read_only": True, "encrypted": "yes"}]),
            "driver": "flexvolume",
        }
    )  # fmt: skip
    assert (sc["provisioner"], sc["parameters"]) == (
        "alicloud/disk",
        {
            "type": "cloud_ssd,cloud",
            "regionid": "cn-hangzhou",
            "zoneid": "cn-hangzhou-h",
            "fstype": "ext3",
            "readonly": "true",
            "encrypted": "true",
        },
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("performance_level", "PL1"),
        ("provisioned_iops", 100),
        ("bursting_enabled", True),
        ("kms_key_id", "k"),
        ("tags", {"a": "b"}),
        ("resource_group_id", "rg"),
        ("volume_size_auto_available", True),
        ("multi_attach", True),
        ("delete_snapshot_retention_days", 3),
    ],
)
def test_a_flexvolume_class_refuses_what_its_provisioner_does_not_parse(key, value):
    raw = {"name": "d", "category": "cloud_essd", key: value}
    if key == "kms_key_id":
        raw["encrypted"] = True
    if key in ("provisioned_iops", "bursting_enabled"):
        raw["category"] = "cloud_essd"
    params = {**plan(storage_classes=[raw]), "driver": "flexvolume"}
    error = refused(params)
    if key in ("provisioned_iops", "bursting_enabled"):
        # Refused earlier, for the category: cloud_essd has neither.
        assert error.field == f"storage_classes[0].{key}"
        return
    assert (error.field, error.cause) == (
        f"storage_classes[0].{key}",
        "is not parsed by the flexVolume provisioner alicloud/disk; allowed: category, zones, "
        "fs_type, read_only, encrypted (or driver csi)",
    )


def test_flexvolume_categories_are_the_legacy_ones():
    error = refused(
        {**plan(storage_classes=[{"name": "d", "category": "cloud_auto"}]), "driver": "flexvolume"}
    )
    assert (error.field, error.cause) == (
        "storage_classes[0].category",
        "unknown disk category 'cloud_auto' (the flexVolume provisioner alicloud/disk); allowed: "
        "cloud, cloud_efficiency, cloud_ssd, cloud_essd, available",
    )
    assert error.details == {
        "allowed": ["cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", "available"]
    }


def test_an_unknown_category_in_a_list_names_its_index():
    error = refused(plan(storage_classes=[{"name": "d", "category": ["cloud_ssd", "ssd"]}]))
    assert error.field == "storage_classes[0].category[1]"
    assert error.cause.startswith("unknown disk category 'ssd'; allowed: cloud, cloud_efficiency")
    assert "available" in error.details["allowed"]


def test_available_alone_expands_and_never_with_others():
    error = refused(plan(storage_classes=[{"name": "d", "category": ["available", "cloud_ssd"]}]))
    assert (error.field, error.cause) == (
        "storage_classes[0].category",
        "'available' already means cloud_ssd then cloud_efficiency; allowed: 'available' alone, "
        "or a list of categories without it",
    )
    # Tried as cloud_ssd then cloud_efficiency: both start at 20 GiB.
    error = refused(claim_on({"category": "available"}, 10))
    assert error.cause == (
        "size 10Gi (10 GiB) is below the minimum of the class's disk category; allowed: "
        "cloud_ssd: 20..65536 GiB; cloud_efficiency: 20..65536 GiB"
    )
    sc, result = class_of(claim_on({"category": "available"}, 20))
    assert sc["parameters"]["type"] == "available"
    assert (
        "storage class d: the guide keeps 'available' for single-zone clusters; this class spans "
        "several zones" in result["warnings"]
    )
    _sc, result = class_of(one_zone(storage_classes=[{"name": "d", "category": "available"}]))
    assert not [w for w in result["warnings"] if "single-zone" in w]


def test_a_repeated_category_is_written_once():
    sc, _result = class_of(plan(storage_classes=[{"name": "d", "category": ["cloud_ssd"] * 2}]))
    assert sc["parameters"]["type"] == "cloud_ssd"


def test_performance_levels_apply_to_essd_only():
    error = refused(plan(storage_classes=[{"name": "d", "category": "cloud_ssd",
                                           "performance_level": "PL1"}]))  # fmt: skip
    assert (error.field, error.cause, error.details) == (
        "storage_classes[0].performance_level",
        "performance level PL1 does not apply to category cloud_ssd; allowed: only with "
        "category cloud_essd",
        {"allowed": ["cloud_essd"]},
    )
    error = refused(plan(storage_classes=[{"name": "d", "category": "cloud_essd",
                                           "performance_level": ["PL1", "PL4"]}]))  # fmt: skip
    assert (error.field, error.cause, error.details) == (
        "storage_classes[0].performance_level[1]",
        "'PL4' is not a performance level; allowed: PL0, PL1, PL2, PL3",
        {"allowed": ["PL0", "PL1", "PL2", "PL3"]},
    )
    error = refused(plan(storage_classes=[{"name": "d", "category": "cloud_essd",
                                           "performance_level": "PL9"}]))  # fmt: skip
    assert error.field == "storage_classes[0].performance_level"
    sc, _result = class_of(plan(storage_classes=[{"name": "d", "category": "cloud_essd",
                                                  "performance_level": ["PL2", "PL2"]}]))  # fmt: skip
    assert sc["parameters"]["performanceLevel"] == "PL2"


@pytest.mark.parametrize(
    ("key", "value", "supporting"),
    [("provisioned_iops", 3000, "cloud_auto"), ("bursting_enabled", False, "cloud_auto")],
)
def test_iops_and_bursting_need_cloud_auto(key, value, supporting):
    error = refused(plan(storage_classes=[{"name": "d", "category": "cloud_essd", key: value}]))
    assert (error.field, error.cause, error.details) == (
        f"storage_classes[0].{key}",
        f"does not apply to category cloud_essd; allowed: only with category {supporting}",
        {"allowed": [supporting]},
    )


def test_negative_iops_and_retention_out_of_range_are_refused():
    error = refused(plan(storage_classes=[{"name": "d", "category": "cloud_auto",
                                           "provisioned_iops": -1}]))  # fmt: skip
    assert error.field == "storage_classes[0].provisioned_iops"
    for days in (0, 65537):
        error = refused(plan(storage_classes=[{"name": "d", "category": "cloud_ssd",
                                               "delete_snapshot_retention_days": days}]))  # fmt: skip
        assert error.cause == f"{days} is out of range; allowed: a whole number from 1 to 65536"
    for days in (1, 65536):
        sc, _result = class_of(plan(storage_classes=[{"name": "d", "category": "cloud_ssd",
                                                      "delete_snapshot_retention_days": days}]))  # fmt: skip
        assert sc["parameters"]["volumeDeleteSnapshotRetentionDays"] == str(days)


def test_a_kms_key_needs_encryption():
    error = refused(
        plan(storage_classes=[{"name": "d", "category": "cloud_ssd", "kms_key_id": "k"}])
    )
    assert (error.field, error.cause) == (
        "storage_classes[0].kms_key_id",
        "needs encrypted: true (the key encrypts the disk); allowed: set encrypted: true",
    )


@pytest.mark.parametrize(
    "tags",
    [
        {"k" * 129: "v"},
        {"k": "v" * 129},
        {"aliyun-x": "v"},
        {"Aliyun": "v"},
        {"acs:x": "v"},
        {"http://x": "v"},
        {"https://x": "v"},
        {"a:b": "v"},
    ],
)
def test_disk_tags_follow_the_ecs_rules(tags):
    error = refused(plan(storage_classes=[{"name": "d", "category": "cloud_ssd", "tags": tags}]))
    (key,) = tags
    assert (error.field, error.cause) == (
        f"storage_classes[0].tags.{key}",
        "is not a valid disk tag; allowed: keys and values of at most 128 characters, keys "
        "without ':' and not starting with aliyun, acs:, http:// or https://",
    )


def test_the_longest_tags_are_accepted():
    sc, _result = class_of(plan(storage_classes=[{"name": "d", "category": "cloud_ssd",
                                                  "tags": {"k" * 128: "v" * 128}}]))  # fmt: skip
    assert sc["parameters"][f"diskTags/{'k' * 128}"] == "v" * 128


def test_elastic_ephemeral_disks_need_wait_for_first_consumer():
    error = refused(
        one_zone(storage_classes=[{"name": "d", "category": "elastic_ephemeral_disk_standard"}])
    )
    assert (error.field, error.details) == (
        "storage_classes[0].volume_binding_mode",
        {"allowed": ["WaitForFirstConsumer"]},
    )
    sc, _result = class_of(
        one_zone(storage_classes=[{"name": "d", "category": "elastic_ephemeral_disk_premium",
                                   "volume_binding_mode": "WaitForFirstConsumer"}])
    )  # fmt: skip
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"


def test_a_regional_disk_has_no_zone():
    sc, _result = class_of(
        plan(storage_classes=[{"name": "d", "category": "cloud_regional_disk_auto"}])
    )
    assert sc["parameters"] == {
        "type": "cloud_regional_disk_auto",
        "regionId": "cn-hangzhou",
        "csi.storage.k8s.io/fstype": "ext4",
    }
    assert sc["volumeBindingMode"] == "Immediate"
    # A list with a zonal category is zonal.
    sc, _result = class_of(
        plan(storage_classes=[{"name": "d", "category": ["cloud_regional_disk_auto", "cloud_ssd"]}])
    )
    assert sc["parameters"]["zoneId"] == "cn-hangzhou-h,cn-hangzhou-i"


def test_notes_of_rare_categories_become_warnings():
    _sc, result = class_of(plan(storage_classes=[{"name": "d", "category": "cloud_essd_xc0"}]))
    assert "storage class d: category cloud_essd_xc0: financial cloud only" in result["warnings"]


# --- sizes against what the driver tries ------------------------------------------------


def test_a_size_fitting_one_level_warns_about_the_skipped_ones():
    result = build_plan(
        claim_on({"category": "cloud_essd", "performance_level": ["PL2", "PL1"]}, 100)
    )
    assert (
        "claim default/c: size 100Gi is outside cloud_essd PL2 (461..65536 GiB): the driver "
        "skips that category" in result["warnings"]
    )
    assert not [w for w in result["warnings"] if "PL1 (" in w]


@pytest.mark.parametrize(
    ("size", "fits"),
    [(460, False), (461, True), (65536, True), (65537, False)],
)
def test_pl2_bounds(size, fits):
    params = claim_on({"category": "cloud_essd", "performance_level": "PL2"}, size)
    if fits:
        assert of_kind(build_plan(params), "PersistentVolumeClaim")
    else:
        why = "below the minimum" if size < 461 else "outside the size range"
        assert refused(params).cause == (
            f"size {size}Gi ({size} GiB) is {why} of the class's disk category; allowed: "
            "cloud_essd PL2: 461..65536 GiB"
        )


def test_a_category_without_known_limits_takes_any_size():
    params = claim_on({"category": "cloud"}, "1Ei")
    assert of_kind(build_plan(params), "PersistentVolumeClaim")


def test_sizes_outside_every_attempt_list_every_range():
    params = claim_on({"category": ["elastic_ephemeral_disk_standard", "cloud_ssd"],
                       "volume_binding_mode": "WaitForFirstConsumer"}, 70000)  # fmt: skip
    assert refused(params).cause == (
        "size 70000Gi (70000 GiB) is outside the size range of the class's disk category; "
        "allowed: elastic_ephemeral_disk_standard: 64..8192 GiB; cloud_ssd: 20..65536 GiB"
    )


def test_auto_available_raises_a_small_request_to_20_gib():
    result = build_plan(claim_on({"category": "cloud_ssd", "volume_size_auto_available": True}, 5))
    assert (
        "claim default/c: size 5Gi is raised to 20Gi by volume_size_auto_available"
        in result["warnings"]
    )
    result = build_plan(claim_on({"category": "cloud_ssd", "volume_size_auto_available": True}, 20))
    assert not [w for w in result["warnings"] if "raised" in w]
    assert refused(claim_on({"category": "cloud_ssd"}, 5)).field == "claims[0].size"


def test_claims_on_a_disk_class_are_single_node_unless_multi_attach():
    result = build_plan(claim_on({"category": "cloud_ssd"}, 20, access_modes=["ReadWriteOncePod"]))
    assert of_kind(result, "PersistentVolumeClaim")[0]["spec"]["accessModes"] == [
        "ReadWriteOncePod"
    ]
    error = refused(claim_on({"category": "cloud_ssd"}, 20, access_modes=["ReadOnlyMany"]))
    assert error.details == {"allowed": ["ReadWriteOnce", "ReadWriteOncePod"]}
    result = build_plan(claim_on({"category": "cloud_ssd", "multi_attach": True}, 20,
                                 access_modes=["ReadOnlyMany"]))  # fmt: skip
    assert of_kind(result, "PersistentVolumeClaim")[0]["spec"]["accessModes"] == ["ReadOnlyMany"]
    claim = of_kind(build_plan(claim_on({"category": "cloud_ssd"}, 20)), "PersistentVolumeClaim")[0]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_an_existing_disk_class_checks_sizes_only_with_its_category():
    existing = {"name": "alicloud-disk-essd", "category": "cloud_essd", "performance_level": "PL3"}
    params = plan(
        existing_storage_classes=[existing],
        claims=[{"name": "c", "storage_class": "alicloud-disk-essd", "size": 100}],
    )
    assert refused(params).cause.endswith("allowed: cloud_essd PL3: 1261..65536 GiB")
    params["existing_storage_classes"] = [{"name": "alicloud-disk-essd"}]
    claim = of_kind(build_plan(params), "PersistentVolumeClaim")[0]
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "100Gi"}},
        "storageClassName": "alicloud-disk-essd",
    }
    params["claims"][0]["access_modes"] = ["ReadWriteMany"]
    assert refused(params).field == "claims[0].access_modes[0]"
    params["claims"][0]["access_modes"] = ["ReadWriteOnce"]
    params["claims"][0]["volume_mode"] = "Block"
    assert of_kind(build_plan(params), "PersistentVolumeClaim")[0]["spec"]["volumeMode"] == "Block"
    params["existing_storage_classes"] = [
        {"name": "alicloud-disk-essd", "performance_level": "PL1"}
    ]
    error = refused(params)
    assert (error.field, error.cause) == (
        "existing_storage_classes[0].performance_level",
        "needs category; allowed: set category too",
    )


# --- static disks -------------------------------------------------------------------------


def test_a_static_disk_with_every_option():
    result = build_plan(
        plan(
            volumes=[
                disk(
                    namespace="db",
                    size="100Gi",
                    zone="cn-hangzhou-i",
                    category="cloud_essd",
                    performance_level="PL1",
                    fs_type="xfs",
                    access_modes=["ReadWriteOncePod"],
                    reclaim_policy="Delete",
                    labels={"app": "db"},
                )
            ]
        )
    )
    (pv,) = of_kind(result, "PersistentVolume")
    (pvc,) = of_kind(result, "PersistentVolumeClaim")
    assert pv == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": DISK_ID,
            "labels": {
                "app": "db",
                ZONE: "cn-hangzhou-i",
                "topology.kubernetes.io/region": "cn-hangzhou",
                "alicloud-pvname": DISK_ID,
                **MANAGED,
            },
        },
        "spec": {
            "capacity": {"storage": "100Gi"},
            "accessModes": ["ReadWriteOncePod"],
            "persistentVolumeReclaimPolicy": "Delete",
            "csi": {
                "driver": DRIVER,
                "volumeHandle": DISK_ID,
                "fsType": "xfs",
                "volumeAttributes": {"type": "cloud_essd", "performanceLevel": "PL1"},
            },
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": ZONE, "operator": "In",
                                               "values": ["cn-hangzhou-i"]}]}
                    ]
                }
            },
        },
    }  # fmt: skip
    assert pvc == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "db", "labels": {"app": "db", **MANAGED}},
        "spec": {
            "accessModes": ["ReadWriteOncePod"],
            "resources": {"requests": {"storage": "100Gi"}},
            "storageClassName": "",
            "selector": {"matchLabels": {"alicloud-pvname": DISK_ID}},
        },
    }
    assert result["volumes"][0]["pv"] == DISK_ID


def test_a_static_disk_by_default_has_no_attributes():
    (pv,) = of_kind(build_plan(plan(volumes=[disk()])), "PersistentVolume")
    assert pv["spec"]["csi"] == {"driver": DRIVER, "volumeHandle": DISK_ID, "fsType": "ext4"}
    assert pv["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"


def test_a_static_disk_on_flexvolume_keeps_its_zone_affinity():
    (pv,) = of_kind(
        build_plan({**plan(volumes=[disk(fs_type="xfs")]), "driver": "flexvolume"}),
        "PersistentVolume",
    )
    assert pv["spec"]["flexVolume"] == {
        "driver": "alicloud/disk",
        "fsType": "xfs",
        "options": {"volumeId": DISK_ID},
    }
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": ZONE, "operator": "In", "values": ["cn-hangzhou-h"]}
    ]


@pytest.mark.parametrize(
    ("extra", "field", "cause"),
    [
        (
            {"performance_level": "PL1"},
            "performance_level",
            "needs category: the level applies to cloud_essd only; allowed: set category: cloud_essd",
        ),
        ({"category": "cloud_ssd", "performance_level": "PL1"}, "performance_level", None),
        ({"category": "ssd"}, "category", None),
        (
            {"category": "cloud_essd", "size": 10},
            "size",
            "size 10Gi (10 GiB) is below the minimum of the class's disk category; allowed: "
            "cloud_essd: 20..65536 GiB",
        ),
        (
            {"access_modes": ["ReadWriteMany"]},
            "access_modes[0]",
            "'ReadWriteMany' is not allowed here (a static disk attaches to one node); allowed: "
            "ReadWriteOnce, ReadWriteOncePod",
        ),
        ({"fs_type": "btrfs"}, "fs_type", "'btrfs' is not allowed; allowed: ext4, ext3, xfs, ntfs"),
        (
            {"zone": None},
            "zone",
            "is required; allowed: a zone of the cluster: cn-hangzhou-h, cn-hangzhou-i",
        ),
        ({"size": None}, "size", None),
        ({"disk_id": None}, "disk_id", None),
        ({"disk_id": "d-short"}, "disk_id", None),
        ({"reclaim_policy": "Recycle"}, "reclaim_policy", None),
        ({"labels": {"a": "b c"}}, "labels.a", None),
    ],
)
def test_static_disk_refusals(extra, field, cause):
    error = refused(plan(volumes=[disk(**extra)]))
    assert (error.obj, error.field) == ("volume data", f"volumes[0].{field}")
    if cause:
        assert error.cause == cause


def test_a_static_disk_level_that_does_not_fit_its_size_is_refused_with_the_level():
    error = refused(plan(volumes=[disk(category="cloud_essd", performance_level="PL3", size=40)]))
    assert error.cause.endswith("allowed: cloud_essd PL3: 1261..65536 GiB")


def test_a_static_disk_of_a_rare_category_warns_nothing_but_fits_sizes():
    result = build_plan(plan(volumes=[disk(category="cloud_essd_entry", size=10)]))
    (pv,) = of_kind(result, "PersistentVolume")
    assert pv["spec"]["csi"]["volumeAttributes"] == {"type": "cloud_essd_entry"}


def test_a_disk_class_needs_a_category():
    error = refused(plan(storage_classes=[{"name": "d"}]))
    assert (error.field, error.cause) == (
        "storage_classes[0].category",
        "is required; allowed: a non-empty list of strings",
    )


def test_messages_list_every_level_and_category():
    two = {"category": ["cloud_ssd", "cloud_efficiency"]}
    error = refused(
        plan(storage_classes=[{"name": "d", **two, "performance_level": ["PL1", "PL2"]}])
    )
    assert error.cause == (
        "performance level PL1,PL2 does not apply to category cloud_ssd,cloud_efficiency; "
        "allowed: only with category cloud_essd"
    )
    error = refused(plan(storage_classes=[{"name": "d", **two, "provisioned_iops": 100}]))
    assert error.cause == (
        "does not apply to category cloud_ssd,cloud_efficiency; allowed: only with category "
        "cloud_auto"
    )


def test_every_category_is_tried_before_a_leveled_one():
    params = claim_on({"category": ["cloud_ssd", "cloud_essd"], "performance_level": "PL1"}, 10)
    assert refused(params).cause == (
        "size 10Gi (10 GiB) is below the minimum of the class's disk category; allowed: "
        "cloud_ssd: 20..65536 GiB; cloud_essd PL1: 20..65536 GiB"
    )


def test_elastic_ephemeral_refusal_word_for_word():
    error = refused(
        one_zone(storage_classes=[{"name": "d", "category": "elastic_ephemeral_disk_standard"}])
    )
    assert error.cause == (
        "elastic ephemeral disks attach to the one instance they are created for, which only "
        "WaitForFirstConsumer knows; allowed: WaitForFirstConsumer"
    )


def test_a_flexvolume_class_over_two_zones_lists_both():
    sc, _result = class_of(
        {**plan(storage_classes=[{"name": "d", "category": "cloud_ssd"}]), "driver": "flexvolume"}
    )
    assert sc["parameters"]["zoneid"] == "cn-hangzhou-h,cn-hangzhou-i"


def test_claims_on_an_existing_disk_class_are_disk_rows():
    params = plan(
        existing_storage_classes=[{"name": "alicloud-disk-ssd"}],
        claims=[{"name": "c", "storage_class": "alicloud-disk-ssd", "size": 20}],
    )
    assert build_plan(params)["volumes"][0]["type"] == "disk"
    params["claims"][0]["access_modes"] = ["ReadOnlyMany"]
    assert "(what storage class alicloud-disk-ssd (disk) can serve)" in refused(params).cause


def test_a_static_disk_with_two_levels_warns_about_the_one_it_does_not_fit():
    result = build_plan(
        plan(volumes=[disk(category="cloud_essd", performance_level=["PL2", "PL1"], size=100)])
    )
    assert (
        "volume data: size 100Gi is outside cloud_essd PL2 (461..65536 GiB): the driver skips "
        "that category" in result["warnings"]
    )
