"""The table of bad inputs for the workload audit: each one gives a clear message
naming the file, the document, the object and the field, never a traceback.

The table is rendered into docs/audit-workloads.md; regenerate that section with
``.venv/bin/python -m tests.unit.plugins.module_utils.test_audit_bad_inputs``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    audit,
    findings,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.modules.workload_audit_info import (
    OPTIONS,
    audit_result,
)
from tests.catalogue import record, summary

REPO = Path(__file__).resolve().parents[4]
DOC = REPO / "docs" / "audit-workloads.md"
BEGIN, END = "<!-- bad-inputs:begin -->", "<!-- bad-inputs:end -->"

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
"""


def deploy(old: str, new: str) -> str:
    assert old in DEPLOY
    return DEPLOY.replace(old, new)


def pod_spec(extra: str) -> str:
    return DEPLOY.replace("      containers:\n", extra + "      containers:\n")


def container(extra: str) -> str:
    return DEPLOY + "".join(f"          {line}\n" for line in extra.splitlines())


# (what, file content, what the message must say)
BAD_INPUTS = [
    (
        "kind a number",
        "apiVersion: v1\nkind: 3\nmetadata: {name: x}\n",
        "kind is a number (3), expected a string",
    ),
    ("kind a list", "apiVersion: v1\nkind: [Pod]\nmetadata: {name: x}\n", "kind is a list"),
    ("kind missing", "apiVersion: v1\nmetadata: {name: x}\n", "kind is missing"),
    ("apiVersion missing", deploy("apiVersion: apps/v1\n", ""), "apiVersion is missing"),
    (
        "apiVersion a number",
        deploy("apiVersion: apps/v1", "apiVersion: 1"),
        "apiVersion is a number",
    ),
    (
        "metadata a list",
        deploy("metadata: {name: web, namespace: shop}", "metadata: [web]"),
        "metadata is a list",
    ),
    ("name a number", deploy("name: web,", "name: 7,"), "metadata.name is a number (7)"),
    (
        "annotations a list",
        deploy("namespace: shop}", "namespace: shop, annotations: [a]}"),
        "metadata.annotations is a list",
    ),
    (
        "replicas a word",
        deploy("replicas: 3", "replicas: three"),
        "spec.replicas is a string ('three'), expected a whole number",
    ),
    (
        "replicas a quoted number",
        deploy("replicas: 3", "replicas: '3'"),
        "spec.replicas is a string ('3')",
    ),
    ("replicas true", deploy("replicas: 3", "replicas: true"), "spec.replicas is a boolean (True)"),
    (
        "replicas a Helm placeholder",
        deploy("replicas: 3", "replicas: '{{ .Values.replicas }}'"),
        "spec.replicas is a string ('{{ .Values.replicas }}')",
    ),
    (
        "spec a string",
        deploy(
            "spec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n",
            "spec: none\n",
        ),
        "spec is a string ('none'), expected a mapping",
    ),
    (
        "template a list",
        deploy(
            "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n",
            "  template: []\n",
        ),
        "spec.template is a list",
    ),
    (
        "pod spec a string",
        deploy(
            "    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n",
            "    spec: x\n",
        ),
        "spec.template.spec is a string",
    ),
    (
        "containers a mapping",
        deploy(
            "      containers:\n        - name: app\n          image: nginx:1.27\n",
            "      containers: {app: nginx}\n",
        ),
        "spec.template.spec.containers is a mapping",
    ),
    (
        "containers empty",
        deploy(
            "      containers:\n        - name: app\n          image: nginx:1.27\n",
            "      containers: []\n",
        ),
        "spec.template.spec.containers lists no container",
    ),
    (
        "container a string",
        deploy("        - name: app\n          image: nginx:1.27\n", "        - nginx:1.27\n"),
        "spec.template.spec.containers[0] is a string ('nginx:1.27'), expected a mapping",
    ),
    (
        "container name a number",
        deploy("- name: app", "- name: 5"),
        "spec.template.spec.containers[0].name is a number (5)",
    ),
    (
        "image a number",
        deploy("image: nginx:1.27", "image: 1.27"),
        "spec.template.spec.containers[0].image is a number (1.27)",
    ),
    (
        "resources a string",
        container("resources: 1cpu"),
        "spec.template.spec.containers[0].resources is a string",
    ),
    (
        "requests a list",
        container("resources: {requests: [cpu]}"),
        "spec.template.spec.containers[0].resources.requests is a list",
    ),
    (
        "command a string",
        container("command: nginx -g daemon off"),
        "spec.template.spec.containers[0].command is a string",
    ),
    (
        "securityContext a list",
        container("securityContext: [privileged]"),
        "spec.template.spec.containers[0].securityContext is a list",
    ),
    (
        "privileged a string",
        container("securityContext: {privileged: 'yes please'}"),
        "securityContext.privileged is a string ('yes please'), expected true or false",
    ),
    (
        "runAsUser a string",
        container("securityContext: {runAsUser: root}"),
        "securityContext.runAsUser is a string ('root')",
    ),
    (
        "capabilities.add a string",
        container("securityContext: {capabilities: {add: SYS_ADMIN}}"),
        "securityContext.capabilities.add is a string ('SYS_ADMIN')",
    ),
    (
        "hostNetwork a string",
        pod_spec("      hostNetwork: 'true'\n"),
        "spec.template.spec.hostNetwork is a string ('true')",
    ),
    (
        "volumes a mapping",
        pod_spec("      volumes: {data: {}}\n"),
        "spec.template.spec.volumes is a mapping",
    ),
    (
        "volume a string",
        pod_spec("      volumes: [data]\n"),
        "spec.template.spec.volumes[0] is a string ('data')",
    ),
    (
        "pod securityContext a string",
        pod_spec("      securityContext: restricted\n"),
        "spec.template.spec.securityContext is a string ('restricted')",
    ),
    (
        "HPA minReplicas quoted",
        DEPLOY
        + "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: shop}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: '3'\n  maxReplicas: 5\n",
        "HorizontalPodAutoscaler shop/web: Object is malformed (spec.minReplicas is a string ('3')",
    ),
    (
        "HPA scaleTargetRef a string",
        DEPLOY
        + "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: shop}\nspec: {scaleTargetRef: web, maxReplicas: 5}\n",
        "spec.scaleTargetRef is a string ('web')",
    ),
    (
        "PDB selector a string",
        DEPLOY
        + "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}\nspec: {selector: app=web, maxUnavailable: 1}\n",
        "spec.selector is a string ('app=web')",
    ),
    (
        "Service selector a list",
        DEPLOY
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: [app], ports: [{port: 80}]}\n",
        "spec.selector is a list",
    ),
    (
        "NetworkPolicy podSelector a string",
        DEPLOY
        + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d, namespace: shop}\nspec: {podSelector: all}\n",
        "spec.podSelector is a string ('all')",
    ),
    ("document a list", "- a\n- b\n", "(document) is a list"),
    ("document a string", "just text\n", "(document) is a string ('just text')"),
    ("list item a string", "apiVersion: v1\nkind: List\nitems: [nginx]\n", "#1[0]: (no kind)"),
    (
        "exemption typo",
        deploy(
            "namespace: shop}",
            "namespace: shop, annotations: {ackops.runbooks/exempt-checks: barePods}}",
        ),
        "'barePods' in ackops.runbooks/exempt-checks is not a check id; did you mean barePod?",
    ),
    (
        "exemption annotation key typo",
        deploy(
            "namespace: shop}", "namespace: shop, annotations: {ackops.runbooks/exempt: barePod}}"
        ),
        "annotation ackops.runbooks/exempt is not ackops.runbooks/exempt-checks",
    ),
    (
        "removed API",
        deploy("apiVersion: apps/v1", "apiVersion: extensions/v1beta1"),
        "extensions/v1beta1 Deployment was removed in Kubernetes 1.16 (target 1.37); use apps/v1",
    ),
    ("YAML syntax", "kind: Deployment\nmetadata: {name: x\n", "is not valid YAML at line 3"),
    (
        "unquoted Helm placeholder",
        "replicas: {{ .Values.replicas }}\n",
        "looks like an unrendered Helm or Jinja template",
    ),
    ("JSON syntax", None, "is not valid JSON at line 1"),
    ("not UTF-8", b"\xff\xfe\x00kind", "cannot be read ("),
]


