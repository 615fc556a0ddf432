# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A compose project: its files read, interpolated, extended and merged as Compose does.

Order, per file (as Compose): YAML with anchors and merge keys; interpolation
of every value with the caller's variables and the project ``.env``; the
canonical form (``model.normalize_file``); ``extends`` resolved. Then the
files are merged in the order given (``-f a -f b``):

- mappings merge key by key, the later file winning;
- sequences append, except ``command``, ``entrypoint`` and ``healthcheck.test``
  (replaced), and ``ports``, ``volumes``, ``secrets``, ``configs`` whose entries
  are replaced when they share the unique key (target; for ports host IP,
  target, published, protocol); ``cap_add`` and the like drop duplicates;
- ``environment``, ``labels``, ``extra_hosts``, ``sysctls``, ``ulimits``,
  ``depends_on``, ``networks`` merge by name whatever spelling each file used;
- ``!reset`` removes a value, ``!override`` replaces it without merging.

``Project.origins`` remembers the last file that set each service key, for
messages about the merged model.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.interpolation import (
    interpolate_tree,
    parse_dotenv,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.model import normalize_file
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.yamlfile import (
    Override,
    Reset,
    parse_yaml,
)

_REPLACED = {"command", "entrypoint", "healthcheck.test"}
_UNIQUE_BY = {
    "ports": lambda p: (p.get("host_ip"), p.get("target"), p.get("published"), p.get("protocol")),
    "volumes": lambda v: v.get("target"),
    "secrets": lambda s: s.get("target"),
    "configs": lambda c: c.get("target"),
}
_DEDUPLICATED = {
    "cap_add",
    "cap_drop",
    "expose",
    "external_links",
    "links",
    "security_opt",
    "device_cgroup_rules",
    "deploy.placement.constraints",
    "deploy.placement.preferences",
}
_PROJECT_NAME = re.compile(r"[^a-z0-9_-]")


@dataclass
class Project:
    """The merged model and where it came from."""

    name: str
    directory: str
    files: list[str]
    services: dict[str, dict] = field(default_factory=dict)
    networks: dict[str, dict] = field(default_factory=dict)
    volumes: dict[str, dict] = field(default_factory=dict)
    configs: dict[str, dict] = field(default_factory=dict)
    secrets: dict[str, dict] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    origins: dict[str, dict[str, str]] = field(default_factory=dict)
    file_dirs: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    inactive: list[str] = field(default_factory=list)

    def origin(self, service: str | None, key: str | None = None) -> str:
        """The file that last set ``service``'s ``key`` (its first segment), or the main file."""
        if service is not None:
            keys = self.origins.get(service, {})
            top = (key or "").split(".", 1)[0].split("[", 1)[0]
            if top in keys:
                return keys[top]
            if keys:
                return keys.get("", next(iter(keys.values())))
        return self.files[-1] if self.files else "<input>"

    def error(self, reason: str, service: str | None, key: str | None, value: Any = None):
        return ComposeError(
            reason, file=self.origin(service, key), service=service, key=key, value=value
        )


def merge(base, over, path: str = ""):
    """``over`` merged onto ``base`` by the Compose merge rules (neither is modified)."""
    if isinstance(over, Reset):
        return None
    if isinstance(over, Override):
        return strip_markers(over.value)
    if path in _REPLACED:
        return strip_markers(over)
    if isinstance(base, dict) and isinstance(over, dict):
        result = dict(base)
        for key, value in over.items():
            child = "" if path == "services" else (f"{path}.{key}" if path else str(key))
            if isinstance(value, Reset):
                result.pop(key, None)
            elif key in result:
                result[key] = merge(result[key], value, child)
            else:
                result[key] = strip_markers(value)
        return result
    if isinstance(base, list) and isinstance(over, list):
        unique = _UNIQUE_BY.get(path)
        if unique:
            merged = {unique(item): item for item in base}
            for item in over:
                key = unique(item)
                merged[key] = merge(merged[key], item) if key in merged else item
            return list(merged.values())
        combined = list(base) + strip_markers(over)
        if path in _DEDUPLICATED:
            seen, unique_items = [], []
            for item in combined:
                if item not in seen:
                    seen.append(item)
                    unique_items.append(item)
            return unique_items
        return combined
    return strip_markers(over)


def strip_markers(value):
    """``value`` without ``!reset`` entries and with ``!override`` unwrapped."""
    if isinstance(value, Override):
        return strip_markers(value.value)
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if not isinstance(v, Reset)}
    if isinstance(value, list):
        return [strip_markers(v) for v in value if not isinstance(v, Reset)]
    return value


