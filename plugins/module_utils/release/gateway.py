# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gateway API: the release as an HTTPRoute (gateway.networking.k8s.io/v1).

Rendered shape, for one path (``PathPrefix``)::

    rules:
    - matches: [{path, headers: [...], queryParams: [...]}]   # only with matches
      backendRefs: [stable (total - weight), canary (weight)]  # canary alone for "all matched"
    - matches: [{path}]                                        # everything else
      backendRefs: [stable]          # or [stable, canary] weighted when there is no match

Gateway API gives a rule with more header matches (then more query matches)
precedence over one with fewer for the same path, so the first rule takes the
matched requests and splits them by weight: the neutral policy's semantics,
exactly. What is lost:

- cookies: Gateway API has no cookie match. A cookie match becomes a
  ``RegularExpression`` match on the ``Cookie`` header,
  ``^(.*;\\s*)?NAME=VALUE(;.*)?$`` (right whether the implementation matches
  the whole value or searches in it). A cookie *regex* is embedded in that
  pattern, where its ``.`` and negated classes may run past the cookie's
  ``;``. Two cookie matches, or a cookie and a ``Cookie`` header match, cannot
  share the one ``Cookie`` header entry.
- regex flavours: ``RegularExpression`` is implementation-specific (Envoy-based
  gateways use RE2 and match the whole value; nginx searches with PCRE), so a
  regex from ACK or ingress-nginx may match differently or be refused
  (lookarounds, backreferences).
"""

from __future__ import annotations

import re

from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    DEFAULT_TOTAL,
    ReleaseRuleError,
    check_match,
    check_policy,
    check_service,
    describe_match,
    lose,
)

API_VERSION = "gateway.networking.k8s.io/v1"
API_VERSIONS = (API_VERSION, "gateway.networking.k8s.io/v1beta1")
# render_httproute records the stable backend here, so a route that splits all
# traffic can be read back without guessing which backend is the old one.
STABLE_ANNOTATION = "release.ackops.io/stable-service"
MAX_WEIGHT = 1_000_000  # backendRefs[].weight maximum in the CRD

_META = set("\\.^$|?*+()[]{}")
_COOKIE = re.compile(
    r"^\^\(\.\*;\\s\*\)\?(?P<name>[A-Za-z0-9!#$%&'*+\-.^_`|~]+)=(?P<value>.*)\(;\.\*\)\?\$$"
)
_COOKIE_REGEX = re.compile(r"^(?P<lead>\[\^;\]\*)?\(\?:(?P<inner>.*)\)(?P<trail>\[\^;\]\*)?$")


def _escape(text: str) -> str:
    return "".join("\\" + c if c in _META else c for c in text)


def _unescape(text: str) -> str | None:
    """The literal an ``_escape``d text stands for; None when it holds regex syntax."""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text) or text[index + 1] not in _META:
                return None
            out.append(text[index + 1])
            index += 2
            continue
        if char in _META:
            return None
        out.append(char)
        index += 1
    return "".join(out)


def _ends_with_anchor(pattern: str) -> bool:
    """Whether the pattern ends with an unescaped ``$``."""
    if not pattern.endswith("$"):
        return False
    backslashes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
    return backslashes % 2 == 0


def cookie_pattern(match: dict, losses: list | None) -> str:
    """The ``Cookie`` header regex that holds a cookie match."""
    name = _escape(match["name"])
    if not match["regex"]:
        value = _escape(match["value"])
    else:
        inner = match["value"]
        lead = "[^;]*"
        trail = "[^;]*"
        if inner.startswith("^"):
            inner, lead = inner[1:], ""
        if _ends_with_anchor(inner):
            inner, trail = inner[:-1], ""
        value = f"{lead}(?:{inner}){trail}"
        loss = (
            f"{describe_match(match)}: a cookie regex embedded in a Cookie header regex can match "
            "across the cookie's ';' (its '.' and negated classes are not confined to the value)"
        )
        if losses is not None:
            losses.append(loss)
    return f"^(.*;\\s*)?{name}={value}(;.*)?$"


def cookie_from_pattern(pattern: str) -> dict | None:
    """The cookie match a ``Cookie`` header regex written by ``cookie_pattern`` holds, else None."""
    found = _COOKIE.match(pattern)
    if not found:
        return None
    name = _unescape(found.group("name"))
    value = found.group("value")
    literal = _unescape(value)
    if name is None:
        return None
    if literal is not None:
        return {"type": "cookie", "name": name, "value": literal, "regex": False}
    embedded = _COOKIE_REGEX.match(value)
    if not embedded:
        return None
    inner = embedded.group("inner")
    if not embedded.group("lead"):
        inner = "^" + inner
    if not embedded.group("trail"):
        inner += "$"
    return {"type": "cookie", "name": name, "value": inner, "regex": True}


def _backend(service: str, port: int | dict, weight: int | None) -> dict:
    ref = {"name": service, "port": port[service] if isinstance(port, dict) else port}
    if weight is not None:
        ref["weight"] = weight
    return ref


def _route_matches(policy: dict, path: dict, losses: list | None) -> list[dict] | None:
    """The one HTTPRouteMatch for the policy's matches; None when it cannot be said."""
    headers, queries, problems = [], [], []
    for match in policy["matches"]:
        if match["regex"] and match["type"] != "cookie":
            note = (
                f"{describe_match(match)}: Gateway API leaves RegularExpression to the implementation "
                "(RE2 and whole-value matching on Envoy-based gateways, PCRE search on nginx)"
            )
            if losses is not None:
                losses.append(note)
        if match["type"] == "query":
            entry = {"type": "RegularExpression" if match["regex"] else "Exact"}
            entry.update(name=match["name"], value=match["value"])
            queries.append(entry)
            continue
        if match["type"] == "cookie":
            entry = {
                "type": "RegularExpression",
                "name": "Cookie",
                "value": cookie_pattern(match, losses),
            }
        else:
            entry = {"type": "RegularExpression" if match["regex"] else "Exact"}
            entry.update(name=match["name"], value=match["value"])
        if any(h["name"].lower() == entry["name"].lower() for h in headers):
            problems.append(
                f"{describe_match(match)}: a second match on the {entry['name']} header (an HTTPRoute "
                "match holds one entry per header name)"
            )
            continue
        headers.append(entry)
    for entry in headers + queries:
        limit = 4096 if entry in headers else 1024
        if len(entry["value"]) > limit:
            problems.append(
                f"the {entry['name']} match is longer than Gateway API's {limit} characters"
            )
    if len(headers) > 16 or len(queries) > 16:
        problems.append("more than 16 header or query matches")
    if problems:
        for problem in problems:
            lose(losses, "policy", None, problem + "; rendered with no traffic to canary")
        return None
    route_match = {"path": path}
    if headers:
        route_match["headers"] = headers
    if queries:
        route_match["queryParams"] = queries
    return [route_match]


