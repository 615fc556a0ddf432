"""run_job against the in-memory fake API: success, a failed pod, a timeout, a Job deleted
under it, a leftover Job, and the Job and its ConfigMap deleted in every case."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    failure,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import K8sObjectError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.jobs import (
    JobFailed,
    failed_pods,
    job_outcome,
    run_job,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
from tests.unit.k8s_fake import FakeApi

NS = "kube-system"
LABELS = {"app.kubernetes.io/managed-by": "ackops-runbooks"}


@pytest.fixture(params=[True, False], ids=["watch", "poll"])
def fake(request):
    return FakeApi(watch=request.param)


@pytest.fixture
def client(fake):
    return ObjectClient(fake.api_client(), "ackops-test", clock=fake.clock, sleep=fake.clock.sleep)


def job(name="renew", completions=1):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS, "labels": dict(LABELS)},
        "spec": {
            "completions": completions,
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "renew", "image": "busybox"}],
                },
            },
        },
    }


def config_map(name="renew-kubeadm-config"):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS, "labels": {"ackops.io/renew-certs": "job"}},
        "data": {"ClusterConfiguration": "kind: ClusterConfiguration\n"},
    }


def pod(job_name, index, node, exit_code=0, message=""):
    terminated = {"exitCode": exit_code, "reason": "Error" if exit_code else "Completed"}
    if message:
        terminated["message"] = message
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{job_name}-{index}",
            "namespace": NS,
            "labels": {"job-name": job_name},
        },
        "spec": {"nodeName": node, "containers": [{"name": "renew", "image": "busybox"}]},
        "status": {
            "phase": "Failed" if exit_code else "Succeeded",
            "containerStatuses": [{"name": "renew", "state": {"terminated": terminated}}],
        },
    }


def finish(fake, name="renew", succeeded=0, failed=0, pods=(), conditions=None):
    """What the Job controller and the kubelet do: pods end, the Job's status counts them."""

    def act():
        current = fake.stored("batch/v1", "Job", name, NS)
        current["status"] = {"succeeded": succeeded, "failed": failed}
        if conditions:
            current["status"]["conditions"] = conditions
        fake._store(current, "MODIFIED")
        fake.add(*pods)

    return act


def after_create(fake, action):
    """Run ``action`` once the Job exists: at the first read after its POST."""
    fake.when("POST", "/jobs", lambda: fake.when("GET", "/jobs", action))


def left(fake):
    return [key for key in fake.objects if key[1] in ("Job", "ConfigMap")]


def test_success_creates_the_config_map_first_and_deletes_both(fake, client):
    after_create(fake, finish(fake, succeeded=1, pods=[pod("renew", 0, "m1")]))
    changes = Changes()
    summary = run_job(client, job(), 1, 60, changes, config_map=config_map())
    assert summary == {"job": f"Job {NS}/renew", "succeeded": 1, "failed": 0, "pods": []}
    writes = [(r.method, r.path.rsplit("/", 2)[-2:]) for r in fake.writes()]
    assert writes == [
        ("PATCH", ["configmaps", "renew-kubeadm-config"]),
        ("POST", [NS, "jobs"]),
        ("DELETE", ["jobs", "renew"]),
        ("DELETE", ["configmaps", "renew-kubeadm-config"]),
    ]
    job_delete = next(r for r in fake.writes() if r.method == "DELETE")
    assert job_delete.body["propagationPolicy"] == "Background"
    assert left(fake) == []
    assert [c["action"] for c in changes] == ["create", "create", "delete", "delete"]


def test_many_pods_wait_until_every_one_succeeded(fake, client):
    pods = [pod("workers", i, f"w{i}") for i in range(3)]
    two = finish(fake, "workers", succeeded=2, pods=pods[:2])
    three = finish(fake, "workers", succeeded=3, pods=pods[2:])
    # Two pods have ended at the first read, the third by the next one.
    after_create(fake, lambda: (two(), fake.when("GET", "/jobs", three)))
    summary = run_job(client, job("workers", 3), 3, 600, Changes())
    assert summary["succeeded"] == 3
    assert fake.clock.now < 1010
    assert left(fake) == []


