"""Where audited objects come from: a directory of manifests, or the live cluster.

Both yield ``(object, source)`` pairs with the API's camelCase keys, so the
checks in workload_audit see the same shape either way. Manifests are read one
file at a time and one document at a time (a generator), so memory does not grow
with the number of files; the libyaml C loader is used when PyYAML has it.

Helm charts (a directory with Chart.yaml) and Kustomize directories (with a
kustomization.yaml) are rendered with ``helm template`` / ``kustomize build``
when the tool is on PATH; otherwise they are left out with a note saying so,
never read as plain manifests (their templates and patches are not objects).
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import UnknownKindError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_INCLUDE = ("*.yaml", "*.yml", "*.json")
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
HELM_MARKERS = ("Chart.yaml",)
KUSTOMIZE_MARKERS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RENDER_TIMEOUT = 120


def yaml_loader(prefer_c: bool = True):
    """PyYAML's safe loader: the libyaml C one when available (several times faster)."""
    import yaml  # PyYAML comes with ansible-core; imported here to keep module imports stdlib

    if prefer_c and getattr(yaml, "CSafeLoader", None) is not None:
        return yaml.CSafeLoader
    return yaml.SafeLoader


def _yaml_error(exc, path: str, field: str, head: str) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    hint = ""
    if "{{" in head or "{%" in head:
        hint = (
            " (it looks like an unrendered Helm or Jinja template: audit the chart"
            " directory, which is rendered when helm is installed, or render it first)"
        )
    return InputError(field, path, f"is not valid YAML{where}: {problem}{hint}")


def _documents_of_stream(stream, source: str, field: str, loader, head: str) -> Iterator:
    import yaml

    index = 0
    try:
        for document in yaml.load_all(stream, Loader=loader):
            index += 1
            yield from _expand(document, f"{source}#{index}")
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source, field, head) from None


def _expand(document, source: str) -> Iterator:
    """One document as objects: a List's items one by one; a non-object document is
    passed on for the audit to report (a mapping with neither kind nor apiVersion is
    not a Kubernetes object and is skipped)."""
    if document is None:
        return  # an empty document between two '---'
    if isinstance(document, dict) and "kind" not in document and "apiVersion" not in document:
        yield None, source  # some other YAML (values, CI config): skipped, counted
        return
    kind = document.get("kind") if isinstance(document, dict) else None
    items = document.get("items") if isinstance(kind, str) and kind.endswith("List") else None
    if isinstance(items, list):
        for i, item in enumerate(items):
            yield item, f"{source}[{i}]"
    else:
        yield document, source


