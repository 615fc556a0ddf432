# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One compose file checked and brought to canonical form.

Compose allows several spellings of one thing: ``environment`` as a list of
``K=V`` or a mapping, ``ports`` as ``"8080:80/udp"`` or a mapping, ``depends_on``
as a list or a mapping with conditions. ``normalize_file`` checks the types of
every key the converter reads and returns the long form only, so the merge of
several files and the conversion see one shape. Each problem is a ComposeError
naming the file, the service, the key and the value.

Keys starting with ``x-`` are extensions and are dropped, as Compose ignores
them. Keys Compose does not know are errors, as they are for Compose.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.yamlfile import (
    Override,
    Reset,
)

TOP_LEVEL = ("version", "name", "services", "networks", "volumes", "configs", "secrets")
TOP_LEVEL_UNSUPPORTED = ("include", "models")
SERVICE_KEYS = frozenset(
    [
        "annotations",
        "attach",
        "blkio_config",
        "build",
        "cap_add",
        "cap_drop",
        "cgroup",
        "cgroup_parent",
        "command",
        "configs",
        "container_name",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpu_shares",
        "cpus",
        "cpuset",
        "credential_spec",
        "depends_on",
        "deploy",
        "develop",
        "device_cgroup_rules",
        "devices",
        "dns",
        "dns_opt",
        "dns_search",
        "domainname",
        "entrypoint",
        "env_file",
        "environment",
        "expose",
        "extends",
        "external_links",
        "extra_hosts",
        "gpus",
        "group_add",
        "healthcheck",
        "hostname",
        "image",
        "init",
        "ipc",
        "isolation",
        "label_file",
        "labels",
        "links",
        "logging",
        "mac_address",
        "mem_limit",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "models",
        "network_mode",
        "networks",
        "oom_kill_disable",
        "oom_score_adj",
        "pid",
        "pids_limit",
        "platform",
        "ports",
        "post_start",
        "pre_stop",
        "privileged",
        "profiles",
        "provider",
        "pull_policy",
        "pull_refresh_after",
        "read_only",
        "restart",
        "runtime",
        "scale",
        "secrets",
        "security_opt",
        "shm_size",
        "stdin_open",
        "stop_grace_period",
        "stop_signal",
        "storage_opt",
        "sysctls",
        "tmpfs",
        "tty",
        "ulimits",
        "use_api_socket",
        "user",
        "userns_mode",
        "uts",
        "volumes",
        "volumes_from",
        "working_dir",
    ]
)
DEPLOY_KEYS = frozenset(
    [
        "endpoint_mode",
        "labels",
        "mode",
        "placement",
        "replicas",
        "resources",
        "restart_policy",
        "rollback_config",
        "update_config",
    ]
)
DEPLOY_MODES = ("replicated", "global", "replicated-job", "global-job")
PORT_PROTOCOLS = ("tcp", "udp", "sctp")
CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
VOLUME_TYPES = ("volume", "bind", "tmpfs", "npipe", "image", "cluster")
CONSTRAINT = re.compile(r"^\s*([^=!<>\s]+(?:\s*[^=!<>\s]+)*)\s*(==|!=|[=!<>~]+)\s*(.*?)\s*$")
_PORT_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