def render_httproute(
    policy: dict,
    name: str,
    namespace: str | None = None,
    parent_refs: list | None = None,
    hostnames: list | None = None,
    path: str = "/",
    port: int | dict = 80,
    losses: list | None = None,
) -> dict:
    """The HTTPRoute for ``policy``.

    ``parent_refs`` (the Gateway(s)) and ``hostnames`` go in as given; ``port``
    is the Services' port, or ``{service: port}``. What Gateway API cannot say
    raises ``ReleaseRuleError``, or with a ``losses`` list renders no traffic to
    canary (and notes the regex caveats that do not stop the rendering).
    """
    policy = check_policy(policy)
    if not isinstance(path, str) or not path.startswith("/"):
        raise ReleaseRuleError("path", None, f"{path!r} must start with '/'")
    for service in (policy["stable"], policy["canary"]):
        if isinstance(port, dict) and service not in port:
            raise ReleaseRuleError("port", None, f"no port given for service {service!r}")
    total = policy["weight_total"]
    weight = total if policy["weight"] is None else policy["weight"]
    if total > MAX_WEIGHT:
        raise ReleaseRuleError(
            "policy", "weight_total", f"{total} is above Gateway API's {MAX_WEIGHT}"
        )
    prefix = {"type": "PathPrefix", "value": path}
    stable, canary = policy["stable"], policy["canary"]
    rules = []
    matched = _route_matches(policy, prefix, losses) if policy["matches"] else None
    if policy["matches"] and matched is not None:
        if policy["weight"] is None:
            backends = [_backend(canary, port, None)]
        else:
            backends = [_backend(stable, port, total - weight), _backend(canary, port, weight)]
        rules.append({"matches": matched, "backendRefs": backends})
        rules.append({"matches": [{"path": prefix}], "backendRefs": [_backend(stable, port, None)]})
    elif policy["matches"]:
        # Could not be said: everything to stable, canary kept as a backend with no traffic.
        rules.append(
            {
                "matches": [{"path": prefix}],
                "backendRefs": [_backend(stable, port, 1), _backend(canary, port, 0)],
            }
        )
    else:
        rules.append(
            {
                "matches": [{"path": prefix}],
                "backendRefs": [
                    _backend(stable, port, total - weight),
                    _backend(canary, port, weight),
                ],
            }
        )
    metadata = {"name": name, "annotations": {STABLE_ANNOTATION: stable}}
    if namespace:
        metadata["namespace"] = namespace
    spec = {}
    if parent_refs:
        spec["parentRefs"] = parent_refs
    if hostnames:
        spec["hostnames"] = hostnames
    spec["rules"] = rules
    return {"apiVersion": API_VERSION, "kind": "HTTPRoute", "metadata": metadata, "spec": spec}


