# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a host keeps its Kubernetes PKI: the options of the certificate modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  pki_dir:
    description:
      - The kubeadm certificate directory; every C(*.crt)/C(*.pem) below it is read
        (C(etcd/) and the front-proxy pair included, symlinks followed), with the C(.key) beside it.
      - Names follow C(kubeadm certs check-expiration), for example C(apiserver), C(etcd-server),
        C(etcd-ca).
    type: path
    default: /etc/kubernetes/pki
  kubeconfig_dir:
    description: Where the kubeconfigs named in O(kubeconfigs) are.
    type: path
    default: /etc/kubernetes
  kubeconfigs:
    description:
      - Kubeconfig file names (relative to O(kubeconfig_dir)) or absolute paths whose client
        certificates are read, embedded (C(client-certificate-data)) or referenced by path
        (C(client-certificate), as C(kubelet.conf) points at C(kubelet-client-current.pem)).
      - Missing files are skipped, so one list serves masters and workers.
    type: list
    elements: str
    default: [admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf, kubelet.conf]
  kubelet_pki_dir:
    description:
      - The kubelet's certificate directory. Its dated rotation files
        (C(kubelet-client-<timestamp>.pem)) are reached through the C(-current.pem) symlinks and
        not listed twice.
    type: path
    default: /var/lib/kubelet/pki
requirements:
  - cryptography >= 38 (Debian 12 ships 38) and PyYAML on the managed host
"""

    # The backup directory of the modules that back up (extends ackops.runbooks.k8s_pki.backup).
    BACKUP = r"""
options:
  backup_dir:
    description:
      - Directory that receives the timestamped backups (created 0700).
      - The backups hold private keys; keep this directory on the host.
    type: path
    default: /var/lib/ackops/pki-backups
"""
