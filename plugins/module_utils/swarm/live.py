# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A deployed Swarm stack, as the docker CLI shows it, turned back into a compose document.

The migrate-swarm runbook reads the live Swarm on a manager (``docker service
inspect``, ``config inspect``, ``network inspect``, ``volume inspect``, ``node
inspect``) so it also works where the stack file was lost. ``stack_document``
maps that JSON to a Compose Specification document the converter reads like a
file (``project.load_project(texts=...)``), and lists what the live Swarm does
not keep (``notes``):

- ``depends_on``, ``build``, ``env_file`` and the interpolation variables are
  used by ``docker stack deploy`` and not stored: the document has the values
  as deployed, the order of start-up is lost;
- secret values are never returned by the Swarm API: secrets become
  ``external`` and take their values from the operator (a vault) or, on
  request, from a running task's ``/run/secrets``;
- config contents are returned (``Spec.Data``, base64) and become ``content``.

Strings of the document have ``$`` doubled: the values are the interpolated
ones Swarm stored, and must not be interpolated a second time.

Runs on the manager host: standard library only.
"""

from __future__ import annotations

import base64
from decimal import Decimal

STACK_LABEL = "com.docker.stack.namespace"
STACK_IMAGE_LABEL = "com.docker.stack.image"
_NS = 10**9

NOT_KEPT = (
    (
        "depends_on",
        "Swarm does not keep depends_on (docker stack deploy ignores it): the start-up order is "
        "lost; give it in the runbook's overrides (migrate_swarm_overrides) if the services need it",
    ),
    (
        "build / env_file / .env",
        "not stored by Swarm: the document has the image and the environment as deployed",
    ),
    (
        "secrets (values)",
        "the Swarm API never returns secret values: they come from the operator (a vault file, "
        "migrate_swarm_secret_values) or, on request, from a running task's /run/secrets",
    ),
)


class LiveStackError(ValueError):
    """The inspect output is not what the docker CLI returns; the message names the object."""


def go_duration(nanoseconds) -> str | None:
    """A Compose duration for a Swarm nanosecond count (``5000000000`` -> ``5s``)."""
    if nanoseconds is None:
        return None
    value = int(nanoseconds)
    for unit, size in (("h", 3600 * _NS), ("m", 60 * _NS), ("s", _NS), ("ms", 10**6), ("us", 1000)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return f"{value}ns"


def nano_cpus(value) -> str:
    """CPUs for a NanoCPUs count (``500000000`` -> ``0.5``)."""
    text = format(Decimal(int(value)) / Decimal(_NS), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def escape(value):
    """``value`` with every ``$`` of its strings doubled (no second interpolation)."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [escape(item) for item in value]
    if isinstance(value, dict):
        return {key: escape(item) for key, item in value.items()}
    return value


def short_name(name: str, stack: str) -> str:
    prefix = f"{stack}_"
    return name[len(prefix) :] if name.startswith(prefix) else name


def _own_labels(labels: dict | None) -> dict:
    return {
        k: v
        for k, v in (labels or {}).items()
        if k not in (STACK_LABEL, STACK_IMAGE_LABEL) and not k.startswith("com.docker.stack.")
    }


def _set_fields(source: dict, fields: tuple, into: dict) -> dict:
    """``into`` with ``convert(source[field])`` as ``key``, for each ``(key, field, convert)``
    whose field is set (not empty, not zero) in ``source``."""
    for key, field, convert in fields:
        if source.get(field):
            into[key] = convert(source[field])
    return into


def _healthcheck(check: dict) -> dict:
    test = check.get("Test") or []
    if test[:1] == ["NONE"]:
        return {"disable": True}
    result: dict = {}
    if test:
        result["test"] = list(test)
    return _set_fields(
        check,
        (
            ("interval", "Interval", go_duration),
            ("timeout", "Timeout", go_duration),
            ("start_period", "StartPeriod", go_duration),
            ("start_interval", "StartInterval", go_duration),
            ("retries", "Retries", int),
        ),
        result,
    )


