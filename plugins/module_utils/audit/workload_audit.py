"""Workload checks (guide section 1.5, plus the security checks of Polaris and
kube-score) on plain Kubernetes object dicts.

The same checks run on live objects (as the API returns them, camelCase keys)
and on manifests read from files. Check ids follow Polaris where Polaris has the
same check, so tools that read Polaris results understand them.

Nothing in here trusts the shape of an object: manifests come from people and
from half-rendered templates. Every field is read through ``_Fields``, which
records a wrong type as an ``invalidObject`` finding naming the field, and the
object's other checks go on with the field treated as absent.

The audit streams: ``Auditor.add`` checks one object and keeps only what the
checks across objects need (labels, replicas, selectors), so memory follows
the number of results, not the size of the manifests.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.selectors import matches

SEVERITIES = ("warning", "danger")  # Polaris' vocabulary, least severe first
EXEMPT_ANNOTATION = "ackops.runbooks/exempt-checks"
ANNOTATION_PREFIX = "ackops.runbooks/"
DEFAULT_TARGET_VERSION = "1.37"  # the lab's minor
MIN_REPLICAS = 3

# Built-in workload kinds, by API group ("" is the core group).
LONG_RUNNING_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
)
REPLICATED_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")
_BUILTIN_WORKLOAD_GROUPS = {
    "Pod": ("",),
    "ReplicationController": ("",),
    "Deployment": ("apps", "extensions"),
    "StatefulSet": ("apps",),
    "DaemonSet": ("apps", "extensions"),
    "ReplicaSet": ("apps", "extensions"),
    "Job": ("batch",),
    "CronJob": ("batch",),
}
# Kinds a controller creates: audited through their owner when they have one.
_OWNED_KINDS = ("Pod", "ReplicaSet", "Job", "ControllerRevision")
# Custom workloads known to run long with replicas (their spec.replicas counts).
_CUSTOM_LONG_RUNNING = ("Rollout", "CloneSet", "StatefulSet", "DaemonSet", "UnitedDeployment")
_CUSTOM_REPLICATED = ("Rollout", "CloneSet", "StatefulSet")
# Objects the checks across objects read.
SUPPORT_KINDS = ("PodDisruptionBudget", "HorizontalPodAutoscaler", "Service", "NetworkPolicy")

# Capabilities the Pod Security Standards' baseline profile allows adding; any
# other added capability (SYS_ADMIN, NET_RAW, ALL, ...) is a finding.
BASELINE_CAPABILITIES = frozenset(
    (
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    )
)
_SECCOMP_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"


@dataclass(frozen=True)
class Check:
    id: str
    level: str  # controller, pod or container
    severity: str
    category: str
    failure: str
    success: str
    fix: str


def _c(*args) -> Check:
    return Check(*args)


CHECKS = {
    check.id: check
    for check in (
        _c(
            "cpuRequestsMissing",
            "container",
            "danger",
            "Efficiency",
            "CPU requests are not set",
            "CPU requests are set",
            "set resources.requests.cpu: the scheduler places pods by requests only",
        ),
        _c(
            "memoryRequestsMissing",
            "container",
            "danger",
            "Efficiency",
            "Memory requests are not set",
            "Memory requests are set",
            "set resources.requests.memory: the scheduler places pods by requests only",
        ),
        _c(
            "cpuLimitsMissing",
            "container",
            "warning",
            "Efficiency",
            "CPU limits are not set",
            "CPU limits are set",
            "set resources.limits.cpu so one container cannot starve its neighbours",
        ),
        _c(
            "memoryLimitsMissing",
            "container",
            "warning",
            "Efficiency",
            "Memory limits are not set",
            "Memory limits are set",
            "set resources.limits.memory so a leak is OOM-killed instead of the node",
        ),
        _c(
            "livenessProbeMissing",
            "container",
            "warning",
            "Reliability",
            "Liveness probe is not set",
            "Liveness probe is set",
            "add a livenessProbe so a hung process is restarted",
        ),
        _c(
            "readinessProbeMissing",
            "container",
            "warning",
            "Reliability",
            "Readiness probe is not set",
            "Readiness probe is set",
            "add a readinessProbe so traffic only reaches pods that can serve it",
        ),
        _c(
            "tagNotSpecified",
            "container",
            "danger",
            "Reliability",
            "Image has no tag or uses latest",
            "Image has a pinned tag",
            "pin the image to a version tag or digest (never latest)",
        ),
        _c(
            "pullPolicyNotAlways",
            "container",
            "warning",
            "Reliability",
            "A mutable image tag (latest or none) is not pulled on every start",
            "Mutable image tags are pulled on every start",
            "pin the image; or set imagePullPolicy: Always so nodes do not run different 'latest's",
        ),
        _c(
            "multipleProcesses",
            "container",
            "warning",
            "Reliability",
            "Container appears to run several processes",
            "Container runs one process",
            "run one process per container; move sshd/helpers to sidecars or kubectl exec",
        ),
        _c(
            "runAsPrivileged",
            "container",
            "danger",
            "Security",
            "Container runs privileged (all host devices and capabilities)",
            "Container is not privileged",
            "remove securityContext.privileged; add only the capability the process needs",
        ),
        _c(
            "runAsRootAllowed",
            "container",
            "danger",
            "Security",
            "Container may run as root (no runAsNonRoot: true or non-zero runAsUser)",
            "Container cannot run as root",
            "set securityContext.runAsNonRoot: true and a non-zero runAsUser",
        ),
        _c(
            "privilegeEscalationAllowed",
            "container",
            "danger",
            "Security",
            "Privilege escalation is allowed (allowPrivilegeEscalation is not false)",
            "Privilege escalation is not allowed",
            "set securityContext.allowPrivilegeEscalation: false",
        ),
        _c(
            "notReadOnlyRootFilesystem",
            "container",
            "warning",
            "Security",
            "Root filesystem is writable",
            "Root filesystem is read-only",
            "set securityContext.readOnlyRootFilesystem: true; mount an emptyDir where it writes",
        ),
        _c(
            "dangerousCapabilities",
            "container",
            "danger",
            "Security",
            "Adds capabilities beyond the Pod Security baseline",
            "Adds no capability beyond the Pod Security baseline",
            "remove the capability from securityContext.capabilities.add (never ALL, SYS_ADMIN, NET_RAW)",
        ),
        _c(
            "insecureCapabilities",
            "container",
            "warning",
            "Security",
            "Default capabilities are not dropped (capabilities.drop lacks ALL)",
            "All default capabilities are dropped",
            "set securityContext.capabilities.drop: [ALL] and add back only what is needed",
        ),
        _c(
            "seccompProfileMissing",
            "container",
            "warning",
            "Security",
            "No seccomp profile (RuntimeDefault or Localhost) applies",
            "A seccomp profile applies",
            "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
        ),
        _c(
            "hostNetworkSet",
            "pod",
            "danger",
            "Security",
            "Pod uses the host's network namespace",
            "Pod has its own network namespace",
            "remove hostNetwork; expose the port through a Service",
        ),
        _c(
            "hostPIDSet",
            "pod",
            "danger",
            "Security",
            "Pod shares the host's process namespace",
            "Pod has its own process namespace",
            "remove hostPID",
        ),
        _c(
            "hostIPCSet",
            "pod",
            "danger",
            "Security",
            "Pod shares the host's IPC namespace",
            "Pod has its own IPC namespace",
            "remove hostIPC",
        ),
        _c(
            "hostPortSet",
            "container",
            "warning",
            "Security",
            "Container binds a host port",
            "Container binds no host port",
            "remove ports[].hostPort; expose the port through a Service",
        ),
        _c(
            "hostPathSet",
            "pod",
            "warning",
            "Security",
            "Pod mounts a hostPath volume",
            "Pod mounts no hostPath volume",
            "use a PersistentVolumeClaim, a ConfigMap or an emptyDir instead of hostPath",
        ),
        _c(
            "missingNetworkPolicy",
            "pod",
            "warning",
            "Security",
            "No NetworkPolicy in the audited set selects these pods",
            "A NetworkPolicy selects these pods",
            "add a NetworkPolicy (a default-deny per namespace, then the allowed flows)",
        ),
        _c(
            "restartPolicyMismatch",
            "pod",
            "danger",
            "Reliability",
            "restartPolicy does not suit the kind",
            "restartPolicy suits the kind",
            "use Always for long-running controllers, OnFailure or Never for Jobs",
        ),
        _c(
            "podSpreadMissing",
            "pod",
            "warning",
            "Reliability",
            "Replicas may all land on one node (no anti-affinity or topology spread)",
            "Replicas are spread by anti-affinity or topology spread",
            "add topologySpreadConstraints (or podAntiAffinity) on kubernetes.io/hostname",
        ),
        _c(
            "barePod",
            "controller",
            "danger",
            "Reliability",
            "Bare Pod: nothing recreates it when its node fails",
            "Pod is managed by a controller",
            "run it from a Deployment (or a Job for one-off work)",
        ),
        _c(
            "replicasBelowThree",
            "controller",
            "warning",
            "Reliability",
            f"Fewer than {MIN_REPLICAS} replicas",
            f"At least {MIN_REPLICAS} replicas",
            f"set spec.replicas (or the HPA minReplicas) to {MIN_REPLICAS} or more",
        ),
        _c(
            "missingPodDisruptionBudget",
            "controller",
            "warning",
            "Reliability",
            "No PodDisruptionBudget covers these replicas",
            "A PodDisruptionBudget covers them",
            "add a policy/v1 PodDisruptionBudget (e.g. maxUnavailable: 1) selecting these pods",
        ),
        _c(
            "serviceTargetsNothing",
            "controller",
            "warning",
            "Reliability",
            "Service selector matches no workload in the audited set",
            "Service selector matches a workload",
            "fix spec.selector to the pod template labels of the workload it serves",
        ),
        _c(
            "deprecatedApiVersion",
            "controller",
            "warning",
            "Reliability",
            "apiVersion is deprecated in the target Kubernetes version",
            "apiVersion is served",
            "move the object to the replacement apiVersion before it is removed",
        ),
        _c(
            "removedApiVersion",
            "controller",
            "danger",
            "Reliability",
            "apiVersion is no longer served by the target Kubernetes version",
            "apiVersion is served",
            "move the object to the replacement apiVersion; the API server rejects this one",
        ),
        _c(
            "invalidObject",
            "controller",
            "danger",
            "Validity",
            "Object is malformed",
            "Object is well formed",
            "fix the field named; the API server would reject or misread it",
        ),
        _c(
            "unknownExemption",
            "controller",
            "warning",
            "Validity",
            "Exemption names an unknown check or annotation (a typo exempts nothing)",
            "Exemptions name known checks",
            f"list known check ids in the annotation {EXEMPT_ANNOTATION}",
        ),
    )
}

# (apiVersion, kind or "*") -> (deprecated in, removed in, replacement), from the
# Kubernetes deprecated API migration guide.
_API_LIFECYCLE = {
    ("extensions/v1beta1", "Deployment"): ("1.8", "1.16", "apps/v1"),
    ("extensions/v1beta1", "DaemonSet"): ("1.8", "1.16", "apps/v1"),
    ("extensions/v1beta1", "ReplicaSet"): ("1.8", "1.16", "apps/v1"),
    ("extensions/v1beta1", "NetworkPolicy"): ("1.9", "1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.10", "1.16", "policy/v1beta1"),
    ("extensions/v1beta1", "Ingress"): ("1.14", "1.22", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "*"): ("1.8", "1.22", "the group's GA API"),
    ("apps/v1beta1", "*"): ("1.9", "1.16", "apps/v1"),
    ("apps/v1beta2", "*"): ("1.9", "1.16", "apps/v1"),
    ("batch/v2alpha1", "*"): ("1.8", "1.21", "batch/v1"),
    ("batch/v1beta1", "CronJob"): ("1.21", "1.25", "batch/v1"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.21", "1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.21", "1.25", "Pod Security Admission"),
    ("autoscaling/v2beta1", "*"): ("1.22", "1.25", "autoscaling/v2"),
    ("autoscaling/v2beta2", "*"): ("1.23", "1.26", "autoscaling/v2"),
    ("networking.k8s.io/v1beta1", "*"): ("1.19", "1.22", "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*"): ("1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1alpha1", "*"): ("1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "*"): ("1.16", "1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "*"): ("1.19", "1.22", "apiregistration.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"): (
        "1.16",
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"): (
        "1.16",
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    ("certificates.k8s.io/v1beta1", "*"): ("1.19", "1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "*"): ("1.19", "1.22", "coordination.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "*"): ("1.14", "1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.24", "1.27", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "*"): ("1.19", "1.22", "storage.k8s.io/v1"),
    ("discovery.k8s.io/v1beta1", "*"): ("1.21", "1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "*"): ("1.21", "1.25", "events.k8s.io/v1"),
    ("node.k8s.io/v1beta1", "*"): ("1.21", "1.25", "node.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*"): (
        "1.23",
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*"): (
        "1.26",
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*"): (
        "1.29",
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    ("v1", "Endpoints"): ("1.33", None, "discovery.k8s.io/v1 EndpointSlice"),
}

# Signs that a container starts daemons of its own.
_DAEMONS = re.compile(
    r"(?:^|[\s/;&|(])(sshd|supervisord|runsvdir|s6-svscan|dropbear|crond)(?=$|[\s;&|)])"
)
_SERVICE_START = re.compile(
    r"(?:\bservice\s+\S+|\bsystemctl|/etc/init\.d/\S+)\s+(?:start|restart)\b"
)
_NOHUP = re.compile(r"(?:^|[\s;&|])nohup\s")
# A single '&' (not &&, not a redirect such as 2>&1 or &>) backgrounds a process.
_BACKGROUND = re.compile(r"(?<![&>|])&(?![&>])")
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_SHELLS = ("sh", "bash", "ash", "dash", "zsh", "ksh")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$")


def parse_version(value: Any, field: str = "target_version") -> tuple[int, int]:
    """``1.37``, ``v1.37.2`` or ``1.37.0-aliyun.1`` as (major, minor)."""
    match = _VERSION.match(str(value).strip()) if isinstance(value, (str, float)) else None
    if not match:
        raise InputError(field, value, "is not a Kubernetes version such as 1.37 or v1.37.2")
    return int(match.group(1)), int(match.group(2))


def _describe(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    name = names.get(type(value)) or (
        "a number" if isinstance(value, (int, float)) else type(value).__name__
    )
    text = repr(value)
    return f"{name} ({text[:40] + '...' if len(text) > 40 else text})"


_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "true or false",
    int: "a whole number",
}


class _Fields:
    """Typed reads of one object's fields; a wrong type becomes a problem, not an error."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def get(self, mapping: dict, key: str, kind: type, path: str, default: Any = None) -> Any:
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if value is None:
            return default
        wrong = (kind is int and (isinstance(value, bool) or not isinstance(value, int))) or (
            kind is not int and not isinstance(value, kind)
        )
        if wrong:
            self.problems.append(
                (
                    f"{path}.{key}" if path else key,
                    f"is {_describe(value)}, expected {_TYPE_NAMES[kind]}",
                )
            )
            return default
        return value

    def labels(self, mapping: dict, path: str) -> dict:
        """A labels map: string keys to string values; the others are problems, left out."""
        labels = self.get(mapping, "labels", dict, path, {})
        good = {}
        for key, value in labels.items():
            if isinstance(key, str) and isinstance(value, str):
                good[key] = value
            else:
                self.problems.append(
                    (f"{path}.labels.{key}", f"is {_describe(value)}, expected a string")
                )
        return good

    def mapping_items(self, items: list, path: str) -> list[tuple[int, dict]]:
        """The mappings of a list, each other entry a problem."""
        out = []
        for index, item in enumerate(items):
            if isinstance(item, dict):
                out.append((index, item))
            else:
                self.problems.append(
                    (f"{path}[{index}]", f"is {_describe(item)}, expected a mapping")
                )
        return out