class _Reader:
    """Reads, interpolates and normalises files once each; resolves ``extends``."""

    def __init__(self, variables: dict[str, str], warnings: list[str]):
        self.variables = variables
        self.warnings = warnings
        self.cache: dict[str, dict] = {}
        # (file, service) -> the file each key of an extended service came from,
        # so its relative paths (env_file, bind mounts) resolve where they were written.
        self.key_files: dict[tuple[str, str], dict[str, str]] = {}

    def read(self, path: str) -> dict:
        path = os.path.abspath(path)
        if path not in self.cache:
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except FileNotFoundError:
                raise ComposeError("does not exist", file=path) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ComposeError(f"cannot be read: {exc}", file=path) from None
            self.cache[path] = self.load_text(text, path)
        return self.cache[path]

    def load_text(self, text: str, file: str) -> dict:
        data = parse_yaml(text, file)
        if isinstance(data, dict) and data.get("services") is None and "services" in data:
            data["services"] = {}
        data = interpolate_tree(data, self.variables, file, self._warn(file))
        return normalize_file(data, file)

    def _warn(self, file):
        def warn(message: str) -> None:
            text = f"{file}: {message}"
            if text not in self.warnings:
                self.warnings.append(text)

        return warn

    def resolve_extends(self, model: dict, file: str, origins: dict) -> dict:
        services = model.get("services") or {}
        resolved: dict[str, dict] = {}
        for name in services:
            resolved[name] = self._extended(file, name, services, [], origins)
        return {**model, "services": resolved} if "services" in model else model

    def _extended(self, file: str, name: str, services: dict, chain: list, origins: dict):
        spec = services[name]
        if not isinstance(spec, dict) or "extends" not in spec or spec["extends"] is None:
            return spec
        link = (file, name)
        if link in chain:
            cycle = " -> ".join(f"{n}" for _f, n in [*chain, link])
            raise ComposeError(
                f"extends itself in a cycle: {cycle}", file=file, service=name, key="extends"
            )
        reference = spec["extends"]
        base_file = file
        base_services = services
        if reference.get("file"):
            base_file = os.path.normpath(os.path.join(os.path.dirname(file), reference["file"]))
            try:
                base_services = self.read(base_file).get("services") or {}
            except ComposeError as exc:
                if exc.file == os.path.abspath(base_file) and exc.reason == "does not exist":
                    raise ComposeError(
                        "names a file that does not exist",
                        file=file,
                        service=name,
                        key="extends.file",
                        value=reference["file"],
                    ) from None
                raise
        if reference["service"] not in base_services:
            raise ComposeError(
                f"names a service that {base_file} does not define",
                file=file,
                service=name,
                key="extends.service",
                value=reference["service"],
            )
        base = self._extended(
            base_file, reference["service"], base_services, [*chain, link], origins
        )
        base = {k: v for k, v in strip_markers(base).items() if k != "extends"}
        own = {k: v for k, v in spec.items() if k != "extends"}
        if (own.get("healthcheck") or {}).get("disable") and not (
            base.get("healthcheck") or {}
        ).get("disable"):
            raise ComposeError(
                "cannot disable a healthcheck the extended service defines",
                file=file,
                service=name,
                key="healthcheck.disable",
                value=True,
            )
        base_keys = self.key_files.get((base_file, reference["service"]), {})
        keys = {key: base_keys.get(key, base_file) for key in base}
        keys.update(dict.fromkeys(own, file))
        keys["extends"] = file
        self.key_files[(file, name)] = keys
        return merge(base, own)


def project_variables(
    variables: dict | None, directory: str, dotenv: str | bool | None, warnings: list[str]
) -> dict[str, str]:
    """The interpolation variables: the caller's, then what the project's ``.env`` adds."""
    given = {str(k): ("" if v is None else str(v)) for k, v in (variables or {}).items()}
    if dotenv is False:
        return given
    path = dotenv if isinstance(dotenv, str) and dotenv else os.path.join(directory, ".env")
    if not os.path.exists(path):
        if isinstance(dotenv, str) and dotenv:
            raise ComposeError("does not exist (the env file for interpolation)", file=path)
        return given
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ComposeError(f"cannot be read: {exc}", file=path) from None
    from_file = parse_dotenv(text, path, given, lambda m: warnings.append(f"{path}: {m}"))
    return {**from_file, **given}


