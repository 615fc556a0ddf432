# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A merged compose project (``project.Project``) turned into Kubernetes objects and a report.

``convert(project, options)`` returns a ``Conversion``: the objects in a stable
order (same input, same bytes) and the migration report (``report.py``).
What each Compose key becomes is documented in docs/migrate-swarm.md; the
decisions that are not obvious are commented where they are made.

Choices the compose file cannot make are the caller's (``ConvertOptions``):
the namespace, the storage class and size of claims, which services become
StatefulSets, LoadBalancer Services and their ACK SLB annotations, the
mapping from Swarm node labels and host names to Kubernetes ones, what a bind
mount becomes, secret and config values, and the image of the init containers
that wait for dependencies.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import posixpath
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm import units
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.interpolation import (
    parse_dotenv,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.label_keys import (
    label_key,
    normalise_label_map,
    valid_key,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.model import (
    FileModel,
    parse_constraint,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.project import (
    Project,
    load_project,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.report import (
    KeyReport,
    build_report,
)

MANAGED_BY = "ackops-runbooks"
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
SOURCE_ANNOTATION = "ackops.io/compose-service"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
ACK_SLB = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-"
ACK_SLB_OPTIONS = {
    "address_type": "address-type",
    "spec": "spec",
    "id": "id",
    "force_override_listeners": "force-override-listeners",
    "charge_type": "charge-type",
    "vswitch_id": "vswitch-id",
}
# Sysctls the kubelet allows without --allowed-unsafe-sysctls (Kubernetes 1.37).
SAFE_SYSCTLS = frozenset(
    [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    ]
)
# Swarm expands Go templates in env values: whole-value placeholders the downward API can give.
SWARM_TEMPLATE = re.compile(r"\{\{\s*(\.[A-Za-z.]+)\s*\}\}")
SWARM_TEMPLATE_FIELDS = {".Node.Hostname": "spec.nodeName", ".Task.Name": "metadata.name"}
# Keys docker stack deploy ignores that the converter still converts as Compose means them.
SWARM_IGNORED_BUT_CONVERTED = ("privileged", "security_opt", "network_mode")
ARCHITECTURES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "arm": "arm",
    "s390x": "s390x",
    "ppc64le": "ppc64le",
}
KIND_ORDER = (
    "Namespace",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "NetworkPolicy",
)
BIND_CHOICES = ("hostPath", "configMap", "persistentVolumeClaim", "emptyDir")
CONFIGMAP_LIMIT = 1024 * 1024
MAX_PORT_RANGE = 100
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DATA_KEY = re.compile(r"[^-._a-zA-Z0-9]")

# Keys the conversion reads in one place; every other service key reports itself.
_NO_FIELD = {
    "blkio_config": "block I/O weights and limits have no pod field",
    "cgroup": "the cgroup namespace mode has no pod field",
    "cgroup_parent": "the kubelet places pods in its own cgroups",
    "cpu_count": "Windows-only CPU count has no pod field",
    "cpu_percent": "Windows-only CPU share has no pod field",
    "cpu_period": "CFS period has no pod field",
    "cpu_quota": "CFS quota is expressed as a CPU limit",
    "cpu_rt_period": "real-time scheduling has no pod field",
    "cpu_rt_runtime": "real-time scheduling has no pod field",
    "cpu_shares": "CPU shares follow from CPU requests",
    "cpuset": "CPU pinning is the kubelet's CPU manager policy, not a pod field",
    "credential_spec": "Windows gMSA credential specs need pod securityContext.windowsOptions",
    "device_cgroup_rules": "device cgroup rules have no pod field",
    "devices": "host devices are given to pods by a device plugin",
    "gpus": "GPUs are requested as a device plugin resource (nvidia.com/gpu)",
    "group_add": "supplementalGroups takes numbers; names in the image's /etc/group cannot be looked up",
    "isolation": "Windows isolation modes have no pod field",
    "mac_address": "pods get addresses from the CNI plugin",
    "mem_swappiness": "swap behaviour is a kubelet setting",
    "memswap_limit": "swap limits are a kubelet setting",
    "oom_kill_disable": "the kubelet's OOM handling cannot be disabled per pod",
    "oom_score_adj": "the kubelet sets the OOM score from the QoS class",
    "pids_limit": "the PID limit is the kubelet's podPidsLimit, per node",
    "runtime": "the runtime is chosen with a RuntimeClass",
    "storage_opt": "storage driver options have no pod field",
    "userns_mode": "user namespaces are pod spec.hostUsers, with different semantics",
    "uts": "the UTS namespace is not shareable with the host",
    "volumes_from": "pods share volumes by naming them in each container",
    "attach": "attaching to logs is a Compose CLI behaviour",
    "develop": "Compose Watch is a development feature",
    "label_file": "labels are read from files by the Compose CLI only",
    "post_start": "lifecycle.postStart runs a command, but not as another user or with privileges",
    "pre_stop": "lifecycle.preStop runs a command, but not as another user or with privileges",
    "provider": "provider services are a Compose CLI feature",
    "models": "AI models are a Compose CLI feature",
    "use_api_socket": "there is no Docker API socket on Kubernetes nodes",
    "pull_refresh_after": "image refresh intervals have no pod field",
}
_SWARM_IGNORES = {
    "build": "Swarm deploys images; build and push the image, the Deployment uses 'image'",
    "container_name": "Swarm names tasks itself; Kubernetes names pods",
    "restart": "Swarm uses deploy.restart_policy",
    "links": "Swarm services find each other by name: Kubernetes Service names do the same",
    "external_links": "link to the external service's Kubernetes Service or an ExternalName Service",
}


@dataclass
class ConvertOptions:
    """What the caller decides; see the swarm_compose_convert module for each option."""

    namespace: str | None = None
    create_namespace: bool = False
    statefulsets: list[str] = field(default_factory=list)
    statefulset_for_named_volumes: bool = False
    storage_class: str | None = None
    volume_size: str = "10Gi"
    volume_claims: dict[str, dict] = field(default_factory=dict)
    load_balancer: dict[str, Any] = field(default_factory=dict)
    node_port_range: tuple[int, int] = (30000, 32767)
    label_map: dict[str, str] = field(default_factory=dict)
    node_names: dict[str, str] = field(default_factory=dict)
    node_labels: dict[str, list[str]] | None = None
    bind_mounts: dict[str, dict] = field(default_factory=dict)
    network_policies: bool = False
    wait_image: str = "busybox:1.36"
    secret_values: dict[str, str] = field(default_factory=dict)
    config_values: dict[str, str] = field(default_factory=dict)


@dataclass
class Conversion:
    objects: list[dict]
    report: dict
    secrets: list[str]


def k8s_name(name: str, suffix: str = "", limit: int = 63) -> str:
    """A DNS-1123 label from a compose name (``my_db`` -> ``my-db``), at most ``limit`` characters."""
    base = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    base = re.sub(r"-{2,}", "-", base)
    tail = f"-{suffix}" if suffix else ""
    if len(base) + len(tail) > limit:
        digest = hashlib.sha256(name.encode()).hexdigest()[:6]
        base = base[: limit - len(tail) - 7].rstrip("-") + "-" + digest
    return base + tail


def service_name(name: str) -> str:
    """The name of a compose service's Service and workload: a DNS-1035 label (starts with a letter)."""
    result = k8s_name(name)
    return k8s_name(f"s-{name}") if result[:1].isdigit() else result


def _seconds(value: Any) -> Fraction:
    return units.duration(value)


class _Stack:
    """State shared by the services of one conversion."""

    def __init__(self, project: Project, options: ConvertOptions):
        self.project = project
        self.options = options
        self.objects: list[dict] = []
        self.report = KeyReport()
        self.names = {}
        self.claims_used: dict[str, list[str]] = {}
        self.secret_names: list[str] = []
        self.statefulset_volumes: dict[str, set[str]] = {}
        owners: dict[str, str] = {}
        for service in project.services:
            name = service_name(service)
            if not name:
                raise project.error("gives no usable Kubernetes name", service, None, service)
            clash = owners.setdefault(name, service)
            if clash != service:
                raise project.error(
                    f"becomes the Kubernetes name {name!r}, as service {clash!r} does; rename one",
                    service,
                    None,
                    service,
                )
            self.names[service] = name

    def meta(self, name: str, labels: dict | None = None, annotations: dict | None = None) -> dict:
        meta: dict[str, Any] = {"name": name}
        if self.options.namespace:
            meta["namespace"] = self.options.namespace
        meta["labels"] = {
            INSTANCE_LABEL: self.project.name,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            **(labels or {}),
        }
        if annotations:
            meta["annotations"] = dict(sorted(annotations.items()))
        return meta

    def selector(self, service: str) -> dict:
        return {NAME_LABEL: self.names[service], INSTANCE_LABEL: self.project.name}

    def add(self, obj: dict) -> None:
        self.objects.append(obj)

    def file_dir(self, service: str | None, key: str | None) -> str:
        origin = self.project.origin(service, key)
        return self.project.file_dirs.get(origin, self.project.directory)


def convert(project: Project, options: ConvertOptions | None = None) -> Conversion:
    """Every active service and the stack's top-level resources, converted."""
    options = options or ConvertOptions()
    _check_options(project, options)
    stack = _Stack(project, options)
    if options.namespace and options.create_namespace:
        stack.add(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": options.namespace, "labels": {INSTANCE_LABEL: project.name}},
            }
        )
    _configs(stack)
    _secrets(stack)
    services = {}
    for service in project.services:
        services[service] = _ServiceConverter(stack, service).run()
    _claims(stack)
    _networks(stack)
    objects = sorted(
        stack.objects,
        key=lambda o: (
            KIND_ORDER.index(o["kind"]),
            o["metadata"].get("namespace") or "",
            o["metadata"]["name"],
        ),
    )
    seen = set()
    for obj in objects:
        ref = (obj["kind"], obj["metadata"]["name"])
        if ref in seen:
            raise ComposeError(
                f"two objects would both be {obj['kind']} {obj['metadata']['name']}; rename a service, "
                "volume, config or secret",
                file=project.files[-1],
            )
        seen.add(ref)
    report = build_report(project, services, stack.report, objects)
    return Conversion(objects=objects, report=report, secrets=stack.secret_names)


def _check_options(project: Project, options: ConvertOptions) -> None:
    def bad(reason, key, value):
        return ComposeError(reason, file="<options>", key=key, value=value)

    if options.namespace and not _DNS_LABEL.match(options.namespace):
        raise bad("is not a namespace name (DNS label)", "namespace", options.namespace)
    for service in options.statefulsets:
        if service not in project.services:
            raise bad("is not a service of the project", "statefulsets", service)
    first, last = options.node_port_range
    if not 1 <= first <= last <= 65535:
        raise bad("is not a port range", "node_port_range", f"{first}-{last}")
    for volume, claim in options.volume_claims.items():
        if volume not in project.volumes:
            raise bad("is not a volume of the project", "volume_claims", volume)
        if not isinstance(claim, dict):
            raise bad(
                "must be a mapping (storage_class, size, access_modes)",
                f"volume_claims.{volume}",
                claim,
            )
    for where, choice in options.bind_mounts.items():
        if not isinstance(choice, dict) or choice.get("type") not in BIND_CHOICES:
            raise bad(
                f"must be a mapping whose type is one of {', '.join(BIND_CHOICES)}",
                f"bind_mounts.{where}",
                choice,
            )
        if choice["type"] == "persistentVolumeClaim" and not choice.get("claim_name"):
            raise bad("needs claim_name", f"bind_mounts.{where}", choice)
    lb_services = options.load_balancer.get("services", [])
    if isinstance(lb_services, str) and lb_services != "all":
        raise bad("must be a list of services or 'all'", "load_balancer.services", lb_services)
    if lb_services != "all":
        for service in lb_services or []:
            if service not in project.services:
                raise bad("is not a service of the project", "load_balancer.services", service)
    for key in options.load_balancer.get("options") or {}:
        if key not in ACK_SLB_OPTIONS:
            raise bad(f"is not one of {', '.join(ACK_SLB_OPTIONS)}", "load_balancer.options", key)
    for name, value in options.secret_values.items():
        if not isinstance(value, (str, bytes)):
            raise ComposeError(
                "must be a string", file="<options>", key=f"secret_values.{name}", value=None
            )


# -- top-level configs and secrets ---------------------------------------------------------


def _read_source(stack: _Stack, section: str, name: str, spec: dict) -> tuple[bytes | None, str]:
    """The content of a config or secret and where it came from; (None, why) without one."""
    supplied = (
        stack.options.config_values if section == "configs" else stack.options.secret_values
    ).get(name)
    if supplied is not None:
        return (
            supplied.encode() if isinstance(supplied, str) else supplied
        ), f"{section[:-1]}_values"
    if spec.get("content") is not None:
        return spec["content"].encode(), "content"
    if spec.get("environment") is not None and section == "secrets":
        # The variables are module arguments, which Ansible shows (-vvv) and logs: a secret's
        # value is taken from secret_values (no_log) only.
        return None, (
            f"environment {spec['environment']}: secret values are taken from "
            "secret_values only, never from the variables (those are logged)"
        )
    if spec.get("environment") is not None:
        value = stack.project.variables.get(spec["environment"])
        if value is None:
            return None, f"variable {spec['environment']} is not set"
        return value.encode(), "environment"
    if spec.get("file") is not None:
        path = os.path.join(stack.project.directory, spec["file"])
        try:
            with open(path, "rb") as handle:
                return handle.read(), "file"
        except OSError:
            if section == "configs":
                raise ComposeError(
                    f"names a file that cannot be read ({path}); give its content in config_values",
                    file=stack.project.files[0],
                    key=f"configs.{name}.file",
                    value=spec["file"],
                ) from None
            return None, f"file {spec['file']} cannot be read"
    return None, "no source"


def _data(name: str, content: bytes) -> tuple[str, dict]:
    key = _DATA_KEY.sub("-", name) or "data"
    try:
        return "data", {key: content.decode("utf-8")}
    except UnicodeDecodeError:
        return "binaryData", {key: base64.b64encode(content).decode()}


def config_object_name(project: Project, name: str) -> str:
    spec = project.configs.get(name) or project.secrets.get(name) or {}
    return k8s_name(spec.get("name") or name) if spec.get("external") else k8s_name(name)


def _configs(stack: _Stack) -> None:
    used = {g["source"] for s in stack.project.services.values() for g in s.get("configs") or []}
    for name in sorted(stack.project.configs):
        spec = stack.project.configs[name]
        key = f"configs.{name}"
        cm_name = config_object_name(stack.project, name)
        if spec.get("external") and name not in stack.options.config_values:
            stack.report.lossy(
                key,
                f"ConfigMap {cm_name} (not created)",
                "external: Swarm holds it; it is not in the compose file",
                f"create ConfigMap {cm_name} with its content (docker config inspect), "
                "or give config_values",
                behaviour_change=name in used,
            )
            continue
        content, source = _read_source(stack, "configs", name, spec)
        if content is None:
            raise ComposeError(f"has no content ({source})", file=stack.project.files[0], key=key)
        if len(content) > CONFIGMAP_LIMIT:
            raise ComposeError(
                "is larger than a ConfigMap can hold (1 MiB)", file=stack.project.files[0], key=key
            )
        field_name, data = _data(name, content)
        stack.add(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": stack.meta(cm_name, annotations={"ackops.io/compose-config": name}),
                field_name: data,
            }
        )
        if spec.get("template_driver"):
            stack.report.lossy(
                key,
                f"ConfigMap {cm_name} (from {source})",
                f"template_driver {spec['template_driver']}: Swarm rendered the content per task; "
                "the ConfigMap holds the template as written",
                "render the values into the content before the deploy",
                behaviour_change=name in used,
            )
            continue
        stack.report.converted(key, f"ConfigMap {cm_name} (from {source})")


def _secrets(stack: _Stack) -> None:
    used = {g["source"] for s in stack.project.services.values() for g in s.get("secrets") or []}
    for name in sorted(stack.project.secrets):
        spec = stack.project.secrets[name]
        key = f"secrets.{name}"
        secret_name = config_object_name(stack.project, name)
        supplied = name in stack.options.secret_values
        if spec.get("external") and not supplied:
            stack.report.lossy(
                key,
                f"Secret {secret_name} (not created)",
                "external: its value cannot be read back from Swarm",
                f"create Secret {secret_name} (key {_DATA_KEY.sub('-', name)}) from your vault, or give secret_values",
                behaviour_change=name in used,
            )
            continue
        content, source = _read_source(stack, "secrets", name, {**spec, "external": False})
        if content is None:
            stack.report.unconvertible(
                key,
                f"no value: {source}",
                f"give secret_values.{name} (from a vault); Secret {secret_name} is not invented",
                behaviour_change=name in used,
            )
            continue
        encoded = {_DATA_KEY.sub("-", name) or "data": base64.b64encode(content).decode()}
        stack.add(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": stack.meta(secret_name, annotations={"ackops.io/compose-secret": name}),
                "data": encoded,
            }
        )
        stack.secret_names.append(secret_name)
        stack.report.converted(key, f"Secret {secret_name} (value from {source})")


