"""ObjectClient against the in-memory fake API: discovery, reads, writes, waits, bulk apply."""

from __future__ import annotations

import json

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    RunbookError,
    failure,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.diff import (
    REDACTED,
    REDACTED_CHANGED,
    diff_entry,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.discovery import (
    Discovery,
    parse_resource_list,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import (
    K8sObjectError,
    ScopeError,
    UnknownKindError,
    UnsupportedError,
    WaitTimeout,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import (
    ObjectClient,
    crd_kinds,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.waits import (
    condition_is,
    field_is,
    is_gone,
)
from tests.unit.k8s_fake import DISCOVERY, FakeApi, discovery_file

# The plural and scope of every kind the runbooks use, as the lab's API server
# (Kubernetes v1.37) lists them in the discovery documents recorded in
# tests/unit/fixtures/discovery.
KINDS = [
    ("v1", "PersistentVolume", "persistentvolumes", False),
    ("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
    ("storage.k8s.io/v1", "StorageClass", "storageclasses", False),
    ("apps/v1", "StatefulSet", "statefulsets", True),
    ("v1", "Service", "services", True),
    ("networking.k8s.io/v1", "Ingress", "ingresses", True),
    ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True),
    ("v1", "ConfigMap", "configmaps", True),
    ("v1", "Secret", "secrets", True),
    ("apps/v1", "Deployment", "deployments", True),
    ("apps/v1", "DaemonSet", "daemonsets", True),
    ("v1", "Pod", "pods", True),
    ("v1", "Node", "nodes", False),
    ("v1", "Namespace", "namespaces", False),
    ("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True),
    ("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True),
    ("batch/v1", "Job", "jobs", True),
    ("batch/v1", "CronJob", "cronjobs", True),
    ("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True),
    ("gateway.networking.k8s.io/v1", "HTTPRoute", "httproutes", True),
]


def recorded(path: str) -> dict | None:
    file = discovery_file(path)
    return json.loads(file.read_text()) if file.exists() else None


@pytest.fixture
def fake():
    return FakeApi()


@pytest.fixture
def client(fake):
    return ObjectClient(fake.api_client(), "ackops-test", clock=fake.clock, sleep=fake.clock.sleep)


def configmap(name="cm", ns="shop", labels=None, data=None):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {"app": "web"}},
        "data": data or {"k": "v"},
    }


# ---- discovery


@pytest.mark.parametrize(("api_version", "kind", "plural", "namespaced"), KINDS)
def test_plural_and_scope_from_the_recorded_discovery_documents(
    api_version, kind, plural, namespaced
):
    resource = Discovery(recorded).resource(api_version, kind)
    assert (resource.plural, resource.namespaced) == (plural, namespaced)
    assert {"get", "list", "patch"} <= resource.verbs


def test_every_recorded_document_is_from_the_lab():
    assert {f.name for f in DISCOVERY.glob("*.json")} >= {"api.json", "apis.json", "api_v1.json"}
    assert recorded("/api")["versions"] == ["v1"]


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("v1", "Node", "w1"), "/api/v1/nodes/w1"),
        (
            ("apps/v1", "Deployment", "c", "kube-system"),
            "/apis/apps/v1/namespaces/kube-system/deployments/c",
        ),
        (
            ("policy/v1", "PodDisruptionBudget", None, "ns"),
            "/apis/policy/v1/namespaces/ns/poddisruptionbudgets",
        ),
        (("v1", "Pod", "p", "ns", "eviction"), "/api/v1/namespaces/ns/pods/p/eviction"),
        (
            ("apps/v1", "StatefulSet", "db", "ns", "scale"),
            "/apis/apps/v1/namespaces/ns/statefulsets/db/scale",
        ),
        (("v1", "PersistentVolumeClaim", None, None), "/api/v1/persistentvolumeclaims"),
    ],
)
def test_resource_path(args, path):
    api_version, kind, *rest = args
    assert Discovery(recorded).resource(api_version, kind).path(*rest) == path


def test_discovery_reads_each_group_version_once_and_only_those_needed(fake, client):
    client.get("v1", "ConfigMap", "a", "ns")
    client.get("v1", "Secret", "a", "ns")
    client.list("apps/v1", "Deployment")
    discovery = [
        r.path for r in fake.requests if "/namespaces/" not in r.path and r.path.count("/") <= 3
    ]
    assert discovery == ["/api/v1", "/apis/apps/v1"]


def test_subresources_and_verbs_come_from_discovery():
    pods = Discovery(recorded).resource("v1", "Pod")
    assert {"eviction", "status", "log", "binding"} <= pods.subresources
    assert "scale" in Discovery(recorded).resource("apps/v1", "StatefulSet").subresources
    doc = parse_resource_list({"groupVersion": "x.io/v1", "resources": []})
    assert doc == {}


@pytest.mark.parametrize(
    ("api_version", "kind", "message"),
    [
        ("v1", "Deployment", r"serves no kind Deployment in v1 \(it offers: .*ConfigMap.*\)"),
        ("apps/v2", "Deployment", r"does not serve apps/v2 .*group apps is served as apps/v1"),
        (
            "example.io/v1",
            "Widget",
            r"does not serve API group example.io .*CustomResourceDefinition",
        ),
        ("v2", "Pod", r"does not serve apiVersion v2"),
    ],
)
def test_unknown_kinds_name_kind_and_api_version(client, api_version, kind, message):
    with pytest.raises(UnknownKindError, match=message) as caught:
        client.get(api_version, kind, "x", "ns")
    assert caught.value.obj == kind
    assert isinstance(caught.value, RunbookError)


def test_a_kind_served_later_is_found_after_one_refresh(fake, client):
    with pytest.raises(UnknownKindError):
        client.resource("example.io/v1", "Widget")
    fake.serve_kind("example.io/v1", "Widget", "widgets")
    assert client.resource("example.io/v1", "Widget").plural == "widgets"


def test_scope_errors(client):
    with pytest.raises(ScopeError, match=r"StorageClass .* is cluster-scoped; namespace shop"):
        client.get("storage.k8s.io/v1", "StorageClass", "fast", "shop")
    with pytest.raises(ScopeError, match=r"Secret .* is namespaced; no namespace given"):
        client.get("v1", "Secret", "token")
    with pytest.raises(ScopeError, match="is namespaced"):
        client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})


