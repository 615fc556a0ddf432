# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing Kubernetes objects as plain dicts, for API runbooks.

The pattern every API runbook follows:

- writes go through server-side apply (``apply``) or a JSON patch guarded by
  the object's resourceVersion (``json_patch``), each with ``dry_run`` so
  check mode asks the API server what *would* happen instead of guessing;
- ``changed`` is ``strip_noise(before) != strip_noise(after)``, so fields the
  server maintains (resourceVersion, managedFields, status, ...) never make a
  run look changed and never show in a diff.

Objects stay plain dicts (the raw JSON the API server sends), which keeps
fields the generated client models do not know, and keeps the logic testable
without a cluster.
"""

from __future__ import annotations

import contextlib
import copy
import json

try:
    import urllib3
except ImportError:  # the calling module reports it through missing_required_lib
    TRANSPORT_ERRORS: tuple = (OSError,)
else:
    TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.client import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    K8sClientError,
)

# Plural resource names of the kinds the runbooks touch; other kinds follow
# the regular lower-case + "s" rule.
PLURALS = {
    "PodDisruptionBudget": "poddisruptionbudgets",
    "Ingress": "ingresses",
    "StorageClass": "storageclasses",
}
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
JSON_PATCH_CONTENT_TYPE = "application/json-patch+json"

# Metadata the API server maintains: never a change, never in a diff.
NOISY_METADATA = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")
NOISY_ANNOTATIONS = (
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
)


class K8sObjectError(RunbookError):
    """An API request failed; the message names the object and the server's reason."""

    error_type = "kubernetes"

    def __init__(self, message: str, status: int | None = None, **where):
        super().__init__(message, details={"status": status} if status else None, **where)
        self.status = status


def describe(obj_or_kind, name: str | None = None, namespace: str | None = None) -> str:
    """``Kind namespace/name`` for messages, from an object or its coordinates."""
    if isinstance(obj_or_kind, dict):
        meta = obj_or_kind.get("metadata") or {}
        kind, name, namespace = obj_or_kind.get("kind"), meta.get("name"), meta.get("namespace")
    else:
        kind = obj_or_kind
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def resource_path(
    api_version: str,
    kind: str,
    name: str | None = None,
    namespace: str | None = None,
    subresource: str | None = None,
) -> str:
    """The REST path of an object (or of its collection when ``name`` is None)."""
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespace:
        base += f"/namespaces/{namespace}"
    path = f"{base}/{PLURALS.get(kind, kind.lower() + 's')}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


def strip_noise(obj: dict | None) -> dict | None:
    """A copy of ``obj`` without the fields the server maintains (for compare and diff)."""
    if obj is None:
        return None
    clean = copy.deepcopy(obj)
    clean.pop("status", None)
    meta = clean.get("metadata") or {}
    for key in NOISY_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    for key in NOISY_ANNOTATIONS:
        annotations.pop(key, None)
    if "annotations" in meta and not annotations:
        meta.pop("annotations")
    return clean


def differs(before: dict | None, after: dict | None) -> bool:
    return strip_noise(before) != strip_noise(after)


def diff_entry(header: str, before: dict | None, after: dict | None) -> dict:
    """One entry of an Ansible diff list, noise removed."""
    return {
        "before_header": header,
        "after_header": header,
        "before": strip_noise(before) or {},
        "after": strip_noise(after) or {},
    }


class ObjectClient:
    """GET/LIST/apply/patch/create on any kind, returning the raw JSON as dicts."""

    def __init__(self, api_client, field_manager: str):
        self.api_client = api_client
        self.field_manager = field_manager

    def request(self, method, path, what, body=None, query=None, content_type=None):
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        serialized = self.api_client.param_serialize(
            method,
            path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        server = self.api_client.configuration.host
        try:
            response = self.api_client.call_api(
                *serialized, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            )
            response.read()
        except TRANSPORT_ERRORS as exc:
            raise K8sClientError(
                f"cannot reach the Kubernetes API server {server} ({method} {what}): {exc}"
            ) from exc
        if not 200 <= response.status <= 299:
            reason = response.reason
            with contextlib.suppress(ValueError, AttributeError):
                reason = json.loads(response.data).get("message") or reason
            raise K8sObjectError(f"{method} {what}: {response.status} {reason}", response.status)
        return json.loads(response.data) if response.data else {}

    def get(self, api_version, kind, name, namespace=None) -> dict | None:
        """The object, or None when it does not exist."""
        try:
            return self.request(
                "GET",
                resource_path(api_version, kind, name, namespace),
                describe(kind, name, namespace),
            )
        except K8sObjectError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, api_version, kind, namespace=None, label_selector=None) -> list[dict]:
        query = {"labelSelector": label_selector} if label_selector else None
        found = self.request(
            "GET", resource_path(api_version, kind, None, namespace), f"{kind} list", query=query
        )
        items = found.get("items", [])
        for item in items:  # list items carry no kind of their own
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def _write_query(self, dry_run: bool, **extra) -> dict:
        query = {"fieldManager": self.field_manager, **extra}
        if dry_run:
            query["dryRun"] = "All"
        return query

    def apply(self, body: dict, dry_run: bool = False, force: bool = True) -> dict:
        """Server-side apply ``body`` as this client's field manager; the resulting object."""
        meta = body["metadata"]
        return self.request(
            "PATCH",
            resource_path(body["apiVersion"], body["kind"], meta["name"], meta.get("namespace")),
            describe(body),
            body=body,
            query=self._write_query(dry_run, force="true" if force else "false"),
            content_type=APPLY_CONTENT_TYPE,
        )

    def json_patch(self, obj: dict, operations: list[dict], dry_run: bool = False) -> dict:
        """Apply JSON-patch ``operations`` to ``obj``, failing if it changed since it was read."""
        meta = obj["metadata"]
        guard = {
            "op": "test",
            "path": "/metadata/resourceVersion",
            "value": meta["resourceVersion"],
        }
        return self.request(
            "PATCH",
            resource_path(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace")),
            describe(obj),
            body=[guard, *operations],
            query=self._write_query(dry_run),
            content_type=JSON_PATCH_CONTENT_TYPE,
        )

    def create_subresource(
        self, obj: dict, subresource: str, body: dict, dry_run: bool = False
    ) -> dict:
        """POST ``body`` to a subresource of ``obj`` (e.g. a Pod's eviction)."""
        meta = obj["metadata"]
        return self.request(
            "POST",
            resource_path(
                obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"), subresource
            ),
            f"{subresource} of {describe(obj)}",
            body=body,
            query={"dryRun": "All"} if dry_run else None,
        )