def _service_refs(rule: dict, where: str) -> dict[str, int]:
    """``{service: weight}`` of a rule's backendRefs (weight defaults to 1)."""
    weights: dict[str, int] = {}
    refs = rule.get("backendRefs") or []
    if not isinstance(refs, list) or not refs:
        raise ReleaseRuleError("HTTPRoute", f"{where}.backendRefs", "no backendRefs")
    for index, ref in enumerate(refs):
        at = f"{where}.backendRefs[{index}]"
        if not isinstance(ref, dict):
            raise ReleaseRuleError("HTTPRoute", at, "a backendRef must be a mapping")
        if ref.get("group", "") not in ("", "core") or ref.get("kind", "Service") != "Service":
            raise ReleaseRuleError("HTTPRoute", at, "only Service backends take part in a release")
        service = check_service(ref.get("name"), "HTTPRoute", f"{at}.name")
        weight = ref.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise ReleaseRuleError(
                "HTTPRoute", f"{at}.weight", f"weight {weight!r} is not a non-negative integer"
            )
        if service in weights:
            raise ReleaseRuleError("HTTPRoute", at, f"service {service!r} twice in one rule")
        weights[service] = weight
    return weights


def _matches_of(route_match: dict, where: str) -> list[dict]:
    """The policy matches of one HTTPRouteMatch (a Cookie header regex read back as a cookie)."""
    found = []
    for field, kind in (("headers", "header"), ("queryParams", "query")):
        for index, entry in enumerate(route_match.get(field) or []):
            at = f"{where}.{field}[{index}]"
            match_type = entry.get("type", "Exact")
            if match_type not in ("Exact", "RegularExpression"):
                raise ReleaseRuleError("HTTPRoute", at, f"unknown {kind} match type {match_type!r}")
            match = {
                "type": kind,
                "name": entry.get("name"),
                "value": entry.get("value"),
                "regex": match_type == "RegularExpression",
            }
            if kind == "header" and match["regex"] and str(match["name"]).lower() == "cookie":
                match = cookie_from_pattern(str(match["value"])) or match
            found.append(check_match(match, "HTTPRoute", at))
    return found


