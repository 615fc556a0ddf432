"""The manifest validator other tests rely on must accept valid objects and
reject invalid ones with a message naming the object and the field."""

from __future__ import annotations

import pytest

from tests.unit.manifests import ManifestError, assert_valid_manifest, assert_valid_manifests

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "renew-certs-master-1", "namespace": "kube-system"},
    "spec": {
        "backoffLimit": 0,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "renew", "image": "registry.k8s.io/pause:3.10"}],
            }
        },
    },
}


def test_valid_job_passes():
    assert_valid_manifest(JOB)


def test_list_is_validated_item_by_item():
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": 1}}
    with pytest.raises(ManifestError, match=r"ConfigMap c: data\.k: 1 is not of type"):
        assert_valid_manifests([JOB, {"kind": "List", "items": [bad]}])


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param(
            {**JOB, "spec": {**JOB["spec"], "backofLimit": 1}},
            r"Job kube-system/renew-certs-master-1: spec: Additional properties .*'backofLimit'",
            id="unknown-field-strict",
        ),
        pytest.param(
            {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "web"}},
            r"Ingress web: no extensions/v1beta1 Ingress in the Kubernetes 1\.37\.0 schemas",
            id="removed-api-version",
        ),
        pytest.param(
            {"metadata": {"name": "x"}},
            r"not a Kubernetes object",
            id="no-kind",
        ),
    ],
)
def test_invalid_manifest_is_rejected_with_its_name(obj, message):
    with pytest.raises(ManifestError, match=message):
        assert_valid_manifest(obj)