def _mount(mount: dict, stack: str, volumes: dict) -> dict:
    kind = (mount.get("Type") or "volume").lower()
    result: dict = {"type": kind, "target": mount["Target"]}
    if mount.get("ReadOnly"):
        result["read_only"] = True
    source = mount.get("Source")
    if kind == "volume":
        options = mount.get("VolumeOptions") or {}
        if source:
            name = short_name(source, stack)
            result["source"] = name
            spec: dict = {}
            if name == source:
                spec = {"external": True, "name": source}
            else:
                driver = options.get("DriverConfig") or {}
                if driver.get("Name") and driver["Name"] != "local":
                    spec["driver"] = driver["Name"]
                if driver.get("Options"):
                    spec["driver_opts"] = dict(driver["Options"])
                labels = _own_labels(options.get("Labels"))
                if labels:
                    spec["labels"] = labels
            volumes.setdefault(name, spec)
        if options.get("NoCopy"):
            result["volume"] = {"nocopy": True}
    elif kind == "bind":
        result["source"] = source
        propagation = (mount.get("BindOptions") or {}).get("Propagation")
        if propagation:
            result["bind"] = {"propagation": propagation}
    elif kind == "tmpfs":
        options = mount.get("TmpfsOptions") or {}
        tmpfs = _set_fields(options, (("size", "SizeBytes", int), ("mode", "Mode", int)), {})
        if tmpfs:
            result["tmpfs"] = tmpfs
    elif source:
        result["source"] = source
    return result


def _grants(items: list | None, section: str, stack: str) -> list[dict]:
    field = "SecretName" if section == "secrets" else "ConfigName"
    grants = []
    for item in items or []:
        if field not in item:  # a credential spec's config reference, or a runtime grant
            continue
        file = item.get("File") or {}
        grant: dict = {"source": short_name(item[field], stack)}
        if file.get("Name"):
            grant["target"] = file["Name"]
        for key, out in (("UID", "uid"), ("GID", "gid")):
            if file.get(key) not in (None, "", "0"):
                grant[out] = str(file[key])
        if file.get("Mode") is not None and int(file["Mode"]) != 0o444:
            grant["mode"] = int(file["Mode"])
        grants.append(grant)
    return grants


def _update(config: dict | None) -> dict | None:
    if not config:
        return None
    result = {}
    for key, field in (
        ("parallelism", "Parallelism"),
        ("failure_action", "FailureAction"),
        ("max_failure_ratio", "MaxFailureRatio"),
        ("order", "Order"),
    ):
        if config.get(field) not in (None, ""):
            result[key] = config[field]
    _set_fields(
        config, (("delay", "Delay", go_duration), ("monitor", "Monitor", go_duration)), result
    )
    return result or None


def _extra_hosts(hosts: list[str]) -> list[str]:
    """Swarm keeps ``IP host [alias...]`` (hosts-file order); Compose writes ``host=IP``."""
    result = []
    for line in hosts:
        parts = line.split()
        if len(parts) >= 2:
            result.extend(f"{name}={parts[0]}" for name in parts[1:])
        elif ":" in line:  # an older CLI stored host:ip
            result.append(line.replace(":", "=", 1))
    return result


