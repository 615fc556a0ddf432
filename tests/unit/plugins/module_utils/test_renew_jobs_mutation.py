"""Kill tests for pki/renew_jobs.py's surviving mutants (issue 18).

Every expected value is written out by hand: the batch/v1 Job and core/v1 Pod API
(field names, the hostPath type enum, volumeMounts naming a volume of the pod), the
Kubernetes recommended label app.kubernetes.io/managed-by, kubeadm's
ClusterConfiguration v1beta4 fields and its defaults (8760h, RSA-2048). Nothing is read
back from the module's own tables.
"""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
    JobsError,
    check_command,
    hostname_of,
    is_master,
    renew_jobs,
)

# The hostPath types the core/v1 API accepts.
HOST_PATH_TYPES = {
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
}
CP = "node-role.kubernetes.io/control-plane"
MASTER = "node-role.kubernetes.io/master"


def node(name, labels=None, taints=None):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints} if taints else {},
    }


def small_cluster():
    return [
        node("m1", {CP: ""}, [{"key": CP, "effect": "NoSchedule"}]),
        node("w1"),
        node("w2", taints=[{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]),
    ]


def hostname_affinity(values):
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/hostname", "operator": "In", "values": values}
                        ]
                    }
                ]
            }
        }
    }


def test_the_whole_jobs_are_the_hand_written_manifests():
    result = renew_jobs(
        small_cluster(),
        image="registry.example/tools:1",
        master_command=["kubeadm", "certs", "renew", "all"],
        worker_command=["true"],
        namespace="ops",
        name_prefix="rc",
        active_deadline_seconds=600,
        pod_annotations={"team": "sre"},
        environment={"ACKOPS_BACKUP": "/var/backups/x"},
    )
    labels_master = {
        "app.kubernetes.io/managed-by": "ackops-runbooks",
        "ackops.io/renew-certs": "master",
    }
    labels_worker = {
        "app.kubernetes.io/managed-by": "ackops-runbooks",
        "ackops.io/renew-certs": "worker",
    }
    host_root_volume = {"name": "host-root", "hostPath": {"path": "/", "type": "Directory"}}
    master = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "rc-master-1",
            "namespace": "ops",
            "labels": labels_master,
            "annotations": {"ackops.io/node-name": "m1"},
        },
        "spec": {
            "backoffLimit": 0,
            "completions": 1,
            "parallelism": 1,
            "activeDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": labels_master, "annotations": {"team": "sre"}},
                "spec": {
                    "restartPolicy": "Never",
                    "hostNetwork": True,
                    "hostPID": True,
                    "affinity": hostname_affinity(["m1"]),
                    "tolerations": [
                        {"key": MASTER, "operator": "Exists", "effect": "NoSchedule"},
                        {"key": CP, "operator": "Exists", "effect": "NoSchedule"},
                    ],
                    "containers": [
                        {
                            "name": "renew-certs",
                            "image": "registry.example/tools:1",
                            "command": ["kubeadm", "certs", "renew", "all"],
                            "securityContext": {"privileged": True},
                            "volumeMounts": [{"name": "host-root", "mountPath": "/host"}],
                            "terminationMessagePolicy": "FallbackToLogsOnError",
                            "env": [{"name": "ACKOPS_BACKUP", "value": "/var/backups/x"}],
                        }
                    ],
                    "volumes": [host_root_volume],
                },
            },
        },
    }
    worker_affinity = hostname_affinity(["w1", "w2"])
    worker_affinity["podAntiAffinity"] = {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {
                "labelSelector": {
                    "matchExpressions": [
                        {"key": "job-name", "operator": "In", "values": ["rc-workers"]}
                    ]
                },
                "topologyKey": "kubernetes.io/hostname",
            }
        ]
    }
    worker = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "rc-workers",
            "namespace": "ops",
            "labels": labels_worker,
            "annotations": {"ackops.io/node-names": "w1,w2"},
        },
        "spec": {
            "backoffLimit": 0,
            "completions": 2,
            "parallelism": 2,
            "activeDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": labels_worker, "annotations": {"team": "sre"}},
                "spec": {
                    "restartPolicy": "Never",
                    "hostNetwork": True,
                    "hostPID": True,
                    "affinity": worker_affinity,
                    "tolerations": [
                        {"key": "gpu", "operator": "Equal", "value": "yes", "effect": "NoSchedule"}
                    ],
                    "containers": [
                        {
                            "name": "renew-certs",
                            "image": "registry.example/tools:1",
                            "command": ["true"],
                            "securityContext": {"privileged": True},
                            "volumeMounts": [{"name": "host-root", "mountPath": "/host"}],
                            "terminationMessagePolicy": "FallbackToLogsOnError",
                        }
                    ],
                    "volumes": [host_root_volume],
                },
            },
        },
    }
    assert result["masters"] == [master]
    assert result["worker"] == worker
    assert result["master_nodes"] == ["m1"]
    assert result["worker_nodes"] == ["w1", "w2"]
    assert result["worker_count"] == 2
    assert result["config_maps"] == [None]


