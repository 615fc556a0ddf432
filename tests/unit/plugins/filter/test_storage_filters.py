"""storage_objects and storage_class_params: results, option overrides, AnsibleFilterError text."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.filter.storage_class_params import (
    storage_class_params,
)
from ansible_collections.ackops.runbooks.plugins.filter.storage_objects import storage_objects
from tests.unit.manifests import assert_valid_manifests

ZONES = ["cn-hangzhou-h", "cn-hangzhou-i"]
DESCRIPTION = {
    "storage_classes": [{"name": "essd", "category": "cloud_essd", "performance_level": "PL1"}],
    "volumes": [
        {
            "name": "data",
            "type": "disk",
            "disk_id": "d-bp1j17ifxfasvts3tf40",
            "zone": "cn-hangzhou-h",
            "size": "40Gi",
        }
    ],
}


def test_storage_objects_returns_the_objects_in_apply_order():
    objects = storage_objects(DESCRIPTION, region="cn-hangzhou", zones=ZONES)
    assert [o["kind"] for o in objects] == [
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
    ]
    assert_valid_manifests(objects)


def test_storage_objects_plan_result_and_driver_override():
    plan = storage_objects(
        {
            **DESCRIPTION,
            "storage_classes": [{"name": "alicloud-disk-ssd", "category": "cloud_ssd"}],
        },
        region="cn-hangzhou",
        zones=ZONES,
        driver="flexvolume",
        result="plan",
    )
    assert set(plan) == {"objects", "warnings", "volumes"}
    assert plan["objects"][0]["provisioner"] == "alicloud/disk"
    assert plan["volumes"][0]["pv"] == "d-bp1j17ifxfasvts3tf40"


def test_storage_objects_error_names_object_field_and_allowed():
    with pytest.raises(AnsibleFilterError) as info:
        storage_objects({**DESCRIPTION, "region": "cn-beijing", "zones": ZONES})
    assert str(info.value).startswith("storage_objects: storage plan: zones[0]: ")
    assert "allowed" in str(info.value)


def test_storage_objects_rejects_unknown_filter_options():
    with pytest.raises(AnsibleFilterError, match="unsupported option"):
        storage_objects(DESCRIPTION, region="cn-hangzhou", zones=ZONES, flavour="x")


def test_storage_class_params():
    params = storage_class_params(
        {
            "name": "auto",
            "category": "cloud_auto",
            "provisioned_iops": 6000,
            "bursting_enabled": True,
        },
        region="cn-hangzhou",
        zones=["cn-hangzhou-h"],
    )
    assert params == {
        "type": "cloud_auto",
        "regionId": "cn-hangzhou",
        "zoneId": "cn-hangzhou-h",
        "csi.storage.k8s.io/fstype": "ext4",
        "provisionedIops": "6000",
        "burstingEnabled": "true",
    }


def test_storage_class_params_for_oss_names_only_the_secret():
    params = storage_class_params(
        {
            "name": "o",
            "type": "oss",
            "bucket": "b-1",
            "url": "oss-cn-hangzhou.aliyuncs.com",
            "secret": "k",
        },
        region="cn-hangzhou",
        zones=ZONES,
        secrets=[{"name": "k", "access_key_id": "ID-9", "access_key_secret": "SECRET-9"}],
    )
    assert params["csi.storage.k8s.io/node-publish-secret-name"] == "k"
    assert "SECRET-9" not in repr(params)
    assert "ID-9" not in repr(params)


def test_storage_class_params_error():
    with pytest.raises(AnsibleFilterError) as info:
        storage_class_params(
            {"name": "s", "category": "cloud_ssd", "performance_level": "PL3"},
            region="cn-hangzhou",
            zones=ZONES,
        )
    message = str(info.value)
    assert "storage class s: storage_classes[0].performance_level" in message
    assert "only with category cloud_essd" in message
