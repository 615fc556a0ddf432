"""storage/model.py: zones, Secret references, access modes, class basics (issue 18 kill tests).

Zone ids are their region's id and a short suffix (cn-hangzhou-h, ap-southeast-1a,
cn-shanghai-finance-1z, as Alibaba Cloud names them); a class over several zones must
bind WaitForFirstConsumer (the volume is created where the pod is scheduled).
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage import model
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import Item, Size
from tests.unit.plugins.module_utils.test_storage_plan_mutation import of_kind, refused
from tests.unit.plugins.module_utils.test_storage_refusals import KEYS, disk, nas, oss, plan

ESSD = {"name": "essd", "category": "cloud_essd"}


@pytest.mark.parametrize(
    ("zone", "inside"),
    [
        ("cn-hangzhou-a", True),
        ("cn-hangzhou-a1", True),
        ("cn-hangzhoua", True),
        ("cn-hangzhou-1", False),
        ("cn-hangzhou-abc", False),
        ("cn-hangzhou-", False),
        ("cn-hangzhou", False),
        ("xcn-hangzhou-a", False),
    ],
)
def test_a_zone_is_its_region_and_one_short_suffix(zone, inside):
    assert model.zone_in_region(zone, "cn-hangzhou") is inside


def test_warnings_are_kept_once_in_order():
    ctx = model.Context(region="cn-hangzhou", zones=["cn-hangzhou-h"], driver="csi")
    ctx.warn("a", "x")
    ctx.warn("b", "y")
    ctx.warn("a", "x")
    assert ctx.warnings == ["a: x", "b: y"]
    assert not ctx.flex
    assert model.Context(region="r", zones=[], driver="flexvolume").flex


def test_zones_of_a_class_are_checked_deduplicated_and_never_empty():
    result = build_plan(
        plan(storage_classes=[{**ESSD, "zones": ["cn-hangzhou-i", "cn-hangzhou-i"]}])
    )
    (sc,) = of_kind(result, "StorageClass")
    assert sc["parameters"]["zoneId"] == "cn-hangzhou-i"
    assert sc["volumeBindingMode"] == "Immediate"
    error = refused(plan(storage_classes=[{**ESSD, "zones": []}]))
    assert (error.field, error.cause) == (
        "storage_classes[0].zones",
        "must not be empty; allowed: cn-hangzhou-h, cn-hangzhou-i",
    )
    error = refused(plan(storage_classes=[{**ESSD, "zones": ["cn-hangzhou-h", "cn-hangzhou-k"]}]))
    assert (error.field, error.details) == (
        "storage_classes[0].zones[1]",
        {"allowed": ["cn-hangzhou-h", "cn-hangzhou-i"]},
    )
    assert error.cause == (
        "zone 'cn-hangzhou-k' has no nodes of this cluster; allowed: the cluster's zones "
        "cn-hangzhou-h, cn-hangzhou-i"
    )
    error = refused(plan(storage_classes=[{**ESSD, "zones": ["cn-beijing-a"]}]))
    assert error.cause.startswith("zone 'cn-beijing-a' is not in region cn-hangzhou; allowed: ")


def test_the_zones_of_the_plan_are_deduplicated():
    params = {**plan(storage_classes=[ESSD]), "zones": ["cn-hangzhou-h", "cn-hangzhou-h"]}
    (sc,) = of_kind(build_plan(params), "StorageClass")
    assert sc["parameters"]["zoneId"] == "cn-hangzhou-h"
    assert sc["volumeBindingMode"] == "Immediate"


def test_a_zone_outside_the_region_names_the_region_and_an_example():
    error = refused({**plan(), "zones": ["cn-hangzhou-h", "cn-beijing-a"]})
    assert error.cause == (
        "zone 'cn-beijing-a' is not in region cn-hangzhou; allowed: zones of cn-hangzhou "
        "(cn-hangzhou-<letter>, e.g. cn-hangzhou-a)"
    )


def test_a_binding_mode_is_kept_in_one_zone_and_must_wait_across_several():
    (sc,) = of_kind(
        build_plan({**plan(storage_classes=[{**ESSD, "volume_binding_mode": "WaitForFirstConsumer"}]),
                    "zones": ["cn-hangzhou-h"]}),
        "StorageClass",
    )  # fmt: skip
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    error = refused(plan(storage_classes=[{**ESSD, "volume_binding_mode": "Immediate"}]))
    assert error.details == {"allowed": ["WaitForFirstConsumer"]}
    assert error.field == "storage_classes[0].volume_binding_mode"


def test_a_secret_reference_must_name_a_secrets_item_and_marks_it_used():
    error = refused({**plan(volumes=[oss(secret="nope")]), "secrets": []})
    assert (error.field, error.cause, error.details) == (
        "volumes[0].secret",
        "is not the name of a secrets item; allowed: none declared",
        {"allowed": []},
    )
    other = {**KEYS, "name": "a-keys"}
    error = refused({**plan(volumes=[oss(secret="nope")]), "secrets": [KEYS, other]})
    assert (error.cause, error.details) == (
        "is not the name of a secrets item; allowed: a-keys, keys",
        {"allowed": ["a-keys", "keys"]},
    )
    result = build_plan({**plan(volumes=[oss()]), "secrets": [KEYS, other]})
    assert [w for w in result["warnings"] if w.startswith("secret ")] == [
        "secret a-keys: is not referenced by any OSS volume or class"
    ]


def test_access_modes_are_deduplicated_and_never_empty():
    (pv,) = of_kind(
        build_plan(plan(volumes=[nas(access_modes=["ReadOnlyMany", "ReadOnlyMany"])])),
        "PersistentVolume",
    )
    assert pv["spec"]["accessModes"] == ["ReadOnlyMany"]
    error = refused(plan(volumes=[nas(access_modes=[])]))
    assert (error.field, error.cause) == (
        "volumes[0].access_modes",
        "must not be empty; allowed: ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod",
    )
    assert error.details == {"allowed": list(model.ACCESS_MODES)}


def test_reclaim_policy_choices_and_the_only_one():
    error = refused(plan(volumes=[disk(reclaim_policy="Recycle")]))
    assert (error.cause, error.details) == (
        "'Recycle' is not allowed; allowed: Delete, Retain",
        {"allowed": ["Delete", "Retain"]},
    )
    item = Item({"reclaim_policy": "Delete"}, "p", "o", ("reclaim_policy",))
    assert model.reclaim_policy(item, "Retain") == "Delete"
    assert model.reclaim_policy(Item({}, "p", "o", ()), "Retain", only="Retain") == "Retain"


def test_manifests_by_hand():
    size = Size.parse("5Gi")
    assert model.metadata("n") == {
        "name": "n",
        "labels": {model.MANAGED_BY_LABEL: model.MANAGED_BY},
    }
    assert model.claim_spec(size, ["ReadWriteOnce"], "c") == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "5Gi"}},
        "storageClassName": "c",
    }
    assert model.storage_class_manifest(
        "s", "p", {"a": "b"}, reclaim="Retain", binding="Immediate", expansion=False,
        default=False, labels={}, mount_options=[], zones=[],
    ) == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "s", "labels": {model.MANAGED_BY_LABEL: model.MANAGED_BY}},
        "provisioner": "p",
        "parameters": {"a": "b"},
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": False,
    }  # fmt: skip


def test_a_class_binding_mode_is_one_kubernetes_knows_and_its_labels_are_labels():
    error = refused({**plan(storage_classes=[{**ESSD, "volume_binding_mode": "Later"}]),
                     "zones": ["cn-hangzhou-h"]})  # fmt: skip
    assert (error.field, error.details) == (
        "storage_classes[0].volume_binding_mode",
        {"allowed": ["Immediate", "WaitForFirstConsumer"]},
    )
    error = refused(plan(storage_classes=[{**ESSD, "labels": {"tier": "a b"}}]))
    assert error.field == "storage_classes[0].labels.tier"