def test_every_volume_mount_names_a_volume_of_its_pod_and_host_path_types_are_the_apis():
    result = renew_jobs(small_cluster(), cluster_configuration={"kubernetesVersion": "v1.37.0"})
    for job in [*result["masters"], result["worker"]]:
        spec = job["spec"]["template"]["spec"]
        volumes = {v["name"] for v in spec["volumes"]}
        for container in spec["containers"]:
            for mount in container["volumeMounts"]:
                assert mount["name"] in volumes
        for volume in spec["volumes"]:
            if "hostPath" in volume:
                assert volume["hostPath"]["type"] in HOST_PATH_TYPES
        # The Job's own labels select its pods (the runbook lists pods by them).
        assert job["spec"]["template"]["metadata"]["labels"] == job["metadata"]["labels"]


def test_a_master_is_known_by_its_taint_alone_and_its_own_extra_taints_are_tolerated():
    nodes = [
        node(
            "m1",
            taints=[
                {"key": MASTER, "effect": "NoSchedule"},
                {"key": "maintenance", "value": "on", "effect": "NoExecute"},
            ],
        ),
        node("w1"),
    ]
    assert is_master(nodes[0]) is True
    assert is_master(nodes[1]) is False
    result = renew_jobs(nodes)
    assert result["master_nodes"] == ["m1"]
    tolerations = result["masters"][0]["spec"]["template"]["spec"]["tolerations"]
    assert {"key": "maintenance", "operator": "Equal", "value": "on", "effect": "NoExecute"} in (
        tolerations
    )


def test_a_node_without_a_hostname_label_is_matched_by_its_name():
    bare = {"metadata": {"name": "n9"}}
    assert hostname_of(bare) == "n9"
    assert (
        hostname_of({"metadata": {"name": "n9", "labels": {"kubernetes.io/hostname": "h"}}}) == "h"
    )


def test_check_command_refuses_an_empty_list_and_non_strings():
    for bad in ([], [1], "kubeadm", None):
        with pytest.raises(JobsError, match=r"^x: must be a non-empty list of strings"):
            check_command(bad, "x")
    assert check_command(["a", "b"], "x") == ["a", "b"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image": 123}, r"^image: must be a non-empty string"),
        ({"environment": {"A": 1}}, r"^environment: must be a mapping"),
        ({"worker_command": ["cat", "/etc/kubernetes/pki/ca.key"]}, r"^worker_command: refused"),
        ({"workers": ["nope"]}, r"^workers: no Node named nope"),
        ({"masters": ["nope"]}, r"^masters: no Node named nope"),
        ({"active_deadline_seconds": 0}, r"^active_deadline_seconds: must be a positive"),
        ({"name_prefix": "a" * 41}, r"^name_prefix: "),
    ],
)
def test_each_refusal_names_its_option(kwargs, message):
    with pytest.raises(JobsError, match=message):
        renew_jobs(small_cluster(), **kwargs)


def test_the_boundaries_are_accepted():
    # One second is a valid activeDeadlineSeconds (the API wants > 0); 40 characters is the limit.
    result = renew_jobs(small_cluster(), active_deadline_seconds=1, name_prefix="a" * 40)
    assert result["masters"][0]["spec"]["activeDeadlineSeconds"] == 1
    assert result["worker"]["spec"]["activeDeadlineSeconds"] == 1
    assert result["masters"][0]["metadata"]["name"] == "a" * 40 + "-master-1"


def test_a_taint_needs_both_key_and_effect():
    # core/v1 Taint: key and effect are required.
    for taint in ({"key": "gpu"}, {"effect": "NoSchedule"}):
        with pytest.raises(JobsError, match=r"^node w9: taint without key or effect"):
            renew_jobs([node("w9", taints=[taint])])