# -- volumes and networks of the stack -------------------------------------------------------


def claim_name(project: Project, volume: str) -> str:
    spec = project.volumes.get(volume) or {}
    if spec.get("external"):
        return k8s_name(spec.get("name") or volume)
    return k8s_name(volume)


def _claims(stack: _Stack) -> None:
    options = stack.options
    for volume in sorted(stack.project.volumes):
        spec = stack.project.volumes[volume]
        key = f"volumes.{volume}"
        users = stack.claims_used.get(volume, [])
        name = claim_name(stack.project, volume)
        if spec.get("external"):
            stack.report.lossy(
                key,
                f"PersistentVolumeClaim {name} (not created)",
                "external: the Swarm volume and its data stay on the Swarm nodes",
                f"create PersistentVolumeClaim {name} and copy the data into it",
                behaviour_change=bool(users),
            )
            continue
        templates = sorted(s for s, vols in stack.statefulset_volumes.items() if volume in vols)
        if templates:
            stack.report.converted(key, f"volumeClaimTemplates of {', '.join(templates)}")
        if not users:
            if not templates:
                stack.report.converted(key, "nothing: no active service mounts it")
            continue
        claim = options.volume_claims.get(volume, {})
        modes = claim.get("access_modes") or ["ReadWriteOnce"]
        size = claim.get("size") or options.volume_size
        storage_class = claim.get("storage_class", options.storage_class)
        pvc_spec: dict[str, Any] = {
            "accessModes": list(modes),
            "resources": {"requests": {"storage": size}},
        }
        if storage_class:
            pvc_spec["storageClassName"] = storage_class
        stack.add(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": stack.meta(name, annotations={"ackops.io/compose-volume": volume}),
                "spec": pvc_spec,
            }
        )
        lost = [
            "Swarm's local volume data is not copied: copy it into the claim before cut-over",
            f"the size {size} is chosen here (Swarm volumes have none)",
        ]
        if spec.get("driver") not in (None, "local") or spec.get("driver_opts"):
            lost.append(
                f"driver {spec.get('driver') or 'local'} with options {sorted(spec.get('driver_opts') or {})} "
                "is replaced by the storage class (NFS: an ACK NAS class)"
            )
        shared = len(users) > 1 and "ReadWriteMany" not in modes
        if shared:
            lost.append(
                f"{len(users)} pods of {', '.join(sorted(set(users)))} share a ReadWriteOnce claim: "
                "they can only run on one node"
            )
        stack.report.lossy(
            key,
            f"PersistentVolumeClaim {name} ({', '.join(modes)}, {size}, "
            f"class {storage_class or 'cluster default'})",
            "; ".join(lost),
            "use a ReadWriteMany (NAS) class for shared data" if shared else None,
            behaviour_change=shared,
        )


def _service_networks(spec: dict) -> set[str]:
    if (spec.get("network_mode") or "").startswith(("host", "service:", "container:", "none")):
        return set()
    return set(spec.get("networks") or {"default": {}})


def _networks(stack: _Stack) -> None:
    project = stack.project
    declared = dict(project.networks)
    joined = {service: _service_networks(spec) for service, spec in project.services.items()}
    by_network: dict[str, list[str]] = {}
    for service, networks in joined.items():
        for network in networks:
            by_network.setdefault(network, []).append(service)
    used = set(by_network)
    if "default" in used:
        declared.setdefault("default", {})
    policies = stack.options.network_policies
    for network in sorted(declared):
        spec = declared[network] or {}
        key = f"networks.{network}"
        members = sorted(by_network.get(network, []))
        lost = "pods share one flat network: every pod can reach every other"
        if policies:
            stack.report.converted(
                key, f"NetworkPolicies allow traffic between {', '.join(members) or 'no service'}"
            )
        else:
            stack.report.lossy(
                key,
                "flat pod network",
                lost,
                "set network_policies to isolate services that share no network",
            )
        if spec.get("internal"):
            stack.report.unconvertible(
                f"{key}.internal",
                "pods on it can reach the outside world",
                "add an egress NetworkPolicy that allows only in-cluster traffic",
                behaviour_change=True,
            )
        if spec.get("external"):
            stack.report.lossy(
                f"{key}.external",
                "flat pod network",
                "services outside this stack reached through it must be reachable from the pod network",
                "check VPC routing / security groups for those services",
            )
        if spec.get("ipam") or spec.get("driver_opts"):
            stack.report.unconvertible(
                f"{key}.ipam",
                "pod addresses come from the cluster's pod CIDR",
                "clients that relied on fixed addresses must use the Service names",
            )
    if not policies:
        return
    peers_of: dict[frozenset, list[str]] = {}
    for service, spec in project.services.items():
        networks = frozenset(joined[service])
        if not networks:
            continue
        if networks not in peers_of:
            peers_of[networks] = sorted({stack.names[s] for n in networks for s in by_network[n]})
        peers = list(peers_of[networks])
        rules: list[dict] = [
            {
                "from": [
                    {
                        "podSelector": {
                            "matchLabels": {INSTANCE_LABEL: project.name},
                            "matchExpressions": [
                                {"key": NAME_LABEL, "operator": "In", "values": peers}
                            ],
                        }
                    }
                ]
            }
        ]
        published = sorted({(p["target"], p["protocol"]) for p in spec.get("ports") or []})
        if published:
            rules.append(
                {"ports": [{"port": port, "protocol": proto.upper()} for port, proto in published]}
            )
        stack.add(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": stack.meta(
                    stack.names[service], labels={NAME_LABEL: stack.names[service]}
                ),
                "spec": {
                    "podSelector": {"matchLabels": stack.selector(service)},
                    "policyTypes": ["Ingress"],
                    "ingress": rules,
                },
            }
        )


