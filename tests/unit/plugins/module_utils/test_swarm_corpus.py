"""The corpus of compose files (tests/unit/fixtures/compose): each converts, validates and is consistent.

The corpus covers every key the converter handles: a Swarm stack with an
override file, .env and env files, extends from another file and anchors
(shop), a Compose Specification file with long syntax, inline configs and
profiles (spec), an old file format 3 stack (legacy) and forty services built
from anchors (many).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    ConvertOptions,
    convert_compose,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.project import load_project
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.report import markdown
from tests.unit.manifests import assert_valid_manifests

CORPUS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "compose"
SECRETS = {"db_password": "db-pass-9f2c", "app_db_password": "legacy-pass-77aa"}

# id -> (files, variables, profiles, options)
CORPUS = {
    "shop": (
        ["shop/compose.yml", "shop/compose.prod.yml"],
        {"FROM_SHELL": "from-the-shell"},
        [],
        {
            "namespace": "shop",
            "create_namespace": True,
            "storage_class": "alicloud-disk-essd",
            "network_policies": True,
            "node_names": {"swarm-db-1": "cn-hangzhou.i-db001"},
            "label_map": {"node.labels.zone": "topology.kubernetes.io/zone"},
            "load_balancer": {"services": ["web"], "options": {"address_type": "intranet"}},
            "secret_values": {"db_password": SECRETS["db_password"]},
        },
    ),
    "shop-base-statefulset": (
        ["shop/compose.yml"],
        {},
        [],
        {"statefulset_for_named_volumes": True, "node_labels": {"zone": ["west", "east"]}},
    ),
    "spec": (
        ["spec/compose.yaml"],
        {
            "REGISTRY": "registry.example/ledger",
            "AUDIT_TOKEN": "audit-tok-3b1d",
            "BANNER_TEXT": "hi",
        },
        [],
        {"volume_claims": {"journal": {"size": "50Gi", "access_modes": ["ReadWriteOnce"]}}},
    ),
    "spec-debug-profile": (
        ["spec/compose.yaml"],
        {"REGISTRY": "registry.example/ledger", "BANNER_TEXT": "hi"},
        ["debug"],
        {"statefulsets": ["ledger"], "bind_mounts": {"./seed": {"type": "emptyDir"}}},
    ),
    "legacy": (
        ["legacy/docker-stack.yml"],
        {},
        [],
        {
            "secret_values": {"app_db_password": SECRETS["app_db_password"]},
            "config_values": {"app_properties": "server.port=8000\n"},
        },
    ),
    "many": (["many/compose.yml"], {"REGION": "cn-shanghai"}, [], {"network_policies": True}),
}


def _convert(case: str):
    files, variables, profiles, options = CORPUS[case]
    return convert_compose(
        [str(CORPUS_DIR / f) for f in files],
        ConvertOptions(**options),
        variables=variables,
        profiles=profiles,
    )


@pytest.fixture(params=sorted(CORPUS), scope="module")
def case(request):
    return request.param, _convert(request.param)


def test_every_object_validates(case):
    _name, conversion = case
    assert conversion.objects
    assert_valid_manifests(conversion.objects)


def test_conversion_is_deterministic(case):
    name, conversion = case
    again = _convert(name)
    assert json.dumps(again.objects, sort_keys=False) == json.dumps(
        conversion.objects, sort_keys=False
    )
    assert json.dumps(again.report) == json.dumps(conversion.report)


def test_secret_values_stay_out_of_the_report(case):
    _name, conversion = case
    text = json.dumps(conversion.report) + markdown(conversion.report)
    for value in [*SECRETS.values(), "audit-tok-3b1d", "not-a-real-key"]:
        assert value not in text


def test_every_service_key_is_in_the_report(case):
    name, conversion = case
    files, variables, profiles, _options = CORPUS[name]
    project = load_project(
        [str(CORPUS_DIR / f) for f in files], variables=variables, profiles=profiles
    )
    for service, spec in project.services.items():
        keys = {e["key"] for e in conversion.report["services"][service]["entries"]}
        for key, value in spec.items():
            if key == "deploy":
                wanted = [f"deploy.{k}" for k, v in value.items() if v not in (None, {}, [])]
            elif value in (None, {}, []):
                continue
            else:
                wanted = [key]
            for item in wanted:
                assert any(k == item or k.startswith((f"{item}.", f"{item}[")) for k in keys), (
                    f"{service}: {item} has no report entry ({sorted(keys)})"
                )


def test_workloads_services_and_references_fit_together(case):
    _name, conversion = case
    objects = conversion.objects
    by_kind: dict[str, dict[str, dict]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    workloads = [
        o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")
    ]
    pod_labels = [w["spec"]["template"]["metadata"]["labels"] for w in workloads]
    for workload in workloads:
        if workload["kind"] != "Job":
            assert (
                workload["spec"]["selector"]["matchLabels"]
                == workload["spec"]["template"]["metadata"]["labels"]
            )
        spec = workload["spec"]["template"]["spec"]
        mounts = {m["name"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
        templates = {
            t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])
        }
        volumes = {v["name"] for v in spec.get("volumes", [])}
        assert mounts <= volumes | templates, workload["metadata"]["name"]
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in by_kind.get("ConfigMap", {}) or _reported(
                    conversion, "configs"
                )
    for service in by_kind.get("Service", {}).values():
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pod_labels), service[
            "metadata"
        ]["name"]


def _reported(conversion, section: str) -> bool:
    return any(e["key"].startswith(f"{section}.") and "external" in (e["lost"] or "")
               for e in conversion.report["stack"])  # fmt: skip


def test_the_corpus_covers_what_the_converter_produces():
    kinds = set()
    statuses = set()
    for name in CORPUS:
        conversion = _convert(name)
        kinds |= {o["kind"] for o in conversion.objects}
        for info in conversion.report["services"].values():
            statuses |= {e["status"] for e in info["entries"]}
    assert kinds == {
        "Namespace", "ConfigMap", "Secret", "PersistentVolumeClaim", "Service", "Deployment",
        "StatefulSet", "DaemonSet", "Job", "NetworkPolicy",
    }  # fmt: skip
    assert statuses == {"converted", "converted_with_loss", "not_convertible"}


def test_profiles_and_the_many_service_stack():
    assert "debug" in _convert("spec").report["summary"]["inactive_services"]
    assert "debug" in _convert("spec-debug-profile").report["services"]
    many = _convert("many")
    assert many.report["summary"]["services"] == 40
    assert many.report["summary"]["objects"]["Deployment"] == 40
