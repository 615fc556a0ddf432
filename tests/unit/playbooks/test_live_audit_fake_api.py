"""The live path of audit-workloads.yml against a stand-in API server (no lab needed).

A small HTTP server answers discovery (the documents recorded from the lab's
API server) and the list calls with the objects of the manifest fixtures, so the live audit (client, deserialisation,
sanitising back to dicts, ClusterInfo) must report exactly what the manifest
audit of the same objects reports.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_sources import (
    load_manifest_dir,
)
from tests.unit.k8s_fake import discovery_file
from tests.unit.plugins.module_utils.test_workload_sources_and_report import (
    EXPECTED_FIXTURE_FINDINGS,
)

from .test_planning_runbooks import FIXTURES, run

pytestmark = pytest.mark.slow

# Resource path segment -> kind, for /api/v1/... and /apis/<group>/<version>/...
RESOURCES = {
    "deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet",
    "replicasets": "ReplicaSet", "jobs": "Job", "cronjobs": "CronJob", "pods": "Pod",
    "poddisruptionbudgets": "PodDisruptionBudget",
    "horizontalpodautoscalers": "HorizontalPodAutoscaler", "nodes": "Node",
    "services": "Service", "networkpolicies": "NetworkPolicy",
}  # fmt: skip
LIST_PATH = re.compile(r"^/apis?/(?:[^/]+/)?v\d+(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>[a-z]+)$")
DISCOVERY_PATH = re.compile(r"^/api/v1$|^/apis/[^/]+/[^/]+$")
VERSION = {
    "major": "1", "minor": "37", "gitVersion": "v1.37.2", "gitCommit": "0" * 40,
    "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25",
    "compiler": "gc", "platform": "linux/amd64",
}  # fmt: skip


def serve(objects: list[dict]) -> ThreadingHTTPServer:
    nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cn-hangzhou.i-1"}}]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0].rstrip("/")
            match = LIST_PATH.match(path)
            if path == "/version":
                body = VERSION
            elif path in ("/api", "/apis") or DISCOVERY_PATH.match(path):
                # the discovery documents recorded from the lab's API server
                file = discovery_file(path)
                if not file.exists():
                    self.send_error(404)
                    return
                body = json.loads(file.read_text())
            elif match and match["res"] in RESOURCES:
                kind = RESOURCES[match["res"]]
                items = [
                    o
                    for o in [*objects, *nodes]
                    if o["kind"] == kind
                    and (match["ns"] is None or o["metadata"].get("namespace") == match["ns"])
                ]
                body = {"kind": f"{kind}List", "metadata": {}, "items": items}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def fake_api(tmp_path):
    objects = [obj for obj, _source in load_manifest_dir(str(FIXTURES))]
    server = serve(objects)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {
            "server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "fake", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
    }))  # fmt: skip
    yield kubeconfig
    server.shutdown()


def test_live_audit_reports_what_the_manifest_audit_reports(fake_api, tmp_path):
    live_dir, files_dir = tmp_path / "live", tmp_path / "files"
    live = run(
        "audit-workloads.yml",
        extra={
            "audit_workloads_kubeconfig": str(fake_api),
            "audit_workloads_report_dir": str(live_dir),
        },
    )
    assert live.returncode == 0, live.stdout + live.stderr
    files = run(
        "audit-workloads.yml",
        extra={
            "audit_workloads_source": "manifests",
            "audit_workloads_manifest_dir": str(FIXTURES),
            "audit_workloads_report_dir": str(files_dir),
        },
    )
    assert files.returncode == 0, files.stdout + files.stderr

    live_report = json.loads((live_dir / "audit-workloads.json").read_text())
    files_report = json.loads((files_dir / "audit-workloads.json").read_text())
    assert live_report["SourceType"] == "Cluster"
    assert live_report["ClusterInfo"] == {
        "Version": "v1.37.2",
        "Nodes": 1,
        "Pods": 1,
        "Namespaces": 2,
        "Controllers": 2,
    }
    # What the live audit found, against the hand-written list of the fixtures' findings
    # (not against another run of the same code): every failed result, by object,
    # container and check, and the Score counted by hand (70 results, 26 failed).
    failed = set()
    for entry in live_report["Results"]:
        levels = [(None, entry["Results"]), (None, entry["PodResult"]["Results"])]
        levels += [(c["Name"], c["Results"]) for c in entry["PodResult"]["ContainerResults"]]
        for container, checks in levels:
            failed |= {
                (r["Severity"], entry["Kind"], entry["Name"], container, r["ID"])
                for r in checks.values()
                if not r["Success"]
            }
    assert failed == set(EXPECTED_FIXTURE_FINDINGS)
    assert live_report["Score"] == 63
    assert live_report["Results"] == files_report["Results"]
    assert live_report["AuditCounts"] == files_report["AuditCounts"]
    # The same findings; the manifest audit's messages also name file and document.
    live_rows = [
        r for r in (live_dir / "audit-workloads.md").read_text().splitlines() if r.startswith("| ")
    ]
    file_rows = [
        r for r in (files_dir / "audit-workloads.md").read_text().splitlines() if r.startswith("| ")
    ]
    assert len(live_rows) == len(file_rows) > 2


def test_live_audit_of_selected_namespaces(fake_api, tmp_path):
    result = run(
        "audit-workloads.yml",
        extra={
            "audit_workloads_kubeconfig": str(fake_api),
            "audit_workloads_namespaces": ["ops"],
            "audit_workloads_report_dir": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "audit-workloads.json").read_text())
    assert [(r["Kind"], r["Name"]) for r in report["Results"]] == [("StatefulSet", "legacy")]
