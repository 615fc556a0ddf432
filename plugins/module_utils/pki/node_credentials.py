# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A worker's kubelet client credential, renewed without the CA key on the worker.

* ``node_csr`` (on the worker) makes a key and a CSR for
  ``system:node:<name>`` in ``system:nodes`` when the credential is due;
* ``sign_csr`` (on a master) signs it; the CA key never leaves that function;
* ``node_install`` (on the worker) puts the returned certificate in place with
  the pending key.

Results carry subjects, serials and dates, never key material.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os

try:  # absence reported by the modules through pki.core.HAS_PKI_LIBS
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
except ImportError:
    pass

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    CertEntry,
    Inventory,
    PKIError,
    Roots,
    cert_not_after,
    inventory,
    iso,
    issued_by,
    key_matches_cert,
    load_key_file,
    parse_certs,
    read_bytes,
    utcnow,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.files import (
    os_errors,
    remove,
    write_atomic,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.issue import (
    brief,
    cert_pem,
    issue,
    key_pem,
    load_ca_key,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.store import (
    is_kubelet_credential,
    write_credential,
)

# As pki.renew: a renewal must end at least a day later than the credential does now.
MIN_GAIN = dt.timedelta(days=1)
ROTATE_CA = "rotate the CA (docs/renew-certs.md, 'A CA close to its own expiry')"
NODE_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
PENDING_KEY = "kubelet-client-ackops-pending.key"
_USAGE_OIDS = {"client_auth": "CLIENT_AUTH", "server_auth": "SERVER_AUTH"}


def node_subject(node_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, NODE_GROUP),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{NODE_USER_PREFIX}{node_name}"),
        ]
    )


