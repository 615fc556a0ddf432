"""Tests written to kill mutants of the ingress planning that the suite let through.

The oracle for ``rollout_done`` is what ``kubectl rollout status`` waits for
(kubectl's DeploymentStatusViewer / DaemonSetStatusViewer): the controller has seen
the latest generation, every replica is updated, no old replica is left and every
replica is available; for a DaemonSet, every scheduled pod is updated and available
(and none runs where it should not).
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.ack_version import (
    parse_tag,
    version_gate,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import (
    on_delete,
    rollout_done,
)


def deployment(want=3, generation=4, **status):
    full = {
        "observedGeneration": generation,
        "replicas": want,
        "updatedReplicas": want,
        "availableReplicas": want,
        **status,
    }
    return {
        "kind": "Deployment",
        "metadata": {"name": "c", "generation": generation},
        "spec": {"replicas": want},
        "status": full,
    }


def daemonset(desired=3, generation=2, strategy=None, **status):
    full = {
        "observedGeneration": generation,
        "desiredNumberScheduled": desired,
        "updatedNumberScheduled": desired,
        "numberAvailable": desired,
        "numberMisscheduled": 0,
        **status,
    }
    spec = {"updateStrategy": {"type": strategy}} if strategy else {}
    return {
        "kind": "DaemonSet",
        "metadata": {"name": "c", "generation": generation},
        "spec": spec,
        "status": full,
    }


def test_a_finished_rollout_is_done():
    assert rollout_done(deployment()) is True
    assert rollout_done(daemonset()) is True


@pytest.mark.parametrize(
    "status",
    [
        {"observedGeneration": 3},  # the controller has not seen the new spec yet
        {"updatedReplicas": 2},  # one replica still runs the old template
        {"replicas": 4},  # an old replica is still there (surge)
        {"availableReplicas": 2},  # one replica is not available
        {"updatedReplicas": 4},
        {"availableReplicas": 4},
        {"replicas": 2},
    ],
)
def test_a_deployment_rollout_in_progress_is_not_done(status):
    assert rollout_done(deployment(**status)) is False


def test_a_newer_observed_generation_is_done_and_spec_replicas_default_to_one():
    assert rollout_done(deployment(observedGeneration=5)) is True
    one = deployment(want=1)
    del one["spec"]["replicas"]
    assert rollout_done(one) is True
    one["status"]["updatedReplicas"] = 0
    assert rollout_done(one) is False


def test_a_deployment_without_status_is_not_done():
    dep = deployment()
    dep["status"] = {}
    assert rollout_done(dep) is False
    del dep["status"]
    assert rollout_done(dep) is False


@pytest.mark.parametrize(
    "status",
    [
        {"observedGeneration": 1},
        {"updatedNumberScheduled": 2},
        {"numberAvailable": 2},
        {"numberAvailable": 4},
        {"numberMisscheduled": 1},
    ],
)
def test_a_daemonset_rollout_in_progress_is_not_done(status):
    assert rollout_done(daemonset(**status)) is False


def test_an_on_delete_daemonset_needs_placement_not_updates():
    # OnDelete: pods keep the old template until deleted, so "updated" cannot be awaited.
    stale = daemonset(strategy="OnDelete", updatedNumberScheduled=0)
    assert on_delete(stale) is True
    assert rollout_done(stale) is True
    assert rollout_done(daemonset(strategy="OnDelete", numberAvailable=2)) is False
    rolling = daemonset(strategy="RollingUpdate", updatedNumberScheduled=0)
    assert on_delete(rolling) is False
    assert rollout_done(rolling) is False
    # A Deployment has no OnDelete, whatever its spec says.
    dep = copy.deepcopy(deployment())
    dep["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert on_delete(dep) is False


def test_version_gate_results_whole():
    image = "registry-vpc.cn-hangzhou.aliyuncs.com/acs/aliyun-ingress-controller:v1.2.1-aliyun.1"
    assert version_gate(image, "0.44.0.5-8e7c6dc-aliyun") == {
        "image": image,
        "tag": "v1.2.1-aliyun.1",
        "version": "1.2.1-1",
        "minimum": "0.44.0.5-8e7c6dc-aliyun",
        "supported": True,
        "reason": "v1.2.1-aliyun.1 (ACK 1.2.1-1) is at least 0.44.0.5-8e7c6dc-aliyun (ACK 0.44.0-5)",
    }
    old = version_gate("acs/nginx-ingress-controller:0.30.0-1", "0.44.0.5-8e7c6dc-aliyun")
    assert old["supported"] is False
    assert old["version"] == "0.30.0-1"
    assert old["reason"] == (
        "0.30.0-1 (ACK 0.30.0-1) is older than 0.44.0.5-8e7c6dc-aliyun (ACK 0.44.0-5)"
    )
    unknown = version_gate("acs/nginx-ingress-controller@sha256:" + "0" * 64, "1.0.0")
    assert unknown["tag"] is None
    assert unknown["reason"].endswith("cannot tell whether it is at least 1.0.0")


def test_parse_tag_keeps_the_tag_it_read():
    assert parse_tag(" v1.2.1-aliyun.3 ").tag == " v1.2.1-aliyun.3 "
    assert str(parse_tag("1.10.2")) == "1.10.2-0"


# The API server omits zero counts from status (omitempty): a status must be read
# with 0 for every missing count, and a missing observedGeneration means "not seen yet".


def test_a_deployment_scaled_to_zero_is_done_with_its_zero_counts_omitted():
    dep = deployment(want=0)
    dep["status"] = {"observedGeneration": 4}
    assert rollout_done(dep) is True


def test_a_daemonset_on_no_node_is_done_with_its_zero_counts_omitted():
    ds = daemonset()
    ds["status"] = {"observedGeneration": 2}
    assert rollout_done(ds) is True
    ds["status"]["numberAvailable"] = 1  # one pod more than desired: not settled
    assert rollout_done(ds) is False


def test_a_status_without_observed_generation_is_not_done():
    dep = deployment(want=1)
    del dep["status"]["observedGeneration"]
    dep["metadata"]["generation"] = 1
    assert rollout_done(dep) is False
    ds = daemonset(desired=1, generation=1)
    del ds["status"]["observedGeneration"]
    assert rollout_done(ds) is False


def test_an_object_without_generation_is_judged_on_its_counts():
    dep = deployment(want=1)
    del dep["metadata"]["generation"]
    del dep["status"]["observedGeneration"]
    assert rollout_done(dep) is True
    dep["status"]["availableReplicas"] = 0
    assert rollout_done(dep) is False


@pytest.mark.parametrize("field", ["updatedReplicas", "replicas", "availableReplicas"])
def test_one_replica_with_a_count_omitted_is_not_done(field):
    dep = deployment(want=1)
    del dep["status"][field]
    assert rollout_done(dep) is False


@pytest.mark.parametrize("field", ["updatedNumberScheduled", "numberAvailable"])
def test_one_daemon_pod_with_a_count_omitted_is_not_done(field):
    ds = daemonset(desired=1)
    del ds["status"][field]
    assert rollout_done(ds) is False


def test_no_misscheduled_count_means_none():
    ds = daemonset(desired=1)
    del ds["status"]["numberMisscheduled"]
    assert rollout_done(ds) is True


def test_evict_safely_says_whether_it_evicted_and_records_only_real_evictions():
    from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
    from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import describe
    from tests.unit.plugins.module_utils.test_ingress_converge import NAME, NS, Cluster

    cluster = Cluster()
    ledger = Changes()
    converger = cluster.converger(ledger=ledger)
    objects = cluster.fake.objects
    controller = objects[("apps/v1", "Deployment", NS, NAME)]
    gone = objects[("v1", "Pod", NS, "p-w3")]
    cluster.fake._remove(("v1", "Pod", NS, "p-w3"))  # it went away on its own: 404
    assert converger.evict_safely(gone, controller, {"w4"}, 0, "move") is False
    assert list(ledger) == []
    moved = objects[("v1", "Pod", NS, "p-w4")]
    assert converger.evict_safely(moved, controller, {"w1", "w2"}, 0, "move") is True
    assert ("v1", "Pod", NS, "p-w4") not in cluster.fake.objects
    (entry,) = list(ledger)
    assert (entry["action"], entry["target"], entry["change"]) == (
        "evict",
        describe(moved),
        "move pod p-w4 off w4",
    )
