# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a kubeadm-shaped host (PKI, kubeconfigs, kubelet pki) under a temp dir.

The layout and certificate profiles follow what ``kubeadm init phase certs
all`` and ``kubeadm init phase kubeconfig all`` write, plus the kubelet's
rotated ``kubelet-client-current.pem`` symlink after TLS bootstrap.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import itertools
import os
from dataclasses import dataclass

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
SERVER = [ExtendedKeyUsageOID.SERVER_AUTH]
CLIENT = [ExtendedKeyUsageOID.CLIENT_AUTH]
BOTH = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
NODE = "cn-hangzhou.i-master1"

# name: (relative path, CA, CN, O, usages, SANs)
LEAVES = {
    "apiserver": (
        "apiserver",
        "ca",
        "kube-apiserver",
        None,
        SERVER,
        [
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "master1",
            "10.96.0.1",
            "192.168.50.10",
        ],
    ),
    "apiserver-kubelet-client": (
        "apiserver-kubelet-client",
        "ca",
        "kube-apiserver-kubelet-client",
        "kubeadm:cluster-admins",
        CLIENT,
        [],
    ),
    "front-proxy-client": (
        "front-proxy-client",
        "front-proxy-ca",
        "front-proxy-client",
        None,
        CLIENT,
        [],
    ),
    "apiserver-etcd-client": (
        "apiserver-etcd-client",
        "etcd-ca",
        "kube-apiserver-etcd-client",
        None,
        CLIENT,
        [],
    ),
    "etcd-server": (
        "etcd/server",
        "etcd-ca",
        "master1",
        None,
        BOTH,
        ["master1", "localhost", "192.168.50.10", "127.0.0.1", "::1"],
    ),
    "etcd-peer": (
        "etcd/peer",
        "etcd-ca",
        "master1",
        None,
        BOTH,
        ["master1", "localhost", "192.168.50.10", "127.0.0.1", "::1"],
    ),
    "etcd-healthcheck-client": (
        "etcd/healthcheck-client",
        "etcd-ca",
        "kube-etcd-healthcheck-client",
        None,
        CLIENT,
        [],
    ),
}
CAS = {
    "ca": ("ca", "kubernetes"),
    "etcd-ca": ("etcd/ca", "etcd-ca"),
    "front-proxy-ca": ("front-proxy-ca", "front-proxy-ca"),
}
KUBECONFIGS = {
    "admin.conf": ("kubernetes-admin", "kubeadm:cluster-admins"),
    "super-admin.conf": ("kubernetes-super-admin", "system:masters"),
    "controller-manager.conf": ("system:kube-controller-manager", None),
    "scheduler.conf": ("system:kube-scheduler", None),
}


# RSA generation dominates the test time: a pool made once, handed out in
# turn, keeps every key of one host distinct (a host uses 17).
_POOL = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(20)]
_next = itertools.count()


def _key():
    return _POOL[next(_next) % len(_POOL)]


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _pem_cert(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn, days=3650, not_before=None, key=None):
    key = key or _key()
    not_before = not_before or NOW - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, True, False, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_leaf(ca_cert, ca_key, cn, org, usages, sans, days=365, key=None, not_before=None):
    key = key or _key()
    not_before = not_before or NOW - dt.timedelta(days=1)
    not_after = not_before + dt.timedelta(days=days)
    if days <= 0:  # already expired, -days ago
        not_before, not_after = NOW + dt.timedelta(days=days - 30), NOW + dt.timedelta(days=days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
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
    if sans:
        names = []
        for san in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def kubeconfig(ca_cert, user, cert=None, key=None, cert_path=None, key_path=None) -> bytes:
    spec = (
        {
            "client-certificate-data": base64.b64encode(_pem_cert(cert)).decode(),
            "client-key-data": base64.b64encode(_pem_key(key)).decode(),
        }
        if cert is not None
        else {"client-certificate": cert_path, "client-key": key_path}
    )
    config = {
        "apiVersion": "v1",
        "clusters": [
            {
                "cluster": {
                    "certificate-authority-data": base64.b64encode(_pem_cert(ca_cert)).decode(),
                    "server": "https://192.168.50.10:6443",
                },
                "name": "kubernetes",
            }
        ],
        "contexts": [
            {"context": {"cluster": "kubernetes", "user": user}, "name": f"{user}@kubernetes"}
        ],
        "current-context": f"{user}@kubernetes",
        "kind": "Config",
        "preferences": {},
        "users": [{"name": user, "user": spec}],
    }
    return yaml.safe_dump(config, default_flow_style=False, width=1 << 20).encode()


@dataclass
class Host:
    root: str
    pki_dir: str
    kubeconfig_dir: str
    kubelet_pki_dir: str
    backup_dir: str

    @property
    def roots_kwargs(self) -> dict:
        return {
            "pki_dir": self.pki_dir,
            "kubeconfig_dir": self.kubeconfig_dir,
            "kubelet_pki_dir": self.kubelet_pki_dir,
            "host": "master1",
        }

    def read(self, relative) -> bytes:
        with open(os.path.join(self.root, relative), "rb") as handle:
            return handle.read()

    def tree_hash(self) -> str:
        """Hash of every file, link and mode under the host (backups excluded)."""
        digest = hashlib.sha256()
        for current, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if os.path.join(current, d) != self.backup_dir)
            for name in sorted(files):
                full = os.path.join(current, name)
                digest.update(full.encode())
                if os.path.islink(full):
                    digest.update(b"->" + os.readlink(full).encode())
                else:
                    digest.update(oct(os.stat(full).st_mode).encode())
                    digest.update(self.read(full))
        return digest.hexdigest()


