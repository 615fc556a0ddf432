"""NAS volumes and classes, written out whole (issue 18 kill tests for storage/nas.py).

The expected objects are the shapes the Alibaba Cloud CSI NAS driver reads
(kubernetes-sigs/alibaba-cloud-csi-driver pkg/nas): a static PV's volumeAttributes
server/path/vers/mode/modeType, a class's volumeAs and its per-mode parameters, the
flexVolume plugin's options; typed out here, never read back from the module.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    StorageInputError,
)
from tests.unit.plugins.module_utils.test_storage_plan_mutation import MANAGED, of_kind, refused
from tests.unit.plugins.module_utils.test_storage_refusals import NAS, nas, plan

MODE_WARNING = (
    "mode makes the driver chmod the NAS directory when it is mounted (every file with "
    "mode_type recursive): slow on large volumes, the guide says to avoid it"
)
FS = {
    "name": "fs",
    "type": "nas",
    "volume_as": "filesystem",
    "zones": ["cn-hangzhou-h"],
    "vpc_id": "vpc-1",
    "vswitch_id": "vsw-1",
}


def volume_objects(**extra):
    result = build_plan(plan(volumes=[nas(**extra)]))
    (pv,) = of_kind(result, "PersistentVolume")
    (pvc,) = of_kind(result, "PersistentVolumeClaim")
    return pv, pvc, result


def one_class(**raw):
    result = build_plan(plan(storage_classes=[{"name": "n", "type": "nas", **raw}]))
    return of_kind(result, "StorageClass")[0], result


def test_a_static_volume_with_every_option():
    pv, pvc, result = volume_objects(
        namespace="web",
        pv_name="share.pv",
        size="5Gi",
        path="/share/app/",
        vers=4,
        mount_options=["noresvport", "timeo=600"],
        mode="0775",
        mode_type="recursive",
        access_modes=["ReadOnlyMany"],
        reclaim_policy="Delete",
        labels={"team": "web"},
    )
    assert pv == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": "share.pv",
            "labels": {"team": "web", "alicloud-pvname": "share.pv", **MANAGED},
        },
        "spec": {
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Delete",
            "csi": {
                "driver": "nasplugin.csi.alibabacloud.com",
                "volumeHandle": "share.pv",
                "volumeAttributes": {
                    "server": NAS,
                    "path": "/share/app",
                    "vers": "4.0",
                    "mode": "0775",
                    "modeType": "recursive",
                },
            },
            "mountOptions": ["noresvport", "timeo=600"],
        },
    }
    assert pvc == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "share", "namespace": "web", "labels": {"team": "web", **MANAGED}},
        "spec": {
            "accessModes": ["ReadOnlyMany"],
            "resources": {"requests": {"storage": "5Gi"}},
            "storageClassName": "",
            "selector": {"matchLabels": {"alicloud-pvname": "share.pv"}},
        },
    }
    assert f"volume share: {MODE_WARNING}" in result["warnings"]


def test_a_static_volume_by_default_is_20gi_rwx_retained_nfs3_at_the_root():
    pv, pvc, result = volume_objects(path=None)
    assert pv["spec"] == {
        "capacity": {"storage": "20Gi"},
        "accessModes": ["ReadWriteMany"],
        "persistentVolumeReclaimPolicy": "Retain",
        "csi": {
            "driver": "nasplugin.csi.alibabacloud.com",
            "volumeHandle": "share",
            "volumeAttributes": {"server": NAS, "path": "/", "vers": "3"},
        },
    }
    assert pvc["spec"]["resources"] == {"requests": {"storage": "20Gi"}}
    assert not [w for w in result["warnings"] if "chmod" in w]


def test_a_static_volume_on_the_flexvolume_driver():
    params = plan(
        driver="flexvolume",
        volumes=[nas(mode="755", vers="3.0", mount_options=["noresvport", "hard"])],
    )
    (pv,) = of_kind(build_plan(params), "PersistentVolume")
    # The flexVolume plugin alicloud/nas: server, path, vers, mode, options comma-joined.
    assert pv["spec"]["flexVolume"] == {
        "driver": "alicloud/nas",
        "options": {
            "server": NAS,
            "path": "/share",
            "vers": "3",
            "mode": "755",
            "options": "noresvport,hard",
        },
    }
    assert "csi" not in pv["spec"]
    assert "mountOptions" not in pv["spec"]
    (pv,) = of_kind(build_plan(plan(driver="flexvolume", volumes=[nas()])), "PersistentVolume")
    assert pv["spec"]["flexVolume"]["options"] == {"server": NAS, "path": "/share", "vers": "3"}


@pytest.mark.parametrize(
    ("extra", "field", "cause"),
    [
        (
            {"server": None},
            "server",
            "is required; allowed: the NAS mount target host, e.g. "
            "0a1b2c-xyz.cn-hangzhou.nas.aliyuncs.com",
        ),
        (
            {"server": "nas_host!"},
            "server",
            "'nas_host!' is not a host name; allowed: a host name such as "
            "0a1b2c-xyz.cn-hangzhou.nas.aliyuncs.com",
        ),
        (
            {"path": "share"},
            "path",
            "'share' is not an absolute directory; allowed: a path starting with /, e.g. /share/app",
        ),
        ({"path": "/a//b"}, "path", None),
        ({"path": "/a/../b"}, "path", None),
        ({"path": "/a/.."}, "path", None),
        (
            {"vers": True},
            "vers",
            "NFS version True is not supported; allowed: 3, 4.0",
        ),
        (
            {"mount_options": ["hard", "nfsvers=4"]},
            "mount_options[1]",
            "sets the NFS version: use vers instead; allowed: options other than vers/nfsvers",
        ),
        (
            {"mode_type": "recursive"},
            "mode_type",
            "applies only with mode; allowed: set mode too, or drop mode_type",
        ),
        (
            {"mode": "0999"},
            "mode",
            "'0999' is not an octal mode; allowed: three octal digits with an optional "
            "leading 0, e.g. 755",
        ),
        (
            {"mode": ["755"]},
            "mode",
            "must be a string, got list; allowed: an octal mode such as 755 or 0775",
        ),
        ({"mode": "755", "mode_type": "deep"}, "mode_type", None),
        (
            {"size": "0Gi"},
            "size",
            "'0Gi' must be greater than zero; allowed: a whole number of GiB (20) or a "
            "quantity such as 20Gi, 500Mi, 1Ti",
        ),
        ({"pv_name": "Share"}, "pv_name", None),
        (
            {"access_modes": ["ReadWriteAll"]},
            "access_modes[0]",
            "'ReadWriteAll' is not allowed here (NFS serves every mode); allowed: "
            "ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod",
        ),
        ({"reclaim_policy": "Recycle"}, "reclaim_policy", None),
        ({"labels": {"a": "b c"}}, "labels.a", None),
    ],
)
def test_static_volume_refusals(extra, field, cause):
    error = refused(plan(volumes=[nas(**extra)]))
    assert (error.obj, error.field) == ("volume share", f"volumes[0].{field}")
    if cause:
        assert error.cause == cause


def test_a_bracketed_ipv6_server_and_a_dotted_pv_name_are_accepted():
    pv, _pvc, _result = volume_objects(server="[fd00::1]", pv_name="nas.share")
    assert pv["spec"]["csi"]["volumeAttributes"]["server"] == "[fd00::1]"
    assert pv["metadata"]["name"] == "nas.share"


def test_the_root_directory_takes_no_mode_on_a_static_volume():
    error = refused(plan(volumes=[nas(path="/", mode="755")]))
    assert (error.field, error.cause) == (
        "volumes[0].mode",
        "cannot be set on the root directory of the file system; allowed: mode with a path below /",
    )


# --- classes ----------------------------------------------------------------------------


def test_a_subpath_class_with_every_option():
    sc, result = one_class(
        server=NAS,
        path="/k8s/",
        vers="4",
        mount_options=["noresvport"],
        mode="750",
        mode_type="non-recursive",
        archive_on_delete=False,
        volume_capacity=True,
        reclaim_policy="Retain",
        allow_volume_expansion=True,
        default=True,
        labels={"tier": "files"},
    )
    assert sc == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "n",
            "labels": {"tier": "files", **MANAGED},
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "nasplugin.csi.alibabacloud.com",
        "parameters": {
            "volumeAs": "subpath",
            "server": f"{NAS}:/k8s",
            "mode": "750",
            "modeType": "non-recursive",
            "archiveOnDelete": "false",
            "volumeCapacity": "true",
        },
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
        "mountOptions": ["vers=4.0", "noresvport"],
    }
    assert f"storage class n: {MODE_WARNING}" in result["warnings"]


def test_a_subpath_class_by_default():
    sc, result = one_class(server=NAS)
    assert sc["parameters"] == {"volumeAs": "subpath", "server": f"{NAS}:/"}
    assert (sc["reclaimPolicy"], sc["allowVolumeExpansion"], sc["mountOptions"]) == (
        "Delete",
        False,
        ["vers=3"],
    )
    assert "annotations" not in sc["metadata"]
    assert result["warnings"] == ["secret keys: is not referenced by any OSS volume or class"]
    # The root directory may carry a mode on a subpath class (the driver creates subdirectories).
    sc, _result = one_class(server=NAS, mode="755")
    assert sc["parameters"]["mode"] == "755"


def test_a_subpath_class_may_ask_to_archive_on_delete():
    sc, _result = one_class(server=NAS, archive_on_delete="yes")
    assert sc["parameters"]["archiveOnDelete"] == "true"


def test_a_sharepath_class_retains_and_refuses_mode_at_the_root():
    sc, _result = one_class(volume_as="sharepath", server=NAS, path="/shared", mode="755")
    assert sc["parameters"] == {
        "volumeAs": "sharepath",
        "server": f"{NAS}:/shared",
        "mode": "755",
    }
    assert sc["reclaimPolicy"] == "Retain"
    error = refused(plan(storage_classes=[{"name": "n", "type": "nas", "volume_as": "sharepath",
                                           "server": NAS, "mode": "755"}]))  # fmt: skip
    assert error.field == "storage_classes[0].mode"
    error = refused(plan(storage_classes=[{"name": "n", "type": "nas", "volume_as": "sharepath",
                                           "server": NAS, "reclaim_policy": "Delete"}]))  # fmt: skip
    assert (error.field, error.cause) == (
        "storage_classes[0].reclaim_policy",
        "must be Retain (every claim of a sharepath class shares one directory, the driver "
        "refuses Delete); allowed: Retain",
    )
    assert error.details == {"allowed": ["Retain"]}


def test_a_filesystem_class_with_every_option():
    sc, result = one_class(
        **{k: v for k, v in FS.items() if k not in ("name", "type")},
        file_system_type="extreme",
        storage_type="advance",
        access_group_name="DEFAULT_VPC_GROUP_NAME",
        delete_volume=True,
        encrypt_type="1",
        reclaim_policy="Delete",
    )
    assert sc == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "n", "labels": MANAGED},
        "provisioner": "nasplugin.csi.alibabacloud.com",
        "parameters": {
            "volumeAs": "filesystem",
            "fileSystemType": "extreme",
            "storageType": "advance",
            "protocolType": "NFS",
            "zoneId": "cn-hangzhou-h",
            "vpcId": "vpc-1",
            "vSwitchId": "vsw-1",
            "accessGroupName": "DEFAULT_VPC_GROUP_NAME",
            "deleteVolume": "true",
            "encryptType": "1",
        },
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": False,
        "mountOptions": ["vers=3"],
    }
    assert not [w for w in result["warnings"] if "delete_volume" in w]


def test_a_standard_filesystem_class_by_default_and_its_delete_warning():
    result = build_plan(plan(storage_classes=[FS]))
    (sc,) = of_kind(result, "StorageClass")
    assert sc["parameters"] == {
        "volumeAs": "filesystem",
        "fileSystemType": "standard",
        "storageType": "Performance",
        "protocolType": "NFS",
        "zoneId": "cn-hangzhou-h",
        "vpcId": "vpc-1",
        "vSwitchId": "vsw-1",
    }
    assert sc["reclaimPolicy"] == "Delete"
    assert (
        "storage class fs: reclaim_policy Delete without delete_volume: deleting a claim keeps "
        "the file system (and its bill)" in result["warnings"]
    )
    retained = build_plan(plan(storage_classes=[{**FS, "reclaim_policy": "Retain"}]))
    assert not [w for w in retained["warnings"] if "delete_volume" in w]


def test_an_extreme_filesystem_starts_at_100_gib():
    params = plan(
        storage_classes=[{**FS, "file_system_type": "extreme"}],
        claims=[{"name": "c", "storage_class": "fs", "size": "100Gi"}],
    )
    claim = of_kind(build_plan(params), "PersistentVolumeClaim")[0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    params["claims"][0]["size"] = "99Gi"
    error = refused(params)
    assert (error.field, error.cause) == (
        "claims[0].size",
        "size 99Gi is below the minimum of an extreme NAS file system; allowed: at least 100Gi",
    )
    # A standard file system has no such minimum.
    params["storage_classes"] = [FS]
    assert of_kind(build_plan(params), "PersistentVolumeClaim")


@pytest.mark.parametrize(
    ("extra", "field", "cause", "allowed"),
    [
        (
            {"zones": ["cn-hangzhou-h", "cn-hangzhou-i"]},
            "zones",
            "the file system is created in one zone; allowed: exactly one of cn-hangzhou-h, "
            "cn-hangzhou-i",
            ["cn-hangzhou-h", "cn-hangzhou-i"],
        ),
        (
            {"encrypt_type": "1"},
            "encrypt_type",
            "applies to extreme file systems only; allowed: with file_system_type extreme",
            None,
        ),
        ({"file_system_type": "extreme", "encrypt_type": "2"}, "encrypt_type", None, ["0", "1"]),
        (
            {"file_system_type": "extreme", "vers": "4.0"},
            "vers",
            "extreme NAS serves NFS 3 only; allowed: 3",
            ["3"],
        ),
        (
            {"mode": "755"},
            "mode",
            "a new file system is mounted at its root, where the driver refuses mode; allowed: "
            "no mode with volume_as filesystem",
            None,
        ),
        ({"mode_type": "recursive"}, "mode", None, None),
        (
            {"vswitch_id": None},
            "vswitch_id",
            "is required; allowed: a vSwitch in the zone, e.g. vsw-bp1...",
            None,
        ),
        (
            {"vpc_id": None},
            "vpc_id",
            "is required; allowed: the VPC of the cluster, e.g. vpc-bp1...",
            None,
        ),
        (
            {"storage_type": "Capacity", "file_system_type": "extreme"},
            "storage_type",
            None,
            ["standard", "advance"],
        ),
        ({"storage_type": "advance"}, "storage_type", None, ["Performance", "Capacity"]),
        (
            {"server": NAS},
            "server",
            "does not apply to volume_as filesystem; allowed: with volume_as subpath, sharepath",
            None,
        ),
    ],
)
def test_filesystem_class_refusals(extra, field, cause, allowed):
    error = refused(plan(storage_classes=[{**FS, **extra}]))
    assert (error.obj, error.field) == ("storage class fs", f"storage_classes[0].{field}")
    if cause:
        assert error.cause == cause
    assert error.details == ({"allowed": allowed} if allowed else {})


@pytest.mark.parametrize(
    ("volume_as", "key", "value"),
    [
        ("subpath", "zones", ["cn-hangzhou-h"]),
        ("subpath", "vpc_id", "vpc-1"),
        ("subpath", "delete_volume", True),
        ("sharepath", "archive_on_delete", True),
        ("sharepath", "volume_capacity", True),
        ("subpath", "encrypt_type", "1"),
    ],
)
def test_keys_of_another_volume_as_are_refused(volume_as, key, value):
    error = refused(
        plan(
            storage_classes=[
                {"name": "n", "type": "nas", "volume_as": volume_as, "server": NAS, key: value}
            ]
        )
    )
    assert error.field == f"storage_classes[0].{key}"
    assert error.cause.startswith(f"does not apply to volume_as {volume_as}; allowed: with ")


def test_a_dynamic_nas_class_needs_the_csi_driver():
    error = refused(plan(driver="flexvolume", storage_classes=[{**FS}]))
    assert (error.obj, error.field) == ("storage class fs", "storage_classes[0].type")


def test_claims_on_a_nas_class_take_every_mode_and_default_to_rwx():
    params = plan(
        storage_classes=[{"name": "n", "type": "nas", "server": NAS}],
        claims=[
            {"name": "a", "storage_class": "n", "size": 1},
            {"name": "b", "storage_class": "n", "size": 1, "access_modes": ["ReadWriteOncePod"]},
        ],
    )
    claims = of_kind(build_plan(params), "PersistentVolumeClaim")
    assert [c["spec"]["accessModes"] for c in claims] == [["ReadWriteMany"], ["ReadWriteOncePod"]]
    rows = build_plan(params)["volumes"]
    assert {r["type"] for r in rows} == {"nas"}


def test_a_refusal_is_a_storage_input_error():
    with pytest.raises(StorageInputError):
        build_plan(plan(volumes=[nas(vers="5")]))


def test_a_trailing_slash_goes_and_nothing_else():
    pv, _pvc, _result = volume_objects(path="/BOX/")
    assert pv["spec"]["csi"]["volumeAttributes"]["path"] == "/BOX"


@pytest.mark.parametrize(
    ("raw", "field", "allowed"),
    [
        (
            {"volume_as": "bucketspace", "server": NAS},
            "volume_as",
            ["subpath", "sharepath", "filesystem"],
        ),
        ({**FS, "file_system_type": "premium"}, "file_system_type", ["standard", "extreme"]),
        ({"server": NAS, "vers": "5"}, "vers", ["3", "4.0"]),
    ],
)
def test_a_class_value_outside_its_choices_lists_them(raw, field, allowed):
    error = refused(plan(storage_classes=[{"name": "n", "type": "nas", **raw}]))
    assert (error.field, error.details) == (f"storage_classes[0].{field}", {"allowed": allowed})
