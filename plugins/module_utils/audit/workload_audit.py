"""Workload hygiene checks (guide section 1.5) on plain Kubernetes object dicts.

The same checks run on live objects (as the API returns them, camelCase keys)
and on manifests read from files. Check ids follow Polaris where Polaris has the
same check, so tools that read Polaris results understand them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError

SEVERITIES = ("warning", "danger")  # Polaris' vocabulary, least severe first
EXEMPT_ANNOTATION = "ackops.runbooks/exempt-checks"
LONG_RUNNING_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
)
RUN_TO_COMPLETION_KINDS = ("Job", "CronJob")
REPLICATED_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")
MIN_REPLICAS = 3
AUDITED_KINDS = (*LONG_RUNNING_KINDS, *RUN_TO_COMPLETION_KINDS, "Pod")


@dataclass(frozen=True)
class Check:
    id: str
    level: str  # controller, pod or container
    severity: str
    category: str
    failure: str
    success: str
    fix: str


CHECKS = {
    check.id: check
    for check in (
        Check(
            "cpuRequestsMissing",
            "container",
            "danger",
            "Efficiency",
            "CPU requests are not set",
            "CPU requests are set",
            "set resources.requests.cpu: the scheduler places pods by requests only",
        ),
        Check(
            "memoryRequestsMissing",
            "container",
            "danger",
            "Efficiency",
            "Memory requests are not set",
            "Memory requests are set",
            "set resources.requests.memory: the scheduler places pods by requests only",
        ),
        Check(
            "cpuLimitsMissing",
            "container",
            "warning",
            "Efficiency",
            "CPU limits are not set",
            "CPU limits are set",
            "set resources.limits.cpu so one container cannot starve its neighbours",
        ),
        Check(
            "memoryLimitsMissing",
            "container",
            "warning",
            "Efficiency",
            "Memory limits are not set",
            "Memory limits are set",
            "set resources.limits.memory so a leak is OOM-killed instead of the node",
        ),
        Check(
            "livenessProbeMissing",
            "container",
            "warning",
            "Reliability",
            "Liveness probe is not set",
            "Liveness probe is set",
            "add a livenessProbe so a hung process is restarted",
        ),
        Check(
            "readinessProbeMissing",
            "container",
            "warning",
            "Reliability",
            "Readiness probe is not set",
            "Readiness probe is set",
            "add a readinessProbe so traffic only reaches pods that can serve it",
        ),
        Check(
            "tagNotSpecified",
            "container",
            "danger",
            "Reliability",
            "Image has no tag or uses latest",
            "Image has a pinned tag",
            "pin the image to a version tag or digest (never latest)",
        ),
        Check(
            "multipleProcesses",
            "container",
            "warning",
            "Reliability",
            "Container appears to run several processes",
            "Container runs one process",
            "run one process per container; move sshd/helpers to sidecars or kubectl exec",
        ),
        Check(
            "restartPolicyMismatch",
            "pod",
            "danger",
            "Reliability",
            "restartPolicy does not suit the kind",
            "restartPolicy suits the kind",
            "use Always for long-running controllers, OnFailure or Never for Jobs",
        ),
        Check(
            "podSpreadMissing",
            "pod",
            "warning",
            "Reliability",
            "Replicas may all land on one node (no anti-affinity or topology spread)",
            "Replicas are spread by anti-affinity or topology spread",
            "add topologySpreadConstraints (or podAntiAffinity) on kubernetes.io/hostname",
        ),
        Check(
            "barePod",
            "controller",
            "danger",
            "Reliability",
            "Bare Pod: nothing recreates it when its node fails",
            "Pod is managed by a controller",
            "run it from a Deployment (or a Job for one-off work)",
        ),
        Check(
            "replicasBelowThree",
            "controller",
            "warning",
            "Reliability",
            f"Fewer than {MIN_REPLICAS} replicas",
            f"At least {MIN_REPLICAS} replicas",
            f"set spec.replicas (or the HPA minReplicas) to {MIN_REPLICAS} or more",
        ),
        Check(
            "missingPodDisruptionBudget",
            "controller",
            "warning",
            "Reliability",
            "No PodDisruptionBudget covers these replicas",
            "A PodDisruptionBudget covers them",
            "add a policy/v1 PodDisruptionBudget (e.g. maxUnavailable: 1) selecting these pods",
        ),
    )
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


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def object_ref(obj: dict, source: str = "cluster") -> dict:
    meta = _meta(obj)
    return {
        "kind": obj.get("kind", ""),
        "namespace": meta.get("namespace") or "default",
        "name": meta.get("name", ""),
        "source": source,
    }


def pod_template(obj: dict) -> dict:
    """The pod template (metadata + spec) of any audited kind."""
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == "Pod":
        return {"metadata": _meta(obj), "spec": spec}
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return spec.get("template") or {}


def _image_unpinned(image: str) -> bool:
    if "@" in image:
        return False  # a digest pins the image
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] in ("", "latest")


def process_signs(container: dict) -> list[str]:
    """What in a container's command suggests several processes; empty when none."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
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


