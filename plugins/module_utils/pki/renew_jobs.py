# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The in-cluster renewal Jobs of ACK guide 2.2/2.3, without the CA key.

Plain functions on plain data (Node objects as the API returns them, as
dicts); the output is batch/v1 Job manifests:

* one Job per master, pinned to its node (nodeAffinity on
  ``kubernetes.io/hostname``), tolerating the master/control-plane taints and
  that node's own taints; privileged, hostNetwork, hostPID, the host's ``/``
  at ``/host``; by default it runs ``kubeadm certs renew all`` on the host
  (where the CA key already is), after a backup ``k8s_cert_backup`` can
  restore; the runbook restarts the control plane and checks it;
* one Job for all workers, ``completions = parallelism =`` their number, one
  pod per node (podAntiAffinity on ``job-name``), tolerating each distinct
  taint the workers carry. It receives no key material: by default it only
  prints each node's kubelet client certificate expiry, because a worker's
  credential is renewed through the CSR API (kubelet rotation) or the SSH
  path, never with the CA key handed to a pod.

Given the cluster's ClusterConfiguration, each master Job also gets a
ConfigMap (created and deleted with it) holding only that document, stripped
to what a renewal reads (no extraArgs/extraEnvs/extraVolumes, which may carry
credentials), mounted into the pod; the built-in command hands it to
``kubeadm certs renew all --config``, so kubeadm renews for the cluster's
``certificateValidityPeriod`` with its ``encryptionAlgorithm`` (and the
runbook's overrides) instead of its defaults.

``JobsError`` names the node or option at fault. Commands that carry a
private key or the CA key's path are refused.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import PKIError
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.issue import KEY_ALGORITHMS
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.kubeadm_config import (
    find_cluster_configuration,
    parse_duration,
)

DEFAULT_NAMESPACE = "kube-system"
DEFAULT_IMAGE = "busybox:1.36"
DEFAULT_NAME_PREFIX = "ackops-renew-certs"
DEFAULT_ACTIVE_DEADLINE_SECONDS = 3600
HOSTNAME_LABEL = "kubernetes.io/hostname"
HOST_ROOT = "/host"
MASTER_ROLE_KEYS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
MASTER_TOLERATIONS = [
    {"key": key, "operator": "Exists", "effect": "NoSchedule"} for key in reversed(MASTER_ROLE_KEYS)
]

# Runs on the master's own root (``chroot /host``): back up what
# ``kubeadm certs renew all`` rewrites into ACKOPS_BACKUP, in the layout and
# with the manifest.json that ackops.runbooks.k8s_cert_backup restores (pki/ as
# a tree, links followed; each kubeconfig under kubeconfigs/; modes kept in the
# manifest), then renew with the host's kubeadm (the CA key is read where it
# is). It does not restart anything: the runbook restarts the control plane the
# way the SSH method does, checks its health and restores this backup when the
# check fails. Nothing secret is in the text.
#
# With ACKOPS_KUBEADM_CONFIG set, the ClusterConfiguration arrives on standard
# input (MASTER_LAUNCH redirects the mounted ConfigMap's file into it: after
# the chroot the container's own files are out of reach); it is kept in the
# backup as kubeadm-config.yaml, the record of the rules this renewal used, and
# given to kubeadm with --config.
MASTER_BACKUP_SCRIPT = """set -eu
umask 077
pki=${ACKOPS_PKI_DIR:-/etc/kubernetes/pki}
confs=${ACKOPS_KUBECONFIG_DIR:-/etc/kubernetes}
stamp=$(date -u +%Y%m%dT%H%M%S).000000Z
backup=${ACKOPS_BACKUP:-/var/lib/ackops/pki-backups/pki-$stamp}
json() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\\\"]/\\\\&/g')"; }
files() { (cd "$1" && find . -type "$2" | sed 's|^[.]/||' | sort); }
names() { sep=""; while IFS= read -r rel; do printf '%s%s' "$sep" "$(json "$rel")"; sep=", "; done; }
if [ -e "$backup" ]; then echo "backup $backup already exists" >&2; exit 1; fi
mkdir -p "$(dirname "$backup")"
mkdir -m 0700 "$backup"
cp -RL "$pki" "$backup/pki"
mkdir -m 0700 "$backup/kubeconfigs"
{
  printf '{"created": %s, "host": %s, "trees": [{"label": "pki", "path": %s, "files": [' \
    "$(json "$stamp")" "$(json "$(hostname)")" "$(json "$pki")"
  files "$backup/pki" f | names
  printf '], "modes": {'
  sep=""
  files "$backup/pki" f | while IFS= read -r rel; do
    printf '%s%s: %d' "$sep" "$(json "$rel")" "$((0$(stat -L -c %a "$pki/$rel")))"; sep=", "
  done
  printf '}, "followed": ['
  files "$pki" l | names
  printf ']}], "files": ['
  sep=""
  for name in admin.conf super-admin.conf controller-manager.conf scheduler.conf kubelet.conf; do
    [ -f "$confs/$name" ] || continue
    cp -L "$confs/$name" "$backup/kubeconfigs/$name"
    printf '%s{"path": %s, "copy": %s, "mode": %d}' "$sep" "$(json "$confs/$name")" \
      "$(json "kubeconfigs/$name")" "$((0$(stat -L -c %a "$confs/$name")))"; sep=", "
  done
  printf ']}\n'
} > "$backup/manifest.json"
chmod -R go-rwx "$backup"
echo "backup: $backup"
"""
MASTER_RENEW_SCRIPT = """if [ -n "${ACKOPS_KUBEADM_CONFIG:-}" ]; then
  cat > "$backup/kubeadm-config.yaml"
  echo "kubeadm certs renew all --config $backup/kubeadm-config.yaml (the cluster's ClusterConfiguration)"
  kubeadm certs renew all --config "$backup/kubeadm-config.yaml" --cert-dir "$pki"
else
  echo "no ClusterConfiguration given: kubeadm reads the cluster's through admin.conf and falls back to its defaults (8760h, RSA-2048) when it cannot"
  kubeadm certs renew all --cert-dir "$pki"
fi
"""
MASTER_SCRIPT = MASTER_BACKUP_SCRIPT + MASTER_RENEW_SCRIPT
# The container's side: hand the mounted ClusterConfiguration (when there is
# one) to the script in the host's root on standard input. $1 is the script.
MASTER_LAUNCH = """if [ -n "${ACKOPS_KUBEADM_CONFIG:-}" ]; then
  exec chroot /host /bin/sh -c "$1" < "$ACKOPS_KUBEADM_CONFIG"
fi
exec chroot /host /bin/sh -c "$1" < /dev/null
"""
# Workers get no key: report the kubelet client credential, which the kubelet
# renews itself through the CSR API (or the SSH path renews).
WORKER_SCRIPT = """set -eu
openssl x509 -noout -subject -enddate -in /var/lib/kubelet/pki/kubelet-client-current.pem
"""
DEFAULT_MASTER_COMMAND = ["/bin/sh", "-c", MASTER_LAUNCH, "ackops-renew-certs", MASTER_SCRIPT]
DEFAULT_WORKER_COMMAND = ["chroot", HOST_ROOT, "/bin/sh", "-c", WORKER_SCRIPT]

# Text that must never reach a Job: key material or the CA key's file.
_FORBIDDEN = (
    ("a PEM private key", re.compile(r"PRIVATE KEY")),
    ("the CA key file ca.key", re.compile(r"(^|[/\s'\"=])(etcd/)?ca\.key\b")),
    ("the CA key file front-proxy-ca.key", re.compile(r"front-proxy-ca\.key")),
)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class JobsError(RunbookError, ValueError):
    """The Jobs cannot be generated as asked; the message says which node or option and why."""


# Where the master Job's pod sees the ClusterConfiguration (a ConfigMap volume).
KUBEADM_CONFIG_DIR = "/ackops/kubeadm"
KUBEADM_CONFIG_KEY = "ClusterConfiguration"
KUBEADM_CONFIG_FILE = f"{KUBEADM_CONFIG_DIR}/{KUBEADM_CONFIG_KEY}"
KUBEADM_DEFAULT_VALIDITY = dt.timedelta(hours=8760)
KUBEADM_DEFAULT_ALGORITHM = "RSA-2048"
# What `kubeadm certs renew` reads of a ClusterConfiguration: the rest (the
# components' extraArgs, extraEnvs, extraVolumes, DNS, networking, images) is
# not needed to renew and may carry credentials, so it never reaches the Job.
# kubernetesVersion stays: without it kubeadm looks the version up online.
RENEWAL_FIELDS = (
    "apiVersion",
    "kind",
    "kubernetesVersion",
    "clusterName",
    "certificatesDir",
    "certificateValidityPeriod",
    "caCertificateValidityPeriod",
    "encryptionAlgorithm",
)
ETCD_FIELDS = {
    "local": ("dataDir", "serverCertSANs", "peerCertSANs"),
    "external": ("endpoints", "caFile", "certFile", "keyFile"),
}
_OLD_API = re.compile(r"^kubeadm\.k8s\.io/v1beta[123]$")


def _go_duration_text(validity: dt.timedelta) -> str:
    """``8760h``, ``4380h30m``: whole seconds, Go's units, no exponent."""
    seconds = round(validity.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours}h" if hours else ""
    text += f"{minutes}m" if minutes else ""
    text += f"{seconds}s" if seconds else ""
    return text or "0s"


def _renewal_subset(config: dict) -> tuple[dict, list[str]]:
    """Only the fields a renewal reads, and the top-level fields left out."""
    kept = {key: config[key] for key in RENEWAL_FIELDS if config.get(key) is not None}
    gates = config.get("featureGates")
    if isinstance(gates, dict):
        kept["featureGates"] = {k: v for k, v in gates.items() if isinstance(v, bool)}
    dropped = []
    etcd = config.get("etcd")
    if isinstance(etcd, dict):
        for mode, fields in ETCD_FIELDS.items():
            if isinstance(etcd.get(mode), dict):
                kept.setdefault("etcd", {})[mode] = {
                    key: etcd[mode][key] for key in fields if etcd[mode].get(key) is not None
                }
                dropped += [f"etcd.{mode}.{key}" for key in etcd[mode] if key not in fields]
    dropped += [key for key in config if key not in kept]
    return kept, sorted(dropped)


def kubeadm_cluster_configuration(
    cluster_configuration=None,
    *,
    cert_dir: str = "/etc/kubernetes/pki",
    validity_hours=None,
    key_algorithm: str | None = None,
) -> dict:
    """The ClusterConfiguration document ``kubeadm certs renew all --config`` gets.

    ``cluster_configuration`` is what pre-flight read (the kubeadm-config
    ConfigMap's text, a mapping, a ConfigMap object, or a kubeadm config file
    of several documents: only the ClusterConfiguration is taken).
    ``validity_hours`` and ``key_algorithm`` are the lifetime and key type the
    runbook decided (its role variables, the threshold rule); they are
    written over the cluster's when they differ from what kubeadm would
    apply. ``certificatesDir`` is always ``cert_dir``: kubeadm prefers the
    file's to ``--cert-dir``, and the Job backs up ``cert_dir``.

    Returns ``document`` (a mapping, or None: run kubeadm without --config),
    ``source`` (``cluster``: from ``cluster_configuration``; ``run``: made of
    this run's settings alone, the cluster's was not known; None), ``validity`` and ``key_algorithm`` (what kubeadm will apply), ``dropped``
    (top-level fields left out) and ``overridden`` (fields the runbook set).
    """
    where = "ClusterConfiguration"
    none = {
        "document": None,
        "source": None,
        "validity": None,
        "key_algorithm": None,
        "dropped": [],
        "overridden": [],
    }
    if cluster_configuration:
        try:
            config = find_cluster_configuration(cluster_configuration, where)
        except PKIError as exc:
            raise JobsError(f"cluster_configuration: {exc.cause}") from None
        if not isinstance(config, dict):
            raise JobsError(f"cluster_configuration: not a mapping: {config!r:.80}")
        document, dropped = _renewal_subset(config)
        document.setdefault("apiVersion", "kubeadm.k8s.io/v1beta4")
        document["kind"] = "ClusterConfiguration"
    elif validity_hours is None and not key_algorithm:
        return none
    else:
        document, dropped = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": KUBEADM_CONFIG_KEY}, []
    old_api = bool(_OLD_API.match(str(document["apiVersion"])))
    try:
        current = (
            parse_duration(
                document["certificateValidityPeriod"], where, "certificateValidityPeriod"
            )
            if document.get("certificateValidityPeriod") is not None
            else KUBEADM_DEFAULT_VALIDITY
        )
    except PKIError as exc:
        raise JobsError(f"cluster_configuration.certificateValidityPeriod: {exc.cause}") from None
    algorithm = document.get("encryptionAlgorithm") or KUBEADM_DEFAULT_ALGORITHM
    if algorithm not in KEY_ALGORITHMS:
        raise JobsError(
            f"cluster_configuration: encryptionAlgorithm must be one of "
            f"{', '.join(KEY_ALGORITHMS)}, got {algorithm!r}"
        )
    overridden = []
    wanted = {}
    if validity_hours is not None:
        if isinstance(validity_hours, bool) or not isinstance(validity_hours, (int, float)):
            raise JobsError(f"validity_hours: must be a number, got {validity_hours!r}")
        if validity_hours <= 0:
            raise JobsError(f"validity_hours: must be more than 0, got {validity_hours!r}")
        lifetime = dt.timedelta(hours=validity_hours)
        if abs(lifetime - current) >= dt.timedelta(seconds=1):
            wanted["certificateValidityPeriod"] = _go_duration_text(lifetime)
            current = lifetime
    if key_algorithm:
        if key_algorithm not in KEY_ALGORITHMS:
            raise JobsError(
                f"key_algorithm: must be one of {', '.join(KEY_ALGORITHMS)}, got {key_algorithm!r}"
            )
        if key_algorithm != algorithm:
            wanted["encryptionAlgorithm"] = key_algorithm
            algorithm = key_algorithm
    if wanted and old_api:
        raise JobsError(
            f"cluster_configuration: {document['apiVersion']} has no "
            f"{' or '.join(sorted(wanted))}: kubeadm would renew for 8760h with RSA-2048 keys, "
            f"not {', '.join(f'{k} {v}' for k, v in sorted(wanted.items()))} as this run "
            "decided; use renew_certs_method=ssh, or upgrade to kubeadm 1.31+ (v1beta4)"
        )
    if not cluster_configuration and not wanted:
        return none  # kubeadm's defaults are what this run decided: no --config
    for key, value in wanted.items():
        document[key] = value
        overridden.append(key)
    document["certificatesDir"] = cert_dir
    # Plain types only (Ansible hands tagged str subclasses, which YAML cannot dump).
    document = json.loads(json.dumps(document, default=str))
    for what, pattern in _FORBIDDEN[:1]:
        if pattern.search(repr(document)):
            raise JobsError(
                f"cluster_configuration: refused, it carries {what}: it would be copied into a "
                "ConfigMap for the Job"
            )
    return {
        "document": document,
        "source": "cluster" if cluster_configuration else "run",
        "validity": _go_duration_text(current),
        "key_algorithm": algorithm,
        "dropped": dropped,
        "overridden": overridden,
    }


def _config_map(name: str, namespace: str, document: dict) -> dict:
    import yaml  # the controller's (filters run there); not needed by callers without a config

    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "ackops-runbooks",
                "ackops.io/renew-certs": "master",
            },
        },
        "data": {KUBEADM_CONFIG_KEY: yaml.safe_dump(document, sort_keys=False)},
    }


