# ruff: noqa: F811 (the fake and client fixtures are imported from test_k8s_jobs)
"""Kill tests for k8s/jobs.py's surviving mutants (issue 18).

Expected values are written by hand from the batch/v1 Job API (status.succeeded/failed,
the Complete/Failed conditions) and the core/v1 Pod API (phase Pending/Running/
Succeeded/Failed, spec.nodeName unset before scheduling, containerStatuses'
terminated.reason such as OOMKilled); the fake API stands in for the server.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import K8sObjectError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.jobs import (
    JobFailed,
    failed_pods,
    failure_message,
    job_outcome,
    pending_pods,
    run_job,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
from tests.unit.k8s_fake import FakeApi
from tests.unit.plugins.module_utils.test_k8s_jobs import (  # noqa: F401 (fake, client: fixtures)
    NS,
    after_create,
    client,
    config_map,
    fake,
    finish,
    job,
    left,
    pod,
)

END = ". The Job is deleted and the run stops here."


def test_a_failed_condition_is_a_failure_even_with_enough_successes():
    # e.g. DeadlineExceeded or a podFailurePolicy FailJob after a pod had succeeded.
    obj = {"status": {"succeeded": 1, "conditions": [{"type": "Failed", "status": "True"}]}}
    assert job_outcome(obj, 1) == "failed"


def test_pending_pods_lists_only_pods_that_have_not_ended():
    def p(name, phase=None, node=None):
        out = {"metadata": {"name": name}}
        if node:
            out["spec"] = {"nodeName": node}
        if phase:
            out["status"] = {"phase": phase}
        return out

    pods = [
        p("a", "Pending"),
        p("b", "Running", "n1"),
        p("c", "Succeeded", "n1"),
        p("d", "Failed", "n2"),
        p("e"),
    ]
    assert pending_pods(pods) == [
        "a on (not scheduled): Pending",
        "b on n1: Running",
        "e on (not scheduled): Unknown",
    ]


def test_failure_messages_word_for_word():
    name = "Job ops/renew"
    failed = {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}
    assert failure_message(name, failed, 1, "failed", [], 10) == (
        "Job ops/renew succeeded 0 of 1 times (failed 0) [Failed: ]" + END
    )
    assert failure_message(name, None, 2, "gone", [], 10) == (
        "Job ops/renew succeeded 0 of 2 times (failed 0), "
        "and was deleted by someone else while it ran" + END
    )
    running = [
        {"metadata": {"name": "r-1"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}},
        {"metadata": {"name": "r-2"}, "status": {"phase": "Pending"}},
    ]
    assert failure_message(name, {"status": {"succeeded": 1}}, 3, "timeout", running, 7.5) == (
        "Job ops/renew succeeded 1 of 3 times (failed 0), still running after 7.5s"
        "; pod r-1 on n1: Running; pod r-2 on (not scheduled): Pending" + END
    )


def test_failed_pods_keeps_the_reason_a_full_length_message_and_marks_an_unknown_node():
    message = "m" * 1500
    killed = {
        "metadata": {"name": "p"},
        "status": {
            "containerStatuses": [
                {
                    "name": "c",
                    "state": {
                        "terminated": {"exitCode": 137, "reason": "OOMKilled", "message": message}
                    },
                }
            ]
        },
    }
    assert failed_pods([killed]) == [
        {
            "pod": "p",
            "node": "?",
            "container": "c",
            "exit_code": 137,
            "reason": "OOMKilled",
            "message": message,
        }
    ]


def test_the_changes_name_what_was_created_and_deleted(fake, client):
    after_create(fake, finish(fake, succeeded=1))
    changes = Changes()
    run_job(client, job(), 1, 60, changes, config_map=config_map())
    assert [(c["action"], c["target"]) for c in changes] == [
        ("create", f"ConfigMap {NS}/renew-kubeadm-config"),
        ("create", f"Job {NS}/renew"),
        ("delete", f"Job {NS}/renew"),
        ("delete", f"ConfigMap {NS}/renew-kubeadm-config"),
    ]


def test_a_config_map_without_namespace_goes_to_the_jobs_namespace(fake, client):
    cm = config_map()
    del cm["metadata"]["namespace"]
    summary = run_job(client, job(), 1, 60, Changes(), config_map=cm, dry_run=True)
    assert summary == {"job": f"Job {NS}/renew", "succeeded": 0, "failed": 0, "pods": []}
    after_create(fake, finish(fake, succeeded=1))
    run_job(client, job(), 1, 60, Changes(), config_map=cm)
    paths = [r.path for r in fake.writes() if "configmaps" in r.path]
    assert len(paths) == 3  # dry run, apply, delete
    assert all(f"/namespaces/{NS}/configmaps/renew-kubeadm-config" in p for p in paths)
    assert left(fake) == []


def test_a_timeout_reports_the_jobs_counts_read_after_it(fake, client):
    # One of two pods succeeded, the other is still running when the time is up.
    after_create(fake, finish(fake, succeeded=1))
    with pytest.raises(JobFailed) as raised:
        run_job(client, job(completions=2), 2, 30, Changes())
    assert str(raised.value).startswith(
        f"Job {NS}/renew succeeded 1 of 2 times (failed 0), still running after 30s"
    )


def test_only_this_jobs_pods_in_its_namespace_are_named(fake, client):
    mine = pod("renew", 0, "m1", 3, "mine")
    other_job = pod("backup", 0, "m2", 4, "not mine")
    other_ns = pod("renew", 1, "m3", 5, "other namespace")
    other_ns["metadata"]["namespace"] = "default"
    fake.add(other_job, other_ns)
    after_create(fake, finish(fake, failed=1, pods=[mine]))
    with pytest.raises(JobFailed) as raised:
        run_job(client, job(), 1, 60, Changes())
    assert [p["pod"] for p in raised.value.details["pods"]] == ["renew-0"]


def poll_only():
    fake = FakeApi(watch=False)
    return fake, ObjectClient(
        fake.api_client(), "ackops-test", clock=fake.clock, sleep=fake.clock.sleep
    )


def polls(fake):
    return [r for r in fake.requests if r.method == "GET" and r.path.endswith("/jobs/renew")]


def test_an_earlier_job_that_does_not_go_times_out_naming_the_wait():
    fake, client = poll_only()
    old = job()
    fake.add(old)
    # Something keeps the old Job (a finalizer): it is back after the DELETE.
    fake.when("DELETE", "/jobs/renew", lambda: fake.when("GET", "/jobs", lambda: fake.add(old)))
    with pytest.raises(
        K8sObjectError, match=r"the earlier run's Job to be gone did not hold within 30s"
    ):
        run_job(client, job(), 1, 30, Changes(), interval=10)
    # Polled every 10 s (not the client's 2 s default) for the run's 30 s (not its 60 s).
    assert 3 <= len(polls(fake)) <= 5
    assert fake.writes()[-1].method == "DELETE"  # nothing created


def test_the_wait_for_the_job_polls_at_the_given_interval():
    fake, client = poll_only()
    with pytest.raises(JobFailed):
        run_job(client, job(), 1, 60, Changes(), interval=15)
    assert 3 <= len(polls(fake)) <= 7