def run(tmp_path: Path, content) -> str:
    """The message a person sees: the error, or the malformed-object findings."""
    name = "bad.json" if content is None else "bad.yaml"
    path = tmp_path / name
    if content is None:
        path.write_text('{"kind": ')
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    params = {key: spec.get("default") for key, spec in OPTIONS.items()}
    params |= {"source": "manifests", "manifest_dir": str(tmp_path)}
    try:
        result = audit_result(params, connect=None)
    except RunbookError as exc:  # the module turns it into msg/error; never a traceback
        return str(exc)
    return "\n".join(
        f["message"]
        for f in result["findings"]
        if f["check"] in ("invalidObject", "unknownExemption", "removedApiVersion")
    )


@pytest.mark.parametrize(
    ("what", "content", "expected"), BAD_INPUTS, ids=[r[0] for r in BAD_INPUTS]
)
def test_bad_input_gives_a_message_naming_file_object_and_field(tmp_path, what, content, expected):
    message = run(tmp_path, content)
    assert expected in message, message
    assert "Traceback" not in message
    assert str(tmp_path / "bad.") in message  # the file
    if "valid YAML" in message:
        assert " at line " in message  # where in the file
    elif content is not None and not isinstance(content, bytes):
        assert re.search(r"bad\.yaml#\d", message)  # the document
    shown = '{"kind": ' if content is None else content
    record("audit-workloads", "manifest", f"{what}: {summary(shown)}", message)