def load_project(
    files: list[str],
    *,
    variables: dict | None = None,
    dotenv: str | bool | None = None,
    project_name: str | None = None,
    project_directory: str | None = None,
    profiles: list[str] | None = None,
    texts: dict[str, str] | None = None,
) -> Project:
    """Read ``files`` (``-f`` order) into one merged Project.

    ``texts`` maps a file name to its content for callers that hold the YAML
    already (a filter); those names are not read from disk.
    """
    if not files:
        raise ComposeError("no compose file given", key="files")
    paths = [os.path.abspath(f) if not (texts and f in texts) else f for f in files]
    directory = os.path.abspath(project_directory or os.path.dirname(paths[0]) or ".")
    warnings: list[str] = []
    values = project_variables(variables, directory, dotenv, warnings)
    reader = _Reader(values, warnings)
    merged: dict[str, Any] = {}
    origins: dict[str, dict[str, str]] = {}
    for path in paths:
        model = (
            reader.load_text(texts[path], path) if texts and path in texts else reader.read(path)
        )
        model = reader.resolve_extends(model, path, origins)
        for service, spec in (model.get("services") or {}).items():
            if isinstance(spec, dict):
                keys = origins.setdefault(service, {})
                keys.setdefault("", path)
                from_extends = reader.key_files.get((path, service), {})
                for key in spec:
                    keys[key] = from_extends.get(key, path)
                if "extends" in from_extends:
                    keys["extends"] = path
        merged = merge(merged, model)
    merged = strip_markers(merged)
    name = project_name or merged.get("name") or os.path.basename(directory)
    # Also a label value (app.kubernetes.io/instance): alphanumeric ends, at most 63 characters.
    name = _PROJECT_NAME.sub("", name.lower())[:63].strip("-_")
    if not name:
        raise ComposeError(
            "gives no usable project name (lowercase letters, digits, '-' and '_')",
            file=paths[0],
            key="name",
            value=project_name or merged.get("name"),
        )
    project = Project(
        name=name,
        directory=directory,
        files=paths,
        networks=merged.get("networks") or {},
        volumes=merged.get("volumes") or {},
        configs=merged.get("configs") or {},
        secrets=merged.get("secrets") or {},
        variables=values,
        origins=origins,
        file_dirs={p: os.path.dirname(p) if os.path.isabs(p) else directory for p in paths},
        warnings=warnings,
    )
    active = set(profiles or [])
    for service, spec in (merged.get("services") or {}).items():
        spec = spec or {}
        wanted = spec.get("profiles")
        if wanted and not active.intersection(wanted) and "*" not in active:
            project.inactive.append(service)
            continue
        project.services[service] = spec
    if not project.services:
        raise ComposeError("defines no service to convert", file=paths[-1], key="services")
    _check_references(project)
    return project


def _check_references(project: Project) -> None:
    for name, spec in project.services.items():
        if not spec.get("image"):
            raise project.error(
                "has no image; Swarm deploys images only (build the image and set 'image')",
                name,
                "image",
                spec.get("image"),
            )
        for dependency in spec.get("depends_on") or {}:
            if dependency not in project.services and dependency not in project.inactive:
                raise project.error(
                    "names a service the project does not define", name, "depends_on", dependency
                )
        for section in ("secrets", "configs"):
            for index, grant in enumerate(spec.get(section) or []):
                if grant["source"] not in getattr(project, section):
                    raise project.error(
                        f"names a {section[:-1]} the top-level '{section}' does not define",
                        name,
                        f"{section}[{index}].source",
                        grant["source"],
                    )
        for index, volume in enumerate(spec.get("volumes") or []):
            if (
                volume["type"] == "volume"
                and volume.get("source")
                and volume["source"] not in project.volumes
            ):
                raise project.error(
                    "names a volume the top-level 'volumes' does not define",
                    name,
                    f"volumes[{index}].source",
                    volume["source"],
                )
        for network in spec.get("networks") or {}:
            if network != "default" and network not in project.networks:
                raise project.error(
                    "names a network the top-level 'networks' does not define",
                    name,
                    "networks",
                    network,
                )
