# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ackops.runbooks.storage_class_params: one class description -> its StorageClass parameters."""

from __future__ import annotations

DOCUMENTATION = r"""
name: storage_class_params
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: The provisioner parameters of a disk, NAS or OSS StorageClass description
description:
  - Validates one item of C(storage_classes) (see M(ackops.runbooks.storage_objects)) and returns
    the C(parameters) of the StorageClass it becomes, as the Alibaba Cloud CSI driver (or, with
    O(driver=flexvolume), the legacy C(alicloud/disk) provisioner) reads them.
  - Handy to compare an existing class with the description, or to show what a class will ask for.
  - OSS classes name their Secret in O(secrets); only its name and namespace appear in the result.
options:
  _input:
    description: One C(storage_classes) item, for example a dict with name C(fast), category C(cloud_essd) and performance_level C(PL2).
    type: dict
    required: true
  region:
    description: Region id of the cluster.
    type: str
    required: true
  zones:
    description: The cluster's zones.
    type: list
    elements: str
    required: true
  driver:
    description: C(csi) or C(flexvolume).
    type: str
    choices: [csi, flexvolume]
    default: csi
  secrets:
    description: C(secrets) items an OSS class may name (C(existing=true) items need no values).
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: What a multi-zone ESSD class passes to the disk driver
  ansible.builtin.debug:
    msg: >-
      {{ {'name': 'essd', 'category': 'cloud_essd', 'performance_level': 'PL1', 'encrypted': true}
         | ackops.runbooks.storage_class_params(region='cn-hangzhou', zones=['cn-hangzhou-h', 'cn-hangzhou-i']) }}
  # => {'type': 'cloud_essd', 'regionId': 'cn-hangzhou', 'zoneId': 'cn-hangzhou-h,cn-hangzhou-i',
  #     'csi.storage.k8s.io/fstype': 'ext4', 'performanceLevel': 'PL1', 'encrypted': 'true'}
"""

RETURN = r"""
_value:
  description: The StorageClass C(parameters), string to string.
  type: dict
  sample:
    type: cloud_auto
    regionId: cn-hangzhou
    zoneId: cn-hangzhou-h
    csi.storage.k8s.io/fstype: ext4
    provisionedIops: "6000"
    burstingEnabled: "true"
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import (
    documented_filter,
)


@documented_filter(DOCUMENTATION)
def storage_class_params(item, region, zones, driver="csi", secrets=None):
    params = {
        "region": region,
        "zones": zones,
        "driver": driver,
        "secrets": secrets or [],
        "storage_classes": [item],
    }
    try:
        plan = build_plan(params)
    except RunbookError as exc:
        raise AnsibleFilterError(f"storage_class_params: {exc}") from None
    return next(o["parameters"] for o in plan["objects"] if o["kind"] == "StorageClass")


class FilterModule:
    def filters(self):
        return {"storage_class_params": storage_class_params}
