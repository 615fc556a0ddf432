# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm label attributes to Kubernetes label keys: the one rule the converter and the labels step share.

``node.labels.X`` / ``engine.labels.X`` become ``label_map[attribute]`` when the map names the
attribute, else ``X``.  A mapping to None or ``""`` means the label is not migrated: the labels step
skips it and the converter reports a constraint on it as not convertible.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def normalise_label_map(label_map: dict | None) -> dict[str, str]:
    """``label_map`` as given by a user: keys and values as text, None (YAML ``~``) as ``""``."""
    return {str(k): ("" if v is None else str(v)) for k, v in (label_map or {}).items()}


def label_key(attribute: str, label_map: dict | None) -> str:
    """The Kubernetes label key of a Swarm attribute; ``""`` when the label is not migrated."""
    label_map = label_map or {}
    if attribute in label_map:
        mapped = label_map[attribute]
        return "" if mapped is None else str(mapped)
    return attribute.split(".", 2)[2] if attribute.count(".") >= 2 else attribute


def valid_key(key: str) -> bool:
    """A valid Kubernetes label (or annotation) key: ``[prefix/]name``."""
    prefix, slash, name = key.rpartition("/")
    return bool(_NAME.match(name)) and (
        not slash or (0 < len(prefix) <= 253 and bool(_PREFIX.match(prefix)))
    )


def valid_value(value: str) -> bool:
    return bool(_VALUE.match(value))
