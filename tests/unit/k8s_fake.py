"""An in-memory Kubernetes API server for unit tests, plugged in at the HTTP layer.

``FakeApi().api_client()`` is a real ``kubernetes.client.ApiClient`` whose
``call_api`` is answered here, so ``ObjectClient`` builds its requests with the
real ``param_serialize`` (paths, query strings, headers, bodies) and this fake
parses them as an API server would:

- discovery: ``/api``, ``/apis`` and the group-version resource lists, from the
  documents recorded from the lab's API server (tests/unit/fixtures/discovery),
  plus kinds a test serves with ``serve_kind``;
- get, list (label selectors ``k=v``, ``k!=v``, ``k``, ``!k``; field selectors
  on metadata.name/namespace; ``limit``/``continue`` pagination), watch
  (events after a resourceVersion; an empty watch advances the fake clock by
  ``timeoutSeconds``, as a server holding the request would);
- server-side apply good enough for tests (maps merged, lists replaced,
  resourceVersion and generation moved only on a real change), JSON patch
  with ``test`` (a failed test is 409 like the API server's), merge patch on
  ``scale``/``status``, create (409 when it exists), delete, eviction (429
  while a test blocks it); ``dryRun=All`` never persists;
- scripted failures: ``fail(method, path_part, status, message)`` answers the
  next matching request with that status (404/409/422/429/500, ...).

``requests`` records every request (method, path, query, content type,
body), so tests assert write order and dry-run flags.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import kubernetes.client

DISCOVERY = Path(__file__).parent / "fixtures" / "discovery"
SERVER = "https://fake-apiserver:6443"
PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$"
)


def discovery_file(path: str) -> Path:
    """The fixture file for a discovery path: /apis/storage.k8s.io/v1 -> apis_storage_k8s_io_v1.json."""
    return DISCOVERY / (path.strip("/").replace("/", "_").replace(".", "_") + ".json")


class FakeClock:
    """A clock tests advance; ``sleep`` advances it and runs the tick callbacks."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []
        self.ticks: list = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        for tick in list(self.ticks):
            tick()


@dataclass
class Request:
    method: str
    path: str
    query: dict
    content_type: str | None
    body: object

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"


class _Stream:
    def __init__(self, data: bytes):
        self.data = data
        self.released = False

    def stream(self, amt=4096):
        for start in range(0, len(self.data), 7):  # small chunks: lines cut anywhere
            yield self.data[start : start + 7]

    def release_conn(self):
        self.released = True


class FakeResponse:
    def __init__(self, status: int, body=None, reason: str = ""):
        self.status = status
        self.reason = reason or {200: "OK", 201: "Created"}.get(status, "Error")
        self.data = (
            b""
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body).encode())
        )
        self.response = _Stream(self.data)

    def read(self):
        return self.data


def status_body(code: int, reason: str, message: str) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


REASONS = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
}