class _ServiceConverter:
    """One service: its workload, Services and report entries."""

    def __init__(self, stack: _Stack, service: str):
        self.stack = stack
        self.project = stack.project
        self.options = stack.options
        self.service = service
        self.spec = stack.project.services[service]
        self.name = stack.names[service]
        self.report = KeyReport()
        self.container: dict[str, Any] = {"name": self.name, "image": self.spec["image"]}
        self.pod: dict[str, Any] = {}
        self.pod_annotations: dict[str, str] = {}
        self.workload_annotations: dict[str, str] = {SOURCE_ANNOTATION: service}
        self.workload: dict[str, Any] = {}
        self.volumes: list[dict] = []
        self.mounts: list[dict] = []
        self.claim_templates: list[dict] = []
        self.affinity_terms: list[dict] = []
        self.tolerations: list[dict] = []
        self.spread: list[dict] = []
        self.deploy = self.spec.get("deploy") or {}
        self.kind = self._kind()

    # -- helpers ---------------------------------------------------------------------------
    def error(self, reason, key, value=None):
        return self.project.error(reason, self.service, key, value)

    def security(self) -> dict:
        return self.container.setdefault("securityContext", {})

    def pod_security(self) -> dict:
        return self.pod.setdefault("securityContext", {})

    def _kind(self) -> str:
        mode = self.deploy.get("mode", "replicated")
        if mode == "global":
            return "DaemonSet"
        if mode == "replicated-job":
            return "Job"
        if mode == "global-job":
            return "none"
        named = [
            v
            for v in self.spec.get("volumes") or []
            if v["type"] == "volume"
            and v.get("source")
            and not (self.project.volumes.get(v["source"]) or {}).get("external")
        ]
        if self.service in self.options.statefulsets or (
            self.options.statefulset_for_named_volumes and named
        ):
            return "StatefulSet"
        return "Deployment"

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> dict:
        self.report.converted(
            "image", f"{self.kind} container {self.name} image {self.spec['image']}"
        )
        if self.name != self.service:
            self.report.lossy(
                "name",
                f"Kubernetes name {self.name}",
                f"{self.service!r} is not a DNS name Kubernetes accepts: clients that call "
                f"{self.service!r} must call {self.name!r}",
                "rename the service in the compose file, or update the clients",
                behaviour_change=True,
            )
        handled = {
            "image",
            "deploy",
            "ports",
            "expose",
            "scale",
            "environment",
            "env_file",
            "networks",
            "cpus",
            "mem_limit",
            "mem_reservation",
            "extends",
            "profiles",
            "labels",
            "annotations",
        }
        for key, value in self.spec.items():
            if key in handled or value is None:
                continue
            handler = getattr(self, f"key_{key}", None)
            if handler is not None:
                handler(value)
            elif key in _SWARM_IGNORES:
                self.report.unconvertible(
                    key,
                    f"docker stack deploy ignores it: {_SWARM_IGNORES[key]}",
                    "nothing to migrate",
                )
            elif key in _NO_FIELD:
                self.report.unconvertible(
                    key, _NO_FIELD[key], "review whether the workload needs it on Kubernetes"
                )
        self._environment()
        for entry in self.report.entries:
            if entry["key"].split("[", 1)[0] in SWARM_IGNORED_BUT_CONVERTED and entry["status"] != (
                "not_convertible"
            ):
                note = "docker stack deploy ignores this key: on Swarm the tasks ran without it"
                entry["lost"] = f"{entry['lost']}; {note}" if entry["lost"] else note
                entry["behaviour_change"] = True
        self._host_network()
        self._metadata_keys()
        self._deploy_keys()
        self._resources()
        if "healthcheck" not in self.spec:
            self.report.lossy(
                "healthcheck",
                "no probes",
                "a HEALTHCHECK built into the image is ignored by Kubernetes: no readiness gate, "
                "no restart when unhealthy",
                "add a healthcheck to the service (it becomes probes)",
                behaviour_change=True,
            )
        if "extends" in self.project.origins.get(self.service, {}):
            self.report.converted("extends", "merged into the service")
        if self.spec.get("profiles"):
            self.report.converted(
                "profiles", f"converted: a profile {self.spec['profiles']} is active"
            )
        services = self._services()
        self._network_notes()
        if self.kind == "none":
            self.report.unconvertible(
                "deploy.mode",
                "global-job: one run-to-completion task per node",
                "run a Job per node (nodeName) or a DaemonSet whose pods sleep after the work",
                behaviour_change=True,
            )
            return {
                "kind": "none",
                "name": self.name,
                "services": services,
                "entries": self.report.entries,
            }
        self.stack.add(self._workload())
        return {
            "kind": self.kind,
            "name": self.name,
            "services": services,
            "entries": self.report.entries,
        }

    # -- workload ----------------------------------------------------------------------------
    def _workload(self) -> dict:
        container = dict(self.container)
        if self.mounts:
            container["volumeMounts"] = self.mounts
        self._check_mounts()
        pod = {**self.pod, "containers": [container]}
        if not pod.get("initContainers"):
            pod.pop("initContainers", None)
        if self.volumes:
            pod["volumes"] = self.volumes
        affinity = {}
        if self.affinity_terms:
            affinity["nodeAffinity"] = {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": self.affinity_terms}]
                }
            }
        if self.pod.get("affinity"):
            affinity.update(self.pod["affinity"])
        if affinity:
            pod["affinity"] = affinity
        if self.tolerations:
            pod["tolerations"] = self.tolerations
        if self.spread:
            pod["topologySpreadConstraints"] = self.spread
        selector = self.stack.selector(self.service)
        template_meta: dict[str, Any] = {"labels": dict(selector)}
        if self.pod_annotations:
            template_meta["annotations"] = dict(sorted(self.pod_annotations.items()))
        template = {"metadata": template_meta, "spec": pod}
        spec: dict[str, Any] = {}
        if self.kind == "Job":
            pod.setdefault("restartPolicy", "Never")
            spec = {**self.workload, "template": template}
        else:
            spec = {**self.workload, "selector": {"matchLabels": selector}, "template": template}
        if self.kind == "StatefulSet":
            spec["serviceName"] = self.name
            if self.claim_templates:
                spec["volumeClaimTemplates"] = self.claim_templates
        api = "batch/v1" if self.kind == "Job" else "apps/v1"
        return {
            "apiVersion": api,
            "kind": self.kind,
            "metadata": self.stack.meta(
                self.name, labels={NAME_LABEL: self.name}, annotations=self.workload_annotations
            ),
            "spec": spec,
        }

    def _host_network(self):
        """Swarm's way to host networking: attaching to the external network named host."""
        for network in self.spec.get("networks") or {}:
            spec = self.project.networks.get(network) or {}
            if spec.get("external") and (spec.get("name") or network) == "host":
                self.pod["hostNetwork"] = True
                self.pod["dnsPolicy"] = "ClusterFirstWithHostNet"
                self.report.converted(
                    f"networks.{network}", "hostNetwork true, dnsPolicy ClusterFirstWithHostNet"
                )

    def _volume_name(self, base: str) -> str:
        """A pod volume name not used yet in this pod (the same config mounted twice)."""
        taken = {v["name"] for v in self.volumes} | {m["name"] for m in self.mounts}
        name = k8s_name(base) or "volume"
        number = 2
        while name in taken:
            name = k8s_name(base, str(number))
            number += 1
        return name

    def _check_mounts(self):
        seen: dict[str, str] = {}
        for mount in self.mounts:
            path = mount["mountPath"].rstrip("/") or "/"
            if path in seen:
                raise self.error(
                    f"mounts two things at {path} ({seen[path]} and {mount['name']})",
                    "volumes",
                    path,
                )
            seen[path] = mount["name"]

    # -- container keys ------------------------------------------------------------------------
    def key_command(self, value):
        self._replace_image_default("command", "args", "CMD", value)

    def key_entrypoint(self, value):
        self._replace_image_default("entrypoint", "command", "ENTRYPOINT", value)

    def _replace_image_default(self, key: str, field: str, instruction: str, value: list[str]):
        if value == []:
            self.report.lossy(
                key,
                f"{field} not set",
                f"an empty {key} cannot be expressed: the image's {instruction} runs",
                f"give the {key} explicitly",
                behaviour_change=True,
            )
            return
        self.container[field] = [kubernetes_literal(word) for word in value]
        self.report.converted(key, f"{field} {value}")

    def key_working_dir(self, value):
        self.container["workingDir"] = value
        self.report.converted("working_dir", f"workingDir {value}")

    def key_user(self, value):
        user, _colon, group = value.partition(":")
        if not user.isdigit() or (group and not group.isdigit()):
            self.report.unconvertible(
                "user",
                f"{value!r}: Kubernetes takes numeric user and group ids only",
                "use the numeric ids of that user in the image (id -u / id -g)",
                behaviour_change=True,
            )
            return
        self.security()["runAsUser"] = int(user)
        if group:
            self.security()["runAsGroup"] = int(group)
        self.report.converted(
            "user", f"securityContext.runAsUser {user}" + (f", runAsGroup {group}" if group else "")
        )

    def key_tty(self, value):
        self.container["tty"] = value
        self.report.converted("tty", f"tty {str(value).lower()}")

    def key_stdin_open(self, value):
        self.container["stdin"] = value
        self.report.converted("stdin_open", f"stdin {str(value).lower()}")

    def key_read_only(self, value):
        self.security()["readOnlyRootFilesystem"] = value
        self.report.converted(
            "read_only", f"securityContext.readOnlyRootFilesystem {str(value).lower()}"
        )

    def key_privileged(self, value):
        self.security()["privileged"] = value
        if value:
            self.report.converted(
                "privileged",
                "securityContext.privileged true",
                note="the namespace's Pod Security level must be privileged",
            )
        else:
            self.report.converted("privileged", "securityContext.privileged false")

    def key_cap_add(self, value):
        caps = [c.upper().removeprefix("CAP_") for c in value]
        self.security().setdefault("capabilities", {})["add"] = caps
        self.report.converted("cap_add", f"securityContext.capabilities.add {caps}")

    def key_cap_drop(self, value):
        caps = [c.upper().removeprefix("CAP_") for c in value]
        self.security().setdefault("capabilities", {})["drop"] = caps
        self.report.converted("cap_drop", f"securityContext.capabilities.drop {caps}")

    def key_init(self, value):
        if not value:
            self.report.converted("init", "nothing (init: false)")
            return
        self.pod["shareProcessNamespace"] = True
        self.report.lossy(
            "init",
            "shareProcessNamespace true (the pause process reaps zombies as PID 1)",
            "signals are not forwarded by an init; the containers of the pod see each other's processes",
            "or add tini to the image as its ENTRYPOINT",
        )

    def key_sysctls(self, value):
        sysctls = [{"name": k, "value": v if v is not None else ""} for k, v in value.items()]
        self.pod_security()["sysctls"] = sysctls
        unsafe = sorted(k for k in value if k not in SAFE_SYSCTLS)
        if unsafe:
            self.report.lossy(
                "sysctls",
                f"securityContext.sysctls {sorted(value)}",
                f"{', '.join(unsafe)} are unsafe sysctls: the kubelet rejects the pod",
                "allow them with the kubelet's --allowed-unsafe-sysctls on the node pool",
                behaviour_change=True,
            )
        else:
            self.report.converted("sysctls", f"securityContext.sysctls {sorted(value)}")

    def key_ulimits(self, value):
        self.report.unconvertible(
            "ulimits",
            f"{sorted(value)}: Kubernetes has no per-pod ulimits",
            "raise them in the container runtime's defaults on the nodes, or run "
            "'ulimit' in the entrypoint (needs CAP_SYS_RESOURCE to raise hard limits)",
            behaviour_change=True,
        )

    def key_stop_grace_period(self, value):
        try:
            seconds = _seconds(value)
        except units.UnitError as exc:
            raise self.error(str(exc), "stop_grace_period", value) from None
        whole, rounded = units.whole_seconds(seconds)
        self.pod["terminationGracePeriodSeconds"] = whole
        if rounded:
            self.report.lossy(
                "stop_grace_period",
                f"terminationGracePeriodSeconds {whole}",
                f"{value} rounded up to whole seconds",
            )
        else:
            self.report.converted("stop_grace_period", f"terminationGracePeriodSeconds {whole}")

    def key_stop_signal(self, value):
        signal = value.upper()
        if not signal.startswith("SIG"):
            signal = f"SIG{signal}"
        self.container.setdefault("lifecycle", {})["stopSignal"] = signal
        self.pod["os"] = {"name": "linux"}
        self.report.converted(
            "stop_signal",
            f"lifecycle.stopSignal {signal}",
            note="needs the ContainerStopSignals feature of Kubernetes 1.33+",
        )

    def key_extra_hosts(self, value):
        by_address: dict[str, list[str]] = {}
        for host, addresses in value.items():
            for address in addresses:
                if address == "host-gateway":
                    self.report.unconvertible(
                        f"extra_hosts.{host}",
                        "host-gateway is the Docker host's address",
                        "use the node's address (status.hostIP through the downward API)",
                    )
                    continue
                by_address.setdefault(address, []).append(host)
        if by_address:
            self.pod["hostAliases"] = [
                {"ip": ip, "hostnames": names} for ip, names in by_address.items()
            ]
            self.report.converted("extra_hosts", f"hostAliases for {sorted(value)}")

    def key_hostname(self, value):
        if "{{" in value or not _DNS_LABEL.match(value):
            self.report.unconvertible(
                "hostname",
                f"{value!r} is a Swarm template or not a DNS label",
                "pods are named by Kubernetes; a StatefulSet gives stable names",
            )
            return
        self.pod["hostname"] = value
        self.report.lossy(
            "hostname", f"hostname {value}", "every replica gets the same hostname, as on Swarm"
        )

    def key_domainname(self, value):
        self.report.unconvertible(
            "domainname",
            f"{value!r}: the pod's domain is set by its Service",
            "use subdomain with a headless Service",
        )

    def key_dns(self, value):
        self.pod.setdefault("dnsConfig", {})["nameservers"] = value
        self.report.converted("dns", f"dnsConfig.nameservers {value}")

    def key_dns_search(self, value):
        self.pod.setdefault("dnsConfig", {})["searches"] = value
        self.report.converted("dns_search", f"dnsConfig.searches {value}")

    def key_dns_opt(self, value):
        options = []
        for item in value:
            name, found, option_value = item.partition(":")
            options.append({"name": name, "value": option_value} if found else {"name": name})
        self.pod.setdefault("dnsConfig", {})["options"] = options
        self.report.converted("dns_opt", f"dnsConfig.options {value}")

    def key_network_mode(self, value):
        if value == "host":
            self.pod["hostNetwork"] = True
            self.pod["dnsPolicy"] = "ClusterFirstWithHostNet"
            self.report.converted(
                "network_mode", "hostNetwork true, dnsPolicy ClusterFirstWithHostNet"
            )
        elif value == "bridge":
            self.report.converted("network_mode", "the pod network")
        else:
            self.report.unconvertible(
                "network_mode",
                f"{value!r}: pods cannot join another container's network",
                "run the two containers in one pod (a sidecar)",
                behaviour_change=True,
            )

    def key_pid(self, value):
        if value == "host":
            self.pod["hostPID"] = True
            self.report.converted("pid", "hostPID true")
        else:
            self.report.unconvertible(
                "pid",
                f"{value!r}: only the host PID namespace can be shared",
                "run the containers in one pod with shareProcessNamespace",
            )

    def key_ipc(self, value):
        if value == "host":
            self.pod["hostIPC"] = True
            self.report.converted("ipc", "hostIPC true")
        elif value in ("private", "shareable"):
            self.report.converted("ipc", "the pod's own IPC namespace")
        else:
            self.report.unconvertible(
                "ipc",
                f"{value!r}: pods do not share IPC namespaces",
                "run the containers in one pod",
            )

    def key_security_opt(self, value):
        for item in value:
            option, _sep, setting = item.replace("=", ":", 1).partition(":")
            key = f"security_opt[{item}]"
            if (
                option == "no-new-privileges"
                and setting in ("", "true")
                and self.spec.get("privileged")
            ):
                # Kubernetes refuses the pair; Docker lets privileged win.
                self.report.lossy(
                    key,
                    "nothing: the container is privileged",
                    "a privileged container can always gain privileges",
                    "drop privileged if no-new-privileges matters",
                )
            elif option == "no-new-privileges" and setting in ("", "true"):
                self.security()["allowPrivilegeEscalation"] = False
                self.report.converted(key, "securityContext.allowPrivilegeEscalation false")
            elif option == "seccomp" and setting == "unconfined":
                self.security()["seccompProfile"] = {"type": "Unconfined"}
                self.report.converted(key, "securityContext.seccompProfile Unconfined")
            elif option == "apparmor" and setting == "unconfined":
                self.security()["appArmorProfile"] = {"type": "Unconfined"}
                self.report.converted(key, "securityContext.appArmorProfile Unconfined")
            elif option == "apparmor":
                self.security()["appArmorProfile"] = {
                    "type": "Localhost",
                    "localhostProfile": setting,
                }
                self.report.converted(
                    key,
                    f"securityContext.appArmorProfile Localhost {setting}",
                    note="the profile must be loaded on every node",
                )
            else:
                self.report.unconvertible(
                    key,
                    "no matching securityContext field",
                    "use seLinuxOptions or a Localhost seccomp profile on the nodes",
                )

    def key_shm_size(self, value):
        try:
            size = units.memory_quantity(value)
        except units.UnitError as exc:
            raise self.error(str(exc), "shm_size", value) from None
        self.volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": size}})
        self.mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
        self.report.converted("shm_size", f"emptyDir (Memory, {size}) at /dev/shm")

    def key_tmpfs(self, value):
        for index, item in enumerate(value):
            path, _colon, opts = item.partition(":")
            self._tmpfs_volume(
                f"tmpfs[{index}]", path, dict(o.partition("=")[::2] for o in opts.split(",") if o)
            )

    def _tmpfs_volume(self, key, path, opts):
        name = self._volume_name(f"tmpfs-{path}")
        empty: dict[str, Any] = {"medium": "Memory"}
        size = opts.get("size")
        if size not in (None, ""):
            try:
                empty["sizeLimit"] = units.memory_quantity(size)
            except units.UnitError as exc:
                raise self.error(str(exc), key, size) from None
        self.volumes.append({"name": name, "emptyDir": empty})
        self.mounts.append({"name": name, "mountPath": path})
        lost = [o for o in ("mode", "uid", "gid") if o in opts]
        if lost:
            self.report.lossy(
                key,
                f"emptyDir (Memory) at {path}",
                f"{', '.join(lost)} of the tmpfs are not kept",
                "set fsGroup in the pod securityContext",
            )
        else:
            self.report.converted(key, f"emptyDir (Memory) at {path}")

    def key_pull_policy(self, value):
        policies = {
            "always": "Always",
            "never": "Never",
            "missing": "IfNotPresent",
            "if_not_present": "IfNotPresent",
        }
        if value in policies:
            self.container["imagePullPolicy"] = policies[value]
            self.report.converted("pull_policy", f"imagePullPolicy {policies[value]}")
        else:
            self.report.unconvertible(
                "pull_policy", f"{value!r} has no imagePullPolicy", "pick Always or IfNotPresent"
            )

    def key_platform(self, value):
        os_name, _slash, arch = value.partition("/")
        selector = {"kubernetes.io/os": os_name}
        if arch:
            selector["kubernetes.io/arch"] = ARCHITECTURES.get(
                arch.split("/")[0], arch.split("/")[0]
            )
        self.pod.setdefault("nodeSelector", {}).update(selector)
        self.report.converted("platform", f"nodeSelector {selector}")

    def key_logging(self, value):
        driver = (value or {}).get("driver", "json-file")
        self.report.unconvertible(
            "logging",
            f"driver {driver}: the kubelet writes container logs to files",
            "collect them with the cluster's log agent (ACK: Logtail to SLS)",
        )

    def key_depends_on(self, value):
        project_services = self.project.services
        self.report.converted(
            "depends_on",
            f"init containers wait for {', '.join(value)} (see each dependency)",
            behaviour_change=True,
            note="docker stack deploy ignored depends_on: on Kubernetes the pods now wait",
        )
        init = self.pod.setdefault("initContainers", [])
        for dependency, spec in value.items():
            key = f"depends_on.{dependency}"
            if dependency not in project_services:
                self.report.unconvertible(
                    key, "the service is in an inactive profile", "activate its profile"
                )
                continue
            if spec["condition"] == "service_completed_successfully":
                self.report.unconvertible(
                    key,
                    "waiting for another pod to finish needs access to the API",
                    "run the dependency as a Job before the deployment, or as an init "
                    "container of this service",
                    behaviour_change=True,
                )
                continue
            target = self.stack.names[dependency]
            port = _first_tcp_port(project_services[dependency])
            probe = f"nc -z -w 2 {target} {port}" if port else f"nslookup {target}"
            attempts = "" if spec["required"] else "i=0; "
            loop = (
                f"{attempts}until {probe}; do echo waiting for {target}; "
                + ("i=$((i+1)); [ $i -ge 60 ] && break; " if not spec["required"] else "")
                + "sleep 2; done"
            )
            init.append(
                {
                    "name": k8s_name(f"wait-for-{dependency}"),
                    "image": self.options.wait_image,
                    "command": ["sh", "-c", kubernetes_literal(loop)],
                }
            )
            how = f"TCP {target}:{port} accepts" if port else f"DNS name {target} resolves"
            lost = []
            # a TCP connection through the Service, or the name of a headless Service, needs a
            # ready pod; the name of a Service with a virtual IP resolves without any
            waits_for_ready = True
            if port is None:
                dns_loss, waits_for_ready = _dns_wait_loss(
                    dependency, target, project_services[dependency]
                )
                lost.append(dns_loss)
            if (
                waits_for_ready
                and spec["condition"] == "service_healthy"
                and "healthcheck" not in project_services[dependency]
            ):
                lost.append(
                    f"{dependency} has no healthcheck: 'healthy' means its Service has a ready pod"
                )
            if waits_for_ready and spec["condition"] == "service_started":
                lost.append("waits until a pod of it is ready, not merely started")
            if spec["restart"]:
                lost.append(
                    "restart: true: Kubernetes does not restart this service when the dependency changes"
                )
            if not spec["required"]:
                lost.append("required: false: waits at most 2 minutes, then starts anyway")
            if lost:
                self.report.lossy(key, f"init container waits until {how}", "; ".join(lost))
            else:
                self.report.converted(key, f"init container waits until {how}")

    def key_healthcheck(self, value):
        test = value.get("test")
        if value.get("disable") or (test and test[0] == "NONE"):
            self.report.converted("healthcheck", "no probes (the healthcheck is disabled)")
            return
        if not test:
            self.report.unconvertible(
                "healthcheck",
                "no test: the image's HEALTHCHECK is ignored by Kubernetes",
                "give the test in the compose file",
                behaviour_change=True,
            )
            return
        command = list(test[1:]) if test[0] == "CMD" else ["/bin/sh", "-c", " ".join(test[1:])]
        lost = []

        def seconds(key, default):
            raw = value.get(key, default)
            try:
                amount = _seconds(raw)
            except units.UnitError as exc:
                raise self.error(str(exc), f"healthcheck.{key}", raw) from None
            whole, rounded = units.whole_seconds(amount, minimum=1)
            if rounded:
                lost.append(f"{key} {raw} rounded to {whole}s")
            return whole, amount

        period, _p = seconds("interval", "30s")
        timeout, _t = seconds("timeout", "30s")
        retries = value.get("retries", 3) or 1
        probe = {
            "exec": {"command": command},
            "periodSeconds": period,
            "timeoutSeconds": timeout,
            "failureThreshold": retries,
        }
        self.container["livenessProbe"] = copy.deepcopy(probe)
        self.container["readinessProbe"] = copy.deepcopy(probe)
        result = f"livenessProbe and readinessProbe exec {command} every {period}s"
        if value.get("start_period") not in (None, "0s", "0"):
            _start_period, exact = seconds("start_period", "0s")
            start_interval, _s = seconds("start_interval", value.get("interval", "5s"))
            tries = -(-exact.numerator // (exact.denominator * start_interval)) + retries
            self.container["startupProbe"] = {  # the probe's command copied, not shared
                **copy.deepcopy(probe),
                "periodSeconds": start_interval,
                "failureThreshold": tries,
            }
            result += f"; startupProbe every {start_interval}s for up to {tries} tries"
        if lost:
            self.report.lossy("healthcheck", result, "; ".join(lost))
        else:
            self.report.converted("healthcheck", result)

    # -- environment and metadata --------------------------------------------------------------
    def _environment(self):
        env: dict[str, str] = {}
        for index, item in enumerate(self.spec.get("env_file") or []):
            key = f"env_file[{index}]"
            path = os.path.join(self.stack.file_dir(self.service, "env_file"), item["path"])
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                if item["required"]:
                    raise self.error(
                        "names a file that cannot be read", key, item["path"]
                    ) from None
                self.report.converted(key, f"nothing ({item['path']} is absent and not required)")
                continue
            values = parse_dotenv(
                text, path, self.project.variables, lambda _m: None, raw=item.get("format") == "raw"
            )
            env.update(values)
            self.report.converted(key, f"{len(values)} env entries from {item['path']}")
        unset = []
        for name, value in (self.spec.get("environment") or {}).items():
            if value is None:
                if name in self.project.variables:
                    env[name] = self.project.variables[name]
                else:
                    unset.append(name)
                    env.pop(name, None)
                continue
            env[name] = value
        if "environment" in self.spec:
            if unset:
                self.report.lossy(
                    "environment",
                    f"env ({len(env)} entries)",
                    f"{', '.join(unset)} take their value from the Swarm manager's shell, which "
                    "is not given here: left out",
                    "give them in variables",
                )
            else:
                self.report.converted(
                    "environment", f"env ({len(self.spec['environment'])} entries)"
                )
        if env:
            self.container["env"] = [self._env_var(k, v) for k, v in env.items()]

    def _env_var(self, name: str, value: str) -> dict:
        """One env entry; Swarm's Go template placeholders become the downward API where they can."""
        if "{{" not in value:
            return {"name": name, "value": kubernetes_literal(value)}
        key = f"environment.{name}"
        placeholder = SWARM_TEMPLATE.fullmatch(value)
        field = placeholder and SWARM_TEMPLATE_FIELDS.get(placeholder.group(1))
        if placeholder and placeholder.group(1) == ".Service.Name":
            self.report.converted(key, f"value {self.service!r} (Swarm's {{{{.Service.Name}}}})")
            return {"name": name, "value": self.service}
        if field:
            self.report.converted(key, f"valueFrom fieldRef {field} (Swarm's {value})")
            return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": field}}}
        self.report.lossy(
            key,
            "the text as written",
            f"{value!r} holds Swarm template placeholders Kubernetes does not expand",
            "use the downward API (spec.nodeName, metadata.name) or set the value in the entrypoint",
            behaviour_change=True,
        )
        return {"name": name, "value": kubernetes_literal(value)}

    def _metadata_keys(self):
        for key, target, where in (
            ("labels", self.pod_annotations, "pod template annotations"),
            ("annotations", self.pod_annotations, "pod template annotations"),
            ("deploy.labels", self.workload_annotations, f"{self.kind} annotations"),
        ):
            given = self.deploy.get("labels") if key == "deploy.labels" else self.spec.get(key)
            if not given:
                continue
            valid = {k: v or "" for k, v in given.items() if _annotation_key(k)}
            target.update(valid)
            invalid = sorted(k for k in given if k not in valid)
            routing = sorted(k for k in valid if k.startswith("traefik."))
            lost = []
            if invalid:
                lost.append(f"{invalid} are not valid Kubernetes annotation keys (name part over "
                            "63 characters or invalid characters): left out")  # fmt: skip
            if routing:
                lost.append("Traefik routing labels configure nothing on Kubernetes: Traefik there "
                            "reads Ingress or IngressRoute objects")  # fmt: skip
            result = f"{where} {sorted(valid)}"
            if lost:
                self.report.lossy(key, result, "; ".join(lost),
                                  "write an Ingress for the routes; shorten or drop the other keys",
                                  behaviour_change=bool(routing))  # fmt: skip
            else:
                self.report.converted(key, result)

    # -- deploy ----------------------------------------------------------------------------------
    def _deploy_keys(self):
        deploy = self.deploy
        mode = deploy.get("mode")
        if mode:
            self.report.converted(
                "deploy.mode",
                {"replicated": "Deployment", "global": "DaemonSet", "replicated-job": "Job"}.get(
                    mode, "none"
                ),
            )
        replicas = deploy.get("replicas", self.spec.get("scale"))
        if "replicas" in deploy and self.spec.get("scale") is not None:
            self.report.converted("scale", "deploy.replicas is used (Compose requires them equal)")
        if replicas is not None:
            key = "deploy.replicas" if "replicas" in deploy else "scale"
            if self.kind == "DaemonSet":
                self.report.converted(
                    key, "ignored: a DaemonSet runs one pod per node, as mode global does"
                )
            elif self.kind == "Job":
                self.workload["completions"] = replicas
                self.workload["parallelism"] = replicas
                self.report.converted(key, f"Job completions and parallelism {replicas}")
            else:
                self.workload["replicas"] = replicas
                self.report.converted(key, f"{self.kind}.spec.replicas {replicas}")
        if self.kind == "StatefulSet":
            why = (
                "requested"
                if self.service in self.options.statefulsets
                else "it mounts named volumes"
            )
            self.report.converted("kind", f"StatefulSet ({why}): one claim per replica", note=None)
        placement = deploy.get("placement") or {}
        for index, constraint in enumerate(placement.get("constraints") or []):
            self._constraint(f"deploy.placement.constraints[{index}]", constraint)
        for index, preference in enumerate(placement.get("preferences") or []):
            self._preference(f"deploy.placement.preferences[{index}]", preference["spread"])
        if placement.get("max_replicas_per_node") is not None:
            self._max_per_node(placement["max_replicas_per_node"])
        if deploy.get("endpoint_mode") == "dnsrr":
            self.report.converted(
                "deploy.endpoint_mode", f"headless Service {self.name} (DNS round robin)"
            )
        elif deploy.get("endpoint_mode") == "vip":
            self.report.converted("deploy.endpoint_mode", f"ClusterIP Service {self.name}")
        if deploy.get("update_config") is not None:
            self._update(deploy["update_config"])
        if deploy.get("rollback_config") is not None:
            self._rollback(deploy["rollback_config"])
        if deploy.get("restart_policy") is not None:
            self._restart(deploy["restart_policy"])

    def _map_label(self, attribute: str, key: str) -> str | None:
        label = label_key(attribute, self.options.label_map)
        if not label:
            self.report.unconvertible(
                key,
                f"{attribute} is not migrated to Kubernetes (label_map maps it to null or '')",
                f"map {attribute} to a Kubernetes label key with label_map, or drop the constraint",
                behaviour_change=True,
            )
            return None
        if not valid_key(label):
            self.report.unconvertible(
                key,
                f"{label!r} is not a Kubernetes label key",
                f"map {attribute} to a valid key with label_map",
                behaviour_change=True,
            )
            return None
        return label

    def _known_label(self, key: str, label: str, value: str, operator: str) -> str | None:
        """Why no node would match, when the caller told us the cluster's node labels."""
        known = self.options.node_labels
        if known is None or operator != "In":
            return None
        if label not in known:
            return f"no Kubernetes node has label {label}: the pods stay Pending"
        if value not in (known[label] or []):
            return f"no Kubernetes node has {label}={value}: the pods stay Pending"
        return None

    def _constraint(self, key: str, text: str):
        attribute, operator, value = parse_constraint(text, None, self.service, key)
        op = "In" if operator == "==" else "NotIn"
        if attribute == "node.role":
            if value not in ("manager", "worker"):
                raise self.error("must compare node.role with manager or worker", key, text)
            on_masters = (value == "manager") == (operator == "==")
            self.affinity_terms.append(
                {"key": CONTROL_PLANE, "operator": "Exists" if on_masters else "DoesNotExist"}
            )
            if on_masters:
                self.tolerations.append(
                    {"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}
                )
                self.report.lossy(
                    key,
                    f"node affinity {CONTROL_PLANE} Exists, with a toleration",
                    "ACK managed clusters have no master nodes to run pods on",
                    "constrain on a label of dedicated worker nodes instead",
                    behaviour_change=True,
                )
            else:
                self.report.converted(key, f"node affinity {CONTROL_PLANE} DoesNotExist")
            return
        if attribute == "node.id":
            self.report.unconvertible(
                key,
                "Swarm node ids do not exist in Kubernetes",
                "constrain on node.hostname (mapped with node_names) or a label",
                behaviour_change=True,
            )
            return
        if attribute == "node.hostname":
            node = self.options.node_names.get(value)
            expression = {
                "key": "kubernetes.io/hostname",
                "operator": op,
                "values": [node or value.lower()],
            }
            self.affinity_terms.append(expression)
            if node is None and op == "In":
                self.report.lossy(
                    key,
                    f"node affinity kubernetes.io/hostname {op} [{value.lower()}]",
                    f"no Kubernetes node is known for Swarm host {value!r}",
                    "map it in node_names (the inventory's k8s_node_name)",
                    behaviour_change=True,
                )
            else:
                self.report.converted(
                    key, f"node affinity kubernetes.io/hostname {op} [{node or value.lower()}]"
                )
            return
        if attribute.startswith("node.platform."):
            label = "kubernetes.io/os" if attribute.endswith(".os") else "kubernetes.io/arch"
            mapped = (
                value.lower()
                if label.endswith("os")
                else ARCHITECTURES.get(value.lower(), value.lower())
            )
            self.affinity_terms.append({"key": label, "operator": op, "values": [mapped]})
            self.report.converted(key, f"node affinity {label} {op} [{mapped}]")
            return
        label = self._map_label(attribute, key)
        if label is None:
            return
        if not re.fullmatch(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", value):
            self.report.unconvertible(
                key,
                f"{value!r} is not a Kubernetes label value",
                "relabel the nodes with a valid value and change the constraint",
                behaviour_change=True,
            )
            return
        self.affinity_terms.append({"key": label, "operator": op, "values": [value]})
        result = f"node affinity {label} {op} [{value}]"
        missing = self._known_label(key, label, value, op)
        lost = []
        if attribute.startswith("engine."):
            lost.append(
                "engine labels are Docker daemon settings: the Kubernetes nodes need the node label "
                f"{label}"
            )
        if missing:
            lost.append(missing)
        if lost:
            self.report.lossy(
                key,
                result,
                "; ".join(lost),
                "label the nodes (the runbook's labels step)",
                behaviour_change=bool(missing),
            )
        else:
            self.report.converted(key, result)

    def _preference(self, key: str, spread: str):
        if not re.fullmatch(r"(node|engine)\.labels\.\S+", spread):
            if spread in ("node.hostname", "node.id"):
                label = "kubernetes.io/hostname"
            else:
                self.report.unconvertible(
                    key,
                    f"spread over {spread!r}: only labels have a topology key",
                    "spread over a node label",
                )
                return
        else:
            label = self._map_label(spread, key)
            if label is None:
                return
        self.spread.append(
            {
                "maxSkew": 1,
                "topologyKey": label,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": self.stack.selector(self.service)},
            }
        )
        self.report.converted(
            key,
            f"topologySpreadConstraints on {label} (maxSkew 1, ScheduleAnyway)",
            note="nodes without the label are skipped, where Swarm counts them as one group",
        )

    def _max_per_node(self, count: int):
        key = "deploy.placement.max_replicas_per_node"
        if self.kind == "DaemonSet":
            self.report.converted(key, "nothing: a DaemonSet runs one pod per node")
            return
        selector = {"matchLabels": self.stack.selector(self.service)}
        if count == 1:
            self.pod.setdefault("affinity", {})["podAntiAffinity"] = {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
            self.report.converted(key, "required pod anti-affinity on kubernetes.io/hostname")
            return
        self.spread.append(
            {
                "maxSkew": count,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": selector,
            }
        )
        self.report.lossy(
            key,
            f"topologySpreadConstraints maxSkew {count} on kubernetes.io/hostname",
            "Kubernetes limits the difference between nodes, not the count per node",
            "check the spread with the replica and node counts",
        )

    def _update(self, config: dict):
        key = "deploy.update_config"
        parallelism = config.get("parallelism", 1)
        start_first = config.get("order") == "start-first"
        amount: int | str = parallelism if parallelism > 0 else "100%"
        lost = []
        if self.kind in ("Deployment", "DaemonSet"):
            rolling = (
                {"maxSurge": amount, "maxUnavailable": 0}
                if start_first
                else {"maxSurge": 0, "maxUnavailable": amount}
            )
            strategy_key = "strategy" if self.kind == "Deployment" else "updateStrategy"
            self.workload[strategy_key] = {"type": "RollingUpdate", "rollingUpdate": rolling}
            result = f"{strategy_key}.rollingUpdate maxSurge {rolling['maxSurge']}, maxUnavailable {rolling['maxUnavailable']}"
        elif self.kind == "StatefulSet":
            self.workload["updateStrategy"] = {"type": "RollingUpdate"}
            result = "updateStrategy RollingUpdate"
            lost.append("a StatefulSet replaces one pod at a time, stop-first")
        else:
            self.report.unconvertible(
                key, "a Job is not updated in place", "delete and re-create the Job"
            )
            return
        if config.get("delay"):
            try:
                whole, _rounded = units.whole_seconds(_seconds(config["delay"]))
            except units.UnitError as exc:
                raise self.error(str(exc), f"{key}.delay", config["delay"]) from None
            self.workload["minReadySeconds"] = whole
            result += f", minReadySeconds {whole}"
            lost.append(
                "delay becomes minReadySeconds: a new pod must stay ready that long before the next"
            )
        if config.get("failure_action") == "rollback":
            lost.append(
                "failure_action rollback: Kubernetes stops a failing rollout but does not roll back"
            )
        if config.get("monitor") or config.get("max_failure_ratio"):
            lost.append(
                "monitor and max_failure_ratio have no Kubernetes field (progressDeadlineSeconds is the nearest)"
            )
        if lost:
            self.report.lossy(
                key,
                result,
                "; ".join(lost),
                "watch the rollout and run 'kubectl rollout undo' on failure",
            )
        else:
            self.report.converted(key, result)

    def _rollback(self, config: dict):
        self.report.lossy(
            "deploy.rollback_config",
            "nothing separate: a rollback uses the update strategy",
            "Kubernetes rolls back ('kubectl rollout undo') with the same parameters as an update",
            "if the rollback must be faster, patch the strategy before undoing",
        )

    def _restart(self, policy: dict):
        key = "deploy.restart_policy"
        condition = policy.get("condition", "any")
        lost = []
        if self.kind == "Job":
            restart = "Never" if condition == "none" else "OnFailure"
            self.pod["restartPolicy"] = restart
            self.workload["backoffLimit"] = (
                0 if condition == "none" else policy.get("max_attempts", 6)
            )
            result = f"restartPolicy {restart}, backoffLimit {self.workload['backoffLimit']}"
        else:
            result = "restartPolicy Always"
            if condition != "any":
                lost.append(
                    f"condition {condition}: {self.kind} pods are always restarted; "
                    "a one-shot service belongs in a Job (deploy.mode replicated-job)"
                )
            if policy.get("max_attempts"):
                lost.append("max_attempts: the kubelet retries forever with back-off")
        if policy.get("delay") or policy.get("window"):
            lost.append("delay and window: the kubelet's back-off (10s doubling to 5 min) applies")
        if lost:
            self.report.lossy(
                key,
                result,
                "; ".join(lost),
                behaviour_change=condition != "any" and self.kind != "Job",
            )
        else:
            self.report.converted(key, result)

    def _resources(self):
        resources = self.deploy.get("resources") or {}
        legacy = {"limits": {}, "reservations": {}}
        if self.spec.get("cpus") is not None:
            legacy["limits"]["cpus"] = self.spec["cpus"]
        if self.spec.get("mem_limit") is not None:
            legacy["limits"]["memory"] = self.spec["mem_limit"]
        if self.spec.get("mem_reservation") is not None:
            legacy["reservations"]["memory"] = self.spec["mem_reservation"]
        legacy_keys = {"limits": {"cpus": "cpus", "memory": "mem_limit"},
                       "reservations": {"memory": "mem_reservation"}}  # fmt: skip
        for section, names in legacy_keys.items():
            for name, legacy_key in names.items():
                given = (resources.get(section) or {}).get(name)
                if name in legacy[section] and given is not None:
                    self.report.lossy(
                        legacy_key,
                        f"superseded by deploy.resources.{section}.{name}",
                        f"{legacy_key} {legacy[section][name]} is not used: "
                        f"deploy.resources.{section}.{name} {given} is",
                        f"keep only deploy.resources.{section}.{name}",
                    )
        out: dict[str, dict] = {}
        for section, target in (("limits", "limits"), ("reservations", "requests")):
            given = {**legacy[section], **(resources.get(section) or {})}
            for name, value in given.items():
                key = (
                    f"deploy.resources.{section}.{name}"
                    if name in (resources.get(section) or {})
                    else {
                        "cpus": "cpus",
                        "memory": "mem_limit" if section == "limits" else "mem_reservation",
                    }[name]
                )
                if name == "cpus":
                    try:
                        quantity, rounded = units.cpu_quantity(value)
                    except units.UnitError as exc:
                        raise self.error(str(exc), key, value) from None
                    out.setdefault(target, {})["cpu"] = quantity
                    if rounded:
                        self.report.lossy(
                            key,
                            f"resources.{target}.cpu {quantity}",
                            f"{value} rounded up to millicores",
                        )
                    else:
                        self.report.converted(key, f"resources.{target}.cpu {quantity}")
                elif name == "memory":
                    try:
                        quantity = units.memory_quantity(value)
                    except units.UnitError as exc:
                        raise self.error(str(exc), key, value) from None
                    out.setdefault(target, {})["memory"] = quantity
                    self.report.converted(key, f"resources.{target}.memory {quantity}")
                elif name == "pids":
                    self.report.unconvertible(
                        key,
                        "the PID limit is the kubelet's podPidsLimit, per node",
                        "set podPidsLimit in the node pool's kubelet configuration",
                    )
                elif name == "devices":
                    self._deploy_devices(key, value, out)
                else:
                    self.report.unconvertible(
                        key,
                        "generic resources are Swarm node resources",
                        "advertise them as extended resources and request those",
                    )
        for kind in ("cpu", "memory"):
            request = out.get("requests", {}).get(kind)
            limit = out.get("limits", {}).get(kind)
            if request and limit and _quantity(request) > _quantity(limit):
                raise self.error(
                    f"reserves more {kind} ({request}) than its limit ({limit})",
                    "deploy.resources.reservations",
                    request,
                )
            if limit and not request:
                self.report.lossy(
                    f"deploy.resources.reservations.{'cpus' if kind == 'cpu' else kind}",
                    f"resources.requests.{kind} defaults to the limit {limit}",
                    "Swarm reserved nothing; Kubernetes reserves the limit when scheduling",
                    "set a reservation",
                )
        if out:
            self.container["resources"] = out

    def _deploy_devices(self, key, devices, out):
        for index, device in enumerate(devices or []):
            capabilities = device.get("capabilities") or []
            flat = [
                c for group in capabilities for c in (group if isinstance(group, list) else [group])
            ]
            count = device.get("count", "all")
            if (
                "gpu" in flat
                and device.get("driver", "nvidia") == "nvidia"
                and str(count).isdigit()
            ):
                out.setdefault("limits", {})["nvidia.com/gpu"] = str(count)
                self.report.lossy(
                    f"{key}[{index}]",
                    f"resources.limits nvidia.com/gpu {count}",
                    "device ids and driver options are not kept",
                    "use a GPU node pool",
                )
            else:
                self.report.unconvertible(
                    f"{key}[{index}]",
                    f"{flat} count {count}: no device plugin resource known",
                    "request the device plugin's resource (for example nvidia.com/gpu: 1)",
                )

    # -- mounts ---------------------------------------------------------------------------------
    def key_volumes(self, value):
        for index, volume in enumerate(value):
            key = f"volumes[{index}]"
            handler = {
                "volume": self._named_volume,
                "bind": self._bind,
                "tmpfs": self._tmpfs_mount,
            }.get(volume["type"])
            if handler is None:
                self.report.unconvertible(
                    key,
                    f"{volume['type']} mounts have no Kubernetes volume",
                    "use a PersistentVolumeClaim or an image volume",
                    behaviour_change=True,
                )
                continue
            handler(key, volume)

    def _mount(self, name: str, volume: dict, sub_path: str | None = None) -> dict:
        mount: dict[str, Any] = {"name": name, "mountPath": volume["target"]}
        if volume.get("read_only"):
            mount["readOnly"] = True
        if sub_path:
            mount["subPath"] = sub_path
        self.mounts.append(mount)
        return mount

    def _tmpfs_mount(self, key, volume):
        opts = dict(volume.get("tmpfs") or {})
        self._tmpfs_volume(key, volume["target"], {k: str(v) for k, v in opts.items()})

    def _named_volume(self, key, volume):
        source = volume.get("source")
        if not source:
            name = self._volume_name(f"anon-{volume['target']}")
            self.volumes.append({"name": name, "emptyDir": {}})
            self._mount(name, volume)
            self.report.lossy(
                key,
                f"emptyDir at {volume['target']}",
                "an anonymous volume lives as long as the pod",
                "name the volume to keep its data",
            )
            return
        spec = self.project.volumes.get(source) or {}
        pod_volume = k8s_name(f"vol-{source}")
        claim = claim_name(self.project, source)
        subpath = (volume.get("volume") or {}).get("subpath")
        lost = []
        if not (volume.get("volume") or {}).get("nocopy"):
            lost.append("Docker copies the image's files into an empty volume; Kubernetes does not")
        if self.kind == "StatefulSet" and not spec.get("external"):
            if all(t["metadata"]["name"] != pod_volume for t in self.claim_templates):
                conf = self.options.volume_claims.get(source, {})
                template_spec: dict[str, Any] = {
                    "accessModes": list(conf.get("access_modes") or ["ReadWriteOnce"]),
                    "resources": {
                        "requests": {"storage": conf.get("size") or self.options.volume_size}
                    },
                }
                storage_class = conf.get("storage_class", self.options.storage_class)
                if storage_class:
                    template_spec["storageClassName"] = storage_class
                self.claim_templates.append(
                    {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "metadata": {"name": pod_volume},
                        "spec": template_spec,
                    }
                )
            self.stack.statefulset_volumes.setdefault(self.service, set()).add(source)
            self._mount(pod_volume, volume, subpath)
            lost.append(
                "each replica gets its own claim (volumeClaimTemplates); Swarm had one volume per node"
            )
            self.report.lossy(
                key, f"volumeClaimTemplate {pod_volume} at {volume['target']}", "; ".join(lost)
            )
            return
        if all(v["name"] != pod_volume for v in self.volumes):
            self.volumes.append({"name": pod_volume, "persistentVolumeClaim": {"claimName": claim}})
        self._mount(pod_volume, volume, subpath)
        replicas = (
            1 if self.kind == "Job" else self.deploy.get("replicas", self.spec.get("scale", 1))
        )
        users = self.stack.claims_used.setdefault(source, [])
        users.extend([self.service] * (2 if self.kind == "DaemonSet" else max(replicas or 1, 1)))
        self.report.lossy(
            key,
            f"PersistentVolumeClaim {claim} at {volume['target']}",
            "; ".join(lost) if lost else "the data of the Swarm volume is not copied",
            "copy the data into the claim before cut-over",
        )

    def _bind(self, key, volume):
        source = volume["source"]
        target = volume["target"]
        choice = self.options.bind_mounts.get(
            f"{self.service}:{target}"
        ) or self.options.bind_mounts.get(source)
        relative = not source.startswith("/")
        choices = "choices: hostPath (the node's path), configMap (the controller's file), persistentVolumeClaim"
        name = self._volume_name(f"bind-{target}")
        if choice is None:
            choice = {"type": "configMap"} if relative else {"type": "hostPath"}
        kind = choice["type"]
        if source.endswith("docker.sock"):
            self.report.unconvertible(
                key,
                f"{source}: Kubernetes nodes run containerd, without a Docker socket",
                "use the Kubernetes API (a ServiceAccount) instead",
                behaviour_change=True,
            )
            return
        if kind == "hostPath":
            if relative:
                self.report.unconvertible(
                    key,
                    f"{source!r} is relative to the compose file, not a node path",
                    f"{choices}; set bind_mounts['{self.service}:{target}']",
                    behaviour_change=True,
                )
                return
            create = (volume.get("bind") or {}).get("create_host_path", True)
            host_path = {"path": choice.get("path") or source}
            host_path["type"] = "DirectoryOrCreate" if create else ""
            self.volumes.append({"name": name, "hostPath": host_path})
            self._mount(name, volume)
            self.report.lossy(
                key,
                f"hostPath {host_path['path']} at {target}",
                "the path must exist with the same content on every node the pod may run on",
                choices,
                behaviour_change=True,
            )
        elif kind == "persistentVolumeClaim":
            self.volumes.append(
                {"name": name, "persistentVolumeClaim": {"claimName": choice["claim_name"]}}
            )
            self._mount(name, volume)
            self.report.lossy(
                key,
                f"PersistentVolumeClaim {choice['claim_name']} at {target}",
                "the claim must exist and hold the data of the host path",
                choices,
            )
        elif kind == "emptyDir":
            self.volumes.append({"name": name, "emptyDir": {}})
            self._mount(name, volume)
            self.report.lossy(
                key,
                f"emptyDir at {target}",
                "starts empty: the host path's content is lost",
                choices,
            )
        else:
            self._bind_configmap(key, volume, name, choices)

    def _bind_configmap(self, key, volume, name, choices):
        source = os.path.join(self.stack.file_dir(self.service, "volumes"), volume["source"])
        files: dict[str, bytes] = {}
        if os.path.isfile(source):
            with open(source, "rb") as handle:
                files[os.path.basename(source)] = handle.read()
        elif os.path.isdir(source):
            for entry in sorted(os.listdir(source)):
                path = os.path.join(source, entry)
                if os.path.isfile(path):
                    with open(path, "rb") as handle:
                        files[entry] = handle.read()
        else:
            self.report.unconvertible(
                key,
                f"{volume['source']!r} does not exist on the controller",
                f"{choices}; set bind_mounts['{self.service}:{volume['target']}']",
                behaviour_change=True,
            )
            return
        if sum(len(c) for c in files.values()) > CONFIGMAP_LIMIT:
            self.report.unconvertible(
                key,
                f"{volume['source']!r} holds more than a ConfigMap can (1 MiB)",
                f"{choices}",
                behaviour_change=True,
            )
            return
        cm_name = k8s_name(f"{self.name}-{name}")
        data: dict[str, str] = {}
        binary: dict[str, str] = {}
        for entry, content in files.items():
            data_key = _DATA_KEY.sub("-", entry)
            try:
                data[data_key] = content.decode("utf-8")
            except UnicodeDecodeError:
                binary[data_key] = base64.b64encode(content).decode()
        obj: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self.stack.meta(cm_name, labels={NAME_LABEL: self.name}),
        }
        if data:
            obj["data"] = data
        if binary:
            obj["binaryData"] = binary
        self.stack.add(obj)
        self.volumes.append({"name": name, "configMap": {"name": cm_name}})
        sub_path = _DATA_KEY.sub("-", next(iter(files))) if os.path.isfile(source) else None
        mount = self._mount(name, volume, sub_path)
        mount["readOnly"] = True
        self.report.lossy(
            key,
            f"ConfigMap {cm_name} at {volume['target']}",
            "a read-only copy of the controller's files: writes and later changes on the host are lost",
            choices,
        )

    def _grants(self, section: str, value: list[dict]):
        for index, grant in enumerate(value):
            key = f"{section}[{index}]"
            source = grant["source"]
            obj_name = config_object_name(self.project, source)
            target = grant["target"]
            if section == "secrets" and not target.startswith("/"):
                target = f"/run/secrets/{target}"
            data_key = _DATA_KEY.sub("-", source)
            if section == "configs" and (self.project.configs.get(source) or {}).get("external"):
                data_key = _DATA_KEY.sub("-", source)
            item: dict[str, Any] = {"key": data_key, "path": posixpath.basename(target) or data_key}
            if grant.get("mode") is not None:
                item["mode"] = grant["mode"] & 0o777
            volume_name = self._volume_name(f"{section[:-1]}-{source}")
            if section == "configs":
                self.volumes.append(
                    {"name": volume_name, "configMap": {"name": obj_name, "items": [item]}}
                )
            else:
                self.volumes.append(
                    {"name": volume_name, "secret": {"secretName": obj_name, "items": [item]}}
                )
            self.mounts.append(
                {
                    "name": volume_name,
                    "mountPath": target,
                    "subPath": item["path"],
                    "readOnly": True,
                }
            )
            kind = "ConfigMap" if section == "configs" else "Secret"
            result = f"{kind} {obj_name} key {data_key} at {target}"
            if grant.get("uid") is not None or grant.get("gid") is not None:
                self.report.lossy(
                    key,
                    result,
                    "uid and gid of the file are not kept (the pod's fsGroup applies)",
                    "set securityContext.fsGroup",
                )
            else:
                self.report.converted(key, result)

    def key_configs(self, value):
        self._grants("configs", value)

    def key_secrets(self, value):
        self._grants("secrets", value)

    # -- Services -----------------------------------------------------------------------------------
    def _services(self) -> list[str]:
        ports = self.spec.get("ports") or []
        internal: dict[tuple[int, str], dict] = {}
        container_ports: dict[tuple[int, str], dict] = {}
        published: list[dict] = []
        for index, port in enumerate(ports):
            key = f"ports[{index}]"
            ident = (port["target"], port["protocol"])
            entry = container_ports.setdefault(
                ident, {"containerPort": port["target"], "protocol": port["protocol"].upper()}
            )
            internal.setdefault(ident, port)
            if port["mode"] == "host":
                if port["published"] is None or "-" in port["published"]:
                    self.report.unconvertible(
                        key,
                        "a host-mode port without one fixed published port",
                        "publish one port in host mode",
                    )
                    continue
                entry["hostPort"] = int(port["published"])
                if port.get("host_ip"):
                    entry["hostIP"] = port["host_ip"]
                self.report.converted(
                    key,
                    f"hostPort {port['published']} -> containerPort {port['target']}",
                    note="like Swarm's host mode, one pod per node can hold the port",
                )
                continue
            published.append({**port, "key": key})
        for index, text in enumerate(self.spec.get("expose") or []):
            port_text, _slash, protocol = text.partition("/")
            first, _dash, last = port_text.partition("-")
            numbers = range(int(first), int(last or first) + 1)
            if len(numbers) > MAX_PORT_RANGE:
                raise self.error(
                    f"exposes more than {MAX_PORT_RANGE} ports; a Service lists each one",
                    f"expose[{index}]",
                    text,
                )
            for number in numbers:
                internal.setdefault(
                    (number, protocol),
                    {"target": number, "protocol": protocol, "app_protocol": None},
                )
                container_ports.setdefault(
                    (number, protocol), {"containerPort": number, "protocol": protocol.upper()}
                )
            self.report.converted(
                f"expose[{index}]", f"Service {self.name} port {port_text}/{protocol}"
            )
        if container_ports:
            self.container["ports"] = list(container_ports.values())
        names = []
        service_ports = [
            _service_port(p["target"], p["target"], p["protocol"], p.get("app_protocol"))
            for p in internal.values()
        ]
        headless = self.deploy.get("endpoint_mode") == "dnsrr" or not service_ports
        if self.kind in ("Job", "none") and not service_ports:
            return names  # a run-to-completion task nobody connects to needs no name
        names.append(self._service(self.name, service_ports, headless))
        for alias in self._aliases():
            names.append(self._service(alias, service_ports, headless, alias_of=True))
        if published:
            names.append(self._published_service(published))
        return names

    def _aliases(self) -> list[str]:
        aliases = []
        for network, spec in (self.spec.get("networks") or {}).items():
            for alias in spec.get("aliases") or []:
                name = service_name(alias)
                if (
                    name
                    and name != self.name
                    and name not in aliases
                    and name not in self.stack.names.values()
                ):
                    aliases.append(name)
                    self.report.converted(
                        f"networks.{network}.aliases", f"Service {name} (same pods as {self.name})"
                    )
        return aliases

    def _service(self, name, ports, headless, alias_of=False) -> str:
        spec: dict[str, Any] = {"selector": self.stack.selector(self.service)}
        if headless:
            spec["clusterIP"] = "None"
        if ports:
            spec["ports"] = ports
        self.stack.add(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": self.stack.meta(
                    name,
                    labels={NAME_LABEL: self.name},
                    annotations={SOURCE_ANNOTATION: self.service},
                ),
                "spec": spec,
            }
        )
        if not alias_of and not ports:
            self.report.lossy(
                "ports",
                f"headless Service {name}",
                "no port is declared (ports or expose): the name resolves to the pod addresses, "
                "without a virtual IP",
                "declare the ports the service listens on in 'expose'",
            )
        return f"Service {name}"

    def _published_service(self, published: list[dict]) -> str:
        lb = self.options.load_balancer
        lb_services = lb.get("services") or []
        use_lb = lb_services == "all" or self.service in lb_services
        name = k8s_name(self.name, "published")
        first, last = self.options.node_port_range
        ports = []
        used = set()
        for port in published:
            published_text = port["published"]
            fixed = int(published_text) if published_text and "-" not in published_text else None
            service_port = fixed or port["target"]
            if (service_port, port["protocol"]) in used:
                self.report.unconvertible(
                    port["key"], "publishes a port twice", "publish each port once"
                )
                continue
            used.add((service_port, port["protocol"]))
            entry = _service_port(
                service_port, port["target"], port["protocol"], port.get("app_protocol")
            )
            lost = []
            if port.get("host_ip"):
                lost.append(
                    f"host_ip {port['host_ip']} is not kept: the port listens on every node address"
                )
            if use_lb:
                result = f"LoadBalancer Service {name} port {service_port} -> {port['target']}"
            elif fixed and first <= fixed <= last:
                entry["nodePort"] = fixed
                result = f"NodePort Service {name} nodePort {fixed} -> {port['target']}"
            elif not published_text:
                # no published port: Swarm's ingress picks one from 30000-32767, as Kubernetes
                # picks the nodePort from its range
                result = (
                    f"NodePort Service {name} port {service_port} -> {port['target']} "
                    "(nodePort assigned, as Swarm assigned the published port)"
                )
            else:
                result = f"NodePort Service {name} port {service_port} -> {port['target']} (nodePort assigned)"
                lost.append(
                    f"published port {published_text} is outside the NodePort range "
                    f"{first}-{last}: clients and the SLB must use the assigned nodePort"
                )
            ports.append(entry)
            if lost:
                self.report.lossy(
                    port["key"],
                    result,
                    "; ".join(lost),
                    "point the SLB listener at the nodePort, or ask for a LoadBalancer Service",
                    behaviour_change=True,
                )
            else:
                self.report.converted(port["key"], result)
        annotations = {SOURCE_ANNOTATION: self.service}
        if use_lb:
            for option, value in (lb.get("options") or {}).items():
                annotations[ACK_SLB + ACK_SLB_OPTIONS[option]] = (
                    str(value).lower() if isinstance(value, bool) else str(value)
                )
            annotations.update({k: str(v) for k, v in (lb.get("annotations") or {}).items()})
        spec = {
            "type": "LoadBalancer" if use_lb else "NodePort",
            "selector": self.stack.selector(self.service),
            "ports": ports,
        }
        if use_lb:
            spec["externalTrafficPolicy"] = "Local" if lb.get("keep_client_ip") else "Cluster"
        self.stack.add(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": self.stack.meta(
                    name, labels={NAME_LABEL: self.name}, annotations=annotations
                ),
                "spec": spec,
            }
        )
        return f"Service {name}"

    def _network_notes(self):
        networks = self.spec.get("networks")
        if networks:
            names = sorted(networks)
            if self.options.network_policies:
                self.report.converted(
                    "networks", f"NetworkPolicy {self.name} admits the services of {names}"
                )
            else:
                self.report.lossy(
                    "networks",
                    f"flat pod network (was {names})",
                    "every pod can reach this service, not only those on its networks",
                    "set network_policies",
                )


