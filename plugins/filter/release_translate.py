# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_translate filter: a release rule from one dialect into another, with what is lost."""

from __future__ import annotations

DOCUMENTATION = r"""
name: release_translate
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: Rewrite a gray-release rule between ACK, ingress-nginx canary, Gateway API and the neutral policy
description:
  - Parses the rule in O(source_dialect) and renders it in O(target_dialect),
    returning the result and the list of what the target cannot say.
  - "Known losses: ingress-nginx canary has no query-parameter rule and routes
    on a cookie only for the values C(always)/C(never); it sends every matched
    request to canary (its weight applies to the unmatched ones, where ACK and
    the policy weigh among the matched); ACK holds one match per service;
    Gateway API has no cookie match (a regex on the Cookie header stands in)
    and leaves the regular-expression flavour to the implementation."
  - A lossy result never sends a request to canary that the source would not;
    when a match cannot be said, the canary gets no traffic. O(strict=true)
    fails instead.
  - Result shapes are the source shapes of P(ackops.runbooks.release_parse#filter),
    so a result can be translated back.
options:
  _input:
    description: The rule, shaped as for P(ackops.runbooks.release_parse#filter).
    type: raw
    required: true
  source_dialect:
    description: Dialect of the input.
    type: str
    required: true
    choices: [ack, upstream, gateway, policy]
  target_dialect:
    description: Dialect of the result.
    type: str
    required: true
    choices: [ack, upstream, gateway, policy]
  strict:
    description: Fail on the first loss instead of listing it.
    type: bool
    default: false
  stable:
    description: The old Service, where the source cannot tell.
    type: str
  route:
    description:
      - For O(target_dialect=gateway), the HTTPRoute's C(name) (default the
        stable Service's), C(namespace), C(parent_refs), C(hostnames), C(path)
        (default C(/)) and C(port) (number, or a mapping Service to port;
        default 80).
    type: dict
"""

EXAMPLES = r"""
- name: ACK annotations to an upstream canary Ingress's annotations
  ansible.builtin.debug:
    msg: "{{ ack | ackops.runbooks.release_translate(source_dialect='ack', target_dialect='upstream') }}"
  vars:
    ack:
      services: [old-nginx, new-nginx]
      annotations:
        nginx.ingress.kubernetes.io/service-match: 'new-nginx: header("foo", "bar")'
  # => result: {stable: old-nginx, canary: new-nginx, annotations: {
  #      nginx.ingress.kubernetes.io/canary: "true",
  #      nginx.ingress.kubernetes.io/canary-by-header: foo,
  #      nginx.ingress.kubernetes.io/canary-by-header-value: bar}}
  #    losses: []

- name: A weight as an HTTPRoute behind the gateway "public"
  ansible.builtin.set_fact:
    route: >-
      {{ {'stable': 'old-nginx', 'canary': 'new-nginx', 'weight': 20}
         | ackops.runbooks.release_translate(source_dialect='policy', target_dialect='gateway',
                                             route={'name': 'web', 'namespace': 'shop',
                                                    'parent_refs': [{'name': 'public'}]}) }}
"""

RETURN = r"""
_value:
  description: The translation.
  type: dict
  contains:
    result:
      description:
        - The rule in O(target_dialect) C(ack) C({annotations, services, stable}),
          C(upstream) C({annotations, stable, canary}), C(gateway) an HTTPRoute,
          C(policy) the neutral policy.
      type: raw
    losses:
      description: One sentence per thing the target cannot say, and what was rendered instead; empty when exact.
      type: list
      elements: str
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.release.translate import translate
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import documented_filter


@documented_filter(DOCUMENTATION)
def release_translate(
    source, source_dialect, target_dialect, strict=False, stable=None, route=None
):
    result, losses = translate(
        source, source_dialect, target_dialect, strict=strict, stable=stable, route=route
    )
    return {"result": result, "losses": losses}


class FilterModule:
    def filters(self):
        return {"release_translate": release_translate}