def test_the_config_map_is_the_hand_written_object():
    import yaml

    result = renew_jobs(
        small_cluster(),
        namespace="ops",
        name_prefix="rc",
        cluster_configuration={"kubernetesVersion": "v1.37.0", "clusterName": "prod"},
    )
    [config_map] = result["config_maps"]
    text = config_map["data"]["ClusterConfiguration"]
    assert config_map == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "rc-master-1-kubeadm-config",
            "namespace": "ops",
            "labels": {
                "app.kubernetes.io/managed-by": "ackops-runbooks",
                "ackops.io/renew-certs": "master",
            },
        },
        "data": {"ClusterConfiguration": text},
    }
    # A mapping without apiVersion is kubeadm's current API, v1beta4.
    assert yaml.safe_load(text) == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": "v1.37.0",
        "clusterName": "prod",
        "certificatesDir": "/etc/kubernetes/pki",
    }
    # Not sorted keys: apiVersion and kind lead, as in every Kubernetes document.
    again = renew_jobs(
        small_cluster(),
        cluster_configuration={
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "ClusterConfiguration",
            "clusterName": "prod",
        },
    )
    lines = again["config_maps"][0]["data"]["ClusterConfiguration"].splitlines()
    assert lines[:3] == [
        "apiVersion: kubeadm.k8s.io/v1beta4",
        "kind: ClusterConfiguration",
        "clusterName: prod",
    ]


def test_durations_are_go_duration_strings():
    from ansible_collections.ackops.runbooks.plugins.module_utils.pki import renew_jobs as module

    # Go's time.Duration text drops zero units and writes a zero duration "0s".
    for given, text in [
        ({"hours": 0.5}, "30m"),
        ({"seconds": 1}, "1s"),
        ({"hours": 2, "seconds": 5}, "2h5s"),
        ({}, "0s"),
    ]:
        assert module._go_duration_text(__import__("datetime").timedelta(**given)) == text


def test_a_one_second_difference_is_written_and_the_result_reports_the_runs_values():
    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
        kubeadm_cluster_configuration,
    )

    base = {"apiVersion": "kubeadm.k8s.io/v1beta4", "certificateValidityPeriod": "4380h"}
    out = kubeadm_cluster_configuration(base, validity_hours=4380 + 1 / 3600)
    assert out["document"]["certificateValidityPeriod"] == "4380h1s"
    assert out["overridden"] == ["certificateValidityPeriod"]
    assert out["validity"] == "4380h1s"
    # kubeadm's defaults: certificatesDir /etc/kubernetes/pki, RSA-2048.
    out = kubeadm_cluster_configuration(None, validity_hours=1, key_algorithm="ECDSA-P256")
    assert out["document"] == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "certificateValidityPeriod": "1h",
        "encryptionAlgorithm": "ECDSA-P256",
        "certificatesDir": "/etc/kubernetes/pki",
    }
    assert (out["validity"], out["key_algorithm"], out["source"]) == ("1h", "ECDSA-P256", "run")


def test_dropped_fields_of_both_etcd_modes_are_all_listed():
    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
        kubeadm_cluster_configuration,
    )

    config = {
        "etcd": {
            "local": {"dataDir": "/var/lib/etcd", "extraArgs": [{"name": "a", "value": "b"}]},
            "external": {"endpoints": ["https://e:2379"], "extraThing": "x"},
        },
        "networking": {},
    }
    out = kubeadm_cluster_configuration(config)
    assert out["dropped"] == ["etcd.external.extraThing", "etcd.local.extraArgs", "networking"]


def test_a_key_file_path_in_the_document_is_not_key_material_and_dates_become_text():
    import yaml

    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
        kubeadm_cluster_configuration,
    )

    config = yaml.safe_load(
        "clusterName: 2026-12-05\n"
        "etcd:\n  external:\n    endpoints: [https://e:2379]\n"
        "    keyFile: /etc/etcd/ca.key\n"
    )
    out = kubeadm_cluster_configuration(config)
    assert out["document"]["clusterName"] == "2026-12-05"
    assert out["document"]["etcd"]["external"]["keyFile"] == "/etc/etcd/ca.key"
    with pytest.raises(JobsError, match="carries a PEM private key"):
        kubeadm_cluster_configuration({"clusterName": "-----BEGIN PRIVATE KEY-----"})


def test_one_hour_is_a_valid_lifetime():
    result = renew_jobs(small_cluster(), validity_hours=1)
    assert result["kubeadm_config"]["validity"] == "1h"
    with pytest.raises(JobsError, match=r"^validity_hours: must be more than 0"):
        renew_jobs(small_cluster(), validity_hours=0)
