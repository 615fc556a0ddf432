# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a compose file's YAML the way Compose reads it.

Compose parses with a YAML 1.2 parser: ``yes``/``no``/``on``/``off`` stay
strings (``restart: no`` is the string "no"), ``8080:80`` is a string, not a
base-60 number. Anchors, aliases and merge keys (``<<``) work as in any YAML.
Two keys of the same mapping are an error (PyYAML would silently keep the
last). The override tags ``!reset`` and ``!override`` of the merge rules come
back as ``Reset`` and ``Override`` markers for the merge to act on.

PyYAML is imported lazily: this runs on the controller, where Ansible brings it.
"""

from __future__ import annotations

import re

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError

try:
    import yaml
except ImportError:  # pragma: no cover - Ansible always ships PyYAML on the controller
    yaml = None


class Reset:
    """``!reset``: the key is removed from what earlier files defined."""

    def __repr__(self) -> str:
        return "!reset"


class Override:
    """``!override value``: the value replaces what earlier files defined, no merge."""

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return f"!override {self.value!r}"


RESET = Reset()

# Go's yaml.v3 (which Compose uses) reads 0440 as octal, as YAML 1.1 did: file modes are written so.
_INT = re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o?[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


def _loader_class():
    # libyaml's parser when PyYAML has it (several times faster); same resolvers and constructors.
    base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

    class ComposeLoader(base):
        """SafeLoader with YAML 1.2 core-schema scalars and duplicate-key detection."""

        def construct_mapping(self, node, deep=False):
            seen = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a mapping key must be a scalar", key_node.start_mark
                    ) from None
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"key {key!r} appears twice (first on line {seen[key].line + 1})",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
            return super().construct_mapping(node, deep=deep)

    ComposeLoader.yaml_implicit_resolvers = {}
    resolvers = (
        ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
        ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
        ("tag:yaml.org,2002:float", _FLOAT, "-+0123456789."),
        ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"]),
    )
    for tag, pattern, first in resolvers:
        ComposeLoader.add_implicit_resolver(tag, pattern, list(first))

    def construct_bool(loader, node):
        return loader.construct_scalar(node).lower() == "true"

    def construct_int(loader, node):
        text = loader.construct_scalar(node)
        if text.startswith(("0o", "0x")):
            return int(text, 0)
        if len(text) > 1 and text.startswith("0"):
            return int(text, 8)
        return int(text)

    def construct_reset(_loader, _node):
        return RESET

    def construct_override(loader, node):
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)
            return Override(loader.construct_mapping(node, deep=True))
        if isinstance(node, yaml.SequenceNode):
            return Override(loader.construct_sequence(node, deep=True))
        return Override(loader.construct_scalar(node))

    ComposeLoader.add_constructor("tag:yaml.org,2002:bool", construct_bool)
    ComposeLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
    ComposeLoader.add_constructor("!reset", construct_reset)
    ComposeLoader.add_constructor("!override", construct_override)
    return ComposeLoader


_LOADER = None


def parse_yaml(text: str, file: str):
    """The document in ``text``; a ComposeError naming ``file``, line and column when it is not YAML."""
    global _LOADER
    if yaml is None:  # pragma: no cover
        raise ComposeError("PyYAML is needed to read compose files", file=file)
    if _LOADER is None:
        _LOADER = _loader_class()
    try:
        documents = list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        reason = f"{where}not valid YAML: {problem}" + (f" ({context})" if context else "")
        raise ComposeError(reason, file=file) from None
    if len(documents) > 1:
        raise ComposeError(
            f"holds {len(documents)} YAML documents; a compose file is one", file=file
        )
    return documents[0] if documents else None
