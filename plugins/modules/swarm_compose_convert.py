#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.swarm_compose_convert: a Swarm stack's compose files to Kubernetes objects."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_compose_convert
author: ack-runbooks contributors (@ackops)
version_added: "1.2.0"
short_description: Convert Docker Swarm compose files to Kubernetes objects, with a migration report
description:
  - Reads compose files (file format 3.x or the Compose Specification, with Swarm
    C(deploy) keys) the way C(docker stack deploy -c a -c b) does - YAML anchors
    and merge keys, C(x-) extensions, variable interpolation with the project
    C(.env), C(extends), several files merged by the Compose merge rules - and
    converts every service to Kubernetes objects of current API versions -
    Deployment, DaemonSet (C(mode=global)), StatefulSet (on request), Job
    (C(mode=replicated-job)), Services, ConfigMaps, Secrets,
    PersistentVolumeClaims and, on request, NetworkPolicies.
  - Returns a migration report - for every service and key, converted,
    converted with loss (what was lost) or not convertible (why, and what to do
    instead) - with the conversions that change behaviour flagged, ready for the
    collection's report writer (role C(ackops.runbooks.report), C(tasks_from=write)).
  - Runs on the controller (C(delegate_to=localhost)) and talks to no cluster;
    applying the objects is the job of the runbook's deploy step.
  - Secret values come from O(secret_values) (or a secret's C(file) or
    C(environment) source); no Secret is invented for an external one. Secret
    values are redacted in RV(objects) and never appear in the report.
  - With O(dest), writes one manifest per object for review (Secrets only with
    O(write_secrets), mode 0600); RV(ignore:changed) says whether a file changed.
  - Malformed input (not YAML, an unknown version, a wrong type, an unknown key,
    a constraint with an operator Swarm does not know, a required variable that
    is not set) fails with a message naming the file, the service, the key and
    the value; nothing is written then.
  - What each Compose key becomes is in docs/migrate-swarm.md.
extends_documentation_fragment:
  - ackops.runbooks.attributes
attributes:
  check_mode:
    support: full
    details: Converts and reports; writes no manifest.
  diff_mode:
    support: full
    details: The before and after text of each manifest that would change (Secrets redacted).
  idempotent:
    support: full
