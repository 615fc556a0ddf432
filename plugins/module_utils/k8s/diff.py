# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Comparing objects without server noise, and diffs that never show a secret.

``changed`` is ``differs(before, after)``: fields the server maintains
(resourceVersion, managedFields, status, ...) never make a run look changed
and never show in a diff. ``diff_entry`` replaces every value of a Secret's
``data`` and ``stringData`` with a marker (saying whether it changed).
"""

from __future__ import annotations

import copy

# Metadata the API server maintains: never a change, never in a diff.
NOISY_METADATA = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")
NOISY_ANNOTATIONS = (
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
)
SECRET_FIELDS = ("data", "stringData")
REDACTED = "<redacted>"
REDACTED_CHANGED = "<redacted, changed>"


def describe(obj_or_kind, name: str | None = None, namespace: str | None = None) -> str:
    """``Kind namespace/name`` for messages, from an object or its coordinates."""
    if isinstance(obj_or_kind, dict):
        meta = obj_or_kind.get("metadata") or {}
        kind, name, namespace = obj_or_kind.get("kind"), meta.get("name"), meta.get("namespace")
    else:
        kind = obj_or_kind
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


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


def _is_secret(obj: dict | None) -> bool:
    return bool(obj) and obj.get("kind") == "Secret"


def redact_secret(obj: dict | None, other: dict | None = None) -> dict | None:
    """``obj`` with each Secret value replaced by a marker; changed ones (against ``other``) say so."""
    if not _is_secret(obj):
        return obj
    clean = copy.deepcopy(obj)
    for section in SECRET_FIELDS:
        values = clean.get(section)
        if not isinstance(values, dict):
            continue
        theirs = ((other or {}).get(section) or {}) if other is not None else None
        for key in values:
            changed = theirs is not None and theirs.get(key) != values[key]
            values[key] = REDACTED_CHANGED if changed else REDACTED
    return clean


def diff_entry(header: str, before: dict | None, after: dict | None) -> dict:
    """One entry of an Ansible diff list: noise removed, Secret values redacted."""
    before, after = strip_noise(before), strip_noise(after)
    return {
        "before_header": header,
        "after_header": header,
        "before": redact_secret(before) or {},
        "after": redact_secret(after, before if before is not None else {}) or {},
    }
