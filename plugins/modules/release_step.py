#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.release_step: one step of a canary, gray or blue/green release."""

from __future__ import annotations

DOCUMENTATION = r"""
module: release_step
author: ack-runbooks contributors (@ackops)
version_added: "1.0.0"
short_description: One step of a layer-4 canary or an ingress gray / blue-green release
description:
  - Implements section 5 of the ACK best-practice guide one step at a time, through the Kubernetes API.
  - "V(deploy): the new version alongside the old: a Deployment derived from the old one (its spec, with
    the new image(s) and the labels of O(new.labels)); in O(mode=ingress) also a Service for it, derived
    from the old Service. In O(mode=l4) the new Deployment starts with 0 replicas, since the shared
    Service sends traffic to every Ready pod."
  - "V(shift): traffic to the new version by O(weight) (percent) and/or O(matches) (header, cookie,
    query). O(mode=l4) moves weight by replica counts (the release logic's C(split_replicas)), scales,
    waits and verifies that the Service's EndpointSlices split as computed. O(mode=ingress) writes the
    rule in the dialect of the controller: ACK C(service-match)/C(service-weight) annotations on the
    existing Ingress (V(ack)), a second canary Ingress (V(upstream) ingress-nginx), or the HTTPRoute's
    weighted backendRefs and matches (V(gateway))."
  - "V(promote): all traffic to the new version. V(retire): after a promote, the old backend and the
    canary annotations or objects are removed and the old Deployment (and its Service) deleted.
    V(rollback): from any step before retire, the old version gets its replicas and all traffic back and
    the new objects are deleted. V(status): reads the state, changes nothing."
  - "Gates before shift and promote: the new version's pods Ready, every PodDisruptionBudget selecting them
    healthy, then the HTTP or metric checks of O(gates). A failed gate stops before traffic moves."
  - "The release's state lives on the cluster: labels and annotations C(release.ackops.io/*) on the new
    Deployment (the step completed, the weight, the old Deployment and its replica count). Every step
    reads it again, so a step can be re-run after a failure (an API server restart) and two operators
    see the same state. Every step is idempotent."
extends_documentation_fragment:
  - ackops.runbooks.attributes
  - ackops.runbooks.k8s_auth
attributes:
  check_mode:
    support: full
    details: Every write is a server-side dry run (C(dryRun=All)); nothing is waited for; HTTP gates are not run.
  diff_mode:
    support: full
    details: Before/after of every object created, changed, scaled or deleted, without server-maintained fields.
options:
  step:
    description: The step to run.
    type: str
    required: true
    choices: [deploy, shift, promote, retire, rollback, status]
  release:
    description: Name of the release, put on its objects as label C(release.ackops.io/name).
    type: str
    required: true
  namespace:
    description: Namespace of the application.
    type: str
    required: true
  mode:
    description: V(l4) splits traffic by replica counts behind one Service; V(ingress) by the ingress rules.
    type: str
    choices: [l4, ingress]
    default: ingress
  old:
    description: The version running now.
    type: dict
    required: true
    suboptions:
      deployment:
        description: Its Deployment.
        type: str
        required: true
      service:
        description: Its Service (V(ingress)), or the Service old and new share (V(l4)).
        type: str
        required: true
  new:
    description: The version being released.
    type: dict
    required: true
    suboptions:
      deployment:
        description: Name of its Deployment.
        type: str
        required: true
      service:
        description: Name of its Service (O(mode=ingress)).
        type: str
      image:
        description: Its image, for a Deployment with one container.
        type: str
      images:
        description: Image per container name, for a Deployment with several.
        type: dict
        default: {}
      labels:
        description:
          - Labels that tell its pods from the old ones (e.g. C(version=v2)); at least one key of the old
            Deployment's selector must get a different value.
        type: dict
        required: true
      replicas:
        description: Its replicas in O(mode=ingress); the old Deployment's by default.
        type: int
  dialect:
    description:
      - How O(mode=ingress) expresses the rule. V(auto) asks the release logic's C(choose_dialect) with the
        controller found at O(controller).
    type: str
    choices: [auto, ack, upstream, gateway]
    default: auto
  ingress:
    description: The Ingress that routes to the old Service (V(ack), V(upstream)).
    type: str
  canary_ingress:
    description: Name of the canary Ingress of V(upstream); O(ingress) with C(-canary) by default.
    type: str
  route:
    description: The HTTPRoute that routes to the old Service (V(gateway)).
    type: str
  controller:
    description: The ingress controller whose image tag gives its version (V(auto) dialect, ACK deprecation).
    type: dict
    default: {}
    suboptions:
      namespace:
        description: Its namespace.
        type: str
        default: kube-system
      name:
        description: Its Deployment or DaemonSet.
        type: str
        default: nginx-ingress-controller
  weight:
    description: Percentage of traffic (of the matched traffic, with O(matches)) for the new version.
    type: int
  matches:
    description: Requests that go to the new version (V(shift), O(mode=ingress)).
    type: list
    elements: dict
    default: []
    suboptions:
      type:
        description: What is matched.
        type: str
        required: true
        choices: [header, cookie, query]
      name:
        description: Header, cookie or query parameter name.
        type: str
        required: true
      value:
        description: Exact value, or a regular expression with O(matches[].regex).
        type: str
        required: true
      regex:
        description: O(matches[].value) is a regular expression.
        type: bool
        default: false
  accept_losses:
    description:
      - When the dialect cannot express the rule (cookie or query matches in upstream ingress-nginx, a weight among
        matched requests), render the nearest rule the release logic offers and report each loss in RV(notices).
        Off, such a rule is refused, naming what would be lost, and nothing changes.
    type: bool
    default: false
  total_replicas:
    description: O(mode=l4) replicas of old and new together; the old Deployment's at deploy time by default.
    type: int
  min_per_side:
    description: O(mode=l4) replicas each side keeps while both take traffic.
    type: int
    default: 0
  max_weight_error:
    description: O(mode=l4) refuse a shift whose achievable weight is further than this (points) from O(weight).
    type: float
    default: 100
  gates:
    description: HTTP or metric checks that must pass before shift and promote.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name in messages.
        type: str
      url:
        description: URL fetched (http or https).
        type: str
        required: true
      status:
        description: Expected HTTP status.
        type: int
        default: 200
      headers:
        description: Request headers.
        type: dict
        default: {}
      body_regex:
        description: A regular expression the body must match.
        type: str
      value_regex:
        description: For a metric, where the number is in the body (group 1); the whole body otherwise.
        type: str
      min:
        description: The metric must be at least this.
        type: float
      max:
        description: The metric must be at most this.
        type: float
      timeout:
        description: Seconds per request.
        type: float
        default: 5
      retries:
        description: Attempts before the gate fails.
        type: int
        default: 3
      interval:
        description: Seconds between attempts.
        type: float
        default: 2
  wait:
    description: Wait for rollouts and the EndpointSlices (never in check mode).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each rollout and for the EndpointSlices.
    type: int
    default: 180
notes:
  - Server-side apply as field manager C(ackops-release) for the objects the release owns; a
    resourceVersion-guarded JSON patch for the Ingress or HTTPRoute it edits; the scale subresource for replicas.
seealso:
  - name: ACK gray release with Ingress
    description: The procedure this module automates.
    link: https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-an-ingress-to-implement-canary-releases
"""

