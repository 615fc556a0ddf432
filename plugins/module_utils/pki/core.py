# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discover and parse every certificate of a kubeadm-built host in one call.

Plain Python on top of ``cryptography`` and PyYAML; no Ansible imports. The
inventory reads ``pki_dir`` (``/etc/kubernetes/pki``, including ``etcd/`` and
the front-proxy pair), the kubeconfigs in ``kubeconfig_dir`` (client
certificates embedded in them or referenced by path, as ``kubelet.conf`` does
after TLS bootstrap) and ``kubelet_pki_dir`` (``/var/lib/kubelet/pki``).

Names follow ``kubeadm certs check-expiration`` (``apiserver``,
``etcd-server``, ``admin.conf``, CAs ``ca``, ``etcd-ca``, ``front-proxy-ca``)
so a report can be compared line by line with kubeadm's.

Private keys are loaded only to compare them with their certificate; no key
object or key byte ever ends up in an entry or its ``to_dict()``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import re
import socket
import traceback
from dataclasses import dataclass, field

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

# Managed hosts need cryptography and PyYAML; modules report their absence
# with missing_required_lib instead of an import traceback.
try:
    import yaml
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization

    HAS_PKI_LIBS = True
    PKI_IMPORT_ERROR = None
except ImportError:
    HAS_PKI_LIBS = False
    PKI_IMPORT_ERROR = traceback.format_exc()

DEFAULT_PKI_DIR = "/etc/kubernetes/pki"
DEFAULT_KUBECONFIG_DIR = "/etc/kubernetes"
DEFAULT_KUBELET_PKI_DIR = "/var/lib/kubelet/pki"
DEFAULT_KUBECONFIGS = (
    "admin.conf",
    "super-admin.conf",
    "controller-manager.conf",
    "scheduler.conf",
    "kubelet.conf",
)

# What kubeadm renews (``kubeadm certs renew all``), by file under pki_dir,
# and its kubeconfigs; every other certificate is reported, not renewed,
# unless it is listed explicitly (``extra_certificates``).
KUBEADM_LEAF_FILES = (
    "apiserver.crt",
    "apiserver-kubelet-client.crt",
    "apiserver-etcd-client.crt",
    "front-proxy-client.crt",
    "etcd/server.crt",
    "etcd/peer.crt",
    "etcd/healthcheck-client.crt",
)
KUBEADM_ETCD_LEAVES = (
    "etcd-server",
    "etcd-peer",
    "etcd-healthcheck-client",
    "apiserver-etcd-client",
)

# The rotation files the kubelet keeps next to its ``-current.pem`` symlink;
# they are history (or the symlink's target) and are not listed twice.
_KUBELET_DATED = re.compile(r"^kubelet-(client|server)-\d{4}(-\d{2}){5}\.pem$")
_CERT_SUFFIXES = (".crt", ".pem")
_PEM_CERT = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL
)
_PEM_KEY = re.compile(
    rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----\r?\n.+?\r?\n-----END \1PRIVATE KEY-----", re.DOTALL
)

_KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)
# Extended key usages by dotted OID (RFC 5280 4.2.1.12).
_EXT_USAGE_NAMES = {
    "1.3.6.1.5.5.7.3.1": "server_auth",
    "1.3.6.1.5.5.7.3.2": "client_auth",
    "1.3.6.1.5.5.7.3.3": "code_signing",
    "1.3.6.1.5.5.7.3.4": "email_protection",
    "1.3.6.1.5.5.7.3.8": "time_stamping",
    "1.3.6.1.5.5.7.3.9": "ocsp_signing",
}


class PKIError(RunbookError):
    """A certificate problem a person must act on: the host, the file, the cause."""

    error_type = "pki"


@dataclass(frozen=True)
class Roots:
    """Where a host keeps its PKI; defaults are kubeadm's."""

    pki_dir: str = DEFAULT_PKI_DIR
    kubeconfig_dir: str = DEFAULT_KUBECONFIG_DIR
    kubelet_pki_dir: str = DEFAULT_KUBELET_PKI_DIR
    kubeconfigs: tuple[str, ...] = DEFAULT_KUBECONFIGS
    host: str = field(default_factory=socket.gethostname)

    def kubeconfig_paths(self) -> list[str]:
        return [
            name if os.path.isabs(name) else os.path.join(self.kubeconfig_dir, name)
            for name in self.kubeconfigs
        ]