def _string_map(value, option: str) -> dict:
    """A mapping of strings to strings (annotations, environment), or {} for None."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise JobsError(f"{option}: must be a mapping of names to strings, got {value!r:.120}")
    return dict(value)


def _name(node: dict) -> str:
    try:
        return node["metadata"]["name"]
    except (KeyError, TypeError) as exc:
        raise JobsError(f"not a Node object (no metadata.name): {node!r:.120}") from exc


def _labels(node: dict) -> dict:
    return (node.get("metadata") or {}).get("labels") or {}


def _taints(node: dict) -> list[dict]:
    return (node.get("spec") or {}).get("taints") or []


def hostname_of(node: dict) -> str:
    """The node's ``kubernetes.io/hostname`` label (what nodeAffinity matches), else its name."""
    return _labels(node).get(HOSTNAME_LABEL) or _name(node)


def is_master(node: dict) -> bool:
    keys = set(_labels(node)) | {taint.get("key") for taint in _taints(node)}
    return any(key in keys for key in MASTER_ROLE_KEYS)


def tolerations_for(nodes: list[dict]) -> list[dict]:
    """One toleration per distinct taint (key, value, effect) of ``nodes``, in a stable order."""
    seen = set()
    for node in nodes:
        for taint in _taints(node):
            if not taint.get("key") or not taint.get("effect"):
                raise JobsError(f"node {_name(node)}: taint without key or effect: {taint!r}")
            seen.add((taint["key"], taint.get("value") or "", taint["effect"]))
    tolerations = []
    for key, value, effect in sorted(seen):
        if value:
            tolerations.append({"key": key, "operator": "Equal", "value": value, "effect": effect})
        else:
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    return tolerations


