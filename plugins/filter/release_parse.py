# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_parse filter: a release rule in any dialect, as the neutral traffic policy."""

from __future__ import annotations

DOCUMENTATION = r"""
name: release_parse
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Read a gray-release rule (ACK, ingress-nginx canary, Gateway API) as a neutral policy
description:
  - Parses and checks a release rule and returns the neutral policy
    C({stable, canary, matches, weight, weight_total}). Unmatched requests go
    to C(stable); matched requests (every match must hold), or all requests
    when there is no match, go to C(canary) in the share C(weight / weight_total)
    (C(weight) null means all of them).
  - Every malformed rule fails, naming the rule (annotation, HTTPRoute field),
    the position (character offset or item) and the reason.
  - Strict. An upstream canary or an HTTPRoute the policy cannot hold exactly
    (a header rule plus a weight, rules ORed) fails; use
    P(ackops.runbooks.release_translate#filter) to get the nearest policy and
    the losses.
options:
  _input:
    description:
      - The rule. For O(dialect=ack) C({annotations, services, stable}) (services
        are the Ingress's two backends for the host and path) or the Ingress
        itself; for O(dialect=upstream) C({annotations, stable, canary}) with the
        canary Ingress's annotations; for O(dialect=gateway) the HTTPRoute; for
        O(dialect=policy) a policy to check.
    type: raw
    required: true
  dialect:
    description: The dialect the rule is written in.
    type: str
    required: true
    choices: [ack, upstream, gateway, policy]
  stable:
    description: The old Service, where the rule cannot tell (ACK without a match, an HTTPRoute splitting all traffic).
    type: str
"""

EXAMPLES = r"""
- name: The policy of an Ingress using ACK's annotations
  ansible.builtin.debug:
    msg: "{{ ingress | ackops.runbooks.release_parse(dialect='ack') }}"
  vars:
    ingress:
      apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata:
        name: web
        annotations:
          nginx.ingress.kubernetes.io/service-match: 'new-nginx: header("foo", /^bar$/)'
          nginx.ingress.kubernetes.io/service-weight: 'new-nginx: 20, old-nginx: 60'
      spec:
        rules:
          - http:
              paths:
                - {path: /, pathType: Prefix, backend: {service: {name: old-nginx, port: {number: 80}}}}
                - {path: /, pathType: Prefix, backend: {service: {name: new-nginx, port: {number: 80}}}}
  # => {stable: old-nginx, canary: new-nginx, weight: 20, weight_total: 80,
  #     matches: [{type: header, name: foo, value: ^bar$, regex: true}]}
"""

RETURN = r"""
_value:
  description: The neutral policy.
  type: dict
  contains:
    stable: {description: Service that takes what is not sent to canary., type: str}
    canary: {description: Service of the new version., type: str}
    matches:
      description: Conditions that must all hold; empty for a plain weight.
      type: list
      elements: dict
      contains:
        type: {description: "C(header), C(cookie) or C(query).", type: str}
        name: {description: Header, cookie or query parameter name., type: str}
        value: {description: Exact value, or the regular expression., type: str}
        regex: {description: Whether O(value) is a regular expression., type: bool}
    weight: {description: Share of the selected requests to canary (null = all)., type: int}
    weight_total: {description: What O(weight) is a share of., type: int}
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.release.translate import to_policy
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import documented_filter


@documented_filter(DOCUMENTATION)
def release_parse(source, dialect, stable=None):
    return to_policy(source, dialect, None, stable=stable)


class FilterModule:
    def filters(self):
        return {"release_parse": release_parse}
