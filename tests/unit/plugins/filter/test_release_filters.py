"""The release filters: results, and AnsibleFilterError naming rule, position and reason."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.filter.release_dialect import release_dialect
from ansible_collections.ackops.runbooks.plugins.filter.release_parse import release_parse
from ansible_collections.ackops.runbooks.plugins.filter.release_split import release_split
from ansible_collections.ackops.runbooks.plugins.filter.release_translate import release_translate

REPO = Path(__file__).resolve().parents[4]
MATCH = "nginx.ingress.kubernetes.io/service-match"
WEIGHT = "nginx.ingress.kubernetes.io/service-weight"


def test_release_split():
    assert release_split(80, total=5) == {"old": 1, "new": 4, "achieved_weight": 80.0, "error": 0.0}
    assert release_split("33", old_replicas=4)["new"] == 2


def test_release_split_refuses_impossible_requests():
    with pytest.raises(
        AnsibleFilterError, match="release_split: total: 3 cannot keep min_per_side=2"
    ):
        release_split(50, total=3, min_per_side=2)
    with pytest.raises(AnsibleFilterError, match=r"release_split: .*unsupported option"):
        release_split(50, replicas=3)


def test_release_parse_an_ingress():
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "web",
            "annotations": {MATCH: 'new: query("v", "2")', WEIGHT: "new: 1, old: 3"},
        },
        "spec": {
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": n, "port": {"number": 80}}},
                            }
                            for n in ("old", "new")
                        ]
                    }
                }
            ]
        },
    }
    assert release_parse(ingress, dialect="ack") == {
        "stable": "old",
        "canary": "new",
        "matches": [{"type": "query", "name": "v", "value": "2", "regex": False}],
        "weight": 1,
        "weight_total": 4,
    }


def test_release_parse_names_rule_position_reason():
    source = {"annotations": {MATCH: 'new: header("x", /(/)'}, "services": ["old", "new"]}
    with pytest.raises(AnsibleFilterError) as info:
        release_parse(source, dialect="ack")
    assert str(info.value).startswith(
        f"release_parse: {MATCH}: at character 17: bad regular expression"
    )
    with pytest.raises(AnsibleFilterError, match="value of dialect must be one of"):
        release_parse(source, dialect="nginx")


def test_release_translate():
    source = {"annotations": {MATCH: 'new: query("v", "2")'}, "services": ["old", "new"]}
    found = release_translate(source, source_dialect="ack", target_dialect="upstream")
    assert found["result"]["annotations"] == {
        "nginx.ingress.kubernetes.io/canary": "true",
        "nginx.ingress.kubernetes.io/canary-weight": "0",
    }
    assert len(found["losses"]) == 1
    assert "query" in found["losses"][0]
    with pytest.raises(AnsibleFilterError, match="no query-parameter canary rule"):
        release_translate(source, source_dialect="ack", target_dialect="upstream", strict=True)
    route = release_translate(
        source, source_dialect="ack", target_dialect="gateway", route={"name": "web", "port": 8080}
    )
    assert route["losses"] == []
    assert route["result"]["spec"]["rules"][0]["matches"][0]["queryParams"] == [
        {"type": "Exact", "name": "v", "value": "2"}
    ]


def test_release_dialect():
    controller = {
        "kind": "Deployment",
        "spec": {
            "template": {
                "spec": {"containers": [{"image": "acs/aliyun-ingress-controller:v1.2.1-aliyun.1"}]}
            }
        },
    }
    assert release_dialect(controller)["dialect"] == "ack"
    assert release_dialect(controller, dialect="gateway")["dialect"] == "gateway"
    assert release_dialect(None, dialect="upstream")["dialect"] == "upstream"
    with pytest.raises(AnsibleFilterError, match="no ingress controller found"):
        release_dialect(None)


def test_filters_in_a_playbook(tmp_path):
    """Through Ansible's templating, as a playbook uses them."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        textwrap.dedent(
            """\
            - hosts: localhost
              gather_facts: false
              tasks:
                - ansible.builtin.assert:
                    that:
                      - (20 | ackops.runbooks.release_split(total=5)).new == 1
                      - (ack | ackops.runbooks.release_translate(source_dialect='ack', target_dialect='policy')).result.weight == 20
                  vars:
                    ack:
                      services: [old, new]
                      stable: old
                      annotations:
                        nginx.ingress.kubernetes.io/service-weight: "new: 20, old: 80"
            """
        )
    )
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            str(playbook),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