def service_document(spec: dict, stack: str, network_names: dict, volumes: dict) -> dict:
    """One service's compose form from its ``docker service inspect`` Spec."""
    name = spec.get("Name") or "?"
    task = spec.get("TaskTemplate") or {}
    container = task.get("ContainerSpec")
    if not isinstance(container, dict):
        raise LiveStackError(f"service {name}: no TaskTemplate.ContainerSpec (a plugin service?)")
    out: dict = {"image": container.get("Image")}
    if container.get("Command"):
        out["entrypoint"] = list(container["Command"])
    if container.get("Args"):
        out["command"] = list(container["Args"])
    if container.get("Env"):
        out["environment"] = list(container["Env"])
    simple = (
        ("working_dir", "Dir"),
        ("user", "User"),
        ("hostname", "Hostname"),
        ("stop_signal", "StopSignal"),
        ("isolation", "Isolation"),
    )
    for key, field in simple:
        if container.get(field) and not (field == "Isolation" and container[field] == "default"):
            out[key] = container[field]
    for key, field in (("tty", "TTY"), ("stdin_open", "OpenStdin"), ("read_only", "ReadOnly")):
        if container.get(field):
            out[key] = True
    if container.get("Init") is not None:
        out["init"] = bool(container["Init"])
    if container.get("Groups"):
        out["group_add"] = list(container["Groups"])
    labels = _own_labels(container.get("Labels"))
    if labels:
        out["labels"] = labels
    if container.get("StopGracePeriod"):
        out["stop_grace_period"] = go_duration(container["StopGracePeriod"])
    if container.get("Healthcheck"):
        out["healthcheck"] = _healthcheck(container["Healthcheck"])
    if container.get("Hosts"):
        out["extra_hosts"] = _extra_hosts(container["Hosts"])
    dns = container.get("DNSConfig") or {}
    for key, field in (("dns", "Nameservers"), ("dns_search", "Search"), ("dns_opt", "Options")):
        if dns.get(field):
            out[key] = list(dns[field])
    if container.get("Sysctls"):
        out["sysctls"] = dict(container["Sysctls"])
    if container.get("CapabilityAdd"):
        out["cap_add"] = list(container["CapabilityAdd"])
    if container.get("CapabilityDrop"):
        out["cap_drop"] = list(container["CapabilityDrop"])
    if container.get("Ulimits"):
        out["ulimits"] = {
            u["Name"]: (
                int(u["Soft"])
                if u.get("Soft") == u.get("Hard")
                else {"soft": int(u["Soft"]), "hard": int(u["Hard"])}
            )
            for u in container["Ulimits"]
        }
    if container.get("Mounts"):
        out["volumes"] = [_mount(m, stack, volumes) for m in container["Mounts"]]
    for section, field in (("secrets", "Secrets"), ("configs", "Configs")):
        grants = _grants(container.get(field), section, stack)
        if grants:
            out[section] = grants
    log = task.get("LogDriver") or {}
    if log.get("Name"):
        out["logging"] = {"driver": log["Name"]}
        if log.get("Options"):
            out["logging"]["options"] = dict(log["Options"])
    networks = {}
    for attachment in task.get("Networks") or spec.get("Networks") or []:
        target = attachment.get("Target", "")
        full = network_names.get(target) or next(
            (n for i, n in network_names.items() if i.startswith(target) or target.startswith(i)),
            target,
        )
        aliases = [a for a in attachment.get("Aliases") or [] if a != short_name(name, stack)]
        networks[short_name(full, stack)] = {"aliases": aliases} if aliases else {}
    if networks:
        out["networks"] = networks
    endpoint = spec.get("EndpointSpec") or {}
    ports = []
    for port in endpoint.get("Ports") or []:
        entry: dict = {
            "target": int(port["TargetPort"]),
            "protocol": port.get("Protocol") or "tcp",
            "mode": port.get("PublishMode") or "ingress",
        }
        if port.get("PublishedPort"):
            entry["published"] = str(port["PublishedPort"])
        ports.append(entry)
    if ports:
        out["ports"] = ports
    out["deploy"] = _deploy(spec, task, endpoint)
    return out