class FileModel:
    """Checks and normalises one file; remembers the file for messages."""

    def __init__(self, file: str):
        self.file = file

    def error(self, reason: str, service: str | None, key: str | None, value: Any = None):
        return ComposeError(reason, file=self.file, service=service, key=key, value=value)

    # -- scalars ------------------------------------------------------------------------
    def string(self, value, service, key, allow_number=True) -> str:
        if isinstance(value, str):
            return value
        if allow_number and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise self.error("must be a string", service, key, value)

    def integer(self, value, service, key, minimum: int | None = 0) -> int:
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value)) or (
            isinstance(value, float) and value.is_integer()
        ):
            number = int(value)
        if number is None:
            raise self.error("must be a whole number", service, key, value)
        if minimum is not None and number < minimum:
            raise self.error(f"must be {minimum} or more", service, key, value)
        return number

    def boolean(self, value, service, key) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.error("must be true or false", service, key, value)

    def number(self, value, service, key) -> float | int:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return float(value) if "." in value or "e" in value.lower() else int(value)
            except ValueError:
                pass
        raise self.error("must be a number", service, key, value)

    def choice(self, value, choices, service, key) -> str:
        if value not in choices:
            raise self.error(f"must be one of {', '.join(choices)}", service, key, value)
        return value

    # -- containers -----------------------------------------------------------------------
    def mapping(self, value, service, key) -> dict:
        if not isinstance(value, dict):
            raise self.error("must be a mapping", service, key, value)
        return value

    def string_list(self, value, service, key, allow_string=False) -> list[str]:
        if allow_string and isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            what = "a list of strings" + (" or a string" if allow_string else "")
            raise self.error(f"must be {what}", service, key, value)
        return [self.string(item, service, f"{key}[{i}]") for i, item in enumerate(value)]

    def dict_or_list(self, value, service, key, separator="=", none_allowed=True) -> dict:
        """A mapping given as a mapping or a list of ``K=V`` (``K`` alone is None)."""
        if isinstance(value, dict):
            result = {}
            for name, item in value.items():
                if item is None and none_allowed:
                    result[str(name)] = None
                elif isinstance(item, (dict, list)):
                    raise self.error("must be a string or a number", service, f"{key}.{name}", item)
                else:
                    result[str(name)] = _scalar_text(item)
            return result
        if isinstance(value, list):
            result = {}
            for index, item in enumerate(value):
                text = self.string(item, service, f"{key}[{index}]")
                name, found, rest = text.partition(separator)
                if not name:
                    raise self.error(
                        f"must be NAME{separator}VALUE", service, f"{key}[{index}]", item
                    )
                result[name] = rest if found else None
            return result
        raise self.error(
            f"must be a mapping or a list of NAME{separator}VALUE", service, key, value
        )

    def command(self, value, service, key) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return shlex.split(value)
            except ValueError as exc:
                raise self.error(
                    f"cannot be split into arguments ({exc})", service, key, value
                ) from None
        return self.string_list(value, service, key)