@dataclass
class CertEntry:
    """One certificate and where it lives.

    ``source`` says how it is stored: ``file`` (a ``.crt`` with a ``.key``
    beside it), ``bundle`` (certificate and key in one PEM, like
    ``kubelet-client-current.pem``) or ``embedded`` (base64 in a kubeconfig).
    """

    id: str
    name: str
    source: str
    path: str
    cert: x509.Certificate
    key_path: str | None = None
    kubeconfig: str | None = None
    user: str | None = None
    key_matches: bool | None = None
    chains_to: str | None = None
    ca_key_present: bool | None = None
    # Other kubeconfig users whose client-certificate points at this same file
    # (``admin.conf#user=kubernetes-admin``): one certificate, listed once.
    referenced_by: list[str] = field(default_factory=list)

    @property
    def relative(self) -> str | None:
        """The path below pki_dir for a ``pki:`` entry, else None."""
        return self.id[len("pki:") :] if self.id.startswith("pki:") else None

    @property
    def is_ca(self) -> bool:
        return is_ca_cert(self.cert)

    @property
    def kind(self) -> str:
        return "ca" if self.is_ca else "leaf"

    @property
    def storage(self) -> str:
        return "embedded" if self.source == "embedded" else "file"

    def to_dict(self, now: dt.datetime | None = None) -> dict:
        now = now or utcnow()
        cert = self.cert
        not_after = cert_not_after(cert)
        left = not_after - now
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "storage": self.storage,
            "source": self.source,
            "path": self.path,
            "real_path": os.path.realpath(self.path) if self.source != "embedded" else None,
            "kubeconfig": self.kubeconfig,
            "user": self.user,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "sans": subject_alt_names(cert),
            "key_usages": key_usages(cert),
            "extended_key_usages": extended_key_usages(cert),
            "serial": serial_hex(cert),
            "not_before": iso(cert_not_before(cert)),
            "not_after": iso(not_after),
            "days_left": left.days,
            "expired": left.total_seconds() <= 0,
            "residual_time": short_human_duration(left),
            "expires": not_after.strftime("%b %d, %Y %H:%M UTC"),
            "key_matches": self.key_matches,
            "chains_to": self.chains_to,
            "externally_managed": self.ca_key_present is False,
            "public_key": public_key_type(cert),
            "referenced_by": list(self.referenced_by),
            "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(),
        }


@dataclass
class Inventory:
    roots: Roots
    entries: list[CertEntry]

    def by_id(self) -> dict[str, CertEntry]:
        return {entry.id: entry for entry in self.entries}

    def cas(self) -> list[CertEntry]:
        return [entry for entry in self.entries if entry.is_ca]

    def ca_named(self, name: str) -> CertEntry | None:
        return next((ca for ca in self.cas() if ca.name == name), None)

    def to_list(self, now: dt.datetime | None = None) -> list[dict]:
        now = now or utcnow()
        return [entry.to_dict(now) for entry in self.entries]

    def summary(self, now: dt.datetime | None = None) -> dict:
        rows = self.to_list(now)
        leaves = [row for row in rows if row["kind"] == "leaf"]
        soonest = min(rows, key=lambda row: row["not_after"], default=None)
        return {
            "host": self.roots.host,
            "total": len(rows),
            "cas": len(rows) - len(leaves),
            "leaves": len(leaves),
            "expired": sum(row["expired"] for row in rows),
            "key_mismatches": [row["id"] for row in rows if row["key_matches"] is False],
            "unchained": [row["id"] for row in leaves if row["chains_to"] is None],
            "soonest": None
            if soonest is None
            else {key: soonest[key] for key in ("id", "name", "not_after", "days_left")},
        }


# --- small helpers ---------------------------------------------------------

# Managed hosts may run a Python older than 3.11, which has no datetime.UTC.
UTC = dt.timezone.utc  # noqa: UP017


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def cert_not_after(cert: x509.Certificate) -> dt.datetime:
    """The end of validity, timezone-aware, on any cryptography a host may have.

    ``not_valid_after_utc`` only exists from cryptography 42; hosts often run
    their distribution's older package (Debian 12 ships 38).
    """
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=UTC)