def merge(base, patch):
    """Server-side apply, good enough for tests: maps merged, everything else replaced."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def json_patch(obj: dict, operations: list[dict]) -> dict:
    """RFC 6902 add/remove/replace/test on dict paths (enough for the runbooks)."""
    doc = copy.deepcopy(obj)
    for op in operations:
        *parents, last = [_unescape(t) for t in op["path"].split("/")[1:]]
        target = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
        if op["op"] == "test":
            if target.get(last) != op["value"]:
                raise _Refuse(409, f"the test of {op['path']} failed: the object has been modified")
        elif op["op"] in ("add", "replace"):
            target[last] = copy.deepcopy(op["value"])
        elif op["op"] == "remove":
            if last not in target:
                raise _Refuse(422, f"unable to remove nonexistent key: {last}")
            del target[last]
    return doc


class _Refuse(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def label_match(labels: dict, expression: str | None) -> bool:
    for term in filter(None, (expression or "").split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.rstrip("=")) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def field_match(obj: dict, expression: str | None) -> bool:
    meta = obj.get("metadata") or {}
    for term in filter(None, (expression or "").split(",")):
        key, value = term.split("=", 1)
        actual = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace")}
        if key not in actual:
            raise _Refuse(400, f"field label not supported: {key}")
        if actual[key] != value:
            return False
    return True


@dataclass
class _Kind:
    api_version: str
    kind: str
    plural: str
    namespaced: bool
    subresources: set = field(default_factory=set)


class FakeApi:
    """The in-memory API server (see the module docstring)."""

    def __init__(self, clock: FakeClock | None = None, watch: bool = True):
        self.clock = clock or FakeClock()
        self.watch_enabled = watch
        self.objects: dict[tuple, dict] = {}
        self.events: list[tuple[int, str, tuple, dict]] = []
        self.requests: list[Request] = []
        self.failures: list[tuple[str, str, int, str]] = []
        self.extra_discovery: dict[str, dict] = {}
        self.evictions_blocked: set[str] = set()
        self.hooks: list[tuple[str, str, object]] = []
        self.rv = 100
        self.uids = 0

    # ---- set-up

    def api_client(self):
        cfg = kubernetes.client.Configuration()
        cfg.host = SERVER
        client = kubernetes.client.ApiClient(cfg)
        client.call_api = self.call_api
        return client

    def serve_kind(self, api_version, kind, plural, namespaced=True, subresources=()):
        """Serve a kind not in the recorded documents (a CRD's)."""
        doc = self.extra_discovery.setdefault(
            api_version,
            {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": api_version,
                "resources": [],
            },
        )
        verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
        doc["resources"].append(
            {"name": plural, "namespaced": namespaced, "kind": kind, "verbs": verbs}
        )
        for sub in subresources:
            doc["resources"].append(
                {
                    "name": f"{plural}/{sub}",
                    "namespaced": namespaced,
                    "kind": kind,
                    "verbs": ["get", "patch"],
                }
            )

    def add(self, *objects: dict) -> None:
        """Store objects as they are (no request recorded)."""
        for obj in objects:
            self._store(copy.deepcopy(obj), "ADDED")

    def fail(
        self, method: str, path_part: str, status: int, message: str = "scripted failure"
    ) -> None:
        """Answer the next ``method`` request whose path contains ``path_part`` with ``status``."""
        self.failures.append((method, path_part, status, message))

    def when(self, method: str, path_part: str, action) -> None:
        """Run ``action()`` once, just before the next matching request is answered."""
        self.hooks.append((method, path_part, action))

    def stored(self, api_version, kind, name, namespace=None) -> dict | None:
        return copy.deepcopy(self.objects.get((api_version, kind, namespace, name)))

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]

    # ---- discovery

    def discovery_document(self, path: str) -> dict | None:
        api_version = path[len("/apis/") :] if path.startswith("/apis/") else path[len("/api/") :]
        if path.count("/") >= 2 and api_version in self.extra_discovery:
            return self.extra_discovery[api_version]
        file = discovery_file(path)
        if path == "/apis":
            doc = json.loads(file.read_text())
            for gv in self.extra_discovery:
                group, version = gv.split("/")
                doc["groups"].append(
                    {
                        "name": group,
                        "versions": [{"groupVersion": gv, "version": version}],
                        "preferredVersion": {"groupVersion": gv, "version": version},
                    }
                )
            return doc
        return json.loads(file.read_text()) if file.exists() else None

    def _kind_of(self, api_version: str, plural: str) -> _Kind | None:
        path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        doc = self.discovery_document(path)
        if doc is None:
            return None
        subs = {
            r["name"].split("/")[1] for r in doc["resources"] if r["name"].startswith(plural + "/")
        }
        for entry in doc["resources"]:
            if entry["name"] == plural:
                return _Kind(api_version, entry["kind"], plural, entry["namespaced"], subs)
        return None

    def _kind_by_name(self, api_version: str, kind: str) -> _Kind | None:
        path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        doc = self.discovery_document(path) or {"resources": []}
        entry = next(
            (r for r in doc["resources"] if r["kind"] == kind and "/" not in r["name"]), None
        )
        return self._kind_of(api_version, entry["name"]) if entry else None

    # ---- storage

    def _store(self, obj: dict, event: str, bump: bool = True) -> dict:
        meta = obj.setdefault("metadata", {})
        key = (obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        if bump:
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
        if "uid" not in meta:
            self.uids += 1
            meta["uid"] = f"uid-{self.uids}"
            meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        self.objects[key] = obj
        self.events.append((self.rv, event, key, copy.deepcopy(obj)))
        return obj

    def _remove(self, key: tuple) -> dict:
        obj = self.objects.pop(key)
        self.rv += 1
        self.events.append((self.rv, "DELETED", key, copy.deepcopy(obj)))
        return obj

    # ---- the HTTP layer

    def call_api(
        self, method, url, header_params=None, body=None, post_params=None, _request_timeout=None
    ):
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        headers = header_params or {}
        request = Request(
            method, parts.path, query, headers.get("Content-Type"), copy.deepcopy(body)
        )
        self.requests.append(request)
        for index, (h_method, part, action) in enumerate(self.hooks):
            if h_method == method and part in url:
                del self.hooks[index]
                action()
                break
        for index, (f_method, part, status, message) in enumerate(self.failures):
            if f_method == method and part in parts.path:
                del self.failures[index]
                return FakeResponse(
                    status, status_body(status, REASONS.get(status, "Error"), message)
                )
        try:
            code, answer = self._handle(request)
        except _Refuse as refusal:
            code = refusal.code
            answer = status_body(code, REASONS.get(code, "Error"), refusal.message)
        if isinstance(answer, bytes):
            return FakeResponse(code, answer)
        return FakeResponse(code, answer)

    def _handle(self, request: Request):
        path = request.path
        if path in ("/api", "/apis") or re.fullmatch(r"/api/v1|/apis/[^/]+/[^/]+", path):
            doc = self.discovery_document(path)
            if doc is None:
                raise _Refuse(404, "the server could not find the requested resource")
            return 200, doc
        match = PATH.match(path)
        if not match:
            raise _Refuse(404, "the server could not find the requested resource")
        api_version = match["core"] or f"{match['group']}/{match['version']}"
        kind = self._kind_of(api_version, match["plural"])
        if kind is None:
            raise _Refuse(404, "the server could not find the requested resource")
        ns, name, sub = match["ns"], match["name"], match["sub"]
        if ns and not kind.namespaced:
            raise _Refuse(404, "the server could not find the requested resource")
        if sub and sub not in kind.subresources:
            raise _Refuse(404, "the server could not find the requested resource")
        key = (api_version, kind.kind, ns, name)
        handler = getattr(self, f"_{request.method.lower()}")
        return handler(request, kind, key, sub)

    def _not_found(self, kind: _Kind, name: str):
        return _Refuse(404, f'{kind.plural} "{name}" not found')

    def _get(self, request, kind, key, sub):
        _, _, ns, name = key
        if name is None:
            if request.query.get("watch") == "true":
                return self._watch(request, kind, ns)
            return 200, self._list(request, kind, ns)
        if key not in self.objects:
            raise self._not_found(kind, name)
        obj = copy.deepcopy(self.objects[key])
        if sub == "scale":
            return 200, self._scale_of(obj)
        return 200, obj

    def _list(self, request, kind, ns):
        query = request.query
        items = [
            copy.deepcopy(o)
            for (av, k, o_ns, _), o in sorted(
                self.objects.items(), key=lambda kv: (kv[0][2] or "", kv[0][3])
            )
            if av == kind.api_version
            and k == kind.kind
            and (ns is None or o_ns == ns)
            and label_match((o["metadata"].get("labels") or {}), query.get("labelSelector"))
            and field_match(o, query.get("fieldSelector"))
        ]
        for item in items:  # list items come without kind and apiVersion, as from the server
            item.pop("kind", None)
            item.pop("apiVersion", None)
        start = int(query.get("continue", "0"))
        limit = int(query["limit"]) if query.get("limit") else None
        page = items[start : start + limit] if limit else items[start:]
        meta = {"resourceVersion": str(self.rv)}
        if limit and start + limit < len(items):
            meta["continue"] = str(start + limit)
        return {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.api_version,
            "metadata": meta,
            "items": page,
        }

    def _watch(self, request, kind, ns):
        if not self.watch_enabled:
            raise _Refuse(405, "watch is not allowed here")
        since = int(request.query.get("resourceVersion") or 0)
        lines = []
        for rv, event, (av, k, o_ns, _), obj in self.events:
            if rv <= since or av != kind.api_version or k != kind.kind or (ns and o_ns != ns):
                continue
            if not field_match(obj, request.query.get("fieldSelector")):
                continue
            lines.append(json.dumps({"type": event, "object": obj}))
        if not lines:  # the server holds the request until timeoutSeconds
            self.clock.sleep(float(request.query.get("timeoutSeconds", "1")))
        return 200, ("\n".join(lines) + "\n").encode() if lines else b""

    def _scale_of(self, obj):
        meta = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace")},
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
        }

    def _validate(self, kind: _Kind, key, body):
        if not isinstance(body, dict):
            raise _Refuse(400, "the body must be an object")
        meta = body.get("metadata") or {}
        if not meta.get("name"):
            raise _Refuse(422, f"{kind.kind} is invalid: metadata.name: Required value")
        if (body.get("apiVersion"), body.get("kind")) != (kind.api_version, kind.kind):
            raise _Refuse(
                400, f"the body is {body.get('kind')} {body.get('apiVersion')}, not {kind.kind}"
            )
        if key[3] and meta["name"] != key[3]:
            raise _Refuse(400, "the name of the object does not match the name on the URL")
        if kind.namespaced and meta.get("namespace", key[2]) != key[2]:
            raise _Refuse(
                400, "the namespace of the object does not match the namespace on the URL"
            )

    def _post(self, request, kind, key, sub):
        api_version, _, ns, name = key
        if sub == "eviction":
            if key not in self.objects:
                raise self._not_found(kind, name)
            if name in self.evictions_blocked:
                raise _Refuse(
                    429, "Cannot evict pod as it would violate the pod's disruption budget."
                )
            if not request.dry_run:
                self._remove(key)
            return 201, status_body(201, "", "evicted") | {"status": "Success"}
        body = request.body
        self._validate(kind, key, body)
        key = (api_version, kind.kind, ns, body["metadata"]["name"])
        if key in self.objects:
            raise _Refuse(409, f'{kind.plural} "{key[3]}" already exists')
        obj = copy.deepcopy(body)
        if "spec" in obj:
            obj["metadata"].setdefault("generation", 1)
        if request.dry_run:
            return 201, obj
        return 201, copy.deepcopy(self._store(obj, "ADDED"))

    def _patch(self, request, kind, key, sub):
        name = key[3]
        current = self.objects.get(key)
        content_type = request.content_type
        if content_type == "application/apply-patch+yaml":
            self._validate(kind, key, request.body)
            if request.query.get("fieldManager") is None:
                raise _Refuse(
                    422, "PatchOptions.meta.k8s.io is invalid: fieldManager: Required value"
                )
            after = merge(current or {}, request.body)
        elif current is None:
            raise self._not_found(kind, name)
        elif content_type == "application/json-patch+json":
            after = json_patch(current, request.body)
        elif content_type == "application/merge-patch+json" and sub == "scale":
            after = merge(current, {"spec": {"replicas": request.body["spec"]["replicas"]}})
        elif content_type == "application/merge-patch+json":
            after = merge(current, request.body)
        else:
            raise _Refuse(415, f"unsupported content type {content_type}")
        if current is not None and after == current:
            return 200, copy.deepcopy(current)
        if current is not None and after.get("spec") != current.get("spec"):
            after["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        elif current is None and "spec" in after:
            after["metadata"]["generation"] = 1
        if request.dry_run:
            result = copy.deepcopy(after)
            if current is None:
                result["metadata"]["uid"] = "dry-run"
            return 200, self._scale_of(result) if sub == "scale" else result
        stored = self._store(after, "ADDED" if current is None else "MODIFIED")
        return (201 if current is None else 200), copy.deepcopy(
            self._scale_of(stored) if sub == "scale" else stored
        )

    def _delete(self, request, kind, key, sub):
        if key not in self.objects:
            raise self._not_found(kind, key[3])
        if request.dry_run:
            return 200, copy.deepcopy(self.objects[key])
        return 200, self._remove(key)
