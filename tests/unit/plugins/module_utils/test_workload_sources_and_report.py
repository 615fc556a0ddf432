"""Reading manifests and the (faked) API, and the reports and gate built from findings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.audit import workload_sources
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    audit,
    findings,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
    gate,
    markdown,
    polaris,
    summary,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
from tests.unit.k8s_fake import FakeApi
from tests.unit.manifests import assert_valid_manifests

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "workloads"
# Written out by hand from the fixture files: none of the three workloads sets a
# securityContext and no NetworkPolicy is in the set.
_NO_SECURITY_CONTEXT = [
    ("danger", "runAsRootAllowed"),
    ("danger", "privilegeEscalationAllowed"),
    ("warning", "notReadOnlyRootFilesystem"),
    ("warning", "insecureCapabilities"),
    ("warning", "seccompProfileMissing"),
]
EXPECTED_FIXTURE_FINDINGS = [
    ("danger", "Pod", "debug", None, "barePod"),
    ("danger", "Pod", "debug", "shell", "cpuRequestsMissing"),
    ("danger", "Pod", "debug", "shell", "memoryRequestsMissing"),
    ("danger", "Pod", "debug", "shell", "tagNotSpecified"),
    ("warning", "StatefulSet", "legacy", "box", "multipleProcesses"),
    ("warning", "StatefulSet", "legacy", None, "replicasBelowThree"),
    ("warning", "Pod", "debug", "shell", "cpuLimitsMissing"),
    ("warning", "Pod", "debug", "shell", "memoryLimitsMissing"),
    *(
        (severity, kind, name, container, check)
        for kind, name, container in (
            ("Deployment", "web", "web"),
            ("Pod", "debug", "shell"),
            ("StatefulSet", "legacy", "box"),
        )
        for severity, check in _NO_SECURITY_CONTEXT
    ),
    ("warning", "Deployment", "web", None, "missingNetworkPolicy"),
    ("warning", "Pod", "debug", None, "missingNetworkPolicy"),
    ("warning", "StatefulSet", "legacy", None, "missingNetworkPolicy"),
]


def fixture_findings():
    return findings(audit(workload_sources.load_manifest_dir(str(FIXTURES))))


def test_manifest_dir_reads_multi_document_yaml_lists_and_subdirectories():
    objects = workload_sources.load_manifest_dir(str(FIXTURES))
    # The files of a directory first, then its subdirectories, each in name order.
    assert [(o["kind"], source.replace(str(FIXTURES), "")) for o, source in objects] == [
        ("Deployment", "/shop.yaml#1"),
        ("PodDisruptionBudget", "/shop.yaml#2"),
        ("Pod", "/shop.yaml#4"),
        ("StatefulSet", "/nested/legacy.json#1[0]"),
    ]
    assert_valid_manifests(o for o, _ in objects)


def test_fixture_directory_gives_exactly_the_expected_findings():
    found = [
        (f["severity"], f["object"]["kind"], f["object"]["name"], f["container"], f["check"])
        for f in fixture_findings()
    ]
    assert len(found) == len(EXPECTED_FIXTURE_FINDINGS)
    assert set(found) == set(EXPECTED_FIXTURE_FINDINGS)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "kind: Deployment\nmetadata: {name: x\n",
            "is not valid YAML at line 3, column 1",
        ),
        ("replicas: {{ .Values.replicas }}\n", "looks like an unrendered Helm or Jinja template"),
        ("a: [1, 2\n", "is not valid YAML at line 2"),
    ],
)
def test_bad_manifest_names_the_file(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(InputError) as exc:
        workload_sources.load_manifest_dir(str(tmp_path))
    assert str(exc.value).startswith(f"manifest_dir: '{path}")
    assert message in str(exc.value)


def test_missing_empty_and_unreadable_manifest_dirs(tmp_path):
    with pytest.raises(InputError) as exc:
        workload_sources.load_manifest_dir(str(tmp_path / "nope"))
    assert str(exc.value) == f"manifest_dir: '{tmp_path / 'nope'}' does not exist"
    with pytest.raises(InputError) as exc:
        workload_sources.load_manifest_dir(str(tmp_path))
    assert str(exc.value) == (
        f"manifest_dir: '{tmp_path}' contains no manifests (files matching *.yaml, *.yml, *.json)"
    )
    binary = tmp_path / "blob.yaml"
    binary.write_bytes(b"\xff\xfe\x00kind")
    with pytest.raises(InputError) as exc:
        workload_sources.load_manifest_dir(str(tmp_path))
    assert str(exc.value).startswith(f"manifest_dir: '{binary}' cannot be read (")


def _as_unprivileged(call):
    """``call()``'s InputError text, raised as an unprivileged user.

    Root reads any file whatever its mode, and CI runs as root: there the check runs in
    a forked child that has dropped to ``nobody`` (setgroups/setgid/setuid), so a file
    of mode 0 is refused as it is for an operator. Not root: it runs in-process.
    """
    if os.geteuid() != 0:
        try:
            call()
        except InputError as exc:
            return str(exc)
        return "no error"
    try:
        import pwd

        user = pwd.getpwnam("nobody")
        uid, gid = user.pw_uid, user.pw_gid
    except KeyError:
        uid = gid = 65534
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        answer = "no error"
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            call()
        except InputError as exc:
            answer = str(exc)
        except BaseException as exc:  # reported to the parent as text
            answer = f"unexpected {type(exc).__name__}: {exc}"
        finally:
            os.write(write, answer.encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(pid, 0)
    return answer


def test_an_unreadable_manifest_is_refused_naming_the_file(tmp_path_factory):
    # The directory must be reachable by the unprivileged user: pytest's own tmp
    # root is private to the user running the tests.
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="ackops-unreadable-"))
    try:
        base.chmod(0o755)
        readable = base / "ok.yaml"
        readable.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
        readable.chmod(0o644)
        secret = base / "secret.yaml"
        secret.write_text("kind: Pod\n")
        secret.chmod(0)
        answer = _as_unprivileged(lambda: workload_sources.load_manifest_dir(str(base)))
        assert answer == f"manifest_dir: '{secret}' cannot be read (Permission denied)"
        # The same directory readable again: the refusal was the mode, nothing else.
        secret.chmod(0o644)
        assert _as_unprivileged(lambda: workload_sources.load_manifest_dir(str(base))) == (
            "no error"
        )
    finally:
        for path in base.iterdir():
            path.unlink()
        base.rmdir()


def test_read_cluster_sets_kind_and_leaves_out_system_namespaces():
    fake = FakeApi()
    fake.add(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
        },
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "ops"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
    )
    client = ObjectClient(fake.api_client(), "test")
    everything = list(workload_sources.read_cluster(client))
    assert [(o["kind"], o["metadata"]["name"]) for o, _ in everything] == [
        ("Deployment", "web"),
        ("Pod", "debug"),
    ]
    only_system = list(workload_sources.read_cluster(client, ["kube-system"]))
    assert [o["metadata"]["name"] for o, _ in only_system] == ["coredns"]
    listed = {
        r.path for r in fake.requests if "/namespaces/" not in r.path and r.path.count("/") > 3
    }
    assert "/apis/autoscaling/v2/horizontalpodautoscalers" in listed
    assert "/apis/policy/v1/poddisruptionbudgets" in listed
    info = workload_sources.cluster_info(
        client, "v1.37.2", {"audited": 2, "pods": 1, "namespaces": {"shop", "ops"}}
    )
    assert info == {"Version": "v1.37.2", "Nodes": 1, "Pods": 1, "Namespaces": 2, "Controllers": 1}


def test_polaris_layout_nests_controller_pod_and_container_results():
    results = audit(workload_sources.load_manifest_dir(str(FIXTURES)))
    report = json.loads(json.dumps(polaris(results, "Path", "deploy/")))
    assert report["PolarisOutputVersion"] == "1.0"
    assert (report["SourceType"], report["SourceName"]) == ("Path", "deploy/")
    by_name = {r["Name"]: r for r in report["Results"]}
    assert set(by_name) == {"web", "debug", "legacy"}
    assert by_name["debug"]["Results"]["barePod"]["Success"] is False
    legacy = by_name["legacy"]
    assert legacy["Results"]["replicasBelowThree"] == {
        "ID": "replicasBelowThree",
        "Message": "Fewer than 3 replicas",
        "Details": ["1 replica(s)"],
        "Success": False,
        "Severity": "warning",
        "Category": "Reliability",
    }
    (box,) = legacy["PodResult"]["ContainerResults"]
    assert box["Name"] == "box"
    assert box["Results"]["multipleProcesses"]["Success"] is False
    assert box["Results"]["cpuRequestsMissing"]["Success"] is True
    assert "restartPolicyMismatch" in legacy["PodResult"]["Results"]
    # 70 results, 26 failed (the hand-listed findings): counted in test_audit_oracle.
    assert report["Score"] == 63


def test_markdown_table_has_one_row_per_finding_and_escapes_pipes():
    found = fixture_findings()
    text = markdown(found)
    assert text.startswith("# Workload audit\n\n26 finding(s): 10 danger, 16 warning.\n")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Severity" not in line]
    assert len(rows) == len(found)
    # Most severe first, then by namespace: ops before shop.
    assert rows[0].startswith(
        "| danger | ops | StatefulSet/legacy | box | privilegeEscalationAllowed |"
    )
    assert markdown([]).endswith("No findings.\n")


def test_summary_counts_by_severity_and_check():
    counts = summary(fixture_findings())
    assert (counts["total"], counts["danger"], counts["warning"]) == (26, 10, 16)
    assert counts["by_check"]["barePod"] == 1


@pytest.mark.parametrize(("fail_on", "failing"), [("none", 0), ("danger", 10), ("warning", 26)])
def test_gate_fails_at_or_above_the_severity(fail_on, failing):
    assert len(gate(fixture_findings(), fail_on)) == failing


def test_gate_rejects_an_unknown_severity():
    with pytest.raises(InputError) as exc:
        gate([], "critical")
    assert str(exc.value) == "fail_on: 'critical' must be one of none, warning, danger"
