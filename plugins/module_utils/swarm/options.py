# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converter's module options, shared by swarm_compose_convert and swarm_migrate_apply.

``ARGSPEC`` is what a module passes to AnsibleModule, ``options_from`` turns
its params into ``ConvertOptions``, and ``load`` reads the compose input:
``files`` (in ``-f`` order) and then ``documents`` (compose documents already
parsed, e.g. a live stack read by swarm_stack_info, then override documents),
merged as Compose merges several files.
"""

from __future__ import annotations

import json
import re

try:
    import yaml
except ImportError:  # pragma: no cover - Ansible always ships PyYAML on the controller
    yaml = None

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    ConvertOptions,
    convert,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.label_keys import (
    normalise_label_map,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.project import load_project

ARGSPEC = {
    "files": {"type": "list", "elements": "path", "default": []},
    "documents": {"type": "list", "elements": "dict", "default": []},
    "project_name": {"type": "str"},
    "project_directory": {"type": "path"},
    "variables": {"type": "dict", "default": {}},
    "dotenv": {"type": "path"},
    "use_dotenv": {"type": "bool", "default": True},
    "profiles": {"type": "list", "elements": "str", "default": []},
    "namespace": {"type": "str"},
    "create_namespace": {"type": "bool", "default": False},
    "statefulsets": {"type": "list", "elements": "str", "default": []},
    "statefulset_for_named_volumes": {"type": "bool", "default": False},
    "storage_class": {"type": "str"},
    "volume_size": {"type": "str", "default": "10Gi"},
    "volume_claims": {"type": "dict", "default": {}},
    "load_balancer": {
        "type": "dict",
        "default": {},
        "options": {
            "services": {"type": "raw", "default": []},
            "options": {"type": "dict", "default": {}},
            "annotations": {"type": "dict", "default": {}},
            "keep_client_ip": {"type": "bool", "default": False},
        },
    },
    "node_port_range": {"type": "str", "default": "30000-32767"},
    "label_map": {"type": "dict", "default": {}},
    "node_names": {"type": "dict", "default": {}},
    "node_labels": {"type": "dict"},
    "bind_mounts": {"type": "dict", "default": {}},
    "network_policies": {"type": "bool", "default": False},
    "wait_image": {"type": "str", "default": "busybox:1.36"},
    "secret_values": {"type": "dict", "default": {}, "no_log": True},
    "config_values": {"type": "dict", "default": {}},
    "dest": {"type": "path"},
    "write_secrets": {"type": "bool", "default": False},
}


def node_port_range(text: str) -> tuple[int, int]:
    first, _dash, last = str(text).partition("-")
    if not (first.strip().isdigit() and last.strip().isdigit()):
        raise ComposeError(
            "is not a port range like 30000-32767",
            file="<options>",
            key="node_port_range",
            value=text,
        )
    return int(first), int(last)


def options_from(params: dict) -> ConvertOptions:
    node_labels = params["node_labels"]
    if node_labels is not None:
        node_labels = {
            str(k): [str(x) for x in (v if isinstance(v, list) else [v])]
            for k, v in node_labels.items()
        }
    load_balancer = dict(params["load_balancer"] or {})
    if isinstance(load_balancer.get("services"), str) and load_balancer["services"] != "all":
        load_balancer["services"] = [load_balancer["services"]]
    return ConvertOptions(
        namespace=params["namespace"],
        create_namespace=params["create_namespace"],
        statefulsets=params["statefulsets"],
        statefulset_for_named_volumes=params["statefulset_for_named_volumes"],
        storage_class=params["storage_class"],
        volume_size=params["volume_size"],
        volume_claims=params["volume_claims"],
        load_balancer=load_balancer,
        node_port_range=node_port_range(params["node_port_range"]),
        label_map=normalise_label_map(params["label_map"]),
        node_names={str(k): str(v) for k, v in params["node_names"].items()},
        node_labels=node_labels,
        bind_mounts=params["bind_mounts"],
        network_policies=params["network_policies"],
        wait_image=params["wait_image"],
        secret_values=params["secret_values"],
        config_values={str(k): str(v) for k, v in params["config_values"].items()},
    )


def document_name(index: int, document: dict) -> str:
    """The name a compose document goes by in messages (it has no file)."""
    return f"<document {index + 1}: {document.get('name') or 'compose'}>"


def convert_params(params: dict):
    """Read, merge and convert the module's ``files`` and ``documents``: a ``Conversion``."""
    documents = params.get("documents") or []
    if not params.get("files") and not documents:
        raise ComposeError("give 'files' or 'documents' (a compose document)", key="files")
    texts = {document_name(i, d): json.dumps(d) for i, d in enumerate(documents)}
    dotenv = (params["dotenv"] or None) if params["use_dotenv"] else False
    project = load_project(
        list(params.get("files") or []) + list(texts),
        variables=params["variables"],
        dotenv=dotenv if params.get("files") else False,
        project_name=params["project_name"],
        project_directory=params["project_directory"],
        profiles=params["profiles"],
        texts=texts,
    )
    return convert(project, options_from(params))


# A scalar ``environment: NAME`` only appears as the source of a top-level secret or config (a
# service's environment is a map or a list): the fallback when a file does not parse here.
_ENVIRONMENT_SOURCE = re.compile(
    r"""\benvironment["']?[ \t]*:[ \t]*["']?([A-Za-z_][A-Za-z0-9_]*)["']?[ \t]*(?:[,}#]|$)""",
    re.MULTILINE,
)


def secret_sources(text: str) -> set[str]:
    """The variables the top-level secrets of a compose text name as ``environment:`` source."""
    try:
        document = yaml.safe_load(text) if yaml is not None else None
    except Exception:  # custom tags (!reset), bad YAML: the conversion reports it; mask widely
        document = None
    if not isinstance(document, dict):
        return set(_ENVIRONMENT_SOURCE.findall(text))
    secrets = document.get("secrets")
    return {
        spec["environment"]
        for spec in (secrets.values() if isinstance(secrets, dict) else ())
        if isinstance(spec, dict) and isinstance(spec.get("environment"), str)
    }


def hide_secret_variables(module) -> None:
    """Mask in every output the variables a secret of the files or documents names as its source.

    Their values are not used for secrets (secret_values is), but a caller may still have put
    the value there; marking all of ``variables`` no_log would mask every substring equal to
    any variable value (a tag ``1`` would hide every 1 of the manifests).
    """
    variables = module.params.get("variables") or {}
    names: set[str] = set()
    for path in module.params.get("files") or []:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                names |= secret_sources(handle.read())
        except OSError:
            continue
    for document in module.params.get("documents") or []:
        names |= secret_sources(json.dumps(document))
    for name in sorted(names):
        value = variables.get(name)
        if value not in (None, ""):
            module.no_log_values.add(str(value))