def test_a_namespace_default_fills_in_a_namespaced_body(fake, client):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {}}
    client.apply(body, namespace="shop")
    assert fake.stored("v1", "ConfigMap", "a", "shop") is not None
    assert "namespace" not in body["metadata"]  # the caller's body is left alone


def test_unsupported_subresource_is_named(client, fake):
    fake.add(configmap())
    with pytest.raises(UnsupportedError, match=r"ConfigMap .* has no scale subresource"):
        client.scale(configmap(), 3)


# ---- reading


def test_get_returns_none_on_404_and_the_object_otherwise(fake, client):
    assert client.get("v1", "ConfigMap", "cm", "shop") is None
    fake.add(configmap())
    assert client.get("v1", "ConfigMap", "cm", "shop")["data"] == {"k": "v"}


def test_list_with_selectors_gathers_every_page_and_sets_kind(fake, client):
    fake.add(*[configmap(f"cm{i}", labels={"app": "web" if i % 2 else "db"}) for i in range(7)])
    fake.add(configmap("other", ns="ops"))
    web = client.list("v1", "ConfigMap", "shop", label_selector={"app": "web"}, limit=2)
    assert [o["metadata"]["name"] for o in web] == ["cm1", "cm3", "cm5"]
    assert all((o["kind"], o["apiVersion"]) == ("ConfigMap", "v1") for o in web)
    pages = [r.query for r in fake.requests if r.path == "/api/v1/namespaces/shop/configmaps"]
    assert [q.get("continue") for q in pages] == [None, "2"]
    assert pages[0] == {"labelSelector": "app=web", "limit": "2"}
    everywhere = client.list("v1", "ConfigMap", label_selector="app!=db", limit=3)
    assert len(everywhere) == 4
    named = client.list("v1", "ConfigMap", field_selector={"metadata.name": "cm4"})
    assert [o["metadata"]["name"] for o in named] == ["cm4"]


# ---- writing


def test_apply_dry_run_persists_nothing_then_apply_creates_and_reapply_is_unchanged(fake, client):
    body = configmap()
    preview = client.apply(body, dry_run=True)
    assert preview["data"] == {"k": "v"}
    assert fake.stored("v1", "ConfigMap", "cm", "shop") is None
    assert fake.requests[-1].query == {
        "fieldManager": "ackops-test",
        "force": "true",
        "dryRun": "All",
    }
    assert fake.requests[-1].content_type == "application/apply-patch+yaml"
    created = client.apply(body)
    again = client.apply(body, force=False)
    assert fake.requests[-1].query["force"] == "false"
    assert created["metadata"]["resourceVersion"] == again["metadata"]["resourceVersion"]