def parse_httproute(route: dict, stable: str | None = None, losses: list | None = None) -> dict:
    """The neutral policy of a release's HTTPRoute.

    The route holds one path, a rule for everything on it (the default) and
    at most one rule with header/query matches. The stable service is
    ``stable``, else the one the default rule sends everything to, else the
    one ``render_httproute`` recorded. Malformed routes raise; shapes the policy
    cannot hold (several matches ORed, a default rule that sends traffic to
    canary beside a match rule) raise too, or with a ``losses`` list give the
    part that sends no request to canary the route would not.
    """
    if not isinstance(route, dict) or route.get("kind") != "HTTPRoute":
        raise ReleaseRuleError("HTTPRoute", None, "not an HTTPRoute")
    if route.get("apiVersion") not in API_VERSIONS:
        raise ReleaseRuleError(
            "HTTPRoute", "apiVersion", f"{route.get('apiVersion')!r} is not one of {API_VERSIONS}"
        )
    rules = (route.get("spec") or {}).get("rules")
    if not isinstance(rules, list) or not rules:
        raise ReleaseRuleError("HTTPRoute", "spec.rules", "no rules")
    paths = set()
    defaults, conditional = [], []
    for index, rule in enumerate(rules):
        where = f"spec.rules[{index}]"
        if not isinstance(rule, dict):
            raise ReleaseRuleError("HTTPRoute", where, "a rule must be a mapping")
        if rule.get("filters"):
            raise ReleaseRuleError(
                "HTTPRoute", f"{where}.filters", "filters are not part of a release rule"
            )
        route_matches = rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]
        found = []
        for number, route_match in enumerate(route_matches):
            at = f"{where}.matches[{number}]"
            if route_match.get("method"):
                raise ReleaseRuleError(
                    "HTTPRoute", f"{at}.method", "a method match is not part of a release rule"
                )
            path = route_match.get("path") or {"type": "PathPrefix", "value": "/"}
            paths.add((path.get("type", "PathPrefix"), path.get("value", "/")))
            if len(paths) > 1:
                raise ReleaseRuleError(
                    "HTTPRoute",
                    f"{at}.path",
                    f"a second path {sorted(paths)}: a release's rules share one path",
                )
            found.append(_matches_of(route_match, at))
        weights = _service_refs(rule, where)
        if any(found):
            conditional.append((index, found, weights))
        else:
            defaults.append((index, weights))
    if len(defaults) != 1:
        raise ReleaseRuleError(
            "HTTPRoute",
            "spec.rules",
            f"{len(defaults)} rules without header/query matches: a release has exactly one (for the unmatched)",
        )
    default_at, default_weights = defaults[0]
    services = list(
        dict.fromkeys([*default_weights, *(s for entry in conditional for s in entry[2])])
    )
    if len(services) != 2:
        raise ReleaseRuleError(
            "HTTPRoute", "spec.rules", f"a release has two backend services, found {services}"
        )

    recorded = ((route.get("metadata") or {}).get("annotations") or {}).get(STABLE_ANNOTATION)
    getting = [s for s, w in default_weights.items() if w > 0]
    if stable is None:
        if len(getting) == 1 and conditional:
            stable = getting[0]
        elif recorded in services:
            stable = recorded
        else:
            raise ReleaseRuleError(
                "HTTPRoute",
                f"spec.rules[{default_at}]",
                "cannot tell which backend is the stable (old) one: give stable",
            )
    if stable not in services:
        raise ReleaseRuleError(
            "stable", None, f"{stable!r} is not a backend of the HTTPRoute ({services})"
        )
    canary = next(s for s in services if s != stable)

    if not conditional:
        total = sum(default_weights.values())
        if total == 0:
            raise ReleaseRuleError(
                "HTTPRoute", f"spec.rules[{default_at}].backendRefs", "every weight is 0"
            )
        return check_policy(
            {
                "stable": stable,
                "canary": canary,
                "matches": [],
                "weight": default_weights.get(canary, 0),
                "weight_total": total,
            }
        )

    if default_weights.get(canary, 0) > 0:
        lose(
            losses,
            "HTTPRoute",
            f"spec.rules[{default_at}]",
            "the rule for unmatched requests sends some to canary; the policy sends unmatched requests "
            "to stable, so that share is dropped",
        )
    index, found, weights = conditional[0]
    if len(conditional) > 1 or len(found) > 1:
        lose(
            losses,
            "HTTPRoute",
            f"spec.rules[{index}]",
            "several match rules or matches (ORed); the policy holds one set of ANDed matches, so only "
            f"spec.rules[{index}].matches[0] is kept",
        )
    if not found[0]:
        raise ReleaseRuleError(
            "HTTPRoute",
            f"spec.rules[{index}].matches[0]",
            "the first match has no header/query condition but the rule has others",
        )
    canary_weight, stable_weight = weights.get(canary, 0), weights.get(stable, 0)
    if canary_weight + stable_weight == 0:
        raise ReleaseRuleError("HTTPRoute", f"spec.rules[{index}].backendRefs", "every weight is 0")
    return check_policy(
        {
            "stable": stable,
            "canary": canary,
            "matches": found[0],
            "weight": None if stable_weight == 0 else canary_weight,
            "weight_total": DEFAULT_TOTAL if stable_weight == 0 else canary_weight + stable_weight,
        }
    )