def _container_results(container: dict, long_running: bool) -> list[tuple[str, bool, str]]:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    signs = process_signs(container)
    image = str(container.get("image") or "")
    results = [
        ("cpuRequestsMissing", "cpu" in requests, ""),
        ("memoryRequestsMissing", "memory" in requests, ""),
        ("cpuLimitsMissing", "cpu" in limits, ""),
        ("memoryLimitsMissing", "memory" in limits, ""),
        ("tagNotSpecified", bool(image) and not _image_unpinned(image), f"image {image!r}"),
        ("multipleProcesses", not signs, "; ".join(signs)),
    ]
    if long_running:
        results += [
            ("livenessProbeMissing", bool(container.get("livenessProbe")), ""),
            ("readinessProbeMissing", bool(container.get("readinessProbe")), ""),
        ]
    return results


def _restart_policy_ok(kind: str, policy: str | None) -> tuple[bool, str]:
    if kind in LONG_RUNNING_KINDS:
        return policy in (None, "Always"), f"{kind} with restartPolicy {policy}"
    if kind in RUN_TO_COMPLETION_KINDS:
        return policy in ("OnFailure", "Never"), f"{kind} with restartPolicy {policy or 'unset'}"
    return policy in (None, "Always", "OnFailure", "Never"), f"restartPolicy {policy}"


def _labels_match(selector: dict, labels: dict) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if not selector:
        return False  # an empty PDB selector matches nothing in policy/v1 practice
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and present and labels[key] in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


def _replicas(obj: dict, hpas: list[dict]) -> int | None:
    """Replica count, raised to an HPA's minReplicas when one targets the object."""
    kind = obj.get("kind")
    if kind not in REPLICATED_KINDS:
        return None
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas", 1)
    meta = _meta(obj)
    for hpa in hpas:
        target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if (target.get("kind"), target.get("name")) == (kind, meta.get("name")) and object_ref(hpa)[
            "namespace"
        ] == object_ref(obj)["namespace"]:
            replicas = max(
                replicas if replicas is not None else 1,
                (hpa.get("spec") or {}).get("minReplicas", 1),
            )
    return 1 if replicas is None else int(replicas)


def _has_pdb(obj: dict, labels: dict, pdbs: list[dict]) -> bool:
    namespace = object_ref(obj)["namespace"]
    return any(
        object_ref(pdb)["namespace"] == namespace
        and _labels_match((pdb.get("spec") or {}).get("selector") or {}, labels)
        for pdb in pdbs
    )


def _spread(spec: dict) -> bool:
    affinity = spec.get("affinity") or {}
    return bool(spec.get("topologySpreadConstraints") or affinity.get("podAntiAffinity"))


def _exemptions(obj: dict, skip_checks: set[str]) -> set[str]:
    annotation = (_meta(obj).get("annotations") or {}).get(EXEMPT_ANNOTATION, "")
    return skip_checks | {c.strip() for c in str(annotation).split(",") if c.strip()}


