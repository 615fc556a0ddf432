#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.k8s_cert_backup: back up or restore a host's PKI and kubeconfigs."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_cert_backup
author: ack-runbooks contributors (@ackops)
version_added: "0.1.0"
short_description: Back up a host's Kubernetes PKI and kubeconfigs, or restore such a backup
description:
  - With O(state=present), copies the whole O(pki_dir), the kubeconfigs and O(kubelet_pki_dir)
    (symlinks kept) into a new timestamped 0700 directory under O(backup_dir), with a manifest.
  - With O(state=restored), makes O(pki_dir) and O(kubelet_pki_dir) equal to the backup at O(path)
    again (files added since are removed) and puts back the backed-up kubeconfigs, touching nothing
    else in O(kubeconfig_dir). Writes are atomic. Only what differs is written, so C(changed) is
    a comparison and a second restore reports no change.
  - The roots to restore come from the backup's manifest, not from the root options.
  - Returns paths only; the backup holds private keys, so keep O(backup_dir) on the host.
attributes:
  check_mode:
    details: O(state=restored) reports what differs from the backup; O(state=present) reports a change and writes nothing.
  diff_mode:
    support: partial
    details: O(state=restored) lists the paths that differ (names only, never contents).
  idempotent:
    support: partial
    details: O(state=restored) is idempotent; O(state=present) makes a new backup every run.
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_pki
  - ackops.runbooks.k8s_pki.backup
options:
  state:
    description: V(present) makes a new backup, V(restored) restores the backup at O(path).
    type: str
    choices: [present, restored]
    default: present
  path:
    description: The backup to restore (as returned by this module or M(ackops.runbooks.k8s_cert_renew)).
    type: path
"""

EXAMPLES = r"""
- name: Back up before touching anything
  ackops.runbooks.k8s_cert_backup:
  register: pki_backup

- name: Roll a master back after a failed renewal
  ackops.runbooks.k8s_cert_backup:
    state: restored
    path: "{{ renewed.backup }}"
"""

RETURN = r"""
path:
  description: The backup made (V(present)) or restored (V(restored)); null in check mode for V(present).
  returned: always
  type: str
  sample: /var/lib/ackops/pki-backups/pki-20261128T153535.123456Z
files:
  description: For V(present), the number of files backed up.
  returned: when state is present and not in check mode
  type: int
restored:
  description: For V(restored), the paths put back or removed (or, in check mode, that differ).
  returned: when state is restored
  type: list
  elements: str
error:
  description:
    - On failure, what went wrong and where, C(type) (V(pki), or V(internal) for a bug), C(host),
      C(object) (the file), C(field), C(cause) and C(details) (for a system error, C(errno)).
  returned: failure
  type: dict
  sample: {type: pki, host: master1, object: /var/lib/ackops/pki-backups, field: null,
           cause: "cannot create the backup directory (No space left on device)", details: {errno: ENOSPC}}
partial_changes:
  description:
    - On failure, what was changed before it, in order; a half-made backup is removed, a restore
      lists each file put back (C(write)) or removed (C(remove)) so far.
  returned: failure
  type: list
  elements: dict
  sample: [{action: write, target: /etc/kubernetes/pki/apiserver.crt}]
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.files import (
    DEFAULT_BACKUP_DIR,
    backup,
    restore,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.module import run_pki_module

OPTIONS = {
    "state": {"type": "str", "choices": ["present", "restored"], "default": "present"},
    "backup_dir": {"type": "path", "default": DEFAULT_BACKUP_DIR},
    "path": {"type": "path"},
}


def back_up_or_restore(module, roots, changes) -> dict:
    params = module.params
    if params["state"] == "present":
        if module.check_mode:
            return {"changed": True, "path": None}
        made = backup(roots, params["backup_dir"], changes=changes)
        files = sum(len(tree["files"]) for tree in made["manifest"]["trees"])
        files += len(made["manifest"]["files"])
        return {"changed": True, "path": made["path"], "files": files}
    restored = restore(params["path"], roots.host, check=module.check_mode, changes=changes)
    result = {"changed": bool(restored), "path": params["path"], "restored": restored}
    if module._diff:
        result["diff"] = {"before": {"differs": restored}, "after": {"differs": []}}
    return result


def main():
    run_pki_module(OPTIONS, back_up_or_restore, required_if=[("state", "restored", ("path",))])


if __name__ == "__main__":
    main()
