"""The compose_convert and compose_placement filters: the converter for Jinja, errors as AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.filter.compose_convert import compose_convert
from ansible_collections.ackops.runbooks.plugins.filter.compose_placement import (
    compose_placement,
)
from tests.unit.manifests import assert_valid_manifests

STACK = """\
services:
  api:
    image: corp/api:${TAG:-1}
    expose: ["8000"]
    secrets: [token]
secrets:
  token: {environment: TOKEN}
"""


def test_compose_convert_from_text_and_from_a_mapping():
    result = compose_convert(
        STACK, project_name="shop", variables={"TOKEN": "t-7781"}, namespace="shop"
    )
    assert_valid_manifests(result["objects"])
    # a secret from environment: is never taken from the variables (the module's are logged)
    assert [f"{o['kind']} {o['metadata']['name']}" for o in result["objects"]] == [
        "Service api",
        "Deployment api",
    ]
    assert [e["status"] for e in result["report"]["stack"] if e["key"] == "secrets.token"] == [
        "not_convertible"
    ]
    assert "t-7781" not in repr(result)
    assert result["report"]["project"] == "shop"
    assert result["report_markdown"].startswith("# Swarm stack shop")
    parsed = compose_convert({"services": {"web": {"image": "nginx", "deploy": {"replicas": 2}}}})
    assert parsed["objects"][-1]["spec"]["replicas"] == 2


def test_compose_convert_options_are_the_modules():
    result = compose_convert(
        STACK, options={"statefulsets": ["api"], "wait_image": "x"}, variables={"TOKEN": "t"}
    )
    assert result["objects"][-1]["kind"] == "StatefulSet"
    with pytest.raises(AnsibleFilterError, match=r"unknown options \['secret_values'\]"):
        compose_convert(STACK, options={"secret_values": {"token": "x"}})


def test_compose_convert_names_the_input_service_key_and_value():
    with pytest.raises(AnsibleFilterError) as caught:
        compose_convert("services:\n  web:\n    image: x\n    deploy: {replicas: two}\n")
    assert str(caught.value) == (
        "compose_convert: <input>: services.web.deploy.replicas: 'two' must be a whole number"
    )


def test_compose_placement():
    result = compose_placement(
        ["node.labels.zone == west", "node.role != manager", "node.hostname == swarm-2"],
        label_map={"node.labels.zone": "topology.kubernetes.io/zone"},
        node_names={"swarm-2": "cn-hangzhou.i-002"},
    )
    assert result["nodeAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["west"]},
                        {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"},
                        {"key": "kubernetes.io/hostname", "operator": "In",
                         "values": ["cn-hangzhou.i-002"]},
                    ]
                }
            ]
        }
    }  # fmt: skip
    assert result["tolerations"] == []
    assert [e["status"] for e in result["entries"]] == ["converted"] * 3
    assert compose_placement([]) == {"nodeAffinity": {}, "tolerations": [], "entries": []}


def test_compose_placement_flags_and_refuses():
    flagged = compose_placement(["node.labels.ssd == true"], node_labels={"ssd": ["false"]})
    assert flagged["entries"][0]["behaviour_change"] is True
    with pytest.raises(
        AnsibleFilterError, match=r"constraints\[0\]: 'node.labels.ssd ~ true' uses"
    ):
        compose_placement(["node.labels.ssd ~ true"])