options:
  files:
    description:
      - The compose files, in C(-f) order (later files override earlier ones).
      - Relative paths are relative to the directory the module runs in (for a
        C(delegate_to=localhost) task, where ansible-playbook runs).
      - At least one of O(files) and O(documents) is needed.
    type: list
    elements: path
    default: []
  documents:
    description:
      - Compose documents already parsed, merged after O(files) in the order
        given, as further C(-f) files would be - for example the live stack
        RV(ackops.runbooks.swarm_stack_info#module:compose) read from a Swarm
        manager, then an override document adding what Swarm did not keep
        (C(depends_on)).
      - They are interpolated like files (write C($$) for a literal C($)); the
        project C(.env) is read only when O(files) are given.
    type: list
    elements: dict
    default: []
  project_name:
    description:
      - The stack name (labels C(app.kubernetes.io/instance)); defaults to the
        files' C(name), else the project directory's name.
    type: str
  project_directory:
    description: Where relative paths of the files resolve and C(.env) is looked for; defaults to the first file's directory.
    type: path
  variables:
    description:
      - The environment Compose would interpolate from (the shell of the Swarm
        manager that ran C(docker stack deploy)). The project C(.env) adds what
        this does not set.
      - Give secrets through O(secret_values), not here. A secret whose source
        is C(environment) takes its value from O(secret_values) only (these
        variables are shown with C(-vvv) and logged); a variable such a secret
        names is masked in the output all the same.
    type: dict
    default: {}
  dotenv:
    description: An env file to read instead of the project directory's C(.env).
    type: path
  use_dotenv:
    description: Read the project C(.env) (or O(dotenv)) at all.
    type: bool
    default: true
  profiles:
    description: Active Compose profiles; services of other profiles are left out (and listed).
    type: list
    elements: str
    default: []
  namespace:
    description: Namespace of every object; none leaves it to the applier.
    type: str
  create_namespace:
    description: Add a Namespace object for O(namespace).
    type: bool
    default: false
  statefulsets:
    description: Services to convert to StatefulSets (one claim per replica) instead of Deployments.
    type: list
    elements: str
    default: []
  statefulset_for_named_volumes:
    description: Convert every service that mounts a named volume to a StatefulSet.
    type: bool
    default: false
  storage_class:
    description: Storage class of the claims for named volumes (an ACK disk or NAS class); none uses the cluster default.
    type: str
  volume_size:
    description: Size of each claim (Swarm volumes have none).
    type: str
    default: 10Gi
  volume_claims:
    description:
      - Per named volume, C(storage_class), C(size) and C(access_modes) (for
        example C([ReadWriteMany]) for a NAS class shared by several pods).
    type: dict
    default: {}
  load_balancer:
    description: Services whose published ports get a LoadBalancer Service (an ACK SLB) instead of a NodePort one.
    type: dict
    default: {}
    suboptions:
      services:
        description: Service names, or V(all).
        type: raw
        default: []
      options:
        description:
          - ACK SLB settings, each becoming its
            C(service.beta.kubernetes.io/alibaba-cloud-loadbalancer-*) annotation
            - C(address_type) (V(internet) or V(intranet)), C(spec) (for example
            V(slb.s1.small)), C(id) (reuse an existing SLB),
            C(force_override_listeners), C(charge_type), C(vswitch_id).
        type: dict
        default: {}
      annotations:
        description: Further annotations, verbatim.
        type: dict
        default: {}
      keep_client_ip:
        description: C(externalTrafficPolicy=Local), so pods see the client address.
        type: bool
        default: false
  node_port_range:
    description: The cluster's NodePort range; a published port inside it is kept as the nodePort.
    type: str
    default: 30000-32767
  label_map:
    description:
      - Swarm constraint attribute to Kubernetes node label, for example
        C(node.labels.zone) to C(topology.kubernetes.io/zone). Unmapped
        C(node.labels.X) and C(engine.labels.X) become label C(X).
    type: dict
    default: {}
  node_names:
    description: Swarm host name to Kubernetes node name (the inventory's C(k8s_node_name)), for C(node.hostname) constraints.
    type: dict
    default: {}
  node_labels:
    description:
      - The labels the Kubernetes nodes carry (label to list of values). When
        given, a constraint no node satisfies is flagged as a behaviour change.
    type: dict
  bind_mounts:
    description:
      - "What a bind mount becomes, keyed by C(SERVICE:TARGET) or the host path -
        C({type: hostPath}) (optionally C(path)), C({type: configMap}) (the files
        read on the controller), C({type: persistentVolumeClaim, claim_name: NAME})
        or C({type: emptyDir})."
      - Without an entry an absolute host path becomes hostPath and a relative
        one a ConfigMap of the controller's files.
    type: dict
    default: {}
  network_policies:
    description: Add a NetworkPolicy per service admitting only the services that share a network with it (and its published ports).
    type: bool
    default: false
  wait_image:
    description: Image of the init containers that wait for C(depends_on) dependencies (needs C(sh), C(nc -z) and C(nslookup)).
    type: str
    default: busybox:1.36
  secret_values:
    description: Secret name (as in the compose file) to value; external secrets get a Secret only through this.
    type: dict
    default: {}
  config_values:
    description: Config name to content, for external configs or ones whose file is not on the controller.
    type: dict
    default: {}
  dest:
    description: Directory to write the manifests to (one file per object); created when missing.
    type: path
  write_secrets:
    description: Write Secret manifests (mode 0600) too; by default they are held back.
    type: bool
    default: false
notes:
  - Swarm reads secret values nobody can read back; give them from a vault
    through O(secret_values) with C(no_log=true) on the task.
seealso:
  - plugin: ackops.runbooks.compose_convert
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Convert the shop stack for review
  ackops.runbooks.swarm_compose_convert:
    files: [stacks/shop/compose.yml, stacks/shop/compose.prod.yml]
    namespace: shop
    storage_class: alicloud-disk-essd
    node_names: {swarm-db-1: cn-hangzhou.i-bp1db001}
    label_map: {node.labels.zone: topology.kubernetes.io/zone}
    load_balancer:
      services: [web]
      options: {address_type: intranet, spec: slb.s1.small}
    secret_values: "{{ vault_shop_secrets }}"
    dest: build/shop-manifests
  delegate_to: localhost
  no_log: true
  register: shop

- name: Stop before applying a stack that would behave differently
  ansible.builtin.assert:
    that: shop.report.summary.behaviour_changes == 0
    fail_msg: "{{ shop.report.behaviour_changes | map(attribute='message') | list }}"
"""

RETURN = r"""
objects:
  description: The Kubernetes objects in apply order; Secret values replaced by C(<redacted>).
  returned: success
  type: list
  elements: dict
  sample:
    - {apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: shop}, spec: {replicas: 3}}
report:
  description: The migration report (see docs/migrate-swarm.md).
  returned: success
  type: dict
  contains:
    project: {description: The stack name., type: str}
    files: {description: "The files read, in merge order.", type: list, elements: str}
    summary:
      description: Counts of services, objects by kind, entries by status, behaviour changes.
      type: dict
    behaviour_changes:
      description: The entries that change behaviour, with C(service), C(key), C(status), C(message).
      type: list
      elements: dict
    services:
      description:
        - Per compose service, C(kind) and C(name) of its workload, its C(services)
          and C(entries) - C(key), C(status) (V(converted), V(converted_with_loss),
          V(not_convertible)), C(result), C(lost), C(instead), C(behaviour_change).
      type: dict
    stack:
      description: Entries for the top-level networks, volumes, configs and secrets.
      type: list
      elements: dict
    objects: {description: C(Kind namespace/name) of every object., type: list, elements: str}
    warnings: {description: Unset variables and other warnings of the interpolation., type: list, elements: str}
  sample:
    summary: {services: 2, objects: {Deployment: 2, Service: 3}, converted: 14,
              converted_with_loss: 3, not_convertible: 1, behaviour_changes: 1}
report_markdown:
  description: The report for people.
  returned: success
  type: str
report_stats:
  description: The summary for set_stats (AWX), under C(migrate_swarm).
  returned: success
  type: dict
  sample: {migrate_swarm: {project: shop, services: 7, objects: 20, behaviour_changes: 4}}
secrets:
  description: Names of the Secret objects converted (their values are not returned).
  returned: success
  type: list
  elements: str
manifests:
  description: With O(dest), what was (or in check mode would be) written.
  returned: when O(dest) is given
  type: dict
  contains:
    dest: {description: The directory., type: str}
    written: {description: Files written (changed)., type: list, elements: str}
    unchanged: {description: Files already right., type: list, elements: str}
    held_back: {description: Secret manifests not written (see O(write_secrets))., type: list, elements: str}
    stale: {description: Manifest files in the directory that no object of this run wants (not removed)., type: list, elements: str}
error:
  description:
    - On failure, C(type) (V(compose), V(internal) for a bug), C(object) (the file),
      C(field) (C(services.SERVICE.KEY)), C(cause) (the value and what is wrong),
      C(details) (C(file), C(service), C(key), C(value)).
  returned: failure
  type: dict
  sample: {type: compose, host: null, object: /srv/shop/compose.yml, field: services.web.deploy.replicas,
           cause: "'three' must be a whole number", details: {file: /srv/shop/compose.yml,
           service: web, key: deploy.replicas, value: three}}
partial_changes:
  description: On failure, the manifest files written before it (usually none).
  returned: failure
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import run_module
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.options import (
    ARGSPEC,
    convert_params,
    hide_secret_variables,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.output import (
    redacted,
    write_manifests,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.report import markdown, stats


def convert_stack(module, changes) -> dict:
    params = module.params
    conversion = convert_params(params)
    result = {
        "changed": False,
        "objects": redacted(conversion.objects),
        "report": conversion.report,
        "report_markdown": markdown(conversion.report),
        "report_stats": stats(conversion.report),
        "secrets": conversion.secrets,
    }
    if params["dest"]:
        manifests = write_manifests(
            params["dest"],
            conversion.objects,
            write_secrets=params["write_secrets"],
            check_mode=module.check_mode,
            want_diff=module._diff,
            changes=changes,
        )
        diff = manifests.pop("diff", None)
        if diff is not None:
            result["diff"] = diff
        result["manifests"] = manifests
        result["changed"] = bool(manifests["written"])
    return result


def main():
    module = AnsibleModule(argument_spec=ARGSPEC, supports_check_mode=True)
    hide_secret_variables(module)
    run_module(module, lambda changes: convert_stack(module, changes))


if __name__ == "__main__":
    main()