def cert_not_before(cert: x509.Certificate) -> dt.datetime:
    value = getattr(cert, "not_valid_before_utc", None)
    return value if value is not None else cert.not_valid_before.replace(tzinfo=UTC)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def short_human_duration(delta: dt.timedelta) -> str:
    """kubeadm's RESIDUAL TIME column (apimachinery ShortHumanDuration)."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    hours = seconds // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def serial_hex(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "X")


def is_ca_cert(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def subject_alt_names(cert: x509.Certificate) -> list[str]:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [f"DNS:{name}" for name in sans.get_values_for_type(x509.DNSName)]
    names += [f"IP:{address}" for address in sans.get_values_for_type(x509.IPAddress)]
    names += [f"URI:{uri}" for uri in sans.get_values_for_type(x509.UniformResourceIdentifier)]
    names += [f"email:{mail}" for mail in sans.get_values_for_type(x509.RFC822Name)]
    return names


def key_usages(cert: x509.Certificate) -> list[str]:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return []
    return [name for name in _KEY_USAGES if getattr(usage, name)]


def extended_key_usages(cert: x509.Certificate) -> list[str]:
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return []
    return [_EXT_USAGE_NAMES.get(oid.dotted_string, oid.dotted_string) for oid in usage]


def public_key_type(cert: x509.Certificate) -> str:
    key = cert.public_key()
    size = getattr(key, "key_size", None)
    curve = getattr(key, "curve", None)
    kind = type(key).__name__.replace("PublicKey", "").lstrip("_")
    if curve is not None:
        return f"EC-{curve.name}"
    return f"{kind}-{size}" if size else kind


def spki(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches_cert(key, cert: x509.Certificate) -> bool:
    return spki(key.public_key()) == spki(cert.public_key())


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    if cert.issuer != ca.subject:
        return False
    try:
        if hasattr(cert, "verify_directly_issued_by"):
            cert.verify_directly_issued_by(ca)
        else:  # cryptography < 40: check the signature with the CA's public key
            _verify_signature(cert, ca.public_key())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _verify_signature(cert: x509.Certificate, public_key) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            padding.PKCS1v15(),
            cert.signature_hash_algorithm,
        )
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
    else:  # Ed25519/Ed448 take no hash
        public_key.verify(cert.signature, cert.tbs_certificate_bytes)


def read_bytes(path: str, host: str) -> bytes:
    """The file's bytes; an OSError becomes a PKIError naming host, file and cause."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise PKIError(f"cannot read ({exc.strerror or exc})", host=host or None, obj=path) from exc


def parse_certs(data: bytes, host: str | None, obj: str) -> list[x509.Certificate]:
    """All certificates of a PEM blob; ``host`` and ``obj`` (the file) name it in errors."""
    blocks = _PEM_CERT.findall(data)
    if not blocks:
        raise PKIError(
            "no PEM certificate found (corrupt or not a certificate)", host=host or None, obj=obj
        )
    try:
        return [x509.load_pem_x509_certificate(block) for block in blocks]
    except ValueError as exc:
        raise PKIError(f"corrupt certificate: {exc}", host=host or None, obj=obj) from exc


def parse_key(data: bytes, host: str | None, obj: str):
    """The private key of a PEM blob, or None when it holds none."""
    match = _PEM_KEY.search(data)
    if not match:
        return None
    try:
        return serialization.load_pem_private_key(match.group(0), password=None)
    except (ValueError, TypeError) as exc:
        raise PKIError(f"corrupt private key: {exc}", host=host or None, obj=obj) from exc


def load_key_file(path: str, host: str):
    """The private key at ``path``; None when the file does not exist."""
    if not os.path.exists(path):
        return None
    key = parse_key(read_bytes(path, host), host, path)
    if key is None:
        raise PKIError("no PEM private key found", host=host or None, obj=path)
    return key


def load_kubeconfig(path: str, host: str) -> dict:
    try:
        data = yaml.safe_load(read_bytes(path, host)) or {}
    except yaml.YAMLError as exc:
        raise PKIError(f"not valid kubeconfig YAML: {exc}", host=host or None, obj=path) from exc
    if not isinstance(data, dict):
        raise PKIError("not a kubeconfig (top level is not a mapping)", host=host or None, obj=path)
    return data