def test_create_delete_and_their_dry_runs(fake, client):
    client.create(configmap(), dry_run=True)
    assert fake.stored("v1", "ConfigMap", "cm", "shop") is None
    client.create(configmap())
    with pytest.raises(K8sObjectError, match=r"create: 409 .*already exists") as caught:
        client.create(configmap())
    assert (caught.value.obj, caught.value.status) == ("ConfigMap shop/cm", 409)
    assert client.delete("v1", "ConfigMap", "cm", "shop", dry_run=True) is not None
    assert fake.stored("v1", "ConfigMap", "cm", "shop") is not None
    assert fake.requests[-1].body["propagationPolicy"] == "Background"
    client.delete("v1", "ConfigMap", "cm", "shop", propagation_policy="Foreground")
    assert fake.requests[-1].body["propagationPolicy"] == "Foreground"
    assert fake.stored("v1", "ConfigMap", "cm", "shop") is None
    assert client.delete("v1", "ConfigMap", "cm", "shop") is None  # already gone


def test_json_patch_is_guarded_by_the_resource_version(fake, client):
    fake.add(configmap())
    read = client.get("v1", "ConfigMap", "cm", "shop")
    client.json_patch(read, [{"op": "add", "path": "/data/x", "value": "1"}])
    with pytest.raises(K8sObjectError, match="json patch: 409") as caught:
        client.json_patch(read, [{"op": "add", "path": "/data/y", "value": "2"}])
    assert caught.value.obj == "ConfigMap shop/cm"


@pytest.mark.parametrize(
    ("status", "reason"),
    [(404, "NotFound"), (409, "Conflict"), (422, "Invalid"), (429, "TooManyRequests")],
)
def test_server_refusals_name_the_object_status_and_reason(fake, client, status, reason):
    fake.fail("PATCH", "/configmaps/cm", status, "the server says no")
    with pytest.raises(K8sObjectError) as caught:
        client.apply(configmap())
    error = caught.value
    assert str(error) == f"ConfigMap shop/cm: apply: {status} the server says no"
    assert error.details == {
        "status": status,
        "reason": reason,
        "server": "https://fake-apiserver:6443",
    }
    assert failure(error)["error"]["object"] == "ConfigMap shop/cm"


def test_transport_errors_name_the_server(fake, client):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("Connection refused")

    fake.add(configmap())
    client.resource("v1", "ConfigMap")
    client.api_client.call_api = refuse
    with pytest.raises(
        RunbookError, match="cannot reach the Kubernetes API server https://fake-apiserver:6443"
    ):
        client.get("v1", "ConfigMap", "cm", "shop")


def pod(name, ns="shop", phase="Running"):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
        "status": {"phase": phase},
    }


def test_eviction_deletes_treats_404_as_gone_and_surfaces_429(fake, client):
    fake.add(pod("a"), pod("b"))
    assert client.evict(pod("a"), dry_run=True) is True
    assert fake.stored("v1", "Pod", "a", "shop") is not None
    assert client.evict(pod("a")) is True
    assert fake.stored("v1", "Pod", "a", "shop") is None
    assert client.evict(pod("a")) is False
    fake.evictions_blocked.add("b")
    with pytest.raises(K8sObjectError, match="POST eviction: 429 Cannot evict") as caught:
        client.evict(pod("b"))
    assert caught.value.obj == "Pod shop/b"


def test_scale_and_status_subresources(fake, client):
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {"replicas": 1},
    }
    fake.add(sts)
    assert client.scale(sts, 3, dry_run=True)["spec"]["replicas"] == 3
    assert fake.stored("apps/v1", "StatefulSet", "db", "shop")["spec"]["replicas"] == 1
    client.scale(sts, 3)
    assert client.get_subresource(sts, "scale")["spec"]["replicas"] == 3
    client.patch_subresource(sts, "status", {"status": {"readyReplicas": 3}})
    assert fake.stored("apps/v1", "StatefulSet", "db", "shop")["status"]["readyReplicas"] == 3


# ---- waits


def test_wait_watches_from_the_resource_version(fake, client):
    fake.add(pod("a", phase="Pending"))
    read_at = fake.rv

    def run_pod():  # another actor sets the pod running while the watch is open
        current = fake.stored("v1", "Pod", "a", "shop")
        current["status"]["phase"] = "Running"
        fake._store(current, "MODIFIED")

    fake.when("GET", "watch=true", run_pod)
    found = client.wait("v1", "Pod", "a", "shop", field_is("status.phase", "Running"), timeout=30)
    assert found["status"]["phase"] == "Running"
    watches = [r for r in fake.requests if r.query.get("watch") == "true"]
    assert len(watches) == 1
    assert watches[0].query["fieldSelector"] == "metadata.name=a"
    assert watches[0].query["resourceVersion"] == str(read_at)
    assert watches[0].query["timeoutSeconds"] == "30"
    assert fake.clock.sleeps == []  # no polling