def audit_object(
    obj: dict,
    pdbs: list[dict],
    hpas: list[dict],
    source: str = "cluster",
    skip_checks: frozenset[str] = frozenset(),
) -> list[dict]:
    """Every check result for one object: dicts with check, level, container, success, details."""
    kind = obj.get("kind")
    template = pod_template(obj)
    spec = template.get("spec") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    skipped = _exemptions(obj, set(skip_checks))
    policy = spec.get("restartPolicy")
    long_running = kind in LONG_RUNNING_KINDS or (kind == "Pod" and policy in (None, "Always"))
    results: list[tuple[str, str | None, bool, str]] = []
    for container in spec.get("containers") or []:
        name = container.get("name", "")
        results += [
            (check, name, ok, details)
            for check, ok, details in _container_results(container, long_running)
        ]
    ok, details = _restart_policy_ok(kind, policy)
    results.append(("restartPolicyMismatch", None, ok, details))
    if kind == "Pod":
        results.append(("barePod", None, False, "no ownerReferences"))
    replicas = _replicas(obj, hpas)
    if replicas is not None and kind in ("Deployment", "StatefulSet"):
        results.append(
            ("replicasBelowThree", None, replicas >= MIN_REPLICAS, f"{replicas} replica(s)")
        )
    if replicas is not None and replicas > 1:
        results.append(("missingPodDisruptionBudget", None, _has_pdb(obj, labels, pdbs), ""))
        results.append(("podSpreadMissing", None, _spread(spec), f"{replicas} replicas"))
    ref = object_ref(obj, source)
    return [
        {
            "object": ref,
            "check": check,
            "level": CHECKS[check].level,
            "container": container,
            "success": ok,
            "details": details,
        }
        for check, container, ok, details in results
        if check not in skipped
    ]


def is_audited(obj: dict) -> bool:
    """Top-level workloads only: a Pod, ReplicaSet or Job a controller owns is audited
    through its owner."""
    if obj.get("kind") not in AUDITED_KINDS:
        return False
    return not (_meta(obj).get("ownerReferences")) or obj.get("kind") not in (
        "Pod",
        "ReplicaSet",
        "Job",
    )


def audit(objects: list[tuple[dict, str]], skip_checks: Any = ()) -> list[dict]:
    """Check results for every audited object in ``objects`` ((object, source) pairs)."""
    unknown = sorted(set(skip_checks) - set(CHECKS))
    if unknown:
        raise InputError(
            "skip_checks", unknown, f"names unknown check(s); known: {', '.join(sorted(CHECKS))}"
        )
    pdbs = [o for o, _source in objects if o.get("kind") == "PodDisruptionBudget"]
    hpas = [o for o, _source in objects if o.get("kind") == "HorizontalPodAutoscaler"]
    results = []
    for obj, source in objects:
        if is_audited(obj):
            results += audit_object(obj, pdbs, hpas, source, frozenset(skip_checks))
    return results


def finding(result: dict) -> dict:
    """A failed check result as a finding an operator reads: what, where, how bad, how to fix."""
    check = CHECKS[result["check"]]
    ref = result["object"]
    where = f"{ref['kind']} {ref['namespace']}/{ref['name']}"
    if result["container"]:
        where += f" container {result['container']}"
    message = check.failure + (f" ({result['details']})" if result["details"] else "")
    return {
        "object": ref,
        "container": result["container"],
        "check": check.id,
        "severity": check.severity,
        "category": check.category,
        "message": f"{where}: {message}",
        "fix": check.fix,
    }


def findings(results: list[dict]) -> list[dict]:
    order = {severity: i for i, severity in enumerate(reversed(SEVERITIES))}
    found = [finding(r) for r in results if not r["success"]]
    return sorted(
        found,
        key=lambda f: (
            order[f["severity"]],
            f["object"]["namespace"],
            f["object"]["kind"],
            f["object"]["name"],
            f["container"] or "",
            f["check"],
        ),
    )
