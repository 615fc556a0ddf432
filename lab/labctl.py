"""The local lab: a real Kubernetes control plane and emulated ACK hosts.

Every inventory host is a network namespace on a private bridge with its own
hostname, its own /etc/kubernetes (through /etc/netns), its own
/var/lib/kubelet and /var/lib/etcd, and its own sshd. Masters are initialised
with `kubeadm init phase ...` and run their static pods under the host's init
(lab/hostinit.py). haproxy plays the SLB in front of the API servers, kwok keeps
the Node objects Ready and moves pods through their lifecycle, and
lab/cloud.py answers PVCs of the ACK storage classes and LoadBalancer Services.

Run as root: `lab/lab up|down|status|ssh|kubectl|expire-certs`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LAB = Path(__file__).resolve().parent
ROOT = LAB.parent
STATE = Path(os.environ.get("ACKOPS_LAB_STATE", "/var/lib/ackops-lab"))
CACHE = Path(
    os.environ.get("ACKOPS_LAB_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ackops-lab"
)
BINDIR = CACHE / "bin"
INVENTORY_DIR = ROOT / "inventories" / "lab"

NS_PREFIX = "ackl-"
BRIDGE = "acklbr0"
VETH_PREFIX = "acklv"
NET = ipaddress.ip_network("10.250.0.0/24")
SLB_IP = "10.250.0.1"
INGRESS_LB_IP = "10.250.0.250"
MASTER_BASE, WORKER_BASE = 10, 100
REGION = "cn-hangzhou"
ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
POD_SUBNET = "172.20.0.0/16"
SERVICE_SUBNET = "172.21.0.0/20"
CLUSTER_NAME = "ack-lab"
# Mount targets the namespaced hosts bind their own directories over.
HOST_MOUNT_TARGETS = ["/etc/kubernetes", "/var/lib/kubelet", "/var/lib/etcd"]
SIZES = {"small": (1, 2), "ha": (3, 3)}


def versions() -> dict[str, str]:
    out = {}
    for line in (LAB / "versions.env").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


class LabError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[lab] {msg}", file=sys.stderr, flush=True)


def run(
    argv: list[str], check: bool = True, capture: bool = True, **kw
) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, text=True, capture_output=capture, **kw)
    if check and proc.returncode != 0:
        raise LabError(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n{(proc.stderr or '').strip()}"
        )
    return proc


@dataclass
class Host:
    name: str  # inventory hostname
    role: str  # master | worker
    index: int
    ip: str
    node_name: str  # Kubernetes node name, ACK style
    zone: str

    @property
    def ns(self) -> str:
        return NS_PREFIX + self.name

    @property
    def veth(self) -> str:
        return f"{VETH_PREFIX}{int(self.ip.rsplit('.', 1)[1])}"

    @property
    def state(self) -> Path:
        return STATE / "hosts" / self.name

    @property
    def etc(self) -> Path:
        """The host's /etc overlay (ip netns exec binds its entries over /etc)."""
        return Path("/etc/netns") / self.ns

    @property
    def etc_kubernetes(self) -> Path:
        return self.etc / "kubernetes"

    @property
    def kubelet_dir(self) -> Path:
        return self.state / "var-lib-kubelet"


def node_name_for(host: str) -> str:
    # ACK names nodes <region>.<instance id>; instance ids are i-bp1 + 17 chars.
    return f"{REGION}.i-bp1{hashlib.sha1(host.encode()).hexdigest()[:17]}"


def topology(masters: int, workers: int) -> list[Host]:
    hosts = []
    for role, count, base in (("master", masters, MASTER_BASE), ("worker", workers, WORKER_BASE)):
        for i in range(1, count + 1):
            name = f"lab-{role}-{i}"
            ip = str(NET[base + i])
            hosts.append(Host(name, role, i, ip, node_name_for(name), ZONES[(i - 1) % 3]))
    return hosts


def load_state() -> dict | None:
    path = STATE / "lab.json"
    return json.loads(path.read_text()) if path.exists() else None


def hosts_from_state(state: dict) -> list[Host]:
    return [Host(**h) for h in state["hosts"]]


