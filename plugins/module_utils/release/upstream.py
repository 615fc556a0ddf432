# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upstream ingress-nginx canary annotations, on a second ("canary") Ingress.

The facts, from kubernetes/ingress-nginx (docs/user-guide/nginx-configuration/
annotations.md "Canary", internal/ingress/annotations/canary/main.go and
rootfs/etc/nginx/lua/balancer.lua ``route_to_alternative_balancer``):

- ``canary: "true"`` turns the Ingress into the alternative backend of the
  main Ingress with the same host and path; the other canary annotations on an
  Ingress without it are an error ("configured but not enabled").
- Precedence: header, then cookie, then weight; the first that decides wins.
- ``canary-by-header: H``: with ``canary-by-header-value: V`` a request whose
  header H equals V goes to canary, any other value falls through; with
  ``canary-by-header-pattern: P`` (PCRE, unanchored ``ngx.re.match``) a match
  goes to canary, a regex error sends it to the main backend, no match falls
  through; the pattern is ignored when a value is set. With neither, H =
  ``always`` goes to canary, ``never`` to the main backend, anything else falls
  through. Value and pattern do nothing without ``canary-by-header``.
- ``canary-by-cookie: C``: cookie C = ``always`` to canary, ``never`` to main,
  anything else falls through. There is no cookie value or pattern.
- ``canary-weight: W`` of ``canary-weight-total: T`` (default 100): a request
  nothing else decided goes to canary when ``random(T) <= W``. The controller
  only honours a total above 100 (``weightTotal > 100``), so a smaller total is
  silently 100. Invalid integers silently become 0 / 100.
- No query-parameter rule exists.

