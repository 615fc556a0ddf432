# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a batch/v1 Job to its end through ``ObjectClient``, and never leaving it behind.

``run_job(client, job, expected, timeout, ...)`` creates the Job (and first a
ConfigMap its pods mount, when given), waits with ``ObjectClient.wait`` until
it succeeded ``expected`` times, failed, or ``timeout`` seconds passed, reads
its pods (label ``job-name``) when it did not succeed, and deletes the Job
(background propagation: its pods go with it) and the ConfigMap in every case.
A Job that did not succeed raises ``JobFailed``, whose message names the Job,
each failed pod, its node, its exit code and the last message it wrote.

``job_outcome`` and ``failed_pods`` are the pure parts (no API), tested alone.
"""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    RunbookError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.diff import describe
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import (
    K8sObjectError,
    WaitTimeout,
)

JOB_API = "batch/v1"
MESSAGE_LIMIT = 1500  # characters of a pod's termination message kept in the report


class JobFailed(K8sObjectError):
    """The Job did not succeed as often as expected; the message names it, its pods and nodes."""

    error_type = "job"

    def __str__(self) -> str:  # the cause already begins with the Job's name
        return self.cause


def job_counts(job: dict | None) -> tuple[int, int]:
    """``(succeeded, failed)`` of the Job's status (0 for what is not there)."""
    status = (job or {}).get("status") or {}
    return int(status.get("succeeded") or 0), int(status.get("failed") or 0)


