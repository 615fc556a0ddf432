"""build_plan refusals: each names the object, the key path and what is allowed."""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    StorageInputError,
)
from tests.catalogue import record

REGION = "cn-hangzhou"
ZONES = ["cn-hangzhou-h", "cn-hangzhou-i"]
NAS = "0a1b2c3d-xyz1.cn-hangzhou.nas.aliyuncs.com"
OSS_URL = "oss-cn-hangzhou-internal.aliyuncs.com"
KEYS = {"name": "keys", "access_key_id": "id-value", "access_key_secret": "secret-value"}


def disk(**extra):
    return {
        "name": "data",
        "type": "disk",
        "disk_id": "d-bp1j17ifxfasvts3tf40",
        "zone": "cn-hangzhou-h",
        "size": 20,
        **extra,
    }


def nas(**extra):
    return {"name": "share", "type": "nas", "server": NAS, "path": "/share", **extra}


def oss(**extra):
    return {
        "name": "models",
        "type": "oss",
        "bucket": "llm-models",
        "url": OSS_URL,
        "secret": "keys",
        **extra,
    }


def plan(**items):
    return {"region": REGION, "zones": ZONES, "secrets": [KEYS], **items}


# (id, params, object, field, fragments the message must contain besides "allowed")
REFUSALS = [
    (
        "zone-not-in-region",
        {"region": REGION, "zones": ["cn-hangzhou-h", "cn-beijing-a"]},
        "storage plan",
        "zones[1]",
        ["'cn-beijing-a' is not in region cn-hangzhou", "zones of cn-hangzhou"],
    ),
    (
        "static-disk-zone-not-in-region",
        plan(volumes=[disk(zone="cn-shanghai-b")]),
        "volume data",
        "volumes[0].zone",
        ["not in region cn-hangzhou", "cn-hangzhou-h, cn-hangzhou-i"],
    ),
    (
        "disk-zone-without-nodes",
        plan(volumes=[disk(zone="cn-hangzhou-k")]),
        "volume data",
        "volumes[0].zone",
        ["has no nodes", "cn-hangzhou-h, cn-hangzhou-i"],
    ),
    (
        "unknown-disk-category",
        plan(storage_classes=[{"name": "fast", "category": "cloud_turbo"}]),
        "storage class fast",
        "storage_classes[0].category",
        ["unknown disk category 'cloud_turbo'", "cloud_essd", "cloud_auto", "available"],
    ),
    (
        "size-below-category-minimum",
        plan(
            storage_classes=[{"name": "ssd", "category": "cloud_ssd"}],
            claims=[{"name": "logs", "namespace": "web", "storage_class": "ssd", "size": "10Gi"}],
        ),
        "claim web/logs",
        "claims[0].size",
        ["below the minimum", "cloud_ssd: 20..65536 GiB"],
    ),
    (
        "size-below-performance-level-minimum",
        plan(
            storage_classes=[{"name": "pl3", "category": "cloud_essd", "performance_level": "PL3"}],
            claims=[{"name": "db", "storage_class": "pl3", "size": "500Gi"}],
        ),
        "claim default/db",
        "claims[0].size",
        ["cloud_essd PL3: 1261..65536 GiB"],
    ),
    (
        "size-above-ephemeral-maximum",
        plan(
            storage_classes=[{"name": "eph", "category": "elastic_ephemeral_disk_standard"}],
            claims=[{"name": "tmp", "storage_class": "eph", "size": "10Ti"}],
        ),
        "claim default/tmp",
        "claims[0].size",
        ["outside the size range", "64..8192 GiB"],
    ),
    (
        "pl3-on-cloud-ssd",
        plan(
            storage_classes=[{"name": "ssd", "category": "cloud_ssd", "performance_level": "PL3"}]
        ),
        "storage class ssd",
        "storage_classes[0].performance_level",
        ["does not apply to category cloud_ssd", "only with category cloud_essd"],
    ),
    (
        "unknown-performance-level",
        plan(storage_classes=[{"name": "e", "category": "cloud_essd", "performance_level": "PL4"}]),
        "storage class e",
        "storage_classes[0].performance_level",
        ["PL0, PL1, PL2, PL3"],
    ),
    (
        "iops-on-essd",
        plan(storage_classes=[{"name": "e", "category": "cloud_essd", "provisioned_iops": 5000}]),
        "storage class e",
        "storage_classes[0].provisioned_iops",
        ["only with category cloud_auto"],
    ),
    (
        "kms-without-encryption",
        plan(storage_classes=[{"name": "e", "category": "cloud_essd", "kms_key_id": "key-1"}]),
        "storage class e",
        "storage_classes[0].kms_key_id",
        ["encrypted: true"],
    ),
    (
        "immediate-across-zones",
        plan(
            storage_classes=[
                {"name": "e", "category": "cloud_essd", "volume_binding_mode": "Immediate"}
            ]
        ),
        "storage class e",
        "storage_classes[0].volume_binding_mode",
        ["several zones", "WaitForFirstConsumer"],
    ),
    (
        "fs-type-unknown",
        plan(storage_classes=[{"name": "e", "category": "cloud_essd", "fs_type": "btrfs"}]),
        "storage class e",
        "storage_classes[0].fs_type",
        ["ext4, ext3, xfs, ntfs"],
    ),
    (
        "nas-vers-5",
        plan(volumes=[nas(vers=5)]),
        "volume share",
        "volumes[0].vers",
        ["NFS version 5", "3, 4.0"],
    ),
    (
        "nas-server-with-path",
        plan(volumes=[nas(server=f"{NAS}:/share")]),
        "volume share",
        "volumes[0].server",
        ["directory in path"],
    ),
    (
        "nas-mode-on-root",
        plan(volumes=[nas(path="/", mode="755")]),
        "volume share",
        "volumes[0].mode",
        ["root directory", "path below /"],
    ),
    (
        "nas-vers-in-mount-options",
        plan(volumes=[nas(mount_options=["nolock", "vers=4.1"])]),
        "volume share",
        "volumes[0].mount_options[1]",
        ["use vers instead"],
    ),
    (
        "nas-sharepath-delete",
        plan(
            storage_classes=[
                {
                    "name": "n",
                    "type": "nas",
                    "volume_as": "sharepath",
                    "server": NAS,
                    "reclaim_policy": "Delete",
                }
            ]
        ),
        "storage class n",
        "storage_classes[0].reclaim_policy",
        ["must be Retain", "Retain"],
    ),
    (
        "nas-filesystem-without-vpc",
        plan(
            storage_classes=[
                {
                    "name": "n",
                    "type": "nas",
                    "volume_as": "filesystem",
                    "zones": ["cn-hangzhou-h"],
                    "vswitch_id": "vsw-1",
                }
            ]
        ),
        "storage class n",
        "storage_classes[0].vpc_id",
        ["is required", "VPC"],
    ),
    (
        "nas-extreme-below-100g",
        plan(
            storage_classes=[
                {
                    "name": "x",
                    "type": "nas",
                    "volume_as": "filesystem",
                    "zones": ["cn-hangzhou-h"],
                    "vpc_id": "vpc-1",
                    "vswitch_id": "vsw-1",
                    "file_system_type": "extreme",
                }
            ],
            claims=[{"name": "c", "storage_class": "x", "size": "50Gi"}],
        ),
        "claim default/c",
        "claims[0].size",
        ["at least 100Gi"],
    ),
    (
        "nas-key-of-another-mode",
        plan(storage_classes=[{"name": "n", "type": "nas", "server": NAS, "vpc_id": "vpc-1"}]),
        "storage class n",
        "storage_classes[0].vpc_id",
        ["with volume_as filesystem"],
    ),
    (
        "oss-without-credentials",
        plan(volumes=[{"name": "models", "type": "oss", "bucket": "llm-models", "url": OSS_URL}]),
        "volume models",
        "volumes[0].secret",
        ["needs credentials", "auth_type rrsa / sts"],
    ),
    (
        "oss-secret-not-declared",
        plan(volumes=[oss(secret="other-keys")]),
        "volume models",
        "volumes[0].secret",
        ["is not the name of a secrets item", "allowed: keys"],
    ),
    (
        "oss-other-opts-item-without-dash-o",
        plan(volumes=[oss(other_opts=["-o allow_other", "max_stat_cache_size=0"])]),
        "volume models",
        "volumes[0].other_opts[1]",
        ["does not start with -o", "-o name[=value]"],
    ),
    (
        "oss-other-opts-string-without-dash-o",
        plan(volumes=[oss(other_opts="-o allow_other umask=022")]),
        "volume models",
        "volumes[0].other_opts",
        ["'umask=022' is not preceded by -o"],
    ),
    (
        "oss-url-is-a-bucket-domain",
        plan(volumes=[oss(url="https://llm-models.oss-cn-hangzhou-internal.aliyuncs.com")]),
        "volume models",
        "volumes[0].url",
        ["bucket's own domain", "oss-cn-hangzhou-internal.aliyuncs.com"],
    ),
    (
        "oss-inline-access-key",
        plan(volumes=[oss(akId="id-value")]),
        "volume models",
        "volumes[0].akId",
        ["never goes into a volume", "secrets item"],
    ),
    (
        "oss-rrsa-half-arns",
        plan(
            volumes=[
                {
                    "name": "models",
                    "type": "oss",
                    "bucket": "llm-models",
                    "url": OSS_URL,
                    "auth_type": "rrsa",
                    "role_arn": "acs:ram::1:role/r",
                }
            ]
        ),
        "volume models",
        "volumes[0].oidc_provider_arn",
        ["role_arn and oidc_provider_arn together"],
    ),
    (
        "oss-ossfs2-encrypted",
        plan(volumes=[oss(fuse_type="ossfs2", encrypted="kms")]),
        "volume models",
        "volumes[0].encrypted",
        ["ossfs2 does not support"],
    ),
    (
        "oss-class-delete",
        plan(
            storage_classes=[
                {
                    "name": "o",
                    "type": "oss",
                    "bucket": "b-1",
                    "url": OSS_URL,
                    "secret": "keys",
                    "reclaim_policy": "Delete",
                }
            ]
        ),
        "storage class o",
        "storage_classes[0].reclaim_policy",
        ["must be Retain"],
    ),
    (
        "unknown-key",
        plan(volumes=[disk(sizee=20)]),
        "volume data",
        "volumes[0].sizee",
        ["unknown key 'sizee'", "disk_id"],
    ),
    (
        "unknown-volume-type",
        plan(volumes=[disk(type="cpfs")]),
        "volume data",
        "volumes[0].type",
        ["disk, nas, oss"],
    ),
    (
        "disk-id-malformed",
        plan(volumes=[disk(disk_id="vol-123")]),
        "volume data",
        "volumes[0].disk_id",
        ["d- and 8 to 40"],
    ),
    (
        "static-disk-rwx",
        plan(volumes=[disk(access_modes=["ReadWriteMany"])]),
        "volume data",
        "volumes[0].access_modes[0]",
        ["ReadWriteOnce, ReadWriteOncePod"],
    ),
    (
        "size-not-a-quantity",
        plan(volumes=[disk(size="20GB")]),
        "volume data",
        "volumes[0].size",
        ["20Gi"],
    ),
    (
        "claim-class-missing",
        plan(
            storage_classes=[{"name": "essd", "category": "cloud_essd"}],
            claims=[
                {"name": "c", "namespace": "web", "storage_class": "alicloud-disk-ssd", "size": 40}
            ],
        ),
        "claim web/c",
        "claims[0].storage_class",
        ["'alicloud-disk-ssd' is not in storage_classes", "essd"],
    ),
    (
        "existing-class-also-declared",
        plan(
            storage_classes=[{"name": "essd", "category": "cloud_essd"}],
            existing_storage_classes=[{"name": "essd"}],
        ),
        "storage class essd",
        "existing_storage_classes[0].name",
        ["also in storage_classes"],
    ),
    (
        "disk-rwx-filesystem-claim",
        plan(
            storage_classes=[{"name": "m", "category": "cloud_essd", "multi_attach": True}],
            claims=[
                {"name": "c", "storage_class": "m", "size": 40, "access_modes": ["ReadWriteMany"]}
            ],
        ),
        "claim default/c",
        "claims[0].access_modes",
        ["volume_mode: Block"],
    ),
    (
        "duplicate-claim",
        plan(
            volumes=[nas(name="c")],
            storage_classes=[{"name": "e", "category": "cloud_essd"}],
            claims=[{"name": "c", "storage_class": "e", "size": 40}],
        ),
        "claim default/c",
        "claims[0].name",
        ["also made by volume c", "unique claim names"],
    ),
    (
        "statefulset-mount-unknown-claim",
        plan(
            statefulsets=[
                {
                    "name": "db",
                    "namespace": "web",
                    "image": "mysql:8",
                    "mounts": [{"claim": "nope", "mount_path": "/var/lib/mysql"}],
                }
            ]
        ),
        "statefulset web/db",
        "statefulsets[0].mounts[0].claim",
        ["not among the volumes and claims"],
    ),
    (
        "statefulset-pods-sharing-one-disk",
        plan(
            volumes=[disk()],
            statefulsets=[
                {
                    "name": "db",
                    "image": "mysql:8",
                    "replicas": 3,
                    "mounts": [{"claim": "data", "mount_path": "/d"}],
                }
            ],
        ),
        "statefulset default/db",
        "statefulsets[0].mounts[0].claim",
        ["attaches to one node", "volume_claim_templates"],
    ),
    (
        "liveness-probe-without-oss",
        plan(
            volumes=[nas()],
            statefulsets=[
                {
                    "name": "db",
                    "image": "mysql:8",
                    "oss_liveness_probe": True,
                    "mounts": [{"claim": "share", "mount_path": "/data"}],
                }
            ],
        ),
        "statefulset default/db",
        "statefulsets[0].oss_liveness_probe",
        ["only with an OSS mount"],
    ),
    (
        "flexvolume-dynamic-nas",
        {
            **plan(storage_classes=[{"name": "n", "type": "nas", "server": NAS}]),
            "driver": "flexvolume",
        },
        "storage class n",
        "storage_classes[0].type",
        ["driver csi"],
    ),
    (
        "flexvolume-performance-level",
        {
            **plan(
                storage_classes=[
                    {"name": "e", "category": "cloud_essd", "performance_level": "PL1"}
                ]
            ),
            "driver": "flexvolume",
        },
        "storage class e",
        "storage_classes[0].performance_level",
        ["flexVolume provisioner alicloud/disk"],
    ),
    (
        "flexvolume-oss-with-secret",
        {**plan(volumes=[oss()]), "driver": "flexvolume"},
        "volume models",
        "volumes[0].auth_type",
        ["never writes", "daemon"],
    ),
    (
        "bad-driver",
        {**plan(), "driver": "nfs"},
        "storage plan",
        "driver",
        ["csi, flexvolume"],
    ),
    (
        "bad-region",
        {"region": "Hangzhou", "zones": ZONES},
        "storage plan",
        "region",
        ["cn-hangzhou"],
    ),
    (
        "volumes-not-a-list",
        {**plan(), "volumes": {"name": "x"}},
        "storage plan",
        "volumes",
        ["list of dicts"],
    ),
]