def b64decode(value: str, host: str | None, obj: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise PKIError(f"invalid base64: {exc}", host=host or None, obj=obj) from exc


def kubeadm_name(pki_dir: str, path: str) -> str:
    """kubeadm's name for a file under pki_dir: ``apiserver``, ``etcd-server``, ``etcd-ca``."""
    relative = os.path.relpath(path, pki_dir)
    stem = os.path.splitext(relative)[0]
    parts = stem.split(os.sep)
    return "-".join(parts)


# --- discovery -------------------------------------------------------------


def _walk_cert_files(root: str, host: str) -> list[str]:
    """Certificate-looking files below root, symlinks followed, loops avoided.

    A directory that cannot be listed is an error, not a silently shorter inventory.
    """

    def unreadable(exc: OSError):
        raise PKIError(
            f"cannot list ({exc.strerror or exc})", host=host, obj=exc.filename or root
        ) from exc

    found: list[str] = []
    seen_dirs: set[str] = set()
    for current, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        real = os.path.realpath(current)
        if real in seen_dirs:
            dirs[:] = []
            continue
        seen_dirs.add(real)
        dirs.sort()
        for name in sorted(files):
            if name.endswith(_CERT_SUFFIXES):
                found.append(os.path.join(current, name))
    return found


def _pki_entries(roots: Roots) -> list[CertEntry]:
    entries = []
    if not os.path.isdir(roots.pki_dir):
        return entries
    for path in _walk_cert_files(roots.pki_dir, roots.host):
        data = read_bytes(path, roots.host)
        cert = parse_certs(data, roots.host, path)[0]
        key_path = os.path.splitext(path)[0] + ".key"
        key = load_key_file(key_path, roots.host)
        name = kubeadm_name(roots.pki_dir, path)
        entries.append(
            CertEntry(
                id=f"pki:{os.path.relpath(path, roots.pki_dir)}",
                name=name,
                source="file",
                path=path,
                cert=cert,
                key_path=key_path if key is not None else None,
                key_matches=None if key is None else key_matches_cert(key, cert),
            )
        )
    return entries


def _bundle_entry(path: str, name: str, entry_id: str, host: str) -> CertEntry:
    """A PEM holding a certificate (first) and possibly its key, like the kubelet's."""
    data = read_bytes(path, host)
    cert = parse_certs(data, host, path)[0]
    key = parse_key(data, host, path)
    key_path = path if key is not None else None
    if key is None:
        # kubelet.crt keeps its key beside it as kubelet.key
        candidate = os.path.splitext(path)[0] + ".key"
        key = load_key_file(candidate, host)
        key_path = candidate if key is not None else None
    return CertEntry(
        id=entry_id,
        name=name,
        source="bundle" if key_path == path else "file",
        path=path,
        cert=cert,
        key_path=key_path,
        key_matches=None if key is None else key_matches_cert(key, cert),
    )


def _kubeconfig_entries(roots: Roots, files: dict[str, CertEntry]) -> list[CertEntry]:
    """The kubeconfigs' credentials; ``files`` maps real paths already listed to their entry.

    A ``client-certificate:`` that points at a file already listed (under
    pki_dir, or by another kubeconfig) is the same certificate: that entry
    records the reference and nothing is listed twice, so it is renewed once.
    """
    entries = []
    for path in roots.kubeconfig_paths():
        if not os.path.isfile(path):
            continue
        config = load_kubeconfig(path, roots.host)
        base = os.path.basename(path)
        users = config.get("users") or []
        client_users = [u for u in users if isinstance(u, dict) and _has_client_cert(u)]
        for user in client_users:
            spec = user.get("user") or {}
            if not spec.get("client-certificate-data"):
                real = os.path.realpath(_resolve(path, spec["client-certificate"]))
                listed = files.get(real)
                if listed is not None:
                    listed.referenced_by.append(f"{base}#user={user.get('name')}")
                    if listed.kubeconfig is None:
                        listed.kubeconfig, listed.user = path, user.get("name")
                    continue
            entry = _kubeconfig_user_entry(roots, path, base, user, len(client_users))
            if entry.source != "embedded":
                files[os.path.realpath(entry.path)] = entry
            entries.append(entry)
        for cluster in config.get("clusters") or []:
            data = ((cluster or {}).get("cluster") or {}).get("certificate-authority-data")
            if data:
                where = f"{path} (cluster {cluster.get('name')})"
                cert = parse_certs(b64decode(data, roots.host, where), roots.host, where)[0]
                entries.append(
                    CertEntry(
                        id=f"kubeconfig:{base}#cluster={cluster.get('name')}",
                        name=f"{base}/cluster-ca",
                        source="embedded",
                        path=path,
                        kubeconfig=path,
                        cert=cert,
                    )
                )
    return entries


def _has_client_cert(user: dict) -> bool:
    spec = user.get("user") or {}
    return bool(spec.get("client-certificate-data") or spec.get("client-certificate"))


def _kubeconfig_user_entry(
    roots: Roots, path: str, base: str, user: dict, users_with_certs: int
) -> CertEntry:
    spec = user.get("user") or {}
    user_name = user.get("name")
    name = base if users_with_certs == 1 else f"{base}#{user_name}"
    host, where = roots.host, f"{path} (user {user_name})"
    if spec.get("client-certificate-data"):
        cert_data = b64decode(spec["client-certificate-data"], host, where)
        cert = parse_certs(cert_data, host, where)[0]
        key = None
        if spec.get("client-key-data"):
            key = parse_key(b64decode(spec["client-key-data"], host, where), host, where)
        elif spec.get("client-key"):
            key = load_key_file(_resolve(path, spec["client-key"]), roots.host)
        return CertEntry(
            id=f"kubeconfig:{base}#user={user_name}",
            name=name,
            source="embedded",
            path=path,
            kubeconfig=path,
            user=user_name,
            cert=cert,
            key_matches=None if key is None else key_matches_cert(key, cert),
        )
    cert_path = _resolve(path, spec["client-certificate"])
    entry = _bundle_entry(cert_path, name, f"kubeconfig:{base}#user={user_name}", roots.host)
    key_ref = spec.get("client-key")
    if key_ref and _resolve(path, key_ref) != cert_path:
        key = load_key_file(_resolve(path, key_ref), roots.host)
        entry.key_path = _resolve(path, key_ref) if key is not None else None
        entry.key_matches = None if key is None else key_matches_cert(key, entry.cert)
    entry.kubeconfig = path
    entry.user = user_name
    return entry


def _resolve(kubeconfig: str, ref: str) -> str:
    return ref if os.path.isabs(ref) else os.path.join(os.path.dirname(kubeconfig), ref)


def _kubelet_entries(roots: Roots, covered: set[str]) -> list[CertEntry]:
    entries = []
    root = roots.kubelet_pki_dir
    if not os.path.isdir(root):
        return entries
    try:
        names = sorted(os.listdir(root))
    except OSError as exc:
        raise PKIError(f"cannot list ({exc.strerror or exc})", host=roots.host, obj=root) from exc
    for name in names:
        path = os.path.join(root, name)
        if not name.endswith(_CERT_SUFFIXES) or _KUBELET_DATED.match(name):
            continue
        if not os.path.isfile(path) or os.path.realpath(path) in covered:
            continue
        entries.append(_bundle_entry(path, f"kubelet-pki/{name}", f"kubelet:{name}", roots.host))
    return entries


def _link_chains(entries: list[CertEntry], roots: Roots) -> None:
    """Fill chains_to and ca_key_present from the CAs found on the host."""
    cas = [entry for entry in entries if entry.is_ca]
    for entry in entries:
        issuer = next((ca for ca in cas if issued_by(entry.cert, ca.cert)), None)
        if issuer is None:
            continue
        entry.chains_to = issuer.name
        if entry.is_ca and issuer is entry:
            entry.ca_key_present = entry.key_path is not None
        else:
            entry.ca_key_present = issuer.key_path is not None


def _drop_duplicate_cas(entries: list[CertEntry]) -> list[CertEntry]:
    """A kubeconfig's cluster CA is listed only when no file on the host holds it."""
    files = {
        entry.cert.fingerprint(hashes.SHA256())
        for entry in entries
        if entry.source != "embedded" and entry.is_ca
    }
    kept = []
    seen = set()
    for entry in entries:
        print_ = entry.cert.fingerprint(hashes.SHA256())
        if entry.source == "embedded" and entry.user is None:
            if print_ in files or print_ in seen:
                continue
            seen.add(print_)
        kept.append(entry)
    return kept


def inventory(roots: Roots | None = None) -> Inventory:
    """Every certificate on the host, parsed; raises PKIError naming a bad file."""
    roots = roots or Roots()
    entries = _pki_entries(roots)
    files = {os.path.realpath(entry.path): entry for entry in entries}
    entries += _kubeconfig_entries(roots, files)
    covered = {os.path.realpath(entry.path) for entry in entries if entry.source != "embedded"}
    entries += _kubelet_entries(roots, covered)
    entries = _drop_duplicate_cas(entries)
    _link_chains(entries, roots)
    return Inventory(roots=roots, entries=entries)