def test_wait_times_out_through_the_injected_clock(fake, client):
    fake.add(pod("a", phase="Pending"))
    with pytest.raises(WaitTimeout, match="phase Running did not hold within 20s") as caught:
        client.wait(
            "v1", "Pod", "a", "shop", field_is("status.phase", "Running"), 20, "phase Running"
        )
    assert caught.value.obj == "Pod shop/a"
    assert fake.clock.now >= 1020


def test_wait_falls_back_to_polling_when_watch_is_refused(fake):
    fake.watch_enabled = False
    client = ObjectClient(fake.api_client(), "t", clock=fake.clock, sleep=fake.clock.sleep)
    fake.add(pod("a"))
    fake.clock.ticks.append(lambda: fake.objects.pop(("v1", "Pod", "shop", "a"), None))
    assert client.wait("v1", "Pod", "a", "shop", is_gone, timeout=10, interval=2) is None
    assert fake.clock.sleeps == [2]
    ready = condition_is("Ready")
    assert ready({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert not ready(None)


# ---- bulk apply


def mixed_set():
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"replicas": 1, "serviceName": "db"},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "shop"},
            "spec": {"storageClassName": "fast"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "pw", "namespace": "shop"},
            "stringData": {"pw": "hunter2"},
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "fast"},
            "provisioner": "x",
        },
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv1"},
            "spec": {"storageClassName": "fast"},
        },
    ]


def test_apply_all_orders_reports_and_records_changes(fake, client):
    changes = Changes()
    results = client.apply_all(mixed_set(), changes=changes)
    assert [r["object"] for r in results] == [
        "Namespace shop",
        "StorageClass fast",
        "PersistentVolume pv1",
        "Secret shop/pw",
        "PersistentVolumeClaim shop/data",
        "StatefulSet shop/db",
    ]
    assert all(r["changed"] for r in results)
    assert [c["action"] for c in changes] == ["create"] * 6
    again = client.apply_all(mixed_set())
    assert len(again) == 6
    assert not any(r["changed"] for r in again)


def test_apply_all_dry_run_persists_and_records_nothing(fake, client):
    changes = Changes()
    results = client.apply_all(mixed_set(), dry_run=True, changes=changes)
    assert all(r["changed"] for r in results)
    assert changes == []
    assert fake.objects == {}


def test_apply_all_failure_half_way_reports_partial_changes(fake, client):
    fake.fail("PATCH", "/persistentvolumeclaims/data", 422, "spec.resources: Required value")
    changes = Changes()
    with pytest.raises(K8sObjectError) as caught:
        client.apply_all(mixed_set(), changes=changes)
    error = caught.value
    assert error.obj == "PersistentVolumeClaim shop/data"
    done = [c["target"] for c in error.partial_changes]
    assert done == ["Namespace shop", "StorageClass fast", "PersistentVolume pv1", "Secret shop/pw"]
    assert failure(error, changes)["partial_changes"] == list(changes)


def test_secret_values_never_reach_a_result(fake, client):
    # Neither the diff nor before/after of any result: a module returns them whole.
    for dry_run in (True, False, False):
        results = client.apply_all(mixed_set(), dry_run=dry_run)
        assert "hunter2" not in json.dumps(results)
    before = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": "YQ==", "b": "Yg=="},
    }
    after = {**before, "data": {"a": "YQ==", "b": "Yw=="}, "stringData": {"c": "plain"}}
    entry = diff_entry("Secret s", before, after)
    assert entry["before"]["data"] == {"a": REDACTED, "b": REDACTED}
    assert entry["after"]["data"] == {"a": REDACTED, "b": REDACTED_CHANGED}
    assert entry["after"]["stringData"] == {"c": REDACTED_CHANGED}
    assert "YQ==" not in json.dumps(entry)
    assert "plain" not in json.dumps(entry)


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
        "versions": [
            {"name": "v1", "served": True, "storage": True, "schema": {}},
            {"name": "v0", "served": False, "storage": False, "schema": {}},
        ],
    },
}