# --------------------------------------------------------------------------- PKI helpers


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(key) -> bytes:
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if isinstance(key, ec.EllipticCurvePrivateKey)
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def issue_cert(
    ca_cert: x509.Certificate,
    ca_key,
    public_key,
    subject: x509.Name,
    not_before: dt.datetime,
    not_after: dt.datetime,
    client: bool = True,
    server: bool = False,
    sans: x509.SubjectAlternativeName | None = None,
) -> x509.Certificate:
    usages = []
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False
        )
    )
    if sans is not None:
        builder = builder.add_extension(sans, critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def resign(cert: x509.Certificate, ca_cert: x509.Certificate, ca_key, not_before, not_after):
    """The same certificate (subject, key, extensions) with another validity window."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(ca_cert.subject)
        .public_key(cert.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for ext in cert.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    return builder.sign(ca_key, hashes.SHA256())


def kubelet_client_timestamp() -> str:
    return now().strftime("%Y-%m-%d-%H-%M-%S")


# --------------------------------------------------------------------------- the lab


class Lab:
    def __init__(self, hosts: list[Host], opts: dict):
        self.hosts = hosts
        self.opts = opts
        self.v = versions()
        # Mount targets lab up had to create on the machine; lab down removes them.
        self.made_dirs: list[str] = []

    @property
    def masters(self) -> list[Host]:
        return [h for h in self.hosts if h.role == "master"]

    @property
    def workers(self) -> list[Host]:
        return [h for h in self.hosts if h.role == "worker"]

    # ---- processes inside hosts

    def host_pid(self, host: Host) -> int:
        ready = host.state / "hostinit.ready"
        if not ready.exists():
            raise LabError(f"host {host.name} is not running (no {ready})")
        return int(ready.read_text())

    def in_host(self, host: Host, argv: list[str], check: bool = True, **kw):
        pid = self.host_pid(host)
        env = dict(os.environ, PATH=f"/usr/local/bin:{os.environ.get('PATH', '/usr/bin:/bin')}")
        return run(
            ["nsenter", "-t", str(pid), "-n", "-m", "-u", "--", *argv], check=check, env=env, **kw
        )

    def kubectl(self, *args: str, kubeconfig: Path | None = None, check: bool = True, **kw):
        kc = kubeconfig or STATE / "lab-admin.kubeconfig"
        return run([str(BINDIR / "kubectl"), "--kubeconfig", str(kc), *args], check=check, **kw)

    # ---- network and hosts

    def create_network(self) -> None:
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        run(["ip", "addr", "add", f"{SLB_IP}/{NET.prefixlen}", "dev", BRIDGE])
        run(["ip", "link", "set", BRIDGE, "up"])
        for host in self.hosts:
            run(["ip", "netns", "add", host.ns])
            run(
                [
                    "ip",
                    "link",
                    "add",
                    host.veth,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    host.ns,
                ]
            )
            run(["ip", "link", "set", host.veth, "master", BRIDGE, "up"])
            ns = ["ip", "-n", host.ns]
            run([*ns, "addr", "add", f"{host.ip}/{NET.prefixlen}", "dev", "eth0"])
            run([*ns, "link", "set", "eth0", "up"])
            run([*ns, "link", "set", "lo", "up"])
            run([*ns, "route", "add", "default", "via", SLB_IP])

    def prepare_host_files(self) -> None:
        for target in HOST_MOUNT_TARGETS:
            if not Path(target).exists():
                Path(target).mkdir(parents=True)
                self.made_dirs.append(target)
        ssh = STATE / "ssh"
        hosts_file = (
            "127.0.0.1 localhost\n"
            + "".join(f"{h.ip} {h.name}\n" for h in self.hosts)
            + f"{SLB_IP} lab-slb apiserver.{CLUSTER_NAME}.local\n"
        )
        for host in self.hosts:
            for sub in ("log", "var-lib-kubelet/pki", "var-lib-etcd", "ssh"):
                (host.state / sub).mkdir(parents=True, exist_ok=True)
            (host.etc_kubernetes / "manifests").mkdir(parents=True, exist_ok=True)
            (host.etc_kubernetes / "pki").mkdir(exist_ok=True)
            (host.etc / "hostname").write_text(host.name + "\n")
            (host.etc / "hosts").write_text(hosts_file)
            hostkey = host.state / "ssh" / "ssh_host_ed25519_key"
            if not hostkey.exists():
                run(
                    [
                        "ssh-keygen",
                        "-q",
                        "-t",
                        "ed25519",
                        "-N",
                        "",
                        "-C",
                        host.name,
                        "-f",
                        str(hostkey),
                    ]
                )
            (host.state / "ssh" / "sshd_config").write_text(
                f"""# sshd of lab host {host.name}
ListenAddress {host.ip}:22
HostKey {hostkey}
PidFile {host.state}/ssh/sshd.pid
AuthorizedKeysFile {ssh}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 50
Subsystem sftp /usr/lib/openssh/sftp-server
"""
            )
        known = "".join(
            f"{h.ip},{h.name} {(h.state / 'ssh' / 'ssh_host_ed25519_key.pub').read_text().split(' ')[0]} "
            f"{(h.state / 'ssh' / 'ssh_host_ed25519_key.pub').read_text().split(' ')[1]}\n"
            for h in self.hosts
        )
        (ssh / "known_hosts").write_text(known)

    def start_hosts(self) -> None:
        for host in self.hosts:
            logf = open(host.state / "log" / "hostinit.log", "ab")  # noqa: SIM115
            subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    host.ns,
                    "unshare",
                    "--uts",
                    "--",
                    sys.executable,
                    str(LAB / "hostinit.py"),
                    "--hostname",
                    host.name,
                    "--state",
                    str(host.state),
                    "--bindir",
                    str(BINDIR),
                    "--sshd-config",
                    str(host.state / "ssh" / "sshd_config"),
                ],
                stdout=logf,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            logf.close()
        wait_for(
            lambda: all((h.state / "hostinit.ready").exists() for h in self.hosts),
            30,
            "hosts to start",
        )
        wait_for(lambda: all(port_open(h.ip, 22) for h in self.hosts), 30, "sshd on every host")

    # ---- control plane

    def kubeadm_config(self, master: Host) -> str:
        validity = self.opts.get("cert_validity") or "8760h"
        ca_validity = self.opts.get("ca_validity") or "87600h"
        taints = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
        if self.opts.get("legacy_master_taint"):
            taints.append({"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"})
        init = {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "InitConfiguration",
            "localAPIEndpoint": {"advertiseAddress": master.ip, "bindPort": 6443},
            "nodeRegistration": {
                "name": master.node_name,
                "criSocket": "unix:///run/containerd/containerd.sock",
                "taints": taints,
            },
        }
        etcd_sans = [m.ip for m in self.masters]
        cluster = {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "ClusterConfiguration",
            "clusterName": CLUSTER_NAME,
            "kubernetesVersion": self.v["KUBERNETES_VERSION"],
            "controlPlaneEndpoint": f"{SLB_IP}:6443",
            "certificatesDir": "/etc/kubernetes/pki",
            "networking": {
                "podSubnet": POD_SUBNET,
                "serviceSubnet": SERVICE_SUBNET,
                "dnsDomain": "cluster.local",
            },
            "apiServer": {"certSANs": [SLB_IP, f"apiserver.{CLUSTER_NAME}.local"]},
            "controllerManager": {"extraArgs": [{"name": "node-cidr-mask-size", "value": "25"}]},
            "etcd": {
                "local": {
                    "dataDir": "/var/lib/etcd",
                    "serverCertSANs": etcd_sans,
                    "peerCertSANs": etcd_sans,
                }
            },
            "certificateValidityPeriod": validity,
            "caCertificateValidityPeriod": ca_validity,
        }
        return yaml.safe_dump_all([init, cluster], sort_keys=False)

    def kubeadm(self, master: Host, *args: str):
        return self.in_host(
            master, ["kubeadm", *args, "--config", "/etc/kubernetes/kubeadm-config.yaml", "-v=1"]
        )

    def init_control_plane(self) -> None:
        first = self.masters[0]
        shared = [
            "ca.crt",
            "ca.key",
            "sa.key",
            "sa.pub",
            "front-proxy-ca.crt",
            "front-proxy-ca.key",
            "etcd/ca.crt",
            "etcd/ca.key",
        ]
        for master in self.masters:
            (master.state / "runner.paused").touch()
        for master in self.masters:
            (master.etc_kubernetes / "kubeadm-config.yaml").write_text(self.kubeadm_config(master))
            if master is not first:
                # What `kubeadm join --control-plane` copies from the first master.
                for rel in shared:
                    src, dst = (
                        first.etc_kubernetes / "pki" / rel,
                        master.etc_kubernetes / "pki" / rel,
                    )
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
            log(f"{master.name}: kubeadm init phase certs/kubeconfig/etcd/control-plane")
            self.kubeadm(master, "init", "phase", "certs", "all")
            self.kubeadm(master, "init", "phase", "kubeconfig", "all")
            self.kubeadm(master, "init", "phase", "etcd", "local")
            self.kubeadm(master, "init", "phase", "control-plane", "all")
        if len(self.masters) > 1:
            self.join_etcd_members()
        for master in self.masters:
            (master.state / "runner.paused").unlink()
        self.setup_kubelet_credentials()

    def join_etcd_members(self) -> None:
        """Bootstrap stacked etcd with every master a member from the start."""
        initial = ",".join(f"{m.node_name}=https://{m.ip}:2380" for m in self.masters)
        for master in self.masters:
            path = master.etc_kubernetes / "manifests" / "etcd.yaml"
            pod = yaml.safe_load(path.read_text())
            cmd = pod["spec"]["containers"][0]["command"]
            cmd[:] = [c for c in cmd if not c.startswith("--initial-cluster=")]
            cmd.append(f"--initial-cluster={initial}")
            path.write_text(yaml.safe_dump(pod, sort_keys=False))

    def cluster_ca(self):
        """The cluster CA (certificate, key) of the first master; the others share it."""
        pki = self.masters[0].etc_kubernetes / "pki"
        return load_cert(pki / "ca.crt"), load_key(pki / "ca.key")

    def client_credential(self, organization: str, common_name: str, validity):
        """A client certificate and key signed by the cluster CA, valid for ``validity``
        (a timedelta) or, with None, as long as the CA."""
        ca_cert, ca_key = self.cluster_ca()
        key = ec.generate_private_key(ec.SECP256R1())
        start = now() - dt.timedelta(minutes=5)
        end = ca_cert.not_valid_after_utc
        if validity is not None:
            end = min(start + validity, end)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        return issue_cert(ca_cert, ca_key, key.public_key(), subject, start, end), key

    def setup_kubelet_credentials(self) -> None:
        """What a kubeadm-joined node carries after kubelet TLS bootstrap.

        kubelet.conf points at /var/lib/kubelet/pki/kubelet-client-current.pem, a
        symlink to a dated file with the client certificate for
        system:node:<node name> and its key; pki/ca.crt; and the kubelet's
        self-signed serving certificate, kubelet.crt/kubelet.key.
        """
        first = self.masters[0]
        ca_cert = self.cluster_ca()[0]
        validity = parse_duration(self.opts.get("cert_validity") or "8760h")
        for host in self.hosts:
            pki = host.kubelet_dir / "pki"
            cert, key = self.client_credential(
                "system:nodes", f"system:node:{host.node_name}", validity
            )
            dated = pki / f"kubelet-client-{kubelet_client_timestamp()}.pem"
            write_private(dated, pem_cert(cert) + pem_key(key))
            current = pki / "kubelet-client-current.pem"
            current.unlink(missing_ok=True)
            # As the kubelet does: an absolute link, resolved inside the host's mounts.
            current.symlink_to(f"/var/lib/kubelet/pki/{dated.name}")
            self.write_serving_cert(host)
            (host.etc_kubernetes / "pki").mkdir(exist_ok=True)
            if host.role != "master":
                shutil.copy2(
                    first.etc_kubernetes / "pki" / "ca.crt", host.etc_kubernetes / "pki" / "ca.crt"
                )
            server = (
                f"https://{host.ip}:6443" if host.role == "master" else f"https://{SLB_IP}:6443"
            )
            kubeconfig = {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": CLUSTER_NAME,
                        "cluster": {
                            "certificate-authority-data": b64(pem_cert(ca_cert)),
                            "server": server,
                        },
                    }
                ],
                "contexts": [
                    {
                        "name": f"system:node:{host.node_name}@{CLUSTER_NAME}",
                        "context": {"cluster": CLUSTER_NAME, "user": "default-auth"},
                    }
                ],
                "current-context": f"system:node:{host.node_name}@{CLUSTER_NAME}",
                "preferences": {},
                "users": [
                    {
                        "name": "default-auth",
                        "user": {
                            "client-certificate": "/var/lib/kubelet/pki/kubelet-client-current.pem",
                            "client-key": "/var/lib/kubelet/pki/kubelet-client-current.pem",
                        },
                    }
                ],
            }
            write_private(host.etc_kubernetes / "kubelet.conf", yaml.safe_dump(kubeconfig).encode())

    def write_serving_cert(self, host: Host) -> None:
        """The kubelet's default serving certificate: self-signed by a CA of its own."""
        pki = host.kubelet_dir / "pki"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        start = now() - dt.timedelta(minutes=5)
        stamp = int(start.timestamp())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{host.name}-ca@{stamp}")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{host.name}@{stamp}")])
            )
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=365))
            .add_extension(
                x509.KeyUsage(True, False, True, False, False, False, False, False, False), True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName(host.name),
                        x509.IPAddress(ipaddress.ip_address(host.ip)),
                    ]
                ),
                False,
            )
            .sign(key, hashes.SHA256())
        )
        (pki / "kubelet.crt").write_bytes(pem_cert(cert))
        write_private(pki / "kubelet.key", pem_key(key))

    def wait_api(self, timeout: float = 180) -> None:
        def ready() -> bool:
            return all(
                self.in_host(
                    m,
                    [
                        "kubectl",
                        "--kubeconfig",
                        "/etc/kubernetes/admin.conf",
                        "--server",
                        f"https://{m.ip}:6443",
                        "get",
                        "--raw",
                        "/readyz",
                    ],
                    check=False,
                ).returncode
                == 0
                for m in self.masters
            )

        wait_for(ready, timeout, "every API server to be ready", self.control_plane_logs)

    def control_plane_logs(self) -> str:
        out = []
        for m in self.masters:
            for name in ("etcd", "kube-apiserver"):
                path = m.state / "log" / f"{name}.log"
                if path.exists():
                    tail = path.read_text(errors="replace").splitlines()[-8:]
                    out.append(f"--- {m.name} {name}.log\n" + "\n".join(tail))
        return "\n".join(out)

    def write_lab_credentials(self) -> None:
        """Long-lived credentials for the lab's own controllers (kwok, cloud stand-in).

        They stand in for the kubelets' and the cloud's own identities, so the
        lab keeps working while the renewal runbook is tested against expired
        cluster certificates.
        """
        ca_cert = self.cluster_ca()[0]
        cert, key = self.client_credential("system:masters", "ackops-lab-controller", None)
        config = admin_kubeconfig(
            pem_cert(ca_cert), f"https://{SLB_IP}:6443", pem_cert(cert), pem_key(key)
        )
        write_private(STATE / "lab-admin.kubeconfig", config)

    def bind_cluster_admins(self) -> None:
        # kubeadm binds kubeadm:cluster-admins (admin.conf's group) through super-admin.conf.
        first = self.masters[0]
        self.in_host(
            first,
            [
                "kubectl",
                "--kubeconfig",
                "/etc/kubernetes/super-admin.conf",
                "create",
                "clusterrolebinding",
                "kubeadm:cluster-admins",
                "--clusterrole=cluster-admin",
                "--group=kubeadm:cluster-admins",
            ],
            check=False,
        )
        self.kubeadm(first, "init", "phase", "upload-config", "kubeadm")

    # ---- nodes, cloud stand-ins

    def node_objects(self) -> list[dict]:
        nodes = []
        for host in self.hosts:
            nodes.append(self.node_object(host.node_name, host.ip, host.name, host.zone, host.role))
        for i in range(1, int(self.opts.get("kwok_nodes") or 0) + 1):
            name = f"{REGION}.i-kwok{i:05d}"
            nodes.append(self.node_object(name, None, name, ZONES[i % 3], "worker", kwok_only=True))
        return nodes

    def node_object(self, name, ip, hostname, zone, role, kwok_only=False) -> dict:
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/region": REGION,
            "topology.kubernetes.io/zone": zone,
            "node.kubernetes.io/instance-type": "ecs.g7.xlarge",
            "ackops.io/lab": "kwok-only" if kwok_only else "host",
        }
        taints = []
        if role == "master":
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
            if self.opts.get("legacy_master_taint"):
                labels["node-role.kubernetes.io/master"] = ""
                taints.append({"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"})
        addresses = [{"type": "Hostname", "address": hostname}]
        if ip:
            addresses.insert(0, {"type": "InternalIP", "address": ip})
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {
                    "kwok.x-k8s.io/node": "fake",
                    "node.alpha.kubernetes.io/ttl": "0",
                },
            },
            "spec": {"taints": taints, "providerID": f"{REGION}.{name.split('.', 1)[1]}"},
            "status": {
                "addresses": addresses,
                "capacity": {
                    "cpu": "4",
                    "memory": "16Gi",
                    "pods": "128",
                    "ephemeral-storage": "120Gi",
                },
                "allocatable": {
                    "cpu": "3900m",
                    "memory": "14Gi",
                    "pods": "128",
                    "ephemeral-storage": "110Gi",
                },
            },
        }

    def create_nodes(self) -> None:
        docs = self.node_objects()
        path = STATE / "nodes.yaml"
        path.write_text(yaml.safe_dump_all(docs))
        self.kubectl("apply", "--server-side", "--field-manager=ackops-lab", "-f", str(path))

    def start_daemon(self, name: str, argv: list[str]) -> None:
        logf = open(STATE / "log" / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            argv,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()
        (STATE / "run" / f"{name}.pid").write_text(str(proc.pid))

    def start_haproxy(self) -> None:
        servers = "\n".join(
            f"  server {m.name} {m.ip}:6443 check check-ssl verify none" for m in self.masters
        )
        cfg = STATE / "haproxy.cfg"
        cfg.write_text(
            f"""# The lab's SLB: TCP in front of every master's API server, health-checked on /readyz.
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 3s
  timeout client 1h
  timeout server 1h
  retries 3
  option redispatch
frontend apiserver
  bind {SLB_IP}:6443
  default_backend masters
backend masters
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 1s fall 2 rise 2
{servers}
"""
        )
        self.start_daemon("haproxy", ["/usr/sbin/haproxy", "-db", "-f", str(cfg)])
        wait_for(lambda: port_open(SLB_IP, 6443), 15, "haproxy on the SLB address")

    def start_kwok(self) -> None:
        self.start_daemon(
            "kwok",
            [
                str(BINDIR / "kwok"),
                "--kubeconfig",
                str(STATE / "lab-admin.kubeconfig"),
                "--config",
                str(self.kwok_config()),
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--node-lease-duration-seconds=40",
                "--cidr=" + POD_SUBNET,
                "--server-address=",
            ],
        )

    def kwok_config(self) -> Path:
        """kwok's stages with the node version filled in (kwok would report its own)."""
        path = STATE / "kwok.yaml"
        text = (LAB / "kwok" / "stages.yaml").read_text()
        path.write_text(text.replace("LAB_KUBELET_VERSION", self.v["KUBERNETES_VERSION"]))
        return path

    def start_cloud(self) -> None:
        self.start_daemon(
            "cloud",
            [
                sys.executable,
                str(LAB / "cloud.py"),
                "--kubeconfig",
                str(STATE / "lab-admin.kubeconfig"),
                "--lb-address",
                INGRESS_LB_IP,
            ],
        )

    def seed_ack_objects(self) -> None:
        self.kubectl(
            "apply", "--server-side", "--field-manager=ackops-lab", "-f", str(LAB / "manifests")
        )

    def wait_nodes_ready(self, timeout: float = 120) -> None:
        expected = {h.node_name for h in self.hosts}

        def ready() -> bool:
            out = self.kubectl("get", "nodes", "-o", "json", check=False)
            if out.returncode != 0:
                return False
            items = json.loads(out.stdout)["items"]
            # Ready, and the node lifecycle controller has lifted its not-ready taint.
            ok = {
                n["metadata"]["name"]
                for n in items
                if any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in n.get("status", {}).get("conditions", [])
                )
                and not any(
                    t["key"].startswith("node.kubernetes.io/")
                    for t in n.get("spec", {}).get("taints", [])
                )
            }
            return expected <= ok and len(ok) == len(items)

        wait_for(ready, timeout, "every node to be Ready")

    def write_inventory(self) -> None:
        INVENTORY_DIR.mkdir(parents=True, exist_ok=True)
        group_vars = INVENTORY_DIR / "group_vars"
        group_vars.mkdir(exist_ok=True)

        def hostvars(h: Host) -> dict:
            return {"ansible_host": h.ip, "k8s_node_name": h.node_name, "lab_zone": h.zone}

        inventory = {
            "all": {
                "children": {
                    "masters": {"hosts": {h.name: hostvars(h) for h in self.masters}},
                    "workers": {"hosts": {h.name: hostvars(h) for h in self.workers}},
                    "ingress": {"hosts": {}},
                    "kube_control_plane": {"children": {"masters": {}}},
                    "kube_node": {"children": {"workers": {}}},
                }
            }
        }
        header = "# Written by `lab/lab up`; removed by `lab/lab down`. Do not edit.\n"
        (INVENTORY_DIR / "hosts.yml").write_text(
            header + yaml.safe_dump(inventory, sort_keys=False)
        )
        ssh = STATE / "ssh"
        all_vars = {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(ssh / "id_ed25519"),
            "ansible_ssh_common_args": (
                f"-o UserKnownHostsFile={ssh / 'known_hosts'} -o StrictHostKeyChecking=yes"
            ),
            "ansible_python_interpreter": "/usr/bin/python3",
            "k8s_kubeconfig": str(INVENTORY_DIR / "kubeconfig"),
            "k8s_api_endpoint": f"https://{SLB_IP}:6443",
            "lab_size": self.opts.get("size"),
        }
        (group_vars / "all.yml").write_text(header + yaml.safe_dump(all_vars, sort_keys=False))
        self.refresh_kubeconfig()

    def refresh_kubeconfig(self) -> None:
        src = self.masters[0].etc_kubernetes / "admin.conf"
        write_private(INVENTORY_DIR / "kubeconfig", src.read_bytes())

    # ---- certificate lifetimes

    def expire_certs(self) -> list[str]:
        """Re-sign every leaf certificate of the cluster so it expired an hour ago.

        Keys, subjects and extensions are kept; CAs, the service-account key and
        the lab's own controller credentials are left alone. Control-plane
        components are restarted, so the cluster is in the state an operator
        finds after a missed renewal: the API refuses every kubeadm credential.
        """
        past_end = now() - dt.timedelta(hours=1)
        past_start = past_end - dt.timedelta(days=365)
        changed = []
        for host in self.hosts:
            changed += self._expire_host(host, past_start, past_end)
        for master in self.masters:
            for manifest in (master.etc_kubernetes / "manifests").glob("*.yaml"):
                manifest.touch()
        return changed

    def _expire_host(self, host: Host, start, end) -> list[str]:
        pki = host.etc_kubernetes / "pki"
        cas = {}
        for name in ("ca", "front-proxy-ca", "etcd/ca"):
            if (pki / f"{name}.key").exists():
                cas[name] = (load_cert(pki / f"{name}.crt"), load_key(pki / f"{name}.key"))
        if "ca" not in cas:  # a worker: its node credential is signed on the first master
            cas["ca"] = self.cluster_ca()
        changed = []

        def signer_for(cert):
            for ca_cert, ca_key in cas.values():
                if ca_cert.subject == cert.issuer:
                    return ca_cert, ca_key
            return None

        for path in sorted(pki.rglob("*.crt")):
            cert = load_cert(path)
            basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            signer = signer_for(cert)
            if basic.ca or signer is None:
                continue
            path.write_bytes(pem_cert(resign(cert, *signer, start, end)))
            changed.append(f"{host.name}:{path}")
        for conf in sorted(host.etc_kubernetes.glob("*.conf")):
            data = yaml.safe_load(conf.read_text())
            touched = False
            for user in data.get("users", []):
                pem = user.get("user", {}).get("client-certificate-data")
                if not pem:
                    continue
                cert = x509.load_pem_x509_certificate(unb64(pem))
                signer = signer_for(cert)
                if signer:
                    user["user"]["client-certificate-data"] = b64(
                        pem_cert(resign(cert, *signer, start, end))
                    )
                    touched = True
            if touched:
                write_private(conf, yaml.safe_dump(data).encode())
                changed.append(f"{host.name}:{conf}")
        current = host.kubelet_dir / "pki" / "kubelet-client-current.pem"
        if current.is_symlink():
            data = (current.parent / Path(os.readlink(current)).name).read_bytes()
            cert = x509.load_pem_x509_certificate(data)
            key_pem = data[data.index(b"-----BEGIN", data.index(b"-----END CERTIFICATE")) :]
            new = pem_cert(resign(cert, *cas["ca"], start, end)) + key_pem
            write_private(current.parent / Path(os.readlink(current)).name, new)
            changed.append(f"{host.name}:{current}")
        return changed