def test_the_table_has_at_least_thirty_rows():
    assert len(BAD_INPUTS) >= 30


EXAMPLES = [
    *sorted((REPO / "examples" / "workloads").rglob("*.yaml")),
    REPO / "tests" / "unit" / "fixtures" / "audit" / "mixed-security.yaml",
    REPO / "tests" / "unit" / "fixtures" / "audit" / "fuzz-seed.yaml",
]
WRONG_VALUES = ([], {}, "x", 3, True, None, [None], {"a": [1]})


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replace(value, path, new):
    if not path:
        return new
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


def test_no_field_of_any_example_can_crash_the_audit():
    """Every field of every example object, replaced by a value of each wrong type:
    the audit reports, it never raises."""
    objects = [doc for path in EXAMPLES for doc in yaml.safe_load_all(path.read_text()) if doc]
    checked = malformed = 0
    for index, obj in enumerate(objects):
        others = [(o, "t") for o in objects[:index] + objects[index + 1 :]]
        for path in _paths(obj):
            for wrong in WRONG_VALUES:
                found = findings(audit([*others, (_replace(obj, path, wrong), "t")]))
                checked += 1
                malformed += any(f["check"] == "invalidObject" for f in found)
    assert checked > 1000
    # Most wrong types are noticed (not all: a list for a list, None for an
    # optional field, a string where any string goes are fine).
    assert malformed > checked // 3


def render_table(tmp_path: Path) -> str:
    rows = ["| Input | Message (file and document shortened to bad.yaml#N) |", "|---|---|"]
    for index, (what, content, _expected) in enumerate(BAD_INPUTS):
        case = tmp_path / str(index)
        case.mkdir()
        message = (
            run(case, content).replace(f"{case}/", "").replace("\n", "<br>").replace("|", "\\|")
        )
        rows.append(f"| {what} | {message} |")
    return "\n".join(rows)


def test_the_docs_show_the_current_table(tmp_path):
    text = DOC.read_text()
    section = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert section == render_table(tmp_path), (
        "docs/audit-workloads.md is out of date: run "
        ".venv/bin/python -m tests.unit.plugins.module_utils.test_audit_bad_inputs"
    )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        table = render_table(Path(directory))
    text = DOC.read_text()
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    sys.stdout.write(f"{len(BAD_INPUTS)} rows written to {DOC}\n")