def _annotation_key(key: str) -> bool:
    return valid_key(key)


def _service_port(port: int, target: int, protocol: str, app_protocol: str | None) -> dict:
    entry: dict[str, Any] = {
        "name": f"{protocol}-{port}",
        "port": port,
        "targetPort": target,
        "protocol": protocol.upper(),
    }
    if app_protocol:
        entry["appProtocol"] = app_protocol
    return entry


def kubernetes_literal(text: str) -> str:
    """``text`` written so that Kubernetes hands it to the container unchanged.

    The kubelet expands ``$(VAR)`` in a container's command, args and env values and turns
    ``$$`` into ``$``; Swarm passes those strings as they are (Compose's own ``$$`` was already
    undone by interpolation). Doubling every ``$`` makes each one a ``$$`` escape, so no
    reference is expanded and the container sees exactly the text Swarm would have passed.
    """
    return text.replace("$", "$$")


def _first_tcp_port(spec: dict) -> int | None:
    """The first TCP port of a service (``nc -z`` probes TCP only), None without one."""
    for port in spec.get("ports") or []:
        if port["protocol"] == "tcp":
            return port["target"]
    for text in spec.get("expose") or []:
        port, _slash, protocol = text.partition("/")
        if (protocol or "tcp") == "tcp":
            return int(port.split("-")[0])
    return None