def job_condition(job: dict | None) -> dict | None:
    """The Job's terminal condition (``Complete`` or ``Failed``, status True), if any."""
    for condition in ((job or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition
    return None


def job_outcome(job: dict | None, expected: int) -> str | None:
    """``succeeded``, ``failed`` or ``gone`` once the Job is over; None while it runs.

    Over means: it succeeded ``expected`` times, a pod failed, it carries a
    terminal condition (a ``Failed`` one for a deadline or a backoff limit),
    or it no longer exists.
    """
    if job is None:
        return "gone"
    succeeded, failed = job_counts(job)
    condition = job_condition(job)
    if failed > 0 or (condition or {}).get("type") == "Failed":
        return "failed"
    if succeeded >= expected:
        return "succeeded"
    if condition is not None:  # Complete with fewer successes than asked for
        return "failed"
    return None


def failed_pods(pods: list[dict]) -> list[dict]:
    """Each container that ended with a non-zero exit code: pod, node, exit code, message."""
    found = []
    for pod in pods:
        meta, spec, status = (pod.get(part) or {} for part in ("metadata", "spec", "status"))
        containers = (status.get("initContainerStatuses") or []) + (
            status.get("containerStatuses") or []
        )
        for container in containers:
            terminated = (container.get("state") or {}).get("terminated") or {}
            if terminated and terminated.get("exitCode", 0) != 0:
                message = (terminated.get("message") or "").strip() or "see its log"
                if len(message) > MESSAGE_LIMIT:
                    message = message[: MESSAGE_LIMIT - 3] + "..."
                found.append(
                    {
                        "pod": meta.get("name"),
                        "node": spec.get("nodeName") or "?",
                        "container": container.get("name"),
                        "exit_code": terminated.get("exitCode"),
                        "reason": terminated.get("reason"),
                        "message": message,
                    }
                )
    return found


def pending_pods(pods: list[dict]) -> list[str]:
    """``<pod> on <node>: <phase>`` for the pods that have not finished (a timeout's report)."""
    return [
        f"{(pod.get('metadata') or {}).get('name')} on "
        f"{(pod.get('spec') or {}).get('nodeName') or '(not scheduled)'}: "
        f"{(pod.get('status') or {}).get('phase') or 'Unknown'}"
        for pod in pods
        if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def failure_message(
    name: str, job: dict | None, expected: int, outcome: str, pods: list[dict], timeout: float
) -> str:
    """The sentence a person reads: the Job, its counts, and each failed pod with its node."""
    succeeded, failed = job_counts(job)
    text = f"{name} succeeded {succeeded} of {expected} times (failed {failed})"
    if outcome == "timeout":
        text += f", still running after {timeout:g}s"
    elif outcome == "gone":
        text += ", and was deleted by someone else while it ran"
    condition = job_condition(job)
    if condition and condition.get("type") == "Failed":
        text += f" [{condition.get('reason') or 'Failed'}: {condition.get('message') or ''}]"
    for pod in failed_pods(pods):
        text += f"; pod {pod['pod']} on {pod['node']} exited {pod['exit_code']}: {pod['message']}"
    if outcome == "timeout":
        text += "".join(f"; pod {line}" for line in pending_pods(pods))
    return text + ". The Job is deleted and the run stops here."


def run_job(
    client,
    job: dict,
    expected: int,
    timeout: float,
    changes: Changes,
    config_map: dict | None = None,
    dry_run: bool = False,
    interval: float = 3.0,
) -> dict:
    """Create ``config_map`` then ``job``, wait for it, delete both, always; a summary.

    Returns ``{job, succeeded, failed, pods}`` when the Job succeeded
    ``expected`` times; raises ``JobFailed`` (with what was deleted in
    ``partial_changes``) otherwise. A Job of the same name left by an earlier
    run, carrying this Job's labels, is deleted first; any other is refused.
    ``dry_run`` sends both creations as a server-side dry run and waits for
    nothing.
    """
    meta = job["metadata"]
    namespace = meta.get("namespace")
    name = describe("Job", meta["name"], namespace)
    summary = {"job": name, "succeeded": 0, "failed": 0, "pods": []}
    if dry_run:
        if config_map is not None:
            client.apply(config_map, dry_run=True, namespace=namespace)
        client.create(job, dry_run=True)
        changes.record("create", name, check_mode=True)
        return summary

    leftover = client.get(JOB_API, "Job", meta["name"], namespace)
    if leftover is not None:
        labels = meta.get("labels") or {}
        theirs = (leftover.get("metadata") or {}).get("labels") or {}
        if not labels or any(theirs.get(key) != value for key, value in labels.items()):
            raise K8sObjectError(
                "exists already and does not carry this Job's labels: not deleted; "
                "delete or rename it",
                obj=name,
                field="metadata.name",
            )
        client.delete(JOB_API, "Job", meta["name"], namespace)
        client.wait(JOB_API, "Job", meta["name"], namespace, lambda obj: obj is None, timeout,
                    what="the earlier run's Job to be gone", interval=interval)  # fmt: skip
        changes.record("delete", name, reason="left by an earlier run")

    created: list[tuple[str, str, str, str | None]] = []
    error: Exception | None = None
    try:
        if config_map is not None:
            cm_meta = client.apply(config_map, namespace=namespace)["metadata"]
            created.append(("v1", "ConfigMap", cm_meta["name"], cm_meta.get("namespace")))
            changes.record(
                "create", describe("ConfigMap", cm_meta["name"], cm_meta.get("namespace"))
            )
        client.create(job)
        created.append((JOB_API, "Job", meta["name"], namespace))
        changes.record("create", name)
        summary.update(wait_for_job(client, job, expected, timeout, interval))
    except Exception as exc:  # deleted below whatever happened, then raised again
        error = exc
    try:
        delete_all(client, reversed(created), changes)
    except K8sObjectError as cleanup:
        if error is None:
            raise
        if isinstance(error, RunbookError):
            error.cause += f" However, {cleanup}."
    if error is not None:
        raise error
    return summary


def wait_for_job(client, job: dict, expected: int, timeout: float, interval: float) -> dict:
    """Wait until the Job is over; its counts, or ``JobFailed`` naming its failed pods."""
    meta = job["metadata"]
    namespace = meta.get("namespace")
    name = describe("Job", meta["name"], namespace)
    try:
        final = client.wait(
            JOB_API, "Job", meta["name"], namespace,
            lambda obj: job_outcome(obj, expected) is not None,
            timeout, what=f"{expected} successful pod(s) or a failed one", interval=interval,
        )  # fmt: skip
        outcome = job_outcome(final, expected)
    except WaitTimeout:
        final = client.get(JOB_API, "Job", meta["name"], namespace)
        outcome = job_outcome(final, expected) or "timeout"
    succeeded, failed = job_counts(final)
    if outcome == "succeeded":
        return {"succeeded": succeeded, "failed": failed, "pods": []}
    pods = client.list("v1", "Pod", namespace, label_selector={"job-name": meta["name"]})
    raise JobFailed(
        failure_message(name, final, expected, outcome, pods, timeout),
        obj=name,
        details={"succeeded": succeeded, "failed": failed, "outcome": outcome,
                 "pods": failed_pods(pods)},
    )  # fmt: skip


def delete_all(client, targets, changes: Changes) -> None:
    """Delete every target (the Job with background propagation) even when one fails.

    A deletion that fails is raised after the others were tried (``run_job``
    adds it to the message of an error already on its way out).
    """
    problems = []
    for api_version, kind, name, namespace in targets:
        try:
            client.delete(api_version, kind, name, namespace, propagation_policy="Background")
            changes.record("delete", describe(kind, name, namespace))
        except K8sObjectError as exc:
            problems.append(f"deleting {describe(kind, name, namespace)} failed: {exc}")
    if problems:
        raise K8sObjectError("; ".join(problems) + ": delete it by hand")