def _image_unpinned(image: str) -> bool:
    if "@" in image:
        return False  # a digest pins the image
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] in ("", "latest")


def process_signs(container: dict) -> list[str]:
    """What in a container's command suggests several processes; empty when none."""
    command, args = container.get("command"), container.get("args")
    words = [str(w) for part in (command, args) if isinstance(part, list) for w in part]
    text = " ".join(words)
    signs = [f"starts {m.group(1)}" for m in _DAEMONS.finditer(text)]
    signs += [f"starts a service ('{m.group(0)}')" for m in _SERVICE_START.finditer(text)]
    if _NOHUP.search(text):
        signs.append("uses nohup")
    if words and words[0].rsplit("/", 1)[-1] in _SHELLS and "-c" in words:
        script = " ".join(words[words.index("-c") + 1 :])
        if _BACKGROUND.search(_QUOTED.sub("''", script)):
            signs.append("backgrounds a process with '&'")
    return list(dict.fromkeys(signs))


def api_group(api_version: Any) -> str:
    return str(api_version).rsplit("/", 1)[0] if "/" in str(api_version) else ""


def _api_lifecycle(api_version: str, kind: str, target: tuple[int, int]) -> tuple[str, str] | None:
    """("removedApiVersion" | "deprecatedApiVersion", details) or None when served and current."""
    entry = _API_LIFECYCLE.get((api_version, kind)) or _API_LIFECYCLE.get((api_version, "*"))
    if entry is None:
        return None
    deprecated, removed, replacement = entry
    target_text = f"{target[0]}.{target[1]}"
    if removed and target >= parse_version(removed):
        return "removedApiVersion", (
            f"{api_version} {kind} was removed in Kubernetes {removed} (target {target_text}); "
            f"use {replacement}"
        )
    if target >= parse_version(deprecated):
        until = f", removed in {removed}" if removed else ""
        return "deprecatedApiVersion", (
            f"{api_version} {kind} is deprecated since {deprecated}{until} "
            f"(target {target_text}); use {replacement}"
        )
    return None


