"""Certificates of the lab: kubelet credentials, the lab's own client credential,
and `expire-certs` (every leaf re-signed as already expired)."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
import shutil
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .state import CLUSTER_NAME, LAB_ADMIN_KUBECONFIG, SLB_IP, Host, Lab
from .util import parse_duration

# ---- helpers


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


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
) -> x509.Certificate:
    """A client certificate signed by ``ca_cert``."""
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
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(authority_key_id(ca_cert), critical=False)
    )
    return builder.sign(ca_key, hashes.SHA256())


def authority_key_id(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """The issuer's own subject key id, as Go's x509 (kubeadm, the CSR signer)
    writes it: computed from the public key it can differ from the id kubeadm
    gave the CA, and then openssl cannot find the issuer."""
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


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


def kubeconfig(ca_pem: bytes, server: str, cluster_user: str, context: str, user: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {"certificate-authority-data": b64(ca_pem), "server": server},
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": CLUSTER_NAME, "user": cluster_user}}],
        "current-context": context,
        "users": [{"name": cluster_user, "user": user}],
    }


# ---- the cluster CA and client credentials


def cluster_ca(lab: Lab):
    """The cluster CA (certificate, key) of the first master; the others share it."""
    pki = lab.masters[0].etc_kubernetes / "pki"
    return load_cert(pki / "ca.crt"), load_key(pki / "ca.key")


def client_credential(lab: Lab, organization: str, common_name: str, validity):
    """A client certificate and key signed by the cluster CA, valid for ``validity``
    (a timedelta) or, with None, as long as the CA."""
    ca_cert, ca_key = cluster_ca(lab)
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


def setup_kubelet_credentials(lab: Lab) -> None:
    """What a kubeadm-joined node carries after kubelet TLS bootstrap.

    kubelet.conf points at /var/lib/kubelet/pki/kubelet-client-current.pem, a
    symlink to a dated file with the client certificate for
    system:node:<node name> and its key; pki/ca.crt; and the kubelet's
    self-signed serving certificate, kubelet.crt/kubelet.key.
    """
    first = lab.masters[0]
    ca_cert = cluster_ca(lab)[0]
    validity = parse_duration(lab.opts.get("cert_validity") or "8760h")
    for host in lab.hosts:
        pki = host.kubelet_dir / "pki"
        cert, key = client_credential(
            lab, "system:nodes", f"system:node:{host.node_name}", validity
        )
        dated = pki / f"kubelet-client-{now().strftime('%Y-%m-%d-%H-%M-%S')}.pem"
        write_private(dated, pem_cert(cert) + pem_key(key))
        current = pki / "kubelet-client-current.pem"
        current.unlink(missing_ok=True)
        # As the kubelet does: an absolute link, resolved inside the host's mounts.
        current.symlink_to(f"/var/lib/kubelet/pki/{dated.name}")
        write_serving_cert(host)
        (host.etc_kubernetes / "pki").mkdir(exist_ok=True)
        if host.role != "master":
            shutil.copy2(
                first.etc_kubernetes / "pki" / "ca.crt", host.etc_kubernetes / "pki" / "ca.crt"
            )
        server = f"https://{host.ip}:6443" if host.role == "master" else f"https://{SLB_IP}:6443"
        context = f"system:node:{host.node_name}@{CLUSTER_NAME}"
        current_pem = "/var/lib/kubelet/pki/kubelet-client-current.pem"
        config = kubeconfig(
            pem_cert(ca_cert),
            server,
            "default-auth",
            context,
            {"client-certificate": current_pem, "client-key": current_pem},
        )
        config["preferences"] = {}
        write_private(host.etc_kubernetes / "kubelet.conf", yaml.safe_dump(config).encode())


def write_serving_cert(host: Host) -> None:
    """The kubelet's default serving certificate: self-signed by a CA of its own."""
    pki = host.kubelet_dir / "pki"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = now() - dt.timedelta(minutes=5)
    stamp = int(start.timestamp())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{host.name}-ca@{stamp}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{host.name}@{stamp}")]))
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
                [x509.DNSName(host.name), x509.IPAddress(ipaddress.ip_address(host.ip))]
            ),
            False,
        )
        .sign(key, hashes.SHA256())
    )
    (pki / "kubelet.crt").write_bytes(pem_cert(cert))
    write_private(pki / "kubelet.key", pem_key(key))


def write_lab_credentials(lab: Lab) -> None:
    """Long-lived credentials for the lab's own controllers (kwok, cloud stand-in).

    They stand in for the kubelets' and the cloud's own identities, so the
    lab keeps working while the renewal runbook is tested against expired
    cluster certificates.
    """
    ca_cert = cluster_ca(lab)[0]
    cert, key = client_credential(lab, "system:masters", "ackops-lab-controller", None)
    config = kubeconfig(
        pem_cert(ca_cert),
        f"https://{SLB_IP}:6443",
        "lab",
        "lab",
        {"client-certificate-data": b64(pem_cert(cert)), "client-key-data": b64(pem_key(key))},
    )
    write_private(LAB_ADMIN_KUBECONFIG, yaml.safe_dump(config).encode())


# ---- certificate lifetimes


def expire_certs(lab: Lab) -> list[str]:
    """Re-sign every leaf certificate of the cluster so it expired an hour ago.

    Keys, subjects and extensions are kept; CAs, the service-account key and
    the lab's own controller credentials are left alone. Control-plane
    components are restarted, so the cluster is in the state an operator
    finds after a missed renewal: the API refuses every kubeadm credential.
    """
    past_end = now() - dt.timedelta(hours=1)
    past_start = past_end - dt.timedelta(days=365)
    changed = []
    for host in lab.hosts:
        changed += _expire_host(lab, host, past_start, past_end)
    for master in lab.masters:
        # Like a kubelet, the runner ignores a touched manifest: ask it directly.
        requests = master.state / "restart"
        requests.mkdir(exist_ok=True)
        for manifest in (master.etc_kubernetes / "manifests").glob("*.yaml"):
            (requests / manifest.stem).write_text("expire-certs\n")
    return changed


def _expire_host(lab: Lab, host: Host, start, end) -> list[str]:
    pki = host.etc_kubernetes / "pki"
    cas = {}
    for name in ("ca", "front-proxy-ca", "etcd/ca"):
        if (pki / f"{name}.key").exists():
            cas[name] = (load_cert(pki / f"{name}.crt"), load_key(pki / f"{name}.key"))
    if "ca" not in cas:  # a worker: its node credential is signed on the first master
        cas["ca"] = cluster_ca(lab)
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
            cert = x509.load_pem_x509_certificate(base64.b64decode(pem))
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
