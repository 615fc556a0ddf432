"""The planning filters: results, and AnsibleFilterError text for bad arguments."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.filter.cidr_conflicts import cidr_conflicts
from ansible_collections.ackops.runbooks.plugins.filter.free_cidrs import free_cidrs_filter
from ansible_collections.ackops.runbooks.plugins.filter.master_spec import master_spec_filter
from ansible_collections.ackops.runbooks.plugins.filter.max_nodes import max_nodes_filter
from ansible_collections.ackops.runbooks.plugins.filter.worker_plan import worker_plan_filter


def test_master_spec_filter():
    assert master_spec_filter(120)["cores"] == 16


def test_worker_plan_filter_reproduces_the_guide():
    assert worker_plan_filter(160, failure_ratio=0.1)["recommended"]["count"] == 10
    best = worker_plan_filter(160, failure_ratio="0.2")["recommended"]
    assert (best["count"], best["instance_cores"], best["load_cap_cores"]) == (5, 32, 128)


def test_max_nodes_filter_defaults_to_128_pods_per_node():
    capacity = max_nodes_filter("172.20.0.0/16")
    assert (capacity["max_nodes"], capacity["node_block"]["max_nodes"]) == (512, 256)


def test_free_cidrs_filter():
    assert free_cidrs_filter(["10.0.0.0/8", "172.16.0.0/16"], prefix=16) == ["172.17.0.0/16"]


def test_cidr_conflicts_filter_names_fields_from_plan():
    conflicts = cidr_conflicts(
        {
            "vpc_cidr": "192.168.0.0/16",
            "clusters": [
                {"name": "a", "pod_cidr": "192.168.0.0/17", "service_cidr": "172.21.0.0/20"}
            ],
        }
    )
    assert [(c["first"]["field"], c["second"]["field"]) for c in conflicts] == [
        ("plan.clusters[0].pod_cidr", "plan.vpc_cidr")
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: master_spec_filter(0), "master_spec: node_count: 0 must be greater than zero"),
        (
            lambda: master_spec_filter("lots"),
            "master_spec: argument '_input' is of type str and we were unable to convert to int",
        ),
        (lambda: worker_plan_filter(160), "worker_plan: missing required arguments: failure_ratio"),
        (
            lambda: worker_plan_filter(160, failure_ratio=1.0),
            "worker_plan: failure_ratio: 1.0 must be greater than 0 and less than 1",
        ),
        (
            lambda: worker_plan_filter(-1, failure_ratio=0.1),
            "worker_plan: total_cores: -1 must be greater than zero",
        ),
        (
            lambda: worker_plan_filter(160, failure_ratio=0.1, instance_core=[16]),
            "worker_plan: unsupported option instance_core. Supported parameters include",
        ),
        (
            lambda: worker_plan_filter(160, 0.1),
            "worker_plan: pass options by name, e.g. worker_plan(option=value); got (0.1,)",
        ),
        (
            lambda: max_nodes_filter("172.20.0.0/33"),
            "max_nodes: pod_cidr: '172.20.0.0/33' is not a valid IPv4 or IPv6 CIDR",
        ),
        (
            lambda: max_nodes_filter("172.20.0.0/16", pods_per_node=0),
            "max_nodes: pods_per_node: 0 must be greater than zero",
        ),
        (
            lambda: max_nodes_filter("172.20.0.0/16", pods_per_node="many"),
            "max_nodes: argument 'pods_per_node' is of type str and we were unable to convert to int:"
            " \"'many'\" cannot be converted to an int",
        ),
        (
            lambda: free_cidrs_filter(["10.0.0.0/8"], prefix=0),
            "free_cidrs: prefix: 0 must be greater than zero",
        ),
        (
            lambda: free_cidrs_filter(["10.0.0.0/8", "10.1.0.0"], prefix=16),
            "free_cidrs: used[1]: '10.1.0.0' has no prefix length",
        ),
        (
            lambda: cidr_conflicts({"vpc_cidr": "300.0.0.0/8"}),
            "cidr_conflicts: plan.vpc_cidr: '300.0.0.0/8' is not a valid IPv4 or IPv6 CIDR",
        ),
        (
            lambda: cidr_conflicts("10.0.0.0/8"),
            "cidr_conflicts: argument '_input' is of type str and we were unable to convert to dict",
        ),
    ],
)
def test_bad_filter_arguments_raise_filter_errors_naming_field_and_value(call, message):
    with pytest.raises(AnsibleFilterError) as exc:
        call()
    assert message in str(exc.value)