# --- exemptions and configuration -------------------------------------------------------

CONFIG_KEYS = ("checks", "exemptions")
EXEMPTION_KEYS = ("checks", "namespaces", "names", "kinds", "annotations", "reason")
SEVERITY_CHOICES = (*SEVERITIES, "ignore")


@dataclass
class AuditConfig:
    """Severity overrides and exemption rules, from the configuration file."""

    severities: dict
    exemptions: list
    warnings: list

    @classmethod
    def empty(cls) -> AuditConfig:
        return cls({}, [], [])


def _str_list(value: Any, field: str, source: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{source}: {field}", value, "must be a string or a list of strings")
    return value


def parse_config(data: Any, source: str = "config") -> AuditConfig:
    """Check a configuration (already parsed YAML); unknown check ids are warnings."""
    if data is None:
        return AuditConfig.empty()
    if not isinstance(data, dict):
        raise InputError(source, data, "must be a mapping with the keys checks and exemptions")
    unknown_keys = sorted(set(data) - set(CONFIG_KEYS))
    if unknown_keys:
        raise InputError(
            f"{source}: {unknown_keys[0]}",
            unknown_keys,
            f"unknown key; known: {', '.join(CONFIG_KEYS)}",
        )
    warnings = []
    severities = {}
    checks = data.get("checks") or {}
    if not isinstance(checks, dict):
        raise InputError(
            f"{source}: checks", checks, "must map check ids to danger, warning or ignore"
        )
    for check, severity in checks.items():
        if severity not in SEVERITY_CHOICES:
            raise InputError(
                f"{source}: checks.{check}",
                severity,
                f"must be one of {', '.join(SEVERITY_CHOICES)}",
            )
        if check not in CHECKS:
            warnings.append(
                f"{source}: checks.{check}: unknown check id (ignored); {_closest(check)}"
            )
            continue
        severities[check] = severity
    rules = data.get("exemptions") or []
    if not isinstance(rules, list):
        raise InputError(f"{source}: exemptions", rules, "must be a list of exemption rules")
    exemptions = []
    for index, rule in enumerate(rules):
        field = f"exemptions[{index}]"
        if not isinstance(rule, dict):
            raise InputError(
                f"{source}: {field}",
                rule,
                "must be a mapping (checks, namespaces, names, kinds, annotations)",
            )
        extra = sorted(set(rule) - set(EXEMPTION_KEYS))
        if extra:
            raise InputError(
                f"{source}: {field}.{extra[0]}",
                extra,
                f"unknown key; known: {', '.join(EXEMPTION_KEYS)}",
            )
        parsed = {
            key: _str_list(rule[key], f"{field}.{key}", source)
            for key in ("checks", "namespaces", "names", "kinds")
            if key in rule
        }
        for check in parsed.get("checks", []):
            if check != "*" and check not in CHECKS:
                warnings.append(
                    f"{source}: {field}.checks: {check!r} is not a check id; {_closest(check)}"
                )
        annotations = rule.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise InputError(
                f"{source}: {field}.annotations",
                annotations,
                "must map annotation keys to values ('*' for any)",
            )
        parsed["annotations"] = {str(k): str(v) for k, v in annotations.items()}
        exemptions.append(parsed)
    return AuditConfig(severities, exemptions, warnings)


def _closest(check: str) -> str:
    import difflib

    near = difflib.get_close_matches(check, list(CHECKS), n=1)
    return f"did you mean {near[0]}?" if near else f"known: {', '.join(sorted(CHECKS))}"


def _rule_matches(rule: dict, ref: dict, annotations: dict) -> bool:
    def any_match(key: str, value: str) -> bool:
        return key not in rule or any(fnmatch.fnmatchcase(value, p) for p in rule[key])

    if not (
        any_match("namespaces", ref["namespace"])
        and any_match("names", ref["name"])
        and any_match("kinds", ref["kind"])
    ):
        return False
    return all(
        key in annotations and (value == "*" or str(annotations[key]) == value)
        for key, value in rule.get("annotations", {}).items()
    )


# --- the audit ----------------------------------------------------------------------------


def object_ref(obj: dict, source: str = "cluster") -> dict:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    kind, name, namespace = obj.get("kind"), meta.get("name"), meta.get("namespace")
    return {
        "kind": kind if isinstance(kind, str) else "",
        "namespace": namespace if isinstance(namespace, str) and namespace else "default",
        "name": name if isinstance(name, str) else "",
        "source": source,
    }


def _restart_policy_ok(kind: str, long_running: bool, policy: str | None) -> tuple[bool, str]:
    if kind == "Pod":
        return policy in (None, "Always", "OnFailure", "Never"), f"restartPolicy {policy}"
    if long_running:
        return policy in (None, "Always"), f"{kind} with restartPolicy {policy}"
    return policy in ("OnFailure", "Never"), f"{kind} with restartPolicy {policy or 'unset'}"


@dataclass
class _Pending:
    """What the checks across objects need of one workload (the object itself is dropped)."""

    ref: dict
    kind: str
    labels: dict
    replicas: int | None
    replicas_checked: bool
    spread: bool
    skipped: set


class Auditor:
    """Feed objects with ``add``; ``finish`` returns every check result and the counts."""

    def __init__(
        self,
        skip_checks: Any = (),
        config: AuditConfig | None = None,
        target_version: Any = DEFAULT_TARGET_VERSION,
    ) -> None:
        skip = list(skip_checks or [])
        unknown = sorted(set(skip) - set(CHECKS))
        if unknown:
            raise InputError(
                "skip_checks",
                unknown,
                f"names unknown check(s); known: {', '.join(sorted(CHECKS))}",
            )
        self.config = config or AuditConfig.empty()
        self.skip = set(skip) | {c for c, s in self.config.severities.items() if s == "ignore"}
        self.target = parse_version(target_version)
        self.results: list[dict] = []
        self.pending: list[_Pending] = []
        self.pdbs: list[tuple[str, Any]] = []
        self.hpas: list[tuple[str, str, str, Any]] = []
        self.services: list[tuple[dict, dict, set]] = []
        self.netpols: list[tuple[str, Any]] = []
        self.audited = 0
        self.skipped: dict[str, int] = {}
        self.notes: list[str] = []

    # -- intake

    def skip_object(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def add(self, obj: Any, source: str = "cluster") -> None:
        if obj is None:  # the reader's mark for YAML that is no Kubernetes object
            self.skip_object("not a Kubernetes object (no apiVersion or kind)")
            return
        if not isinstance(obj, dict):
            self._invalid(
                {"kind": "", "namespace": "default", "name": "", "source": source},
                "(document)",
                f"is {_describe(obj)}, expected a Kubernetes object (a mapping)",
            )
            self.skip_object("not a Kubernetes object")
            return
        ref = object_ref(obj, source)
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if not isinstance(kind, str) or not kind:
            self._invalid(
                ref,
                "kind",
                "is missing" if kind is None else f"is {_describe(kind)}, expected a string",
            )
            self.skip_object("invalid: kind is not a string")
            return
        if not isinstance(api_version, str) or not api_version:
            self._invalid(
                ref,
                "apiVersion",
                "is missing"
                if api_version is None
                else f"is {_describe(api_version)}, expected a string",
            )
        fields = _Fields()
        meta = fields.get(obj, "metadata", dict, "", {})
        annotations = fields.get(meta, "annotations", dict, "metadata", {})
        fields.labels(meta, "metadata")
        for key in ("name", "namespace"):
            fields.get(meta, key, str, "metadata")
        skipped = self._exemptions(ref, annotations)
        if isinstance(api_version, str):
            lifecycle = _api_lifecycle(api_version, kind, self.target)
            if lifecycle:
                self._result(ref, lifecycle[0], None, False, lifecycle[1], skipped)
        owners = meta.get("ownerReferences")
        if kind in SUPPORT_KINDS and api_group(api_version) in (
            "",
            "policy",
            "autoscaling",
            "networking.k8s.io",
        ):
            self._support(obj, kind, ref, fields, skipped)
            self._problems(ref, fields)
            self.skip_object(f"not a workload ({kind}: read by the cross-object checks)")
            return
        workload = self._workload_kind(obj, kind, api_version)
        if workload is None:
            self._problems(ref, fields)
            group = api_group(api_version)
            if kind in _BUILTIN_WORKLOAD_GROUPS or group in _KNOWN_GROUPS:
                self.skip_object(f"not a workload ({kind})")
            else:
                self.skip_object(f"custom kind without a pod template ({kind}.{group or 'core'})")
            return
        if owners and kind in _OWNED_KINDS:
            self.skip_object(f"owned by a controller ({kind}: audited through its owner)")
            return
        self.audited += 1
        self._audit_workload(obj, kind, workload, ref, fields, skipped)
        self._problems(ref, fields)

    def _workload_kind(self, obj: dict, kind: str, api_version: Any) -> str | None:
        """'builtin', 'custom' or None (not a workload)."""
        group = api_group(api_version)
        if group in _BUILTIN_WORKLOAD_GROUPS.get(kind, ()):
            return "builtin"
        if group in _KNOWN_GROUPS:
            return None
        spec = obj.get("spec")
        template = spec.get("template") if isinstance(spec, dict) else None
        if (
            isinstance(template, dict)
            and isinstance(template.get("spec"), dict)
            and "containers" in template["spec"]
        ):
            return "custom"
        return None

    def _support(self, obj: dict, kind: str, ref: dict, fields: _Fields, skipped: set) -> None:
        spec = fields.get(obj, "spec", dict, "", {})
        namespace = ref["namespace"]
        if kind == "PodDisruptionBudget":
            # policy/v1: a null selector matches no pods, an empty one ({}) every pod in
            # the namespace (PodDisruptionBudgetSpec.selector).
            self.pdbs.append((namespace, fields.get(spec, "selector", dict, "spec")))
        elif kind == "HorizontalPodAutoscaler":
            target = fields.get(spec, "scaleTargetRef", dict, "spec", {})
            minimum = fields.get(spec, "minReplicas", int, "spec", 1)
            kind = fields.get(target, "kind", str, "spec.scaleTargetRef")
            name = fields.get(target, "name", str, "spec.scaleTargetRef")
            self.hpas.append((namespace, kind, name, minimum))
        elif kind == "NetworkPolicy":
            self.netpols.append((namespace, fields.get(spec, "podSelector", dict, "spec", {})))
        elif kind == "Service":
            selector = fields.get(spec, "selector", dict, "spec", {})
            bad = [k for k, v in selector.items() if not isinstance(v, str)]
            for key in bad:
                fields.problems.append(
                    (f"spec.selector.{key}", f"is {_describe(selector[key])}, expected a string")
                )
            selector = {k: v for k, v in selector.items() if k not in bad}
            if selector and spec.get("type") != "ExternalName":
                self.services.append((ref, selector, skipped))

    # -- one workload

    def _audit_workload(
        self, obj: dict, kind: str, workload: str, ref: dict, fields: _Fields, skipped: set
    ) -> None:
        spec = fields.get(obj, "spec", dict, "", {})
        if kind == "Pod":
            template_meta, pod_spec, prefix = (
                fields.get(obj, "metadata", dict, "", {}),
                spec,
                "spec",
            )
        else:
            body, base = spec, "spec"
            if kind == "CronJob" and workload == "builtin":
                job = fields.get(spec, "jobTemplate", dict, "spec", {})
                body = fields.get(job, "spec", dict, "spec.jobTemplate", {})
                base = "spec.jobTemplate.spec"
            template = fields.get(body, "template", dict, base, {})
            template_meta = fields.get(template, "metadata", dict, f"{base}.template", {})
            pod_spec = fields.get(template, "spec", dict, f"{base}.template", {})
            prefix = f"{base}.template.spec"
        meta_path = "metadata" if kind == "Pod" else f"{prefix[: -len('.spec')]}.metadata"
        labels = fields.labels(template_meta, meta_path)
        policy = fields.get(pod_spec, "restartPolicy", str, prefix)
        if workload == "custom":
            long_running = kind in _CUSTOM_LONG_RUNNING
        else:
            long_running = kind in LONG_RUNNING_KINDS or (
                kind == "Pod" and policy in (None, "Always")
            )
        pod_sc = fields.get(pod_spec, "securityContext", dict, prefix, {})
        annotations = (
            template_meta.get("annotations")
            if isinstance(template_meta.get("annotations"), dict)
            else {}
        )
        pod_seccomp = _seccomp_type(pod_sc, fields, f"{prefix}.securityContext") or (
            "RuntimeDefault"
            if annotations.get(_SECCOMP_ANNOTATION) in ("runtime/default", "docker/default")
            else None
        )
        containers = []
        for key, label in (
            ("containers", ""),
            ("initContainers", "init:"),
            ("ephemeralContainers", "ephemeral:"),
        ):
            items = fields.get(pod_spec, key, list, prefix, [])
            for index, container in fields.mapping_items(items, f"{prefix}.{key}"):
                path = f"{prefix}.{key}[{index}]"
                name = fields.get(container, "name", str, path, "") or f"#{index}"
                containers.append((label + name, key, container, path))
        if not containers:
            self._invalid(ref, f"{prefix}.containers", "lists no container")
        for name, key, container, path in containers:
            pod = (pod_sc, pod_seccomp, f"{prefix}.securityContext")
            for check, ok, details in self._container_results(
                container, key, long_running, pod, fields, path
            ):
                self._result(ref, check, name, ok, details, skipped)
        for check, field in (
            ("hostNetworkSet", "hostNetwork"),
            ("hostPIDSet", "hostPID"),
            ("hostIPCSet", "hostIPC"),
        ):
            value = fields.get(pod_spec, field, bool, prefix, False)
            self._result(ref, check, None, not value, f"{field}: true" if value else "", skipped)
        volumes = fields.get(pod_spec, "volumes", list, prefix, [])
        host_paths = [
            str(v.get("name"))
            for _i, v in fields.mapping_items(volumes, f"{prefix}.volumes")
            if v.get("hostPath") is not None
        ]
        self._result(
            ref,
            "hostPathSet",
            None,
            not host_paths,
            "volumes " + ", ".join(host_paths) if host_paths else "",
            skipped,
        )
        ok, details = _restart_policy_ok(kind, long_running, policy)
        self._result(ref, "restartPolicyMismatch", None, ok, details, skipped)
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if kind == "Pod":
            self._result(
                ref,
                "barePod",
                None,
                bool(meta.get("ownerReferences")),
                "no ownerReferences",
                skipped,
            )
        replicated = (
            kind in REPLICATED_KINDS if workload == "builtin" else kind in _CUSTOM_REPLICATED
        )
        replicas = fields.get(spec, "replicas", int, "spec", 1) if replicated else None
        affinity = fields.get(pod_spec, "affinity", dict, prefix, {})
        spread = bool(pod_spec.get("topologySpreadConstraints") or affinity.get("podAntiAffinity"))
        self.pending.append(
            _Pending(
                ref,
                kind,
                labels,
                replicas,
                kind in ("Deployment", "StatefulSet", "Rollout", "CloneSet"),
                spread,
                skipped,
            )
        )

    def _container_results(self, container, key, long_running, pod, fields, path):
        pod_sc, pod_seccomp, pod_path = pod
        resources = fields.get(container, "resources", dict, path, {})
        requests = fields.get(resources, "requests", dict, f"{path}.resources", {})
        limits = fields.get(resources, "limits", dict, f"{path}.resources", {})
        for field in ("command", "args", "ports"):
            fields.get(container, field, list, path)
        image = fields.get(container, "image", str, path, "")
        pull = fields.get(container, "imagePullPolicy", str, path)
        sc = fields.get(container, "securityContext", dict, path, {})
        scp = f"{path}.securityContext"
        unpinned = not image or _image_unpinned(image)
        results = [("tagNotSpecified", not unpinned, f"image {image!r}" if image else "no image")]
        if unpinned and image:
            results.append(
                ("pullPolicyNotAlways", pull in (None, "Always"), f"imagePullPolicy {pull}")
            )
        if key != "ephemeralContainers":
            results += [
                ("cpuRequestsMissing", "cpu" in requests, ""),
                ("memoryRequestsMissing", "memory" in requests, ""),
                ("cpuLimitsMissing", "cpu" in limits, ""),
                ("memoryLimitsMissing", "memory" in limits, ""),
            ]
        signs = process_signs(container)
        results.append(("multipleProcesses", not signs, "; ".join(signs)))
        if long_running and key == "containers":
            results += [
                ("livenessProbeMissing", bool(container.get("livenessProbe")), ""),
                ("readinessProbeMissing", bool(container.get("readinessProbe")), ""),
            ]
        privileged = fields.get(sc, "privileged", bool, scp, False)
        results.append(
            ("runAsPrivileged", not privileged, "privileged: true" if privileged else "")
        )
        user = fields.get(sc, "runAsUser", int, scp)
        if user is None:
            user = fields.get(pod_sc, "runAsUser", int, pod_path)
        non_root = fields.get(sc, "runAsNonRoot", bool, scp)
        if non_root is None:
            non_root = fields.get(pod_sc, "runAsNonRoot", bool, pod_path)
        if user == 0:
            results.append(("runAsRootAllowed", False, "runAsUser: 0"))
        else:
            results.append(
                ("runAsRootAllowed", bool(non_root) or (user is not None and user > 0), "")
            )
        escalation = fields.get(sc, "allowPrivilegeEscalation", bool, scp)
        results.append(
            (
                "privilegeEscalationAllowed",
                escalation is False and not privileged,
                "privileged: true"
                if privileged
                else f"allowPrivilegeEscalation: {'unset' if escalation is None else 'true'}",
            )
        )
        read_only = fields.get(sc, "readOnlyRootFilesystem", bool, scp, False)
        results.append(("notReadOnlyRootFilesystem", read_only, ""))
        capabilities = fields.get(sc, "capabilities", dict, scp, {})
        added = [
            str(c).upper() for c in fields.get(capabilities, "add", list, f"{scp}.capabilities", [])
        ]
        dropped = [
            str(c).upper()
            for c in fields.get(capabilities, "drop", list, f"{scp}.capabilities", [])
        ]
        extra = [
            c.removeprefix("CAP_")
            for c in added
            if c.removeprefix("CAP_") not in BASELINE_CAPABILITIES
        ]
        results.append(
            ("dangerousCapabilities", not extra, "adds " + ", ".join(extra) if extra else "")
        )
        results.append(("insecureCapabilities", "ALL" in dropped, ""))
        seccomp = _seccomp_type(sc, fields, scp) or pod_seccomp
        results.append(
            (
                "seccompProfileMissing",
                seccomp in ("RuntimeDefault", "Localhost"),
                f"seccompProfile {seccomp or 'unset'}",
            )
        )
        ports = container.get("ports") if isinstance(container.get("ports"), list) else []
        host_ports = [
            str(p.get("hostPort")) for p in ports if isinstance(p, dict) and p.get("hostPort")
        ]
        results.append(
            (
                "hostPortSet",
                not host_ports,
                "hostPort " + ", ".join(host_ports) if host_ports else "",
            )
        )
        return results

    # -- results

    def _exemptions(self, ref: dict, annotations: dict) -> set:
        skipped = set(self.skip)
        for rule in self.config.exemptions:
            if _rule_matches(rule, ref, annotations):
                skipped |= set(rule.get("checks") or ["*"])
        if "*" in skipped:
            skipped |= set(CHECKS) - {"invalidObject", "unknownExemption"}
        typos = []
        for key, value in annotations.items():
            if str(key).startswith(ANNOTATION_PREFIX) and key != EXEMPT_ANNOTATION:
                typos.append(f"annotation {key} is not {EXEMPT_ANNOTATION}")
            elif key == EXEMPT_ANNOTATION:
                for check in (c.strip() for c in str(value).split(",")):
                    if not check:
                        continue
                    if check in CHECKS:
                        skipped.add(check)
                    else:
                        typos.append(
                            f"{check!r} in {EXEMPT_ANNOTATION} is not a check id; {_closest(check)}"
                        )
        for typo in typos:
            self._result(ref, "unknownExemption", None, False, typo, set())
        return skipped

    def _result(self, ref, check, container, ok, details, skipped=frozenset()) -> None:
        if check in skipped:
            return
        self.results.append(
            {
                "object": ref,
                "check": check,
                "level": CHECKS[check].level,
                "container": container,
                "success": bool(ok),
                "details": details if not ok else "",
            }
        )

    def _invalid(self, ref, field, cause) -> None:
        """A malformed object is never exempt: a typo must not hide itself."""
        self._result(ref, "invalidObject", None, False, f"{field} {cause}")

    def _problems(self, ref, fields: _Fields) -> None:
        for field, cause in dict.fromkeys(fields.problems):
            self._invalid(ref, field, cause)

    # -- across objects

    def finish(self) -> dict:
        """Run the checks across objects; return results, counts and notes."""
        hpa_min = {}
        for namespace, kind, name, minimum in self.hpas:
            key = (namespace, kind, name)
            hpa_min[key] = max(hpa_min.get(key, 1), minimum)
        # Indexes by namespace (and pod label), so that thousands of workloads
        # and Services are matched in linear time, not pairwise.
        pdbs: dict[str, list] = {}
        for namespace, selector in self.pdbs:
            pdbs.setdefault(namespace, []).append(selector)
        netpols: dict[str, list] = {}
        for namespace, selector in self.netpols:
            netpols.setdefault(namespace, []).append(selector)
        by_label: dict[tuple, list] = {}
        for item in self.pending:
            namespace = item.ref["namespace"]
            for key, value in item.labels.items():
                if not isinstance(value, str):
                    continue  # label values are strings; anything else matches nothing
                by_label.setdefault((namespace, key, value), []).append(item.labels)
            ref = item.ref
            replicas = item.replicas
            if replicas is not None:
                replicas = max(replicas, hpa_min.get((namespace, item.kind, ref["name"]), 0))
                if item.replicas_checked:
                    self._result(
                        ref,
                        "replicasBelowThree",
                        None,
                        replicas >= MIN_REPLICAS,
                        f"{replicas} replica(s)",
                        item.skipped,
                    )
                if replicas > 1:
                    has_pdb = any(matches(sel, item.labels) for sel in pdbs.get(namespace, ()))
                    self._result(ref, "missingPodDisruptionBudget", None, has_pdb, "", item.skipped)
                    self._result(
                        ref,
                        "podSpreadMissing",
                        None,
                        item.spread,
                        f"{replicas} replicas",
                        item.skipped,
                    )
            covered = any(matches(sel, item.labels) for sel in netpols.get(namespace, ()))
            self._result(ref, "missingNetworkPolicy", None, covered, "", item.skipped)
        for ref, selector, skipped in self.services:
            first_key, first_value = next(iter(selector.items()))
            candidates = (
                by_label.get((ref["namespace"], first_key, first_value), ())
                if isinstance(first_value, str)
                else ()
            )
            target = any(
                all(labels.get(k) == v for k, v in selector.items()) for labels in candidates
            )
            self._result(
                ref, "serviceTargetsNothing", None, target, f"selector {selector}", skipped
            )
        return {"results": self.results, "counts": self.counts()}

    def counts(self) -> dict:
        return {
            "audited": self.audited,
            "skipped": sum(self.skipped.values()),
            "skipped_by_reason": dict(sorted(self.skipped.items())),
        }


def _seccomp_type(sc: dict, fields: _Fields, path: str) -> str | None:
    profile = fields.get(sc, "seccompProfile", dict, path, {})
    value = profile.get("type")
    return value if isinstance(value, str) else None


# API groups of Kubernetes itself: an object there that is not a workload kind is not one.
_KNOWN_GROUPS = frozenset(
    (
        "",
        "apps",
        "batch",
        "extensions",
        "policy",
        "autoscaling",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "admissionregistration.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "scheduling.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "node.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "resource.k8s.io",
        "gateway.networking.k8s.io",
    )
)


def audit(
    objects,
    skip_checks: Any = (),
    config: AuditConfig | None = None,
    target_version: Any = DEFAULT_TARGET_VERSION,
) -> list[dict]:
    """Check results for every object in ``objects`` ((object, source) pairs)."""
    auditor = Auditor(skip_checks, config, target_version)
    for obj, source in objects:
        auditor.add(obj, source)
    return auditor.finish()["results"]


def finding(result: dict, severities: dict | None = None) -> dict:
    """A failed check result as a finding an operator reads: what, where, how bad, how to fix."""
    check = CHECKS[result["check"]]
    ref = result["object"]
    where = f"{ref['kind'] or '(no kind)'} {ref['namespace']}/{ref['name'] or '(no name)'}"
    if ref["source"] and ref["source"] != "cluster":
        where = f"{ref['source']}: {where}"
    if result["container"]:
        where += f" container {result['container']}"
    message = check.failure + (f" ({result['details']})" if result["details"] else "")
    return {
        "object": ref,
        "container": result["container"],
        "check": check.id,
        "severity": (severities or {}).get(check.id, check.severity),
        "category": check.category,
        "message": f"{where}: {message}",
        "fix": check.fix,
    }


def findings(results: list[dict], severities: dict | None = None) -> list[dict]:
    order = {severity: i for i, severity in enumerate(reversed(SEVERITIES))}
    found = [finding(r, severities) for r in results if not r["success"]]
    return sorted(
        found,
        key=lambda f: (
            order[f["severity"]],
            f["object"]["namespace"],
            f["object"]["kind"],
            f["object"]["name"],
            f["object"]["source"],
            f["container"] or "",
            f["check"],
        ),
    )