def _node_name_of(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    return value[len(NODE_USER_PREFIX) :] if value.startswith(NODE_USER_PREFIX) else None


def _same_identity(one: x509.Name, other: x509.Name) -> bool:
    def attrs(name):
        return sorted((a.oid.dotted_string, a.value) for a in name)

    return attrs(one) == attrs(other)


def _san_extension(sans: list[str]) -> x509.SubjectAlternativeName:
    general = []
    for san in sans:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            general.append(x509.DNSName(san))
    return x509.SubjectAlternativeName(general)


def _expected_node(node_name: str | None, current_certificate, ca_cert, host: str | None) -> str:
    """The identity to sign for, decided on the signer, never taken from the CSR.

    ``node_name`` is what the inventory says; ``current_certificate`` the
    node's present kubelet client certificate, which must be signed by this
    CA. Either alone names the node; both must agree.
    """
    current_name = None
    if current_certificate:
        data = (
            current_certificate.encode()
            if isinstance(current_certificate, str)
            else current_certificate
        )
        current = parse_certs(data, host, "current_certificate")[0]
        if not issued_by(current, ca_cert):
            raise PKIError(
                f"the node's current certificate ({current.subject.rfc4514_string()}) is not "
                "signed by this cluster's CA; refusing to sign",
                host=host,
                field="current_certificate",
            )
        current_name = _node_name_of(current)
        if current_name is None:
            raise PKIError(
                f"the node's current certificate is for {current.subject.rfc4514_string()}, "
                "not a system:node: identity; refusing to sign",
                host=host,
                field="current_certificate",
            )
    if node_name and current_name and node_name != current_name:
        raise PKIError(
            f"the inventory names this node {node_name} but its current certificate is for "
            f"system:node:{current_name}; refusing to sign (fix k8s_node_name, or renew that "
            "node's credential by hand if it was renamed)",
            host=host,
            field="node_name",
        )
    expected = node_name or current_name
    if not expected:
        raise PKIError(
            "no node name to sign for: give node_name (the inventory's k8s_node_name) or the "
            "node's current certificate",
            host=host,
            field="node_name",
        )
    return expected


def sign_csr(
    csr_pem: str | bytes,
    node_name: str | None = None,
    *,
    current_certificate: str | bytes | None = None,
    pki_dir: str,
    usages: tuple[str, ...] = ("client_auth",),
    sans: list[str] | None = None,
    validity_days: int = 365,
    host: str = "",
    now: dt.datetime | None = None,
) -> dict:
    """On the master: sign a node's CSR as ``system:node:<name>`` in ``system:nodes``.

    The name comes from the controller: ``node_name`` (the inventory's) or,
    without it, the name in the node's ``current_certificate`` (checked
    against this CA); when both are given they must agree. The CSR's subject
    must be exactly that identity, so root on one node cannot obtain another
    node's credential. The usages come from the caller, not from the CSR.
    Returns the certificate PEM, its brief and ``node_name``; the CA key is
    read here and goes nowhere else.
    """
    now = now or utcnow()
    host = host or None
    ca_cert_path = os.path.join(pki_dir, "ca.crt")
    ca_cert = parse_certs(read_bytes(ca_cert_path, host), host, ca_cert_path)[0]
    node_name = _expected_node(node_name, current_certificate, ca_cert, host)
    data = csr_pem.encode() if isinstance(csr_pem, str) else csr_pem
    try:
        csr = x509.load_pem_x509_csr(data)
    except ValueError as exc:
        raise PKIError(
            f"the CSR for node {node_name} is not a valid PEM CSR: {exc}", host=host, field="csr"
        ) from exc
    if not csr.is_signature_valid:
        raise PKIError(
            f"the CSR for node {node_name} has an invalid signature", host=host, field="csr"
        )
    subject = node_subject(node_name)
    if not _same_identity(csr.subject, subject):
        raise PKIError(
            f"the CSR asks for {csr.subject.rfc4514_string()}, "
            f"not {subject.rfc4514_string()}; refusing to sign",
            host=host,
            field="csr",
        )
    unknown = sorted(set(usages) - set(_USAGE_OIDS))
    if unknown or not usages:
        raise PKIError(
            f"usages must be among {sorted(_USAGE_OIDS)}, got {list(usages)}",
            host=host,
            field="usages",
        )
    ca_key = load_ca_key(ca_cert, ca_cert_path, os.path.join(pki_dir, "ca.key"), host, now)
    public_key = csr.public_key()
    is_rsa = isinstance(public_key, rsa.RSAPublicKey)
    extensions = [
        x509.Extension(
            ExtensionOID.KEY_USAGE,
            True,
            x509.KeyUsage(True, False, is_rsa, False, False, False, False, False, False),
        ),
        x509.Extension(
            ExtensionOID.EXTENDED_KEY_USAGE,
            False,
            x509.ExtendedKeyUsage(
                [getattr(ExtendedKeyUsageOID, _USAGE_OIDS[usage]) for usage in usages]
            ),
        ),
        x509.Extension(ExtensionOID.BASIC_CONSTRAINTS, True, x509.BasicConstraints(False, None)),
    ]
    if sans:
        extensions.append(
            x509.Extension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, False, _san_extension(sans))
        )
    cert, clamped = issue(subject, extensions, public_key, ca_cert, ca_key, now, validity_days)
    return {
        "certificate": cert_pem(cert).decode(),
        "clamped": clamped,
        "node_name": node_name,
        **brief(cert),
    }


def _kubelet_entry(inv: Inventory) -> CertEntry | None:
    return next((entry for entry in inv.entries if is_kubelet_credential(entry)), None)


