#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.k8s_job_run: run a Job to its end, then delete it, always."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_job_run
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Run a Kubernetes Job until it succeeded as often as expected, then delete it
description:
  - Creates the C(batch/v1) Job O(job) through the API server, after server-side applying the
    ConfigMap O(config_map) its pods mount, when one is given.
  - Waits (a watch on the Job, polling where the server refuses one) until the Job succeeded
    O(succeeded) times, a pod of it failed, it carries a C(Failed) condition (a deadline or a
    backoff limit), or O(timeout) seconds passed.
  - When it did not succeed, reads the Job's pods (label C(job-name)) and fails with one message
    naming the Job, its success and failure counts, and for each container that exited non-zero
    its pod, node, exit code and termination message (cut to 1500 characters).
  - Deletes the Job (propagation C(Background), so its pods go with it) and the ConfigMap in every
    case, after success, failure or timeout; a deletion that fails is added to the message.
  - A Job of the same name left by an earlier run is deleted first when it carries every label of
    O(job); any other Job of that name is refused and nothing is created.
  - The ConfigMap is never returned or put in a message (it may hold configuration the operator
    does not want in a log).
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: Both creations are sent as a server-side dry run (C(dryRun=All)); nothing runs, nothing waits.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every run creates and runs the Job again; it leaves nothing behind.
options:
  job:
    description:
      - The Job, a C(batch/v1) C(Job) with C(metadata.name) and C(metadata.namespace).
    type: dict
    required: true
  succeeded:
    description:
      - How many pods must succeed (the Job's C(spec.completions), one per node for a Job spread
        over nodes).
    type: int
    default: 1
  config_map:
    description:
      - A C(v1) ConfigMap created (server-side applied) before the Job and deleted with it; its
        namespace, when set, must be the Job's.
    type: dict
  timeout:
    description: Seconds to wait for the Job to end.
    type: int
    default: 600
"""

EXAMPLES = r"""
- name: Renew the workers, one pod per worker
  ackops.runbooks.k8s_job_run:
    kubeconfig: "{{ k8s_kubeconfig | default(omit) }}"
    job: "{{ renew_certs_jobs.worker }}"
    succeeded: "{{ renew_certs_jobs.worker_count }}"
    timeout: 900
  delegate_to: localhost

- name: Run one master's Job with the ConfigMap it mounts
  ackops.runbooks.k8s_job_run:
    job: "{{ renew_certs_job }}"
    config_map: "{{ renew_certs_job_config_map }}"
    timeout: 600
"""

RETURN = r"""
job:
  description: The Job run, as C(Job namespace/name).
  returned: success
  type: str
  sample: Job kube-system/ackops-renew-certs-workers
succeeded:
  description: Its pods that succeeded (0 in check mode).
  returned: success
  type: int
  sample: 3
failed:
  description: Its pods that failed.
  returned: success
  type: int
  sample: 0
changes:
  description:
    - What was created and deleted, in order (in check mode the dry-run creation only).
  returned: success
  type: list
  elements: dict
  sample: [{action: create, target: Job kube-system/ackops-renew-certs-workers},
           {action: delete, target: Job kube-system/ackops-renew-certs-workers}]
check_mode:
  description: Whether this was a check-mode run.
  returned: success
  type: bool
error:
  description:
    - What failed and where, the same keys in every module of the collection. For a Job that did not
      succeed C(error.type) is C(job) and C(error.details) holds C(succeeded), C(failed),
      C(outcome) (C(failed), C(timeout) or C(gone)) and C(pods) (pod, node, container, exit code,
      reason, message of each container that exited non-zero).
  returned: failure
  type: dict
  sample: {type: job, host: null, object: Job kube-system/ackops-renew-certs-master-1, field: null,
           cause: "Job kube-system/ackops-renew-certs-master-1 succeeded 0 of 1 times (failed 1); pod
             ackops-renew-certs-master-1-x7k2p on cn-hangzhou.i-m1 exited 4: no kubeadm on this host.
             The Job is deleted and the run stops here.",
           details: {succeeded: 0, failed: 1, outcome: failed,
                     pods: [{pod: ackops-renew-certs-master-1-x7k2p, node: cn-hangzhou.i-m1, container: renew,
                             exit_code: 4, reason: Error, message: no kubeadm on this host}]}}
partial_changes:
  description: What was created and deleted before the failure, in order.
  returned: failure
  type: list
  elements: dict
  sample: [{action: create, target: Job kube-system/ackops-renew-certs-master-1},
           {action: delete, target: Job kube-system/ackops-renew-certs-master-1}]
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.jobs import run_job
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module

FIELD_MANAGER = "ackops-job-run"

OPTIONS = {
    "job": {"type": "dict", "required": True},
    "succeeded": {"type": "int", "default": 1},
    "config_map": {"type": "dict"},
    "timeout": {"type": "int", "default": 600},
}


def check_object(field: str, obj: dict, api_version: str, kind: str) -> dict:
    """Refuse ``obj`` unless it is ``api_version``/``kind`` with a name; its metadata."""
    for part, wanted in (("apiVersion", api_version), ("kind", kind)):
        if obj.get(part) != wanted:
            raise InputError(f"{field}.{part}", obj.get(part), f"must be {wanted}")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    if not isinstance(meta.get("name"), str) or not meta["name"]:
        raise InputError(f"{field}.metadata.name", meta.get("name"), "must be a non-empty string")
    return meta


def check_input(params: dict) -> None:
    """Refuse, naming the field, what the API server would refuse half-way (nothing created yet)."""
    namespace = check_object("job", params["job"], "batch/v1", "Job").get("namespace")
    if not isinstance(namespace, str) or not namespace:
        raise InputError("job.metadata.namespace", namespace, "must be a non-empty string")
    if params["config_map"] is not None:
        meta = check_object("config_map", params["config_map"], "v1", "ConfigMap")
        if meta.get("namespace") not in (None, namespace):
            raise InputError(
                "config_map.metadata.namespace",
                meta.get("namespace"),
                f"must be the Job's namespace ({namespace})",
            )
    for field in ("succeeded", "timeout"):
        if params[field] < 1:
            raise InputError(field, params[field], "must be at least 1")


def run(module, connect, changes) -> dict:
    check_input(module.params)
    summary = run_job(
        connect(),
        module.params["job"],
        module.params["succeeded"],
        module.params["timeout"],
        changes,
        config_map=module.params["config_map"],
        dry_run=module.check_mode,
    )
    return {
        "changed": True,
        "job": summary["job"],
        "succeeded": summary["succeeded"],
        "failed": summary["failed"],
        "changes": list(changes),
        "check_mode": module.check_mode,
    }


def main():
    run_k8s_module(OPTIONS, run, FIELD_MANAGER)


if __name__ == "__main__":
    main()