def _deploy(spec: dict, task: dict, endpoint: dict) -> dict:
    deploy: dict = {}
    mode = spec.get("Mode") or {}
    if "Global" in mode:
        deploy["mode"] = "global"
    elif "ReplicatedJob" in mode:
        job = mode["ReplicatedJob"] or {}
        deploy["mode"] = "replicated-job"
        deploy["replicas"] = int(job.get("TotalCompletions") or job.get("MaxConcurrent") or 1)
    elif "GlobalJob" in mode:
        deploy["mode"] = "global-job"
    else:
        deploy["replicas"] = int(((mode.get("Replicated") or {}).get("Replicas")) or 0)
    if endpoint.get("Mode") == "dnsrr":
        deploy["endpoint_mode"] = "dnsrr"
    labels = _own_labels(spec.get("Labels"))
    if labels:
        deploy["labels"] = labels
    resources = task.get("Resources") or {}
    out_resources = {}
    for key, field in (("limits", "Limits"), ("reservations", "Reservations")):
        given = resources.get(field) or {}
        entry = _set_fields(
            given, (("cpus", "NanoCPUs", nano_cpus), ("memory", "MemoryBytes", int)), {}
        )
        if key == "limits" and given.get("Pids"):
            entry["pids"] = int(given["Pids"])
        if key == "reservations" and given.get("GenericResources"):
            entry["generic_resources"] = [
                {
                    "discrete_resource_spec": {
                        "kind": g["DiscreteResourceSpec"]["Kind"],
                        "value": int(g["DiscreteResourceSpec"]["Value"]),
                    }
                }
                for g in given["GenericResources"]
                if "DiscreteResourceSpec" in g
            ]
        if entry:
            out_resources[key] = entry
    if out_resources:
        deploy["resources"] = out_resources
    restart = task.get("RestartPolicy") or {}
    if restart:
        policy = _set_fields(
            restart,
            (
                ("condition", "Condition", str),
                ("delay", "Delay", go_duration),
                ("max_attempts", "MaxAttempts", int),
                ("window", "Window", go_duration),
            ),
            {},
        )
        if policy:
            deploy["restart_policy"] = policy
    placement = task.get("Placement") or {}
    out_placement: dict = {}
    if placement.get("Constraints"):
        out_placement["constraints"] = sorted(placement["Constraints"])
    preferences = [
        {"spread": p["Spread"]["SpreadDescriptor"]}
        for p in placement.get("Preferences") or []
        if (p.get("Spread") or {}).get("SpreadDescriptor")
    ]
    if preferences:
        out_placement["preferences"] = preferences
    if placement.get("MaxReplicas"):
        out_placement["max_replicas_per_node"] = int(placement["MaxReplicas"])
    if out_placement:
        deploy["placement"] = out_placement
    for key, field in (("update_config", "UpdateConfig"), ("rollback_config", "RollbackConfig")):
        converted = _update(spec.get(field))
        if converted:
            deploy[key] = converted
    return deploy