def test_dry_run_previews_objects_whose_crd_or_namespace_the_batch_creates(fake, client):
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3},
    }
    results = client.apply_all([widget, WIDGET_CRD, *mixed_set()], dry_run=True, namespace="shop")
    by_object = {r["object"]: r for r in results}
    # The server cannot preview these yet: reported as creations, unvalidated.
    assert by_object["Widget shop/w"]["validated"] is False
    assert by_object["Widget shop/w"]["changed"] is True
    assert by_object["Widget shop/w"]["after"]["spec"] == {"size": 3}
    assert by_object["Secret shop/pw"]["validated"] is False
    assert "hunter2" not in json.dumps(by_object["Secret shop/pw"])
    # What the server can preview, it does.
    for label in ("Namespace shop", "StorageClass fast", "PersistentVolume pv1"):
        assert by_object[label]["validated"] is True
    assert fake.objects == {}


def test_crd_kinds_only_served_versions():
    assert crd_kinds(WIDGET_CRD) == {("example.com/v1", "Widget"): True}
    cluster = {**WIDGET_CRD, "spec": {**WIDGET_CRD["spec"], "scope": "Cluster"}}
    assert crd_kinds(cluster) == {("example.com/v1", "Widget"): False}


@pytest.mark.parametrize(
    ("body", "field", "obj"),
    [
        ({"kind": "ConfigMap", "metadata": {"name": "c"}}, "apiVersion", "ConfigMap c"),
        ({"apiVersion": "v1", "metadata": {"name": "c"}}, "kind", "object c"),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "metadata.name", "ConfigMap None"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": ["c"]}, "metadata.name", None),
    ],
)
def test_malformed_objects_are_refused_by_field(client, body, field, obj):
    with pytest.raises(K8sObjectError) as caught:
        client.apply_all([body])
    assert caught.value.field == field
    if obj:
        assert caught.value.obj == obj
    with pytest.raises(K8sObjectError):
        client.apply(body)


def test_not_a_mapping_is_refused(client):
    with pytest.raises(K8sObjectError, match="not a Kubernetes object"):
        client.apply_all(["kind: ConfigMap"])


def test_a_malformed_object_anywhere_in_a_batch_changes_nothing(fake, client):
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    with pytest.raises(K8sObjectError, match=r"metadata\.name"):
        client.apply_all([*mixed_set(), bad])
    assert fake.objects == {}


def test_applying_a_crd_waits_until_its_served_kind_is_discovered(fake, client):
    # The fake API never starts serving the Widget kind: the wait ends on the
    # injected clock, naming the kind and the served apiVersion (not v0).
    with pytest.raises(K8sObjectError) as caught:
        client.apply_all([WIDGET_CRD])
    assert "Widget (example.com/v1) not served within 30s" in str(caught.value)
    assert caught.value.obj == "CustomResourceDefinition widgets.example.com"
    assert [c["target"] for c in caught.value.partial_changes] == [
        "CustomResourceDefinition widgets.example.com"
    ]


# ---- retries and field ownership (ingress-ha's safe evictions and apply conflicts)


def test_patch_retrying_replans_on_a_resource_version_conflict(fake, client):
    fake.add(configmap(data={"n": "0"}))
    seen = []

    def add_one(current):
        seen.append(current["data"]["n"])
        if len(seen) == 1:  # someone else writes between our read and our patch
            fake.add(configmap(data={"n": "5"}))
        return [{"op": "replace", "path": "/data/n", "value": str(int(current["data"]["n"]) + 1)}]

    before, after = client.patch_retrying("v1", "ConfigMap", "cm", "shop", add_one)
    assert seen == ["0", "5"]
    assert before["data"]["n"] == "5"
    assert after["data"]["n"] == "6"
    assert fake.stored("v1", "ConfigMap", "cm", "shop")["data"]["n"] == "6"


def test_patch_retrying_gives_up_after_its_attempts_and_skips_no_ops(fake, client):
    fake.add(configmap(data={"n": "0"}))
    assert client.patch_retrying("v1", "ConfigMap", "cm", "shop", lambda c: [])[1] is None
    assert client.patch_retrying("v1", "ConfigMap", "gone", "shop", lambda c: [1]) == (None, None)
    for _ in range(3):
        fake.fail("PATCH", "/configmaps/cm", 409, "the object has been modified")
    with pytest.raises(K8sObjectError, match="409"):
        client.patch_retrying(
            "v1", "ConfigMap", "cm", "shop",
            lambda c: [{"op": "add", "path": "/data/x", "value": "1"}], attempts=3,
        )  # fmt: skip
    fake.fail("PATCH", "/configmaps/cm", 422, "spec: Invalid value")
    with pytest.raises(K8sObjectError, match="422"):  # not a conflict: no retry
        client.patch_retrying(
            "v1", "ConfigMap", "cm", "shop",
            lambda c: [{"op": "add", "path": "/data/x", "value": "1"}],
        )  # fmt: skip
    assert "x" not in fake.stored("v1", "ConfigMap", "cm", "shop")["data"]


