"""release.yml against the lab: every step in every mode, on the real API server.

Each test builds its own application (old Deployment ``web-v1``, its Service,
and an Ingress or HTTPRoute) in a namespace of its own, runs the playbook one
step at a time as an operator would, and checks the objects the API server
holds: the new Deployment and Service, the ACK annotations, the upstream
canary Ingress, the HTTPRoute's weights, the layer-4 EndpointSlices. No
ingress controller runs in the lab: the rules are checked as objects, parsed
back with the release logic. Every step is also run a second time (changed=0)
and in check mode (nothing changes).
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
import uuid

import pytest
import yaml

from ansible_collections.ackops.runbooks.plugins.module_utils.release.ack import parse_ack
from ansible_collections.ackops.runbooks.plugins.module_utils.release.gateway import (
    parse_httproute,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import same_rules
from ansible_collections.ackops.runbooks.plugins.module_utils.release.upstream import (
    parse_upstream,
)
from tests.faults import failures, lab_shape, record
from tests.integration.conftest import VENV_BIN, recap

pytestmark = pytest.mark.lab

HOST = "web.example.com"
ACK_KEYS = (
    "nginx.ingress.kubernetes.io/service-match",
    "nginx.ingress.kubernetes.io/service-weight",
)
APISERVER_MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
APISERVER_ASIDE = "/etc/kubernetes/kube-apiserver.yaml.release-test"
HEADER_MATCH = [{"type": "header", "name": "x-canary", "value": "always", "regex": False}]


@pytest.fixture(scope="module")
def rlab(lab_handle):
    return lab_handle.ensure("small")


# ---- the application


def app_manifests(ns: str, mode: str, dialect: str | None, replicas: int = 4) -> list[dict]:
    labels = {"app": "web", "version": "v1"}
    objs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web-v1", "namespace": ns, "labels": {"app": "web"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": "registry.example.com/web:1.0",
                                "ports": [{"containerPort": 80}],
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web" if mode == "l4" else "web-v1", "namespace": ns},
            "spec": {
                # layer 4: the label both versions share; ingress: this version only
                "selector": {"app": "web"} if mode == "l4" else labels,
                "ports": [{"name": "http", "port": 80, "targetPort": 80}],
                "type": "NodePort" if mode != "l4" else "ClusterIP",
            },
        },
    ]
    if dialect in ("ack", "upstream"):
        objs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": "web", "namespace": ns},
                "spec": {
                    "ingressClassName": "nginx",
                    "rules": [
                        {
                            "host": HOST,
                            "http": {
                                "paths": [
                                    ingress_path("/", "web-v1"),
                                    ingress_path("/static", "static"),
                                ]
                            },
                        }
                    ],
                },
            }
        )
    if dialect == "gateway":
        objs.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {"name": "web", "namespace": ns},
                "spec": {
                    "parentRefs": [{"name": "public", "namespace": "kube-system"}],
                    "hostnames": [HOST],
                    "rules": [
                        {
                            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                            "backendRefs": [{"name": "web-v1", "port": 80}],
                        },
                        {
                            "matches": [{"path": {"type": "PathPrefix", "value": "/static"}}],
                            "backendRefs": [{"name": "static", "port": 80}],
                        },
                    ],
                },
            }
        )
    return objs


def ingress_path(path: str, service: str) -> dict:
    return {
        "path": path,
        "pathType": "Prefix",
        "backend": {"service": {"name": service, "port": {"number": 80}}},
    }


class App:
    """One application in its own namespace, and the release variables for it."""

    def __init__(self, lab, tmp_path, mode: str, dialect: str | None = None, **extra):
        self.lab = lab
        self.tmp = tmp_path
        self.mode = mode
        self.ns = f"rel-{mode}-{dialect or 'l4'}-{uuid.uuid4().hex[:6]}"
        lab.kubectl(
            "apply", "-f", "-", input=yaml.safe_dump_all(app_manifests(self.ns, mode, dialect))
        )
        self.vars = {
            "release_name": "web",
            "release_namespace": self.ns,
            "release_mode": mode,
            "release_old_deployment": "web-v1",
            "release_old_service": "web" if mode == "l4" else "web-v1",
            "release_new_deployment": "web-v2",
            "release_new_image": "registry.example.com/web:2.0",
            "release_new_labels": {"version": "v2"},
            "release_wait_timeout": 90,
            "release_report_dir": str(tmp_path),
        }
        if mode == "ingress":
            self.vars["release_new_service"] = "web-v2"
            self.vars["release_dialect"] = dialect
            if dialect == "gateway":
                self.vars["release_route"] = "web"
            else:
                self.vars["release_ingress"] = "web"
        self.vars.update(extra)
        self.wait_ready("web-v1", 4)

    def run(self, step: str, *args: str, **extra):
        varfile = self.tmp / f"vars-{uuid.uuid4().hex[:6]}.json"
        varfile.write_text(json.dumps({**self.vars, **extra, "release_step": step}))
        return self.lab.playbook("release.yml", "-e", f"@{varfile}", *args)

    def step(self, step: str, *args: str, changed: bool | None = None, **extra) -> dict:
        """Run a step that must succeed; its report."""
        proc = self.run(step, *args, **extra)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            failed = self.tmp / f"release-{step}.json"
            error = failed.read_text() if failed.exists() else ""
            raise AssertionError(f"{step} failed: {error}\n{output[-4000:]}")
        if changed is not None:
            assert bool(recap(proc.stdout)["localhost"]["changed"]) == changed, output[-6000:]
        return json.loads((self.tmp / f"release-{step}.json").read_text())

    def again_unchanged_and_check(self, step: str, **extra) -> None:
        """The step a second time changes nothing; in check mode too, and nothing moves."""
        before = self.snapshot()
        report = self.step(step, changed=False, **extra)
        assert report["changes"] == [], report["changes"]
        self.step(step, "--check", "--diff", changed=False, **extra)
        assert self.snapshot() == before

    # ---- reading

    def get(self, kind: str, name: str) -> dict | None:
        proc = self.lab.kubectl("get", kind, name, "-n", self.ns, "-o", "json", check=False)
        if proc.returncode != 0:
            assert "NotFound" in proc.stderr, proc.stderr
            return None
        return json.loads(proc.stdout)

    def snapshot(self) -> dict[str, str]:
        states = self.lab.object_states("deployments,services,ingresses,httproutes")
        return {k: v for k, v in states.items() if f"/{self.ns}/" in k}

    def wait_ready(self, name: str, replicas: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dep = self.get("deployment", name)
            if dep and (dep.get("status") or {}).get("readyReplicas", 0) == replicas:
                return
            time.sleep(1)
        raise AssertionError(f"{self.ns}/{name} not {replicas} ready: {dep and dep.get('status')}")

    def endpoints(self) -> dict[str, int]:
        """Ready endpoints of the shared Service, counted by the version label of their pod."""
        slices = self.lab.kubectl_json(
            "get", "endpointslices", "-n", self.ns, "-l", "kubernetes.io/service-name=web"
        )["items"]
        pods = self.lab.kubectl_json("get", "pods", "-n", self.ns)["items"]
        version = {p["metadata"]["name"]: p["metadata"]["labels"].get("version") for p in pods}
        counts = {"v1": 0, "v2": 0}
        for item in slices:
            for ep in item.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                counts[version[ep["targetRef"]["name"]]] += 1
        return counts

    def replicas(self, name: str) -> int | None:
        dep = self.get("deployment", name)
        return None if dep is None else dep["spec"]["replicas"]

    def annotations(self, kind: str, name: str) -> dict:
        return (self.get(kind, name) or {}).get("metadata", {}).get("annotations") or {}

    def ingress_backends(self) -> list[tuple[str, str]]:
        ing = self.get("ingress", "web")
        return [
            (p["path"], p["backend"]["service"]["name"])
            for rule in ing["spec"]["rules"]
            for p in rule["http"]["paths"]
        ]

    def cleanup(self) -> None:
        self.lab.kubectl("delete", "namespace", self.ns, "--wait=false", check=False)


@pytest.fixture
def make_app(rlab, tmp_path):
    apps = []

    def make(mode: str, dialect: str | None = None, **extra) -> App:
        app = App(rlab, tmp_path, mode, dialect, **extra)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.cleanup()


def release_rules(route: dict) -> dict:
    """The route with only the rules that send to web-v1/web-v2 (the static rule is not the release's)."""
    out = json.loads(json.dumps(route))
    out["spec"]["rules"] = [
        r
        for r in route["spec"]["rules"]
        if {b["name"] for b in r["backendRefs"]} <= {"web-v1", "web-v2"}
    ]
    return out


def policy(weight, matches=()):
    return {"stable": "web-v1", "canary": "web-v2", "matches": list(matches), "weight": weight}


def assert_old_only(app: App) -> None:
    """After a rollback: the old version as it was, nothing of the new one, no rule."""
    assert app.replicas("web-v1") == 4
    app.wait_ready("web-v1", 4)
    assert app.get("deployment", "web-v2") is None
    if app.mode == "ingress":
        assert app.get("service", "web-v2") is None
        dialect = app.vars["release_dialect"]
        if dialect == "gateway":
            route = app.get("httproute", "web")
            refs = [[r["name"] for r in rule["backendRefs"]] for rule in route["spec"]["rules"]]
            assert refs == [["web-v1"], ["static"]]
            assert "release.ackops.io/base-rules" not in app.annotations("httproute", "web")
        else:
            assert app.ingress_backends() == [("/", "web-v1"), ("/static", "static")]
            assert not set(ACK_KEYS) & set(app.annotations("ingress", "web"))
            assert app.get("ingress", "web-canary") is None
    else:
        assert app.endpoints() == {"v1": 4, "v2": 0}


# ---- layer 4


def test_l4_canary_each_step(make_app):
    app = make_app("l4")
    before = app.snapshot()
    app.step("deploy", "--check", "--diff", changed=True)
    assert app.snapshot() == before

    report = app.step("deploy", changed=True)
    assert report["state"]["step"] == "deploy"
    new = app.get("deployment", "web-v2")
    assert new["spec"]["replicas"] == 0  # behind the shared Service: no traffic yet
    assert new["spec"]["selector"]["matchLabels"] == {"app": "web", "version": "v2"}
    assert (
        new["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/web:2.0"
    )
    assert new["metadata"]["annotations"]["release.ackops.io/old-replicas"] == "4"
    app.again_unchanged_and_check("deploy")

    report = app.step("shift", changed=True, release_weight=25)
    assert report["split"] == {"old": 3, "new": 1, "achieved_weight": 25.0, "error": 0.0}
    assert (app.replicas("web-v1"), app.replicas("web-v2")) == (3, 1)
    assert app.endpoints() == {"v1": 3, "v2": 1}
    assert report["endpoints"]["new"] == 1
    assert report["endpoints"]["old"] == 3
    app.again_unchanged_and_check("shift", release_weight=25)

    # 60 % of 4 replicas cannot be had: the nearest split, its weight and error reported.
    report = app.step("shift", changed=True, release_weight=60)
    assert (report["split"]["old"], report["split"]["new"]) == (2, 2)
    assert report["split"]["error"] == -10.0
    assert app.endpoints() == {"v1": 2, "v2": 2}
    # A refused gap changes nothing.
    before = app.snapshot()
    proc = app.run("shift", release_weight=60, release_max_weight_error=5)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "max_weight_error" in proc.stdout, proc.stdout[-3000:]
    assert app.snapshot() == before

    app.step("promote", changed=True)
    assert (app.replicas("web-v1"), app.replicas("web-v2")) == (0, 4)
    assert app.endpoints() == {"v1": 0, "v2": 4}
    app.again_unchanged_and_check("promote")

    report = app.step("retire", changed=True)
    assert app.get("deployment", "web-v1") is None
    assert app.get("service", "web") is not None  # the shared Service stays
    assert report["state"]["step"] == "retire"
    assert app.endpoints() == {"v1": 0, "v2": 4}
    app.again_unchanged_and_check("retire")

    # After retire there is no old version to go back to: refused, nothing changed.
    before = app.snapshot()
    proc = app.run("rollback")
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "retired" in proc.stdout, proc.stdout[-3000:]
    assert app.snapshot() == before


@pytest.mark.parametrize("upto", ["deploy", "shift", "promote"])
def test_l4_rollback_from_every_step(make_app, upto):
    app = make_app("l4")
    for step in ("deploy", "shift", "promote")[: ("deploy", "shift", "promote").index(upto) + 1]:
        app.step(step, release_weight=50)
    app.step("rollback", "--check", changed=True)
    report = app.step("rollback", changed=True)
    assert report["state"]["step"] == "none"
    assert_old_only(app)
    app.step("rollback", changed=False)


# ---- ingress, three dialects


def test_ack_annotations_each_step(make_app):
    app = make_app("ingress", "ack")
    app.step("deploy", changed=True)
    svc = app.get("service", "web-v2")
    assert svc["spec"]["selector"] == {"app": "web", "version": "v2"}
    assert svc["spec"]["type"] == "NodePort"
    app.wait_ready("web-v2", 4)
    app.again_unchanged_and_check("deploy")

    report = app.step("shift", changed=True, release_weight=20, release_matches=HEADER_MATCH)
    annotations = app.annotations("ingress", "web")
    assert same_rules(
        parse_ack(annotations, ["web-v1", "web-v2"], "web-v1"), policy(20, HEADER_MATCH)
    )
    assert app.ingress_backends() == [("/", "web-v1"), ("/", "web-v2"), ("/static", "static")]
    assert report["state"]["dialect"] == "ack"
    assert any("deprecated" in n for n in report["notices"]), report["notices"]
    app.again_unchanged_and_check("shift", release_weight=20, release_matches=HEADER_MATCH)

    app.step("shift", changed=True, release_weight=50)
    annotations = app.annotations("ingress", "web")
    assert same_rules(parse_ack(annotations, ["web-v1", "web-v2"], "web-v1"), policy(50))

    app.step("promote", changed=True)
    annotations = app.annotations("ingress", "web")
    assert same_rules(parse_ack(annotations, ["web-v1", "web-v2"], "web-v1"), policy(100))
    app.again_unchanged_and_check("promote")

    app.step("retire", changed=True)
    assert app.ingress_backends() == [("/", "web-v2"), ("/static", "static")]
    assert not set(ACK_KEYS) & set(app.annotations("ingress", "web"))
    assert app.get("deployment", "web-v1") is None
    assert app.get("service", "web-v1") is None
    assert app.get("deployment", "web-v2")["spec"]["replicas"] == 4
    app.again_unchanged_and_check("retire")


def test_upstream_canary_ingress_each_step(make_app):
    app = make_app("ingress", "upstream")
    app.step("deploy", changed=True)
    # ingress-nginx cannot split the matched requests: refused, naming the loss, nothing changed.
    before = app.snapshot()
    proc = app.run("shift", release_weight=30, release_matches=HEADER_MATCH)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "matched requests" in proc.stdout, proc.stdout[-3000:]
    assert app.snapshot() == before

    report = app.step("shift", changed=True, release_matches=HEADER_MATCH)
    canary = app.get("ingress", "web-canary")
    assert canary["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"] == "true"
    parsed = parse_upstream(canary["metadata"]["annotations"], "web-v1", "web-v2")
    assert same_rules(parsed, policy(None, HEADER_MATCH))
    paths = [p["backend"]["service"]["name"] for p in canary["spec"]["rules"][0]["http"]["paths"]]
    assert paths == ["web-v2"]
    assert app.ingress_backends() == [("/", "web-v1"), ("/static", "static")]
    assert report["state"]["dialect"] == "upstream"
    app.again_unchanged_and_check("shift", release_matches=HEADER_MATCH)

    app.step("shift", changed=True, release_weight=30)
    parsed = parse_upstream(app.annotations("ingress", "web-canary"), "web-v1", "web-v2")
    assert same_rules(parsed, policy(30))

    # Accepted loss: the nearest rule (no traffic to the new version) and the loss reported.
    report = app.step(
        "shift", release_weight=30, release_matches=HEADER_MATCH, release_accept_losses=True
    )
    assert any("matched requests" in n for n in report["notices"]), report["notices"]

    app.step("promote", changed=True)
    parsed = parse_upstream(app.annotations("ingress", "web-canary"), "web-v1", "web-v2")
    assert same_rules(parsed, policy(100))

    app.step("retire", changed=True)
    assert app.get("ingress", "web-canary") is None
    assert app.ingress_backends() == [("/", "web-v2"), ("/static", "static")]
    assert app.get("deployment", "web-v1") is None
    app.again_unchanged_and_check("retire")


def test_gateway_httproute_each_step(make_app):
    app = make_app("ingress", "gateway")
    app.step("deploy", changed=True)
    app.step("shift", changed=True, release_weight=10)
    route = app.get("httproute", "web")
    assert same_rules(parse_httproute(release_rules(route), "web-v1"), policy(10))
    static = [r for r in route["spec"]["rules"] if r["backendRefs"][0]["name"] == "static"]
    assert len(static) == 1  # the other rule untouched
    app.again_unchanged_and_check("shift", release_weight=10)

    app.step("shift", changed=True, release_weight=40, release_matches=HEADER_MATCH)
    route = app.get("httproute", "web")
    assert same_rules(parse_httproute(release_rules(route), "web-v1"), policy(40, HEADER_MATCH))

    app.step("promote", changed=True)
    app.step("retire", changed=True)
    route = app.get("httproute", "web")
    refs = [[r["name"] for r in rule["backendRefs"]] for rule in route["spec"]["rules"]]
    assert refs == [["web-v2"], ["static"]]
    assert not any(k.startswith("release.ackops.io/") for k in app.annotations("httproute", "web"))
    app.again_unchanged_and_check("retire")


@pytest.mark.parametrize("dialect", ["ack", "upstream", "gateway"])
@pytest.mark.parametrize("upto", ["deploy", "shift", "promote"])
def test_ingress_rollback_from_every_step(make_app, dialect, upto):
    app = make_app("ingress", dialect)
    steps = ("deploy", "shift", "promote")
    # Upstream ingress-nginx sends every matched request to the canary: no weight with a match.
    weight = -1 if dialect == "upstream" else 20
    for step in steps[: steps.index(upto) + 1]:
        app.step(step, release_weight=weight, release_matches=HEADER_MATCH)
    app.step("rollback", changed=True)
    assert_old_only(app)
    app.step("rollback", changed=False)


def test_auto_dialect_from_the_lab_controller(make_app):
    """The lab's controller is ACK v1.2.1-aliyun.1: ACK's annotations, with the deprecation said."""
    app = make_app("ingress", "ack", release_dialect="auto")
    app.step("deploy")
    report = app.step("shift", release_weight=20)
    assert report["state"]["dialect"] == "ack"
    assert any("deprecated" in n for n in report["notices"])
    # a weight alone is written as service-weight (service-match is only for a match rule)
    annotations = app.annotations("ingress", "web")
    assert "nginx.ingress.kubernetes.io/service-weight" in annotations
    assert same_rules(parse_ack(annotations, ["web-v1", "web-v2"], "web-v1"), policy(20))


def test_retire_before_promote_and_shift_before_deploy_are_refused(make_app):
    app = make_app("ingress", "ack")
    before = app.snapshot()
    proc = app.run("shift", release_weight=20)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "run the deploy step" in proc.stdout, proc.stdout[-3000:]
    assert app.snapshot() == before
    app.step("deploy")
    before = app.snapshot()
    proc = app.run("retire")
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "promote it" in proc.stdout, proc.stdout[-3000:]
    assert app.snapshot() == before
    # A malformed rule is refused with the rule and reason, nothing changed.
    bad = [{"type": "header", "name": "x-canary", "value": "(", "regex": True}]
    proc = app.run("shift", release_weight=20, release_matches=bad)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "bad regular expression" in proc.stdout, proc.stdout[-3000:]
    assert app.snapshot() == before


# ---- gates


class Health(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b"ok 0.002\n"
    hit: threading.Event
    go: threading.Event

    def do_GET(self):
        type(self).hit.set()
        type(self).go.wait(120)  # a test holds the gate here while it restarts the API server
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args):
        pass


@pytest.fixture
def health():
    handler = type("H", (Health,), {"hit": threading.Event(), "go": threading.Event()})
    handler.go.set()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/healthz"
    server.shutdown()


def test_gates_stop_a_shift_and_rollback_is_one_command(make_app, health):
    handler, url = health
    gate = {
        "name": "error rate",
        "url": url,
        "value_regex": r"ok ([0-9.]+)",
        "max": 0.01,
        "retries": 1,
    }
    app = make_app("ingress", "ack", release_gates=[gate])
    app.step("deploy")
    before = app.snapshot()

    handler.status = 503
    proc = app.run("shift", release_weight=20)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "answered 503" in proc.stdout
    assert "release_step=rollback" in proc.stdout
    report = json.loads((app.tmp / "release-shift.json").read_text())
    assert report["failed"]
    assert report["error"]["type"] == "gate"
    assert app.snapshot() == before

    handler.status, handler.body = 200, b"ok 0.5\n"  # the metric above its maximum
    proc = app.run("shift", release_weight=20)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "above the maximum" in proc.stdout, proc.stdout[-3000:]
    assert app.snapshot() == before

    handler.body = b"ok 0.002\n"
    report = app.step("shift", changed=True, release_weight=20)
    assert any("error rate" in g for g in report["gates"]), report["gates"]

    app.step("rollback", changed=True)
    assert_old_only(app)


def test_pdb_gate(make_app):
    app = make_app("ingress", "ack")
    app.step("deploy")
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web-v2", "namespace": app.ns},
        "spec": {"minAvailable": 6, "selector": {"matchLabels": {"version": "v2"}}},
    }
    app.lab.kubectl("apply", "-f", "-", input=json.dumps(pdb))
    time.sleep(3)  # the disruption controller computes the budget's status
    before = app.snapshot()
    proc = app.run("shift", release_weight=20)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "disruption budget" in proc.stdout, proc.stdout[-3000:]
    assert app.snapshot() == before


# ---- an API server restart in the middle of a step


def test_apiserver_restart_during_a_step_is_survived_by_rerunning(make_app, rlab, health):
    """The shift is held at its gate (new pods up, old not yet scaled down) while the API
    server restarts; the run fails half-way, and running the step again finishes it."""
    handler, url = health
    app = make_app("l4", release_gates=[{"url": url, "timeout": 150, "retries": 1}])
    app.step("deploy")
    handler.go.clear()
    varfile = app.tmp / "restart.json"
    varfile.write_text(json.dumps({**app.vars, "release_step": "shift", "release_weight": 75}))
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(rlab.inventory), "release.yml"]
    proc = subprocess.Popen(
        [*argv, "-e", f"@{varfile}"],
        cwd=str(VENV_BIN.parents[1]),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    moved = False
    try:
        assert handler.hit.wait(120), "the step never reached its gate"
        assert app.replicas("web-v2") == 3
        assert app.replicas("web-v1") == 4
        # The lab's static-pod runner, like a kubelet, restarts a component whose manifest
        # leaves the directory and comes back (a touch restarts nothing).
        master = rlab.masters[0]
        rlab.ssh(master.name, f"mv {APISERVER_MANIFEST} {APISERVER_ASIDE}")
        moved = True
        rlab.ssh(
            master.name,
            "for i in $(seq 300); do "
            f"timeout 1 bash -c 'exec 3<>/dev/tcp/{master.ip}/6443' 2>/dev/null || exit 0; "
            "sleep 0.2; done; exit 1",
        )
        assert not rlab.healthy(), "the API server did not go down"
    finally:
        if moved:
            rlab.ssh(master.name, f"mv {APISERVER_ASIDE} {APISERVER_MANIFEST}")
        handler.go.set()
    first, _ = proc.communicate(timeout=600)
    assert proc.returncode != 0, first[-3000:]  # cut short by the restart
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not rlab.healthy():
        time.sleep(1)
    report = app.step("shift", release_weight=75)
    assert (app.replicas("web-v1"), app.replicas("web-v2")) == (1, 3), first[-3000:]
    assert app.endpoints() == {"v1": 1, "v2": 3}
    assert report["state"]["step"] == "shift"
    assert report["state"]["weight"] == 75
    app.again_unchanged_and_check("shift", release_weight=75)
    said = failures(first)
    record(
        "release-apiserver-restart", "release",
        f"{said[0][0]}: {said[0][2]}" if said else f"the step failed (exit {proc.returncode})",
        True, None, None, None, lab=lab_shape(rlab),
    )  # fmt: skip
