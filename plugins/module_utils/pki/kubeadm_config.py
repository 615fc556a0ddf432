# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parts of kubeadm's ClusterConfiguration that decide how certificates are renewed.

kubeadm 1.31+ (``kubeadm.k8s.io/v1beta4``) renews leaves for
``certificateValidityPeriod`` (a Go duration, default ``8760h``) with keys of
``encryptionAlgorithm`` (``RSA-2048`` default, ``RSA-3072``, ``RSA-4096``,
``ECDSA-P256``, ``ECDSA-P384``), and leaves the etcd client certificates alone
when etcd is external (``etcd.external``). The configuration comes from the
``kubeadm-config`` ConfigMap (its ``ClusterConfiguration`` key, a YAML
string) or from a kubeadm config file on the host (several YAML documents,
one of kind ``ClusterConfiguration``). Older API versions have neither field;
their defaults apply.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os

with contextlib.suppress(ImportError):  # absence reported through pki.core.HAS_PKI_LIBS
    import yaml

from ansible_collections.ackops.runbooks.plugins.module_utils.common.durations import go_duration
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    PKIError,
    read_bytes,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.issue import KEY_ALGORITHMS


def parse_duration(value, where: str, field: str) -> dt.timedelta:
    """A Go duration (``8760h``, ``4380h0m0s``, ``90m``) as a timedelta."""
    text = str(value).strip()
    if text in ("", "0"):
        raise PKIError(f"{text!r} is not a certificate lifetime", obj=where, field=field)
    try:
        seconds = go_duration(text)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise PKIError(
            f"{text!r} is not a Go duration like 8760h or 4380h0m0s", obj=where, field=field
        )
    return dt.timedelta(seconds=float(seconds))


def _documents(text: str, where: str) -> list:
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise PKIError(f"not valid YAML: {exc}", obj=where) from exc


def find_cluster_configuration(value, where: str) -> dict:
    """The ClusterConfiguration in ``value``: a mapping, or YAML text of one or more documents."""
    docs = _documents(value, where) if isinstance(value, str) else [value]
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "ConfigMap" and isinstance(doc.get("data"), dict):
            return find_cluster_configuration(doc["data"].get("ClusterConfiguration") or "", where)
        if doc.get("kind", "ClusterConfiguration") == "ClusterConfiguration":
            return doc
    raise PKIError("no ClusterConfiguration document found", obj=where)


def cluster_settings(
    cluster_configuration=None, config_file: str | None = None, host: str | None = None
) -> dict:
    """What kubeadm's ClusterConfiguration says about renewals.

    ``cluster_configuration`` (the ConfigMap's ``ClusterConfiguration``,
    text or mapping) wins over ``config_file`` (read on this host; it must
    exist when named). Returns ``source`` (where it came from, None when
    neither was given), ``validity`` (a timedelta or None), ``key_algorithm``
    (or None) and ``external_etcd``.
    """
    settings = {"source": None, "validity": None, "key_algorithm": None, "external_etcd": False}
    if cluster_configuration:
        where = "ClusterConfiguration (kubeadm-config ConfigMap)"
        config = find_cluster_configuration(cluster_configuration, where)
    elif config_file:
        where = config_file
        if not os.path.isfile(config_file):
            raise PKIError(
                "kubeadm config file not found", host=host, obj=config_file, field="kubeadm_config"
            )
        config = find_cluster_configuration(read_bytes(config_file, host).decode("utf-8"), where)
    else:
        return settings
    settings["source"] = where
    validity = config.get("certificateValidityPeriod")
    if validity is not None:
        settings["validity"] = parse_duration(validity, where, "certificateValidityPeriod")
    algorithm = config.get("encryptionAlgorithm")
    if algorithm is not None:
        if algorithm not in KEY_ALGORITHMS:
            raise PKIError(
                f"encryptionAlgorithm must be one of {', '.join(KEY_ALGORITHMS)}, got {algorithm!r}",
                host=host,
                obj=where,
                field="encryptionAlgorithm",
            )
        settings["key_algorithm"] = algorithm
    etcd = config.get("etcd") or {}
    settings["external_etcd"] = isinstance(etcd, dict) and bool(etcd.get("external"))
    return settings
