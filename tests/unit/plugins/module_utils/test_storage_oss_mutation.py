"""OSS volumes and classes, written out whole (issue 18 kill tests for storage/oss.py).

Expected objects follow what the Alibaba Cloud CSI OSS driver reads
(kubernetes-sigs/alibaba-cloud-csi-driver pkg/oss, pkg/mounter/fuse_pod_manager/oss):
volumeAttributes bucket/url/path/otherOpts/fuseType/authType/roleName/roleArn/
oidcProviderArn/encrypted/kmsKeyId, the node-publish Secret reference, and the
flexVolume plugin's bucket/url/otherOpts options; typed out here by hand.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from tests.unit.plugins.module_utils.test_storage_plan_mutation import MANAGED, of_kind, refused
from tests.unit.plugins.module_utils.test_storage_refusals import OSS_URL, oss, plan

DRIVER = "ossplugin.csi.alibabacloud.com"
ROLE_ARN = "acs:ram::1234:role/oss-reader"
OIDC_ARN = "acs:ram::1234:oidc-provider/ack-rrsa-c1"


def pv_of(**extra):
    result = build_plan(plan(volumes=[oss(**extra)]))
    (pv,) = of_kind(result, "PersistentVolume")
    (pvc,) = of_kind(result, "PersistentVolumeClaim")
    return pv, pvc, result


def class_of(params_plan=None, **raw):
    base = {"name": "o", "type": "oss", "bucket": "b-1", "url": OSS_URL}
    result = build_plan(params_plan or plan(storage_classes=[{**base, **raw}]))
    return of_kind(result, "StorageClass")[0], result


def test_a_static_volume_with_every_ossfs_option():
    pv, pvc, result = pv_of(
        namespace="ml",
        pv_name="models.pv",
        size="1Ti",
        path="/llm",
        other_opts="-o allow_other   -omax_stat_cache_size=0",
        fuse_type="ossfs",
        encrypted="kms",
        kms_key_id="key-1",
        access_modes=["ReadOnlyMany"],
        reclaim_policy="Delete",
        labels={"app": "llm"},
    )
    assert pv == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": "models.pv",
            "labels": {"app": "llm", "alicloud-pvname": "models.pv", **MANAGED},
        },
        "spec": {
            "capacity": {"storage": "1Ti"},
            "accessModes": ["ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Delete",
            "csi": {
                "driver": DRIVER,
                "volumeHandle": "models.pv",
                "volumeAttributes": {
                    "bucket": "llm-models",
                    "url": OSS_URL,
                    "path": "/llm",
                    "otherOpts": "-o allow_other -omax_stat_cache_size=0",
                    "fuseType": "ossfs",
                    "encrypted": "kms",
                    "kmsKeyId": "key-1",
                },
                "nodePublishSecretRef": {"name": "keys", "namespace": "default"},
            },
        },
    }
    assert pvc == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "models", "namespace": "ml", "labels": {"app": "llm", **MANAGED}},
        "spec": {
            "accessModes": ["ReadOnlyMany"],
            "resources": {"requests": {"storage": "1Ti"}},
            "storageClassName": "",
            "selector": {"matchLabels": {"alicloud-pvname": "models.pv"}},
        },
    }
    assert not [w for w in result["warnings"] if w.startswith("volume models")]


def test_a_static_volume_by_default():
    pv, _pvc, _result = pv_of()
    assert pv["spec"] == {
        "capacity": {"storage": "20Gi"},
        "accessModes": ["ReadWriteMany"],
        "persistentVolumeReclaimPolicy": "Retain",
        "csi": {
            "driver": DRIVER,
            "volumeHandle": "models",
            "volumeAttributes": {"bucket": "llm-models", "url": OSS_URL, "path": "/"},
            "nodePublishSecretRef": {"name": "keys", "namespace": "default"},
        },
    }


def test_rrsa_by_role_name_and_by_arns():
    pv, _pvc, _result = pv_of(secret=None, auth_type="rrsa", role_name="oss-reader")
    assert pv["spec"]["csi"] == {
        "driver": DRIVER,
        "volumeHandle": "models",
        "volumeAttributes": {
            "bucket": "llm-models",
            "url": OSS_URL,
            "path": "/",
            "authType": "rrsa",
            "roleName": "oss-reader",
        },
    }
    pv, _pvc, _result = pv_of(
        secret=None, auth_type="rrsa", role_arn=ROLE_ARN, oidc_provider_arn=OIDC_ARN
    )
    attributes = pv["spec"]["csi"]["volumeAttributes"]
    assert (attributes["roleArn"], attributes["oidcProviderArn"]) == (ROLE_ARN, OIDC_ARN)
    assert "roleName" not in attributes


def test_sts_takes_a_role_name_and_no_secret():
    pv, _pvc, _result = pv_of(secret=None, auth_type="sts", role_name="worker-role")
    attributes = pv["spec"]["csi"]["volumeAttributes"]
    assert (attributes["authType"], attributes["roleName"]) == ("sts", "worker-role")
    assert "nodePublishSecretRef" not in pv["spec"]["csi"]


def test_other_opts_as_a_list_of_items():
    pv, _pvc, _result = pv_of(other_opts=["-o allow_other", "-oumask=022"])
    assert pv["spec"]["csi"]["volumeAttributes"]["otherOpts"] == "-o allow_other -oumask=022"
    pv, _pvc, _result = pv_of(other_opts="   ")
    assert "otherOpts" not in pv["spec"]["csi"]["volumeAttributes"]


@pytest.mark.parametrize(
    ("other_opts", "field", "word"),
    [
        ("-o", "other_opts", "'-o'"),  # a -o with nothing after it
        ("-o allow_other -o", "other_opts", "'-o'"),
        ("allow_other", "other_opts", "'allow_other'"),
        (["-o allow_other extra"], "other_opts[0]", "'-o allow_other extra'"),
        (["-o"], "other_opts[0]", "'-o'"),
        (["allow_other"], "other_opts[0]", "'allow_other'"),
    ],
)
def test_other_opts_without_dash_o_are_refused(other_opts, field, word):
    error = refused(plan(volumes=[oss(other_opts=other_opts)]))
    assert error.field == f"volumes[0].{field}"
    assert error.cause.startswith(f"{word} ")


def test_an_endpoint_outside_the_region_warns_and_a_foreign_host_does_not():
    _pv, _pvc, result = pv_of(url="oss-cn-beijing-internal.aliyuncs.com")
    assert (
        "volume models: endpoint oss-cn-beijing-internal.aliyuncs.com is not in region "
        "cn-hangzhou: traffic leaves the region and is billed" in result["warnings"]
    )
    for url in (
        "oss-cn-hangzhou.aliyuncs.com",
        "https://oss-cn-hangzhou-internal.aliyuncs.com",
        "cn-hangzhou.oss.aliyuncs.com",
        "minio.internal:9000",
    ):
        _pv, _pvc, result = pv_of(url=url)
        assert not [w for w in result["warnings"] if "endpoint" in w], url


@pytest.mark.parametrize(
    "url",
    [
        "llm-models.oss-cn-hangzhou-internal.aliyuncs.com",
        "http://llm-models.oss-cn-hangzhou-internal.aliyuncs.com/",
    ],
)
def test_a_bucket_domain_is_refused_with_the_endpoint_to_use(url):
    error = refused(plan(volumes=[oss(url=url)]))
    assert error.field == "volumes[0].url"
    assert error.cause == (
        f"{url!r} is the bucket's own domain, which the driver refuses; allowed: the endpoint "
        "without the bucket, e.g. oss-cn-hangzhou-internal.aliyuncs.com"
    )


def test_a_host_that_only_starts_like_the_bucket_is_an_endpoint():
    # Three labels: no bucket domain (<bucket>.<endpoint> has at least four).
    pv, _pvc, _result = pv_of(url="llm-models.example.com")
    assert pv["spec"]["csi"]["volumeAttributes"]["url"] == "llm-models.example.com"


@pytest.mark.parametrize(
    ("extra", "field", "cause"),
    [
        (
            {"url": "not a host"},
            "url",
            "'not a host' is not an endpoint; allowed: a host such as "
            "oss-cn-hangzhou-internal.aliyuncs.com, optionally with http:// or https://",
        ),
        (
            {"url": None},
            "url",
            "is required; allowed: the OSS endpoint, e.g. oss-cn-hangzhou-internal.aliyuncs.com",
        ),
        (
            {"bucket": "Bad_Bucket"},
            "bucket",
            "'Bad_Bucket' is not valid; allowed: an OSS bucket name: 3 to 63 lowercase letters, "
            "digits and '-'",
        ),
        (
            {"path": "llm"},
            "path",
            "'llm' does not start with /; allowed: a path in the bucket starting with /, e.g. /models",
        ),
        ({"fuse_type": "s3fs"}, "fuse_type", "'s3fs' is not allowed; allowed: ossfs, ossfs2"),
        ({"encrypted": "sm4"}, "encrypted", "'sm4' is not allowed; allowed: kms, aes256"),
        (
            {"encrypted": "aes256", "kms_key_id": "key-1"},
            "kms_key_id",
            "needs encrypted: kms; allowed: set encrypted: kms",
        ),
        (
            {"fuse_type": "ossfs2", "encrypted": "aes256"},
            "encrypted",
            "ossfs2 does not support server-side encryption; allowed: fuse_type ossfs with encrypted",
        ),
        (
            {"auth_type": "rrsa"},
            "secret",
            "auth_type rrsa takes no Secret; allowed: drop secret, or auth_type secret",
        ),
        (
            {"secret": None, "auth_type": "rrsa"},
            "role_name",
            "RRSA needs a role; allowed: role_name, or role_arn with oidc_provider_arn",
        ),
        (
            {"secret": None, "auth_type": "rrsa", "oidc_provider_arn": OIDC_ARN},
            "role_arn",
            "RRSA needs role_arn and oidc_provider_arn together; allowed: both, or role_name alone",
        ),
        (
            {"role_arn": ROLE_ARN},
            "role_arn",
            "applies to auth_type rrsa only; allowed: auth_type rrsa",
        ),
        (
            {"secret": None, "auth_type": "sts", "oidc_provider_arn": OIDC_ARN},
            "oidc_provider_arn",
            "applies to auth_type rrsa only; allowed: auth_type rrsa",
        ),
        (
            {"role_name": "r"},
            "role_name",
            "auth_type secret takes no role; allowed: auth_type rrsa or sts",
        ),
        (
            {"auth_type": "daemon"},
            "auth_type",
            "'daemon' cannot be used with driver csi (daemon is the flexVolume plugin's own "
            "AccessKey); allowed: secret, rrsa, sts",
        ),
        (
            {"access_modes": ["ReadWriteOncePod"]},
            "access_modes[0]",
            "'ReadWriteOncePod' is not allowed here (a bucket is shared storage); allowed: "
            "ReadWriteMany, ReadOnlyMany, ReadWriteOnce",
        ),
        ({"pv_name": "Models"}, "pv_name", None),
        ({"size": "lots"}, "size", None),
        ({"reclaim_policy": "Recycle"}, "reclaim_policy", None),
        ({"labels": {"a": "b c"}}, "labels.a", None),
    ],
)
def test_static_volume_refusals(extra, field, cause):
    error = refused(plan(volumes=[oss(**extra)]))
    assert (error.obj, error.field) == ("volume models", f"volumes[0].{field}")
    if cause:
        assert error.cause == cause


def test_auth_type_daemon_refusal_lists_what_the_driver_takes():
    error = refused(plan(volumes=[oss(auth_type="daemon")]))
    assert error.details == {"allowed": ["secret", "rrsa", "sts"]}


# --- the flexVolume plugin ---------------------------------------------------------------


def test_a_flexvolume_volume_uses_the_plugins_own_key_and_says_so():
    result = build_plan(
        plan(driver="flexvolume", volumes=[oss(secret=None, other_opts="-o allow_other")])
    )
    (pv,) = of_kind(result, "PersistentVolume")
    assert pv["spec"]["flexVolume"] == {
        "driver": "alicloud/oss",
        "options": {"bucket": "llm-models", "url": OSS_URL, "otherOpts": "-o allow_other"},
    }
    assert "csi" not in pv["spec"]
    assert (
        "volume models: credentials come from the flexVolume plugin's own Secret (its "
        "DaemonSet); migrate to CSI to scope them per volume" in result["warnings"]
    )


@pytest.mark.parametrize(
    ("extra", "field", "named"),
    [
        ({"path": "/llm"}, "path", "path"),
        ({"fuse_type": "ossfs"}, "fuse_type", "fuseType"),
        ({"encrypted": "kms"}, "fuse_type", "encrypted"),
    ],
)
def test_a_flexvolume_volume_mounts_whole_buckets_only(extra, field, named):
    error = refused(plan(driver="flexvolume", volumes=[oss(secret=None, **extra)]))
    assert error.field == f"volumes[0].{field}"
    assert error.cause == (
        f"the flexVolume plugin mounts whole buckets with bucket, url and otherOpts only (not "
        f"{named}); allowed: driver csi for those"
    )


@pytest.mark.parametrize("auth", ["rrsa", "sts", "secret"])
def test_a_flexvolume_volume_takes_no_other_credentials(auth):
    error = refused(plan(driver="flexvolume", volumes=[oss(secret=None, auth_type=auth)]))
    assert error.field == "volumes[0].auth_type"
    assert error.cause == (
        f"{auth!r} cannot be used with driver flexvolume (the flexVolume plugin takes an "
        "AccessKey only inline in the PV, which this runbook never writes); allowed: daemon"
    )
    assert error.details == {"allowed": ["daemon"]}


def test_daemon_takes_no_role():
    error = refused(plan(driver="flexvolume", volumes=[oss(secret=None, role_name="r")]))
    assert (error.field, error.cause) == (
        "volumes[0].role_name",
        "auth_type daemon takes no role; allowed: auth_type rrsa or sts",
    )


# --- classes ------------------------------------------------------------------------------


def test_a_class_with_a_secret_and_every_option():
    sc, _result = class_of(
        path="/data",
        secret="keys",
        volume_as="sharepath",
        other_opts="-o allow_other",
        fuse_type="ossfs2",
        mount_options=["ro"],
        labels={"tier": "objects"},
        default=True,
    )
    assert sc == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "o",
            "labels": {"tier": "objects", **MANAGED},
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": DRIVER,
        "parameters": {
            "bucket": "b-1",
            "url": OSS_URL,
            "path": "/data",
            "otherOpts": "-o allow_other",
            "fuseType": "ossfs2",
            "volumeAs": "sharepath",
            # external-provisioner hands these to every volume as nodePublishSecretRef.
            "csi.storage.k8s.io/node-publish-secret-name": "keys",
            "csi.storage.k8s.io/node-publish-secret-namespace": "default",
        },
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": False,
        "mountOptions": ["ro"],
    }


def test_claims_on_an_oss_class_are_rwx_and_no_block():
    params = plan(
        storage_classes=[{"name": "o", "type": "oss", "bucket": "b-1", "url": OSS_URL,
                          "secret": "keys"}],
        claims=[{"name": "c", "storage_class": "o", "size": 5}],
    )  # fmt: skip
    result = build_plan(params)
    claim = of_kind(result, "PersistentVolumeClaim")[0]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert result["volumes"][0]["type"] == "oss"
    params["claims"][0]["volume_mode"] = "Block"
    assert refused(params).field == "claims[0].volume_mode"
    params["claims"][0].pop("volume_mode")
    params["claims"][0]["access_modes"] = ["ReadWriteOncePod"]
    assert refused(params).field == "claims[0].access_modes[0]"


def test_an_oss_class_refuses_a_bad_volume_as_and_delete():
    base = {"name": "o", "type": "oss", "bucket": "b-1", "url": OSS_URL, "secret": "keys"}
    error = refused(plan(storage_classes=[{**base, "volume_as": "bucketspace"}]))
    assert error.field == "storage_classes[0].volume_as"
    assert error.details == {"allowed": ["sharepath", "subpath", "direct"]}
    error = refused(plan(storage_classes=[{**base, "reclaim_policy": "Delete"}]))
    assert error.cause == (
        "must be Retain (the OSS driver never deletes bucket data and refuses Delete); "
        "allowed: Retain"
    )


def test_a_dynamic_oss_class_needs_the_csi_driver():
    error = refused(
        plan(driver="flexvolume", storage_classes=[{"name": "o", "type": "oss", "bucket": "b-1"}])
    )
    assert (error.field, error.cause) == (
        "storage_classes[0].type",
        "dynamic OSS needs the CSI driver; allowed: driver csi, or static volumes",
    )


@pytest.mark.parametrize("key", ["akId", "access_key_secret", "AccessKeyId"])
def test_an_access_key_in_a_volume_is_refused_whatever_its_spelling(key):
    error = refused(plan(volumes=[oss(**{key: "v"})]))
    assert (error.obj, error.field) == ("volume models", f"volumes[0].{key}")
    assert error.cause == (
        "an AccessKey never goes into a volume or a class (it would be readable by anyone who "
        "can read PVs); allowed: put it in a secrets item and reference that item's name with "
        "secret, or use auth_type rrsa/sts"
    )


@pytest.mark.parametrize(("other_opts", "word"), [("-oa -o b x", "'x'"), ("-oa b", "'b'")])
def test_other_opts_are_read_word_by_word(other_opts, word):
    error = refused(plan(volumes=[oss(other_opts=other_opts)]))
    assert error.cause.startswith(f"{word} is not preceded by -o")


def test_a_bucket_is_required():
    error = refused(plan(volumes=[oss(bucket=None)]))
    assert (error.field, error.cause) == (
        "volumes[0].bucket",
        "is required; allowed: an OSS bucket name: 3 to 63 lowercase letters, digits and '-'",
    )


def test_an_unknown_auth_type_lists_every_kind():
    error = refused(plan(volumes=[oss(auth_type="ldap")]))
    assert (error.field, error.cause) == (
        "volumes[0].auth_type",
        "'ldap' is not allowed; allowed: secret, rrsa, sts, daemon",
    )


def test_the_bucket_domain_advice_keeps_the_endpoint_as_written():
    error = refused(plan(volumes=[oss(url="http://llm-models.oss.example.EX/")]))
    assert error.cause.endswith("e.g. oss.example.EX")


def test_a_flexvolume_refusal_lists_every_unsupported_attribute_but_other_opts():
    error = refused(
        plan(
            driver="flexvolume",
            volumes=[oss(secret=None, fuse_type="ossfs", encrypted="kms", other_opts="-o ro")],
        )
    )
    assert "(not encrypted, fuseType)" in error.cause
