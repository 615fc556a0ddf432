# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_dialect filter: which gray-release dialect a cluster's ingress controller speaks."""

from __future__ import annotations

DOCUMENTATION = r"""
name: release_dialect
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Choose ACK annotations, upstream ingress-nginx canary or Gateway API for a release
description:
  - Reads the ingress controller's version from its image tag the way ACK
    orders its tags (the ingress-ha version gate). An ACK build from 0.12.0-5
    up to, not including, 1.12 speaks ACK's C(service-match)/C(service-weight)
    (deprecated; a warning says so); ACK 1.12 and newer dropped them, so
    those and every other ingress-nginx get the upstream C(canary-*) dialect.
  - O(dialect) (the inventory's choice) wins, except C(ack) on a controller
    that does not have the annotations, and C(upstream) on an ACK controller
    older than 0.22.0 (no C(canary-*) there), which fail with the reason.
options:
  _input:
    description: The ingress controller's Deployment or DaemonSet as the API returns it; null when the cluster has none.
    type: raw
  dialect:
    description: The inventory's choice; empty or C(auto) to decide from the controller.
    type: str
"""

EXAMPLES = r"""
- name: Dialect of the cluster's controller, unless the inventory sets one
  ansible.builtin.set_fact:
    release_choice: "{{ controller | ackops.runbooks.release_dialect(dialect=release_dialect | default('')) }}"
  # controller image aliyun-ingress-controller:v1.2.1-aliyun.1 => dialect: ack (with a deprecation warning)
"""

RETURN = r"""
_value:
  description: The choice.
  type: dict
  contains:
    dialect: {description: "C(ack), C(upstream) or C(gateway).", type: str}
    reason: {description: Why., type: str}
    controller_image: {description: The controller's image, null without a controller., type: str}
    version: {description: The controller's version as ACK orders it, null when unknown., type: str}
    warnings: {description: Deprecations and unknown versions worth telling the operator., type: list, elements: str}
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.release.dialect import choose_dialect
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import documented_filter


@documented_filter(DOCUMENTATION)
def release_dialect(controller=None, dialect=None):
    return choose_dialect(controller, dialect)


class FilterModule:
    def filters(self):
        return {"release_dialect": release_dialect}