So, against the neutral policy (match first, then weight among the matched,
unmatched to stable): a header or a cookie rule sends every matched request to
canary (no weight among the matched), and a weight on top applies to the
*unmatched* requests. Where this module cannot say a rule exactly it either
raises ``ReleaseRuleError`` (``losses=None``) or, given a ``losses`` list,
renders a rule that never sends a request to canary the source would not
(often: no traffic to canary at all) and says so.
"""

from __future__ import annotations

import copy
import re
from math import ceil

from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    DEFAULT_TOTAL,
    TOKEN,
    ReleaseRuleError,
    check_policy,
    check_service,
    compile_regex,
    describe_match,
    lose,
)

PREFIX = "nginx.ingress.kubernetes.io/"
CANARY = PREFIX + "canary"
BY_HEADER = PREFIX + "canary-by-header"
BY_HEADER_VALUE = PREFIX + "canary-by-header-value"
BY_HEADER_PATTERN = PREFIX + "canary-by-header-pattern"
BY_COOKIE = PREFIX + "canary-by-cookie"
WEIGHT = PREFIX + "canary-weight"
WEIGHT_TOTAL = PREFIX + "canary-weight-total"
ANNOTATIONS = (
    CANARY,
    BY_HEADER,
    BY_HEADER_VALUE,
    BY_HEADER_PATTERN,
    BY_COOKIE,
    WEIGHT,
    WEIGHT_TOTAL,
)
# Go's strconv.ParseBool, which the controller uses for "canary".
TRUE = ("1", "t", "T", "TRUE", "true", "True")
FALSE = ("0", "f", "F", "FALSE", "false", "False")


def _integer(annotations: dict, key: str) -> int | None:
    raw = annotations.get(key)
    if raw is None:
        return None
    text = str(raw).strip() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if text is None or not re.fullmatch(r"[0-9]+", text):
        raise ReleaseRuleError(key, 0, f"{raw!r} is not a non-negative integer", text=str(raw))
    return int(text)


def _string(annotations: dict, key: str) -> str | None:
    raw = annotations.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ReleaseRuleError(key, None, f"must be a string, not {type(raw).__name__}")
    if not raw.strip():
        raise ReleaseRuleError(key, 0, "is empty", text=raw)
    return raw


def parse_upstream(annotations: dict, stable: str, canary: str, losses: list | None = None) -> dict:
    """The neutral policy of a canary Ingress's annotations.

    ``stable`` is the main Ingress's Service for the host and path, ``canary``
    the canary Ingress's. Malformed annotations raise ``ReleaseRuleError``.
    Rules the neutral policy cannot hold (header or cookie *and* a weight; a
    header *or* a cookie) raise too, or with a ``losses`` list give the part
    of the rule that sends no request to canary the controller would not.
    """
    annotations = {k: v for k, v in (annotations or {}).items() if k in ANNOTATIONS}
    stable = check_service(stable, "stable", None)
    canary = check_service(canary, "canary", None)
    enabled = annotations.get(CANARY)
    if enabled is not None and str(enabled) not in TRUE + FALSE:
        raise ReleaseRuleError(
            CANARY, 0, f'{enabled!r} is not a boolean ("true")', text=str(enabled)
        )
    others = [k for k in annotations if k != CANARY]
    if enabled is None or str(enabled) in FALSE:
        reason = 'is not "true": this is not a canary Ingress'
        if others:
            reason += f" and {', '.join(sorted(others))} are configured but not enabled"
        raise ReleaseRuleError(CANARY, None, reason)

    total = _integer(annotations, WEIGHT_TOTAL)
    if total is not None and total < DEFAULT_TOTAL:
        raise ReleaseRuleError(
            WEIGHT_TOTAL,
            0,
            f"{total} is below 100: ingress-nginx honours only totals above 100 and would use 100",
            text=str(total),
        )
    total = total or DEFAULT_TOTAL
    weight = _integer(annotations, WEIGHT) or 0
    if weight > total:
        raise ReleaseRuleError(WEIGHT, 0, f"{weight} is above the total {total}", text=str(weight))

    header = _string(annotations, BY_HEADER)
    value = _string(annotations, BY_HEADER_VALUE)
    pattern = _string(annotations, BY_HEADER_PATTERN)
    cookie = _string(annotations, BY_COOKIE)
    if header is None and (value is not None or pattern is not None):
        key = BY_HEADER_VALUE if value is not None else BY_HEADER_PATTERN
        raise ReleaseRuleError(key, None, f"has no effect without {BY_HEADER}")
    if value is not None and pattern is not None:
        raise ReleaseRuleError(
            BY_HEADER_PATTERN,
            None,
            f"is ignored by ingress-nginx when {BY_HEADER_VALUE} is set: keep one",
        )
    for key, name in ((BY_HEADER, header), (BY_COOKIE, cookie)):
        if name is not None and not TOKEN.match(name):
            raise ReleaseRuleError(key, 0, f"{name!r} has characters a name cannot hold", text=name)
    if pattern is not None:
        compile_regex(pattern, BY_HEADER_PATTERN, 0)

    matches = []
    if header is not None:
        if pattern is not None:
            matches.append({"type": "header", "name": header, "value": pattern, "regex": True})
        else:
            matches.append(
                {"type": "header", "name": header, "value": value or "always", "regex": False}
            )
    if cookie is not None:
        cookie_match = {"type": "cookie", "name": cookie, "value": "always", "regex": False}
        if matches:
            lose(
                losses,
                BY_COOKIE,
                None,
                f"ingress-nginx sends a request to canary when the header rule OR the cookie rule "
                f"says so; the policy ANDs its matches, so only {describe_match(matches[0])} is kept and "
                f"{describe_match(cookie_match)} is dropped",
            )
        else:
            matches.append(cookie_match)
    if matches and weight:
        lose(
            losses,
            WEIGHT,
            None,
            f"ingress-nginx sends {weight}/{total} of the requests no header/cookie rule decided to "
            "canary; the policy sends unmatched requests to stable, so that weight is dropped",
        )
    return check_policy(
        {
            "stable": stable,
            "canary": canary,
            "matches": matches,
            "weight": None if matches else weight,
            "weight_total": total,
        }
    )


def _weights(weight: int, total: int) -> tuple[int, int]:
    """The same share with a total ingress-nginx honours (100, or above 100)."""
    if total == DEFAULT_TOTAL:
        return weight, total
    if (weight * DEFAULT_TOTAL) % total == 0:
        return weight * DEFAULT_TOTAL // total, DEFAULT_TOTAL
    # A total that divides 100 was handled above; any other multiple of it above 100 will do.
    factor = max(1, ceil(DEFAULT_TOTAL / total))
    return weight * factor, total * factor


def render_upstream(policy: dict, losses: list | None = None) -> dict:
    """The canary Ingress's annotations for ``policy`` (always with ``canary: "true"``).

    Exact for: a weight without a match; one header match (exact or regex) or
    a cookie match on the value ``always``, with every matched request to
    canary. Anything else raises, or with a ``losses`` list sends no traffic to
    canary and says why.
    """
    policy = check_policy(policy)
    annotations = {CANARY: "true"}
    matches = policy["matches"]
    if not matches:
        weight = policy["weight_total"] if policy["weight"] is None else policy["weight"]
        weight, total = _weights(weight, policy["weight_total"])
        annotations[WEIGHT] = str(weight)
        if total != DEFAULT_TOTAL:
            annotations[WEIGHT_TOTAL] = str(total)
        return annotations

    problems = []
    if len(matches) > 1:
        problems.append(
            "ingress-nginx takes one header and one cookie rule and ORs them; the policy's "
            f"{len(matches)} matches ({', '.join(describe_match(m) for m in matches)}) must all hold"
        )
    match = matches[0]
    if match["type"] == "query":
        problems.append(
            f"{describe_match(match)}: ingress-nginx has no query-parameter canary rule"
        )
    elif match["type"] == "cookie" and (match["regex"] or match["value"] != "always"):
        problems.append(
            f'{describe_match(match)}: canary-by-cookie only routes on the value "always" '
            '(and "never"), not on a chosen value or a pattern'
        )
    if policy["weight"] is not None and policy["weight"] != policy["weight_total"]:
        problems.append(
            f"{policy['weight']}/{policy['weight_total']} of the matched requests: ingress-nginx sends "
            "every matched request to canary (its weight applies to the unmatched ones)"
        )
    if problems:
        for problem in problems:
            lose(losses, "policy", None, problem + "; rendered with no traffic to canary")
        annotations[WEIGHT] = "0"
        return annotations
    if match["type"] == "header":
        annotations[BY_HEADER] = match["name"]
        annotations[BY_HEADER_PATTERN if match["regex"] else BY_HEADER_VALUE] = match["value"]
    else:
        annotations[BY_COOKIE] = match["name"]
    return annotations


def canary_ingress(
    policy: dict,
    main_ingress: dict,
    name: str | None = None,
    port: int | str | None = None,
    losses: list | None = None,
) -> dict:
    """The canary Ingress for ``main_ingress``: its hosts and paths that go to stable, to canary.

    Named ``<main>-canary`` unless ``name`` is given; ``port`` (number or name)
    replaces the backend port, else the main Ingress's is kept. Only the
    release's annotations are set (ingress-nginx takes everything else from
    the main Ingress).
    """
    policy = check_policy(policy)
    meta = main_ingress.get("metadata") or {}
    spec = main_ingress.get("spec") or {}
    rules = []
    for rule in spec.get("rules") or []:
        paths = []
        for path in (rule.get("http") or {}).get("paths") or []:
            service = ((path.get("backend") or {}).get("service")) or {}
            if service.get("name") != policy["stable"]:
                continue
            new = copy.deepcopy(path)
            new["backend"]["service"]["name"] = policy["canary"]
            if port is not None:
                key = "number" if isinstance(port, int) else "name"
                new["backend"]["service"]["port"] = {key: port}
            paths.append(new)
        if paths:
            entry = {"http": {"paths": paths}}
            if rule.get("host"):
                entry["host"] = rule["host"]
            rules.append(entry)
    if not rules:
        raise ReleaseRuleError(
            "main Ingress",
            None,
            f"Ingress {meta.get('namespace', '')}/{meta.get('name', '')} routes no path to {policy['stable']!r}",
        )
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name or f"{meta.get('name', policy['stable'])}-canary",
            "annotations": render_upstream(policy, losses),
        },
        "spec": {"rules": rules},
    }
    if meta.get("namespace"):
        body["metadata"]["namespace"] = meta["namespace"]
    if spec.get("ingressClassName"):
        body["spec"]["ingressClassName"] = spec["ingressClassName"]
    return body
