"""Validate generated Kubernetes manifests against the 1.37 OpenAPI schemas.

Every test that builds a manifest should end with ``assert_valid_manifest(obj)``
(or ``assert_valid_manifests(objs)``). Strict mode rejects fields the schema
does not know, so a misspelt ``tolerations`` or an old ``apiVersion`` fails
the test instead of being silently dropped by the API server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import kubernetes_validate

# The newest schema set kubernetes-validate 1.37.0 ships (v1.37.0-local-strict).
KUBERNETES_VERSION = "1.37.0"


class ManifestError(AssertionError):
    """A manifest does not validate; the message names the object and field."""


def _name(obj: Mapping) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    name = meta.get("name", "<unnamed>")
    kind = obj.get("kind", "<no kind>")
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def assert_valid_manifest(obj: Mapping, version: str = KUBERNETES_VERSION) -> None:
    """Raise ManifestError unless ``obj`` is valid for Kubernetes ``version`` (strict)."""
    if not isinstance(obj, Mapping) or "apiVersion" not in obj or "kind" not in obj:
        raise ManifestError(f"not a Kubernetes object (needs apiVersion and kind): {obj!r:.200}")
    try:
        kubernetes_validate.validate(dict(obj), version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        raise ManifestError(
            f"{_name(obj)}: no {obj['apiVersion']} {obj['kind']} in the Kubernetes {version} "
            f"schemas (removed or misspelt apiVersion/kind?)"
        ) from None
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "<root>"
        raise ManifestError(f"{_name(obj)}: {path}: {exc.message}") from None


def assert_valid_manifests(objs: Iterable[Mapping], version: str = KUBERNETES_VERSION) -> None:
    """Validate every object; a ``List`` kind is validated item by item."""
    for obj in objs:
        if obj.get("kind") == "List":
            assert_valid_manifests(obj.get("items", []), version)
        else:
            assert_valid_manifest(obj, version)
