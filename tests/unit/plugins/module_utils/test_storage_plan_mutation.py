"""build_plan, the parts the mutation run found untested: what each item carries into its
object (labels, namespaces, volume modes, the summary rows), which item an error names
when the item has no usable name, and the warnings about defaults and unused Secrets.

Expected objects are written out by hand from the Kubernetes API (a PVC's
metadata/spec, a Secret's type and base64 data), never read back from the code.
"""

from __future__ import annotations

import base64

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    StorageInputError,
)
from tests.unit.plugins.module_utils.test_storage_refusals import KEYS, nas, oss, plan

MANAGED = {"app.kubernetes.io/managed-by": "ackops.runbooks.provision_storage"}
ESSD = {"name": "essd", "category": "cloud_essd"}


def refused(params) -> StorageInputError:
    with pytest.raises(StorageInputError) as info:
        build_plan(params)
    return info.value


def of_kind(result, kind):
    return [o for o in result["objects"] if o["kind"] == kind]


def test_a_claim_carries_its_labels_namespace_and_volume_mode():
    result = build_plan(
        plan(
            storage_classes=[ESSD],
            claims=[
                {
                    "name": "raw",
                    "namespace": "db",
                    "storage_class": "essd",
                    "size": "30Gi",
                    "volume_mode": "Block",
                    "labels": {"tier": "db"},
                }
            ],
        )
    )
    assert of_kind(result, "PersistentVolumeClaim") == [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "raw", "namespace": "db", "labels": {"tier": "db", **MANAGED}},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "30Gi"}},
                "storageClassName": "essd",
                "volumeMode": "Block",
            },
        }
    ]
    assert result["volumes"] == [
        {
            "name": "raw",
            "namespace": "db",
            "type": "disk",
            "kind": "dynamic",
            "class": "essd",
            "size": "30Gi",
            "access_modes": ["ReadWriteOnce"],
            "pv": None,
            "pvc": "raw",
        }
    ]


def test_a_claim_label_that_kubernetes_refuses_is_refused():
    error = refused(
        plan(
            storage_classes=[ESSD],
            claims=[{"name": "c", "storage_class": "essd", "size": 20, "labels": {"tier": "a b"}}],
        )
    )
    assert (error.obj, error.field) == ("claim default/c", "claims[0].labels.tier")


def test_a_block_claim_on_a_file_class_is_refused_with_filesystem_allowed():
    nas_class = {"name": "files", "type": "nas", "server": nas()["server"]}
    error = refused(
        plan(
            storage_classes=[nas_class],
            claims=[{"name": "c", "storage_class": "files", "size": 20, "volume_mode": "Block"}],
        )
    )
    assert (error.obj, error.field) == ("claim default/c", "claims[0].volume_mode")
    assert error.cause == "nas volumes are file systems; allowed: Filesystem"
    assert error.details == {"allowed": ["Filesystem"]}


def test_a_shared_block_disk_is_accepted_and_a_bad_volume_mode_is_refused():
    multi = {**ESSD, "multi_attach": True}
    claim = {"name": "c", "storage_class": "essd", "size": 20, "access_modes": ["ReadWriteMany"]}
    result = build_plan(plan(storage_classes=[multi], claims=[{**claim, "volume_mode": "Block"}]))
    assert of_kind(result, "PersistentVolumeClaim")[0]["spec"]["volumeMode"] == "Block"
    error = refused(plan(storage_classes=[multi], claims=[{**claim, "volume_mode": "block"}]))
    assert error.field == "claims[0].volume_mode"
    assert error.details == {"allowed": ["Filesystem", "Block"]}


def test_an_unknown_class_lists_the_known_ones_for_a_machine():
    error = refused(
        plan(
            storage_classes=[ESSD, {**ESSD, "name": "a.fast"}],
            claims=[{"name": "c", "storage_class": "slow", "size": 20}],
        )
    )
    assert error.details == {"allowed": ["a.fast", "essd"]}
    assert error.cause == "storage class 'slow' is not in storage_classes; allowed: a.fast, essd"
    error = refused(plan(claims=[{"name": "c", "storage_class": "slow", "size": 20}]))
    assert error.cause.endswith("allowed: none declared")


