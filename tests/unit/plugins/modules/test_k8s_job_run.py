"""k8s_job_run's input checks and results, and k8s_object_info's reads, against the fake API."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.diff import REDACTED
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.jobs import JobFailed
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
from ansible_collections.ackops.runbooks.plugins.modules import k8s_job_run, k8s_object_info
from tests.unit.k8s_fake import FakeApi
from tests.unit.plugins.module_utils.test_k8s_jobs import NS, after_create, config_map, finish, job


@pytest.fixture
def fake():
    return FakeApi()


@pytest.fixture
def client(fake):
    return ObjectClient(fake.api_client(), "ackops-test", clock=fake.clock, sleep=fake.clock.sleep)


OK = {"job": job(), "config_map": config_map(), "succeeded": 1, "timeout": 60}


def module(params, check_mode=False):
    return SimpleNamespace(params=copy.deepcopy(params), check_mode=check_mode)


def changed(params, path, value):
    params = copy.deepcopy(params)
    *parents, last = path.split(".")
    target = params
    for part in parents:
        target = target[part]
    if value is None:
        target.pop(last)
    else:
        target[last] = value
    return params


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("job.apiVersion", "batch/v1beta1", "job.apiVersion"),
        ("job.kind", "CronJob", "job.kind"),
        ("job.metadata.name", "", "job.metadata.name"),
        ("job.metadata.namespace", None, "job.metadata.namespace"),
        ("job.metadata", None, "job.metadata.name"),
        ("config_map.kind", "Secret", "config_map.kind"),
        ("config_map.apiVersion", "v2", "config_map.apiVersion"),
        ("config_map.metadata.name", None, "config_map.metadata.name"),
        ("config_map.metadata.namespace", "default", "config_map.metadata.namespace"),
        ("succeeded", 0, "succeeded"),
        ("timeout", -5, "timeout"),
    ],
)
def test_bad_input_is_refused_naming_the_field_before_any_request(fake, client, path, value, field):
    params = changed(OK, path, value)
    with pytest.raises(InputError) as raised:
        k8s_job_run.run(module(params), lambda: client, Changes())
    assert raised.value.field == field
    assert fake.requests == []


def test_a_config_map_without_namespace_goes_to_the_jobs():
    k8s_job_run.check_input(changed(OK, "config_map.metadata.namespace", None))
    k8s_job_run.check_input({**OK, "config_map": None})


def test_success_returns_counts_and_what_was_created_and_deleted(fake, client):
    after_create(fake, finish(fake, succeeded=1))
    result = k8s_job_run.run(module(OK), lambda: client, Changes())
    assert result["changed"] is True
    assert result["job"] == f"Job {NS}/renew"
    assert (result["succeeded"], result["failed"]) == (1, 0)
    assert [c["action"] for c in result["changes"]] == ["create", "create", "delete", "delete"]
    assert "ClusterConfiguration" not in str(result)
    assert not [key for key in fake.objects if key[1] in ("Job", "ConfigMap")]


def test_failure_is_raised_for_run_module(fake, client):
    after_create(fake, finish(fake, failed=1))
    with pytest.raises(JobFailed, match=r"^Job kube-system/renew succeeded 0 of 1 times"):
        k8s_job_run.run(module({**OK, "config_map": None}), lambda: client, Changes())


def test_check_mode_creates_nothing(fake, client):
    result = k8s_job_run.run(module(OK, check_mode=True), lambda: client, Changes())
    assert result["check_mode"] is True
    assert [r.dry_run for r in fake.writes()] == [True, True]
    assert not [key for key in fake.objects if key[1] in ("Job", "ConfigMap")]


def node(name):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {}}}


INFO = {"api_version": "v1", "name": None, "namespace": None, "label_selectors": []}


def test_info_lists_nodes_and_reads_one_object_or_none(fake, client):
    fake.add(node("m1"), node("w1"), {**config_map("kubeadm-config"), "data": {"a": "b"}})
    nodes = k8s_object_info.read(module({**INFO, "kind": "Node"}), lambda: client, Changes())
    assert [n["metadata"]["name"] for n in nodes["resources"]] == ["m1", "w1"]
    assert nodes["resources"][0]["kind"] == "Node"
    assert nodes["changed"] is False
    one = {**INFO, "kind": "ConfigMap", "namespace": NS, "name": "kubeadm-config"}
    found = k8s_object_info.read(module(one), lambda: client, Changes())["resources"]
    assert [cm["data"] for cm in found] == [{"a": "b"}]
    missing = {**one, "name": "nowhere"}
    assert k8s_object_info.read(module(missing), lambda: client, Changes())["resources"] == []


def test_info_selects_by_label_and_redacts_secrets(fake, client):
    fake.add(
        {**config_map("a"), "metadata": {"name": "a", "namespace": NS, "labels": {"x": "1"}}},
        {**config_map("b"), "metadata": {"name": "b", "namespace": NS, "labels": {"x": "2"}}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": NS},
            "data": {"token": "c2VjcmV0"},
        },
    )
    params = {**INFO, "kind": "ConfigMap", "label_selectors": ["x=2"]}
    found = k8s_object_info.read(module(params), lambda: client, Changes())["resources"]
    assert [cm["metadata"]["name"] for cm in found] == ["b"]
    secrets = k8s_object_info.read(module({**INFO, "kind": "Secret"}), lambda: client, Changes())
    assert secrets["resources"][0]["data"] == {"token": REDACTED}
