# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ackops.runbooks.renew_jobs: the in-cluster certificate renewal Jobs."""

from __future__ import annotations

DOCUMENTATION = r"""
name: renew_jobs
author: ack-runbooks contributors (@ackops)
version_added: "0.1.0"
short_description: Per-master and worker certificate renewal Jobs from the cluster's Node objects
description:
  - Generates the batch/v1 Jobs of the ACK guide's in-cluster renewal (sections 2.2 and 2.3)
    from the Node objects M(ackops.runbooks.k8s_object_info) returns.
  - One Job per master, pinned with a nodeAffinity on C(kubernetes.io/hostname), tolerating the
    C(node-role.kubernetes.io/master) and C(node-role.kubernetes.io/control-plane) NoSchedule
    taints and the node's own taints; C(backoffLimit=0), C(completions=parallelism=1),
    C(activeDeadlineSeconds), hostNetwork, hostPID, privileged, the host's C(/) at C(/host),
    C(restartPolicy=Never), C(terminationMessagePolicy=FallbackToLogsOnError). The default command
    backs up the host's PKI and kubeconfigs into C($ACKOPS_BACKUP) (a backup
    M(ackops.runbooks.k8s_cert_backup) restores) and runs C(kubeadm certs renew all) in the host's
    root (where the CA key already is). It restarts nothing; the runbook restarts the control plane
    and checks its health, and restores that backup when the check fails.
  - One Job for all workers, C(completions=parallelism=) their number, one pod per node
    (required podAntiAffinity on C(job-name), topology C(kubernetes.io/hostname)), kept on the
    workers by a nodeAffinity, tolerating each distinct key/value/effect of the workers' taints.
    It gets no key material; by default it prints the node's kubelet client certificate expiry;
    the kubelet renews that credential through the CSR API, or the SSH method renews it.
  - A command carrying C(PRIVATE KEY) or a CA key path (C(ca.key)) is refused.
options:
  _input:
    description: The cluster's Node objects (C(resources) of M(ackops.runbooks.k8s_object_info)).
    type: list
    elements: dict
    required: true
  masters:
    description: Node names of the masters, in the order to renew. Default the nodes with a master or control-plane role label or taint.
    type: list
    elements: str
  workers:
    description: Node names of the workers. Default every other node.
    type: list
    elements: str
  image:
    description: Container image; it needs C(chroot) and C(sh), the rest comes from the host.
    type: str
    default: busybox:1.36
  master_command:
    description: Command of the master Jobs. Default the built-in backup, C(kubeadm certs renew all) and static pod restart.
    type: list
    elements: str
  worker_command:
    description: Command of the worker Job. Default a report of the kubelet client certificate.
    type: list
    elements: str
  namespace:
    description: Namespace of the Jobs.
    type: str
    default: kube-system
  name_prefix:
    description: Prefix of the Job names (C(<prefix>-master-<n>), C(<prefix>-workers)).
    type: str
    default: ackops-renew-certs
  active_deadline_seconds:
    description: C(activeDeadlineSeconds) of every Job.
    type: int
    default: 3600
  pod_annotations:
    description:
      - Annotations of every Job's pod template (a sidecar injector's opt-out; on the local lab,
        C(ackops.io/lab-run=host) makes its node agent really run the pods).
    type: dict
  environment:
    description:
      - Environment (name to value) of the master Jobs' container. The default command reads
        C(ACKOPS_BACKUP) (where to back up), C(ACKOPS_PKI_DIR) and C(ACKOPS_KUBECONFIG_DIR).
      - Refused like a command when a value carries key material or a CA key path.
    type: dict
  cluster_configuration:
    description:
      - The cluster's kubeadm ClusterConfiguration (the C(kubeadm-config) ConfigMap's
        C(ClusterConfiguration) text, a mapping, or a kubeadm config file's text, of which only the
        ClusterConfiguration document is used).
      - Stripped to what C(kubeadm certs renew) reads (version, certificatesDir set to
        C(ACKOPS_PKI_DIR), lifetimes, encryptionAlgorithm, featureGates, etcd local/external
        without extra arguments) and put in one ConfigMap per master Job (RV(_value.config_maps)),
        mounted into its pod; C(ACKOPS_KUBEADM_CONFIG) names the file and the default command runs
        C(kubeadm certs renew all --config) with it. Refused when it carries a private key.
    type: raw
  validity_hours:
    description:
      - Lifetime of the renewed certificates this run decided, in hours; written into the
        ClusterConfiguration as C(certificateValidityPeriod) when it differs from what kubeadm
        would apply (a ClusterConfiguration made of it alone when none is given).
    type: float
  key_algorithm:
    description:
      - Key type this run decided (kubeadm's C(encryptionAlgorithm) names); written into the
        ClusterConfiguration when it differs.
    type: str
"""

EXAMPLES = r"""
- name: Read the nodes
  ackops.runbooks.k8s_object_info:
    kind: Node
  register: nodes

- name: Generate the Jobs for the inventory's masters and workers
  ansible.builtin.set_fact:
    renew_jobs: >-
      {{ nodes.resources | ackops.runbooks.renew_jobs(
           masters=groups['masters'] | map('extract', hostvars, 'k8s_node_name') | list,
           workers=groups['workers'] | map('extract', hostvars, 'k8s_node_name') | list) }}
"""

RETURN = r"""
_value:
  description: The Jobs and the nodes they cover.
  type: dict
  contains:
    masters:
      description: One Job per master, in the order given.
      type: list
      elements: dict
    config_maps:
      description:
        - One ConfigMap per master Job, in the same order (C(<job name>-kubeadm-config), key
          C(ClusterConfiguration)); null entries when kubeadm gets no configuration.
      type: list
      elements: dict
    kubeadm_config:
      description:
        - What kubeadm will apply, C(given) (whether C(--config) is used), C(source) (C(cluster),
          C(run) made of O(validity_hours)/O(key_algorithm) alone, or null), C(validity),
          C(key_algorithm), C(dropped) (fields not given to kubeadm), C(overridden) (fields this
          run set).
      type: dict
    worker:
      description: The worker Job; null when there are no workers.
      type: dict
    master_nodes:
      description: Node names of the masters.
      type: list
      elements: str
    worker_nodes:
      description: Node names of the workers.
      type: list
      elements: str
    worker_count:
      description: Number of workers, the worker Job's completions and parallelism.
      type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
    JobsError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.renew_jobs import (
    renew_jobs as generate_jobs,
)
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import (
    documented_filter,
)


@documented_filter(DOCUMENTATION)
def renew_jobs(nodes, **options):
    try:
        return generate_jobs(nodes, **options)
    except JobsError as exc:
        raise AnsibleFilterError(f"renew_jobs: {exc}") from None


class FilterModule:
    def filters(self):
        return {"renew_jobs": renew_jobs}
