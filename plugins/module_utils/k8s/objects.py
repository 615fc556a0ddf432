# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way runbooks read and write Kubernetes objects: ``ObjectClient``, plain dicts.

- Every kind is resolved through API discovery (``k8s/discovery.py``):
  plural, scope, verbs and subresources come from the API server, read once
  per group-version and cached for the client's life. An unknown kind is an
  ``UnknownKindError`` naming the kind and apiVersion.
- Writes go through server-side apply (``apply``, ``apply_all``) or a JSON
  patch guarded by the object's resourceVersion (``json_patch``), each with
  ``dry_run`` so check mode asks the API server what *would* happen.
- ``changed`` is ``differs(before, after)``: server-maintained fields never
  make a run look changed and never show in a diff (``k8s/diff.py``).
- Waits watch the object (``watch`` with ``timeoutSeconds`` from its
  resourceVersion) and fall back to polling where watching is refused; the
  clock and sleep are injected.
- Every failure is a ``RunbookError`` subclass naming ``Kind namespace/name``
  and the server's reason; a transport failure names the server.

Objects stay plain dicts (the raw JSON the API server sends), which keeps
fields the generated client models do not know, and keeps the logic testable
against the in-memory fake API of the unit tests.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import time

try:
    import urllib3
except ImportError:  # the calling module reports it through missing_required_lib
    TRANSPORT_ERRORS: tuple = (OSError,)
