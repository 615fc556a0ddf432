"""What a fault test checks on the lab's hosts afterwards, from their files: that every
certificate still matches its key, and which complete backups the renewal left.

Certificate/key pairs are read from the machine through the paths `lab status --json`
gives (each host's /etc/kubernetes and /var/lib/kubelet); backups over SSH, where the
runbook keeps them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path, PurePosixPath

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

BACKUP_DIR = "/var/lib/ackops/pki-backups"


def spki(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def on_machine(host, path: str, relative_to: Path) -> Path:
    """A path as the host sees it (a kubeconfig's reference), where this machine reads it."""
    pure = PurePosixPath(path)
    if not pure.is_absolute():
        return relative_to / pure
    for root, local in (("/etc/kubernetes", host.etc_kubernetes), ("/var/lib/kubelet", host.var_lib_kubelet)):  # fmt: skip
        if pure == PurePosixPath(root) or PurePosixPath(root) in pure.parents:
            return local / pure.relative_to(root)
    raise ValueError(f"{host.name}: {path} is outside /etc/kubernetes and /var/lib/kubelet")


def resolve(host, path: Path) -> Path:
    """Follow symlinks whose targets are host paths (kubelet-client-current.pem)."""
    for _ in range(10):
        if not path.is_symlink():
            return path
        path = on_machine(host, str(path.readlink()), path.parent)
    raise ValueError(f"{host.name}: {path}: too many symlinks")


def compare(cert_pem: bytes, key_pem: bytes) -> bool:
    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, None)
    return spki(cert.public_key()) == spki(key.public_key())


def pairs(host) -> list[tuple[str, bytes, bytes]]:
    """(name, certificate PEM, key PEM) of every pair on ``host``."""
    found = []
    etc, kubelet = host.etc_kubernetes, host.var_lib_kubelet
    for crt in sorted((etc / "pki").rglob("*.crt")):
        key = crt.with_suffix(".key")
        if key.exists():
            found.append((str(crt.relative_to(etc)), crt.read_bytes(), key.read_bytes()))
    for conf in sorted(etc.glob("*.conf")):
        config = yaml.safe_load(conf.read_text()) or {}
        for user in config.get("users") or []:
            creds = user.get("user") or {}
            if "client-certificate-data" in creds and "client-key-data" in creds:
                cert = base64.b64decode(creds["client-certificate-data"])
                key = base64.b64decode(creds["client-key-data"])
            elif "client-certificate" in creds and "client-key" in creds:
                cert = resolve(
                    host, on_machine(host, creds["client-certificate"], etc)
                ).read_bytes()
                key = resolve(host, on_machine(host, creds["client-key"], etc)).read_bytes()
            else:
                continue
            found.append((f"{conf.name} user {user.get('name')}", cert, key))
    for pem in sorted((kubelet / "pki").glob("*.pem")):
        data = resolve(host, pem).read_bytes()
        if b"CERTIFICATE" in data and b"PRIVATE KEY" in data:
            found.append((str(pem.relative_to(kubelet)), data, data))
    for crt in sorted((kubelet / "pki").glob("*.crt")):
        key = crt.with_suffix(".key")
        if key.exists():
            found.append((str(crt.relative_to(kubelet)), crt.read_bytes(), key.read_bytes()))
    return found


def mismatched_pairs(lab) -> tuple[int, list[str]]:
    """How many certificate/key pairs the hosts hold, and the ones that do not match."""
    checked, bad = 0, []
    for host in lab.hosts:
        for name, cert, key in pairs(host):
            checked += 1
            try:
                if not compare(cert, key):
                    bad.append(f"{host.name}: {name}: the certificate is not the key's")
            except ValueError as exc:
                bad.append(f"{host.name}: {name}: unreadable ({exc})")
    return checked, bad


def assert_keys_match(lab) -> int:
    """Every certificate on every host matches its key; returns how many pairs were read."""
    checked, bad = mismatched_pairs(lab)
    assert not bad, "\n".join(bad)
    assert checked >= len(lab.hosts), f"only {checked} certificate/key pairs found"
    return checked


def backups(lab, host: str, since: dt.datetime) -> list[dict]:
    """The complete backups (manifest.json written) made of ``host`` since ``since``."""
    listing = lab.ssh(
        host,
        f"for m in {BACKUP_DIR}/pki-*/manifest.json; do "
        '[ -f "$m" ] && { printf "%s\\t" "$m"; tr -d "\\n" < "$m"; echo; }; done; true',
    ).stdout
    found = []
    for line in listing.splitlines():
        path, _, text = line.partition("\t")
        manifest = json.loads(text)
        created = dt.datetime.strptime(manifest["created"], "%Y%m%dT%H%M%S.%fZ")
        if manifest.get("host") == host and created.replace(tzinfo=dt.UTC) >= since:
            found.append({"path": str(PurePosixPath(path).parent), **manifest})
    return found


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