def test_class_names_may_be_dns_subdomains_and_claims_find_them():
    result = build_plan(
        plan(
            storage_classes=[{**ESSD, "name": "disk.essd"}],
            existing_storage_classes=[{"name": "alicloud.nas", "type": "nas"}],
            claims=[
                {"name": "a", "storage_class": "disk.essd", "size": 20},
                {"name": "b", "storage_class": "alicloud.nas", "size": 20},
            ],
        )
    )
    claims = of_kind(result, "PersistentVolumeClaim")
    assert [c["spec"]["storageClassName"] for c in claims] == ["disk.essd", "alicloud.nas"]
    assert [(r["type"], r["class"]) for r in result["volumes"]] == [
        ("disk", "disk.essd"),
        ("nas", "alicloud.nas"),
    ]


def test_a_size_outside_the_category_names_the_claim_size_field():
    error = refused(
        plan(
            storage_classes=[{**ESSD, "performance_level": "PL2"}],
            claims=[{"name": "c", "storage_class": "essd", "size": 100}],
        )
    )
    assert (error.obj, error.field) == ("claim default/c", "claims[0].size")
    # PL2 disks start at 461 GiB (ECS ESSD performance levels).
    assert "cloud_essd PL2: 461..65536 GiB" in error.cause


@pytest.mark.parametrize(
    ("kind", "mode", "accepted"),
    [
        ("nas", "ReadWriteOncePod", True),
        ("nas", "ReadOnlyMany", True),
        ("oss", "ReadOnlyMany", True),
        # ossfs mounts on every node: a single-pod mode means nothing to it.
        ("oss", "ReadWriteOncePod", False),
    ],
)
def test_existing_file_classes_serve_the_modes_of_their_kind(kind, mode, accepted):
    params = plan(
        existing_storage_classes=[{"name": "shared", "type": kind}],
        claims=[{"name": "c", "storage_class": "shared", "size": 20, "access_modes": [mode]}],
    )
    if accepted:
        claim = of_kind(build_plan(params), "PersistentVolumeClaim")[0]
        assert claim["spec"]["accessModes"] == [mode]
        assert claim["spec"]["storageClassName"] == "shared"
    else:
        assert refused(params).field == "claims[0].access_modes[0]"


@pytest.mark.parametrize("key", ["category", "performance_level"])
def test_disk_keys_on_an_existing_file_class_are_refused(key):
    error = refused(
        plan(existing_storage_classes=[{"name": "shared", "type": "nas", key: "cloud_essd"}])
    )
    assert (error.obj, error.field) == (
        "storage class shared",
        f"existing_storage_classes[0].{key}",
    )
    assert error.cause == "applies to disk classes only; allowed: type disk"


def test_an_existing_class_of_an_unknown_type_names_its_path():
    error = refused(plan(existing_storage_classes=[{"name": "x", "type": "ebs"}]))
    assert (error.obj, error.field) == ("storage class x", "existing_storage_classes[0].type")
    assert error.cause == "'ebs' is not a storage type; allowed: disk, nas, oss"
    assert error.details == {"allowed": ["disk", "nas", "oss"]}
    error = refused(plan(volumes=[{"name": "v"}]))
    assert (error.field, error.cause) == ("volumes[0].type", "is required; allowed: disk, nas, oss")


@pytest.mark.parametrize(
    ("key", "item", "obj", "field"),
    [
        ("storage_classes", {"category": "cloud_essd", "type": "ebs"}, "storage class #0", "type"),
        ("volumes", {"type": "ebs"}, "volume #0", "type"),
        ("secrets", {"access_key_id": "a"}, "secret #0", "name"),
        ("existing_storage_classes", {"type": "ebs"}, "storage class #0", "type"),
        ("claims", {"storage_class": "essd"}, "claim default/#0", "name"),
        # A name that is no string is no name: the index stands for it.
        ("volumes", {"name": 7, "type": "ebs"}, "volume #0", "type"),
        ("claims", {"name": "c", "namespace": True}, "claim default/c", "namespace"),
    ],
)
def test_an_item_without_a_usable_name_is_named_by_its_index(key, item, obj, field):
    error = refused(plan(**{key: [item]}))
    assert (error.obj, error.field) == (obj, f"{key}[0].{field}")


@pytest.mark.parametrize(
    ("key", "obj", "field"),
    [
        # Items with a type are refused on it first: a string has none.
        ("storage_classes", "storage class #0", "storage_classes[0].type"),
        ("volumes", "volume #0", "volumes[0].type"),
        ("existing_storage_classes", "storage class #0", "existing_storage_classes[0].type"),
        ("secrets", "secret #0", "secrets[0]"),
        ("claims", "claim default/#0", "claims[0]"),
    ],
)
def test_an_item_that_is_no_dict_is_refused_by_its_index(key, obj, field):
    error = refused(plan(**{key: ["just-a-name"]}))
    assert (error.obj, error.field) == (obj, field)


