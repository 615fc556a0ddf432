# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gates before traffic moves to a new version: pods Ready, disruption budgets, HTTP/metric checks.

A gate either passes (a line for the report) or raises ``GateError`` naming
what failed and saying that ``rollback`` is the way back. The HTTP check is
Ansible's ``open_url`` (urllib underneath) so it runs wherever the module runs; a "metric" check is an
HTTP check whose body (or a regex group of it) is read as a number and
compared with ``min``/``max``.
"""

from __future__ import annotations

import re
import time
import urllib.error

from ansible.module_utils.urls import open_url

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

ROLLBACK_HINT = "traffic was not moved; to go back to the old version run the rollback step"


class GateError(RunbookError):
    """A gate refused the step: nothing more was changed."""

    error_type = "gate"


def labels_match(selector: dict | None, labels: dict) -> bool:
    """Whether a LabelSelector (matchLabels and matchExpressions) selects ``labels``.

    A missing selector selects nothing; an empty one (``{}``) selects every pod,
    as for a policy/v1 PodDisruptionBudget.
    """
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


def deployment_ready(dep: dict | None) -> bool:
    """Every wanted replica updated, ready and available, none left over (a finished rollout)."""
    if not dep:
        return False
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    wanted = spec.get("replicas", 1)
    generation = (dep.get("metadata") or {}).get("generation", 0)
    return (
        status.get("observedGeneration", 0) >= generation
        and status.get("updatedReplicas", 0) == wanted
        and status.get("readyReplicas", 0) == wanted
        and status.get("availableReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted
    )


def check_ready(dep: dict, what: str) -> str:
    """The new Deployment has at least one replica and all of them are Ready."""
    name = f"Deployment {dep['metadata']['namespace']}/{dep['metadata']['name']}"
    wanted = (dep.get("spec") or {}).get("replicas", 1)
    ready = (dep.get("status") or {}).get("readyReplicas", 0)
    if wanted < 1 or ready < wanted:
        raise GateError(
            f"gate 'pods ready' before {what}: {ready} of {wanted} replicas Ready; {ROLLBACK_HINT}",
            obj=name,
            details={"gate": "ready", "ready": ready, "wanted": wanted},
        )
    return f"pods ready: {ready}/{wanted} replicas of {name}"


def check_pdbs(pdbs: list[dict], pod_labels: dict, replicas: int, what: str) -> list[str]:
    """Every PodDisruptionBudget selecting the new pods is healthy and satisfiable by ``replicas``."""
    lines = []
    for pdb in pdbs:
        spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
        if not labels_match(spec.get("selector"), pod_labels):
            continue
        name = f"PodDisruptionBudget {pdb['metadata']['namespace']}/{pdb['metadata']['name']}"
        healthy = status.get("currentHealthy", 0)
        desired = status.get("desiredHealthy", 0)
        minimum = spec.get("minAvailable")
        problem = None
        if healthy < desired:
            problem = f"{healthy} healthy pods, the budget wants {desired}"
        elif isinstance(minimum, int) and replicas < minimum:
            problem = f"the new version would run {replicas} replicas, minAvailable is {minimum}"
        if problem:
            raise GateError(
                f"gate 'disruption budget' before {what}: {problem}; {ROLLBACK_HINT}",
                obj=name,
                details={"gate": "pdb", "current_healthy": healthy, "desired_healthy": desired},
            )
        lines.append(f"disruption budget: {name} {healthy}/{desired} healthy")
    return lines


def _fetch(url: str, headers: dict, timeout: float) -> tuple[int, str]:
    try:
        with open_url(url, headers=headers or {}, timeout=timeout) as response:
            return response.getcode(), response.read(1_000_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(1_000_000).decode("utf-8", "replace")


def check_http(check: dict, index: int, what: str, sleep=time.sleep) -> str:
    """One HTTP (or metric) check; retried ``retries`` times ``interval`` seconds apart."""
    url = check["url"]
    name = check.get("name") or url
    field = f"gates[{index}]"
    if not re.match(r"^https?://", url or ""):
        raise GateError(f"check {name!r}: url must be http:// or https://", field=field, obj=url)
    attempts = max(1, int(check.get("retries") or 1))
    problem = ""
    for attempt in range(attempts):
        if attempt:
            sleep(float(check.get("interval") or 2))
        try:
            status, body = _fetch(url, check.get("headers") or {}, float(check.get("timeout") or 5))
        except (OSError, ValueError) as exc:
            problem = f"no answer from {url}: {getattr(exc, 'reason', exc)}"
            continue
        problem = _judge(check, status, body)
        if not problem:
            return f"check {name}: {url} answered {status}"
    raise GateError(
        f"gate {name!r} before {what}: {problem}; {ROLLBACK_HINT}",
        field=field,
        obj=url,
        details={"gate": "http", "attempts": attempts},
    )


def _judge(check: dict, status: int, body: str) -> str:
    expected = int(check.get("status") or 200)
    if status != expected:
        return f"{check['url']} answered {status}, expected {expected}"
    pattern = check.get("body_regex")
    if pattern and not re.search(pattern, body):
        return f"{check['url']}: body does not match {pattern!r}"
    if check.get("min") is None and check.get("max") is None:
        return ""
    value_regex = check.get("value_regex")
    text = body.strip()
    if value_regex:
        found = re.search(value_regex, body)
        if not found:
            return f"{check['url']}: no value matching {value_regex!r} in the body"
        text = found.group(1) if found.groups() else found.group(0)
    try:
        value = float(text)
    except ValueError:
        return f"{check['url']}: value {text[:60]!r} is not a number"
    if check.get("min") is not None and value < float(check["min"]):
        return f"{check['url']}: value {value:g} is below the minimum {check['min']}"
    if check.get("max") is not None and value > float(check["max"]):
        return f"{check['url']}: value {value:g} is above the maximum {check['max']}"
    return ""