def test_a_failed_pod_names_the_job_pod_node_exit_code_and_message(fake, client):
    pods = [
        pod("renew", 0, "cn-hangzhou.i-m1", 3, "  lab: writing apiserver.crt failed half-way\n")
    ]
    after_create(fake, finish(fake, failed=1, pods=pods))
    changes = Changes()
    with pytest.raises(JobFailed) as raised:
        run_job(client, job(), 1, 60, changes, config_map=config_map())
    msg = failure(raised.value, changes)["msg"]
    assert msg == (
        f"Job {NS}/renew succeeded 0 of 1 times (failed 1); pod renew-0 on cn-hangzhou.i-m1 "
        "exited 3: lab: writing apiserver.crt failed half-way. "
        "The Job is deleted and the run stops here."
    )
    error = raised.value.as_error()
    assert error["object"] == f"Job {NS}/renew"
    assert error["details"]["pods"][0]["exit_code"] == 3
    assert error["details"]["outcome"] == "failed"
    # The ConfigMap's content is not in the failure.
    assert "ClusterConfiguration" not in str(failure(raised.value, changes))
    assert left(fake) == []
    assert [c["action"] for c in changes][-2:] == ["delete", "delete"]


def test_a_pod_without_a_message_says_where_to_look_and_long_messages_are_cut(fake, client):
    pods = [pod("renew", 0, "m1", 1), pod("renew", 1, "m1", 2, "x" * 4000)]
    after_create(fake, finish(fake, failed=2, pods=pods))
    with pytest.raises(JobFailed) as raised:
        run_job(client, job(), 1, 60, Changes())
    text = str(raised.value)
    assert "pod renew-0 on m1 exited 1: see its log" in text
    assert "pod renew-1 on m1 exited 2: " + "x" * 1497 + "..." in text
    assert "x" * 1498 not in text


def test_a_deadline_failed_condition_ends_the_wait(fake, client):
    condition = {
        "type": "Failed",
        "status": "True",
        "reason": "DeadlineExceeded",
        "message": "Job was active longer than specified deadline",
    }
    after_create(fake, finish(fake, conditions=[condition]))
    with pytest.raises(JobFailed) as raised:
        run_job(client, job(), 1, 600, Changes())
    assert "(failed 0) [DeadlineExceeded: Job was active longer" in str(raised.value)
    assert fake.clock.now < 1600  # it did not wait for the timeout
    assert left(fake) == []


def test_a_timeout_reports_the_pods_still_running_and_deletes_everything(fake, client):
    running = pod("renew", 0, "m1")
    running["status"] = {"phase": "Running"}
    fake.add(running)
    changes = Changes()
    with pytest.raises(JobFailed) as raised:
        run_job(client, job(), 1, 30, changes, config_map=config_map())
    text = str(raised.value)
    assert text.startswith(
        f"Job {NS}/renew succeeded 0 of 1 times (failed 0), still running after 30s"
    )
    assert "; pod renew-0 on m1: Running." in text
    assert raised.value.as_error()["details"]["outcome"] == "timeout"
    assert 1030 <= fake.clock.now < 1040
    assert left(fake) == []


def test_a_job_deleted_by_someone_else_is_a_failure(fake, client):
    after_create(fake, lambda: fake._remove(("batch/v1", "Job", NS, "renew")))
    with pytest.raises(JobFailed, match="deleted by someone else while it ran"):
        run_job(client, job(), 1, 60, Changes())
    assert left(fake) == []


def test_a_failed_creation_still_deletes_the_config_map(fake, client):
    fake.fail("POST", "/jobs", 422, 'Job.batch "renew" is invalid: spec.template: Required value')
    changes = Changes()
    with pytest.raises(K8sObjectError, match=r"spec\.template: Required value"):
        run_job(client, job(), 1, 60, changes, config_map=config_map())
    assert left(fake) == []
    assert [(c["action"], c["target"]) for c in changes] == [
        ("create", f"ConfigMap {NS}/renew-kubeadm-config"),
        ("delete", f"ConfigMap {NS}/renew-kubeadm-config"),
    ]


