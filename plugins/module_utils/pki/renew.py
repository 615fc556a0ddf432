# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Leaf certificate renewal on a host that holds its CAs, kubeadm style.

* ``preflight`` checks every CA that signs a leaf here before anything changes.
* ``plan_renewal`` decides, per leaf, renew or skip (threshold, force, names)
  and refuses when a CA it needs is expired, has no key (externally managed)
  or has a key that does not match it.
* ``renew`` re-issues each planned leaf signed by its CA (``pki.issue``): same
  subject, SANs, key usages and every other extension, a new serial, a new key
  unless ``reuse_key``, validity clamped to the CA's not_after; it puts each
  credential back where it was (``pki.store``: files, kubeconfig-embedded
  credentials, the kubelet's ``-current.pem`` symlink); then re-reads what it
  wrote.
* ``renew_host`` is the whole sequence a module runs: inventory, pre-flight,
  plan, backup before the first write, renewal. The backup and every file
  written go into the ``changes`` ledger as they happen, so a failure at any
  point still reports them.

Workers, which hold no CA key, are renewed by ``pki.node_credentials``.
Results carry subjects, serials and dates, never key material.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    DEFAULT_KUBECONFIGS,
    KUBEADM_ETCD_LEAVES,
    KUBEADM_LEAF_FILES,
    CertEntry,
    Inventory,
    PKIError,
    Roots,
    cert_not_after,
    inventory,
    iso,
    key_matches_cert,
    serial_hex,
    utcnow,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.files import (
    DEFAULT_BACKUP_DIR,
    backup,
    prune_backups,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.issue import (
    as_validity,
    brief,
    load_ca_key,
    new_key,
    new_key_like,
    reissue,
    validity_window,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.kubeadm_config import (
    cluster_settings,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.store import (
    current_key,
    is_kubelet_credential,
    write_credential,
)

DEFAULT_VALIDITY_DAYS = 365


@dataclass
class Action:
    entry: CertEntry
    ca: CertEntry
    reason: str


@dataclass
class Plan:
    host: str
    renew: list[Action] = field(default_factory=list)
    skip: list[dict] = field(default_factory=list)


# --- CA checks ----------------------------------------------------------------


def _ca_key_path(ca: CertEntry) -> str:
    return ca.key_path or os.path.splitext(ca.path)[0] + ".key"


def check_ca(ca: CertEntry, host: str, now):
    if ca.source == "embedded":
        raise PKIError(
            f"CA of {ca.path} exists only embedded in that kubeconfig (no CA key on this "
            "host): externally managed, its certificates must be signed where its key is",
            host=host,
        )
    return load_ca_key(ca.cert, ca.path, _ca_key_path(ca), host, now)


# --- planning -------------------------------------------------------------------

# A renewal must push a leaf's expiry out by at least this much to be worth it:
# a leaf already cut to its CA's expiry is not renewed again on every run.
MIN_GAIN = dt.timedelta(days=1)
ROTATE_CA = "rotate the CA (docs/renew-certs.md, 'A CA close to its own expiry')"


def _ca_key_here(ca: CertEntry) -> bool:
    return ca.source != "embedded" and os.path.exists(_ca_key_path(ca))


def _identifiers(entry: CertEntry) -> set[str]:
    """Every way a setting may name a certificate: its name, its id, its path (as given and
    resolved) and its path below the PKI directory; an embedded credential has no path."""
    paths = {entry.path, os.path.realpath(entry.path)} if entry.source != "embedded" else set()
    return {entry.name, entry.id} | paths | ({entry.relative} - {None, ""})


def _is_extra(entry: CertEntry, extra: set[str]) -> bool:
    return bool(extra) and bool(extra & _identifiers(entry))


def _renewable(
    entry: CertEntry, roots: Roots, extra: set[str] = frozenset(), external_etcd: bool = False
) -> str | None:
    """None when the leaf is ours to renew, else why not (kubeadm's list, plus ``extra``)."""
    if entry.is_ca:
        return "CA: never renewed, only reported"
    if _is_extra(entry, extra):
        if entry.source == "file" and entry.key_path is None:
            return "no private key beside it: not renewed (its user holds the key)"
        return None
    if entry.relative in KUBEADM_LEAF_FILES:
        if external_etcd and entry.name in KUBEADM_ETCD_LEAVES:
            return "external etcd: its certificates are managed with etcd, not renewed here"
        return None
    if entry.kubeconfig is not None and os.path.basename(entry.kubeconfig) in DEFAULT_KUBECONFIGS:
        return None
    if entry.id.startswith("kubelet:"):
        return "kubelet-managed (serving certificate, rotated or regenerated by the kubelet)"
    return "not one of kubeadm's certificates: reported only (list it in extra_certificates to renew it)"


def _check_names(inv: Inventory, wanted: set[str], field_name: str) -> None:
    known = set().union(*(_identifiers(entry) for entry in inv.entries))
    unknown = sorted(wanted - known)
    if unknown:
        raise PKIError(
            f"no certificate named {', '.join(unknown)} on this host",
            host=inv.roots.host,
            field=field_name,
        )


def plan_renewal(
    inv: Inventory,
    *,
    threshold_days: int = 30,
    force: bool = False,
    names: list[str] | None = None,
    kubelet: bool = True,
    now: dt.datetime | None = None,
    extra: list[str] | tuple[str, ...] = (),
    external_etcd: bool = False,
    validity_days=365,
) -> Plan:
    """Which leaves to renew and why; raises PKIError for a CA that blocks renewal.

    Only kubeadm's certificates (and ``extra``) are candidates; a leaf whose
    CA has no key here (an external CA) or is not on this host is skipped
    with the reason, as kubeadm does; an expired CA or a CA key that does not
    match refuses. A leaf whose renewal would not end later than it does now
    (already cut to its CA's expiry) is skipped, so runs stay idempotent.
    """
    now = now or utcnow()
    host = inv.roots.host
    if threshold_days < 0:
        # A negative window would renew nothing that is due and report green.
        raise PKIError(
            f"must be 0 or more days, got {threshold_days}", host=host, field="threshold_days"
        )
    wanted = set(names or [])
    extra_set = set(extra or [])
    _check_names(inv, wanted, "certificates")
    _check_names(inv, extra_set, "extra_certificates")
    plan = Plan(host=host)
    limit = now + dt.timedelta(days=threshold_days)
    for entry in inv.entries:
        why_not = _renewable(entry, inv.roots, extra_set, external_etcd)
        # Selected by any name the check above accepts: a path selects its certificate.
        if why_not is None and wanted and not wanted & _identifiers(entry):
            why_not = "not selected"
        if why_not is None and not kubelet and is_kubelet_credential(entry):
            why_not = "kubelet credential excluded (kubelet: false)"
        not_after = cert_not_after(entry.cert)
        if why_not is None and not force and not_after > limit:
            why_not = f"valid until {iso(not_after)}, beyond the {threshold_days}-day threshold"
        ca = inv.ca_named(entry.chains_to) if entry.chains_to else None
        if why_not is None and ca is None:
            if _is_extra(entry, extra_set):
                raise PKIError(
                    f"{entry.name} is not signed by any CA on this host "
                    f"(issuer {entry.cert.issuer.rfc4514_string()}); cannot renew it here",
                    host=host,
                    obj=entry.path,
                )
            why_not = (
                f"signed by {entry.cert.issuer.rfc4514_string()}, a CA not on this host "
                "(external CA): renew it where that CA's key is"
            )
        if why_not is None and not _ca_key_here(ca) and cert_not_after(ca.cert) > now:
            why_not = (
                f"external CA: {ca.name} has no key on this host ({_ca_key_path(ca)}); "
                "renew it where that CA's key is"
            )
        if why_not is None:
            check_ca(ca, host, now)
            _nb, new_after, clamped = validity_window(ca.cert, now, validity_days)
            if not force and not_after > now and new_after < not_after + MIN_GAIN:
                # Cut by the CA, or by the lifetime (then the CA is not to blame).
                why_not = (
                    f"its CA {ca.name} expires on {iso(cert_not_after(ca.cert))}: a renewal "
                    f"cannot make it last longer than {iso(not_after)}; {ROTATE_CA}"
                    if clamped
                    else f"a renewal now, for the configured lifetime, would end on "
                    f"{iso(new_after)}: not a day later than it does ({iso(not_after)})"
                )
        if why_not is not None:
            plan.skip.append({"id": entry.id, "name": entry.name, "reason": why_not})
            continue
        if force:
            reason = "forced"
        elif not_after <= now:
            reason = "expired"
        else:
            reason = f"expires within {threshold_days} days"
        plan.renew.append(Action(entry=entry, ca=ca, reason=reason))
    return plan


def preflight(
    inv: Inventory,
    now: dt.datetime | None = None,
    *,
    extra: list[str] | tuple[str, ...] = (),
    external_etcd: bool = False,
    validity_days=None,
    threshold_days: int | None = None,
) -> list[dict]:
    """Check every CA that signs a certificate renewed here before anything changes.

    Raises for an expired CA and for a CA key that does not match its
    certificate. A CA without a key here is reported as externally managed
    (its leaves are skipped). A CA that expires within ``threshold_days`` or
    before a renewal of ``validity_days`` would end carries a ``warning``
    with its date: renewed certificates are cut to it.
    """
    now = now or utcnow()
    host = inv.roots.host
    extra_set = set(extra or [])
    needed = {
        entry.chains_to
        for entry in inv.entries
        if entry.chains_to and _renewable(entry, inv.roots, extra_set, external_etcd) is None
    }
    checked = []
    for ca in inv.cas():
        if ca.name not in needed:
            continue
        key_here = _ca_key_here(ca)
        if key_here or cert_not_after(ca.cert) <= now:
            check_ca(ca, host, now)
        item = {
            "name": ca.name,
            "path": ca.path,
            "not_after": iso(cert_not_after(ca.cert)),
            "externally_managed": not key_here,
            "warning": None,
        }
        ca_end = cert_not_after(ca.cert)
        if threshold_days is not None and ca_end <= now + dt.timedelta(days=threshold_days):
            item["warning"] = (
                f"CA {ca.name} ({ca.path}) expires on {iso(ca_end)}, within the "
                f"{threshold_days}-day threshold: certificates it signs cannot outlive it; {ROTATE_CA}"
            )
        elif validity_days is not None and ca_end < now + as_validity(validity_days):
            item["warning"] = (
                f"CA {ca.name} ({ca.path}) expires on {iso(ca_end)}, before renewed certificates "
                f"would ({iso(now + as_validity(validity_days))}): they are cut to the CA's expiry; "
                f"{ROTATE_CA}"
            )
        checked.append(item)
    return checked


# --- renewal --------------------------------------------------------------------


def renew(
    inv: Inventory,
    plan: Plan,
    *,
    validity_days=365,
    reuse_key: bool = False,
    key_algorithm: str | None = None,
    check: bool = False,
    now: dt.datetime | None = None,
    changes=None,
) -> list[dict]:
    """Carry out ``plan`` (or, with ``check``, only predict it); per-cert before/after.

    New keys are of ``key_algorithm`` (kubeadm's names, ``ECDSA-P256``...) or,
    when None, of the same type and size as the old ones. Every file written
    is recorded in ``changes`` (a ``Changes`` ledger) as it is written.
    """
    now = now or utcnow()
    host = inv.roots.host
    ca_keys: dict[str, object] = {}
    results = []
    for action in plan.renew:
        entry, ca = action.entry, action.ca
        result = {
            "id": entry.id,
            "name": entry.name,
            "path": entry.path,
            "kubeconfig": entry.kubeconfig,
            "user": entry.user,
            "ca": ca.name,
            "reason": action.reason,
            "key": "reused" if reuse_key else "new",
            "before": brief(entry.cert),
        }
        if check:
            _not_before, not_after, clamped = validity_window(ca.cert, now, validity_days)
            result["after"] = {
                "subject": result["before"]["subject"],
                "serial": "(new)",
                "not_before": iso(_not_before),
                "not_after": iso(not_after),
            }
            result["clamped"] = clamped
            results.append(result)
            continue
        if ca.name not in ca_keys:
            ca_keys[ca.name] = check_ca(ca, host, now)
        if reuse_key:
            key = current_key(entry, host)
        elif key_algorithm:
            key = new_key(key_algorithm)
        else:
            key = new_key_like(entry.cert.public_key())
        if key is None:
            raise PKIError(
                "reuse_key is set but no private key is there", host=host, obj=entry.path
            )
        if reuse_key and not key_matches_cert(key, entry.cert):
            raise PKIError(
                "reuse_key is set but its key does not match it", host=host, obj=entry.path
            )
        cert, clamped = reissue(
            entry.cert, key.public_key(), ca.cert, ca_keys[ca.name], now, validity_days
        )
        write_credential(entry, cert, key, not reuse_key, now, host, changes)
        result["after"] = brief(cert)
        result["clamped"] = clamped
        results.append(result)
    if not check and results:
        _verify(inv.roots, results)
    return results


def _verify(roots: Roots, results: list[dict]) -> None:
    """Re-read the host: each renewed cert must carry its new serial and a matching key."""
    after = inventory(roots).by_id()
    for result in results:
        entry = after.get(result["id"])
        if entry is None or serial_hex(entry.cert) != result["after"]["serial"]:
            raise PKIError(
                "re-reading it after the write does not show the new certificate",
                host=roots.host,
                obj=result["path"],
            )
        if entry.key_matches is False:
            raise PKIError(
                "key does not match the renewed certificate", host=roots.host, obj=result["path"]
            )


def write_targets(plan: Plan) -> list[str]:
    """Every file the renewal of ``plan`` may write (existing ones; new dated files aside)."""
    targets = []
    for action in plan.renew:
        entry = action.entry
        if entry.source == "embedded":
            targets.append(entry.kubeconfig)
            continue
        targets.append(entry.path)
        targets.append(entry.key_path or os.path.splitext(entry.path)[0] + ".key")
    return [path for path in dict.fromkeys(targets) if path]


def renew_host(
    roots: Roots,
    *,
    threshold_days: int = 30,
    force: bool = False,
    names: list[str] | None = None,
    kubelet: bool = True,
    validity_days=None,
    reuse_key: bool = False,
    key_algorithm: str | None = None,
    extra_certificates: list[str] | None = None,
    cluster_configuration=None,
    kubeadm_config: str | None = None,
    make_backup: bool = True,
    backup_dir: str = DEFAULT_BACKUP_DIR,
    backup_keep: int = 0,
    backup_max_age_days: int = 0,
    check: bool = False,
    now: dt.datetime | None = None,
    changes=None,
) -> dict:
    """Inventory, pre-flight, plan, backup before the first write, renew: one host.

    The lifetime and key type come from ``validity_days``/``key_algorithm``
    when given, else from kubeadm's ClusterConfiguration
    (``cluster_configuration`` or the ``kubeadm_config`` file), else 365
    days and keys like the old ones.

    Returns ``renewed``, ``not_renewed``, ``cas``, ``notices`` (CA expiry
    warnings), ``settings``,
    ``backup`` (the backup's path, None when nothing was written or in check
    mode) and ``pruned`` (older backups removed by the retention settings).
    The backup and every write are recorded in ``changes`` as they happen.
    """
    now = now or utcnow()
    for name, value in (("backup_keep", backup_keep), ("backup_max_age_days", backup_max_age_days)):
        if value < 0:
            raise PKIError(f"must be 0 or more, got {value}", host=roots.host, field=name)
    config = cluster_settings(cluster_configuration, kubeadm_config, roots.host)
    if validity_days:
        validity, validity_source = as_validity(validity_days), "validity_days"
    elif config["validity"] is not None:
        validity, validity_source = (
            config["validity"],
            f"certificateValidityPeriod ({config['source']})",
        )
    else:
        validity, validity_source = dt.timedelta(days=DEFAULT_VALIDITY_DAYS), "default"
    conflict = None
    if validity_source != "default" and validity <= dt.timedelta(days=threshold_days):
        if validity_source == "validity_days" and not force:
            raise PKIError(
                f"a lifetime of {_days(validity)} from {validity_source} is not longer than the "
                f"{threshold_days}-day threshold: every run would renew again; "
                "set validity_days or lower threshold_days",
                host=roots.host,
                field="validity_days",
            )
        if validity_source != "validity_days":
            # The cluster says one thing, the run's threshold another. What is due
            # (under the threshold) is renewed, for kubeadm's default lifetime, so
            # the renewed leaves are beyond the threshold and the next run is a
            # no-op; a renewal for the cluster's own lifetime would leave them due
            # again and renew them on every run.
            conflict = (
                f"{validity_source} is {_days(validity)}, not longer than the "
                f"{threshold_days}-day threshold: certificates are renewed for "
                f"{DEFAULT_VALIDITY_DAYS} days (kubeadm's default) instead, else every run "
                "would renew them again; set renew_certs_validity_days, or lower "
                "renew_certs_threshold_days below the cluster's lifetime, to choose"
            )
            validity = dt.timedelta(days=DEFAULT_VALIDITY_DAYS)
            validity_source = f"default (conflict: {validity_source} under the threshold)"
    algorithm = key_algorithm or config["key_algorithm"]
    inv = inventory(roots)
    external_etcd = config["external_etcd"] or inv.ca_named("etcd-ca") is None
    rules = {"extra": extra_certificates or (), "external_etcd": external_etcd}
    cas = preflight(inv, now, validity_days=validity, threshold_days=threshold_days, **rules)
    plan = plan_renewal(
        inv,
        threshold_days=threshold_days,
        force=force,
        names=names,
        kubelet=kubelet,
        now=now,
        validity_days=validity,
        **rules,
    )
    backup_path = None
    if plan.renew and make_backup and not check:
        backup_path = backup(roots, backup_dir, now, changes, extra_files=write_targets(plan))[
            "path"
        ]
    renewed = renew(
        inv,
        plan,
        validity_days=validity,
        reuse_key=reuse_key,
        key_algorithm=None if reuse_key else algorithm,
        check=check,
        now=now,
        changes=changes,
    )
    warnings = ([conflict] if conflict else []) + [ca["warning"] for ca in cas if ca["warning"]]
    pruned = []
    if backup_path and (backup_keep or backup_max_age_days):
        try:
            pruned = prune_backups(backup_dir, backup_keep, backup_max_age_days, backup_path, now)
        except PKIError as exc:  # the renewal is done; an old backup left is not a failure
            warnings.append(f"old backups not pruned: {exc}")
    return {
        "renewed": renewed,
        "not_renewed": plan.skip,
        "cas": cas,
        "notices": warnings,
        "settings": {
            "validity": _days(validity),
            "validity_hours": round(validity.total_seconds() / 3600, 3),
            "validity_source": validity_source,
            "key_algorithm": None if reuse_key else algorithm,
            "key_algorithm_source": (
                "reuse_key"
                if reuse_key
                else "key_algorithm"
                if key_algorithm
                else f"encryptionAlgorithm ({config['source']})"
                if config["key_algorithm"]
                else "same as the old key"
            ),
            "external_etcd": external_etcd,
        },
        "backup": backup_path,
        "pruned": pruned,
    }


def _days(validity: dt.timedelta) -> str:
    days = validity.total_seconds() / 86400
    return f"{days:g} days" if days != 1 else "1 day"
