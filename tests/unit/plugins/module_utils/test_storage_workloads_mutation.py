"""StatefulSets of the storage plan written out whole (issue 18 kill tests for storage/workloads.py).

The expected objects are the Kubernetes apps/v1 StatefulSet and v1 Service shapes
(headless Service: clusterIP None; volumeClaimTemplates; pod volumes per claim;
persistentVolumeClaimRetentionPolicy), typed out by hand.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from tests.unit.plugins.module_utils.test_storage_plan_mutation import MANAGED, of_kind, refused
from tests.unit.plugins.module_utils.test_storage_refusals import disk, nas, oss, plan

ESSD = {"name": "essd", "category": "cloud_essd"}


def sts_plan(*sets, **items):
    return plan(storage_classes=[ESSD], statefulsets=list(sets), **items)


def one(**raw):
    return {"name": "db", "image": "mysql:8", **raw}


def test_a_statefulset_with_every_option():
    result = build_plan(
        sts_plan(
            one(
                namespace="shop",
                replicas=2,
                container_name="mysql",
                command=["mysqld"],
                args="--skip-name-resolve",
                env={"MYSQL_DATABASE": "shop", "TZ": "UTC"},
                ports=[
                    3306,
                    {"name": "admin", "port": "33062", "protocol": "TCP"},
                    {"port": 53, "protocol": "UDP"},
                ],
                labels={"tier": "db"},
                resources={
                    "requests": {"cpu": "500m", "memory": "1Gi"},
                    "limits": {"memory": "2Gi"},
                },
                service_name="db-headless",
                pod_management_policy="Parallel",
                volume_claim_templates=[
                    {
                        "name": "data",
                        "storage_class": "essd",
                        "size": 40,
                        "mount_path": "/var/lib/mysql",
                    }
                ],
                mounts=[
                    {"claim": "share", "mount_path": "/share", "read_only": "yes"},
                    {"claim": "models", "mount_path": "/models"},
                ],
                oss_liveness_probe=True,
            ),
            volumes=[nas(namespace="shop"), oss(namespace="shop")],
        )
    )
    (svc,) = of_kind(result, "Service")
    (sts,) = of_kind(result, "StatefulSet")
    ports = [("tcp-3306", 3306, "TCP"), ("admin", 33062, "TCP"), ("tcp-53", 53, "UDP")]
    assert svc == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "db-headless",
            "namespace": "shop",
            "labels": {"app": "db", **MANAGED},
        },
        "spec": {
            "clusterIP": "None",
            "selector": {"app": "db"},
            "ports": [{"name": n, "port": p, "targetPort": p, "protocol": t} for n, p, t in ports],
        },
    }
    assert sts == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop",
                     "labels": {"tier": "db", "app": "db", **MANAGED}},
        "spec": {
            "serviceName": "db-headless",
            "replicas": 2,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "db"}},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": {"tier": "db", "app": "db"}},
                "spec": {
                    "containers": [
                        {
                            "name": "mysql",
                            "image": "mysql:8",
                            "command": ["mysqld"],
                            "args": ["--skip-name-resolve"],
                            "env": [{"name": "MYSQL_DATABASE", "value": "shop"},
                                    {"name": "TZ", "value": "UTC"}],
                            "ports": [{"name": n, "containerPort": p, "protocol": t}
                                      for n, p, t in ports],
                            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                          "limits": {"memory": "2Gi"}},
                            "volumeMounts": [
                                {"name": "data", "mountPath": "/var/lib/mysql"},
                                {"name": "claim-share", "mountPath": "/share", "readOnly": True},
                                {"name": "claim-models", "mountPath": "/models"},
                            ],
                            "livenessProbe": {
                                "exec": {"command": ["sh", "-c", "cd /models"]},
                                "initialDelaySeconds": 10,
                                "periodSeconds": 30,
                                "timeoutSeconds": 5,
                                "failureThreshold": 3,
                            },
                        }
                    ],
                    "volumes": [
                        {"name": "claim-share", "persistentVolumeClaim": {"claimName": "share"}},
                        {"name": "claim-models", "persistentVolumeClaim": {"claimName": "models"}},
                    ],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "40Gi"}},
                        "storageClassName": "essd",
                    },
                }
            ],
        },
    }  # fmt: skip
    rows = [r for r in result["volumes"] if r["name"].startswith("data-")]
    assert rows == [
        {
            "name": f"data-db-{i}",
            "namespace": "shop",
            "type": "disk",
            "kind": "dynamic",
            "class": "essd",
            "size": "40Gi",
            "access_modes": ["ReadWriteOnce"],
            "pv": None,
            "pvc": f"data-db-{i}",
        }
        for i in range(2)
    ]
    sts_warnings = [w for w in result["warnings"] if w.startswith("statefulset ")]
    assert sts_warnings == [
        "statefulset shop/db: 2 replica(s): the guide asks for at least 3 to avoid a single "
        "point of failure"
    ]


def test_a_statefulset_by_default():
    result = build_plan(sts_plan(one()))
    (svc,) = of_kind(result, "Service")
    (sts,) = of_kind(result, "StatefulSet")
    assert svc["spec"] == {"clusterIP": "None", "selector": {"app": "db"}}
    assert svc["metadata"]["name"] == "db"
    assert sts["metadata"]["namespace"] == "default"
    assert (sts["spec"]["serviceName"], sts["spec"]["replicas"], sts["spec"]["podManagementPolicy"]) == ("db", 1, "OrderedReady")  # fmt: skip
    assert sts["spec"]["template"]["spec"] == {"containers": [{"name": "db", "image": "mysql:8"}]}
    assert "volumeClaimTemplates" not in sts["spec"]
    assert [w for w in result["warnings"] if w.startswith("statefulset ")] == [
        "statefulset default/db: no resources: set requests and limits (the guide's workload "
        "hygiene)",
        "statefulset default/db: 1 replica(s): the guide asks for at least 3 to avoid a single "
        "point of failure",
    ]


def test_three_replicas_with_resources_warn_nothing_and_zero_replicas_make_no_claims():
    resources = {"requests": {"cpu": "1"}}
    result = build_plan(sts_plan(one(replicas=3, resources=resources)))
    assert not [w for w in result["warnings"] if w.startswith("statefulset ")]
    tpl = [{"name": "data", "storage_class": "essd", "size": 20, "mount_path": "/d"}]
    result = build_plan(sts_plan(one(replicas=0, resources=resources, volume_claim_templates=tpl)))
    assert not [r for r in result["volumes"] if r["name"].startswith("data-")]
    assert of_kind(result, "StatefulSet")[0]["spec"]["replicas"] == 0


def test_oss_without_the_probe_warns():
    result = build_plan(sts_plan(one(mounts=[{"claim": "models", "mount_path": "/m"}]),
                                 volumes=[oss()]))  # fmt: skip
    assert (
        "statefulset default/db: mounts OSS without oss_liveness_probe: a pod keeps running on "
        "a dead FUSE mount after a plugin upgrade" in result["warnings"]
    )
    container = of_kind(result, "StatefulSet")[0]["spec"]["template"]["spec"]["containers"][0]
    assert "livenessProbe" not in container


def test_the_probe_cds_into_every_oss_mount_templates_first():
    oss_class = {"name": "o", "type": "oss", "bucket": "b-1", "url": "oss-cn-hangzhou.aliyuncs.com",
                 "secret": "keys"}  # fmt: skip
    params = plan(
        storage_classes=[oss_class],
        volumes=[oss(), nas()],
        statefulsets=[one(
            oss_liveness_probe=True,
            volume_claim_templates=[{"name": "cache", "storage_class": "o", "size": 5,
                                     "mount_path": "/cache"}],
            mounts=[{"claim": "share", "mount_path": "/share"},
                    {"claim": "models", "mount_path": "/models"}],
        )],
    )  # fmt: skip
    container = of_kind(build_plan(params), "StatefulSet")[0]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["livenessProbe"]["exec"]["command"] == [
        "sh",
        "-c",
        "cd /cache && cd /models",
    ]


def test_a_disk_claim_mounts_into_one_pod_only():
    volumes = [disk()]
    result = build_plan(
        sts_plan(one(mounts=[{"claim": "data", "mount_path": "/d"}]), volumes=volumes)
    )
    assert of_kind(result, "StatefulSet")[0]["spec"]["template"]["spec"]["volumes"] == [
        {"name": "claim-data", "persistentVolumeClaim": {"claimName": "data"}}
    ]
    error = refused(sts_plan(one(replicas=2, mounts=[{"claim": "data", "mount_path": "/d"}]),
                             volumes=volumes))  # fmt: skip
    assert (error.field, error.cause) == (
        "statefulsets[0].mounts[0].claim",
        "claim default/data is a cloud disk, which attaches to one node, and 2 pods would share "
        "it; allowed: replicas 1, a NAS or OSS claim, or volume_claim_templates (one disk per pod)",
    )


def test_an_unknown_claim_lists_the_claims_of_the_namespace():
    error = refused(
        sts_plan(one(namespace="shop", mounts=[{"claim": "nope", "mount_path": "/d"}]),
                 volumes=[nas(namespace="shop"), nas(name="other", namespace="web")])
    )  # fmt: skip
    assert (error.obj, error.field, error.details) == (
        "statefulset shop/db",
        "statefulsets[0].mounts[0].claim",
        {"allowed": ["share"]},
    )
    assert error.cause == (
        "claim shop/nope is not among the volumes and claims of the plan; allowed: share"
    )
    error = refused(sts_plan(one(namespace="web", mounts=[{"claim": "nope", "mount_path": "/d"}])))
    assert error.cause.endswith("allowed: none in namespace web")


@pytest.mark.parametrize(
    ("raw", "field", "cause"),
    [
        (
            {"name": "d" * 53},
            "name",
            f"{'d' * 53!r} is 53 characters; allowed: at most 52 (pod "
            "names and revision labels append to it)",
        ),
        ({"replicas": -1}, "replicas", "-1 is out of range; allowed: a whole number of at least 0"),
        ({"image": None}, "image", "is required; allowed: a container image, e.g. nginx:1.27"),
        ({"ports": [0]}, "ports[0].port", None),
        (
            {"ports": [{"port": 80, "name": "HTTP"}]},
            "ports[0].name",
            "'HTTP' is not valid; allowed: "
            "an IANA service name: at most 15 lowercase letters, digits and '-'",
        ),
        ({"ports": [{"port": 80, "protocol": "ICMP"}]}, "ports[0].protocol", None),
        (
            {"ports": [80, {"port": 81, "name": "tcp-80"}]},
            "ports",
            "port names repeat (tcp-80, tcp-80); allowed: unique names",
        ),
        (
            {"resources": {"requests": {"cpu": "lots"}}},
            "resources.requests.cpu",
            "'lots' is not a quantity; allowed: e.g. 500m, 1, 256Mi",
        ),
        ({"resources": {"limits": {"memory": "1GB"}}}, "resources.limits.memory", None),
        ({"resources": {"cpu": "1"}}, "resources.cpu", None),
        (
            {"env": {"1X": "a"}},
            "env.1X",
            "is not a valid variable name; allowed: letters, digits, '_', '-', '.'",
        ),
        ({"pod_management_policy": "Fast"}, "pod_management_policy", None),
        ({"labels": {"a": "b c"}}, "labels.a", None),
        ({"oss_liveness_probe": True}, "oss_liveness_probe", None),
        (
            {"mounts": [{"claim": "share", "mount_path": "data"}]},
            "mounts[0].mount_path",
            "'data' is not an absolute path without ':'; allowed: e.g. /data",
        ),
        ({"mounts": [{"claim": "share", "mount_path": "/a:b"}]}, "mounts[0].mount_path", None),
        (
            {
                "mounts": [
                    {"claim": "share", "mount_path": "/d"},
                    {"claim": "share", "mount_path": "/e"},
                ]
            },
            "mounts[1].claim",
            "claim share is mounted twice; allowed: each claim once",
        ),
        (
            {
                "mounts": [{"claim": "share", "mount_path": "/d"}],
                "volume_claim_templates": [
                    {"name": "t", "storage_class": "essd", "size": 20, "mount_path": "/d"}
                ],
            },
            "mounts[0].mount_path",
            "/d is already the mount of claim template t; allowed: one volume per path",
        ),
        (
            {
                "volume_claim_templates": [
                    {
                        "name": "t",
                        "storage_class": "essd",
                        "size": 20,
                        "mount_path": "/d",
                        "volume_mode": "Block",
                    }
                ]
            },
            "volume_claim_templates[0].volume_mode",
            "a template is mounted at mount_path as a file system; allowed: Filesystem",
        ),
        (
            {
                "volume_claim_templates": [
                    {"name": "t", "storage_class": "essd", "size": 20, "mount_path": "/d"},
                    {"name": "t", "storage_class": "essd", "size": 20, "mount_path": "/e"},
                ]
            },
            "volume_claim_templates[1].name",
            "template 't' is declared twice; allowed: unique names",
        ),
        (
            {"volume_claim_templates": [{"name": "t", "storage_class": "essd", "size": 20}]},
            "volume_claim_templates[0].mount_path",
            None,
        ),
        ({"mounts": [{"claim": "share"}]}, "mounts[0].mount_path", None),
    ],
)
def test_statefulset_refusals(raw, field, cause):
    error = refused(sts_plan(one(**raw), volumes=[nas()]))
    assert error.field == f"statefulsets[0].{field}"
    assert error.obj == f"statefulset default/{raw.get('name', 'db')}"
    if cause:
        assert error.cause == cause


def test_a_statefulset_claim_that_clashes_with_a_volume_is_refused():
    error = refused(
        sts_plan(
            one(replicas=1, volume_claim_templates=[{"name": "data", "storage_class": "essd",
                                                     "size": 20, "mount_path": "/d"}]),
            volumes=[nas(name="data-db-0", pv_name="x")],
        )
    )  # fmt: skip
    assert error.field == "statefulsets[0].volume_claim_templates[0].name"
    assert "PersistentVolumeClaim default/data-db-0 is also made by volume data-db-0" in error.cause


def test_two_statefulsets_with_one_name_or_service_are_refused():
    error = refused(sts_plan(one(), one()))
    assert (error.field, error.cause) == (
        "statefulsets[1].service_name",
        "Service default/db is also made for another statefulset; allowed: unique names",
    )
    error = refused(sts_plan(one(), one(service_name="db2")))
    assert (error.field, error.cause) == (
        "statefulsets[1].name",
        "statefulset default/db is declared twice; allowed: unique names",
    )
    error = refused(sts_plan(one(), one(name="db2", service_name="db")))
    assert error.field == "statefulsets[1].service_name"
    # The same names in another namespace are fine.
    result = build_plan(sts_plan(one(), one(namespace="web")))
    assert len(of_kind(result, "StatefulSet")) == 2


def test_an_item_that_is_no_dict_or_has_no_string_name_is_named_by_its_index():
    error = refused(sts_plan("db"))
    assert (error.obj, error.field) == ("statefulset default/#0", "statefulsets[0]")
    error = refused(sts_plan({"name": 5, "namespace": 7, "image": "x", "zz": 1}))
    assert error.obj == "statefulset default/#0"


def test_a_long_claim_name_makes_a_volume_name_within_63():
    claim = "c" * 62
    result = build_plan(
        sts_plan(one(mounts=[{"claim": claim, "mount_path": "/d"}]), volumes=[nas(name=claim)])
    )
    volume = of_kind(result, "StatefulSet")[0]["spec"]["template"]["spec"]["volumes"][0]
    assert volume == {
        "name": ("claim-" + claim)[:63],
        "persistentVolumeClaim": {"claimName": claim},
    }
    # A cut that ends on '-' drops it: a volume name ends alphanumeric.
    claim = "c" * 56 + "-d"
    result = build_plan(
        sts_plan(one(mounts=[{"claim": claim, "mount_path": "/d"}]), volumes=[nas(name=claim)])
    )
    volume = of_kind(result, "StatefulSet")[0]["spec"]["template"]["spec"]["volumes"][0]
    assert volume["name"] == "claim-" + "c" * 56


@pytest.mark.parametrize(
    ("raw", "field", "cause"),
    [
        ({"mounts": [{"claim": "share"}]}, "mounts[0].mount_path",
         "is required; allowed: an absolute path in the container, e.g. /data"),
        ({"ports": [{"name": "web"}]}, "ports[0].port",
         "is required; allowed: a whole number from 1 to 65535"),
        ({"ports": [65536]}, "ports[0].port",
         "65536 is out of range; allowed: a whole number from 1 to 65535"),
        ({"mounts": [{"claim": "share", "mount_path": "/d"}, {"claim": "other", "mount_path": "/d"}]},
         "mounts[1].mount_path", "/d is already the mount of claim share; allowed: one volume per path"),
    ],
)  # fmt: skip
def test_statefulset_refusals_word_for_word(raw, field, cause):
    error = refused(sts_plan(one(**raw), volumes=[nas(), nas(name="other", pv_name="other")]))
    assert (error.field, error.cause) == (f"statefulsets[0].{field}", cause)


def test_the_edges_of_names_and_ports_are_accepted():
    result = build_plan(sts_plan(one(name="d" * 52, ports=[1, 65535])))
    (svc,) = of_kind(result, "Service")
    assert [p["port"] for p in svc["spec"]["ports"]] == [1, 65535]


def test_a_template_keeps_an_explicit_filesystem_mode_and_warns_through_the_plan():
    tpl = {"name": "data", "storage_class": "multi", "size": 100, "mount_path": "/d",
           "volume_mode": "Filesystem"}  # fmt: skip
    multi = {"name": "multi", "category": "cloud_essd", "performance_level": ["PL2", "PL1"]}
    result = build_plan(
        plan(storage_classes=[multi], statefulsets=[one(volume_claim_templates=[tpl])])
    )
    (sts,) = of_kind(result, "StatefulSet")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    assert (
        "statefulset default/db: size 100Gi is outside cloud_essd PL2 (461..65536 GiB): the "
        "driver skips that category" in result["warnings"]
    )