def test_an_access_key_pasted_into_a_class_is_refused_by_key_name():
    error = refused(
        plan(storage_classes=[{"name": "o", "type": "oss", "bucket": "b-1", "akSecret": "v"}])
    )
    assert (error.obj, error.field) == ("storage class o", "storage_classes[0].akSecret")
    assert error.cause.startswith("an AccessKey never goes into a volume or a class")


def test_a_class_declared_twice_is_refused_on_the_second():
    error = refused(plan(storage_classes=[ESSD, ESSD]))
    assert (error.obj, error.field) == ("storage class essd", "storage_classes[1].name")
    assert error.cause == "storage class 'essd' is declared twice; allowed: unique names"


def test_several_default_classes_warn_and_one_does_not():
    one = build_plan(plan(storage_classes=[{**ESSD, "default": True}, {**ESSD, "name": "b"}]))
    assert not [w for w in one["warnings"] if "default" in w]
    two = build_plan(
        plan(storage_classes=[{**ESSD, "default": True}, {**ESSD, "name": "b", "default": "yes"}])
    )
    assert (
        "storage plan: several default storage classes (essd, b): Kubernetes picks the newest"
        in two["warnings"]
    )


@pytest.mark.parametrize(
    ("params", "field", "cause"),
    [
        (
            {"zones": ["cn-hangzhou-h"]},
            "region",
            "is required; allowed: an Alibaba Cloud region id such as cn-hangzhou",
        ),
        (
            {"region": "cn-hangzhou"},
            "zones",
            "is required; allowed: a non-empty list of strings",
        ),
    ],
)
def test_region_and_zones_are_required(params, field, cause):
    error = refused(params)
    assert (error.obj, error.field, error.cause) == ("storage plan", field, cause)


def test_the_driver_named_in_a_refusal_is_the_default_csi():
    error = refused(plan(volumes=[oss(auth_type="daemon", secret=None)]))
    assert error.cause.startswith("'daemon' cannot be used with driver csi (")


def test_a_static_volume_lives_in_its_namespace_and_its_row_says_static():
    result = build_plan(plan(volumes=[nas(namespace="web", size="5Gi")]))
    (pvc,) = of_kind(result, "PersistentVolumeClaim")
    assert pvc["metadata"] == {"name": "share", "namespace": "web", "labels": MANAGED}
    assert result["volumes"] == [
        {
            "name": "share",
            "namespace": "web",
            "type": "nas",
            "kind": "static",
            "class": "",
            "size": "5Gi",
            "access_modes": ["ReadWriteMany"],
            "pv": "share",
            "pvc": "share",
        }
    ]


def test_two_volumes_on_one_pv_name_are_refused_on_the_second():
    error = refused(plan(volumes=[nas(), nas(name="other", pv_name="share")]))
    assert (error.obj, error.field) == ("volume other", "volumes[1].name")
    assert error.cause == (
        "PersistentVolume 'share' is also made by volume share; allowed: unique PV names"
    )


def test_two_volumes_with_one_claim_name_are_refused_on_the_second():
    error = refused(plan(volumes=[nas(), nas(pv_name="other")]))
    assert (error.obj, error.field) == ("volume share", "volumes[1].name")
    assert error.cause == (
        "PersistentVolumeClaim default/share is also made by volume share; "
        "allowed: unique claim names per namespace"
    )


def test_the_same_claim_name_in_two_namespaces_is_fine():
    result = build_plan(plan(volumes=[nas(), nas(namespace="web", pv_name="share-web")]))
    assert [(p["metadata"]["namespace"]) for p in of_kind(result, "PersistentVolumeClaim")] == [
        "default",
        "web",
    ]


def test_secrets_written_and_existing():
    result = build_plan(
        {
            "region": "cn-hangzhou",
            "zones": ["cn-hangzhou-h"],
            "secrets": [
                {"name": "old.keys", "existing": True},
                {**KEYS, "namespace": "media", "labels": {"team": "media"}},
            ],
            "volumes": [oss(secret="old.keys"), oss(name="m2", secret="keys")],
        }
    )
    assert of_kind(result, "Secret") == [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "keys",
                "namespace": "media",
                "labels": {"team": "media", **MANAGED},
            },
            "type": "Opaque",
            # The keys the OSS driver reads (pkg/oss/utils.go): akId, akSecret, base64.
            "data": {
                "akId": base64.b64encode(b"id-value").decode(),
                "akSecret": base64.b64encode(b"secret-value").decode(),
            },
        }
    ]
    assert not [w for w in result["warnings"] if w.startswith("secret ")]
    refs = [p["spec"]["csi"]["nodePublishSecretRef"] for p in of_kind(result, "PersistentVolume")]
    assert refs == [
        {"name": "old.keys", "namespace": "default"},
        {"name": "keys", "namespace": "media"},
    ]


