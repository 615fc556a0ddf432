"""build_plan: every volume kind, class type and mode rendered, schema-valid, deterministic, no leaks."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.disk import CATEGORIES
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    StorageInputError,
)
from tests.unit.manifests import assert_valid_manifests

SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "storage" / "spec.yaml"
REGION = "cn-hangzhou"
ZONES = ["cn-hangzhou-h", "cn-hangzhou-i"]
MANAGED = {"app.kubernetes.io/managed-by": "ackops.runbooks.provision_storage"}
SENTINELS = ("SENTINEL-AK-ID-7f3a", "SENTINEL-AK-SECRET-91c2")


def spec() -> dict:
    return yaml.safe_load(SPEC.read_text())


def plan_of(**items) -> dict:
    return build_plan({"region": REGION, "zones": ZONES, **items})


def find(objects, kind, name, namespace=None):
    matches = [
        o
        for o in objects
        if o["kind"] == kind
        and o["metadata"]["name"] == name
        and o["metadata"].get("namespace") == namespace
    ]
    assert len(matches) == 1, f"{kind} {namespace}/{name}: {len(matches)} found"
    return matches[0]


# Built for each test (a few milliseconds): mutmut credits what a fixture runs to the
# test that first sets it up, so a module-scoped plan would hide every other test from it.
@pytest.fixture
def full_plan():
    return build_plan(spec())


def test_every_object_of_the_full_spec_validates_against_kubernetes_1_37(full_plan):
    assert_valid_manifests(full_plan["objects"])
    kinds = [o["kind"] for o in full_plan["objects"]]
    order = [
        "Secret",
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Service",
        "StatefulSet",
    ]
    assert kinds == sorted(kinds, key=order.index), "objects must come in apply order"
    assert kinds.count("StorageClass") == 7
    assert kinds.count("PersistentVolume") == 3
    # 3 static + 3 dynamic claims; StatefulSet templates are made by the controller.
    assert kinds.count("PersistentVolumeClaim") == 6


def test_same_input_gives_the_same_objects_byte_for_byte():
    first = json.dumps(build_plan(spec()), sort_keys=False)
    second = json.dumps(build_plan(spec()), sort_keys=False)
    assert first == second


def test_input_order_is_kept_within_a_kind(full_plan):
    classes = [o["metadata"]["name"] for o in full_plan["objects"] if o["kind"] == "StorageClass"]
    assert classes == [
        "essd-pl1",
        "auto-iops",
        "efficiency-then-ssd",
        "nas-subpath",
        "nas-share",
        "nas-fs",
        "oss-rrsa",
    ]


def test_static_disk_pv_is_named_after_the_disk_pinned_to_its_zone_and_bound_by_selector(full_plan):
    pv = find(full_plan["objects"], "PersistentVolume", "d-bp1j17ifxfasvts3tf40")
    assert pv == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": "d-bp1j17ifxfasvts3tf40",
            "labels": {
                "topology.kubernetes.io/zone": "cn-hangzhou-h",
                "topology.kubernetes.io/region": "cn-hangzhou",
                "alicloud-pvname": "d-bp1j17ifxfasvts3tf40",
                **MANAGED,
            },
        },
        "spec": {
            "capacity": {"storage": "40Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "csi": {
                "driver": "diskplugin.csi.alibabacloud.com",
                "volumeHandle": "d-bp1j17ifxfasvts3tf40",
                "fsType": "ext4",
                "volumeAttributes": {"type": "cloud_essd"},
            },
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "topology.kubernetes.io/zone",
                                    "operator": "In",
                                    "values": ["cn-hangzhou-h"],
                                }
                            ]
                        }
                    ]
                }
            },
        },
    }
    pvc = find(full_plan["objects"], "PersistentVolumeClaim", "mysql-data", "shop")
    assert pvc["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "40Gi"}},
        "storageClassName": "",
        "selector": {"matchLabels": {"alicloud-pvname": "d-bp1j17ifxfasvts3tf40"}},
    }


def test_essd_class_with_encryption_tags_and_two_zones(full_plan):
    sc = find(full_plan["objects"], "StorageClass", "essd-pl1")
    assert sc["provisioner"] == "diskplugin.csi.alibabacloud.com"
    assert sc["parameters"] == {
        "type": "cloud_essd",
        "regionId": "cn-hangzhou",
        "zoneId": "cn-hangzhou-h,cn-hangzhou-i",
        "csi.storage.k8s.io/fstype": "ext4",
        "performanceLevel": "PL1",
        "encrypted": "true",
        "kmsKeyId": "0e1f2a3b-kms",
        "diskTags/team": "shop",
    }
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["allowedTopologies"] == [
        {
            "matchLabelExpressions": [
                {"key": "topology.kubernetes.io/zone", "values": ["cn-hangzhou-h", "cn-hangzhou-i"]}
            ]
        }
    ]
    assert (sc["reclaimPolicy"], sc["allowVolumeExpansion"]) == ("Delete", True)


def test_cloud_auto_class_in_one_zone_binds_immediately(full_plan):
    sc = find(full_plan["objects"], "StorageClass", "auto-iops")
    assert sc["parameters"] == {
        "type": "cloud_auto",
        "regionId": "cn-hangzhou",
        "zoneId": "cn-hangzhou-i",
        "csi.storage.k8s.io/fstype": "ext4",
        "provisionedIops": "6000",
        "burstingEnabled": "true",
    }
    assert sc["volumeBindingMode"] == "Immediate"
    assert sc["allowedTopologies"][0]["matchLabelExpressions"][0]["values"] == ["cn-hangzhou-i"]


def test_a_list_of_categories_is_tried_in_order(full_plan):
    sc = find(full_plan["objects"], "StorageClass", "efficiency-then-ssd")
    assert sc["parameters"]["type"] == "cloud_efficiency,cloud_ssd"
    assert sc["reclaimPolicy"] == "Retain"


@pytest.mark.parametrize("category", [*CATEGORIES, "available"])
def test_every_disk_category_renders_a_valid_class(category):
    item = {"name": "c", "category": category}
    if category == "cloud_essd":
        item["performance_level"] = ["PL0", "PL1", "PL2", "PL3"]
    if category == "cloud_auto":
        item |= {"provisioned_iops": 3000, "bursting_enabled": False}
    plan = plan_of(storage_classes=[item])
    sc = plan["objects"][0]
    assert_valid_manifests([sc])
    assert sc["parameters"]["type"] == category
    if category == "cloud_regional_disk_auto":
        # Region-wide disks: no zone parameter, no topology.
        assert "zoneId" not in sc["parameters"]
        assert "allowedTopologies" not in sc
    else:
        assert sc["parameters"]["zoneId"] == "cn-hangzhou-h,cn-hangzhou-i"
    if category == "cloud_essd":
        assert sc["parameters"]["performanceLevel"] == "PL0,PL1,PL2,PL3"


def test_nas_static_pv_and_the_mode_warning(full_plan):
    pv = find(full_plan["objects"], "PersistentVolume", "uploads")
    assert pv["spec"] == {
        "capacity": {"storage": "20Gi"},
        "accessModes": ["ReadWriteMany"],
        "persistentVolumeReclaimPolicy": "Retain",
        "csi": {
            "driver": "nasplugin.csi.alibabacloud.com",
            "volumeHandle": "uploads",
            "volumeAttributes": {
                "server": "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com",
                "path": "/uploads",
                "vers": "4.0",
                "mode": "755",
            },
        },
    }
    assert any(w.startswith("volume uploads: mode") and "slow" in w for w in full_plan["warnings"])


def test_nas_dynamic_modes(full_plan):
    subpath = find(full_plan["objects"], "StorageClass", "nas-subpath")
    assert subpath["parameters"] == {
        "volumeAs": "subpath",
        "server": "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com:/k8s",
        "archiveOnDelete": "true",
    }
    assert subpath["mountOptions"] == ["vers=3"]
    share = find(full_plan["objects"], "StorageClass", "nas-share")
    assert share["parameters"] == {
        "volumeAs": "sharepath",
        "server": "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com:/shared",
    }
    assert (share["reclaimPolicy"], share["mountOptions"]) == ("Retain", ["vers=4.0"])
    fs = find(full_plan["objects"], "StorageClass", "nas-fs")
    assert fs["parameters"] == {
        "volumeAs": "filesystem",
        "fileSystemType": "extreme",
        "storageType": "advance",
        "protocolType": "NFS",
        "zoneId": "cn-hangzhou-h",
        "vpcId": "vpc-bp1example",
        "vSwitchId": "vsw-bp1example",
    }
    # NAS mounts from every zone of the VPC: the zone only says where the file system lives.
    assert "allowedTopologies" not in fs


def test_oss_static_pv_references_the_secret_and_the_secret_holds_the_keys(full_plan):
    pv = find(full_plan["objects"], "PersistentVolume", "videos")
    assert pv["spec"]["accessModes"] == ["ReadOnlyMany"]
    assert pv["spec"]["csi"] == {
        "driver": "ossplugin.csi.alibabacloud.com",
        "volumeHandle": "videos",
        "volumeAttributes": {
            "bucket": "media-videos",
            "url": "https://oss-cn-hangzhou-internal.aliyuncs.com",
            "path": "/",
            "otherOpts": "-o max_stat_cache_size=0 -o allow_other",
        },
        "nodePublishSecretRef": {"name": "oss-keys", "namespace": "media"},
    }
    secret = find(full_plan["objects"], "Secret", "oss-keys", "media")
    assert secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["akId"]).decode() == SENTINELS[0]
    assert base64.b64decode(secret["data"]["akSecret"]).decode() == SENTINELS[1]
    # existing: true is only a reference, never written.
    assert not [o for o in full_plan["objects"] if o["metadata"]["name"] == "shared-oss-keys"]


def test_oss_rrsa_class(full_plan):
    sc = find(full_plan["objects"], "StorageClass", "oss-rrsa")
    assert sc["parameters"] == {
        "bucket": "shop-assets",
        "url": "oss-cn-hangzhou-internal.aliyuncs.com",
        "path": "/",
        "authType": "rrsa",
        "roleName": "shop-oss-reader",
        "volumeAs": "subpath",
    }
    assert sc["reclaimPolicy"] == "Retain"


def test_oss_class_with_secret_uses_the_node_publish_secret_parameters():
    plan = plan_of(
        secrets=[{"name": "k", "namespace": "kube-system", "existing": True}],
        storage_classes=[
            {
                "name": "o",
                "type": "oss",
                "bucket": "b-1",
                "url": "oss-cn-hangzhou.aliyuncs.com",
                "secret": "k",
            }
        ],
    )
    params = plan["objects"][0]["parameters"]
    assert params["csi.storage.k8s.io/node-publish-secret-name"] == "k"
    assert params["csi.storage.k8s.io/node-publish-secret-namespace"] == "kube-system"


def test_statefulset_headless_service_templates_and_oss_probe(full_plan):
    svc = find(full_plan["objects"], "Service", "web", "media")
    assert svc["spec"] == {
        "clusterIP": "None",
        "selector": {"app": "web"},
        "ports": [{"name": "tcp-80", "port": 80, "targetPort": 80, "protocol": "TCP"}],
    }
    sts = find(full_plan["objects"], "StatefulSet", "web", "media")
    spec = sts["spec"]
    assert spec["serviceName"] == "web"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert spec["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "www"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "essd-pl1",
                "resources": {"requests": {"storage": "20Gi"}},
            },
        }
    ]
    container = spec["template"]["spec"]["containers"][0]
    assert container["volumeMounts"] == [
        {"name": "www", "mountPath": "/usr/share/nginx/html"},
        {"name": "claim-videos", "mountPath": "/data", "readOnly": True},
    ]
    assert container["livenessProbe"]["exec"]["command"] == ["sh", "-c", "cd /data"]
    assert spec["template"]["spec"]["volumes"] == [
        {"name": "claim-videos", "persistentVolumeClaim": {"claimName": "videos"}}
    ]


def test_summary_rows_cover_static_dynamic_and_every_ordinal(full_plan):
    rows = {(r["namespace"], r["pvc"]): r for r in full_plan["volumes"]}
    assert rows["shop", "mysql-data"] == {
        "name": "mysql-data",
        "namespace": "shop",
        "type": "disk",
        "kind": "static",
        "class": "",
        "size": "40Gi",
        "access_modes": ["ReadWriteOnce"],
        "pv": "d-bp1j17ifxfasvts3tf40",
        "pvc": "mysql-data",
    }
    assert rows["shop", "orders"]["kind"] == "dynamic"
    assert rows["shop", "orders"]["pv"] is None
    assert [rows["media", f"www-web-{i}"]["class"] for i in range(3)] == ["essd-pl1"] * 3
    assert len(rows) == 3 + 3 + 3


def test_no_secret_value_outside_the_secret_objects(full_plan):
    encoded = [base64.b64encode(s.encode()).decode() for s in SENTINELS]
    outside = [o for o in full_plan["objects"] if o["kind"] != "Secret"]
    text = json.dumps([outside, full_plan["warnings"], full_plan["volumes"]]) + repr(outside)
    for needle in (*SENTINELS, *encoded):
        assert needle not in text


def test_refusals_never_echo_a_secret_value():
    bad = spec()
    bad["secrets"][0]["name"] = "Not_A_Name"
    with pytest.raises(StorageInputError) as info:
        build_plan(bad)
    assert "secrets[0].name" in str(info.value)
    bad = spec()
    bad["secrets"][0]["access_key_secret"] = ["SENTINEL-AK-SECRET-91c2"]
    with pytest.raises(StorageInputError) as info:
        build_plan(bad)
    for needle in SENTINELS:
        assert needle not in str(info.value)
        assert needle not in repr(info.value.as_error())
    bad = spec()
    bad["volumes"][2]["akSecret"] = SENTINELS[1]
    with pytest.raises(StorageInputError) as info:
        build_plan(bad)
    assert info.value.field == "volumes[2].akSecret"
    assert SENTINELS[1] not in str(info.value)


def test_multi_category_claim_warns_about_skipped_levels():
    plan = plan_of(
        storage_classes=[
            {"name": "e", "category": "cloud_essd", "performance_level": ["PL2", "PL1"]}
        ],
        claims=[{"name": "c", "storage_class": "e", "size": "100Gi"}],
    )
    assert any("claim default/c" in w and "cloud_essd PL2" in w for w in plan["warnings"])


def test_volume_size_auto_available_raises_small_requests():
    plan = plan_of(
        storage_classes=[
            {"name": "s", "category": "cloud_ssd", "volume_size_auto_available": True}
        ],
        claims=[{"name": "c", "storage_class": "s", "size": "5Gi"}],
    )
    assert plan["objects"][0]["parameters"]["volumeSizeAutoAvailable"] == "true"
    assert any("raised to 20Gi" in w for w in plan["warnings"])


def test_flexvolume_forms_only_when_the_cluster_uses_flexvolume():
    plan = build_plan(
        {
            "region": REGION,
            "zones": ["cn-hangzhou-h"],
            "driver": "flexvolume",
            "storage_classes": [{"name": "alicloud-disk-ssd", "category": "cloud_ssd"}],
            "volumes": [
                {
                    "name": "d",
                    "type": "disk",
                    "disk_id": "d-bp1j17ifxfasvts3tf40",
                    "zone": "cn-hangzhou-h",
                    "size": 20,
                },
                {
                    "name": "n",
                    "type": "nas",
                    "server": "nas.example.com",
                    "path": "/k",
                    "vers": 3,
                    "mode": "755",
                },
                {
                    "name": "o",
                    "type": "oss",
                    "bucket": "bkt",
                    "url": "oss-cn-hangzhou.aliyuncs.com",
                    "other_opts": "-o allow_other",
                },
            ],
        }
    )
    assert_valid_manifests(plan["objects"])
    sc = find(plan["objects"], "StorageClass", "alicloud-disk-ssd")
    assert sc["provisioner"] == "alicloud/disk"
    assert sc["parameters"] == {
        "type": "cloud_ssd",
        "regionid": "cn-hangzhou",
        "zoneid": "cn-hangzhou-h",
        "fstype": "ext4",
    }
    disk = find(plan["objects"], "PersistentVolume", "d-bp1j17ifxfasvts3tf40")
    assert disk["spec"]["flexVolume"] == {
        "driver": "alicloud/disk",
        "fsType": "ext4",
        "options": {"volumeId": "d-bp1j17ifxfasvts3tf40"},
    }
    nas = find(plan["objects"], "PersistentVolume", "n")
    assert nas["spec"]["flexVolume"] == {
        "driver": "alicloud/nas",
        "options": {"server": "nas.example.com", "path": "/k", "vers": "3", "mode": "755"},
    }
    oss = find(plan["objects"], "PersistentVolume", "o")
    assert oss["spec"]["flexVolume"] == {
        "driver": "alicloud/oss",
        "options": {
            "bucket": "bkt",
            "url": "oss-cn-hangzhou.aliyuncs.com",
            "otherOpts": "-o allow_other",
        },
    }
    assert not any("csi" in o.get("spec", {}) for o in plan["objects"])


def test_csi_is_the_default_driver():
    plan = plan_of(volumes=[{"name": "n", "type": "nas", "server": "nas.example.com"}])
    assert plan["objects"][0]["spec"]["csi"]["driver"] == "nasplugin.csi.alibabacloud.com"
    assert "flexVolume" not in plan["objects"][0]["spec"]


def test_connection_options_at_the_top_level_are_ignored():
    plan = build_plan({"region": REGION, "zones": ZONES, "kubeconfig": "/x", "check_mode": True})
    assert plan == {"objects": [], "warnings": [], "volumes": []}


def test_hundreds_of_pairs_in_one_plan_stay_valid_and_unique():
    volumes = [
        {"name": f"nas-{i}", "type": "nas", "server": "nas.example.com", "path": f"/v/{i}"}
        for i in range(500)
    ]
    plan = plan_of(volumes=copy.deepcopy(volumes))
    assert len(plan["objects"]) == 1000
    assert (
        len({o["metadata"]["name"] for o in plan["objects"] if o["kind"] == "PersistentVolume"})
        == 500
    )
    assert_valid_manifests(plan["objects"][:2] + plan["objects"][-2:])


def test_claims_may_name_classes_already_in_the_cluster():
    existing = [
        {"name": "alicloud-disk-essd", "category": "cloud_essd"},
        {"name": "alicloud-nas-subpath", "type": "nas"},
    ]
    plan = plan_of(
        existing_storage_classes=existing,
        claims=[
            {"name": "db", "storage_class": "alicloud-disk-essd", "size": "40Gi"},
            {"name": "files", "storage_class": "alicloud-nas-subpath", "size": "1Ti"},
        ],
    )
    assert [o["kind"] for o in plan["objects"]] == ["PersistentVolumeClaim"] * 2
    assert plan["objects"][0]["spec"]["storageClassName"] == "alicloud-disk-essd"
    assert plan["objects"][1]["spec"]["accessModes"] == ["ReadWriteMany"]
    with pytest.raises(StorageInputError) as info:
        plan_of(
            existing_storage_classes=existing,
            claims=[{"name": "db", "storage_class": "alicloud-disk-essd", "size": "10Gi"}],
        )
    assert info.value.field == "claims[0].size"
    assert "cloud_essd: 20..65536 GiB" in str(info.value)
