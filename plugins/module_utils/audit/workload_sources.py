"""Where audited objects come from: a directory of manifests, or the live cluster.

Both return ``(object dict, source)`` pairs with the API's camelCase keys, so
the checks in workload_audit see the same shape either way.
"""

from __future__ import annotations

import os
from pathlib import Path

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.client import K8sClientError

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


# (kind, API class, list-for-all-namespaces method, namespaced list method)
_LIVE_KINDS = (
    ("Deployment", "AppsV1Api", "list_deployment_for_all_namespaces", "list_namespaced_deployment"),
    (
        "StatefulSet",
        "AppsV1Api",
        "list_stateful_set_for_all_namespaces",
        "list_namespaced_stateful_set",
    ),
    ("DaemonSet", "AppsV1Api", "list_daemon_set_for_all_namespaces", "list_namespaced_daemon_set"),
    (
        "ReplicaSet",
        "AppsV1Api",
        "list_replica_set_for_all_namespaces",
        "list_namespaced_replica_set",
    ),
    ("Job", "BatchV1Api", "list_job_for_all_namespaces", "list_namespaced_job"),
    ("CronJob", "BatchV1Api", "list_cron_job_for_all_namespaces", "list_namespaced_cron_job"),
    ("Pod", "CoreV1Api", "list_pod_for_all_namespaces", "list_namespaced_pod"),
    (
        "PodDisruptionBudget",
        "PolicyV1Api",
        "list_pod_disruption_budget_for_all_namespaces",
        "list_namespaced_pod_disruption_budget",
    ),
    (
        "HorizontalPodAutoscaler",
        "AutoscalingV2Api",
        "list_horizontal_pod_autoscaler_for_all_namespaces",
        "list_namespaced_horizontal_pod_autoscaler",
    ),
)


def read_cluster(
    api_client, namespaces: list[str] | None = None, exclude_namespaces=SYSTEM_NAMESPACES
) -> list[tuple[dict, str]]:
    """Workloads, PDBs and HPAs from the API: all namespaces, or only ``namespaces``."""
    # Imported here: only the live audit needs the kubernetes library.
    from kubernetes import client as k8s
    from kubernetes.client.exceptions import ApiException

    objects = []
    for kind, api_name, list_all, list_namespaced in _LIVE_KINDS:
        api = getattr(k8s, api_name)(api_client)
        try:
            if namespaces:
                responses = [getattr(api, list_namespaced)(ns) for ns in namespaces]
            else:
                responses = [getattr(api, list_all)()]
        except ApiException as exc:
            where = f"in namespaces {', '.join(namespaces)}" if namespaces else "cluster-wide"
            raise K8sClientError(
                f"Kubernetes API server {api_client.configuration.host} refused to list "
                f"{kind} {where}: {exc.status} {exc.reason}"
            ) from None
        for response in responses:
            for item in response.items:
                obj = api_client.sanitize_for_serialization(item)
                obj["kind"] = kind  # list items come without kind
                namespace = (obj.get("metadata") or {}).get("namespace")
                if namespaces or namespace not in exclude_namespaces:
                    objects.append((obj, "cluster"))
    return objects


def cluster_info(api_client, version: str, objects: list[tuple[dict, str]]) -> dict:
    """Polaris' ClusterInfo block for a live audit."""
    from kubernetes import client as k8s

    namespaces = {(o.get("metadata") or {}).get("namespace") for o, _source in objects}
    return {
        "Version": version,
        "Nodes": len(k8s.CoreV1Api(api_client).list_node().items),
        "Pods": sum(1 for o, _source in objects if o.get("kind") == "Pod"),
        "Namespaces": len(namespaces - {None}),
        "Controllers": sum(
            1
            for o, _source in objects
            if o.get("kind") not in ("Pod", "PodDisruptionBudget", "HorizontalPodAutoscaler")
        ),
    }
