# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a credential's key and putting a new credential where the old one was.

A certificate entry (``pki.core.CertEntry``) is stored one of three ways, and
a renewed one goes back the same way:

* ``file``: a ``.crt`` with its ``.key`` beside it (the key in the format it
  had: PKCS#1/SEC1 or PKCS#8);
* ``bundle``: certificate and key in one PEM; when it is the kubelet's
  ``-current.pem`` symlink, a new dated file is written and the symlink swung
  onto it, as the kubelet rotates;
* ``embedded``: base64 in a kubeconfig user, swapped in place so every other
  byte of the kubeconfig stays as it was.

Every file written is recorded in the ``changes`` ledger as it is written.
"""

from __future__ import annotations

import base64
import os

try:  # absence reported by the modules through pki.core.HAS_PKI_LIBS
    import yaml
    from cryptography import x509
except ImportError:
    pass

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    CertEntry,
    PKIError,
    load_kubeconfig,
    parse_key,
    read_bytes,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.files import (
    file_mode,
    read_link,
    symlink_atomic,
    write_atomic,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.issue import cert_pem, key_pem


def is_kubelet_credential(entry: CertEntry) -> bool:
    """The kubelet's client credential, the one ``kubelet.conf`` points at."""
    return entry.kubeconfig is not None and os.path.basename(entry.kubeconfig) == "kubelet.conf"


def _find_user(config: dict, user: str, path: str, host: str) -> dict:
    for item in config.get("users") or []:
        if isinstance(item, dict) and item.get("name") == user:
            return item.setdefault("user", {})
    raise PKIError(f"user {user} not found", host=host, obj=path)


def current_key(entry: CertEntry, host: str):
    """The private key that belongs to ``entry`` (for key reuse), or None."""
    if entry.source == "embedded":
        config = load_kubeconfig(entry.kubeconfig, host)
        data = _find_user(config, entry.user, entry.kubeconfig, host).get("client-key-data")
        return parse_key(base64.b64decode(data), host, entry.kubeconfig) if data else None
    if entry.key_path is None:
        return None
    return parse_key(read_bytes(entry.key_path, host), host, entry.key_path)


def _is_pkcs8(path: str | None, host: str) -> bool:
    if not path or not os.path.isfile(path):
        return False
    return b"-----BEGIN PRIVATE KEY-----" in read_bytes(path, host)


def _rewrite_kubeconfig(
    path: str, user: str, cert: x509.Certificate, key, host: str, changes
) -> None:
    """Swap one user's client-certificate-data/client-key-data, leaving every other byte alone."""
    text = read_bytes(path, host).decode("utf-8")
    config = yaml.safe_load(text)
    spec = _find_user(config, user, path, host)
    new_values = {
        "client-certificate-data": base64.b64encode(cert_pem(cert)).decode(),
        "client-key-data": base64.b64encode(key_pem(key)).decode(),
    }
    updated = text
    for field_name, value in new_values.items():
        old = spec.get(field_name)
        if old and updated.count(old) == 1:
            updated = updated.replace(old, value)
        else:
            updated = None
            break
    if updated is None:
        spec.update(new_values)
        spec.pop("client-certificate", None)
        spec.pop("client-key", None)
        updated = yaml.safe_dump(config, default_flow_style=False, sort_keys=False)
    write_atomic(path, updated.encode("utf-8"), file_mode(path, 0o600, host), host, changes)


def _dated_name(link_name: str, now) -> str:
    stem = link_name[: -len("-current.pem")] if link_name.endswith("-current.pem") else link_name
    return f"{stem}-{now.strftime('%Y-%m-%d-%H-%M-%S')}.pem"


def _write_bundle(path: str, cert, key, now, host: str, changes) -> None:
    """kubelet-style: a new dated cert+key file, then the -current symlink swung onto it."""
    data = cert_pem(cert) + key_pem(key)
    if not os.path.islink(path):
        write_atomic(path, data, 0o600, host, changes)
        return
    directory = os.path.dirname(path)
    dated = os.path.join(directory, _dated_name(os.path.basename(path), now))
    write_atomic(dated, data, 0o600, host, changes)
    old_target = read_link(path, host)
    target = dated if os.path.isabs(old_target) else os.path.basename(dated)
    symlink_atomic(path, target, host, changes)


def write_credential(
    entry: CertEntry, cert, key, key_changed: bool, now, host: str, changes=None
) -> None:
    """Put a renewed certificate (and key, when new) where ``entry`` came from."""
    if entry.source == "embedded":
        _rewrite_kubeconfig(entry.kubeconfig, entry.user, cert, key, host, changes)
    elif entry.source == "bundle":
        _write_bundle(entry.path, cert, key, now, host, changes)
    else:
        key_path = entry.key_path or os.path.splitext(entry.path)[0] + ".key"
        if key_changed:
            pem = key_pem(key, pkcs8=_is_pkcs8(key_path, host))
            write_atomic(key_path, pem, 0o600, host, changes)
        write_atomic(entry.path, cert_pem(cert), file_mode(entry.path, 0o644, host), host, changes)
