"""The lab does what the runbooks' tests rely on (issue 3's acceptance checks)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import REPO, wait_until

pytestmark = pytest.mark.lab

LAB_CLI = str(REPO / "lab" / "lab")
GATEWAY_API_CRDS = {
    "gatewayclasses.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "referencegrants.gateway.networking.k8s.io",
}

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def apply(lab, manifest: dict | list) -> None:
    docs = manifest if isinstance(manifest, list) else [manifest]
    lab.kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(d) for d in docs))


@pytest.fixture
def namespace(lab):
    name = f"labtest-{int(time.time() * 1000) % 10**8}"
    lab.kubectl("create", "namespace", name)
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_nodes_ready_with_roles_and_taints(lab):
    nodes = {n["metadata"]["name"]: n for n in lab.kubectl_json("get", "nodes")["items"]}
    assert set(nodes) == {h.node_name for h in lab.hosts}
    for host in lab.hosts:
        node = nodes[host.node_name]
        assert host.node_name != host.name, "inventory names must differ from node names, as on ACK"
        assert host.node_name.startswith("cn-hangzhou.i-")
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready, host.name
        assert ready[0]["status"] == "True", host.name
        labels, taints = node["metadata"]["labels"], node["spec"].get("taints", [])
        assert labels["kubernetes.io/hostname"] == host.node_name
        if host.role == "master":
            assert "node-role.kubernetes.io/control-plane" in labels
            assert CONTROL_PLANE_TAINT in [{"key": t["key"], "effect": t["effect"]} for t in taints]
        else:
            assert "node-role.kubernetes.io/control-plane" not in labels
            assert taints == []


def test_component_versions_are_the_release(lab):
    version = lab.kubectl_json("version")
    assert version["serverVersion"]["gitVersion"] == "v1.37.2"
    assert version["clientVersion"]["gitVersion"] == "v1.37.2"
    master = lab.masters[0].name
    assert lab.ssh(master, "kubeadm version -o short").stdout.strip() == "v1.37.2"
    assert "3.6." in lab.ssh(master, "etcd --version").stdout


def test_hosts_are_separate_machines_over_ssh(lab):
    seen = set()
    for host in lab.hosts:
        out = lab.ssh(host.name, "hostname; ip -4 -o addr show eth0; ls /etc/kubernetes").stdout
        assert out.splitlines()[0] == host.name
        assert f"inet {host.ip}/" in out
        seen.add(out)
        kubelet_conf = lab.ssh(
            host.name,
            "grep client-certificate /etc/kubernetes/kubelet.conf; "
            "readlink /var/lib/kubelet/pki/kubelet-client-current.pem; "
            "kubectl --kubeconfig /etc/kubernetes/kubelet.conf auth whoami -o jsonpath='{.status.userInfo.username}'",
        ).stdout
        assert "/var/lib/kubelet/pki/kubelet-client-current.pem" in kubelet_conf
        assert "/var/lib/kubelet/pki/kubelet-client-20" in kubelet_conf
        assert kubelet_conf.strip().endswith(f"system:node:{host.node_name}")
        # openssl (not Go) finds the issuer by the authority key id: it must be
        # the CA's subject key id, as kubeadm and the CSR signer write it.
        verify = lab.ssh(
            host.name,
            "openssl verify -CAfile /etc/kubernetes/pki/ca.crt /var/lib/kubelet/pki/kubelet-client-current.pem",
            check=False,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        if host.role == "worker":
            files = lab.ssh(host.name, "ls /etc/kubernetes/pki /var/lib/kubelet/pki").stdout.split()
            assert {"ca.crt", "kubelet.crt", "kubelet.key"} <= set(files)
            assert "apiserver.crt" not in files
    assert len(seen) == len(lab.hosts)


def lab_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([LAB_CLI, *args], text=True, capture_output=True, timeout=timeout)


def pinned_versions() -> dict[str, str]:
    lines = (REPO / "lab" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_status_json_is_the_documented_contract(lab):
    """Every key lab/README.md promises, with its type, and values that match the lab."""
    proc = lab_cli("status", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    top = {
        "schema_version": int, "up": bool, "inventory": str, "kubeconfig": str,
        "lab_kubeconfig": str, "kubectl": str, "kubeadm": str, "ssh": dict, "slb": dict, "ingress_lb_ip": str,
        "versions": dict, "size": str, "args": dict, "up_seconds": float, "hosts": list,
        "node_names": list, "kwok_node_names": list, "crds": list, "daemons": list, "api": dict,
    }  # fmt: skip
    assert {k: type(doc.get(k)) for k in top} == top
    assert doc["schema_version"] == 1
    assert doc["up"] is True
    assert doc["size"] == "small"
    assert doc["args"] == {"size": "small"}
    assert set(doc["ssh"]) == {"user", "private_key", "known_hosts"}
    assert set(doc["slb"]) == {"address", "port", "endpoint"}
    assert doc["slb"]["endpoint"] == f"https://{doc['slb']['address']}:{doc['slb']['port']}"
    pinned = pinned_versions()
    assert doc["versions"] == {
        "kubernetes": pinned["KUBERNETES_VERSION"],
        "etcd": pinned["ETCD_VERSION"],
        "kwok": pinned["KWOK_VERSION"],
        "gateway_api": pinned["GATEWAY_API_VERSION"],
    }
    for key in ("inventory", "kubeconfig", "lab_kubeconfig", "kubectl", "kubeadm"):
        assert Path(doc[key]).is_file(), key
    assert Path(doc["ssh"]["private_key"]).is_file()
    assert Path(doc["ssh"]["known_hosts"]).is_file()
    assert doc["api"] == {"endpoint": doc["slb"]["endpoint"], "healthy": True}

    # Hosts: what the inventory says, and the nodes the API server has.
    host_keys = {
        "name", "role", "address", "node_name", "zone", "ssh_user", "ssh_port", "running", "paths",
    }  # fmt: skip
    inventory = yaml.safe_load(Path(doc["inventory"]).read_text())["all"]["children"]
    for host in doc["hosts"]:
        assert set(host) == host_keys, host["name"]
        assert host["running"] is True
        assert (host["ssh_user"], host["ssh_port"]) == ("root", 22)
        group = {"master": "masters", "worker": "workers"}[host["role"]]
        assert inventory[group]["hosts"][host["name"]] == {
            "ansible_host": host["address"],
            "k8s_node_name": host["node_name"],
            "lab_zone": host["zone"],
        }
        assert Path(host["paths"]["etc_kubernetes"], "kubelet.conf").is_file()
        assert Path(host["paths"]["var_lib_kubelet"], "pki", "kubelet.crt").is_file()
    assert [h["role"] for h in doc["hosts"]] == ["master", "worker", "worker"]
    nodes = {n["metadata"]["name"] for n in lab.kubectl_json("get", "nodes")["items"]}
    assert set(doc["node_names"]) == nodes == {h["node_name"] for h in doc["hosts"]}
    assert doc["kwok_node_names"] == []

    assert set(doc["crds"]) >= GATEWAY_API_CRDS
    assert {d["name"] for d in doc["daemons"]} == {"haproxy", "kwok", "cloud", "nodeagent"}
    for daemon in doc["daemons"]:
        assert set(daemon) == {"name", "pid", "alive"}
        assert daemon["alive"] is True, daemon["name"]
        assert Path(f"/proc/{daemon['pid']}").exists()


def test_gateway_api_crds_established_and_served(lab, namespace):
    for name in GATEWAY_API_CRDS:
        crd = lab.kubectl_json("get", "crd", name)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions.get("Established") == "True", name
        channel = crd["metadata"]["annotations"]["gateway.networking.k8s.io/channel"]
        assert channel == "standard", name
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "parentRefs": [{"name": "lab-gateway"}],
            "rules": [{"backendRefs": [{"name": "web", "port": 80}]}],
        },
    }
    apply(lab, route)
    got = lab.kubectl_json("get", "httproute", "web", "-n", namespace)
    assert got["spec"]["rules"][0]["backendRefs"][0]["name"] == "web"


def test_kubectl_takes_options_before_the_verb(lab):
    proc = lab_cli("kubectl", "-n", "kube-system", "get", "pods", "-o", "name")
    assert proc.returncode == 0, proc.stderr
    # The ingress controller the lab seeds runs in kube-system (static pods have no mirror pods).
    assert [p for p in proc.stdout.split() if p.startswith("pod/nginx-ingress-controller-")]
    proc = lab_cli("kubectl", "--", "get", "--raw", "/readyz")
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok"), proc.stderr


def test_ssh_runs_a_command_with_or_without_double_dash(lab):
    worker = lab.workers[0]
    proc = lab_cli("ssh", worker.name, "--", "hostname", "-s")
    assert (proc.returncode, proc.stdout.strip()) == (0, worker.name), proc.stderr
    # By node name too, and a command whose own options look like the lab's.
    proc = lab_cli("ssh", worker.node_name, "cat", "/etc/hostname", "--help-is-not-mine")
    assert proc.returncode != 0
    assert "--help-is-not-mine" in proc.stderr
    proc = lab_cli("ssh", lab.masters[0].node_name, "test", "-d", "/etc/kubernetes/manifests")
    assert proc.returncode == 0, proc.stderr
    proc = lab_cli("ssh", "no-such-host", "--", "true")
    assert proc.returncode == 1
    assert "no lab host 'no-such-host'" in proc.stderr


def test_job_pinned_to_a_master_completes(lab, namespace):
    master = lab.masters[0].node_name
    apply(lab, {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "on-master", "namespace": namespace},
        "spec": {
            "backoffLimit": 0, "completions": 1, "parallelism": 1,
            "template": {"spec": {
                "restartPolicy": "Never",
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "kubernetes.io/hostname", "operator": "In", "values": [master]}
                    ]}]}}},
                "tolerations": [
                    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
                    {"key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule"},
                ],
                "containers": [{"name": "c", "image": "busybox:1.36", "command": ["true"]}],
            }},
        },
    })  # fmt: skip
    wait_until(
        lambda: lab.kubectl_json("get", "job", "on-master", "-n", namespace)["status"].get(
            "succeeded"
        ),
        what="the master job to succeed",
    )
    pods = lab.kubectl_json("get", "pods", "-n", namespace, "-l", "job-name=on-master")["items"]
    assert {p["spec"]["nodeName"] for p in pods} == {master}


def test_job_one_pod_per_worker(lab, namespace):
    workers = len(lab.workers)
    apply(lab, {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "per-worker", "namespace": namespace},
        "spec": {
            "completions": workers, "parallelism": workers, "backoffLimit": 0,
            "template": {
                "metadata": {"labels": {"job-name": "per-worker"}},
                "spec": {
                    "restartPolicy": "Never",
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                        "labelSelector": {"matchExpressions": [
                            {"key": "job-name", "operator": "In", "values": ["per-worker"]}]},
                        "topologyKey": "kubernetes.io/hostname",
                    }]}},
                    "containers": [{"name": "c", "image": "busybox:1.36", "command": ["true"]}],
                },
            },
        },
    })  # fmt: skip
    status = wait_until(
        lambda: (
            lab.kubectl_json("get", "job", "per-worker", "-n", namespace)["status"].get("succeeded")
            == workers
        ),
        what="one succeeded pod per worker",
    )
    assert status
    pods = lab.kubectl_json("get", "pods", "-n", namespace, "-l", "job-name=per-worker")["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(w.node_name for w in lab.workers)


def test_node_agent_runs_opted_in_pods_on_their_host_and_reports_them(lab, namespace):
    """ackops.io/lab-run=host: the command runs on the worker's host (its own
    /var/lib/kubelet, through the hostPath), with a configMap volume and env,
    and the pod's phase, exit code and message come back; other pods stay kwok's."""
    worker = lab.workers[0]
    marker = f"agent-{namespace}"
    script = (
        f"hostname > /host-kubelet/{marker}; cat /config/greeting >> /host-kubelet/{marker}; "
        'echo "node $NODE"; echo bye >&2; exit 3'
    )
    pod_spec = {
        "restartPolicy": "Never",
        "hostNetwork": True,
        "nodeSelector": {"kubernetes.io/hostname": worker.node_name},
        "containers": [
            {
                "name": "c",
                "image": "busybox:1.36",
                "command": ["/bin/sh", "-c", script],
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "env": [
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
                ],
                "volumeMounts": [
                    {"name": "kubelet", "mountPath": "/host-kubelet"},
                    {"name": "config", "mountPath": "/config", "readOnly": True},
                ],
            }
        ],
        "volumes": [
            {"name": "kubelet", "hostPath": {"path": "/var/lib/kubelet", "type": "Directory"}},
            {"name": "config", "configMap": {"name": "greeting"}},
        ],
    }
    apply(lab, [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "greeting", "namespace": namespace},
         "data": {"greeting": "hello from a configMap"}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "runs", "namespace": namespace, "annotations": {"ackops.io/lab-run": "host"}},
         "spec": pod_spec},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "played", "namespace": namespace},
         "spec": {**pod_spec, "volumes": [], "containers": [{"name": "c", "image": "busybox:1.36",
                  "command": ["/bin/sh", "-c", f"touch /{marker}-played"]}]}},
    ])  # fmt: skip

    def phase(name):
        return lab.kubectl_json("get", "pod", name, "-n", namespace).get("status", {}).get("phase")

    wait_until(lambda: phase("runs") == "Failed", what="the opted-in pod to fail with its code")
    status = lab.kubectl_json("get", "pod", "runs", "-n", namespace)["status"]
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 3
    assert terminated["reason"] == "Error"
    assert terminated["message"].splitlines() == [f"node {worker.node_name}", "bye"]
    assert status["hostIP"] == worker.ip
    written = worker.var_lib_kubelet / marker
    try:
        assert written.read_text().splitlines() == [worker.name, "hello from a configMap"]
    finally:
        written.unlink(missing_ok=True)
    # The other pod is kwok's: Running, and its command never ran anywhere.
    wait_until(lambda: phase("played") == "Running", what="kwok to play the other pod")
    assert not Path(f"/{marker}-played").exists()
    # Deleting the agent's pod: the agent confirms it, the pod goes.
    lab.kubectl("delete", "pod", "runs", "-n", namespace, "--wait=false")
    wait_until(
        lambda: lab.kubectl("get", "pod", "runs", "-n", namespace, check=False).returncode != 0,
        what="the agent to remove the deleted pod",
    )


def test_deployment_with_node_selector_lands_on_labelled_nodes(lab, namespace):
    target = lab.workers[0].node_name
    lab.kubectl("label", "node", target, f"labtest/{namespace}=yes")
    try:
        apply(lab, {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "pinned", "namespace": namespace},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "pinned"}},
                "template": {
                    "metadata": {"labels": {"app": "pinned"}},
                    "spec": {
                        "nodeSelector": {f"labtest/{namespace}": "yes"},
                        "containers": [{"name": "c", "image": "nginx:1.27"}],
                    },
                },
            },
        })  # fmt: skip
        wait_until(
            lambda: (
                lab.kubectl_json("get", "deploy", "pinned", "-n", namespace)["status"].get(
                    "readyReplicas"
                )
                == 3
            ),
            what="3 ready replicas",
        )
        pods = lab.kubectl_json("get", "pods", "-n", namespace, "-l", "app=pinned")["items"]
        assert {p["spec"]["nodeName"] for p in pods} == {target}
    finally:
        lab.kubectl("label", "node", target, f"labtest/{namespace}-")


def test_dynamic_disk_pvc_binds(lab, namespace):
    apply(lab, {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": namespace},
        "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "alicloud-disk-ssd",
            "resources": {"requests": {"storage": "20Gi"}},
        },
    })  # fmt: skip
    wait_until(
        lambda: (
            lab.kubectl_json("get", "pvc", "data", "-n", namespace)["status"].get("phase")
            == "Bound"
        ),
        what="the disk PVC to bind",
    )
    pvc = lab.kubectl_json("get", "pvc", "data", "-n", namespace)
    pv = lab.kubectl_json("get", "pv", pvc["spec"]["volumeName"])
    assert pv["spec"]["csi"]["driver"] == "diskplugin.csi.alibabacloud.com"
    assert pv["spec"]["csi"]["volumeHandle"].startswith("d-")


def test_static_pv_binds_by_label_selector(lab, namespace):
    pv_name = f"d-static-{namespace}"
    apply(lab, [
        {
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": pv_name, "labels": {"alicloud-pvname": pv_name}},
            "spec": {
                "capacity": {"storage": "20Gi"}, "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
                "csi": {"driver": "diskplugin.csi.alibabacloud.com", "volumeHandle": pv_name, "fsType": "ext4"},
            },
        },
        {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "static", "namespace": namespace},
            "spec": {
                "accessModes": ["ReadWriteOnce"], "storageClassName": "",
                "selector": {"matchLabels": {"alicloud-pvname": pv_name}},
                "resources": {"requests": {"storage": "20Gi"}},
            },
        },
    ])  # fmt: skip
    try:
        wait_until(
            lambda: (
                lab.kubectl_json("get", "pvc", "static", "-n", namespace)["spec"].get("volumeName")
                == pv_name
                and lab.kubectl_json("get", "pvc", "static", "-n", namespace)["status"]["phase"]
                == "Bound"
            ),
            what="the static PVC to bind to its PV",
        )
    finally:
        lab.kubectl("delete", "pvc", "static", "-n", namespace, "--wait=false", check=False)
        lab.kubectl("delete", "pv", pv_name, "--wait=false", check=False)


def test_ingress_controller_as_on_a_fresh_ack_cluster(lab):
    deploy = lab.kubectl_json("get", "deploy", "nginx-ingress-controller", "-n", "kube-system")
    assert deploy["spec"]["replicas"] == 2
    svc = lab.kubectl_json("get", "svc", "nginx-ingress-lb", "-n", "kube-system")
    assert svc["spec"]["type"] == "LoadBalancer"
    wait_until(
        lambda: (
            lab.kubectl_json("get", "svc", "nginx-ingress-lb", "-n", "kube-system")["status"]
            .get("loadBalancer", {})
            .get("ingress")
        ),
        what="an SLB address on nginx-ingress-lb",
    )


def component_pid(lab, master, name: str) -> int | None:
    return lab.component_pids(master.name).get(name)


def test_static_pods_follow_the_pod_not_the_file(lab):
    """As a kubelet: touch, a comment or re-indenting restart nothing; a changed flag does."""
    master = lab.masters[0]
    manifest = "/etc/kubernetes/manifests/kube-scheduler.yaml"
    before = component_pid(lab, master, "kube-scheduler")
    assert before is not None
    lab.ssh(master.name, f"cp -p {manifest} /root/kube-scheduler.orig && touch {manifest} "
            f"&& echo '# a comment' >> {manifest}")  # fmt: skip
    time.sleep(6)  # a few runner passes
    assert component_pid(lab, master, "kube-scheduler") == before
    try:
        lab.ssh(
            master.name,
            f"sed -i 's/^    - kube-scheduler$/    - kube-scheduler\\n    - --v=2/' {manifest}",
        )
        wait_until(
            lambda: component_pid(lab, master, "kube-scheduler") not in (None, before),
            what="the scheduler to restart on a changed flag",
        )
    finally:
        lab.ssh(master.name, f"cp -p /root/kube-scheduler.orig {manifest}")


def test_replaced_apiserver_certificate_is_served_without_a_restart(lab):
    # The API server reloads its serving certificate from disk: no restart needed
    # (which is why a served serial proves nothing about a restart).
    master = lab.masters[0]
    before = lab.served_certificate(master.ip).serial_number
    pid = component_pid(lab, master, "kube-apiserver")
    lab.ssh(
        master.name,
        "kubeadm certs renew apiserver --config /etc/kubernetes/kubeadm-config.yaml >/dev/null",
    )
    on_disk = lab.ssh(
        master.name, "openssl x509 -noout -serial -in /etc/kubernetes/pki/apiserver.crt"
    ).stdout
    serial = int(on_disk.strip().split("=", 1)[1], 16)
    assert serial != before

    def served():
        try:
            return lab.served_certificate(master.ip).serial_number == serial
        except OSError:
            return False

    wait_until(served, what="the API server to serve the new certificate")
    wait_until(lab.healthy, what="the API server to be ready again")
    assert component_pid(lab, master, "kube-apiserver") == pid


def test_expired_leaf_certificates_lock_out_kubeadm_credentials(lab_handle):
    lab = lab_handle.up("small", expired=True)
    out = lab.ssh(
        lab.masters[0].name,
        "openssl x509 -noout -checkend 0 -in /etc/kubernetes/pki/apiserver.crt",
        check=False,
    )
    assert out.returncode == 1, "apiserver.crt should have expired"
    denied = lab.kubectl("get", "nodes", check=False)
    assert denied.returncode != 0


def test_short_lived_certificates(lab_handle):
    lab = lab_handle.up("small", cert_validity="48h")
    out = lab.ssh(
        lab.masters[0].name,
        "openssl x509 -noout -checkend 86400 -in /etc/kubernetes/pki/apiserver.crt; "
        "openssl x509 -noout -checkend 259200 -in /etc/kubernetes/pki/apiserver.crt",
        check=False,
    )
    assert "Certificate will not expire" in out.stdout
    assert "Certificate will expire" in out.stdout


def test_lab_down_leaves_nothing_behind(lab_handle):
    lab_handle.ensure("small")
    result = lab_handle.down()
    assert result.returncode == 0, result.stderr
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "ackl-" not in netns
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "acklbr0" not in links
    assert "acklv" not in links
    mounts = Path("/proc/self/mountinfo").read_text()
    assert "ackops-lab" not in mounts
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert not [p for p in procs.splitlines() if "/var/lib/ackops-lab" in p or "hostinit.py" in p]
    import os

    assert not os.path.exists("/var/lib/ackops-lab")
    assert not os.path.exists("/etc/netns/ackl-lab-master-1")
    # Only what git keeps: the README and the empty inventory that lets the
    # runbooks needing no cluster run while the lab is down.
    assert sorted(os.listdir(lab_handle.inventory.parent)) == ["README.md", "empty.yml"], (
        "inventories/lab must hold only its committed files"
    )
    # The contract of a lab that is down: not up, and where things will be.
    doc = json.loads(lab_cli("status", "--json").stdout)
    assert doc["up"] is False
    assert doc["inventory"] == str(lab_handle.inventory)
    assert "hosts" not in doc
