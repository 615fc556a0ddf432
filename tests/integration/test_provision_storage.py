"""provision-storage.yml against the lab: bindings through the lab's provisioner, StatefulSet
scaling, refusals, idempotence, check mode and secrets kept out of every output.

Everything lives in namespaces and cluster objects prefixed ``pst-`` (the lab is shared): the
module fixture deletes them first, so a re-run starts clean. Tests run in file order: the
check-mode preview first, then the converge, the second run, the StatefulSet scaling, the
refusals. The lab's provisioner is lab/cloud.py: it answers claims the way the CSI drivers do
(zones, categories, sizes, volume attributes).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
import time

import pytest
import yaml

from tests.catalogue import record
from tests.integration.conftest import recap

pytestmark = pytest.mark.lab

NS = "pst-apps"
FAIL_NS = "pst-fail"  # the migration that fails half-way
ZONE_NS = "pst-zone"  # claims the lab provisioner refuses
AK_ID = "LTAI5tPstIdNeverLogged"
AK_SECRET = "pstSecretValueThatMustNeverAppear0123"
CATEGORIES = [
    ("cloud_efficiency", None, "20Gi"),
    ("cloud_ssd", None, "20Gi"),
    ("cloud_essd", "PL0", "10Gi"),
    ("cloud_essd", "PL1", "20Gi"),
    ("cloud_essd", "PL2", "461Gi"),
    ("cloud_essd", "PL3", "1261Gi"),
    ("cloud_auto", None, "10Gi"),
    ("cloud_essd_entry", None, "10Gi"),
    ("available", None, "20Gi"),
]


def wffc(category: str, level: str | None) -> bool:
    return CATEGORIES.index(next(c for c in CATEGORIES if c[:2] == (category, level))) % 2 == 0


def class_name(category: str, level: str | None) -> str:
    return "pst-" + category.replace("_", "-") + (f"-{level.lower()}" if level else "")


def storage_vars(lab, replicas: int = 2) -> dict:
    zones = sorted({h.zone for h in lab.workers})
    classes = []
    claims = []
    for category, level, size in CATEGORIES:
        item = {"name": class_name(category, level), "type": "disk", "category": category}
        if level:
            item["performance_level"] = level
        if category == "cloud_auto":
            item.update(provisioned_iops=3000, bursting_enabled=True)
        # Every other class in the last zone only (Immediate: the disk is made there and the
        # pod must follow it), the others over the workers' zones (WaitForFirstConsumer: the
        # disk is made in the zone of the node the scheduler picks).
        item["zones"] = zones if wffc(category, level) else [zones[-1]]
        classes.append(item)
        claims.append(
            {
                "name": class_name(category, level),
                "namespace": NS,
                "storage_class": item["name"],
                "size": size,
            }
        )
    classes.append({"name": "pst-nas-subpath", "type": "nas", "volume_as": "subpath",
                    "server": "0cd8b4a576-grs79.cn-hangzhou.nas.aliyuncs.com", "path": "/k8s", "vers": "3"})  # fmt: skip
    claims.append(
        {"name": "pst-nas-dyn", "namespace": NS, "storage_class": "pst-nas-subpath", "size": "20Gi"}
    )
    return {
        "provision_storage_region": lab_region(lab),
        "provision_storage_zones": sorted({h.zone for h in lab.hosts}),
        "provision_storage_storage_classes": classes,
        "provision_storage_claims": claims,
        "provision_storage_secrets": [
            {
                "name": "pst-oss-keys",
                "namespace": NS,
                "access_key_id": AK_ID,
                "access_key_secret": AK_SECRET,
            }
        ],
        "provision_storage_volumes": [
            {
                "name": "pst-static-disk",
                "namespace": NS,
                "type": "disk",
                "disk_id": "d-bp1pststatic0000001",
                "zone": zones[0],
                "size": "40Gi",
                "category": "cloud_essd",
                "performance_level": "PL1",
            },
            {
                "name": "pst-static-nas",
                "namespace": NS,
                "type": "nas",
                "pv_name": "pst-static-nas",
                "server": "0cd8b4a576-grs79.cn-hangzhou.nas.aliyuncs.com",
                "path": "/shared",
                "vers": "4.0",
                "size": "100Gi",
            },
            {
                "name": "pst-static-oss",
                "namespace": NS,
                "type": "oss",
                "pv_name": "pst-static-oss",
                "bucket": "pst-bucket",
                "url": "oss-cn-hangzhou-internal.aliyuncs.com",
                "path": "/data",
                "other_opts": "-o max_stat_cache_size=0 -o allow_other",
                "secret": "pst-oss-keys",
                "size": "50Gi",
            },
        ],
        "provision_storage_statefulsets": [
            {
                "name": "pst-db",
                "namespace": NS,
                "replicas": replicas,
                "image": "nginx:1.27",
                "volume_claim_templates": [
                    {
                        "name": "data",
                        "storage_class": class_name("cloud_essd", "PL1"),
                        "size": "20Gi",
                        "mount_path": "/data",
                    }
                ],
            }
        ],
        "provision_storage_wait_timeout": 120,
    }


def lab_region(lab) -> str:
    return lab.hosts[0].node_name.split(".", 1)[0]


def run(lab, tmp_path, variables: dict, *args, name: str = "vars.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(variables))
    return lab.playbook(
        "provision-storage.yml",
        "-e",
        f"@{path}",
        "-e",
        f"provision_storage_report_dir={tmp_path}",
        *args,
    )


def snapshot(lab) -> dict[str, str]:
    states = lab.object_states("storageclasses,pv,pvc,statefulsets,services,secrets")
    return {k: v for k, v in states.items() if "pst-" in k}


def consumer_pod(name: str, claim: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "volumeMounts": [{"name": "d", "mountPath": "/d"}],
                }
            ],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }


def pvc(lab, name: str) -> dict:
    return lab.kubectl_json("get", "pvc", "-n", NS, name)


def pv(lab, name: str) -> dict:
    return lab.kubectl_json("get", "pv", name)


def wait_bound(lab, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        claim = pvc(lab, name)
        if claim.get("status", {}).get("phase") == "Bound" or time.monotonic() > deadline:
            return claim
        time.sleep(1)


def wait_running(lab, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        pod = lab.kubectl_json("get", "pod", "-n", NS, name)
        if pod.get("spec", {}).get("nodeName") or time.monotonic() > deadline:
            return pod
        time.sleep(1)


def pv_zone(volume: dict) -> str | None:
    terms = volume["spec"].get("nodeAffinity", {}).get("required", {}).get("nodeSelectorTerms", [])
    for term in terms:
        for expr in term.get("matchExpressions", []):
            if expr["key"].endswith("/zone"):
                return expr["values"][0]
    return None


def cleanup(lab) -> None:
    lab.kubectl(
        "delete",
        "namespace",
        NS,
        "pst-flex",
        FAIL_NS,
        ZONE_NS,
        "--ignore-not-found",
        "--wait=true",
        "--timeout=120s",
        check=False,
    )
    names = [
        i["metadata"]["name"]
        for kind in ("pv", "storageclass")
        for i in lab.kubectl_json("get", kind)["items"]
        if i["metadata"]["name"].startswith(("pst-", "d-bp1pst"))
        or (
            kind == "pv"
            and (i["spec"].get("claimRef") or {}).get("namespace")
            in (NS, "pst-flex", FAIL_NS, ZONE_NS)
        )
    ]
    for kind in ("pv", "storageclass"):
        for name in names:
            lab.kubectl("delete", kind, name, "--ignore-not-found", "--wait=false", check=False)


@pytest.fixture(scope="module")
def st_lab(lab_handle):
    lab = lab_handle.ensure("small")
    cleanup(lab)
    yield lab
    lab.dirty = True  # PVs, classes and namespaces left for inspection; the next test starts fresh


# ---- check mode first: nothing may change


def test_check_mode_previews_and_changes_nothing(st_lab, tmp_path):
    before = snapshot(st_lab)
    proc = run(st_lab, tmp_path, storage_vars(st_lab), "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert snapshot(st_lab) == before
    report = json.loads((tmp_path / "provision-storage.json").read_text())
    assert report["provision"]["check_mode"] is True
    assert any("StorageClass pst-cloud-ssd" in c for c in report["provision"]["changes"])


# ---- the converge


def test_converge_binds_static_volumes_by_selector(st_lab, tmp_path):
    proc = run(st_lab, tmp_path, storage_vars(st_lab), "-vvv")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert recap(proc.stdout)["localhost"]["changed"] >= 1
    # Secrets never in the output, the report, or any PV.
    assert AK_SECRET not in out
    assert AK_ID not in out
    for report in tmp_path.glob("provision-storage.*"):
        text = report.read_text()
        assert AK_SECRET not in text, report
        assert AK_ID not in text, report
    pvs = json.dumps(st_lab.kubectl_json("get", "pv"))
    assert AK_SECRET not in pvs
    assert AK_ID not in pvs
    secret = st_lab.kubectl_json("get", "secret", "-n", NS, "pst-oss-keys")
    assert set(secret["data"]) >= {"akId", "akSecret"}

    disk = wait_bound(st_lab, "pst-static-disk")
    assert disk["status"]["phase"] == "Bound"
    assert disk["spec"]["selector"]["matchLabels"]["alicloud-pvname"] == disk["spec"]["volumeName"]
    volume = pv(st_lab, disk["spec"]["volumeName"])
    assert volume["spec"]["csi"]["volumeHandle"] == "d-bp1pststatic0000001"
    assert pv_zone(volume) == sorted({h.zone for h in st_lab.workers})[0]
    for name, key, value in (
        ("pst-static-nas", "server", "0cd8b4a576-grs79.cn-hangzhou.nas.aliyuncs.com"),
        ("pst-static-oss", "bucket", "pst-bucket"),
    ):
        claim = wait_bound(st_lab, name)
        assert claim["status"]["phase"] == "Bound", name
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        assert (
            pv(st_lab, claim["spec"]["volumeName"])["spec"]["csi"]["volumeAttributes"][key] == value
        )
    oss = pv(st_lab, pvc(st_lab, "pst-static-oss")["spec"]["volumeName"])
    assert oss["spec"]["csi"]["nodePublishSecretRef"]["name"] == "pst-oss-keys"

    report = json.loads((tmp_path / "provision-storage.json").read_text())
    bindings = {c["claim"]: c for c in report["provision"]["claims"]}
    assert bindings[f"{NS}/pst-static-disk"]["volume"] == disk["spec"]["volumeName"]
    # WaitForFirstConsumer claims without a pod yet are reported as such, not failed;
    # Immediate ones are bound in their class's zone.
    last_zone = sorted({h.zone for h in st_lab.workers})[-1]
    for category, level, _ in CATEGORIES:
        row = bindings[f"{NS}/{class_name(category, level)}"]
        if wffc(category, level):
            assert row["waiting_for_consumer"] is True, row
            assert row["phase"] == "Pending", row
        else:
            assert (row["phase"], row["zone"]) == ("Bound", last_zone), row


def test_every_disk_category_binds_in_the_right_zone(st_lab):
    last_zone = sorted({h.zone for h in st_lab.workers})[-1]
    for category, level, _ in CATEGORIES:
        name = class_name(category, level)
        st_lab.kubectl("apply", "-f", "-", input=json.dumps(consumer_pod(name, name)))
    for category, level, _ in CATEGORIES:
        name = class_name(category, level)
        claim = wait_bound(st_lab, name, 90)
        assert claim["status"]["phase"] == "Bound", (name, claim.get("status"))
        volume = pv(st_lab, claim["spec"]["volumeName"])
        pod = wait_running(st_lab, name)
        node = st_lab.kubectl_json("get", "node", pod["spec"]["nodeName"])
        node_zone = node["metadata"]["labels"]["topology.kubernetes.io/zone"]
        assert pv_zone(volume) == node_zone, name
        if not wffc(category, level):
            assert node_zone == last_zone, name
        attrs = volume["spec"]["csi"]["volumeAttributes"]
        wanted = {"available": "cloud_ssd"}.get(category, category)
        assert attrs["type"] == wanted, name
        if level:
            assert attrs["performanceLevel"] == level


def test_dynamic_nas_claim_binds_with_its_subpath(st_lab):
    claim = wait_bound(st_lab, "pst-nas-dyn")
    assert claim["status"]["phase"] == "Bound"
    attrs = pv(st_lab, claim["spec"]["volumeName"])["spec"]["csi"]["volumeAttributes"]
    assert attrs["path"] == f"/k8s/{claim['spec']['volumeName']}"
    assert attrs["server"] == "0cd8b4a576-grs79.cn-hangzhou.nas.aliyuncs.com"
    assert attrs["volumeAs"] == "subpath"


def test_second_run_changes_nothing(st_lab, tmp_path):
    before = snapshot(st_lab)
    proc = run(st_lab, tmp_path, storage_vars(st_lab))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc.stdout)["localhost"]["changed"] == 0, proc.stdout[-4000:]
    assert snapshot(st_lab) == before


# ---- StatefulSet scaling 2 -> 3 -> 2 -> 3


def sts_claims(lab) -> dict[str, str]:
    items = lab.kubectl_json("get", "pvc", "-n", NS)["items"]
    return {
        i["metadata"]["name"]: i["metadata"]["uid"]
        for i in items
        if i["metadata"]["name"].startswith("data-pst-db-")
    }


def test_statefulset_scaling_keeps_claims_and_ordinals(st_lab, tmp_path):
    first = sts_claims(st_lab)
    assert sorted(first) == ["data-pst-db-0", "data-pst-db-1"]
    proc = run(st_lab, tmp_path, storage_vars(st_lab, replicas=3))
    assert proc.returncode == 0, proc.stdout[-4000:]
    three = sts_claims(st_lab)
    assert sorted(three) == ["data-pst-db-0", "data-pst-db-1", "data-pst-db-2"]
    assert {k: three[k] for k in first} == first
    volume_2 = pvc(st_lab, "data-pst-db-2")["spec"]["volumeName"]

    proc = run(st_lab, tmp_path, storage_vars(st_lab, replicas=2))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert sts_claims(st_lab) == three  # nothing deleted on scale-down
    report = json.loads((tmp_path / "provision-storage.json").read_text())
    assert report["provision"]["statefulsets"][0]["kept_claims"] == [f"{NS}/data-pst-db-2"]
    pods = st_lab.kubectl_json("get", "pods", "-n", NS, "-l", "app=pst-db")["items"]
    assert "pst-db-2" not in {
        p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")
    }

    proc = run(st_lab, tmp_path, storage_vars(st_lab, replicas=3))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert sts_claims(st_lab) == three
    pod = st_lab.kubectl_json("get", "pod", "-n", NS, "pst-db-2")
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims == ["data-pst-db-2"]
    assert pvc(st_lab, "data-pst-db-2")["spec"]["volumeName"] == volume_2


# ---- refusals: a clear message, nothing changed


def bad(lab, mutate) -> dict:
    variables = storage_vars(lab, replicas=3)
    mutate(variables)
    return variables


REFUSALS = [
    (
        "zone outside the region",
        lambda v: v["provision_storage_volumes"][0].update(zone="cn-beijing-a"),
        ["pst-static-disk", "zone", "cn-beijing-a"],
    ),
    (
        "unknown disk category",
        lambda v: v["provision_storage_storage_classes"][0].update(category="cloud_hdd"),
        ["cloud_hdd", "category"],
    ),
    (
        "PL3 on cloud_ssd",
        lambda v: v["provision_storage_storage_classes"][1].update(performance_level="PL3"),
        ["performance_level"],
    ),
    (
        "NAS vers 5",
        lambda v: v["provision_storage_volumes"][1].update(vers="5"),
        ["vers", "pst-static-nas"],
    ),
    (
        "OSS other_opts without -o",
        lambda v: v["provision_storage_volumes"][2].update(other_opts="max_stat_cache_size=0"),
        ["other_opts"],
    ),
    (
        "StatefulSet volumeClaimTemplates changed in place",
        lambda v: v["provision_storage_statefulsets"][0]["volume_claim_templates"][0].update(
            size="40Gi"
        ),
        ["StatefulSet pst-apps/pst-db", "volumeClaimTemplates", "nothing was changed"],
    ),
]


def failure_msg(stdout: str) -> str | None:
    """The msg of the failed task, as the YAML result format prints it."""
    found = re.search(r"FAILED! => *\n((?:[ \t]+.*(?:\n|$))+)", stdout)
    try:
        result = yaml.safe_load(textwrap.dedent(found.group(1))) if found else None
    except yaml.YAMLError:
        return None
    return result.get("msg") if isinstance(result, dict) else None


def changed_paths(good, wrong, path: str = "") -> dict:
    """Where the bad variables differ from the good ones: {path: bad value}."""
    if isinstance(good, dict) and isinstance(wrong, dict):
        out = {}
        for key in sorted(set(good) | set(wrong)):
            out.update(changed_paths(good.get(key), wrong.get(key), f"{path}.{key}".lstrip(".")))
        return out
    if isinstance(good, list) and isinstance(wrong, list) and len(good) == len(wrong):
        out = {}
        for i, (a, b) in enumerate(zip(good, wrong, strict=True)):
            out.update(changed_paths(a, b, f"{path}[{i}]"))
        return out
    return {} if good == wrong else {path: wrong}


@pytest.mark.parametrize(("why", "mutate", "words"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_change_nothing(st_lab, tmp_path, why, mutate, words):
    before = snapshot(st_lab)
    variables = bad(st_lab, mutate)
    proc = run(st_lab, tmp_path, variables)
    assert proc.returncode != 0, why
    assert "Traceback" not in proc.stdout
    for word in words:
        assert word in proc.stdout, (why, word, proc.stdout[-3000:])
    assert AK_SECRET not in proc.stdout
    assert snapshot(st_lab) == before, why
    record("provision-storage", "variable", changed_paths(storage_vars(st_lab, replicas=3), variables),
           failure_msg(proc.stdout) or why,
           "the lab's StorageClasses, PVs, PVCs, StatefulSets, Services and Secrets "
           "compared before and after: identical")  # fmt: skip


# ---- flexVolume -> CSI migration

FLEX_NS = "pst-flex"
FLEX_DISK = "d-bp1pstflex00000001"


def flex_pv(
    name: str, driver: str, options: dict, modes: list[str], zone: str | None = None
) -> dict:
    labels = {"alicloud-pvname": name}
    if zone:
        labels["failure-domain.beta.kubernetes.io/zone"] = zone
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "capacity": {"storage": "20Gi"},
            "accessModes": modes,
            "persistentVolumeReclaimPolicy": "Delete",
            "flexVolume": {
                "driver": driver,
                "fsType": "ext4" if driver == "alicloud/disk" else "",
                "options": options,
            },
        },
    }


def flex_claim(
    name: str, pv_name: str | None, modes: list[str], sc: str = "", ns: str = FLEX_NS
) -> dict:
    spec = {
        "accessModes": modes,
        "resources": {"requests": {"storage": "20Gi"}},
        "storageClassName": sc,
    }
    if pv_name:
        spec["selector"] = {"matchLabels": {"alicloud-pvname": pv_name}}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def flex_deployment(name: str, claim: str, ns: str = FLEX_NS, replicas: int = 1) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "image": "nginx",
                            "volumeMounts": [{"name": "d", "mountPath": "/d"}],
                        }
                    ],
                    "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}],
                },
            },
        },
    }


def seed_flex(lab) -> list[str]:
    """flexVolume PVs/PVCs as an old ACK cluster has them, each used by a Deployment."""
    zone = sorted({h.zone for h in lab.workers})[0]
    rwo, rwx = ["ReadWriteOnce"], ["ReadWriteMany"]
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FLEX_NS}},
        flex_pv(FLEX_DISK, "alicloud/disk", {"volumeId": FLEX_DISK}, rwo, zone),
        flex_pv("pst-flex-nas", "alicloud/nas", {"server": "0cd8b4a576-grs79.cn-hangzhou.nas.aliyuncs.com", "path": "/flex", "vers": "3"}, rwx),
        flex_pv("pst-flex-oss", "alicloud/oss", {"bucket": "pst-flex-bucket", "url": "oss-cn-hangzhou.aliyuncs.com", "akId": AK_ID, "akSecret": AK_SECRET, "otherOpts": "-o max_stat_cache_size=0 -o allow_other"}, rwx),
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "pst-flex-ssd"}, "provisioner": "alicloud/disk",
         "parameters": {"type": "cloud_ssd", "zoneid": zone}, "reclaimPolicy": "Delete"},
        flex_claim("disk", FLEX_DISK, rwo),
        flex_claim("nas", "pst-flex-nas", rwx),
        flex_claim("oss", "pst-flex-oss", rwx),
        flex_claim("dyn", None, rwo, "pst-flex-ssd"),
        *(flex_deployment(f"app-{c}", c) for c in ("disk", "nas", "oss", "dyn")),
    ]  # fmt: skip
    lab.kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(o) for o in objects))
    names = [FLEX_DISK, "pst-flex-nas", "pst-flex-oss"]
    for claim in ("disk", "nas", "oss", "dyn"):
        bound = wait_bound_in(lab, FLEX_NS, claim)
        assert bound["status"]["phase"] == "Bound", claim
    names.append(lab.kubectl_json("get", "pvc", "-n", FLEX_NS, "dyn")["spec"]["volumeName"])
    return names


def wait_bound_in(lab, ns: str, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        claim = lab.kubectl_json("get", "pvc", "-n", ns, name)
        if claim.get("status", {}).get("phase") == "Bound" or time.monotonic() > deadline:
            return claim
        time.sleep(1)


def migrate_vars(names: list[str]) -> dict:
    return {
        "provision_storage_migrate_flexvolume": True,
        "provision_storage_migrate_volumes": names,
        "provision_storage_migrate_timeout": 120,
    }


def identity(pv: dict) -> tuple:
    spec = pv["spec"]
    if "flexVolume" in spec:
        opts = spec["flexVolume"]["options"]
        found = (opts.get("volumeId"), opts.get("server"), opts.get("path"), opts.get("bucket"))
    else:
        attrs = spec["csi"].get("volumeAttributes") or {}
        handle = spec["csi"]["volumeHandle"] if spec["csi"]["driver"].startswith("disk") else None
        found = (handle, attrs.get("server"), attrs.get("path"), attrs.get("bucket"))
    if found[3]:  # an OSS bucket without a path is mounted from its root
        found = (*found[:2], found[2] or "/", found[3])
    return found


def flex_states(lab) -> dict[str, str]:
    """What the migration could change: the seeded PVs, claims, Deployments and classes."""
    states = lab.object_states("pv,pvc,deployments,storageclasses")
    return {k: v for k, v in states.items() if "pst-" in k or "d-bp1" in k or "csi" in k}


def test_flexvolume_migration(st_lab, tmp_path):
    st_lab.kubectl("delete", "namespace", FLEX_NS, "--ignore-not-found", "--wait=true", check=False)
    for name in (
        FLEX_DISK,
        "pst-flex-nas",
        "pst-flex-oss",
        f"{FLEX_DISK}-csi",
        "pst-flex-nas-csi",
        "pst-flex-oss-csi",
    ):
        st_lab.kubectl("delete", "pv", name, "--ignore-not-found", "--wait=false", check=False)
    names = seed_flex(st_lab)
    old = {n: pv(st_lab, n) for n in names}
    claims_of = {n: old[n]["spec"]["claimRef"]["name"] for n in names}

    # Check mode: the whole plan, nothing changed.
    before = flex_states(st_lab)
    proc = run(st_lab, tmp_path, migrate_vars(names), "--check", name="check.yml")
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert flex_states(st_lab) == before
    report = json.loads((tmp_path / "provision-storage.json").read_text())
    planned = {row["pv"]: row for row in report["migration"]["volumes"]}
    assert set(planned) == set(names)
    assert all(row["state"] == "planned" for row in planned.values())
    assert any("scale Deployment pst-flex/app-disk to 0" in s for s in planned[FLEX_DISK]["steps"])

    proc = run(st_lab, tmp_path, migrate_vars(names), "-vvv", name="migrate.yml")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert AK_SECRET not in out
    for n in names:
        claim = st_lab.kubectl_json("get", "pvc", "-n", FLEX_NS, claims_of[n])
        assert claim["status"]["phase"] == "Bound", n
        new = pv(st_lab, claim["spec"]["volumeName"])
        assert "csi" in new["spec"], n
        assert new["spec"]["csi"]["driver"].endswith(".csi.alibabacloud.com")
        assert identity(new) == identity(old[n]), n
        # The old PV is retained, Released, until the operator deletes it.
        kept = pv(st_lab, n)
        assert kept["spec"]["persistentVolumeReclaimPolicy"] == "Retain", n
        assert kept["status"]["phase"] == "Released", n
    oss = pv(st_lab, st_lab.kubectl_json("get", "pvc", "-n", FLEX_NS, "oss")["spec"]["volumeName"])
    assert oss["spec"]["csi"]["nodePublishSecretRef"]["name"]
    all_pvs = json.dumps(
        [
            pv(st_lab, st_lab.kubectl_json("get", "pvc", "-n", FLEX_NS, c)["spec"]["volumeName"])
            for c in claims_of.values()
        ]
    )
    assert AK_SECRET not in all_pvs
    for app in ("disk", "nas", "oss", "dyn"):
        dep = st_lab.kubectl_json("get", "deployment", "-n", FLEX_NS, f"app-{app}")
        assert dep["spec"]["replicas"] == 1, app

    proc = run(st_lab, tmp_path, migrate_vars(names), name="again.yml")
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert recap(proc.stdout)["localhost"]["changed"] == 0, proc.stdout[-5000:]


# ---- a migration that fails half-way, put back with the commands its error gives


def test_failed_migration_is_restored_by_its_own_commands(st_lab, tmp_path):
    """The new claim is refused after the old one is deleted (a namespace ResourceQuota admits
    no claim of the CSI class): the run stops, its report lists shell commands, and running
    exactly those brings back the old PV bound to the claim, its reclaim policy and the
    workload's replicas. With the quota lifted, the migration then goes through."""
    lab = st_lab
    zone = sorted({h.zone for h in lab.workers})[0]
    lab.kubectl("delete", "namespace", FAIL_NS, "--ignore-not-found", "--wait=true",
                "--timeout=120s", check=False)  # fmt: skip
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FAIL_NS}},
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "pst-fail-ssd"},
         "provisioner": "alicloud/disk", "parameters": {"type": "cloud_ssd", "zoneid": zone},
         "reclaimPolicy": "Delete"},
        flex_claim("data", None, ["ReadWriteOnce"], "pst-fail-ssd", ns=FAIL_NS),
        flex_deployment("app-data", "data", ns=FAIL_NS, replicas=2),
    ]  # fmt: skip
    lab.kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(o) for o in objects))
    claim = wait_bound_in(lab, FAIL_NS, "data")
    assert claim["status"]["phase"] == "Bound", claim
    old_name = claim["spec"]["volumeName"]
    old = pv(lab, old_name)
    assert old["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "pst-classes", "namespace": FAIL_NS},
        "spec": {
            "hard": {"pst-fail-ssd-csi.storageclass.storage.k8s.io/persistentvolumeclaims": "0"}
        },
    }
    lab.kubectl("apply", "-f", "-", input=json.dumps(quota))
    deadline = time.monotonic() + 30  # admission needs the quota controller's first count
    while (
        not lab.kubectl_json("get", "resourcequota", "-n", FAIL_NS, "pst-classes")
        .get("status", {})
        .get("hard")
    ):
        assert time.monotonic() < deadline, "the quota controller never counted pst-classes"
        time.sleep(0.5)

    proc = run(lab, tmp_path, migrate_vars([old_name]), name="fail.yml")
    assert proc.returncode != 0, proc.stdout[-4000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "exceeded quota" in proc.stdout, proc.stdout[-4000:]
    report = json.loads((tmp_path / "provision-storage.json").read_text())
    error = report["migration"]["error"]
    assert "claim deleted" in error["details"]["done"], error
    assert "claim recreated" not in error["details"]["done"], error
    restore = error["details"]["restore"]
    markdown = (tmp_path / "provision-storage.md").read_text()
    assert all(line in markdown for line in restore), markdown
    # Half-way: the claim is gone, the old PV Released but kept, the workload down.
    assert lab.kubectl("get", "pvc", "-n", FAIL_NS, "data", check=False).returncode != 0
    kept = pv(lab, old_name)
    assert kept["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert kept["status"]["phase"] == "Released"
    assert lab.kubectl_json("get", "deployment", "-n", FAIL_NS, "app-data")["spec"]["replicas"] == 0

    # The operator runs exactly what the error says, in order.
    env = dict(os.environ, KUBECONFIG=str(lab.kubeconfig),
               PATH=f"{lab.kubectl_bin.parent}:{os.environ['PATH']}")  # fmt: skip
    for line in restore:
        if line.startswith("#"):
            continue
        done = subprocess.run(["bash", "-c", line], env=env, text=True, capture_output=True,
                              timeout=150)  # fmt: skip
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    claim = lab.kubectl_json("get", "pvc", "-n", FAIL_NS, "data")
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["volumeName"] == old_name
    back = pv(lab, old_name)
    assert back["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert back["spec"]["flexVolume"] == old["spec"]["flexVolume"]  # the same disk, untouched
    assert lab.kubectl("get", "pv", f"{old_name}-csi", check=False).returncode != 0
    deadline = time.monotonic() + 60
    while True:
        dep = lab.kubectl_json("get", "deployment", "-n", FAIL_NS, "app-data")
        if dep["spec"]["replicas"] == 2 and dep["status"].get("readyReplicas") == 2:
            break
        assert time.monotonic() < deadline, dep["status"]
        time.sleep(1)

    # Restored means retryable: without the quota the same run migrates the volume.
    lab.kubectl("delete", "resourcequota", "-n", FAIL_NS, "pst-classes")
    proc = run(lab, tmp_path, migrate_vars([old_name]), name="retry.yml")
    assert proc.returncode == 0, proc.stdout[-4000:]
    claim = lab.kubectl_json("get", "pvc", "-n", FAIL_NS, "data")
    assert claim["spec"]["volumeName"] == f"{old_name}-csi"
    assert identity(pv(lab, f"{old_name}-csi")) == identity(old)


# ---- the lab provisioner refuses what the disk driver refuses


def test_lab_provisioner_refuses_zones_sizes_and_categories(st_lab):
    """Claims the disk driver would refuse stay Pending with a ProvisioningFailed Event
    naming the cause, and no PV is made for them (lab/cloud.py, as the driver)."""
    lab = st_lab
    region = lab_region(lab)
    zones = sorted({h.zone for h in lab.hosts})
    nowhere = f"{region}-z"  # a zone of the region that no node has
    other = "cn-beijing-a" if region != "cn-beijing" else "cn-shanghai-a"
    assert nowhere not in zones
    cases = {
        # WaitForFirstConsumer: the scheduler picks a node; its zone is not the class's.
        "wffc-zone": ({"type": "cloud_essd", "zoneId": nowhere}, "20Gi", True,
                      ["which class pst-zone-wffc-zone does not allow", nowhere]),
        "other-region": ({"type": "cloud_essd", "zoneId": other}, "20Gi", False,
                         [f"zone {other} is not in region {region}"]),
        "size": ({"type": "cloud_essd", "performanceLevel": "PL1", "zoneId": zones[0]}, "10Gi",
                 False, ["cloud_essd disks are at least 20Gi, 10Gi requested"]),
        "category": ({"type": "cloud_fancy", "zoneId": zones[0]}, "20Gi", False,
                     ["disk category 'cloud_fancy' is not supported"]),
    }  # fmt: skip
    lab.kubectl("delete", "namespace", ZONE_NS, "--ignore-not-found", "--wait=true",
                "--timeout=120s", check=False)  # fmt: skip
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ZONE_NS}}]
    for case, (params, size, wffc_mode, _words) in cases.items():
        name = f"pst-zone-{case}"
        objects.append({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": "diskplugin.csi.alibabacloud.com", "parameters": params,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer" if wffc_mode else "Immediate",
        })  # fmt: skip
        claim = flex_claim(case, None, ["ReadWriteOnce"], name, ns=ZONE_NS)
        claim["spec"]["resources"]["requests"]["storage"] = size
        objects.append(claim)
        if wffc_mode:
            pod = consumer_pod(f"use-{case}", case)
            pod["metadata"]["namespace"] = ZONE_NS
            objects.append(pod)
    lab.kubectl("delete", "storageclass", *(f"pst-zone-{c}" for c in cases), "--ignore-not-found",
                check=False)  # fmt: skip
    lab.kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(o) for o in objects))
    deadline = time.monotonic() + 45
    while True:
        events = lab.kubectl_json(
            "get", "events", "-n", ZONE_NS, "--field-selector", "reason=ProvisioningFailed"
        )["items"]
        found = {e["involvedObject"]["name"]: e["message"] for e in events}
        if set(found) >= set(cases) or time.monotonic() > deadline:
            break
        time.sleep(1)
    for case, (_params, _size, _wffc, words) in cases.items():
        assert case in found, (case, found)
        for word in words:
            assert word in found[case], (case, word, found[case])
        claim = lab.kubectl_json("get", "pvc", "-n", ZONE_NS, case)
        assert claim["status"]["phase"] == "Pending", case
        assert not claim["spec"].get("volumeName"), case
    made = [
        p["metadata"]["name"]
        for p in lab.kubectl_json("get", "pv")["items"]
        if (p["spec"].get("claimRef") or {}).get("namespace") == ZONE_NS
    ]
    assert made == [], made
    lab.kubectl("delete", "namespace", ZONE_NS, "--wait=false", check=False)
    lab.kubectl("delete", "storageclass", *(f"pst-zone-{c}" for c in cases), check=False)