def test_an_unused_secret_is_named_in_a_warning():
    result = build_plan(plan())
    assert "secret keys: is not referenced by any OSS volume or class" in result["warnings"]


@pytest.mark.parametrize(
    ("secret", "field", "cause"),
    [
        (
            {"name": "k", "existing": True, "access_key_secret": "s"},
            "secrets[0].access_key_secret",
            "an existing Secret is not written: give its values or existing: true, not both; "
            "allowed: no value with existing: true",
        ),
        (
            {"name": "k", "access_key_id": "a"},
            "secrets[0].access_key_secret",
            "is required; allowed: an AccessKey value",
        ),
        (
            {"name": "k", "existing": True, "labels": {"a": "b c"}},
            "secrets[0].labels.a",
            None,
        ),
        (
            {"name": "Keys", "existing": True},
            "secrets[0].name",
            None,
        ),
    ],
)
def test_secret_refusals(secret, field, cause):
    error = refused({"region": "cn-hangzhou", "zones": ["cn-hangzhou-h"], "secrets": [secret]})
    assert (error.obj, error.field) == (
        "secret k" if secret["name"] == "k" else "secret Keys",
        field,
    )
    if cause:
        assert error.cause == cause


def test_a_secret_declared_twice_is_refused():
    error = refused(plan(secrets=[KEYS, {"name": "keys", "existing": True}]))
    assert (error.obj, error.field) == ("secret keys", "secrets[1].name")
    assert error.cause == "secret 'keys' is declared twice; allowed: unique names"


def test_a_secret_value_is_never_echoed_when_it_is_refused():
    error = refused(
        {
            "region": "cn-hangzhou",
            "zones": ["cn-hangzhou-h"],
            "secrets": [{"name": "k", "access_key_id": "id", "access_key_secret": ["SECRET-x"]}],
        }
    )
    assert error.field == "secrets[0].access_key_secret"
    assert "SECRET-x" not in str(error)


def test_statefulset_warnings_land_in_the_plan():
    result = build_plan(
        plan(
            storage_classes=[ESSD],
            statefulsets=[
                {
                    "name": "db",
                    "image": "mysql:8",
                    "replicas": 3,
                    "volume_claim_templates": [
                        {"name": "data", "storage_class": "essd", "size": 20, "mount_path": "/d"}
                    ],
                }
            ],
        )
    )
    assert (
        "statefulset default/db: no resources: set requests and limits "
        "(the guide's workload hygiene)" in result["warnings"]
    )


def test_statefulset_template_below_the_category_minimum_is_refused():
    error = refused(
        plan(
            storage_classes=[ESSD],
            statefulsets=[
                {
                    "name": "db",
                    "image": "mysql:8",
                    "volume_claim_templates": [
                        {"name": "data", "storage_class": "essd", "size": 1, "mount_path": "/d"}
                    ],
                }
            ],
        )
    )
    assert error.field == "statefulsets[0].volume_claim_templates[0].size"


def test_a_statefulset_mounts_a_dynamic_claim_of_the_plan():
    params = plan(
        storage_classes=[ESSD],
        claims=[{"name": "data", "storage_class": "essd", "size": 20}],
        statefulsets=[{"name": "db", "image": "mysql:8", "mounts": [{"claim": "data", "mount_path": "/d"}]}],
    )  # fmt: skip
    (sts,) = of_kind(build_plan(params), "StatefulSet")
    assert sts["spec"]["template"]["spec"]["volumes"] == [
        {"name": "claim-data", "persistentVolumeClaim": {"claimName": "data"}}
    ]
    params["statefulsets"][0]["replicas"] = 2
    # A dynamic disk claim is one disk too: two pods cannot share it.
    assert refused(params).field == "statefulsets[0].mounts[0].claim"


def test_a_claim_mode_the_class_cannot_serve_names_the_class():
    error = refused(
        plan(storage_classes=[ESSD],
             claims=[{"name": "c", "storage_class": "essd", "size": 20, "access_modes": ["ReadOnlyMany"]}])
    )  # fmt: skip
    assert error.cause == (
        "'ReadOnlyMany' is not allowed here (what storage class essd (disk) can serve); allowed: "
        "ReadWriteOnce, ReadWriteOncePod"
    )