def _scalar_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalize_file(data, file: str) -> dict:
    """The canonical model of one file (services, networks, volumes, configs, secrets)."""
    model = FileModel(file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise model.error("must be a mapping of top-level keys (services, ...)", None, None, data)
    result: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise model.error("is not a top-level key", None, str(key), key)
        if key.startswith("x-"):
            continue
        if key in TOP_LEVEL_UNSUPPORTED:
            raise model.error(
                "is not supported by the converter; merge the included files with -f instead",
                None,
                key,
                value,
            )
        if key not in TOP_LEVEL:
            raise model.error("is not a Compose top-level key", None, key, value)
        result[key] = value
    if "version" in result:
        result["version"] = _check_version(model, result["version"])
    if "name" in result and not isinstance(result["name"], Reset):
        result["name"] = model.string(result["name"], None, "name")
    services = result.get("services")
    if services is not None and not isinstance(services, (Reset, Override)):
        services = model.mapping(services, None, "services")
        result["services"] = {
            str(name): normalize_service(model, str(name), spec) for name, spec in services.items()
        }
    for section in ("networks", "volumes", "configs", "secrets"):
        if section in result and not isinstance(result[section], (Reset, Override)):
            entries = result[section] or {}
            entries = model.mapping(entries, None, section)
            result[section] = {
                str(name): _resource(model, section, str(name), spec)
                for name, spec in entries.items()
            }
    return result


def _check_version(model: FileModel, value) -> str:
    text = str(value).strip() if isinstance(value, (str, int, float)) else None
    if text is None or not re.fullmatch(r"3(\.\d+)?", text):
        raise model.error(
            "is not a version the converter knows: Swarm stacks are file format 3.x "
            "(or the Compose Specification, which needs no version)",
            None,
            "version",
            value,
        )
    return text


def _resource(model: FileModel, section: str, name: str, spec) -> dict:
    if spec is None:
        return {}
    spec = model.mapping(spec, None, f"{section}.{name}")
    result = {k: v for k, v in spec.items() if not str(k).startswith("x-")}
    external = result.get("external")
    if isinstance(external, dict):  # file format 3.x: external: {name: ...}
        if "name" in external:
            result.setdefault("name", external["name"])
        result["external"] = True
    elif external is not None:
        result["external"] = model.boolean(external, None, f"{section}.{name}.external")
    for text_key in ("name", "file", "content", "environment", "driver"):
        if text_key in result and result[text_key] is not None:
            result[text_key] = model.string(result[text_key], None, f"{section}.{name}.{text_key}")
    for map_key in ("labels", "driver_opts"):
        if map_key in result and result[map_key] is not None:
            result[map_key] = model.dict_or_list(
                result[map_key], None, f"{section}.{name}.{map_key}"
            )
    if section in ("configs", "secrets") and not result.get("external"):
        sources = [k for k in ("file", "content", "environment") if result.get(k) is not None]
        if section == "secrets" and "content" in sources:
            raise model.error(
                "is not a source of secrets (file or environment)",
                None,
                f"{section}.{name}.content",
            )
        if len(sources) > 1:
            raise model.error(
                f"has {' and '.join(sources)}; a {section[:-1]} has one source",
                None,
                f"{section}.{name}",
            )
    if section == "networks" and "internal" in result:
        result["internal"] = model.boolean(result["internal"], None, f"networks.{name}.internal")
    return result


# -- services -----------------------------------------------------------------------------

_PASS_THROUGH_STRINGS = (
    "image",
    "working_dir",
    "user",
    "hostname",
    "domainname",
    "network_mode",
    "pid",
    "ipc",
    "uts",
    "userns_mode",
    "stop_signal",
    "platform",
    "pull_policy",
    "restart",
    "container_name",
    "isolation",
    "runtime",
    "cgroup_parent",
    "cgroup",
    "mac_address",
)
_BOOLEANS = ("privileged", "read_only", "init", "tty", "stdin_open", "oom_kill_disable")
_STRING_LISTS = (
    "cap_add",
    "cap_drop",
    "security_opt",
    "links",
    "external_links",
    "profiles",
    "volumes_from",
    "group_add",
    "device_cgroup_rules",
    "dns_opt",
)
_STRING_OR_LISTS = ("dns", "dns_search", "tmpfs")
_MAPPINGS = ("labels", "annotations", "sysctls", "storage_opt")


def normalize_service(model: FileModel, name: str, spec) -> dict | Reset | Override:
    if isinstance(spec, (Reset, Override)):
        return spec
    if spec is None:
        spec = {}
    spec = model.mapping(spec, name, None)
    result: dict[str, Any] = {}
    for key, value in spec.items():
        key = str(key)
        if key.startswith("x-"):
            continue
        if key not in SERVICE_KEYS:
            raise model.error("is not a Compose service key", name, key, value)
        if isinstance(value, Reset) or (value is None and key != "environment"):
            result[key] = value
        elif isinstance(value, Override):
            result[key] = Override(_service_key(model, name, key, value.value))
        else:
            result[key] = _service_key(model, name, key, value)
    return result


def _marked(item, normalize):
    """``normalize(item)``, through the !reset and !override markers of an override file."""
    if isinstance(item, Reset):
        return item
    if isinstance(item, Override):
        return Override(normalize(item.value))
    return normalize(item)


def _service_key(model: FileModel, name: str, key: str, value):
    if key in _PASS_THROUGH_STRINGS:
        return model.string(value, name, key)
    if key in _BOOLEANS:
        return model.boolean(value, name, key)
    if key in _STRING_LISTS:
        return model.string_list(value, name, key)
    if key in _STRING_OR_LISTS:
        return model.string_list(value, name, key, allow_string=True)
    if key in _MAPPINGS:
        return model.dict_or_list(value, name, key)
    if key in ("command", "entrypoint"):
        return model.command(value, name, key)
    if key == "environment":
        return model.dict_or_list(value, name, key) if value is not None else {}
    if key == "env_file":
        return _env_files(model, name, value)
    if key == "extra_hosts":
        return _extra_hosts(model, name, value)
    if key == "ports":
        if not isinstance(value, list):
            raise model.error("must be a list", name, key, value)
        ports = []
        for index, item in enumerate(value):
            ports.extend(_ports(model, name, f"ports[{index}]", item))
        return ports
    if key == "expose":
        values = value if isinstance(value, list) else [value]
        return [_expose(model, name, f"expose[{i}]", item) for i, item in enumerate(values)]
    if key == "volumes":
        if not isinstance(value, list):
            raise model.error("must be a list", name, key, value)
        return [_volume(model, name, f"volumes[{i}]", item) for i, item in enumerate(value)]
    if key in ("secrets", "configs"):
        if not isinstance(value, list):
            raise model.error("must be a list", name, key, value)
        return [_grant(model, name, key, i, item) for i, item in enumerate(value)]
    if key == "depends_on":
        return _depends_on(model, name, value)
    if key == "networks":
        return _networks(model, name, value)
    if key == "healthcheck":
        return _healthcheck(model, name, model.mapping(value, name, key))
    if key == "deploy":
        return _deploy(model, name, model.mapping(value, name, key))
    if key == "ulimits":
        return _ulimits(model, name, model.mapping(value, name, key))
    if key == "extends":
        if isinstance(value, str):
            return {"service": value}
        value = model.mapping(value, name, key)
        if "service" not in value:
            raise model.error("needs 'service'", name, key, value)
        result = {"service": model.string(value["service"], name, "extends.service")}
        if value.get("file") is not None:
            result["file"] = model.string(value["file"], name, "extends.file")
        return result
    if key in ("scale", "pids_limit", "cpu_shares", "oom_score_adj"):
        return model.integer(value, name, key, minimum=None if key == "oom_score_adj" else 0)
    if key in ("stop_grace_period",):
        return model.string(value, name, key)
    return value


def _env_files(model, name, value) -> list[dict]:
    values = value if isinstance(value, list) else [value]
    files = []
    for index, item in enumerate(values):
        key = f"env_file[{index}]" if isinstance(value, list) else "env_file"
        if isinstance(item, str):
            files.append({"path": item, "required": True, "format": None})
            continue
        item = model.mapping(item, name, key)
        if "path" not in item:
            raise model.error("needs 'path'", name, key, item)
        files.append(
            {
                "path": model.string(item["path"], name, f"{key}.path"),
                "required": model.boolean(item.get("required", True), name, f"{key}.required"),
                "format": item.get("format"),
            }
        )
    return files


def _extra_hosts(model, name, value) -> dict:
    if isinstance(value, dict):
        result = {}
        for host, address in value.items():
            addresses = address if isinstance(address, list) else [address]
            result[str(host)] = [model.string(a, name, f"extra_hosts.{host}") for a in addresses]
        return result
    result: dict[str, list[str]] = {}
    for index, item in enumerate(model.string_list(value, name, "extra_hosts")):
        separator = "=" if "=" in item else ":"
        host, found, address = item.partition(separator)
        if not found or not host or not address:
            raise model.error("must be HOST=IP", name, f"extra_hosts[{index}]", item)
        result.setdefault(host, []).append(address.strip("[]"))
    return result


def _port_number(model, name, key, text) -> int:
    if not (text.isdigit() and 1 <= int(text) <= 65535):
        raise model.error("is not a port number (1-65535)", name, key, text)
    return int(text)


def _port_range(model, name, key, text) -> list[int]:
    match = _PORT_RANGE.match(text.strip())
    if not match:
        raise model.error("is not a port or a port range", name, key, text)
    first = _port_number(model, name, key, match.group(1))
    last = _port_number(model, name, key, match.group(2) or match.group(1))
    if last < first:
        raise model.error("is a port range that ends before it starts", name, key, text)
    return list(range(first, last + 1))


def _ports(model, name, key, item) -> list[dict]:
    if isinstance(item, int) and not isinstance(item, bool):
        item = str(item)
    if isinstance(item, str):
        return _short_ports(model, name, key, item)
    item = model.mapping(item, name, key)
    unknown = set(item) - {
        "target",
        "published",
        "protocol",
        "mode",
        "host_ip",
        "name",
        "app_protocol",
    }
    unknown = {u for u in unknown if not str(u).startswith("x-")}
    if unknown:
        raise model.error(f"has unknown keys {sorted(map(str, unknown))}", name, key, item)
    if "target" not in item:
        raise model.error("needs 'target' (the container port)", name, key, item)
    target = _port_number(model, name, f"{key}.target", str(item["target"]))
    published = item.get("published")
    if published is not None:
        published = model.string(published, name, f"{key}.published")
        _port_range(model, name, f"{key}.published", published)
    return [
        {
            "target": target,
            "published": published,
            "protocol": model.choice(
                str(item.get("protocol", "tcp")).lower(), PORT_PROTOCOLS, name, f"{key}.protocol"
            ),
            "mode": model.choice(
                item.get("mode", "ingress"), ("ingress", "host"), name, f"{key}.mode"
            ),
            "host_ip": item.get("host_ip"),
            "name": item.get("name"),
            "app_protocol": item.get("app_protocol"),
        }
    ]


def _short_ports(model, name, key, text) -> list[dict]:
    spec, _slash, protocol = text.partition("/")
    protocol = (protocol or "tcp").lower()
    model.choice(protocol, PORT_PROTOCOLS, name, key)
    host_ip = None
    if spec.startswith("["):
        host_ip, _bracket, spec = spec[1:].partition("]")
        spec = spec.lstrip(":")
    parts = spec.split(":")
    if len(parts) > 2:
        host_ip, parts = ":".join(parts[:-2]), parts[-2:]
    if len(parts) == 2:
        published, target = parts
    else:
        published, target = None, parts[0]
    targets = _port_range(model, name, key, target)
    if published in ("", None):
        published_ports = [None] * len(targets)
    else:
        publishes = _port_range(model, name, key, published)
        if len(publishes) == len(targets):
            published_ports = [str(p) for p in publishes]
        elif len(targets) == 1:
            published_ports = [published]
        else:
            raise model.error("maps port ranges of different lengths", name, key, text)
    return [
        {
            "target": port,
            "published": published_port,
            "protocol": protocol,
            "mode": "ingress",
            "host_ip": host_ip or None,
            "name": None,
            "app_protocol": None,
        }
        for port, published_port in zip(targets, published_ports, strict=True)
    ]


def _expose(model, name, key, item) -> str:
    text = model.string(item, name, key)
    port, _slash, protocol = text.partition("/")
    protocol = (protocol or "tcp").lower()
    model.choice(protocol, PORT_PROTOCOLS, name, key)
    _port_range(model, name, key, port)
    return f"{port}/{protocol}"


_BIND_PREFIXES = ("/", ".", "~", "$")


def _volume(model, name, key, item) -> dict:
    if isinstance(item, str):
        parts = item.split(":")
        if len(parts) == 1:
            return {"type": "volume", "source": None, "target": parts[0], "read_only": False}
        if len(parts) > 3:
            raise model.error("must be SOURCE:TARGET[:MODE]", name, key, item)
        source, target = parts[0], parts[1]
        options = parts[2].split(",") if len(parts) == 3 else []
        kind = "bind" if source.startswith(_BIND_PREFIXES) else "volume"
        known = {
            "rw",
            "ro",
            "z",
            "Z",
            "nocopy",
            "cached",
            "delegated",
            "consistent",
            "rprivate",
            "private",
            "rshared",
            "shared",
            "rslave",
            "slave",
        }
        unknown = [o for o in options if o not in known]
        if unknown:
            raise model.error(f"has unknown mount options {unknown}", name, key, item)
        result = {"type": kind, "source": source, "target": target, "read_only": "ro" in options}
        if kind == "volume" and "nocopy" in options:
            result["volume"] = {"nocopy": True}
        if kind == "bind":
            propagation = [o for o in options if o.endswith(("private", "shared", "slave"))]
            result["bind"] = {"create_host_path": True}
            if propagation:
                result["bind"]["propagation"] = propagation[0]
        if not target.startswith("/"):
            raise model.error("must mount at an absolute path", name, key, item)
        return result
    item = model.mapping(item, name, key)
    if "type" not in item:
        raise model.error("needs 'type' (volume, bind, tmpfs, ...)", name, key, item)
    kind = model.choice(item["type"], VOLUME_TYPES, name, f"{key}.type")
    if "target" not in item:
        raise model.error("needs 'target' (the path in the container)", name, key, item)
    result = {
        "type": kind,
        "source": model.string(item["source"], name, f"{key}.source")
        if item.get("source") is not None
        else None,
        "target": model.string(item["target"], name, f"{key}.target"),
        "read_only": model.boolean(item.get("read_only", False), name, f"{key}.read_only"),
    }
    for sub in ("bind", "volume", "tmpfs", "image"):
        if item.get(sub) is not None:
            result[sub] = model.mapping(item[sub], name, f"{key}.{sub}")
    if kind in ("bind", "volume") and kind == "bind" and not result["source"]:
        raise model.error("needs 'source' (the host path)", name, key, item)
    return result


def _grant(model, name, section, index, item) -> dict:
    key = f"{section}[{index}]"
    if isinstance(item, str):
        item = {"source": item}
    item = model.mapping(item, name, key)
    if "source" not in item:
        raise model.error("needs 'source'", name, key, item)
    source = model.string(item["source"], name, f"{key}.source")
    default_target = f"/{source}" if section == "configs" else source
    result = {
        "source": source,
        "target": model.string(item.get("target") or default_target, name, f"{key}.target"),
    }
    for id_key in ("uid", "gid"):
        if item.get(id_key) is not None:
            result[id_key] = model.integer(item[id_key], name, f"{key}.{id_key}")
    if item.get("mode") is not None:
        mode = item["mode"]
        if isinstance(mode, str):
            if not re.fullmatch(r"0?o?[0-7]{1,4}", mode):
                raise model.error("must be an octal file mode like 0440", name, f"{key}.mode", mode)
            mode = int(mode.replace("o", ""), 8)
        result["mode"] = model.integer(mode, name, f"{key}.mode")
        if result["mode"] > 0o7777:
            raise model.error("is not a file mode", name, f"{key}.mode", item["mode"])
    return result


def _depends_on(model, name, value) -> dict:
    if isinstance(value, list):
        return {
            model.string(dep, name, f"depends_on[{i}]"): {
                "condition": "service_started",
                "required": True,
                "restart": False,
            }
            for i, dep in enumerate(value)
        }
    value = model.mapping(value, name, "depends_on")
    result = {}
    for dep, spec in value.items():
        key = f"depends_on.{dep}"
        spec = model.mapping(spec or {}, name, key)
        result[str(dep)] = {
            "condition": model.choice(
                spec.get("condition", "service_started"), CONDITIONS, name, f"{key}.condition"
            ),
            "required": model.boolean(spec.get("required", True), name, f"{key}.required"),
            "restart": model.boolean(spec.get("restart", False), name, f"{key}.restart"),
        }
    return result


def _networks(model, name, value) -> dict:
    if isinstance(value, list):
        return {model.string(n, name, f"networks[{i}]"): {} for i, n in enumerate(value)}
    value = model.mapping(value, name, "networks")
    result = {}
    for network, spec in value.items():
        spec = model.mapping(spec or {}, name, f"networks.{network}")
        entry = {}
        if spec.get("aliases") is not None:
            entry["aliases"] = model.string_list(
                spec["aliases"], name, f"networks.{network}.aliases"
            )
        for other in ("ipv4_address", "ipv6_address", "priority", "mac_address"):
            if spec.get(other) is not None:
                entry[other] = spec[other]
        result[str(network)] = entry
    return result


_HEALTH_KEYS = (
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
)


def _healthcheck(model, name, value) -> dict:
    result = {}
    for key, item in value.items():
        if str(key).startswith("x-"):
            continue
        if key not in _HEALTH_KEYS:
            raise model.error("is not a healthcheck key", name, f"healthcheck.{key}", item)
        field = f"healthcheck.{key}"
        if key == "test":
            if isinstance(item, str):
                result["test"] = ["CMD-SHELL", item]
            else:
                test = model.string_list(item, name, field)
                if not test or test[0] not in ("NONE", "CMD", "CMD-SHELL"):
                    raise model.error("must start with NONE, CMD or CMD-SHELL", name, field, item)
                result["test"] = test
        elif key == "retries":
            result[key] = model.integer(item, name, field)
        elif key == "disable":
            result[key] = model.boolean(item, name, field)
        else:
            result[key] = model.string(item, name, field)
    return result


_RESTART_KEYS = ("condition", "delay", "max_attempts", "window")
_UPDATE_KEYS = ("parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order")


def _deploy(model, name, value) -> dict:
    result: dict[str, Any] = {}
    for key, item in value.items():
        key = str(key)
        field = f"deploy.{key}"
        if key.startswith("x-"):
            continue
        if key not in DEPLOY_KEYS:
            raise model.error("is not a deploy key", name, field, item)
        if item is None:
            continue
        result[key] = _marked(item, lambda v, k=key: _deploy_value(model, name, k, v))
    return result


def _deploy_value(model, name, key, item):
    field = f"deploy.{key}"
    if key == "mode":
        return model.choice(item, DEPLOY_MODES, name, field)
    elif key == "replicas":
        return model.integer(item, name, field)
    elif key == "endpoint_mode":
        return model.choice(item, ("vip", "dnsrr"), name, field)
    elif key == "labels":
        return model.dict_or_list(item, name, field)
    elif key == "placement":
        return _placement(model, name, model.mapping(item, name, field))
    elif key == "resources":
        return _resources(model, name, model.mapping(item, name, field))
    elif key == "restart_policy":
        item = model.mapping(item, name, field)
        _known(model, name, field, item, _RESTART_KEYS)
        policy = dict(item)
        if "condition" in policy:
            policy["condition"] = model.choice(
                policy["condition"], ("none", "on-failure", "any"), name, f"{field}.condition"
            )
        if "max_attempts" in policy:
            policy["max_attempts"] = model.integer(
                policy["max_attempts"], name, f"{field}.max_attempts"
            )
        return {k: v for k, v in policy.items() if not str(k).startswith("x-")}
    else:  # update_config, rollback_config
        item = model.mapping(item, name, field)
        _known(model, name, field, item, _UPDATE_KEYS)
        config = {k: v for k, v in item.items() if not str(k).startswith("x-")}
        if "parallelism" in config:
            config["parallelism"] = model.integer(
                config["parallelism"], name, f"{field}.parallelism"
            )
        if "order" in config:
            config["order"] = model.choice(
                config["order"], ("stop-first", "start-first"), name, f"{field}.order"
            )
        if "failure_action" in config:
            actions = (
                ("continue", "rollback", "pause")
                if key == "update_config"
                else ("continue", "pause")
            )
            config["failure_action"] = model.choice(
                config["failure_action"], actions, name, f"{field}.failure_action"
            )
        if "max_failure_ratio" in config:
            config["max_failure_ratio"] = model.number(
                config["max_failure_ratio"], name, f"{field}.max_failure_ratio"
            )
        return config


def _known(model, name, field, item, keys):
    for key, value in item.items():
        if key not in keys and not str(key).startswith("x-"):
            raise model.error(
                f"is not a key of {field.split('.')[-1]}", name, f"{field}.{key}", value
            )


def _placement(model, name, value) -> dict:
    keys = ("constraints", "preferences", "max_replicas_per_node")
    _known(model, name, "deploy.placement", value, keys)
    normalizers = {
        "constraints": lambda v: _constraints(model, name, v),
        "preferences": lambda v: _preferences(model, name, v),
        "max_replicas_per_node": lambda v: model.integer(
            v, name, "deploy.placement.max_replicas_per_node"
        ),
    }
    return {
        key: _marked(value[key], normalizers[key]) for key in keys if value.get(key) is not None
    }


def _constraints(model, name, value) -> list[str]:
    constraints = model.string_list(value, name, "deploy.placement.constraints")
    for index, text in enumerate(constraints):
        parse_constraint(text, model, name, f"deploy.placement.constraints[{index}]")
    return constraints


def _preferences(model, name, preferences) -> list[dict]:
    if not isinstance(preferences, list):
        raise model.error(
            "must be a list of spread: LABEL entries",
            name,
            "deploy.placement.preferences",
            preferences,
        )
    result = []
    for index, item in enumerate(preferences):
        field = f"deploy.placement.preferences[{index}]"
        if isinstance(item, str):  # the CLI's spread=node.labels.x form
            strategy, _eq, label = item.partition("=")
            item = {strategy: label}
        item = model.mapping(item, name, field)
        if set(item) != {"spread"}:
            raise model.error(
                "must be spread: node.labels.NAME (spread is the only strategy)",
                name,
                field,
                item,
            )
        result.append({"spread": model.string(item["spread"], name, f"{field}.spread")})
    return result


def parse_constraint(text: str, model: FileModel | None = None, service=None, key=None):
    """``(attribute, operator, value)`` of a Swarm constraint such as ``node.role == manager``."""
    model = model or FileModel(None)
    match = CONSTRAINT.match(text)
    if not match or not match.group(3):
        raise model.error(
            "is not a constraint (ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE)", service, key, text
        )
    attribute, operator, value = match.group(1).strip(), match.group(2), match.group(3)
    if operator not in ("==", "!="):
        raise model.error(
            f"uses the operator {operator!r}; Swarm constraints know == and != only",
            service,
            key,
            text,
        )
    known = attribute in (
        "node.id",
        "node.hostname",
        "node.role",
        "node.platform.os",
        "node.platform.arch",
    )
    if not known and not re.fullmatch(r"(node|engine)\.labels\.\S+", attribute):
        raise model.error(
            f"constrains {attribute!r}, which Swarm does not know (node.id, node.hostname, node.role, "
            "node.platform.os, node.platform.arch, node.labels.*, engine.labels.*)",
            service,
            key,
            text,
        )
    return attribute, operator, value


def _resources(model, name, value) -> dict:
    _known(model, name, "deploy.resources", value, ("limits", "reservations"))
    result = {}
    for section in ("limits", "reservations"):
        if value.get(section) is not None:
            result[section] = _marked(
                value[section], lambda v, s=section: _resource_section(model, name, s, v)
            )
    return result


def _resource_section(model, name, section, value) -> dict:
    field = f"deploy.resources.{section}"
    item = model.mapping(value, name, field)
    allowed = (
        ("cpus", "memory", "pids")
        if section == "limits"
        else ("cpus", "memory", "devices", "generic_resources")
    )
    _known(model, name, field, item, allowed)
    return {k: v for k, v in item.items() if not str(k).startswith("x-")}


def _ulimits(model, name, value) -> dict:
    result = {}
    for limit, spec in value.items():
        field = f"ulimits.{limit}"
        if isinstance(spec, dict):
            if set(spec) != {"soft", "hard"}:
                raise model.error("must have soft and hard", name, field, spec)
            result[str(limit)] = {
                "soft": model.integer(spec["soft"], name, f"{field}.soft", minimum=-1),
                "hard": model.integer(spec["hard"], name, f"{field}.hard", minimum=-1),
            }
        else:
            number = model.integer(spec, name, field, minimum=-1)
            result[str(limit)] = {"soft": number, "hard": number}
    return result
