# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which resource serves a kind: the API server's discovery documents, read lazily and cached.

``Discovery.resource(api_version, kind)`` reads the group-version's resource
list (``/api/v1`` or ``/apis/<group>/<version>``) the first time that
group-version is needed and answers from the cache afterwards: the plural,
whether the kind is namespaced, its verbs and subresources. Nothing is
guessed: a kind the server does not list is an ``UnknownKindError`` saying
which kinds that apiVersion does offer, or that the group or version is not
served (then ``/apis`` is read once to say which versions are).

``fetch(path)`` is given by the caller (``ObjectClient``): it returns the JSON
document, or None when the server answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import (
    ScopeError,
    UnknownKindError,
    UnsupportedError,
)


@dataclass(frozen=True)
class Resource:
    """One resource of a group-version, as discovery describes it."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset = field(default_factory=frozenset)
    subresources: frozenset = field(default_factory=frozenset)

    def path(
        self, name: str | None = None, namespace: str | None = None, subresource: str | None = None
    ) -> str:
        """The REST path of an object (or of the collection when ``name`` is None).

        A collection of a namespaced kind without a namespace is the list
        across all namespaces; an object of a namespaced kind needs one.
        """
        if namespace and not self.namespaced:
            raise ScopeError(
                f"{self.kind} ({self.api_version}) is cluster-scoped; namespace {namespace} "
                "must not be given",
                obj=_describe(self.kind, name, namespace),
            )
        if name and self.namespaced and not namespace:
            raise ScopeError(
                f"{self.kind} ({self.api_version}) is namespaced; no namespace given",
                obj=_describe(self.kind, name, None),
            )
        if subresource and subresource not in self.subresources:
            offered = ", ".join(sorted(self.subresources)) or "none"
            raise UnsupportedError(
                f"{self.kind} ({self.api_version}) has no {subresource} subresource "
                f"(it has: {offered})",
                obj=_describe(self.kind, name, namespace),
            )
        path = group_version_path(self.api_version)
        if namespace:
            path += f"/namespaces/{namespace}"
        path += f"/{self.plural}"
        if name:
            path += f"/{name}"
        if subresource:
            path += f"/{subresource}"
        return path

    def require(self, verb: str, name: str | None = None, namespace: str | None = None) -> None:
        if self.verbs and verb not in self.verbs:
            raise UnsupportedError(
                f"{self.kind} ({self.api_version}) does not support {verb} "
                f"(verbs: {', '.join(sorted(self.verbs))})",
                obj=_describe(self.kind, name, namespace),
            )


def _describe(kind: str, name: str | None, namespace: str | None) -> str:
    if name is None:
        return f"{kind} in {namespace}" if namespace else kind
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def group_version_path(api_version: str) -> str:
    return f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"


def parse_resource_list(document: dict) -> dict[str, Resource]:
    """Kind -> Resource from one APIResourceList (subresources attached to their resource)."""
    api_version = document.get("groupVersion", "")
    subresources: dict[str, set] = {}
    entries = []
    for entry in document.get("resources") or []:
        plural, _slash, sub = entry.get("name", "").partition("/")
        if sub:
            subresources.setdefault(plural, set()).add(sub)
        else:
            entries.append(entry)
    kinds: dict[str, Resource] = {}
    for entry in entries:
        kinds.setdefault(
            entry["kind"],
            Resource(
                api_version=api_version,
                kind=entry["kind"],
                plural=entry["name"],
                namespaced=bool(entry.get("namespaced")),
                verbs=frozenset(entry.get("verbs") or ()),
                subresources=frozenset(subresources.get(entry["name"], ())),
            ),
        )
    return kinds


class Discovery:
    """Resources by (apiVersion, kind), fetched per group-version on first use and cached."""

    def __init__(self, fetch: Callable[[str], dict | None]):
        self.fetch = fetch
        self._group_versions: dict[str, dict[str, Resource] | None] = {}
        self._groups: dict[str, list[str]] | None = None

    def kinds(self, api_version: str, refresh: bool = False) -> dict[str, Resource] | None:
        """The kinds one group-version serves; None when the server does not serve it."""
        if refresh or api_version not in self._group_versions:
            document = self.fetch(group_version_path(api_version))
            self._group_versions[api_version] = (
                parse_resource_list(document) if document is not None else None
            )
        return self._group_versions[api_version]

    def served_versions(self, group: str) -> list[str]:
        """The versions of an API group the server serves (from /apis, read once)."""
        if self._groups is None:
            document = self.fetch("/apis") or {}
            self._groups = {
                g["name"]: [v["groupVersion"] for v in g.get("versions") or []]
                for g in document.get("groups") or []
            }
        return self._groups.get(group, [])

    def invalidate(self, api_version: str | None = None) -> None:
        """Forget what was read (after a CustomResourceDefinition changed what is served)."""
        if api_version is None:
            self._group_versions.clear()
            self._groups = None
        else:
            self._group_versions.pop(api_version, None)
            self._groups = None

    def resource(self, api_version: str, kind: str) -> Resource:
        kinds = self.kinds(api_version)
        if kinds is None or kind not in kinds:
            # A CRD may have been added since the cache was filled: look once more.
            kinds = self.kinds(api_version, refresh=True)
        if kinds is not None and kind in kinds:
            return kinds[kind]
        raise UnknownKindError(self._why_unknown(api_version, kind, kinds), obj=kind)

    def _why_unknown(self, api_version: str, kind: str, kinds: dict | None) -> str:
        if kinds is not None:
            offered = ", ".join(sorted(kinds)) or "no kinds"
            return f"the API server serves no kind {kind} in {api_version} (it offers: {offered})"
        if "/" not in api_version:
            return f"the API server does not serve apiVersion {api_version} (kind {kind})"
        group = api_version.split("/")[0]
        versions = self.served_versions(group)
        if versions:
            return (
                f"the API server does not serve {api_version} (kind {kind}); "
                f"group {group} is served as {', '.join(versions)}"
            )
        return (
            f"the API server does not serve API group {group} (kind {kind}, apiVersion "
            f"{api_version}); is its CustomResourceDefinition installed?"
        )