EXAMPLES = r"""
- name: Deploy v2 next to v1 (its own Service)
  ackops.runbooks.release_step:
    step: deploy
    release: shop-web
    namespace: shop
    old: {deployment: web-v1, service: web-v1}
    new: {deployment: web-v2, service: web-v2, image: "registry.example.com/web:2.0", labels: {version: v2}}
    ingress: web

- name: Send 20 % of the requests with header canary=always to v2 (ACK annotations)
  ackops.runbooks.release_step:
    step: shift
    release: shop-web
    namespace: shop
    dialect: ack
    old: {deployment: web-v1, service: web-v1}
    new: {deployment: web-v2, service: web-v2, image: "registry.example.com/web:2.0", labels: {version: v2}}
    ingress: web
    weight: 20
    matches: [{type: header, name: canary, value: always}]
    gates: [{url: "http://web-v2.shop.example.com/healthz"}]

- name: Layer-4 canary, 25 % of 4 replicas
  ackops.runbooks.release_step:
    step: shift
    mode: l4
    release: api
    namespace: shop
    old: {deployment: api-v1, service: api}
    new: {deployment: api-v2, image: "registry.example.com/api:2.0", labels: {version: v2}}
    weight: 25
"""

RETURN = r"""
step:
  description: The step run.
  returned: success
  type: str
changes:
  description: What changed (or would change in check mode), one line each.
  returned: success
  type: list
  elements: str
  sample: ["create Deployment shop/web-v2", "update Ingress shop/web"]
gates:
  description: The gates passed, one line each.
  returned: success
  type: list
  elements: str
split:
  description: O(mode=l4) replicas computed for the weight, with the weight achieved and its error.
  returned: success
  type: dict
  sample: {old: 3, new: 1, achieved_weight: 25.0, error: 0.0}
endpoints:
  description: O(mode=l4) ready endpoints of the Service's EndpointSlices per version.
  returned: success
  type: dict
  sample: {old: 3, new: 1, other: 0, new_percent: 25.0}
state:
  description: The release as the cluster holds it after the step (the same for every operator).
  returned: success
  type: dict
  sample: {release: shop-web, namespace: shop, mode: ingress, dialect: ack, step: shift, weight: 20,
           old: {name: web-v1, replicas: 2, ready: 2, images: ["web:1.0"]},
           new: {name: web-v2, replicas: 2, ready: 2, images: ["web:2.0"]}}
notices:
  description: Things the operator should know (a deprecated dialect, a translation loss).
  returned: success
  type: list
  elements: str
markdown:
  description: The report as Markdown.
  returned: success
  type: str
check_mode:
  description: Whether this was a check-mode run.
  returned: success
  type: bool
error:
  description: What failed and where, the same keys in every module of the collection.
  returned: failure
  type: dict
  sample: {type: gate, host: null, object: "http://web-v2/healthz", field: "gates[0]",
           cause: "gate 'http://web-v2/healthz' before shift: answered 503, expected 200; ...", details: {}}
partial_changes:
  description: What was changed before the failure, in order.
  returned: failure
  type: list
  elements: dict
"""

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.module import run_k8s_module
from ansible_collections.ackops.runbooks.plugins.module_utils.release_steps.steps import (
    Release,
    markdown,
)

