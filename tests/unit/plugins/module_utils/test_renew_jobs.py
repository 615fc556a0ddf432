"""The in-cluster renewal Jobs: placement, tolerations, schema validity, no key material."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.filter.renew_jobs import (
    renew_jobs as renew_jobs_filter,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
    JobsError,
    renew_jobs,
    tolerations_for,
)
from tests.catalogue import record
from tests.unit.manifests import assert_valid_manifest

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(name, labels=None, taints=None, hostname=None):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": hostname or name, **(labels or {})},
        },
        "spec": {"taints": taints} if taints else {},
    }


def cluster():
    return [
        node("cn-hangzhou.i-m1", {"node-role.kubernetes.io/control-plane": ""}, [CONTROL_PLANE]),
        node("cn-hangzhou.i-m2", {"node-role.kubernetes.io/control-plane": ""}, [CONTROL_PLANE]),
        node(
            "cn-hangzhou.i-m3", {"node-role.kubernetes.io/master": ""}, None, hostname="m3.internal"
        ),
        node("cn-hangzhou.i-w1", taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}]),
        node(
            "cn-hangzhou.i-w2",
            taints=[
                {"key": "gpu", "value": "true", "effect": "NoSchedule"},
                {"key": "dedicated", "value": "ingress", "effect": "NoExecute"},
            ],
        ),
        node("cn-hangzhou.i-w3", taints=[{"key": "spot", "effect": "PreferNoSchedule"}]),
    ]


def all_jobs(result):
    return result["masters"] + ([result["worker"]] if result["worker"] else [])


def pod(job):
    return job["spec"]["template"]["spec"]


def hostname_values(job):
    terms = pod(job)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    [term] = terms["nodeSelectorTerms"]
    [expression] = term["matchExpressions"]
    assert (expression["key"], expression["operator"]) == ("kubernetes.io/hostname", "In")
    return expression["values"]


def test_every_generated_job_validates_against_the_schema():
    result = renew_jobs(cluster())
    assert len(result["masters"]) == 3
    assert result["worker"] is not None
    for job in all_jobs(result):
        assert_valid_manifest(job)


def test_master_jobs_are_pinned_privileged_host_jobs():
    result = renew_jobs(cluster())
    assert result["master_nodes"] == ["cn-hangzhou.i-m1", "cn-hangzhou.i-m2", "cn-hangzhou.i-m3"]
    for job, hostname in zip(
        result["masters"], ["cn-hangzhou.i-m1", "cn-hangzhou.i-m2", "m3.internal"], strict=True
    ):
        spec = job["spec"]
        assert (spec["backoffLimit"], spec["completions"], spec["parallelism"]) == (0, 1, 1)
        assert spec["activeDeadlineSeconds"] == 3600
        assert hostname_values(job) == [hostname]
        podspec = pod(job)
        assert podspec["hostNetwork"]
        assert podspec["hostPID"]
        assert podspec["restartPolicy"] == "Never"
        [container] = podspec["containers"]
        assert container["securityContext"] == {"privileged": True}
        assert container["volumeMounts"] == [{"name": "host-root", "mountPath": "/host"}]
        assert podspec["volumes"][0]["hostPath"]["path"] == "/"
        for key in ("node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane"):
            assert {"key": key, "operator": "Exists", "effect": "NoSchedule"} in podspec[
                "tolerations"
            ]
        assert job["metadata"]["namespace"] == "kube-system"


def test_worker_job_one_pod_per_worker_with_their_taints_tolerated():
    result = renew_jobs(cluster())
    job = result["worker"]
    assert result["worker_count"] == 3
    assert (
        job["spec"]["completions"],
        job["spec"]["parallelism"],
        job["spec"]["backoffLimit"],
    ) == (3, 3, 0)
    assert hostname_values(job) == ["cn-hangzhou.i-w1", "cn-hangzhou.i-w2", "cn-hangzhou.i-w3"]
    [anti] = pod(job)["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti["topologyKey"] == "kubernetes.io/hostname"
    assert anti["labelSelector"]["matchExpressions"] == [
        {"key": "job-name", "operator": "In", "values": [job["metadata"]["name"]]}
    ]
    assert pod(job)["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "ingress", "effect": "NoExecute"},
        {"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"},
    ]


@pytest.mark.parametrize(
    ("taints", "expected"),
    [
        ([], []),
        ([[{"key": "a", "value": "1", "effect": "NoSchedule"}]] * 3, [("a", "1", "NoSchedule")]),
        (
            [
                [{"key": "a", "value": "1", "effect": "NoSchedule"}],
                [{"key": "a", "value": "2", "effect": "NoSchedule"}],
            ],
            [("a", "1", "NoSchedule"), ("a", "2", "NoSchedule")],
        ),
        (
            [
                [
                    {"key": "a", "value": "1", "effect": "NoSchedule"},
                    {"key": "a", "value": "1", "effect": "NoExecute"},
                ]
            ],
            [("a", "1", "NoExecute"), ("a", "1", "NoSchedule")],
        ),
        (
            [[{"key": "b", "effect": "NoSchedule", "timeAdded": "2026-01-01T00:00:00Z"}]],
            [("b", "", "NoSchedule")],
        ),
    ],
)
def test_tolerations_one_per_distinct_key_value_effect(taints, expected):
    nodes = [node(f"n{i}", taints=t) for i, t in enumerate(taints)]
    got = tolerations_for(nodes)
    assert [(t["key"], t.get("value", ""), t["effect"]) for t in got] == expected
    assert all(t["operator"] == ("Equal" if t.get("value") else "Exists") for t in got)


def test_inventory_order_and_names_are_used():
    result = renew_jobs(cluster(), masters=["cn-hangzhou.i-m2"], workers=["cn-hangzhou.i-w3"])
    assert [j["metadata"]["annotations"]["ackops.io/node-name"] for j in result["masters"]] == [
        "cn-hangzhou.i-m2"
    ]
    assert result["worker"]["spec"]["completions"] == 1
    assert pod(result["worker"])["tolerations"] == [
        {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}
    ]


def test_no_workers_no_worker_job():
    result = renew_jobs(cluster()[:3])
    assert result["worker"] is None
    assert result["worker_count"] == 0


def test_image_and_commands_are_configurable():
    result = renew_jobs(
        cluster(),
        image="registry.example/tools:1",
        master_command=["renew"],
        worker_command=["check"],
    )
    assert {pod(j)["containers"][0]["image"] for j in all_jobs(result)} == {
        "registry.example/tools:1"
    }
    assert pod(result["masters"][0])["containers"][0]["command"] == ["renew"]
    assert pod(result["worker"])["containers"][0]["command"] == ["check"]


def test_no_key_material_or_ca_key_path_anywhere_in_the_default_jobs():
    for job in all_jobs(renew_jobs(cluster())):
        container = pod(job)["containers"][0]
        assert "env" not in container
        assert "envFrom" not in container
        text = json.dumps(container.get("command", []) + container.get("args", []))
        assert "PRIVATE KEY" not in text
        assert "/etc/kubernetes/pki/ca.key" not in text
        assert "ca.key" not in text
        assert "--rootkey" not in text
    assert (
        "kubeadm certs renew all"
        in pod(renew_jobs(cluster())["masters"][0])["containers"][0]["command"][-1]
    )


@pytest.mark.parametrize(
    "command",
    [
        ["sh", "-c", "echo '-----BEGIN RSA PRIVATE KEY-----' > /tmp/k"],
        ["cert-rotate", "--role", "node", "--rootkey", "/etc/kubernetes/pki/ca.key"],
        ["sh", "-c", "base64 -w0 /host/etc/kubernetes/pki/ca.key"],
        ["cat", "ca.key"],
        ["cat", "/etc/kubernetes/pki/front-proxy-ca.key"],
    ],
)
def test_commands_with_key_material_are_refused(command):
    with pytest.raises(JobsError, match="CA key never goes into a Job"):
        renew_jobs(cluster(), worker_command=command)
    with pytest.raises(JobsError, match="CA key never goes into a Job"):
        renew_jobs(cluster(), master_command=command)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"masters": ["cn-hangzhou.i-nope"]}, "masters: no Node named cn-hangzhou.i-nope"),
        (
            {"workers": ["cn-hangzhou.i-m1"], "masters": ["cn-hangzhou.i-m1"]},
            "both master and worker: cn-hangzhou.i-m1",
        ),
        ({"name_prefix": "Bad_Prefix"}, "name_prefix"),
        ({"master_command": "kubeadm certs renew all"}, "master_command: must be a non-empty list"),
        ({"active_deadline_seconds": 0}, "active_deadline_seconds"),
    ],
)
def test_bad_inputs_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(JobsError, match=message) as info:
        renew_jobs(cluster(), **kwargs)
    record("renew-certs", "variable", {"renew_jobs": kwargs}, str(info.value),
           "renew_jobs raised JobsError: no Job manifest returned")  # fmt: skip


def test_filter_validates_and_wraps_errors():
    result = renew_jobs_filter(
        cluster(), masters=["cn-hangzhou.i-m1"], workers=["cn-hangzhou.i-w1"]
    )
    assert result["worker_count"] == 1
    with pytest.raises(AnsibleFilterError, match="renew_jobs: masters: no Node named x"):
        renew_jobs_filter(cluster(), masters=["x"])
    with pytest.raises(AnsibleFilterError, match=r"renew_jobs: .*unsupported"):
        renew_jobs_filter(cluster(), rootkey="x")
    with pytest.raises(AnsibleFilterError, match=r"renew_jobs: .*ca\.key"):
        renew_jobs_filter(cluster(), worker_command=["cat", "/etc/kubernetes/pki/ca.key"])


def test_annotations_and_environment_go_where_the_pods_see_them():
    jobs = renew_jobs(
        cluster(),
        pod_annotations={"ackops.io/lab-run": "host"},
        environment={"ACKOPS_BACKUP": "/var/lib/ackops/pki-backups/pki-20261204T000000.000000Z"},
    )
    for job in [*jobs["masters"], jobs["worker"]]:
        assert job["spec"]["template"]["metadata"]["annotations"] == {"ackops.io/lab-run": "host"}
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    master = jobs["masters"][0]["spec"]["template"]["spec"]["containers"][0]
    assert master["env"] == [
        {
            "name": "ACKOPS_BACKUP",
            "value": "/var/lib/ackops/pki-backups/pki-20261204T000000.000000Z",
        }
    ]
    assert "env" not in jobs["worker"]["spec"]["template"]["spec"]["containers"][0]
    assert_valid_manifest(jobs["masters"][0])
    with pytest.raises(JobsError, match=r"environment\.KEY: refused"):
        renew_jobs(cluster(), environment={"KEY": "/etc/kubernetes/pki/ca.key"})
    with pytest.raises(JobsError, match="pod_annotations: must be a mapping"):
        renew_jobs(cluster(), pod_annotations={"a": 1})


def test_the_master_jobs_backup_is_one_k8s_cert_backup_restores(tmp_path):
    """The built-in command's backup, run for real with a stand-in kubeadm, restores exactly."""
    import os
    import subprocess

    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.files import restore
    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
        MASTER_SCRIPT,
    )

    etc = tmp_path / "etc"
    pki = etc / "pki"
    (pki / "etcd").mkdir(parents=True)
    originals = {
        pki / "apiserver.crt": (b"old apiserver cert\n", 0o644),
        pki / "apiserver.key": (b"old apiserver key\n", 0o600),
        pki / "etcd" / "server.crt": (b"old etcd cert\n", 0o644),
        pki / 'odd "name".crt': (b"quoted\n", 0o640),
        etc / "admin.conf": (b"old admin.conf\n", 0o600),
        etc / "scheduler.conf": (b"old scheduler.conf\n", 0o600),
    }
    for path, (data, mode) in originals.items():
        path.write_bytes(data)
        path.chmod(mode)
    # kubeadm renews in place and writes one file the backup did not have.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    kubeadm = bindir / "kubeadm"
    kubeadm.write_text(
        "#!/bin/sh\n"
        'test "$*" = "certs renew all --cert-dir $ACKOPS_PKI_DIR" || exit 9\n'
        'for f in "$ACKOPS_PKI_DIR/apiserver.crt" "$ACKOPS_PKI_DIR/etcd/server.crt" '
        '"$ACKOPS_KUBECONFIG_DIR/admin.conf"; do echo renewed > "$f"; done\n'
        'echo new > "$ACKOPS_PKI_DIR/stray.crt"\n'
    )
    kubeadm.chmod(0o755)
    backup = tmp_path / "backups" / "pki-20261204T000000.000000Z"
    env = dict(
        os.environ,
        PATH=f"{bindir}:{os.environ['PATH']}",
        ACKOPS_PKI_DIR=str(pki),
        ACKOPS_KUBECONFIG_DIR=str(etc),
        ACKOPS_BACKUP=str(backup),
    )
    proc = subprocess.run(["/bin/sh", "-c", MASTER_SCRIPT], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"backup: {backup}" in proc.stdout
    assert (pki / "apiserver.crt").read_bytes() == b"renewed\n"
    assert oct(backup.stat().st_mode & 0o777) == oct(0o700)
    assert all((p.stat().st_mode & 0o077) == 0 for p in backup.rglob("*") if not p.is_symlink())

    put_back = restore(str(backup), host="master1")
    assert str(pki / "stray.crt") in put_back
    assert not (pki / "stray.crt").exists()
    for path, (data, mode) in originals.items():
        assert path.read_bytes() == data, path
        assert path.stat().st_mode & 0o777 == mode, path
    assert restore(str(backup), host="master1") == []

    # A second run with the same backup path refuses before renewing anything.
    again = subprocess.run(
        ["/bin/sh", "-c", MASTER_SCRIPT], env=env, capture_output=True, text=True
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert (pki / "apiserver.crt").read_bytes() == b"old apiserver cert\n"


# ---- the ClusterConfiguration kubeadm renews by

# As kube-system/kubeadm-config holds it (kubeadm 1.31+), with fields a renewal
# does not read and that may carry credentials.
CLUSTER_CONFIGURATION = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.2
clusterName: prod
controlPlaneEndpoint: 10.0.0.10:6443
certificatesDir: /etc/kubernetes/pki
certificateValidityPeriod: 4380h
encryptionAlgorithm: ECDSA-P256
featureGates:
  SomeGate: true
apiServer:
  certSANs: [api.example]
  extraArgs:
  - {name: oidc-issuer-url, value: https://issuer.example}
  extraEnvs:
  - {name: ALIBABA_CLOUD_ACCESS_KEY_SECRET, value: s3cr3t-value}
etcd:
  local:
    dataDir: /var/lib/etcd
    serverCertSANs: [m1.internal]
    extraArgs:
    - {name: auth-token, value: jwt,priv-key=/x}
networking:
  serviceSubnet: 10.96.0.0/12
"""

# A kubeadm config file on a master: init and join documents carry a bootstrap
# token and the certificate key.
KUBEADM_CONFIG_FILE = (
    """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: abcdef.0123456789abcdef
certificateKey: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
---
"""
    + CLUSTER_CONFIGURATION
    + """\
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
"""
)


def kubeadm_document(result, index=0):
    import yaml

    config_map = result["config_maps"][index]
    return yaml.safe_load(config_map["data"]["ClusterConfiguration"])


def test_the_cluster_configuration_goes_to_each_master_job_in_a_configmap_of_its_own():
    result = renew_jobs(
        cluster(),
        cluster_configuration=CLUSTER_CONFIGURATION,
        environment={"ACKOPS_PKI_DIR": "/srv/kubernetes/pki"},
    )
    assert [cm["metadata"]["name"] for cm in result["config_maps"]] == [
        f"ackops-renew-certs-master-{i}-kubeadm-config" for i in (1, 2, 3)
    ]
    for job, config_map in zip(result["masters"], result["config_maps"], strict=True):
        assert_valid_manifest(config_map)
        assert_valid_manifest(job)
        assert config_map["metadata"]["namespace"] == job["metadata"]["namespace"]
        assert config_map["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ackops-runbooks"
        spec = pod(job)
        [container] = spec["containers"]
        assert {
            "name": "kubeadm-config",
            "configMap": {"name": config_map["metadata"]["name"]},
        } in (spec["volumes"])
        assert {"name": "kubeadm-config", "mountPath": "/ackops/kubeadm", "readOnly": True} in (
            container["volumeMounts"]
        )
        # The pod gets the file's path, never the document itself.
        assert {
            "name": "ACKOPS_KUBEADM_CONFIG",
            "value": "/ackops/kubeadm/ClusterConfiguration",
        } in (container["env"])
        assert "4380h" not in json.dumps(job)
    # The worker Job gets none of it.
    assert "env" not in pod(result["worker"])["containers"][0]
    assert len(pod(result["worker"])["volumes"]) == 1

    document = kubeadm_document(result)
    assert document == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": "v1.37.2",
        "clusterName": "prod",
        # kubeadm prefers the file's certificatesDir to --cert-dir: the one the Job backs up.
        "certificatesDir": "/srv/kubernetes/pki",
        "certificateValidityPeriod": "4380h",
        "encryptionAlgorithm": "ECDSA-P256",
        "featureGates": {"SomeGate": True},
        "etcd": {"local": {"dataDir": "/var/lib/etcd", "serverCertSANs": ["m1.internal"]}},
    }
    assert result["kubeadm_config"] == {
        "given": True,
        "source": "cluster",
        "validity": "4380h",
        "key_algorithm": "ECDSA-P256",
        "dropped": [
            "apiServer",
            "controlPlaneEndpoint",
            "etcd.local.extraArgs",
            "networking",
        ],
        "overridden": [],
    }
    text = json.dumps(result["config_maps"])
    for secret in ("s3cr3t-value", "ACCESS_KEY", "auth-token", "oidc"):
        assert secret not in text


def test_only_the_cluster_configuration_of_a_kubeadm_config_file_goes_on():
    result = renew_jobs(
        cluster(),
        masters=["cn-hangzhou.i-m1"],
        workers=[],
        cluster_configuration=KUBEADM_CONFIG_FILE,
    )
    text = result["config_maps"][0]["data"]["ClusterConfiguration"]
    for secret in ("abcdef.0123456789abcdef", "certificateKey", "InitConfiguration", "Kubelet"):
        assert secret not in text
    assert kubeadm_document(result)["certificateValidityPeriod"] == "4380h"
    # The ConfigMap object and a mapping are read the same way.
    as_configmap = {"kind": "ConfigMap", "data": {"ClusterConfiguration": CLUSTER_CONFIGURATION}}
    import yaml

    for given in (as_configmap, yaml.safe_load(CLUSTER_CONFIGURATION)):
        again = renew_jobs(
            cluster(), masters=["cn-hangzhou.i-m1"], workers=[], cluster_configuration=given
        )
        assert again["config_maps"] == result["config_maps"]


@pytest.mark.parametrize(
    ("validity_hours", "key_algorithm", "written", "overridden"),
    [
        # What the run decided is what the cluster says: the document as is.
        (4380.0, "ECDSA-P256", {"certificateValidityPeriod": "4380h"}, []),
        (4380, None, {"encryptionAlgorithm": "ECDSA-P256"}, []),
        # The threshold rule or renew_certs_validity_days decided otherwise.
        (8760.0, None, {"certificateValidityPeriod": "8760h"}, ["certificateValidityPeriod"]),
        (4380.5, None, {"certificateValidityPeriod": "4380h30m"}, ["certificateValidityPeriod"]),
        (None, "RSA-3072", {"encryptionAlgorithm": "RSA-3072"}, ["encryptionAlgorithm"]),
    ],
)
def test_the_runs_lifetime_and_key_type_are_written_over_the_clusters(
    validity_hours, key_algorithm, written, overridden
):
    result = renew_jobs(
        cluster(),
        masters=["cn-hangzhou.i-m1"],
        workers=[],
        cluster_configuration=CLUSTER_CONFIGURATION,
        validity_hours=validity_hours,
        key_algorithm=key_algorithm,
    )
    document = kubeadm_document(result)
    assert {key: document[key] for key in written} == written
    assert result["kubeadm_config"]["overridden"] == overridden


def test_without_a_cluster_configuration_kubeadm_gets_none_unless_the_run_decided_otherwise():
    # Pre-flight had none and the run's rules are kubeadm's defaults: no --config.
    for options in ({}, {"validity_hours": 8760.0}, {"key_algorithm": "RSA-2048"}):
        result = renew_jobs(cluster(), **options)
        assert result["config_maps"] == [None, None, None]
        assert result["kubeadm_config"]["given"] is False
        for job in result["masters"]:
            assert "env" not in pod(job)["containers"][0]
            assert [v["name"] for v in pod(job)["volumes"]] == ["host-root"]
    # renew_certs_validity_days / renew_certs_key_algorithm: a document of them alone.
    result = renew_jobs(cluster(), validity_hours=4380.0, key_algorithm="ECDSA-P384")
    assert kubeadm_document(result) == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "certificateValidityPeriod": "4380h",
        "encryptionAlgorithm": "ECDSA-P384",
        "certificatesDir": "/etc/kubernetes/pki",
    }
    assert result["kubeadm_config"]["source"] == "run"


OLD_API = CLUSTER_CONFIGURATION.replace("v1beta4", "v1beta3").replace(
    "certificateValidityPeriod: 4380h\nencryptionAlgorithm: ECDSA-P256\n", ""
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"cluster_configuration": OLD_API, "validity_hours": 4380.0},
            r"kubeadm\.k8s\.io/v1beta3 has no certificateValidityPeriod: kubeadm would renew for "
            r"8760h .* use renew_certs_method=ssh",
        ),
        (
            {"cluster_configuration": OLD_API, "key_algorithm": "ECDSA-P256"},
            "v1beta3 has no encryptionAlgorithm",
        ),
        (
            {"cluster_configuration": "kind: InitConfiguration\n"},
            "cluster_configuration: no ClusterConfiguration document found",
        ),
        ({"cluster_configuration": "a: [b"}, "cluster_configuration: not valid YAML"),
        (
            {
                "cluster_configuration": "kind: ClusterConfiguration\ncertificateValidityPeriod: 1y\n"
            },
            "cluster_configuration.certificateValidityPeriod: '1y' is not a Go duration",
        ),
        (
            {"cluster_configuration": "kind: ClusterConfiguration\nencryptionAlgorithm: DSA\n"},
            "encryptionAlgorithm must be one of",
        ),
        (
            {
                "cluster_configuration": CLUSTER_CONFIGURATION
                + "clusterName2: x\nkubernetesVersion: '-----BEGIN PRIVATE KEY-----'\n"
            },
            "cluster_configuration: refused, it carries a PEM private key",
        ),
        ({"validity_hours": 0}, "validity_hours: must be more than 0"),
        ({"validity_hours": "8760"}, "validity_hours: must be a number"),
        ({"key_algorithm": "RSA-1024"}, "key_algorithm: must be one of"),
        (
            {"environment": {"ACKOPS_KUBEADM_CONFIG": "/tmp/x"}},
            "ACKOPS_KUBEADM_CONFIG: set by the generator",
        ),
    ],
)
def test_a_cluster_configuration_kubeadm_cannot_use_is_refused(kwargs, message):
    with pytest.raises(JobsError, match=message) as info:
        renew_jobs(cluster(), **kwargs)
    assert "s3cr3t" not in str(info.value)
    record("renew-certs", "variable", {"renew_jobs": kwargs}, str(info.value),
           "renew_jobs raised JobsError: no Job manifest returned")  # fmt: skip


def test_an_old_api_document_without_overrides_goes_as_it_is():
    result = renew_jobs(cluster(), cluster_configuration=OLD_API, validity_hours=8760.0)
    assert kubeadm_document(result)["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert "certificateValidityPeriod" not in kubeadm_document(result)
    assert result["kubeadm_config"]["validity"] == "8760h"


def test_the_filter_takes_the_cluster_configuration_options():
    result = renew_jobs_filter(
        cluster(),
        masters=["cn-hangzhou.i-m1"],
        workers=[],
        cluster_configuration=CLUSTER_CONFIGURATION,
        validity_hours="8760",
        key_algorithm=None,
    )
    assert kubeadm_document(result)["certificateValidityPeriod"] == "8760h"

    # Ansible hands templated values as str subclasses, which YAML cannot dump.
    class Tagged(str):
        pass

    import yaml

    mapping = yaml.safe_load(CLUSTER_CONFIGURATION)
    mapping["clusterName"] = Tagged("prod")
    result = renew_jobs_filter(cluster(), masters=["cn-hangzhou.i-m1"], workers=[],
                               cluster_configuration=mapping, validity_hours=4380.0)  # fmt: skip
    assert kubeadm_document(result)["clusterName"] == "prod"


def test_the_default_command_gives_kubeadm_the_mounted_configuration(tmp_path):
    """DEFAULT_MASTER_COMMAND as the pod runs it (a stand-in chroot, a stand-in kubeadm):
    the mounted file reaches kubeadm --config in the host's root and is kept in the backup."""
    import os
    import subprocess

    from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
        DEFAULT_MASTER_COMMAND,
    )

    etc = tmp_path / "etc"
    (etc / "pki").mkdir(parents=True)
    (etc / "pki" / "apiserver.crt").write_bytes(b"old\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # chroot ROOT CMD...: here the "host's root" is this machine's.
    (bindir / "chroot").write_text('#!/bin/sh\nshift\nexec "$@"\n')
    (bindir / "kubeadm").write_text(
        "#!/bin/sh\n"
        'echo "kubeadm $*"\n'
        'case "$*" in *--config*) cp "$5" "$ACKOPS_PKI_DIR/../seen.yaml";; esac\n'
    )
    for tool in ("chroot", "kubeadm"):
        (bindir / tool).chmod(0o755)
    mounted = tmp_path / "mounted" / "ClusterConfiguration"
    mounted.parent.mkdir()
    result = renew_jobs(
        cluster(),
        masters=["cn-hangzhou.i-m1"],
        workers=[],
        cluster_configuration=CLUSTER_CONFIGURATION,
    )
    mounted.write_text(result["config_maps"][0]["data"]["ClusterConfiguration"])
    base = dict(
        os.environ,
        PATH=f"{bindir}:{os.environ['PATH']}",
        ACKOPS_PKI_DIR=str(etc / "pki"),
        ACKOPS_KUBECONFIG_DIR=str(etc),
    )

    backup = tmp_path / "backups" / "pki-1"
    env = dict(base, ACKOPS_BACKUP=str(backup), ACKOPS_KUBEADM_CONFIG=str(mounted))
    proc = subprocess.run(DEFAULT_MASTER_COMMAND, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    kept = backup / "kubeadm-config.yaml"
    assert f"kubeadm certs renew all --config {kept} --cert-dir {etc / 'pki'}" in proc.stdout
    assert kept.read_text() == mounted.read_text()
    assert (etc / "seen.yaml").read_text() == mounted.read_text()
    assert kept.stat().st_mode & 0o077 == 0

    # Without a configuration: no --config, and the output says kubeadm falls back.
    backup = tmp_path / "backups" / "pki-2"
    env = dict(base, ACKOPS_BACKUP=str(backup))
    proc = subprocess.run(DEFAULT_MASTER_COMMAND, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"kubeadm certs renew all --cert-dir {etc / 'pki'}\n" in proc.stdout
    assert "falls back to its defaults" in proc.stdout
    assert not (backup / "kubeadm-config.yaml").exists()