def test_a_failed_delete_is_added_to_the_jobs_failure(fake, client):
    after_create(fake, finish(fake, failed=1, pods=[pod("renew", 0, "m1", 4, "no kubeadm")]))
    fake.fail("DELETE", "/jobs/renew", 500, "etcdserver: request timed out")
    with pytest.raises(JobFailed) as raised:
        run_job(client, job(), 1, 60, Changes(), config_map=config_map())
    text = str(raised.value)
    assert "exited 4: no kubeadm" in text
    assert "deleting Job kube-system/renew failed" in text
    assert "etcdserver: request timed out" in text
    # The ConfigMap was deleted all the same.
    assert left(fake) == [("batch/v1", "Job", NS, "renew")]


def test_a_failed_delete_after_success_is_an_error(fake, client):
    after_create(fake, finish(fake, succeeded=1))
    fake.fail("DELETE", "/jobs/renew", 500, "etcdserver: request timed out")
    with pytest.raises(K8sObjectError, match=r"deleting Job kube-system/renew failed.*by hand"):
        run_job(client, job(), 1, 60, Changes())


def test_an_earlier_runs_job_is_deleted_first(fake, client):
    old = job()
    old["status"] = {"succeeded": 1}  # must not be taken for this run's success
    fake.add(old)
    after_create(fake, finish(fake, failed=1, pods=[pod("renew", 0, "m1", 4)]))
    changes = Changes()
    with pytest.raises(JobFailed, match=r"succeeded 0 of 1 times \(failed 1\)"):
        run_job(client, job(), 1, 60, changes)
    assert changes[0] == {
        "action": "delete",
        "target": f"Job {NS}/renew",
        "reason": "left by an earlier run",
    }


def test_another_job_of_the_same_name_is_refused_and_nothing_created(fake, client):
    other = job()
    other["metadata"]["labels"] = {"app": "backup"}
    fake.add(other)
    with pytest.raises(K8sObjectError, match="does not carry this Job's labels") as raised:
        run_job(client, job(), 1, 60, Changes(), config_map=config_map())
    assert raised.value.field == "metadata.name"
    assert fake.writes() == []
    assert fake.stored("batch/v1", "Job", "renew", NS)["metadata"]["labels"] == {"app": "backup"}


def test_dry_run_creates_nothing(fake, client):
    changes = Changes()
    summary = run_job(client, job(), 1, 60, changes, config_map=config_map(), dry_run=True)
    assert summary["succeeded"] == 0
    assert len(fake.writes()) == 2
    assert all(r.dry_run for r in fake.writes())
    assert left(fake) == []
    assert changes == [{"action": "create", "target": f"Job {NS}/renew", "check_mode": True}]


@pytest.mark.parametrize(
    ("status", "conditions", "expected", "outcome"),
    [
        ({}, [], 1, None),
        ({"succeeded": 1}, [], 1, "succeeded"),
        ({"succeeded": 2}, [], 3, None),
        ({"succeeded": 2, "failed": 1}, [], 3, "failed"),
        ({"succeeded": 1}, [{"type": "Complete", "status": "True"}], 3, "failed"),
        ({}, [{"type": "Failed", "status": "False"}], 1, None),
        ({}, [{"type": "Failed", "status": "True"}], 1, "failed"),
    ],
)
def test_job_outcome(status, conditions, expected, outcome):
    obj = {"status": {**status, "conditions": conditions}}
    assert job_outcome(obj, expected) == outcome
    assert job_outcome(None, expected) == "gone"


def test_failed_pods_reads_init_containers_and_ignores_successes():
    failing = pod("renew", 0, "m1", 0)
    failing["status"]["initContainerStatuses"] = [
        {"name": "backup", "state": {"terminated": {"exitCode": 5, "message": "disk full"}}}
    ]
    waiting = copy.deepcopy(failing)
    waiting["metadata"]["name"] = "renew-1"
    waiting["status"] = {"containerStatuses": [{"name": "renew", "state": {"waiting": {}}}]}
    assert failed_pods([failing, waiting]) == [
        {
            "pod": "renew-0",
            "node": "m1",
            "container": "backup",
            "exit_code": 5,
            "reason": None,
            "message": "disk full",
        }
    ]