def _merge(*lists: list[dict]) -> list[dict]:
    merged = []
    for toleration in (item for items in lists for item in items):
        if toleration not in merged:
            merged.append(toleration)
    return merged


def check_command(command, option: str) -> list[str]:
    """A list of strings with no key material and no CA key path in it."""
    if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
        raise JobsError(f"{option}: must be a non-empty list of strings, got {command!r:.120}")
    for argument in command:
        for what, pattern in _FORBIDDEN:
            if pattern.search(argument):
                raise JobsError(
                    f"{option}: refused, it carries {what}: "
                    "the CA key never goes into a Job; masters read it "
                    "on the host, workers renew through the CSR API or the SSH path"
                )
    return list(command)


def _pod_spec(
    image: str, command: list[str], affinity: dict, tolerations: list[dict], env: list[dict]
) -> dict:
    container = {
        "name": "renew-certs",
        "image": image,
        "command": command,
        "securityContext": {"privileged": True},
        "volumeMounts": [{"name": "host-root", "mountPath": HOST_ROOT}],
        # The end of the output is the failed pod's message (the runbook shows it).
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if env:
        container["env"] = env
    return {
        "restartPolicy": "Never",
        "hostNetwork": True,
        "hostPID": True,
        "affinity": affinity,
        "tolerations": tolerations,
        "containers": [container],
        "volumes": [{"name": "host-root", "hostPath": {"path": "/", "type": "Directory"}}],
    }


def _job(
    name: str,
    namespace: str,
    role: str,
    count: int,
    pod_spec: dict,
    deadline: int,
    notes: dict,
    pod_annotations: dict,
) -> dict:
    labels = {"app.kubernetes.io/managed-by": "ackops-runbooks", "ackops.io/renew-certs": role}
    template_meta: dict = {"labels": labels}
    if pod_annotations:
        template_meta["annotations"] = dict(pod_annotations)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": notes},
        "spec": {
            "backoffLimit": 0,
            "completions": count,
            "parallelism": count,
            "activeDeadlineSeconds": deadline,
            "template": {"metadata": template_meta, "spec": pod_spec},
        },
    }