@pytest.mark.parametrize(
    ("params", "obj", "field", "fragments"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusal_names_object_field_and_what_is_allowed(params, obj, field, fragments):
    with pytest.raises(StorageInputError) as info:
        build_plan(params)
    error = info.value
    message = str(error)
    assert isinstance(error, RunbookError)
    assert (error.obj, error.field) == (obj, field), message
    assert message.startswith(f"{obj}: {field}: "), message
    assert "allowed: " in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert error.as_error()["type"] == "input"
    # No secret value in any refusal.
    assert "secret-value" not in message
    common = (("region", REGION), ("zones", ZONES), ("secrets", [KEYS]))
    shown = {k: v for k, v in params.items() if (k, v) not in common}
    record("provision-storage", "storage description", shown, message,
           "build_plan raised StorageInputError: no plan returned")  # fmt: skip


def test_there_are_at_least_twenty_refusals():
    assert len(REFUSALS) >= 20


def test_a_refused_plan_returns_nothing_half_built():
    params = plan(
        storage_classes=[{"name": "ok", "category": "cloud_essd"}],
        volumes=[nas(vers=5)],
    )
    with pytest.raises(StorageInputError):
        build_plan(params)
    # The same plan without the bad item builds: the refusal came from that item alone.
    params["volumes"] = [nas()]
    assert len(build_plan(params)["objects"]) == 4


@pytest.mark.parametrize("pasted", ["LTAI5tQz8Xr2Vb9Kp3Wd7Nf", "abcdefghijklmnopqrstuvwxyz0123"])
def test_a_key_pasted_where_the_secret_name_belongs_is_not_echoed(pasted):
    for params in (
        plan(volumes=[oss(secret=pasted)]),
        plan(
            storage_classes=[
                {"name": "o", "type": "oss", "bucket": "b-1", "url": OSS_URL, "secret": pasted}
            ]
        ),
    ):
        with pytest.raises(StorageInputError) as info:
            build_plan(params)
        assert info.value.field.endswith(".secret")
        assert pasted not in str(info.value)
        assert pasted not in repr(info.value.as_error())
