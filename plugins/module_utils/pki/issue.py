# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building certificates and keys the way kubeadm does.

* ``load_ca_key`` hands out a CA's private key only after the three refusals
  (expired CA, missing key, key that does not match it).
* ``issue`` signs a public key for a subject with given extensions: a new
  serial, backdated by ``BACKDATE``, validity clamped to the CA's not_after,
  the authority key identifier of the CA; ``reissue`` does it again for an
  existing certificate (same subject, SANs, usages and other extensions).
* ``new_key_like``, ``key_pem`` and ``cert_pem`` make and serialize keys and
  certificates in kubeadm's formats.

Nothing here touches a file but the CA key read by ``load_ca_key``; results
carry subjects, serials and dates, never key material.
"""

from __future__ import annotations

import datetime as dt

try:  # absence reported by the modules through pki.core.HAS_PKI_LIBS
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.x509.oid import ExtensionOID
except ImportError:
    pass

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    PKIError,
    cert_not_after,
    cert_not_before,
    iso,
    key_matches_cert,
    load_key_file,
    serial_hex,
)

# Clock skew allowance, as kubeadm and the kubelet give their certificates.
BACKDATE = dt.timedelta(minutes=5)

# kubeadm's ClusterConfiguration.encryptionAlgorithm values (v1beta4; ECDSA-P384
# since 1.34): the key type of every certificate kubeadm makes or renews.
KEY_ALGORITHMS = ("RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384")


def brief(cert: x509.Certificate) -> dict:
    """What a diff may show of a certificate: identity and dates, no key material."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "serial": serial_hex(cert),
        "not_before": iso(cert_not_before(cert)),
        "not_after": iso(cert_not_after(cert)),
    }


def load_ca_key(ca_cert: x509.Certificate, cert_path: str, key_path: str, host: str, now):
    """The CA's private key after the three refusals: expired, missing key, wrong key."""
    if cert_not_after(ca_cert) <= now:
        raise PKIError(
            f"CA certificate {cert_path} expired on {iso(cert_not_after(ca_cert))}; "
            "CAs are never renewed automatically: renew or replace the CA first",
            host=host,
        )
    key = load_key_file(key_path, host)
    if key is None:
        raise PKIError(
            f"CA key {key_path} is missing: the CA {cert_path} is externally managed, "
            "its certificates must be signed where its key is",
            host=host,
        )
    if not key_matches_cert(key, ca_cert):
        raise PKIError(f"CA key {key_path} does not match CA certificate {cert_path}", host=host)
    return key


def new_key_like(public_key):
    """A fresh private key of the same algorithm and size as ``public_key``."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return rsa.generate_private_key(public_exponent=65537, key_size=public_key.key_size)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return ec.generate_private_key(public_key.curve)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return ed25519.Ed25519PrivateKey.generate()
    raise PKIError(f"unsupported public key type {type(public_key).__name__}")


def new_key(algorithm: str):
    """A fresh private key for one of kubeadm's encryption algorithms (``KEY_ALGORITHMS``)."""
    if algorithm not in KEY_ALGORITHMS:
        raise PKIError(
            f"must be one of {', '.join(KEY_ALGORITHMS)}, got {algorithm!r}",
            field="key_algorithm",
        )
    kind, size = algorithm.split("-")
    if kind == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=int(size))
    return ec.generate_private_key(ec.SECP256R1() if size == "P256" else ec.SECP384R1())


def key_pem(key, pkcs8: bool = False) -> bytes:
    """PEM as kubeadm writes it: PKCS#1 for RSA, SEC1 for EC (PKCS#8 when asked or needed)."""
    traditional = isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey))
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if traditional and not pkcs8
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _signing_hash(ca_key):
    return (
        None
        if isinstance(ca_key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))
        else hashes.SHA256()
    )


def as_validity(validity) -> dt.timedelta:
    """A validity given in days (int or float) or as a timedelta, as a timedelta."""
    if isinstance(validity, dt.timedelta):
        return validity
    return dt.timedelta(days=validity)


def validity_window(ca_cert: x509.Certificate, now, validity_days):
    """(not_before, not_after, clamped): never before nor past the CA's own validity.

    ``validity_days`` is a number of days or a timedelta (kubeadm's
    ``certificateValidityPeriod`` is in hours: 4380h is 182.5 days).
    """
    validity = as_validity(validity_days)
    if validity < dt.timedelta(hours=1):
        raise PKIError(f"validity must be at least one hour, got {validity}", field="validity_days")
    not_before = max(now - BACKDATE, cert_not_before(ca_cert))
    not_after = now + validity
    clamped = not_after > cert_not_after(ca_cert)
    return not_before, min(not_after, cert_not_after(ca_cert)), clamped


def issue(
    subject: x509.Name,
    extensions: list[x509.Extension],
    public_key,
    ca_cert: x509.Certificate,
    ca_key,
    now,
    validity_days: int,
):
    """Sign ``public_key`` for ``subject`` with ``extensions``; returns (cert, clamped)."""
    not_before, not_after, clamped = validity_window(ca_cert, now, validity_days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension in extensions:
        if extension.oid in (
            ExtensionOID.SUBJECT_KEY_IDENTIFIER,
            ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ):
            continue
        builder = builder.add_extension(extension.value, extension.critical)
    try:
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())
    builder = builder.add_extension(aki, critical=False)
    return builder.sign(ca_key, _signing_hash(ca_key)), clamped


def reissue(template: x509.Certificate, public_key, ca_cert, ca_key, now, validity_days):
    """The template's subject and every extension (SANs, usages), a new serial and dates."""
    extensions = list(template.extensions)
    if any(ext.oid == ExtensionOID.SUBJECT_KEY_IDENTIFIER for ext in extensions):
        ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
        extensions.append(x509.Extension(ExtensionOID.SUBJECT_KEY_IDENTIFIER, False, ski))
    cert, clamped = issue(
        template.subject, extensions, public_key, ca_cert, ca_key, now, validity_days
    )
    return cert, clamped