def test_evict_retrying_backs_off_on_429_until_allowed(fake, client):
    fake.add(pod("a"))
    fake.evictions_blocked.add("a")
    fake.clock.ticks.append(lambda: fake.clock.now >= 1010 and fake.evictions_blocked.discard("a"))
    assert client.evict_retrying(pod("a"), timeout=60) is True
    assert fake.clock.sleeps[:4] == [1, 2, 4, 8]
    assert fake.stored("v1", "Pod", "a", "shop") is None
    assert client.evict_retrying(pod("a"), timeout=60) is False  # already gone


def test_evict_retrying_raises_the_429_after_the_timeout(fake, client):
    fake.add(pod("b"))
    fake.evictions_blocked.add("b")
    start = fake.clock.now
    with pytest.raises(K8sObjectError, match="429") as caught:
        client.evict_retrying(pod("b"), timeout=30, max_delay=8)
    assert fake.clock.now - start == 30
    assert max(fake.clock.sleeps) == 8
    assert caught.value.details["waited"] == 30
    assert fake.stored("v1", "Pod", "b", "shop") is not None


def test_apply_conflicts_from_causes_and_from_the_message():
    from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import (
        apply_conflicts,
    )

    causes = [
        {"reason": "FieldManagerConflict", "message": 'conflict with "helm" using apps/v1',
         "field": ".spec.replicas"},
        {"reason": "FieldManagerConflict", "message": 'conflict with "helm" using apps/v1',
         "field": ".spec.template.spec.nodeSelector"},
    ]  # fmt: skip
    error = K8sObjectError("apply: 409 Apply failed", 409, "Conflict", details={"causes": causes})
    assert apply_conflicts(error) == {
        "helm": [".spec.replicas", ".spec.template.spec.nodeSelector"]
    }
    one = K8sObjectError(
        'apply: 409 Apply failed with 1 conflict: conflict with "ackops-lab" using apps/v1: '
        ".spec.replicas",
        409,
    )
    assert apply_conflicts(one) == {"ackops-lab": [".spec.replicas"]}
    many = K8sObjectError(
        'apply: 409 Apply failed with 3 conflicts: conflicts with "helm" using apps/v1:\n'
        "- .spec.replicas\n- .spec.template.spec.tolerations\n"
        'conflicts with "kubectl-edit" using apps/v1:\n- .spec.template.spec.nodeSelector',
        409,
    )
    assert apply_conflicts(many) == {
        "helm": [".spec.replicas", ".spec.template.spec.tolerations"],
        "kubectl-edit": [".spec.template.spec.nodeSelector"],
    }
    assert apply_conflicts(K8sObjectError("apply: 422 invalid", 422)) == {}


def test_server_status_causes_reach_the_error_details(fake, client):
    fake.add(configmap())
    fake.fail("PATCH", "/configmaps/cm", 409, 'Apply failed with 1 conflict: conflict with "x"')
    with pytest.raises(K8sObjectError) as caught:
        client.apply(configmap(data={"k": "v"}), force=False)
    assert caught.value.status == 409
    assert "causes" not in caught.value.details  # the fake's Status has none


def test_field_owners_reads_managed_fields_per_manager():
    from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import field_owners

    obj = {
        "metadata": {
            "managedFields": [
                {
                    "manager": "helm",
                    "operation": "Update",
                    "fieldsV1": {
                        "f:spec": {
                            "f:replicas": {},
                            "f:template": {
                                "f:spec": {
                                    "f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}}},
                                    "f:nodeSelector": {},
                                }
                            },
                        }
                    },
                },
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "subresource": "status",
                    "fieldsV1": {"f:status": {"f:replicas": {}}},
                },
            ]
        }
    }
    assert field_owners(obj) == {
        "helm (Update)": [
            ".spec.replicas",
            ".spec.template.spec.containers[name=c].image",
            ".spec.template.spec.nodeSelector",
        ]
    }
    assert "kube-controller-manager (Update)" in field_owners(obj, "status")