# --------------------------------------------------------------------------- helpers


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def unb64(data: str) -> bytes:
    import base64

    return base64.b64decode(data)


def admin_kubeconfig(ca_pem: bytes, server: str, cert_pem: bytes, key_pem: bytes) -> bytes:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": CLUSTER_NAME,
                    "cluster": {"certificate-authority-data": b64(ca_pem), "server": server},
                }
            ],
            "contexts": [{"name": "lab", "context": {"cluster": CLUSTER_NAME, "user": "lab"}}],
            "current-context": "lab",
            "users": [
                {
                    "name": "lab",
                    "user": {
                        "client-certificate-data": b64(cert_pem),
                        "client-key-data": b64(key_pem),
                    },
                }
            ],
        }
    ).encode()


def parse_duration(text: str) -> dt.timedelta:
    units = {"h": 3600, "m": 60, "s": 1, "d": 86400}
    total, num = 0.0, ""
    for ch in text:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in units and num:
            total += float(num) * units[ch]
            num = ""
        else:
            raise LabError(f"bad duration {text!r}: use e.g. 72h, 90m, 30d")
    if num:
        raise LabError(f"bad duration {text!r}: a unit (h, m, s, d) is missing")
    return dt.timedelta(seconds=total)


def to_kubeadm_duration(text: str) -> str:
    return f"{int(parse_duration(text).total_seconds())}s"