def _documents(path: Path, field: str, loader, label: str | None = None) -> Iterator:
    """The objects of one file; ``label`` is how messages name it (the path by default)."""
    label = label or str(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(field, label, f"cannot be read ({exc.strerror or exc})") from None
    with handle:
        try:
            head = handle.read(4096)
            handle.seek(0)
            if path.suffix == ".json":
                try:
                    yield from _expand(json.load(handle), f"{label}#1")
                except json.JSONDecodeError as exc:
                    raise InputError(
                        field,
                        label,
                        f"is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                    ) from None
                return
            yield from _documents_of_stream(handle, label, field, loader, head)
        except UnicodeDecodeError as exc:
            raise InputError(field, label, f"cannot be read ({exc})") from None


def _matches(rel: str, patterns) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def tools() -> dict:
    """The rendering tools on PATH (None when missing)."""
    return {
        "helm": shutil.which("helm"),
        "kustomize": shutil.which("kustomize"),
        "kubectl": shutil.which("kubectl"),
    }


def _render(kind: str, directory: Path, found: dict, field: str, loader, label: str) -> Iterator:
    if kind == "helm":
        command = [found["helm"], "template", directory.name, str(directory)]
    elif found.get("kustomize"):
        command = [found["kustomize"], "build", str(directory)]
    else:
        command = [found["kubectl"], "kustomize", str(directory)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=RENDER_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(field, label, f"cannot be rendered ({exc})") from None
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise InputError(
            field,
            label,
            f"cannot be rendered: {' '.join(command[:2])} exited {done.returncode}: {reason[0]}",
        )
    yield from _documents_of_stream(
        done.stdout, f"{label} ({command[0].rsplit('/', 1)[-1]} render)", field, loader, ""
    )


class ManifestReader:
    """Walks a directory: plain manifests, rendered charts/kustomizations, notes on the rest."""

    def __init__(
        self,
        directory: str,
        field: str = "manifest_dir",
        include=DEFAULT_INCLUDE,
        exclude=(),
        prefer_c_loader: bool = True,
        found_tools: dict | None = None,
        display_root: str | None = None,
    ) -> None:
        """``display_root``: files under it are named relative to it in findings,
        notes and SARIF (the directory the user ran from; a repository root in CI)."""
        self.display_root = os.path.abspath(display_root) if display_root else None
        self.root = Path(os.path.expanduser(str(directory)))
        self.field = field
        self.include = tuple(include or DEFAULT_INCLUDE)
        self.exclude = tuple(exclude or ())
        self.loader = yaml_loader(prefer_c_loader)
        self.tools = tools() if found_tools is None else found_tools
        self.notes: list[str] = []
        self.files = 0
        if not self.root.exists():
            raise InputError(field, str(directory), "does not exist")

    def label(self, path: Path) -> str:
        """How messages name ``path``: relative to the display root when under it."""
        text = str(path)
        if self.display_root and os.path.isabs(text):
            rel = os.path.relpath(text, self.display_root)
            if rel != ".." and not rel.startswith(".." + os.sep):
                return rel
        return text

    def _marker(self, directory: Path, names: list[str]) -> str | None:
        if any(m in names for m in HELM_MARKERS):
            return "helm"
        if any(m in names for m in KUSTOMIZE_MARKERS):
            return "kustomize"
        return None

    def _render_or_note(self, kind: str, directory: Path) -> Iterator:
        if kind == "helm" and self.tools.get("helm"):
            self.files += 1
            yield from _render(
                "helm", directory, self.tools, self.field, self.loader, self.label(directory)
            )
        elif kind == "kustomize" and (self.tools.get("kustomize") or self.tools.get("kubectl")):
            self.files += 1
            yield from _render(
                "kustomize", directory, self.tools, self.field, self.loader, self.label(directory)
            )
        else:
            tool = "helm" if kind == "helm" else "kustomize (or kubectl)"
            what = "Helm chart" if kind == "helm" else "Kustomize directory"
            self.notes.append(
                f"{what} {self.label(directory)} not rendered: {tool} is not installed (not on PATH); "
                "its objects were not audited"
            )

    def __iter__(self) -> Iterator:
        if self.root.is_file():
            self.files += 1
            yield from _documents(self.root, self.field, self.loader, self.label(self.root))
            return
        for current, dirs, names in os.walk(self.root):
            here = Path(current)
            rel_dir = here.relative_to(self.root).as_posix()
            kind = self._marker(here, names)
            if kind:
                dirs[:] = []
                yield from self._render_or_note(kind, here)
                continue
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".")
                and not _matches(
                    f"{rel_dir}/{d}".lstrip("./") if rel_dir != "." else d, self.exclude
                )
            )
            for name in sorted(names):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                if not _matches(rel, self.include) or _matches(rel, self.exclude):
                    continue
                path = here / name
                if not path.is_file():
                    continue
                self.files += 1
                yield from _documents(path, self.field, self.loader, self.label(path))
        if self.files == 0 and not self.notes:
            raise InputError(
                self.field,
                str(self.root),
                f"contains no manifests (files matching {', '.join(self.include)})",
            )


def load_manifest_dir(directory: str, field: str = "manifest_dir", **options) -> list[tuple]:
    """Every object under ``directory`` as a list (small inputs and tests)."""
    return list(ManifestReader(directory, field, **options))


# (apiVersion, kind) read for a live audit, resolved through API discovery.
LIVE_KINDS = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "ReplicaSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("v1", "Pod"),
    ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("v1", "Service"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
)
# Custom workloads with a pod template, read when their CRD is served.
LIVE_CUSTOM_KINDS = (
    ("argoproj.io/v1alpha1", "Rollout"),
    ("apps.kruise.io/v1alpha1", "CloneSet"),
    ("apps.kruise.io/v1beta1", "StatefulSet"),
)
# Objects per list request: large clusters are read in pages.
PAGE_SIZE = 500


def _served(client, api_version: str, kind: str) -> bool:
    try:
        client.resource(api_version, kind)
    except UnknownKindError:  # not served: the CRD is not installed
        return False
    return True


def read_cluster(
    client, namespaces: list[str] | None = None, exclude_namespaces=SYSTEM_NAMESPACES
) -> Iterator:
    """Workloads and the objects the checks read, through an ``ObjectClient``."""
    kinds = list(LIVE_KINDS) + [(v, k) for v, k in LIVE_CUSTOM_KINDS if _served(client, v, k)]
    for api_version, kind in kinds:
        for namespace in namespaces or [None]:
            for obj in client.list(api_version, kind, namespace, limit=PAGE_SIZE):
                if (
                    namespaces
                    or (obj.get("metadata") or {}).get("namespace") not in exclude_namespaces
                ):
                    obj.setdefault("apiVersion", api_version)
                    obj.setdefault("kind", kind)
                    yield obj, "cluster"


def cluster_info(client, version: str, counts: dict) -> dict:
    """Polaris' ClusterInfo block for a live audit."""
    return {
        "Version": version,
        "Nodes": len(client.list("v1", "Node", limit=PAGE_SIZE)),
        "Pods": counts.get("pods", 0),
        "Namespaces": len(counts.get("namespaces", ())),
        "Controllers": counts.get("audited", 0) - counts.get("pods", 0),
    }