FIELD_MANAGER = "ackops-release"

OPTIONS = {
    "step": {
        "type": "str",
        "required": True,
        "choices": ["deploy", "shift", "promote", "retire", "rollback", "status"],
    },
    "release": {"type": "str", "required": True},
    "namespace": {"type": "str", "required": True},
    "mode": {"type": "str", "choices": ["l4", "ingress"], "default": "ingress"},
    "old": {
        "type": "dict",
        "required": True,
        "options": {
            "deployment": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
        },
    },
    "new": {
        "type": "dict",
        "required": True,
        "options": {
            "deployment": {"type": "str", "required": True},
            "service": {"type": "str"},
            "image": {"type": "str"},
            "images": {"type": "dict", "default": {}},
            "labels": {"type": "dict", "required": True},
            "replicas": {"type": "int"},
        },
    },
    "dialect": {
        "type": "str",
        "choices": ["auto", "ack", "upstream", "gateway"],
        "default": "auto",
    },
    "ingress": {"type": "str"},
    "canary_ingress": {"type": "str"},
    "route": {"type": "str"},
    "controller": {
        "type": "dict",
        "default": {},
        "options": {
            "namespace": {"type": "str", "default": "kube-system"},
            "name": {"type": "str", "default": "nginx-ingress-controller"},
        },
    },
    "weight": {"type": "int"},
    "matches": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "type": {"type": "str", "required": True, "choices": ["header", "cookie", "query"]},
            "name": {"type": "str", "required": True},
            "value": {"type": "str", "required": True},
            "regex": {"type": "bool", "default": False},
        },
    },
    "accept_losses": {"type": "bool", "default": False},
    "total_replicas": {"type": "int"},
    "min_per_side": {"type": "int", "default": 0},
    "max_weight_error": {"type": "float", "default": 100},
    "gates": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str"},
            "url": {"type": "str", "required": True},
            "status": {"type": "int", "default": 200},
            "headers": {"type": "dict", "default": {}},
            "body_regex": {"type": "str"},
            "value_regex": {"type": "str"},
            "min": {"type": "float"},
            "max": {"type": "float"},
            "timeout": {"type": "float", "default": 5},
            "retries": {"type": "int", "default": 3},
            "interval": {"type": "float", "default": 2},
        },
    },
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 180},
}


def check_inputs(params: dict) -> None:
    """Refusals that need no API: before anything is read or written."""
    new = params["new"]
    if params["mode"] == "ingress" and not new.get("service"):
        raise InputError("new.service", None, "is required with mode ingress")
    if params["mode"] == "ingress" and new.get("service") == params["old"]["service"]:
        raise InputError("new.service", new["service"], "must differ from old.service")
    if new["deployment"] == params["old"]["deployment"]:
        raise InputError("new.deployment", new["deployment"], "must differ from old.deployment")
    if params["total_replicas"] is not None and params["total_replicas"] < 1:
        raise InputError("total_replicas", params["total_replicas"], "must be at least 1")
    if params["min_per_side"] < 0:
        raise InputError("min_per_side", params["min_per_side"], "must not be negative")
    for key, value in (new.get("labels") or {}).items():
        if not isinstance(value, str):
            raise InputError(f"new.labels.{key}", value, "label values are strings: quote it")


def run_step(module, connect, changes) -> dict:
    params = module.params
    check_inputs(params)
    split = None
    if params["mode"] == "l4" and params["step"] in ("shift", "promote"):
        from ansible_collections.ackops.runbooks.plugins.module_utils.release.split import (  # noqa: PLC0415
            split_replicas,
        )

        split = split_replicas
    release = Release(connect(), params, module.check_mode, changes, split_replicas=split)
    result = release.run(params["step"])
    result["markdown"] = markdown(result)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    for warning in result["notices"]:
        module.warn(warning)
    return result


def main():
    run_k8s_module(OPTIONS, run_step, FIELD_MANAGER)


if __name__ == "__main__":
    main()
