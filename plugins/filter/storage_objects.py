# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ackops.runbooks.storage_objects: storage descriptions -> validated Kubernetes objects."""

from __future__ import annotations

DOCUMENTATION = r"""
name: storage_objects
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Secrets, StorageClasses, PVs, PVCs and StatefulSets from disk, NAS and OSS volume descriptions
description:
  - Validates the storage description of the ACK guide's section 4 and returns the objects that
    implement it, in apply order (Secrets, StorageClasses, PersistentVolumes,
    PersistentVolumeClaims, Services, StatefulSets), the same objects for the same input.
  - Static cloud disks become a PV named after the disk id, pinned to its zone with a
    C(topology.kubernetes.io/zone) nodeAffinity, and a PVC bound by the C(alicloud-pvname) selector;
    NAS and OSS volumes likewise (ReadWriteMany by default).
  - Disk classes accept every category the Alibaba Cloud CSI disk driver parses (cloud_efficiency,
    cloud_ssd, cloud_essd with PL0-PL3, cloud_auto with provisioned IOPS and bursting,
    cloud_essd_entry, available, ...); claim sizes are checked against each category's limits.
    A class spanning several zones gets C(WaitForFirstConsumer) and allowedTopologies.
  - OSS credentials only ever travel as a Secret referenced by C(nodePublishSecretRef) (or RRSA/STS
    roles); an AccessKey written into a volume or class is refused without being echoed.
  - With O(driver=flexvolume) the legacy C(alicloud/disk), C(alicloud/nas) and C(alicloud/oss)
    forms are produced instead of CSI.
  - Bad input fails with a message naming the object (C(volume data), C(storage class fast),
    C(claim web/logs)), the key path (C(storage_classes[2].performance_level)) and what is allowed.
  - The keys of every item are documented in the collection's
    C(plugins/module_utils/storage/__init__.py) and C(docs/provision-storage.md).
options:
  _input:
    description:
      - The storage description, a dict with the keys C(region), C(zones), C(driver),
        C(secrets), C(storage_classes), C(existing_storage_classes), C(volumes), C(claims)
        and C(statefulsets).
      - Other top-level keys are ignored; unknown keys inside items are refused.
    type: dict
    required: true
  region:
    description: Region id (C(cn-hangzhou)); overrides C(region) in O(_input).
    type: str
  zones:
    description: The cluster's zones; overrides C(zones) in O(_input).
    type: list
    elements: str
  driver:
    description: C(csi) or C(flexvolume); overrides C(driver) in O(_input) (default C(csi)).
    type: str
    choices: [csi, flexvolume]
  result:
    description:
      - C(objects) returns the list of objects; C(plan) returns the whole plan
        (C(objects), C(warnings), C(volumes)).
    type: str
    choices: [objects, plan]
    default: objects
"""

EXAMPLES = r"""
- name: Objects for a static disk and an ESSD class
  ansible.builtin.set_fact:
    storage_manifests: >-
      {{ {'storage_classes': [{'name': 'essd-pl1', 'category': 'cloud_essd', 'performance_level': 'PL1'}],
          'volumes': [{'name': 'data', 'type': 'disk', 'disk_id': 'd-bp1a2b3c4d5e6f7g8h9i',
                       'zone': 'cn-hangzhou-h', 'size': '40Gi'}]}
         | ackops.runbooks.storage_objects(region='cn-hangzhou', zones=['cn-hangzhou-h', 'cn-hangzhou-i']) }}

- name: The whole plan, with warnings and the summary of volumes
  ansible.builtin.debug:
    msg: "{{ (provision_storage_spec | ackops.runbooks.storage_objects(result='plan')).warnings }}"
"""

RETURN = r"""
_value:
  description:
    - With O(result=objects), the manifests in apply order.
    - With O(result=plan), a dict with C(objects), C(warnings) (one line per warning, the object
      first) and C(volumes) (one row per PVC made, with name, namespace, type, kind static or
      dynamic, class, size, access_modes, pv and pvc).
  type: raw
  sample:
    - apiVersion: v1
      kind: PersistentVolume
      metadata:
        name: d-bp1a2b3c4d5e6f7g8h9i
        labels:
          alicloud-pvname: d-bp1a2b3c4d5e6f7g8h9i
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import (
    documented_filter,
)


@documented_filter(DOCUMENTATION)
def storage_objects(description, region=None, zones=None, driver=None, result="objects"):
    params = dict(description)
    for key, value in (("region", region), ("zones", zones), ("driver", driver)):
        if value is not None:
            params[key] = value
    try:
        plan = build_plan(params)
    except RunbookError as exc:
        raise AnsibleFilterError(f"storage_objects: {exc}") from None
    return plan if result == "plan" else plan["objects"]


class FilterModule:
    def filters(self):
        return {"storage_objects": storage_objects}
