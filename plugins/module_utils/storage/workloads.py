# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""StatefulSets with their headless Service and volumeClaimTemplates (the guide's shape).

Scaling in keeps the claims (persistentVolumeClaimRetentionPolicy Retain), so
a pod recreated later gets the claim of its ordinal back. Pods that mount OSS
can get the guide's liveness probe (``cd`` into the mount) so they restart when
the FUSE mount disappears, e.g. after a plugin upgrade.
"""

from __future__ import annotations

import re

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.model import (
    claim_spec,
    metadata,
    volume_row,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    Item,
    one_of,
)

STATEFULSET_KEYS = (
    "name",
    "namespace",
    "replicas",
    "image",
    "container_name",
    "command",
    "args",
    "env",
    "ports",
    "labels",
    "resources",
    "service_name",
    "pod_management_policy",
    "volume_claim_templates",
    "mounts",
    "oss_liveness_probe",
)
TEMPLATE_KEYS = ("name", "storage_class", "size", "access_modes", "volume_mode", "mount_path")
MOUNT_KEYS = ("claim", "mount_path", "read_only")
PORT_KEYS = ("name", "port", "protocol")
RESOURCE_KEYS = ("requests", "limits")
POD_MANAGEMENT = ("OrderedReady", "Parallel")
PROTOCOLS = ("TCP", "UDP", "SCTP")
# Pod names are <statefulset>-<ordinal> and carry a controller-revision-hash
# label <statefulset>-<10 characters>, which must stay within 63.
MAX_NAME = 52
MOUNT_PATH = re.compile(r"^/[^:]*$")
PORT_NAME = re.compile(r"^(?=.{1,15}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
APP_LABEL = "app"
# The guide's probe: a shell that cannot cd into the mount fails, the kubelet restarts the pod.
PROBE_TIMING = {
    "initialDelaySeconds": 10,
    "periodSeconds": 30,
    "timeoutSeconds": 5,
    "failureThreshold": 3,
}


def _mount_path(item: Item, key: str, seen: dict) -> str:
    path = item.text(key, required=True, what="an absolute path in the container, e.g. /data")
    if not MOUNT_PATH.match(path):
        item.fail(key, f"{path!r} is not an absolute path without ':'; allowed: e.g. /data")
    if path in seen:
        item.fail(key, f"{path} is already the mount of {seen[path]}; allowed: one volume per path")
    return path


def _ports(item: Item) -> list[dict]:
    ports = []
    for index, raw in enumerate(item.items("ports")):
        raw = {"port": raw} if isinstance(raw, (int, str)) and not isinstance(raw, bool) else raw
        port = Item(raw, item.field(f"ports[{index}]"), item.obj, PORT_KEYS)
        number = port.integer("port", required=True, minimum=1, maximum=65535)
        name = port.text(
            "name",
            default=f"tcp-{number}",
            pattern=PORT_NAME,
            what="an IANA service name: at most 15 lowercase letters, digits and '-'",
        )
        protocol = port.text("protocol", default="TCP", choices=PROTOCOLS)
        ports.append({"name": name, "port": number, "protocol": protocol})
    names = [p["name"] for p in ports]
    if len(set(names)) != len(names):
        item.fail("ports", f"port names repeat ({one_of(names)}); allowed: unique names")
    return ports


def _resources(item: Item) -> dict | None:
    raw = item.raw.get("resources")
    if raw is None:
        return None
    resources = Item(raw, item.field("resources"), item.obj, RESOURCE_KEYS)
    result = {}
    for key in RESOURCE_KEYS:
        values = resources.mapping(key)
        for name, value in values.items():
            if not QUANTITY.match(value):
                resources.fail(
                    f"{key}.{name}", f"{value!r} is not a quantity; allowed: e.g. 500m, 1, 256Mi"
                )
        if values:
            result[key] = values
    return result or None


def _env(item: Item) -> list[dict]:
    env = item.mapping("env")
    for name in env:
        if not ENV_NAME.match(name):
            item.fail(
                f"env.{name}",
                "is not a valid variable name; allowed: letters, digits, '_', '-', '.'",
            )
    return [{"name": name, "value": value} for name, value in env.items()]


def statefulsets(raws, ctx, classes, names, claims_index, class_claim) -> tuple[list, list, list]:
    services, sets, rows = [], [], []
    for index, raw in enumerate(raws):
        path = f"statefulsets[{index}]"
        ns_guess = (
            raw.get("namespace")
            if isinstance(raw, dict) and isinstance(raw.get("namespace"), str)
            else "default"
        )
        name_guess = (
            raw.get("name")
            if isinstance(raw, dict) and isinstance(raw.get("name"), str)
            else f"#{index}"
        )
        item = Item(raw, path, f"statefulset {ns_guess}/{name_guess}", STATEFULSET_KEYS)
        name = item.name()
        if len(name) > MAX_NAME:
            item.fail(
                "name",
                f"{name!r} is {len(name)} characters; allowed: at most {MAX_NAME} (pod names and revision labels append to it)",
            )
        namespace = item.name("namespace", required=False) or "default"
        replicas = item.integer("replicas", default=1, minimum=0)
        image = item.text("image", required=True, what="a container image, e.g. nginx:1.27")
        container = item.name("container_name", required=False) or name
        service_name = item.name("service_name", required=False) or name
        labels = {**item.mapping("labels", labels=True), APP_LABEL: name}
        selector = {APP_LABEL: name}
        ports = _ports(item)
        resources = _resources(item)
        policy = item.text("pod_management_policy", default="OrderedReady", choices=POD_MANAGEMENT)
        mounts_seen: dict = {}
        volume_mounts, pod_volumes, templates, oss_paths = [], [], [], []
        for t_index, t_raw in enumerate(item.items("volume_claim_templates")):
            t_path = item.field(f"volume_claim_templates[{t_index}]")
            template = Item(t_raw, t_path, item.obj, TEMPLATE_KEYS)
            t_name = template.name()
            spec, size, modes, volume_mode = class_claim(template, ctx, classes)
            mount = _mount_path(template, "mount_path", mounts_seen)
            mounts_seen[mount] = f"claim template {t_name}"
            if any(t["metadata"]["name"] == t_name for t in templates):
                template.fail(
                    "name", f"template {t_name!r} is declared twice; allowed: unique names"
                )
            if volume_mode == "Block":
                template.fail(
                    "volume_mode",
                    "a template is mounted at mount_path as a file system; allowed: Filesystem",
                )
            for ordinal in range(replicas):
                claim_name = f"{t_name}-{name}-{ordinal}"
                names.pvc(template, "name", namespace, claim_name)
                rows.append(
                    volume_row(
                        claim_name,
                        namespace,
                        spec.type,
                        False,
                        spec.name,
                        size.quantity,
                        modes,
                        None,
                    )
                )
            templates.append(
                {
                    "metadata": {"name": t_name},
                    "spec": claim_spec(size, modes, spec.name, volume_mode),
                }
            )
            volume_mounts.append({"name": t_name, "mountPath": mount})
            if spec.type == "oss":
                oss_paths.append(mount)
        for m_index, m_raw in enumerate(item.items("mounts")):
            mount_item = Item(m_raw, item.field(f"mounts[{m_index}]"), item.obj, MOUNT_KEYS)
            claim = mount_item.name("claim")
            if (namespace, claim) not in claims_index:
                known = sorted(n for ns, n in claims_index if ns == namespace)
                mount_item.fail(
                    "claim",
                    f"claim {namespace}/{claim} is not among the volumes and claims of the plan; "
                    f"allowed: {one_of(known) or 'none in namespace ' + namespace}",
                    allowed=known,
                )
            kind, _owner = claims_index[namespace, claim]
            if kind == "disk" and replicas > 1:
                mount_item.fail(
                    "claim",
                    f"claim {namespace}/{claim} is a cloud disk, which attaches to one node, and "
                    f"{replicas} pods would share it; allowed: replicas 1, a NAS or OSS claim, or "
                    "volume_claim_templates (one disk per pod)",
                )
            mount = _mount_path(mount_item, "mount_path", mounts_seen)
            mounts_seen[mount] = f"claim {claim}"
            volume_name = f"claim-{claim}"[:63].rstrip("-")
            if any(v["name"] == volume_name for v in pod_volumes):
                mount_item.fail(
                    "claim", f"claim {claim} is mounted twice; allowed: each claim once"
                )
            volume_mount = {"name": volume_name, "mountPath": mount}
            if mount_item.flag("read_only", default=False):
                volume_mount["readOnly"] = True
            volume_mounts.append(volume_mount)
            pod_volumes.append({"name": volume_name, "persistentVolumeClaim": {"claimName": claim}})
            if kind == "oss":
                oss_paths.append(mount)
        probe = item.flag("oss_liveness_probe", default=False)
        if probe and not oss_paths:
            item.fail(
                "oss_liveness_probe",
                "the pods mount no OSS volume; allowed: true only with an OSS mount",
            )
        if oss_paths and not probe:
            ctx.warn(
                item.obj,
                "mounts OSS without oss_liveness_probe: a pod keeps running on a dead FUSE mount after a plugin upgrade",
            )
        if resources is None:
            ctx.warn(
                item.obj, "no resources: set requests and limits (the guide's workload hygiene)"
            )
        if replicas < 3:
            ctx.warn(
                item.obj,
                f"{replicas} replica(s): the guide asks for at least 3 to avoid a single point of failure",
            )

        container_spec: dict = {"name": container, "image": image}
        command = item.strings("command")
        if command:
            container_spec["command"] = command
        args = item.strings("args")
        if args:
            container_spec["args"] = args
        env = _env(item)
        if env:
            container_spec["env"] = env
        if ports:
            container_spec["ports"] = [
                {"name": p["name"], "containerPort": p["port"], "protocol": p["protocol"]}
                for p in ports
            ]
        if resources:
            container_spec["resources"] = resources
        if volume_mounts:
            container_spec["volumeMounts"] = volume_mounts
        if probe:
            script = " && ".join(f"cd {path}" for path in oss_paths)
            container_spec["livenessProbe"] = {
                "exec": {"command": ["sh", "-c", script]},
                **PROBE_TIMING,
            }
        pod_spec: dict = {"containers": [container_spec]}
        if pod_volumes:
            pod_spec["volumes"] = pod_volumes
        sts_spec = {
            "serviceName": service_name,
            "replicas": replicas,
            "podManagementPolicy": policy,
            "selector": {"matchLabels": selector},
            # Scaling in or deleting the set keeps the claims: data outlives pods.
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Retain",
            },
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        }
        if templates:
            sts_spec["volumeClaimTemplates"] = templates
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(service_name, namespace, {APP_LABEL: name}),
            "spec": {"clusterIP": "None", "selector": selector},
        }
        if ports:
            service["spec"]["ports"] = [
                {
                    "name": p["name"],
                    "port": p["port"],
                    "targetPort": p["port"],
                    "protocol": p["protocol"],
                }
                for p in ports
            ]
        if any(
            s["metadata"]["namespace"] == namespace and s["metadata"]["name"] == service_name
            for s in services
        ):
            item.fail(
                "service_name",
                f"Service {namespace}/{service_name} is also made for another statefulset; allowed: unique names",
            )
        if any(
            s["metadata"]["namespace"] == namespace and s["metadata"]["name"] == name for s in sets
        ):
            item.fail(
                "name", f"statefulset {namespace}/{name} is declared twice; allowed: unique names"
            )
        services.append(service)
        sets.append(
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": metadata(name, namespace, labels),
                "spec": sts_spec,
            }
        )
    return services, sets, rows
