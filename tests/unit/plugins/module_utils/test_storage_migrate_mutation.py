"""flexVolume -> CSI migration, each input shape by hand (issue 18 kill tests for storage/migrate.py).

The inputs are objects as the API server returns them (flexVolume PVs of the alicloud/disk,
nas and oss plugins, their claims, the old provisioners' StorageClasses); the expected
CSI objects use the CSI drivers' attribute names (disk volumeHandle/fsType/readOnly, NAS
server/path/vers/mode, OSS bucket/url/path/otherOpts, nodePublishSecretRef), typed out.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.migrate import (
    plan_flex_migration,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    StorageInputError,
)

MANAGED = {"app.kubernetes.io/managed-by": "ackops.runbooks.provision_storage"}
FROM = "ackops.runbooks/migrated-from"


def pv(name, flex, claim="data", namespace="web", **spec):
    ref = {"kind": "PersistentVolumeClaim", "name": claim}
    if namespace is not None:
        ref["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "uid": "u-1", "resourceVersion": "7"},
        "spec": {"capacity": {"storage": "20Gi"}, "accessModes": ["ReadWriteOnce"],
                 "flexVolume": flex, "claimRef": ref, **spec},
    }  # fmt: skip


def pvc(name="data", namespace="web", volume="", **spec):
    meta = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {
        "metadata": meta,
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
                 "volumeName": volume, **spec},
    }  # fmt: skip


def one(volume, claim=None, classes=(), options=None):
    result = plan_flex_migration(
        {
            "persistent_volumes": [volume],
            "persistent_volume_claims": [claim or pvc(volume=volume["metadata"]["name"])],
            "storage_classes": list(classes),
        },
        options or {},
    )
    return result


def step_of(result):
    (step,) = result["volumes"]
    return step


def skipped(result):
    assert result["volumes"] == []
    return result["skipped"][0]["reason"]


# --- disks --------------------------------------------------------------------------------


def test_a_disk_named_otherwise_takes_its_id_from_the_options():
    volume = pv("pv-mysql", {"driver": "alicloud/disk", "options": {"volumeId": "d-abc12345", "fsType": "xfs"},
                             "readOnly": True})  # fmt: skip
    volume["metadata"]["labels"] = {"topology.kubernetes.io/zone": "cn-hangzhou-i"}
    step = step_of(one(volume, options={"region": "cn-hangzhou"}))
    assert step["source"] == {"disk_id": "d-abc12345"}
    assert step["new_pv"]["spec"]["csi"] == {
        "driver": "diskplugin.csi.alibabacloud.com",
        "volumeHandle": "d-abc12345",
        "fsType": "xfs",
        "readOnly": True,
    }
    assert step["new_pv"]["metadata"]["labels"] == {
        "topology.kubernetes.io/zone": "cn-hangzhou-i",
        "topology.kubernetes.io/region": "cn-hangzhou",
        "alicloud-pvname": "pv-mysql-csi",
        **MANAGED,
    }
    assert step["new_pv"]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
                               "values": ["cn-hangzhou-i"]}]}
    ]  # fmt: skip


def test_a_disk_pv_named_after_its_disk_and_the_flex_fstype():
    volume = pv("d-bp1named000001", {"driver": "alicloud/disk", "fsType": "ext3"})
    step = step_of(one(volume))
    assert step["new_pv"]["spec"]["csi"] == {
        "driver": "diskplugin.csi.alibabacloud.com",
        "volumeHandle": "d-bp1named000001",
        "fsType": "ext3",
    }


def test_a_disk_without_an_id_anywhere_is_skipped():
    reason = skipped(one(pv("pv-x", {"driver": "alicloud/disk", "options": {}})))
    assert reason == "no volumeId in flexVolume.options and the PV is not named after a disk id"


def test_a_disk_without_a_zone_warns_unless_it_has_an_affinity():
    volume = pv("d-bp1nozone000001", {"driver": "alicloud/disk"})
    result = one(volume)
    assert result["warnings"] == [
        "volume d-bp1nozone000001: no zone label: the CSI PV gets no zone affinity, a pod in "
        "another zone cannot attach the disk"
    ]
    assert "nodeAffinity" not in step_of(result)["new_pv"]["spec"]
    affinity = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "failure-domain.beta.kubernetes.io/zone", "operator": "In", "values": ["z"]},
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]}}  # fmt: skip
    volume = pv("d-bp1nozone000001", {"driver": "alicloud/disk"}, nodeAffinity=affinity)
    volume["metadata"]["labels"] = {"failure-domain.beta.kubernetes.io/zone": "z"}
    result = one(volume)
    assert result["warnings"] == []
    expressions = step_of(result)["new_pv"]["spec"]["nodeAffinity"]["required"][
        "nodeSelectorTerms"
    ][0]["matchExpressions"]
    assert [e["key"] for e in expressions] == [
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    ]
    result = one(pv("d-bp1nozone000001", {"driver": "alicloud/disk"}, nodeAffinity=affinity))
    assert result["warnings"] == []


def test_the_pv_spec_carries_its_mode_mount_options_and_old_policy():
    volume = pv("d-bp1block0000001", {"driver": "alicloud/disk"}, volumeMode="Block",
                mountOptions=["noatime"], persistentVolumeReclaimPolicy="Delete")  # fmt: skip
    step = step_of(one(volume))
    spec = step["new_pv"]["spec"]
    assert (spec["volumeMode"], spec["mountOptions"]) == ("Block", ["noatime"])
    assert (step["old_reclaim_policy"], step["final_reclaim_policy"]) == ("Delete", "Delete")
    step = step_of(one(pv("d-bp1block0000001", {"driver": "alicloud/disk"})))
    assert step["old_reclaim_policy"] == "Retain"
    assert "volumeMode" not in step["new_pv"]["spec"]
    assert "mountOptions" not in step["new_pv"]["spec"]


# --- NAS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "attributes", "mount_options"),
    [
        ({"server": "nas.example.com:/share/app", "vers": "4"},
         {"server": "nas.example.com", "path": "/share/app", "vers": "4.0"}, None),
        ({"server": "nas.example.com", "path": "/a:b", "vers": "3.0", "mode": 755},
         {"server": "nas.example.com", "path": "/a:b", "vers": "3", "mode": "755"}, None),
        ({"server": "[fd00::1]", "options": "noresvport, ,hard"},
         {"server": "[fd00::1]", "path": "/", "vers": "3"}, ["noresvport", "hard"]),
        ({"server": "nas.example.com:/x:y"},
         {"server": "nas.example.com", "path": "/x:y", "vers": "3"}, None),
        ({"server": "nas.example.com", "vers": "4.1"},
         {"server": "nas.example.com", "path": "/", "vers": "4.1"}, None),
    ],
)  # fmt: skip
def test_nas_options_become_csi_attributes(options, attributes, mount_options):
    step = step_of(one(pv("nas-a", {"driver": "alicloud/nas", "options": options})))
    csi = step["new_pv"]["spec"]["csi"]
    assert csi == {"driver": "nasplugin.csi.alibabacloud.com", "volumeHandle": "nas-a-csi",
                   "volumeAttributes": attributes}  # fmt: skip
    assert step["new_pv"]["spec"].get("mountOptions") == mount_options
    assert step["source"] == {"server": attributes["server"], "path": attributes["path"]}


def test_a_nas_pv_without_server_is_skipped():
    assert (
        skipped(one(pv("nas-a", {"driver": "alicloud/nas"}))) == "no server in flexVolume.options"
    )


# --- OSS -----------------------------------------------------------------------------------


def oss_pv(name="oss-a", **options):
    return pv(name, {"driver": "alicloud/oss", "options": {"bucket": "docs-1", "url": "oss-cn-hangzhou.aliyuncs.com", **options}})  # fmt: skip


def test_inline_keys_move_to_a_secret_in_the_chosen_namespace():
    step = step_of(one(oss_pv(akId="ID1", akSecret="SECRET1", path="/docs"), options={"secret_namespace": "kube-system"}))  # fmt: skip
    assert step["objects"] == [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "oss-a-oss-credentials", "namespace": "kube-system",
                         "labels": MANAGED, "annotations": {FROM: "oss-a"}},
            "type": "Opaque",
            "data": {"akId": base64.b64encode(b"ID1").decode(),
                     "akSecret": base64.b64encode(b"SECRET1").decode()},
        }
    ]  # fmt: skip
    assert step["new_pv"]["spec"]["csi"] == {
        "driver": "ossplugin.csi.alibabacloud.com",
        "volumeHandle": "oss-a-csi",
        "volumeAttributes": {"bucket": "docs-1", "url": "oss-cn-hangzhou.aliyuncs.com", "path": "/docs"},
        "nodePublishSecretRef": {"name": "oss-a-oss-credentials", "namespace": "kube-system"},
    }  # fmt: skip
    assert step["source"] == {
        "bucket": "docs-1",
        "url": "oss-cn-hangzhou.aliyuncs.com",
        "path": "/docs",
    }


def test_a_secret_ref_of_the_flex_pv_is_kept_in_the_claims_namespace_by_default():
    volume = oss_pv()
    volume["spec"]["flexVolume"]["secretRef"] = {"name": "oss-keys"}
    step = step_of(one(volume))
    assert step["new_pv"]["spec"]["csi"]["nodePublishSecretRef"] == {
        "name": "oss-keys",
        "namespace": "web",
    }
    volume["spec"]["flexVolume"]["secretRef"] = {"name": "oss-keys", "namespace": "kube-system"}
    step = step_of(one(volume, options={"oss_secret": {"name": "other"}}))
    assert step["new_pv"]["spec"]["csi"]["nodePublishSecretRef"] == {"name": "oss-keys", "namespace": "kube-system"}  # fmt: skip
    assert step["objects"] == []


def test_the_oss_secret_option_defaults_to_the_default_namespace():
    step = step_of(one(oss_pv(), options={"oss_secret": {"name": "oss-keys"}}))
    assert step["new_pv"]["spec"]["csi"]["nodePublishSecretRef"] == {"name": "oss-keys", "namespace": "default"}  # fmt: skip


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"akId": "ID1"}, "only one of akId/akSecret is set in flexVolume.options"),
        ({"akSecret": "S"}, "only one of akId/akSecret is set in flexVolume.options"),
        ({"bucket": "Docs"}, "bucket name 'Docs' is not one OSS accepts"),
        ({"url": "https://docs-1.oss-cn-hangzhou.aliyuncs.com"},
         "url 'https://docs-1.oss-cn-hangzhou.aliyuncs.com' is the bucket's own domain, which the CSI driver refuses; use the endpoint"),
        ({"url": "http://docs-1.oss-cn-hangzhou.aliyuncs.com"}, None),
        ({"otherOpts": "-o allow_other max_stat_cache_size=0"},
         "otherOpts has an option not preceded by -o, which the CSI driver refuses"),
        ({"otherOpts": "-o"}, "otherOpts has an option not preceded by -o, which the CSI driver refuses"),
        ({"otherOpts": "-O allow_other"}, "otherOpts has an option not preceded by -o, which the CSI driver refuses"),
        ({"url": None}, "no bucket or url in flexVolume.options"),
    ],
)  # fmt: skip
def test_oss_pvs_the_csi_driver_would_refuse_are_skipped(options, reason):
    result = one(oss_pv(**options), options={"oss_secret": {"name": "k"}})
    got = skipped(result)
    if reason:
        assert got == reason
    assert f"volume oss-a: not migrated: {got}" in result["warnings"]


@pytest.mark.parametrize(
    ("other", "kept"),
    [("-o allow_other  -omax_stat_cache_size=0", "-o allow_other -omax_stat_cache_size=0"),
     ("-oro", "-oro")],
)  # fmt: skip
def test_well_formed_other_opts_are_kept(other, kept):
    step = step_of(one(oss_pv(otherOpts=other), options={"oss_secret": {"name": "k"}}))
    assert step["new_pv"]["spec"]["csi"]["volumeAttributes"]["otherOpts"] == kept


def test_a_host_that_merely_starts_with_the_bucket_name_is_an_endpoint():
    step = step_of(one(oss_pv(url="docs-1.example.com"), options={"oss_secret": {"name": "k"}}))
    assert step["new_pv"]["spec"]["csi"]["volumeAttributes"]["url"] == "docs-1.example.com"


# --- classes -------------------------------------------------------------------------------


def sc(name, provisioner, **fields):
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": provisioner, **fields}  # fmt: skip


def classes_of(*classes, options=None):
    return plan_flex_migration({"storage_classes": list(classes)}, options or {})


def test_a_disk_class_by_default_and_with_everything():
    result = classes_of(
        sc("plain", "alicloud/disk", parameters={"type": "cloud_ssd"}),
        sc("full", "alicloud/disk", parameters={"type": "cloud_essd,available", "fstype": "xfs", "zoneid": "z-a"},
           reclaimPolicy="Retain", volumeBindingMode="WaitForFirstConsumer", allowVolumeExpansion=False,
           mountOptions=["noatime"], allowedTopologies=[{"matchLabelExpressions": [{"key": "k", "values": ["v"]}]}],
           metadata={"name": "full", "labels": {"team": "db"}}),
    )  # fmt: skip
    full, plain = result["storage_classes"]
    assert plain == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "plain-csi", "labels": MANAGED, "annotations": {FROM: "plain"}},
        "provisioner": "diskplugin.csi.alibabacloud.com",
        "parameters": {"type": "cloud_ssd", "csi.storage.k8s.io/fstype": "ext4"},
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }
    assert full == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "full-csi", "labels": {"team": "db", **MANAGED}, "annotations": {FROM: "full"}},
        "provisioner": "diskplugin.csi.alibabacloud.com",
        "parameters": {"type": "cloud_essd,available", "csi.storage.k8s.io/fstype": "xfs", "zoneId": "z-a"},
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": False,
        "mountOptions": ["noatime"],
        "allowedTopologies": [{"matchLabelExpressions": [{"key": "k", "values": ["v"]}]}],
    }  # fmt: skip
    assert result["warnings"] == []


def test_class_warnings_word_for_word():
    result = classes_of(
        sc("a-disk", "alicloud/disk", parameters={"type": "cloud_turbo", "zoneid": "z-a,z-b"}),
        sc("b-nas", "alicloud/nas", parameters={"archiveOnDelete": "true"}),
        sc("c-oss", "alicloud/oss"),
        sc("d-other", "example.com/lvm"),
    )
    assert result["warnings"] == [
        "storage class a-disk: category cloud_turbo is unknown to the CSI disk driver: claims of this class will fail",
        "storage class a-disk: spans several zones: the CSI class uses WaitForFirstConsumer so disks follow their pods",
        "storage class b-nas: has no server parameter: the CSI class cannot provision",
        "storage class c-oss: alicloud/oss never provisioned volumes; nothing to migrate for this class",
    ]  # fmt: skip
    disk, nas = result["storage_classes"]
    assert disk["volumeBindingMode"] == "WaitForFirstConsumer"
    assert nas["parameters"] == {"archiveOnDelete": "true", "volumeAs": "subpath"}
    assert nas["allowVolumeExpansion"] is False


def test_a_class_in_one_zone_keeps_immediate_binding():
    (disk,) = classes_of(sc("a", "alicloud/disk", parameters={"type": "cloud_ssd", "zoneid": "z-a"}))["storage_classes"]  # fmt: skip
    assert disk["volumeBindingMode"] == "Immediate"


# --- claims, names, options ----------------------------------------------------------------


def test_a_claim_in_the_default_namespace_and_its_round_trip():
    claim = pvc(namespace=None, volume="d-bp1default00001", storageClassName="old",
                selector={"matchLabels": {"alicloud-pvname": "d-bp1default00001"}})  # fmt: skip
    claim["apiVersion"], claim["kind"] = "v1", "PersistentVolumeClaim"
    claim["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    claim["metadata"]["labels"] = {"app": "db"}
    volume = pv(
        "d-bp1default00001", {"driver": "alicloud/disk"}, namespace=None, storageClassName="old"
    )
    step = step_of(
        one(volume, claim, classes=[sc("old", "alicloud/disk", parameters={"type": "cloud_ssd"})])
    )
    assert step["new_pvc"] == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default", "labels": {"app": "db", **MANAGED},
                     "annotations": {FROM: "d-bp1default00001"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
                 "storageClassName": "old-csi", "volumeName": "d-bp1default00001-csi"},
    }  # fmt: skip
    assert step["rollback"]["pvc"] == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default", "labels": {"app": "db"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
                 "storageClassName": "old", "volumeName": "d-bp1default00001",
                 "selector": {"matchLabels": {"alicloud-pvname": "d-bp1default00001"}}},
    }  # fmt: skip
    assert step["old_pvc"]["metadata"] == {"name": "data", "labels": {"app": "db"}}
    assert step["new_pv"]["spec"]["claimRef"]["namespace"] == "default"


def test_a_claim_read_without_kind_is_reported_as_a_v1_claim():
    claim = pvc(volume="d-bp1default00001")
    step = step_of(one(pv("d-bp1default00001", {"driver": "alicloud/disk"}), claim))
    assert (step["old_pvc"]["apiVersion"], step["old_pvc"]["kind"]) == (
        "v1",
        "PersistentVolumeClaim",
    )
    assert "storageClassName" not in step["old_pvc"]["spec"]
    assert step["new_pvc"]["spec"]["storageClassName"] == ""


def test_an_unbound_claim_of_the_pv_is_still_migrated_and_bound_to_the_new_pv():
    claim = pvc(volume="")
    step = step_of(one(pv("d-bp1unbound00001", {"driver": "alicloud/disk"}), claim))
    assert step["new_pvc"]["spec"]["volumeName"] == "d-bp1unbound00001-csi"
    assert step["rollback"]["pvc"]["spec"]["volumeName"] == "d-bp1unbound00001"


def test_a_labelless_claim_gets_no_labels_back_on_rollback():
    step = step_of(one(pv("d-bp1nolabels0001", {"driver": "alicloud/disk"})))
    assert "labels" not in step["rollback"]["pvc"]["metadata"]
    assert step["new_pvc"]["metadata"]["labels"] == MANAGED


def test_long_names_are_cut_with_a_stable_hash():
    name = "d-" + "a" * 249  # 251 characters: with "-csi" 255, over 253
    step = step_of(one(pv(name, {"driver": "alicloud/disk"})))
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    new = step["new_pv"]["metadata"]["name"]
    assert new == f"{name[: 253 - 4 - 11]}-{digest}-csi"
    assert len(new) == 253
    name = "d-" + "a" * 247  # 249 + 4 = 253: kept whole
    assert (
        step_of(one(pv(name, {"driver": "alicloud/disk"})))["new_pv"]["metadata"]["name"]
        == f"{name}-csi"
    )


def test_options_are_named_in_refusals_and_read_as_given():
    with pytest.raises(StorageInputError) as info:
        plan_flex_migration({}, {"class_names": {"old": "Bad_Name"}})
    assert (info.value.field, info.value.cause) == (
        "options.class_names.old",
        "'Bad_Name' is not a valid class name; allowed: a DNS subdomain name",
    )
    with pytest.raises(StorageInputError) as info:
        plan_flex_migration({}, {"oss_secret": {"namespace": "x"}})
    assert info.value.field == "options.oss_secret.name"
    with pytest.raises(StorageInputError) as info:
        plan_flex_migration({}, {"secret_namespace": "Bad"})
    assert info.value.field == "options.secret_namespace"
    result = plan_flex_migration({}, None)
    assert result == {"volumes": [], "storage_classes": [], "warnings": [], "skipped": []}


# --- survivors of the first run with the tests above ----------------------------------------


def test_the_plan_shares_nothing_with_the_objects_it_read():
    claim = pvc(volume="d-bp1shared000001", selector={"matchLabels": {"a": "b"}})
    volume = pv("d-bp1shared000001", {"driver": "alicloud/disk"})
    topology = [{"matchLabelExpressions": [{"key": "k", "values": ["v"]}]}]
    cluster = {
        "persistent_volumes": [volume],
        "persistent_volume_claims": [claim],
        "storage_classes": [sc("old", "alicloud/disk", parameters={"type": "cloud_ssd"}, allowedTopologies=topology)],
    }  # fmt: skip
    before = repr(cluster)
    result = plan_flex_migration(cluster, {})
    step = step_of(result)
    step["new_pv"]["spec"]["capacity"]["storage"] = "1Ti"
    step["new_pvc"]["spec"]["resources"]["requests"]["storage"] = "1Ti"
    step["rollback"]["pvc"]["spec"]["selector"]["matchLabels"]["a"] = "x"
    step["old_pvc"]["spec"]["resources"]["requests"]["storage"] = "1Ti"
    result["storage_classes"][0]["allowedTopologies"][0]["matchLabelExpressions"][0][
        "values"
    ].append("w")
    assert repr(cluster) == before


def test_the_rollback_claim_drops_this_runbooks_label_and_an_empty_label_map():
    claim = pvc(volume="d-bp1labels000001")
    claim["metadata"]["labels"] = {"app": "db", **MANAGED}
    step = step_of(one(pv("d-bp1labels000001", {"driver": "alicloud/disk"}), claim))
    assert step["rollback"]["pvc"]["metadata"]["labels"] == {"app": "db"}
    claim["metadata"]["labels"] = dict(MANAGED)
    step = step_of(one(pv("d-bp1labels000001", {"driver": "alicloud/disk"}), claim))
    assert "labels" not in step["rollback"]["pvc"]["metadata"]


@pytest.mark.parametrize("value", [5, [1], "pv"])
def test_a_cluster_list_of_anything_but_objects_is_refused(value):
    with pytest.raises(StorageInputError) as info:
        plan_flex_migration({"persistent_volumes": value}, {})
    assert info.value.field == "cluster.persistent_volumes"


def test_a_disk_without_any_fstype_is_ext4():
    step = step_of(one(pv("d-bp1nofstype00001", {"driver": "alicloud/disk"})))
    assert step["new_pv"]["spec"]["csi"]["fsType"] == "ext4"


def test_class_checks_that_must_not_fire():
    result = classes_of(
        sc("a", "alicloud/disk", parameters={"zoneid": "z-a,z-b"}, volumeBindingMode="WaitForFirstConsumer"),
        sc("b", "alicloud/disk"),
        sc("c", "alicloud/nas", parameters={"server": "nas.example.com:/k8s"}),
    )  # fmt: skip
    assert result["warnings"] == []
    assert [c["parameters"] for c in result["storage_classes"]] == [
        {"zoneId": "z-a,z-b", "csi.storage.k8s.io/fstype": "ext4"},
        {"csi.storage.k8s.io/fstype": "ext4"},
        {"server": "nas.example.com:/k8s", "volumeAs": "subpath"},
    ]


def test_other_opts_word_by_word():
    reason = skipped(one(oss_pv(otherOpts="-oa b"), options={"oss_secret": {"name": "k"}}))
    assert reason == "otherOpts has an option not preceded by -o, which the CSI driver refuses"


def test_the_flex_mount_options_win_over_the_pv_spec_ones():
    volume = pv("nas-a", {"driver": "alicloud/nas", "options": {"server": "n.example.com", "options": "hard"}},
                mountOptions=["soft"])  # fmt: skip
    assert step_of(one(volume))["new_pv"]["spec"]["mountOptions"] == ["hard"]


def test_a_name_of_254_characters_with_its_suffix_is_cut():
    name = "d-" + "a" * 248  # 250 + "-csi" = 254
    new = step_of(one(pv(name, {"driver": "alicloud/disk"})))["new_pv"]["metadata"]["name"]
    assert len(new) == 253


def test_selected_volumes_are_found_after_others_and_not_reported_missing():
    plain = pv("a-csi", {"driver": "alicloud/disk"})
    plain["spec"].pop("flexVolume")
    plain["spec"]["csi"] = {"driver": "diskplugin.csi.alibabacloud.com", "volumeHandle": "d-x"}
    cluster = {
        "persistent_volumes": [pv("c-disk", {"driver": "alicloud/disk", "options": {"volumeId": "d-c0000000"}}, claim="c"),
                               pv("b-disk", {"driver": "alicloud/disk", "options": {"volumeId": "d-b0000000"}}, claim="b"),
                               plain],
        "persistent_volume_claims": [pvc("b", volume="b-disk"), pvc("c", volume="c-disk")],
    }  # fmt: skip
    result = plan_flex_migration(cluster, {"volumes": ["c-disk"]})
    assert [s["pv"] for s in result["volumes"]] == ["c-disk"]
    assert result["skipped"] == []


def test_a_foreign_flex_driver_is_skipped_and_the_next_pv_still_migrates():
    cluster = {
        "persistent_volumes": [pv("a-lvm", {"driver": "example.com/lvm"}, claim="a"),
                               pv("d-bp1after0000001", {"driver": "alicloud/disk"}, claim="b")],
        "persistent_volume_claims": [pvc("b", volume="d-bp1after0000001")],
    }  # fmt: skip
    result = plan_flex_migration(cluster, {})
    assert [s["pv"] for s in result["volumes"]] == ["d-bp1after0000001"]
    assert result["skipped"] == [
        {"pv": "a-lvm", "reason": "flexVolume driver 'example.com/lvm' is not an Alibaba Cloud one"}
    ]