def _hostname_affinity(hostnames: list[str]) -> dict:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": HOSTNAME_LABEL, "operator": "In", "values": hostnames}
                        ]
                    }
                ]
            }
        }
    }


def _pick(nodes: list[dict], names: list[str] | None, want_master: bool, option: str) -> list[dict]:
    by_name = {_name(node): node for node in nodes}
    if names is None:
        return [node for node in nodes if is_master(node) == want_master]
    missing = [name for name in names if name not in by_name]
    if missing:
        raise JobsError(f"{option}: no Node named {', '.join(missing)} in the cluster")
    return [by_name[name] for name in names]


def renew_jobs(
    nodes: list[dict],
    *,
    masters: list[str] | None = None,
    workers: list[str] | None = None,
    image: str = DEFAULT_IMAGE,
    master_command: list[str] | None = None,
    worker_command: list[str] | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    name_prefix: str = DEFAULT_NAME_PREFIX,
    active_deadline_seconds: int = DEFAULT_ACTIVE_DEADLINE_SECONDS,
    pod_annotations: dict | None = None,
    environment: dict | None = None,
    cluster_configuration=None,
    validity_hours=None,
    key_algorithm: str | None = None,
) -> dict:
    """The master Jobs (one per master, in order) and the worker Job (None without workers).

    ``masters``/``workers`` are Node names; when omitted they come from the
    nodes' control-plane/master role labels and taints. ``pod_annotations``
    go on every Job's pod template; ``environment`` (name -> value) is given
    to the master Jobs' container (the built-in command reads
    ``ACKOPS_BACKUP``, ``ACKOPS_PKI_DIR`` and ``ACKOPS_KUBECONFIG_DIR``).

    ``cluster_configuration``, ``validity_hours`` and ``key_algorithm`` make
    the ClusterConfiguration kubeadm renews with (kubeadm_cluster_configuration);
    when there is one, each master Job gets a ConfigMap of its own
    (``config_maps``, in the order of ``masters``; None without) mounted at
    KUBEADM_CONFIG_DIR, its file's path in ``ACKOPS_KUBEADM_CONFIG``.
    ``kubeadm_config`` says what kubeadm will apply.
    """
    if not isinstance(nodes, list):
        raise JobsError(f"expected a list of Node objects, got {type(nodes).__name__}")
    if not image or not isinstance(image, str):
        raise JobsError(f"image: must be a non-empty string, got {image!r}")
    if not _DNS_LABEL.match(name_prefix) or len(name_prefix) > 40:
        raise JobsError(
            f"name_prefix: {name_prefix!r} must be a DNS label of at most 40 characters"
        )
    if not isinstance(active_deadline_seconds, int) or active_deadline_seconds <= 0:
        raise JobsError(
            f"active_deadline_seconds: must be a positive integer, got {active_deadline_seconds!r}"
        )
    annotations = _string_map(pod_annotations, "pod_annotations")
    env = [
        {"name": name, "value": value}
        for name, value in _string_map(environment, "environment").items()
    ]
    for item in env:
        check_command([item["value"]], f"environment.{item['name']}")
    if any(item["name"] == "ACKOPS_KUBEADM_CONFIG" for item in env):
        raise JobsError("environment.ACKOPS_KUBEADM_CONFIG: set by the generator, not a caller")
    kubeadm = kubeadm_cluster_configuration(
        cluster_configuration,
        cert_dir=(environment or {}).get("ACKOPS_PKI_DIR") or "/etc/kubernetes/pki",
        validity_hours=validity_hours,
        key_algorithm=key_algorithm or None,
    )
    master_command = check_command(master_command or DEFAULT_MASTER_COMMAND, "master_command")
    worker_command = check_command(worker_command or DEFAULT_WORKER_COMMAND, "worker_command")
    master_nodes = _pick(nodes, masters, True, "masters")
    worker_nodes = _pick(nodes, workers, False, "workers")
    overlap = {_name(n) for n in master_nodes} & {_name(n) for n in worker_nodes}
    if overlap:
        raise JobsError(f"nodes both master and worker: {', '.join(sorted(overlap))}")

    master_jobs, config_maps = [], []
    for index, node in enumerate(master_nodes, start=1):
        name = f"{name_prefix}-master-{index}"
        config_map = None
        master_env = env
        if kubeadm["document"] is not None:
            config_map = _config_map(f"{name}-kubeadm-config", namespace, kubeadm["document"])
            master_env = [
                *env,
                {"name": "ACKOPS_KUBEADM_CONFIG", "value": KUBEADM_CONFIG_FILE},
            ]
        config_maps.append(config_map)
        spec = _pod_spec(
            image,
            master_command,
            _hostname_affinity([hostname_of(node)]),
            _merge(MASTER_TOLERATIONS, tolerations_for([node])),
            master_env,
        )
        if config_map is not None:
            spec["volumes"].append(
                {"name": "kubeadm-config", "configMap": {"name": config_map["metadata"]["name"]}}
            )
            spec["containers"][0]["volumeMounts"].append(
                {"name": "kubeadm-config", "mountPath": KUBEADM_CONFIG_DIR, "readOnly": True}
            )
        master_jobs.append(
            _job(
                name,
                namespace,
                "master",
                1,
                spec,
                active_deadline_seconds,
                {"ackops.io/node-name": _name(node)},
                annotations,
            )
        )

    worker_job = None
    if worker_nodes:
        name = f"{name_prefix}-workers"
        affinity = _hostname_affinity([hostname_of(node) for node in worker_nodes])
        affinity["podAntiAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {
                        "matchExpressions": [
                            {"key": "job-name", "operator": "In", "values": [name]}
                        ]
                    },
                    "topologyKey": HOSTNAME_LABEL,
                }
            ]
        }
        spec = _pod_spec(image, worker_command, affinity, tolerations_for(worker_nodes), [])
        worker_job = _job(
            name,
            namespace,
            "worker",
            len(worker_nodes),
            spec,
            active_deadline_seconds,
            {"ackops.io/node-names": ",".join(_name(node) for node in worker_nodes)},
            annotations,
        )
    return {
        "masters": master_jobs,
        "config_maps": config_maps,
        "kubeadm_config": {
            "given": kubeadm["document"] is not None,
            **{
                key: kubeadm[key]
                for key in ("source", "validity", "key_algorithm", "dropped", "overridden")
            },
        },
        "worker": worker_job,
        "master_nodes": [_name(node) for node in master_nodes],
        "worker_nodes": [_name(node) for node in worker_nodes],
        "worker_count": len(worker_nodes),
    }