def stack_document(
    stack: str,
    services: list[dict],
    configs: list[dict] | None = None,
    networks: list[dict] | None = None,
    volumes: list[dict] | None = None,
) -> tuple[dict, list[dict]]:
    """The compose document of ``stack`` and the notes on what it could not recover.

    ``services`` is ``docker service inspect`` of the stack's services;
    ``configs``, ``networks`` and ``volumes`` are the ``inspect`` output of the
    configs, networks and volumes they use (volumes found on this host only).
    """
    if not services:
        raise LiveStackError(f"stack {stack}: no service has label {STACK_LABEL}={stack}")
    notes = [{"key": key, "note": text} for key, text in NOT_KEPT]
    network_names = {n.get("Id") or n.get("ID") or "": n.get("Name", "") for n in networks or []}
    top_volumes: dict = {}
    doc: dict = {"name": stack, "services": {}}
    config_names, secret_names = set(), set()
    for item in sorted(services, key=lambda s: (s.get("Spec") or {}).get("Name", "")):
        spec = item.get("Spec")
        if not isinstance(spec, dict) or not spec.get("Name"):
            raise LiveStackError(f"stack {stack}: a service inspect entry has no Spec.Name")
        name = short_name(spec["Name"], stack)
        service = service_document(spec, stack, network_names, top_volumes)
        doc["services"][name] = service
        config_names.update(g["source"] for g in service.get("configs") or [])
        secret_names.update(g["source"] for g in service.get("secrets") or [])
        platforms = ((spec.get("TaskTemplate") or {}).get("Placement") or {}).get("Platforms")
        if platforms:
            notes.append(
                {
                    "service": name,
                    "key": "deploy.placement.platforms",
                    "note": "Swarm's platform list (from the image manifest) is not converted: "
                    "Kubernetes pulls the node's platform from a multi-arch image",
                }
            )
    contents = {}
    for config in configs or []:
        cspec = config.get("Spec") or {}
        contents[short_name(cspec.get("Name", ""), stack)] = cspec
    top_configs = {}
    for name in sorted(config_names):
        cspec = contents.get(name)
        if cspec is None:
            raise LiveStackError(f"stack {stack}: config {name} was not inspected")
        raw = base64.b64decode(cspec.get("Data") or "")
        try:
            entry: dict = {"content": raw.decode("utf-8")}
        except UnicodeDecodeError:
            entry = {"external": True, "name": cspec.get("Name")}
            notes.append(
                {
                    "key": f"configs.{name}",
                    "note": "binary content: give it in config_values or create the ConfigMap",
                }
            )
        driver = ((cspec.get("Templating") or {}).get("Name")) or None
        if driver:
            entry["template_driver"] = driver
        top_configs[name] = entry
    if top_configs:
        doc["configs"] = top_configs
    if secret_names:
        doc["secrets"] = {name: {"external": True} for name in sorted(secret_names)}
    used_networks = {n for s in doc["services"].values() for n in s.get("networks") or {}}
    top_networks = {}
    for network in networks or []:
        name = short_name(network.get("Name", ""), stack)
        if name not in used_networks:
            continue
        entry = {}
        if network.get("Driver") and network["Driver"] != "overlay":
            entry["driver"] = network["Driver"]
        for key in ("Attachable", "Internal"):
            if network.get(key):
                entry[key.lower()] = True
        labels = _own_labels(network.get("Labels"))
        if labels:
            entry["labels"] = labels
        if name == network.get("Name") and name != "default":
            entry = {"external": True, "name": name}
        top_networks[name] = entry
    for name in sorted(used_networks - set(top_networks)):
        top_networks[name] = {"external": True}
    if top_networks:
        doc["networks"] = top_networks
    on_host = {v.get("Name"): v for v in volumes or []}
    for name, spec in top_volumes.items():
        full = spec.get("name") or f"{stack}_{name}"
        found = on_host.get(full)
        if found:
            labels = _own_labels(found.get("Labels"))
            if labels:
                spec.setdefault("labels", labels)
        notes.append(
            {
                "key": f"volumes.{name}",
                "note": f"the data of volume {full} stays on the Swarm nodes"
                + (f" (on this manager: {found.get('Mountpoint')})" if found else "")
                + ": copy it into the claim before the cut-over",
            }
        )
    if top_volumes:
        doc["volumes"] = dict(sorted(top_volumes.items()))
    return escape(doc), notes


def node_summary(node: dict) -> dict:
    """What the labels step needs of one ``docker node inspect`` entry."""
    spec = node.get("Spec") or {}
    description = node.get("Description") or {}
    platform = description.get("Platform") or {}
    return {
        "id": node.get("ID"),
        "hostname": description.get("Hostname"),
        "role": spec.get("Role"),
        "availability": spec.get("Availability"),
        "state": (node.get("Status") or {}).get("State"),
        "labels": dict(spec.get("Labels") or {}),
        "engine_labels": dict((description.get("Engine") or {}).get("Labels") or {}),
        "platform": {"os": platform.get("OS"), "architecture": platform.get("Architecture")},
    }


def running_tasks(tasks: list[dict], stack: str) -> dict[str, list[dict]]:
    """Per service (short name), the live tasks ``docker stack ps --format '{{json .}}'`` shows.

    A task is live when Swarm wants it running (DesiredState Running), whatever its current state:
    a Starting, Preparing or restarting task is about to receive traffic too.
    """
    result: dict[str, list[dict]] = {}
    for task in tasks:
        if str(task.get("DesiredState", "")).strip().lower() != "running":
            continue
        service = short_name(str(task.get("Name", "")).rsplit(".", 1)[0], stack)
        result.setdefault(service, []).append(
            {"name": task.get("Name"), "node": task.get("Node"), "ports": task.get("Ports") or ""}
        )
    return result