def port_open(ip: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((ip, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(pred, timeout: float, what: str, diagnose=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(1)
    extra = f"\n{diagnose()}" if diagnose else ""
    raise LabError(f"timed out after {timeout:.0f}s waiting for {what}{extra}")


def pids_in_netns(ns: str) -> list[int]:
    proc = run(["ip", "netns", "pids", ns], check=False)
    return [int(p) for p in proc.stdout.split()] if proc.returncode == 0 else []


def kill_pids(pids: list[int], sig=signal.SIGTERM) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def lab_namespaces() -> list[str]:
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(NS_PREFIX)]


def lab_links() -> list[str]:
    out = run(["ip", "-o", "link", "show"], check=False).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]
    return [n for n in names if n == BRIDGE or n.startswith(VETH_PREFIX)]


def lab_processes() -> list[int]:
    """Processes the lab started outside the hosts (haproxy, kwok, cloud), by pidfile or path."""
    pids = []
    for pidfile in (STATE / "run").glob("*.pid") if (STATE / "run").exists() else []:
        try:
            pid = int(pidfile.read_text())
            os.kill(pid, 0)
            pids.append(pid)
        except (ValueError, ProcessLookupError):
            pass
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(STATE) in cmd and int(proc.name) not in pids and int(proc.name) != os.getpid():
            pids.append(int(proc.name))
    return pids


# --------------------------------------------------------------------------- commands


def cmd_down(args=None, quiet: bool = False) -> None:
    """Remove every namespace, link, mount, file and process the lab made."""
    for ns in lab_namespaces():
        kill_pids(pids_in_netns(ns))
    kill_pids(lab_processes())
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and (
        any(pids_in_netns(ns) for ns in lab_namespaces()) or lab_processes()
    ):
        time.sleep(0.5)
    for ns in lab_namespaces():
        kill_pids(pids_in_netns(ns), signal.SIGKILL)
    kill_pids(lab_processes(), signal.SIGKILL)
    time.sleep(0.3)
    for ns in lab_namespaces():
        run(["ip", "netns", "del", ns], check=False)
    for link in lab_links():
        run(["ip", "link", "del", link], check=False)
    etc_netns = Path("/etc/netns")
    if etc_netns.exists():
        for entry in etc_netns.iterdir():
            if entry.name.startswith(NS_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)
        if not any(etc_netns.iterdir()):
            etc_netns.rmdir()
    state = load_state() or {}
    for target in state.get("made_dirs", []):
        with contextlib.suppress(OSError):
            Path(target).rmdir()
    if STATE.exists():
        shutil.rmtree(STATE, ignore_errors=True)
    for entry in INVENTORY_DIR.iterdir() if INVENTORY_DIR.exists() else []:
        if entry.name != "README.md":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    if not quiet:
        log("lab is down")


def cmd_up(args) -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts): run it with sudo")
    masters, workers = SIZES[args.size]
    if args.workers is not None:
        workers = args.workers
    if args.masters is not None:
        masters = args.masters
    if not 1 <= masters <= 9 or not 0 <= workers <= 150:
        raise LabError(f"--masters must be 1..9 and --workers 0..150 (got {masters}, {workers})")
    for dur in (args.cert_validity, args.ca_validity):
        if dur:
            parse_duration(dur)
    t0 = time.monotonic()
    run([str(LAB / "scripts" / "install-prereqs.sh")], capture=False)
    run([str(LAB / "scripts" / "build-binaries.sh")], capture=False)
    cmd_down(quiet=True)  # whatever an earlier, killed run left behind
    hosts = topology(masters, workers)
    opts = {
        "size": args.size,
        "cert_validity": to_kubeadm_duration(args.cert_validity) if args.cert_validity else None,
        "ca_validity": to_kubeadm_duration(args.ca_validity) if args.ca_validity else None,
        "legacy_master_taint": args.legacy_master_taint,
        "kwok_nodes": args.kwok_nodes,
    }
    lab = Lab(hosts, opts)
    for sub in ("run", "log", "ssh"):
        (STATE / sub).mkdir(parents=True, exist_ok=True)
    state = {
        "hosts": [asdict(h) for h in hosts],
        "opts": opts,
        "made_dirs": lab.made_dirs,
        # The flags this lab was brought up with, so callers can tell whether
        # the running lab is the one they want (tests reuse it when it is).
        "args": up_args(args),
    }
    (STATE / "lab.json").write_text(json.dumps(state, indent=1))
    key = STATE / "ssh" / "id_ed25519"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ackops-lab", "-f", str(key)])
    shutil.copy(f"{key}.pub", STATE / "ssh" / "authorized_keys")
    log(f"network and {len(hosts)} hosts ({masters} masters, {workers} workers)")
    lab.create_network()
    lab.prepare_host_files()
    (STATE / "lab.json").write_text(json.dumps(state, indent=1))
    lab.start_hosts()
    lab.start_haproxy()
    lab.init_control_plane()
    log("waiting for etcd and the API servers")
    lab.wait_api()
    lab.write_lab_credentials()
    lab.bind_cluster_admins()
    lab.create_nodes()
    lab.start_kwok()
    lab.start_cloud()
    lab.seed_ack_objects()
    lab.wait_nodes_ready()
    lab.write_inventory()
    if args.expired:
        changed = lab.expire_certs()
        log(f"re-signed {len(changed)} leaf certificates as expired")
        lab.refresh_kubeconfig()
    state["up_seconds"] = round(time.monotonic() - t0, 1)
    (STATE / "lab.json").write_text(json.dumps(state, indent=1))
    log(f"lab is up in {state['up_seconds']}s: inventory {INVENTORY_DIR / 'hosts.yml'}")


def up_args(args) -> dict:
    wanted = {"size": args.size}
    for key in ("masters", "workers", "cert_validity", "ca_validity"):
        if getattr(args, key) is not None:
            wanted[key] = getattr(args, key)
    for key in ("kwok_nodes", "expired", "legacy_master_taint"):
        if getattr(args, key):
            wanted[key] = getattr(args, key)
    return wanted


def require_lab() -> Lab:
    state = load_state()
    if not state:
        raise LabError("the lab is not up: run `lab/lab up`")
    lab = Lab(hosts_from_state(state), state["opts"])
    lab.made_dirs = state.get("made_dirs", [])
    return lab


def cmd_status(args) -> None:
    lab = require_lab()
    state = load_state()
    report: dict = {"size": state["opts"].get("size"), "up_seconds": state.get("up_seconds")}
    report["versions"] = {
        name: run([str(BINDIR / name), "--version"], check=False).stdout.strip()
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
    }
    report["versions"]["kubeadm"] = run(
        [str(BINDIR / "kubeadm"), "version", "-o", "short"], check=False
    ).stdout.strip()
    report["versions"]["kwok"] = run(
        [str(BINDIR / "kwok"), "--version"], check=False
    ).stdout.strip()
    hosts = []
    for h in lab.hosts:
        entry = {
            "host": h.name,
            "role": h.role,
            "ip": h.ip,
            "node": h.node_name,
            "ssh": port_open(h.ip, 22),
        }
        pods = h.state / "static-pods.json"
        if pods.exists():
            entry["static_pods"] = {
                p["name"]: ("running" if p["pid"] else "down") + f" restarts={p['restarts']}"
                for p in json.loads(pods.read_text())
            }
        if h.role == "master":
            entry["apiserver_readyz"] = (
                lab.in_host(
                    h,
                    [
                        "kubectl",
                        "--kubeconfig",
                        "/etc/kubernetes/admin.conf",
                        "--server",
                        f"https://{h.ip}:6443",
                        "get",
                        "--raw",
                        "/readyz",
                    ],
                    check=False,
                ).stdout.strip()
                or "down"
            )
        hosts.append(entry)
    report["hosts"] = hosts
    report["slb"] = {"address": f"{SLB_IP}:6443", "open": port_open(SLB_IP, 6443)}
    nodes = lab.kubectl("get", "nodes", "-o", "wide", check=False)
    report["daemons"] = {
        p.stem: "running" if pid_alive(int(p.read_text())) else "dead"
        for p in (STATE / "run").glob("*.pid")
    }
    if args.json:
        report["nodes"] = nodes.stdout
        print(json.dumps(report, indent=1))
        return
    print(yaml.safe_dump(dict(report.items()), sort_keys=False))
    print(nodes.stdout or nodes.stderr)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def cmd_ssh(args) -> None:
    lab = require_lab()
    host = next((h for h in lab.hosts if args.host in (h.name, h.node_name, h.ip)), None)
    if host is None:
        raise LabError(f"no lab host {args.host!r}; hosts: {', '.join(h.name for h in lab.hosts)}")
    ssh = STATE / "ssh"
    os.execvp(
        "ssh",
        [
            "ssh",
            "-i",
            str(ssh / "id_ed25519"),
            "-o",
            f"UserKnownHostsFile={ssh / 'known_hosts'}",
            "-o",
            "StrictHostKeyChecking=yes",
            f"root@{host.ip}",
            *args.command,
        ],
    )


def cmd_kubectl(args) -> None:
    require_lab()
    kubeconfig = INVENTORY_DIR / "kubeconfig"
    os.execv(str(BINDIR / "kubectl"), ["kubectl", "--kubeconfig", str(kubeconfig), *args.args])


def cmd_expire_certs(args) -> None:
    lab = require_lab()
    changed = lab.expire_certs()
    lab.refresh_kubeconfig()
    print("\n".join(changed))
    log(f"re-signed {len(changed)} leaf certificates as expired; components restarting")


def cmd_fault(args) -> None:
    """Make a static pod of a host fail from its next start until its manifest changes.

    For testing a runbook's rollback: the component stays down after the
    runbook restarts it, and comes back when the manifest is moved out and
    back again (as a rollback does).
    """
    lab = require_lab()
    host = next((h for h in lab.hosts if args.host in (h.name, h.node_name, h.ip)), None)
    if host is None:
        raise LabError(f"no lab host {args.host!r}")
    faults = host.state / "faults"
    faults.mkdir(exist_ok=True)
    (faults / args.component).write_text("planted\n")
    log(f"{host.name}: {args.component} will fail from its next start")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="lab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="build what is missing and start the lab (re-entrant)")
    up.add_argument("--size", choices=sorted(SIZES), default="small")
    up.add_argument("--masters", type=int)
    up.add_argument("--workers", type=int)
    up.add_argument(
        "--kwok-nodes", type=int, default=0, help="extra API-only nodes for scale tests"
    )
    up.add_argument(
        "--cert-validity",
        help="leaf certificate lifetime, e.g. 72h (kubeadm certificateValidityPeriod)",
    )
    up.add_argument("--ca-validity", help="CA lifetime, e.g. 87600h")
    up.add_argument(
        "--expired", action="store_true", help="re-sign every leaf certificate as already expired"
    )
    up.add_argument(
        "--legacy-master-taint",
        action="store_true",
        help="also taint masters node-role.kubernetes.io/master",
    )
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="remove everything the lab made").set_defaults(func=cmd_down)
    st = sub.add_parser("status", help="versions, hosts, addresses, health")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)
    ssh = sub.add_parser("ssh", help="ssh into a lab host")
    ssh.add_argument("host")
    ssh.add_argument("command", nargs=argparse.REMAINDER)
    ssh.set_defaults(func=cmd_ssh)
    kc = sub.add_parser("kubectl", help="kubectl with the lab's admin kubeconfig")
    kc.add_argument("args", nargs=argparse.REMAINDER)
    kc.set_defaults(func=cmd_kubectl)
    sub.add_parser("expire-certs", help="re-sign every leaf certificate as expired").set_defaults(
        func=cmd_expire_certs
    )
    fault = sub.add_parser("fault", help="make a host's static pod fail from its next start")
    fault.add_argument("host")
    fault.add_argument("component", help="manifest name without .yaml, e.g. kube-apiserver")
    fault.set_defaults(func=cmd_fault)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except LabError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