else:
    TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    RunbookError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.client import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    K8sClientError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.diff import (
    describe,
    diff_entry,
    differs,
    redact_secret,
    strip_noise,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.discovery import (
    Discovery,
    Resource,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import (
    K8sObjectError,
    UnknownKindError,
    WaitTimeout,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.waits import (
    poll_until,
    watch_events,
)

__all__ = [
    "APPLY_ORDER",
    "K8sObjectError",
    "ObjectClient",
    "apply_conflicts",
    "describe",
    "diff_entry",
    "differs",
    "eviction",
    "field_owners",
    "is_conflict",
    "selector",
    "strip_noise",
]

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
JSON_PATCH_CONTENT_TYPE = "application/json-patch+json"
MERGE_PATCH_CONTENT_TYPE = "application/merge-patch+json"

# apply_all writes what others use first: namespaces and definitions, storage,
# identities and configuration, then services, workloads, and what points at
# them. Kinds not listed go between configuration and workloads.
APPLY_ORDER = (
    ("Namespace",),
    ("CustomResourceDefinition",),
    ("StorageClass", "PriorityClass", "IngressClass", "GatewayClass", "RuntimeClass"),
    ("PersistentVolume",),
    ("ServiceAccount", "ClusterRole", "Role"),
    ("ClusterRoleBinding", "RoleBinding"),
    ("Secret", "ConfigMap", "LimitRange", "ResourceQuota"),
    ("PersistentVolumeClaim",),
    ("Service", "EndpointSlice", "NetworkPolicy"),
    (),  # every other kind
    ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"),
    ("PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "Gateway", "HTTPRoute"),
)
_OTHER_RANK = APPLY_ORDER.index(())
# Seconds to wait for a CustomResourceDefinition's kind to be served.
CRD_SERVED_TIMEOUT = 30


def apply_rank(obj: dict) -> int:
    kind = obj.get("kind")
    return next((rank for rank, kinds in enumerate(APPLY_ORDER) if kind in kinds), _OTHER_RANK)


def eviction(pod: dict) -> dict:
    """A policy/v1 Eviction of ``pod``: honours the PodDisruptionBudget, unlike a delete."""
    meta = pod["metadata"]
    return {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
    }


def selector(labels: dict | str | None) -> str | None:
    """A label selector string from ``{key: value}`` (or a selector string as it is)."""
    if not labels or isinstance(labels, str):
        return labels or None
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _status_message(response) -> tuple[str, str | None]:
    """The server's message and reason from a Status body, else the HTTP reason."""
    message, reason = response.reason, None
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        status = json.loads(response.data)
        message = status.get("message") or message
        reason = status.get("reason")
    return message, reason


def _status_causes(response) -> list[dict]:
    """``details.causes`` of a Status body (field, reason, message of each), else []."""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        causes = (json.loads(response.data).get("details") or {}).get("causes") or []
        return [c for c in causes if isinstance(c, dict)]
    return []


_CONFLICT_MANAGER = re.compile(r'conflicts? with "([^"]+)"')


def apply_conflicts(error: K8sObjectError) -> dict[str, list[str]]:
    """The field managers a server-side apply conflicted with, and the fields each owns.

    Read from the Status causes (``FieldManagerConflict``), else from the
    message (``conflict with "helm" using apps/v1: .spec.replicas`` or a
    list of ``- .field`` lines after each manager). Empty for other errors.
    """
    if error.status != 409:
        return {}
    owners: dict[str, list[str]] = {}
    for cause in (error.details or {}).get("causes") or []:
        found = _CONFLICT_MANAGER.search(cause.get("message") or "")
        if cause.get("reason") == "FieldManagerConflict" and found:
            owners.setdefault(found.group(1), []).append(cause.get("field") or "")
    if owners:
        return owners
    manager = None
    for line in str(error).splitlines():
        found = _CONFLICT_MANAGER.search(line)
        if found:
            manager = found.group(1)
            owners.setdefault(manager, [])
            inline = line.rsplit(":", 1)[-1].strip()
            if inline.startswith("."):
                owners[manager].append(inline)
        elif manager and line.strip().startswith("- "):
            owners[manager].append(line.strip()[2:])
    return owners


def _fields_v1_paths(fields: dict, prefix: str = "") -> list[str]:
    """Leaf paths of a managedFields ``fieldsV1`` tree (``.spec.replicas``, ``...[name=c]``)."""
    paths = []
    for key, sub in sorted(fields.items()):
        if key == ".":
            continue
        kind, rest = key.split(":", 1) if ":" in key else (key, "")
        if kind == "f":
            path = f"{prefix}.{rest}"
        elif kind == "k":
            with contextlib.suppress(ValueError):
                rest = ",".join(f"{k}={v}" for k, v in json.loads(rest).items())
            path = f"{prefix}[{rest}]"
        elif kind == "v":
            path = f"{prefix}[={rest}]"
        else:
            path = f"{prefix}[{key}]"
        paths.extend(_fields_v1_paths(sub, path) if sub and set(sub) - {"."} else [path])
    return paths


def field_owners(obj: dict, subresource: str | None = None) -> dict[str, list[str]]:
    """Per field manager (``name (Apply|Update)``), the leaf fields it owns in ``obj``.

    Read from ``metadata.managedFields``; entries of a subresource (``status``,
    ``scale``) only when ``subresource`` names it.
    """
    owners: dict[str, list[str]] = {}
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if entry.get("subresource") and entry.get("subresource") != subresource:
            continue
        name = f"{entry.get('manager', '?')} ({entry.get('operation', '?')})"
        owners.setdefault(name, []).extend(_fields_v1_paths(entry.get("fieldsV1") or {}))
    return owners


def is_conflict(error: K8sObjectError) -> bool:
    """A write refused because the object changed since it was read.

    409 Conflict, or a JSON patch whose resourceVersion ``test`` failed.
    """
    if error.status == 409:
        return True
    text = str(error).lower()
    return error.status in (400, 422) and "test" in text and "fail" in text


def check_object(obj) -> None:
    """Refuse what is not an object the API can take: apiVersion, kind and metadata.name."""
    if not isinstance(obj, dict):
        raise K8sObjectError(f"not a Kubernetes object (a mapping): {type(obj).__name__}")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name")
    label = describe(obj.get("kind") or "object", name, meta.get("namespace"))
    for field, value in (("apiVersion", obj.get("apiVersion")), ("kind", obj.get("kind"))):
        if not isinstance(value, str) or not value:
            raise K8sObjectError(f"has no {field}", obj=label, field=field)
    if not isinstance(name, str) or not name:
        raise K8sObjectError("has no metadata.name", obj=label, field="metadata.name")


def crd_kinds(crd: dict) -> dict[tuple[str, str], bool]:
    """``{(apiVersion, kind): namespaced}`` for each served version a CustomResourceDefinition defines."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not (group and kind):
        return {}
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    return {
        (f"{group}/{version['name']}", kind): namespaced
        for version in spec.get("versions") or []
        if version.get("served", True)
    }


def _unvalidated(body: dict, namespaced: bool, namespace: str | None) -> dict:
    """The dry-run result of an object the server cannot preview yet: it would be created."""
    meta = body["metadata"]
    ns = (meta.get("namespace") or namespace) if namespaced else None
    label = describe(body["kind"], meta["name"], ns)
    after = strip_noise(body)
    return {
        "object": label,
        "changed": True,
        "validated": False,
        "before": None,
        "after": redact_secret(after),
        "diff": diff_entry(label, None, body),
    }


class ObjectClient:
    """get/list/apply/patch/create/delete/wait on any kind the API server serves, as dicts."""

    def __init__(
        self,
        api_client,
        field_manager: str,
        clock=time.monotonic,
        sleep=time.sleep,
        use_watch: bool = True,
    ):
        self.api_client = api_client
        self.field_manager = field_manager
        self.clock = clock
        self.sleep = sleep
        self.use_watch = use_watch
        self.discovery = Discovery(self._fetch_discovery)

    # ---- transport

    @property
    def server(self) -> str:
        return self.api_client.configuration.host

    def _send(self, method, path, obj, body=None, query=None, content_type=None, timeout=None):
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        serialized = self.api_client.param_serialize(
            method,
            path,
            query_params=[(k, v) for k, v in (query or {}).items() if v is not None],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            return self.api_client.call_api(
                *serialized, _request_timeout=timeout or (CONNECT_TIMEOUT, READ_TIMEOUT)
            )
        except TRANSPORT_ERRORS as exc:
            raise K8sClientError(
                f"cannot reach the Kubernetes API server {self.server} ({method} {path}): {exc}",
                obj=obj,
            ) from exc

    def request(self, method, path, obj, body=None, query=None, content_type=None, action=None):
        """One request; the JSON answer, or a ``K8sObjectError`` naming ``obj`` and the reason."""
        response = self._send(method, path, obj, body, query, content_type)
        try:
            response.read()
        except TRANSPORT_ERRORS as exc:
            raise K8sClientError(
                f"lost the Kubernetes API server {self.server} ({method} {path}): {exc}", obj=obj
            ) from exc
        if not 200 <= response.status <= 299:
            message, reason = _status_message(response)
            details: dict = {"server": self.server}
            causes = _status_causes(response)
            if causes:
                details["causes"] = causes
            raise K8sObjectError(
                f"{action or method}: {response.status} {message}",
                response.status,
                reason,
                obj=obj,
                details=details,
            )
        return json.loads(response.data) if response.data else {}

    def _fetch_discovery(self, path: str) -> dict | None:
        try:
            return self.request("GET", path, f"discovery {path}", action="GET")
        except K8sObjectError as exc:
            if exc.status == 404:
                return None
            raise

    # ---- discovery

    def resource(self, api_version: str, kind: str) -> Resource:
        """The resource serving ``kind`` at ``api_version`` (UnknownKindError if none)."""
        return self.discovery.resource(api_version, kind)

    def _target(self, obj: dict, namespace: str | None = None) -> tuple[Resource, str, str | None]:
        """Resource, name and namespace of ``obj``; ``namespace`` fills in a missing one."""
        check_object(obj)
        meta = obj["metadata"]
        resource = self.resource(obj["apiVersion"], obj["kind"])
        ns = meta.get("namespace") or (namespace if resource.namespaced else None)
        return resource, meta.get("name"), ns

    # ---- reading

    def get(self, api_version, kind, name, namespace=None) -> dict | None:
        """The object, or None when it does not exist."""
        resource = self.resource(api_version, kind)
        path = resource.path(name, namespace)
        try:
            found = self.request("GET", path, describe(kind, name, namespace))
        except K8sObjectError as exc:
            if exc.status == 404:
                return None
            raise
        return found

    def list(
        self,
        api_version,
        kind,
        namespace=None,
        label_selector=None,
        field_selector=None,
        limit: int | None = None,
    ) -> list[dict]:
        """Every object (all pages when ``limit`` splits them), each with its kind and apiVersion.

        Without ``namespace`` a namespaced kind is listed across all namespaces.
        """
        resource = self.resource(api_version, kind)
        resource.require("list", None, namespace)
        path = resource.path(None, namespace)
        where = f"{kind} list" + (f" in {namespace}" if namespace else "")
        query = {
            "labelSelector": selector(label_selector),
            "fieldSelector": selector(field_selector),
            "limit": str(limit) if limit else None,
        }
        items: list[dict] = []
        while True:
            page = self.request("GET", path, where, query=query)
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                break
            query["continue"] = token
        for item in items:  # list items carry no kind of their own
            item["apiVersion"] = resource.api_version
            item["kind"] = resource.kind
        return items

    # ---- writing

    def _write_query(self, dry_run: bool, **extra) -> dict:
        query = {"fieldManager": self.field_manager, **extra}
        if dry_run:
            query["dryRun"] = "All"
        return query

    def apply(
        self, body: dict, dry_run: bool = False, force: bool = True, namespace: str | None = None
    ) -> dict:
        """Server-side apply ``body`` as this client's field manager; the resulting object.

        ``force`` takes over fields another manager owns (a conflict otherwise);
        ``namespace`` is used when a namespaced body has none.
        """
        resource, name, ns = self._target(body, namespace)
        path = resource.path(name, ns)
        if ns and (body.get("metadata") or {}).get("namespace") != ns:
            body = copy.deepcopy(body)
            body["metadata"]["namespace"] = ns
        return self.request(
            "PATCH",
            path,
            describe(resource.kind, name, ns),
            body=body,
            query=self._write_query(dry_run, force="true" if force else "false"),
            content_type=APPLY_CONTENT_TYPE,
            action="apply",
        )

    def json_patch(self, obj: dict, operations: list[dict], dry_run: bool = False) -> dict:
        """Apply JSON-patch ``operations`` to ``obj``, failing if it changed since it was read."""
        resource, name, ns = self._target(obj)
        guard = {
            "op": "test",
            "path": "/metadata/resourceVersion",
            "value": obj["metadata"]["resourceVersion"],
        }
        return self.request(
            "PATCH",
            resource.path(name, ns),
            describe(resource.kind, name, ns),
            body=[guard, *operations],
            query=self._write_query(dry_run),
            content_type=JSON_PATCH_CONTENT_TYPE,
            action="json patch",
        )

    def patch_retrying(
        self,
        api_version,
        kind,
        name,
        namespace,
        operations_for,
        dry_run: bool = False,
        attempts: int = 5,
    ) -> tuple[dict | None, dict | None]:
        """A guarded JSON patch, re-read and re-planned when the object changed meanwhile.

        ``operations_for(current)`` returns the JSON-patch operations for the
        object as read (None or [] when nothing is to change). Returns
        ``(before, after)``: the object the patch was planned on and the
        server's answer (``after`` None when there was nothing to do; both
        None when the object is gone). A resourceVersion conflict is retried
        up to ``attempts`` times, then raised.
        """
        for attempt in range(1, attempts + 1):
            current = self.get(api_version, kind, name, namespace)
            if current is None:
                return None, None
            operations = operations_for(current)
            if not operations:
                return current, None
            try:
                return current, self.json_patch(current, operations, dry_run=dry_run)
            except K8sObjectError as exc:
                if attempt == attempts or not is_conflict(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def create(self, body: dict, dry_run: bool = False, namespace: str | None = None) -> dict:
        """POST ``body``; a 409 (it exists) is an error like any other."""
        resource, name, ns = self._target(body, namespace)
        resource.require("create", name, ns)
        return self.request(
            "POST",
            resource.path(None, ns),
            describe(resource.kind, name, ns),
            body=body,
            query=self._write_query(dry_run),
            action="create",
        )

    def delete(
        self,
        api_version,
        kind,
        name,
        namespace=None,
        dry_run: bool = False,
        propagation_policy: str = "Background",
    ) -> dict | None:
        """Delete the object; what the server answered, or None when it was already gone."""
        resource = self.resource(api_version, kind)
        resource.require("delete", name, namespace)
        body = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": propagation_policy,
        }
        if dry_run:
            body["dryRun"] = ["All"]
        try:
            return self.request(
                "DELETE",
                resource.path(name, namespace),
                describe(kind, name, namespace),
                body=body,
                query={"dryRun": "All"} if dry_run else None,
                action="delete",
            )
        except K8sObjectError as exc:
            if exc.status == 404:
                return None
            raise

    # ---- subresources

    def subresource(self, method: str, obj: dict, subresource: str, **request) -> dict:
        """One request to a subresource of ``obj``; ``request`` as for ``request()``."""
        resource, name, ns = self._target(obj)
        return self.request(
            method,
            resource.path(name, ns, subresource),
            describe(resource.kind, name, ns),
            action=f"{method} {subresource}",
            **request,
        )

    def get_subresource(self, obj: dict, subresource: str) -> dict:
        """GET a subresource of ``obj`` (``status``, ``scale``)."""
        return self.subresource("GET", obj, subresource)

    def patch_subresource(
        self, obj: dict, subresource: str, patch: dict, dry_run: bool = False
    ) -> dict:
        """Merge-patch a subresource of ``obj`` (``status``, ``scale``)."""
        query = self._write_query(dry_run)
        return self.subresource(
            "PATCH",
            obj,
            subresource,
            body=patch,
            query=query,
            content_type=MERGE_PATCH_CONTENT_TYPE,
        )

    def create_subresource(
        self, obj: dict, subresource: str, body: dict, dry_run: bool = False
    ) -> dict:
        """POST ``body`` to a subresource of ``obj`` (e.g. a Pod's eviction)."""
        query = {"dryRun": "All"} if dry_run else None
        return self.subresource("POST", obj, subresource, body=body, query=query)

    def evict(self, pod: dict, dry_run: bool = False) -> bool:
        """Evict ``pod`` through the Eviction API (honours PodDisruptionBudgets).

        True when evicted, False when the pod was already gone; a refusal
        (429: a disruption budget forbids it now) is a ``K8sObjectError``.
        """
        try:
            self.create_subresource(pod, "eviction", eviction(pod), dry_run=dry_run)
        except K8sObjectError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def evict_retrying(
        self,
        pod: dict,
        timeout: float,
        dry_run: bool = False,
        clock=None,
        sleep=None,
        first_delay: float = 1.0,
        max_delay: float = 16.0,
    ) -> bool:
        """``evict`` that retries a 429 (a disruption budget forbids it now) with backoff.

        Waits ``first_delay`` seconds, doubling up to ``max_delay``, until
        ``timeout`` seconds have passed; then raises the last 429, with
        ``details.waited`` in seconds. True when evicted, False when the pod
        was already gone (nothing was evicted). ``clock``/``sleep`` default to
        the client's.
        """
        clock, sleep = clock or self.clock, sleep or self.sleep
        deadline = clock() + timeout
        delay, started = first_delay, clock()
        while True:
            try:
                return self.evict(pod, dry_run=dry_run)
            except K8sObjectError as exc:
                left = deadline - clock()
                if exc.status != 429 or left <= 0:
                    if exc.status == 429:
                        exc.details["waited"] = round(clock() - started)
                    raise
                sleep(min(delay, left))
                delay = min(delay * 2, max_delay)

    def scale(self, obj: dict, replicas: int, dry_run: bool = False) -> dict:
        """Set the replicas of ``obj`` through its scale subresource; the resulting Scale."""
        return self.patch_subresource(obj, "scale", {"spec": {"replicas": replicas}}, dry_run)

    # ---- waiting

    def wait(
        self,
        api_version,
        kind,
        name,
        namespace=None,
        predicate=None,
        timeout: float = 60,
        what: str = "the condition",
        interval: float = 2.0,
    ) -> dict | None:
        """Until ``predicate(object or None)`` holds; the object then.

        Watches the object from its resourceVersion (``timeoutSeconds`` no
        longer than what is left) and polls every ``interval`` seconds where
        the server refuses a watch. ``WaitTimeout`` names the object and
        ``what`` was waited for.
        """
        resource = self.resource(api_version, kind)
        predicate = predicate or (lambda obj: obj is not None)
        watching = self.use_watch and "watch" in resource.verbs
        deadline = self.clock() + timeout
        current = self.get(api_version, kind, name, namespace)
        while not predicate(current):
            left = deadline - self.clock()
            if left <= 0:
                raise WaitTimeout(
                    f"{what} did not hold within {timeout}s",
                    obj=describe(kind, name, namespace),
                )
            if watching:
                try:
                    current = self._watch(resource, name, namespace, current, predicate, left)
                    continue
                except _WatchUnavailable:
                    watching = False
            self.sleep(min(interval, left))
            current = self.get(api_version, kind, name, namespace)
        return current

    def _watch(self, resource, name, namespace, current, predicate, left):
        """Follow the object's events for up to ``left`` seconds; the last state seen."""
        seconds = max(1, math.ceil(left))
        query = {
            "watch": "true",
            "fieldSelector": f"metadata.name={name}",
            "timeoutSeconds": str(seconds),
            "resourceVersion": ((current or {}).get("metadata") or {}).get("resourceVersion"),
        }
        path = resource.path(None, namespace)
        where = describe(resource.kind, name, namespace)
        try:
            response = self._send(
                "GET", path, where, query=query, timeout=(CONNECT_TIMEOUT, seconds + READ_TIMEOUT)
            )
        except K8sClientError as exc:
            raise _WatchUnavailable() from exc
        if not 200 <= response.status <= 299:
            raise _WatchUnavailable()
        stream = response.response
        try:
            for event in watch_events(stream.stream(4096)):
                kind = event.get("type")
                if kind == "ERROR":  # e.g. 410 Gone: the resourceVersion is too old
                    return self.get(resource.api_version, resource.kind, name, namespace)
                if kind in ("ADDED", "MODIFIED"):
                    current = event.get("object")
                elif kind == "DELETED":
                    current = None
                if predicate(current):
                    break
        except (*TRANSPORT_ERRORS, ValueError):
            return self.get(resource.api_version, resource.kind, name, namespace)
        finally:
            with contextlib.suppress(Exception):
                stream.release_conn()
        return current

    # ---- many objects

    def apply_all(
        self,
        objects: list[dict],
        dry_run: bool = False,
        force: bool = True,
        namespace: str | None = None,
        changes: Changes | None = None,
    ) -> list[dict]:
        """Server-side apply many objects in dependency order, each read before for its diff.

        Returns, in the order applied, ``{object, before, after, changed,
        validated, diff}`` (noise removed, Secret values redacted; ``validated``
        is False for a dry-run object whose CustomResourceDefinition or
        Namespace the same batch would create, which the server cannot
        preview). Every object changed for real is recorded in ``changes`` as
        it happens; a failure re-raises with what was already changed in
        ``partial_changes``.
        """
        ledger = changes if changes is not None else Changes()
        for body in objects:  # the whole batch, before anything is written
            check_object(body)
        done_here: list[dict] = []
        results = []
        # In a dry run nothing is created, so the server cannot preview an
        # object whose CustomResourceDefinition or Namespace this batch would
        # create: such objects are reported as "would create", unvalidated.
        new_kinds: dict[tuple[str, str], bool] = {}
        new_namespaces: set[str] = set()
        for body in sorted(objects, key=apply_rank):
            try:
                key = (body["apiVersion"], body["kind"])
                if key in new_kinds:
                    results.append(_unvalidated(body, new_kinds[key], namespace))
                    continue
                resource, name, ns = self._target(body, namespace)
                if ns in new_namespaces:
                    results.append(_unvalidated(body, True, namespace))
                    continue
                label = describe(resource.kind, name, ns)
                before = self.get(body["apiVersion"], resource.kind, name, ns)
                after = self.apply(body, dry_run=dry_run, force=force, namespace=ns)
                changed = differs(before, after)
                if dry_run and before is None:
                    if resource.kind == "CustomResourceDefinition":
                        new_kinds.update(crd_kinds(after))
                    elif resource.kind == "Namespace":
                        new_namespaces.add(name)
                if changed and not dry_run:
                    ledger.record("create" if before is None else "update", label)
                    done_here.append(ledger[-1])
                    if resource.kind == "CustomResourceDefinition":
                        self._await_crd(after)
            except RunbookError as exc:
                exc.partial_changes += [c for c in done_here if c not in exc.partial_changes]
                raise
            before, after = strip_noise(before), strip_noise(after)
            results.append(
                {
                    "object": label,
                    "changed": changed,
                    "validated": True,
                    "before": redact_secret(before, after),
                    "after": redact_secret(after, before),
                    "diff": diff_entry(label, before, after),
                }
            )
        return results

    def _await_crd(self, crd: dict) -> None:
        """Until discovery serves the kind a CustomResourceDefinition defines."""
        served_kinds = list(crd_kinds(crd))
        if not served_kinds:
            return
        api_version, kind = served_kinds[0]

        def served():
            try:
                self.discovery.invalidate(api_version)
                self.resource(api_version, kind)
            except UnknownKindError:
                return False, None
            return True, None

        done, _nothing = poll_until(served, CRD_SERVED_TIMEOUT, self.clock, self.sleep, 1.0)
        if not done:
            raise WaitTimeout(
                f"{kind} ({api_version}) not served within {CRD_SERVED_TIMEOUT}s",
                obj=describe(crd),
            )


class _WatchUnavailable(Exception):
    """The server refused the watch: poll instead."""