def node_csr(
    roots: Roots,
    *,
    node_name: str | None = None,
    threshold_days: int = 30,
    force: bool = False,
    check: bool = False,
    now: dt.datetime | None = None,
    changes=None,
) -> dict:
    """On a worker: whether its kubelet credential needs renewal and, if so, a CSR.

    The new private key is kept in ``kubelet_pki_dir`` (0600) until
    ``node_install``; a rerun before that reuses it, so the CSR is stable.
    """
    now = now or utcnow()
    inv = inventory(roots)
    current = _kubelet_entry(inv)
    current_name = _node_name_of(current.cert) if current else None
    if node_name and current_name and node_name != current_name:
        raise PKIError(
            f"node_name is {node_name} but the kubelet's current certificate is for "
            f"system:node:{current_name}",
            host=roots.host,
            field="node_name",
        )
    node_name = node_name or current_name
    if not node_name:
        raise PKIError(
            "no kubelet client certificate to take the node name from; set node_name",
            host=roots.host,
            field="node_name",
        )
    result: dict = {
        "node_name": node_name,
        "current": brief(current.cert) if current else None,
        # public: the signer checks the identity against it and this CA
        "current_certificate": cert_pem(current.cert).decode() if current else None,
    }
    if current is not None and not force:
        not_after = cert_not_after(current.cert)
        ca = inv.ca_named(current.chains_to) if current.chains_to else None
        if not_after > now + dt.timedelta(days=threshold_days):
            result.update(needed=False, csr=None, changed=False, reason=None)
            return result
        if ca is not None and not_after > now and cert_not_after(ca.cert) < not_after + MIN_GAIN:
            # Already cut to its CA's expiry: a new one could not last longer.
            result.update(
                needed=False,
                csr=None,
                changed=False,
                reason=(
                    f"its CA {ca.name} expires on {iso(cert_not_after(ca.cert))}: a renewal "
                    f"cannot make it last longer than {iso(not_after)}; {ROTATE_CA}"
                ),
            )
            return result
    pending = os.path.join(roots.kubelet_pki_dir, PENDING_KEY)
    key = load_key_file(pending, roots.host)
    result.update(needed=True, changed=key is None, reason=None)
    if check:
        result["csr"] = None
        return result
    if key is None:
        key = ec.generate_private_key(ec.SECP256R1())
        with os_errors(roots.host, "create the directory", roots.kubelet_pki_dir):
            os.makedirs(roots.kubelet_pki_dir, mode=0o700, exist_ok=True)
        write_atomic(pending, key_pem(key), 0o600, roots.host, changes)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(node_subject(node_name))
        .sign(key, hashes.SHA256())
    )
    result["csr"] = csr.public_bytes(serialization.Encoding.PEM).decode()
    return result


def node_install(
    roots: Roots,
    certificate: str | bytes,
    *,
    check: bool = False,
    now: dt.datetime | None = None,
    changes=None,
) -> dict:
    """On a worker: install the master-signed certificate with the pending key."""
    now = now or utcnow()
    host = roots.host
    data = certificate.encode() if isinstance(certificate, str) else certificate
    cert = parse_certs(data, host, "certificate to install")[0]
    inv = inventory(roots)
    current = _kubelet_entry(inv)
    if current is None:
        raise PKIError(
            f"no kubelet.conf client credential found under {roots.kubeconfig_dir}", host=host
        )
    result = {"before": brief(current.cert), "after": brief(cert)}
    if current.cert == cert:
        return {**result, "changed": False}
    if not any(issued_by(cert, ca.cert) for ca in inv.cas()):
        raise PKIError(
            f"the certificate for {cert.subject.rfc4514_string()} "
            "is not signed by a CA this node trusts",
            host=host,
            field="certificate",
        )
    if _node_name_of(cert) is None or _node_name_of(cert) != _node_name_of(current.cert):
        raise PKIError(
            f"the certificate is for {cert.subject.rfc4514_string()}, "
            f"the kubelet is {current.cert.subject.rfc4514_string()}",
            host=host,
            field="certificate",
        )
    pending = os.path.join(roots.kubelet_pki_dir, PENDING_KEY)
    key = load_key_file(pending, host)
    if key is None or not key_matches_cert(key, cert):
        raise PKIError(
            "no pending key matching this certificate; run the CSR step first",
            host=host,
            obj=pending,
        )
    if not check:
        write_credential(current, cert, key, True, now, host, changes)
        remove(pending, host, changes)
    return {**result, "changed": True}