def _dns_wait_loss(dependency: str, target: str, spec: dict) -> tuple[str, bool]:
    """What waiting for the name of ``dependency`` (no TCP port) misses; whether a pod is ready."""
    others = sorted(
        {p["protocol"].upper() for p in spec.get("ports") or []}
        | {(t.partition("/")[2] or "tcp").upper() for t in spec.get("expose") or []}
    )
    if others:
        return (
            f"{dependency} has no TCP port to probe (only {'/'.join(others)}): the init container "
            f"waits until the name {target} resolves, which it does once the Service exists, "
            "not when the service answers",
            False,
        )
    return (
        f"{dependency} has no port to probe: the init container waits until the name {target} "
        "resolves (its headless Service lists ready pods only), not until the service answers",
        True,
    )


_QUANTITY = re.compile(r"^(\d+)(m|Ki|Mi|Gi|Ti|Pi)?$")
_FACTORS = {
    None: Fraction(1),
    "m": Fraction(1, 1000),
    "Ki": Fraction(1024),
    "Mi": Fraction(1024**2),
    "Gi": Fraction(1024**3),
    "Ti": Fraction(1024**4),
    "Pi": Fraction(1024**5),
}


def _quantity(text: str) -> Fraction:
    match = _QUANTITY.match(text)
    return Fraction(int(match.group(1))) * _FACTORS[match.group(2)]


