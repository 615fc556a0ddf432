"""The Kubernetes access layer against the lab's real API server, one object of each kind.

For PersistentVolume, PersistentVolumeClaim, StorageClass, StatefulSet,
Service, Ingress, NetworkPolicy, ConfigMap, Secret (and HTTPRoute when the
Gateway API CRDs are installed): a dry-run apply persists nothing, the real
apply creates it, it reads back, a second apply changes nothing, a labelled
list with a small page size finds it, and it is deleted. Then the mixed set is
applied in one apply_all call, waited on, and deleted. Everything lives in a
namespace of its own (and cluster-scoped objects carry a unique name), removed
whatever happens.
"""

from __future__ import annotations

import json
import uuid

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import UnknownKindError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.waits import field_is, is_gone

pytestmark = pytest.mark.lab

SECRET_VALUE = "s3cr3t-never-in-a-diff"


@pytest.fixture(scope="module")
def access(lab_handle):
    lab = lab_handle.ensure("small")
    client = ObjectClient(get_api_client({"kubeconfig": str(lab.kubeconfig)}), "ackops-test")
    run = uuid.uuid4().hex[:6]
    ns = f"access-{run}"
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    yield client, ns, run
    for kind, name in (("PersistentVolume", f"pv-{run}"), ("PersistentVolume", f"bulk-pv-{run}")):
        client.delete("v1", kind, name)
    for name in (f"sc-{run}", f"bulk-sc-{run}"):
        client.delete("storage.k8s.io/v1", "StorageClass", name)
    client.delete("v1", "Namespace", ns)


def objects(ns: str, run: str, prefix: str = "") -> list[dict]:
    labels = {"ackops.test/run": run, "ackops.test/set": prefix.rstrip("-") or "single"}
    meta = lambda name, namespaced=True: {  # noqa: E731
        "name": f"{prefix}{name}" + ("" if namespaced else f"-{run}"),
        **({"namespace": ns} if namespaced else {}),
        "labels": dict(labels),
    }
    app = {"app": f"{prefix}db"}
    return [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": meta("sc", False),
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": meta("pv", False),
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": f"{prefix}sc-{run}",
                "hostPath": {"path": "/tmp/ackops-pv"},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta("data"),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": f"{prefix}sc-{run}",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("conf"), "data": {"a": "1"}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta("pw"),
            "type": "Opaque",
            "stringData": {"password": SECRET_VALUE},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta("db"),
            "spec": {"clusterIP": "None", "selector": app, "ports": [{"port": 5432}]},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": meta("db"),
            "spec": {
                "replicas": 0,
                "serviceName": f"{prefix}db",
                "selector": {"matchLabels": app},
                "template": {
                    "metadata": {"labels": app},
                    "spec": {"containers": [{"name": "db", "image": "postgres:16.4"}]},
                },
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("db-only"),
            "spec": {"podSelector": {"matchLabels": app}, "policyTypes": ["Ingress"]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta("web"),
            "spec": {
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": f"{prefix}db", "port": {"number": 5432}}
                                    },
                                }
                            ]
                        },
                    }
                ]
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": meta("route"),
            "spec": {
                "hostnames": ["shop.example.com"],
                "rules": [{"backendRefs": [{"name": f"{prefix}db", "port": 5432}]}],
            },
        },
    ]


def httproute_served(client) -> bool:
    try:
        client.resource("gateway.networking.k8s.io/v1", "HTTPRoute")
    except UnknownKindError:
        return False
    return True


def coordinates(obj: dict) -> tuple:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace")


KINDS = [
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ConfigMap",
    "Secret",
    "Service",
    "StatefulSet",
    "NetworkPolicy",
    "Ingress",
    "HTTPRoute",
]


@pytest.mark.parametrize("kind", KINDS)
def test_one_object_of_each_kind(access, kind):
    client, ns, run = access
    # `lab up` always installs the Gateway API CRDs (lab/ackolab/cli.py): a lab that
    # does not serve HTTPRoute is broken, not a reason to skip (issue 18).
    if kind == "HTTPRoute":
        assert httproute_served(client), "the lab serves no HTTPRoute: Gateway API CRDs missing"
    body = next(o for o in objects(ns, run) if o["kind"] == kind)
    where = coordinates(body)

    preview = client.apply(body, dry_run=True)
    assert preview["metadata"]["name"] == body["metadata"]["name"]
    assert client.get(*where) is None, "a dry run persisted the object"

    created = client.apply(body)
    read = client.get(*where)
    assert read["metadata"]["uid"] == created["metadata"]["uid"]
    # Unchanged on re-apply: judged without server noise (status, resourceVersion),
    # which controllers move on their own (a PVC's binding status).
    (again,) = client.apply_all([body])
    assert again["changed"] is False, again["diff"]

    found = client.list(
        body["apiVersion"],
        kind,
        where[3],
        label_selector={"ackops.test/run": run, "ackops.test/set": "single"},
        limit=1,
    )
    assert [o["metadata"]["name"] for o in found] == [body["metadata"]["name"]]
    assert found[0]["kind"] == kind

    assert client.delete(*where, dry_run=True) is not None
    assert client.get(*where) is not None
    client.delete(*where)
    client.wait(*where, predicate=is_gone, timeout=60, what="deletion")


def test_list_pages_through_many_objects(access):
    client, ns, run = access
    bodies = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"page-{i}", "namespace": ns, "labels": {"page": run}},
            "data": {"i": str(i)},
        }
        for i in range(5)
    ]
    client.apply_all(bodies)
    found = client.list("v1", "ConfigMap", ns, label_selector={"page": run}, limit=2)
    assert sorted(o["metadata"]["name"] for o in found) == [f"page-{i}" for i in range(5)]


def test_bulk_apply_of_a_mixed_set_then_wait_and_delete(access):
    client, ns, run = access
    bulk = [
        o
        for o in objects(ns, run, prefix="bulk-")
        if o["kind"] != "HTTPRoute" or httproute_served(client)
    ]
    preview = client.apply_all(bulk, dry_run=True)
    assert all(r["changed"] for r in preview)
    assert all(client.get(*coordinates(o)) is None for o in bulk)

    changes = Changes()
    results = client.apply_all(bulk, changes=changes)
    order = [r["object"].split()[0] for r in results]
    assert order.index("StorageClass") < order.index("PersistentVolume")
    assert order.index("PersistentVolume") < order.index("PersistentVolumeClaim")
    assert order.index("Service") < order.index("StatefulSet") < order.index("Ingress")
    assert len(changes) == len(bulk)
    assert SECRET_VALUE not in json.dumps([r["diff"] for r in results])

    assert not any(r["changed"] for r in client.apply_all(bulk))

    # The StatefulSet's controller reports it observed the object.
    sts = next(o for o in bulk if o["kind"] == "StatefulSet")
    client.wait(
        *coordinates(sts),
        predicate=field_is("status.observedGeneration", 1),
        timeout=60,
        what="the StatefulSet observed",
    )
    for obj in reversed(bulk):
        client.delete(*coordinates(obj))
    for obj in bulk:
        client.wait(*coordinates(obj), predicate=is_gone, timeout=60, what="deletion")