def build_host(tmp_path, leaf_days=365, ca_days=3650, leaf_overrides=None) -> Host:
    """A control-plane host as kubeadm plus a bootstrapped kubelet leave it."""
    root = str(tmp_path / "host")
    host = Host(
        root,
        f"{root}/etc/kubernetes/pki",
        f"{root}/etc/kubernetes",
        f"{root}/var/lib/kubelet/pki",
        f"{root}/backups",
    )
    cas = {}
    for name, (relative, cn) in CAS.items():
        cert, key = make_ca(cn, days=ca_days)
        cas[name] = (cert, key)
        _write(f"{host.pki_dir}/{relative}.crt", _pem_cert(cert))
        _write(f"{host.pki_dir}/{relative}.key", _pem_key(key), 0o600)
    for name, (relative, ca, cn, org, usages, sans) in LEAVES.items():
        days = (leaf_overrides or {}).get(name, leaf_days)
        cert, key = make_leaf(*cas[ca], cn, org, usages, sans, days=days)
        _write(f"{host.pki_dir}/{relative}.crt", _pem_cert(cert))
        _write(f"{host.pki_dir}/{relative}.key", _pem_key(key), 0o600)
    sa = _key()
    _write(f"{host.pki_dir}/sa.key", _pem_key(sa), 0o600)
    _write(
        f"{host.pki_dir}/sa.pub",
        sa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    ca_cert, ca_key = cas["ca"]
    for conf, (cn, org) in KUBECONFIGS.items():
        days = (leaf_overrides or {}).get(conf, leaf_days)
        cert, key = make_leaf(ca_cert, ca_key, cn, org, CLIENT, [], days=days)
        _write(f"{host.kubeconfig_dir}/{conf}", kubeconfig(ca_cert, cn, cert, key), 0o600)
    # kubelet after TLS bootstrap: kubelet.conf points at the rotating symlink
    kubelet_key = ec.generate_private_key(ec.SECP256R1())
    days = (leaf_overrides or {}).get("kubelet.conf", leaf_days)
    cert, _ = make_leaf(
        ca_cert,
        ca_key,
        f"system:node:{NODE}",
        "system:nodes",
        CLIENT,
        [],
        days=days,
        key=kubelet_key,
    )
    dated = f"{host.kubelet_pki_dir}/kubelet-client-2024-01-01-00-00-00.pem"
    _write(dated, _pem_cert(cert) + _pem_key(kubelet_key), 0o600)
    os.symlink(dated, f"{host.kubelet_pki_dir}/kubelet-client-current.pem")
    current = f"{host.kubelet_pki_dir}/kubelet-client-current.pem"
    _write(
        f"{host.kubeconfig_dir}/kubelet.conf",
        kubeconfig(ca_cert, "default-auth", cert_path=current, key_path=current),
        0o600,
    )
    # the kubelet's self-signed serving pair
    serving_ca, serving_ca_key = make_ca(f"{NODE}-ca@1700000000", days=365)
    serving, serving_key = make_leaf(
        serving_ca, serving_ca_key, f"{NODE}@1700000000", None, SERVER, [NODE]
    )
    _write(f"{host.kubelet_pki_dir}/kubelet.crt", _pem_cert(serving) + _pem_cert(serving_ca))
    _write(f"{host.kubelet_pki_dir}/kubelet.key", _pem_key(serving_key), 0o600)
    return host
