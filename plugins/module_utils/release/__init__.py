# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release logic: traffic-rule grammars, translation between dialects, replica arithmetic.

Pure Python (stdlib only), no Kubernetes access: the release runbook's modules
read and write objects; this package says what the rules mean.

The neutral policy
==================

Every dialect parses into, and renders from, one dict::

    {
      "stable": "old-nginx",          # Service taking what the rule does not send to canary
      "canary": "new-nginx",          # Service of the new version
      "matches": [                    # ALL must hold for a request to be "matched" (AND)
        {"type": "header" | "cookie" | "query", "name": str, "value": str, "regex": bool},
      ],
      "weight": int | None,           # share to canary of the matched requests
                                      # (of all requests when matches is empty);
                                      # None = all of them
      "weight_total": int,            # default 100; the share is weight / weight_total
    }

Unmatched requests always go to ``stable`` (ACK's semantics: match first, then
weight among the matched). ``weight: 20, weight_total: 80`` and ``weight: 25``
are the same rule (``policy.same_rules``). Regexes are PCRE-style as ACK and
ingress-nginx evaluate them, checked with Python's ``re``.

Modules and functions
=====================

``policy``
    ``ReleaseRuleError(rule, position, reason, text=None)`` (a ``RunbookError``
    through ``InputError``; ``.rule``, ``.position`` (character offset int or
    item path str), ``.reason``; ``error_type`` ``release_rule``);
    ``check_policy(policy) -> policy`` (validated, every key present);
    ``same_rules(a, b) -> bool``; ``canary_share(policy) -> Fraction``;
    ``MATCH_TYPES``, ``DIALECTS = ("ack", "upstream", "gateway")``.
``split``
    ``split_replicas(weight_percent, total=None, min_per_side=0,
    old_replicas=None, new_replicas=None) -> {old, new, achieved_weight,
    error}`` (``error`` = achieved - requested, percentage points). Raises
    ``InputError`` for impossible requests.
``ack``
    ``parse_ack(annotations, services, stable=None) -> policy`` (``services``:
    the two backends of the Ingress's host/path; ``stable`` needed only when no
    ``service-match`` names the canary); ``render_ack(policy, losses=None) ->
    {annotation: value}``; ``ack_deprecation(controller_version,
    removed_in="1.12.0") -> str | None``; ``SERVICE_MATCH``, ``SERVICE_WEIGHT``,
    ``ANNOTATIONS``.
``upstream``
    ingress-nginx canary annotations on a second Ingress:
    ``parse_upstream(annotations, stable, canary, losses=None) -> policy``;
    ``render_upstream(policy, losses=None) -> {annotation: value}`` (includes
    ``canary: "true"``); ``canary_ingress(policy, main_ingress, name=None,
    losses=None) -> Ingress``; ``ANNOTATIONS``.
``gateway``
    ``parse_httproute(route, losses=None) -> policy``;
    ``render_httproute(policy, name, namespace=None, parent_refs=None,
    hostnames=None, path="/", port=80, losses=None) -> HTTPRoute``
    (gateway.networking.k8s.io/v1).
``translate``
    ``translate(source, source_dialect, target_dialect, **options) -> (result,
    losses)``; dialects ``policy``, ``ack``, ``upstream``, ``gateway``. Source
    and result shapes: ``policy``: the policy; ``ack``: ``{"annotations",
    "services", "stable"}``; ``upstream``: ``{"annotations", "stable",
    "canary"}`` (the canary Ingress's annotations); ``gateway``: an HTTPRoute
    (``options`` are ``render_httproute``'s). ``losses`` is a list of sentences,
    each naming what the target cannot say and what it does instead; empty
    when the translation is exact. ``strict=True`` raises ``ReleaseRuleError``
    instead of losing anything.
``dialect``
    ``choose_dialect(controller, inventory_choice) -> {dialect, reason,
    controller_image, version, warnings}`` from the ingress controller's
    Deployment/DaemonSet (ingress-ha's version gate) or the inventory.

``losses`` parameters: ``None`` means refuse (raise ``ReleaseRuleError``)
whatever the target cannot express; a list means render the nearest rule and
append a sentence per loss.
"""
