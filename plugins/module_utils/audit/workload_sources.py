"""Where audited objects come from: a directory of manifests, or the live cluster.

Both return ``(object dict, source)`` pairs with the API's camelCase keys, so
the checks in workload_audit see the same shape either way.
"""

from __future__ import annotations

import os
from pathlib import Path

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")


def _documents(path: Path, field: str) -> list[tuple[dict, str]]:
    import yaml  # PyYAML comes with ansible-core; imported here to keep module imports stdlib

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(field, str(path), f"cannot be read ({reason})") from None
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(field, str(path), f"is not valid YAML{where}: {problem}") from None
    objects = []
    for index, document in enumerate(documents, start=1):
        if document is None:
            continue  # an empty document between two '---'
        source = f"{path}#{index}" if len(documents) > 1 else str(path)
        if not isinstance(document, dict) or "kind" not in document:
            raise InputError(
                field, source, "is not a Kubernetes object (a mapping with apiVersion and kind)"
            )
        items = document.get("items") if document["kind"].endswith("List") else None
        if isinstance(items, list):
            objects += [
                (item, f"{source}[{i}]") for i, item in enumerate(items) if isinstance(item, dict)
            ]
        else:
            objects.append((document, source))
    return objects


def load_manifest_dir(directory: str, field: str = "manifest_dir") -> list[tuple[dict, str]]:
    """Every object in the YAML/JSON files under ``directory`` (recursively, sorted by path)."""
    root = Path(os.path.expanduser(str(directory)))
    if not root.exists():
        raise InputError(field, str(directory), "does not exist")
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file())
    )
    if not files:
        raise InputError(
            field, str(directory), f"contains no manifests ({', '.join(MANIFEST_SUFFIXES)} files)"
        )
    objects = []
    for path in files:
        objects += _documents(path, field)
    return objects


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
)
# Objects per list request: large clusters are read in pages.
PAGE_SIZE = 500


def read_cluster(
    client, namespaces: list[str] | None = None, exclude_namespaces=SYSTEM_NAMESPACES
) -> list[tuple[dict, str]]:
    """Workloads, PDBs and HPAs through an ``ObjectClient``: all namespaces, or only ``namespaces``."""
    objects = []
    for api_version, kind in LIVE_KINDS:
        for namespace in namespaces or [None]:
            for obj in client.list(api_version, kind, namespace, limit=PAGE_SIZE):
                if (
                    namespaces
                    or (obj.get("metadata") or {}).get("namespace") not in exclude_namespaces
                ):
                    objects.append((obj, "cluster"))
    return objects


def cluster_info(client, version: str, objects: list[tuple[dict, str]]) -> dict:
    """Polaris' ClusterInfo block for a live audit."""
    namespaces = {(o.get("metadata") or {}).get("namespace") for o, _source in objects}
    return {
        "Version": version,
        "Nodes": len(client.list("v1", "Node", limit=PAGE_SIZE)),
        "Pods": sum(1 for o, _source in objects if o.get("kind") == "Pod"),
        "Namespaces": len(namespaces - {None}),
        "Controllers": sum(
            1
            for o, _source in objects
            if o.get("kind") not in ("Pod", "PodDisruptionBudget", "HorizontalPodAutoscaler")
        ),
    }