def convert_compose(
    files: list[str], options: ConvertOptions | None = None, **load_options
) -> Conversion:
    """Read, merge and convert ``files`` (in ``-f`` order): the one call a caller needs.

    ``load_options`` are ``project.load_project``'s (variables, dotenv,
    project_name, project_directory, profiles, texts).
    """
    project = load_project(files, **load_options)
    return convert(project, options)


def placement_affinity(
    constraints: list[str],
    *,
    label_map: dict[str, str] | None = None,
    node_names: dict[str, str] | None = None,
    node_labels: dict[str, list[str]] | None = None,
) -> dict:
    """Swarm placement constraints alone: the node affinity, tolerations and report entries.

    For the runbook's labels step, which needs the same mapping as the
    conversion without a compose file.
    """
    model = FileModel(None)
    checked = model.string_list(constraints, None, "constraints")
    for index, text in enumerate(checked):
        parse_constraint(text, model, None, f"constraints[{index}]")
    project = Project(
        name="placement",
        directory=".",
        files=["<constraints>"],
        services={"placement": {"image": "-", "deploy": {"placement": {"constraints": checked}}}},
    )
    options = ConvertOptions(
        label_map=normalise_label_map(label_map),
        node_names=dict(node_names or {}),
        node_labels=node_labels,
    )
    converter = _ServiceConverter(_Stack(project, options), "placement")
    for index, text in enumerate(checked):
        converter._constraint(f"constraints[{index}]", text)
    affinity = {}
    if converter.affinity_terms:
        affinity = {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": converter.affinity_terms}]
            }
        }
    return {
        "nodeAffinity": affinity,
        "tolerations": converter.tolerations,
        "entries": converter.report.entries,
    }
