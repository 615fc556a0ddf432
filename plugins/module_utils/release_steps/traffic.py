# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ingress traffic of a release on the cluster, in the three dialects.

The rules themselves (annotation text, canary annotations, HTTPRoute matches
and weights) are parsed and rendered by the release logic
(``module_utils/release``); this file reads the Ingress or HTTPRoute, puts the
rendered rule on it and takes it off again:

``ack``
    the existing Ingress gets, next to every path served by the old Service,
    the same path served by the new one, and the ``service-match`` /
    ``service-weight`` annotations; retire keeps only the new paths, rollback
    only the old ones, both drop the annotations.
``upstream``
    a second Ingress (``<ingress>-canary``) with the old Service's hosts and
    paths pointing at the new Service and the ``canary-*`` annotations;
    retire points the main Ingress at the new Service and deletes the canary,
    rollback deletes the canary.
``gateway``
    the HTTPRoute's rules that send to the old Service get weighted
    backendRefs (and, for matches, a rule of their own before them that sends
    to the new Service); retire keeps only the new Service, rollback only the
    old one, and the match-only rules go.
"""

from __future__ import annotations

import copy
import json

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.diff import describe
from ansible_collections.ackops.runbooks.plugins.module_utils.release_steps import (
    objects as rel,
)

INGRESS = ("networking.k8s.io/v1", "Ingress")
ROUTE = ("gateway.networking.k8s.io/v1", "HTTPRoute")
ACK_MATCH = "nginx.ingress.kubernetes.io/service-match"
ACK_WEIGHT = "nginx.ingress.kubernetes.io/service-weight"
ACK_KEYS = (ACK_MATCH, ACK_WEIGHT)
ANN_BASE_RULES = rel.PREFIX + "base-rules"


def logic():
    """The release logic (rules, dialects), imported when an ingress step needs it."""
    from ansible_collections.ackops.runbooks.plugins.module_utils.release import (
        ack,
        dialect,
        gateway,
        policy,
        upstream,
    )

    class Logic:
        check_policy = staticmethod(policy.check_policy)
        render_ack = staticmethod(ack.render_ack)
        ack_deprecation = staticmethod(ack.ack_deprecation)
        canary_ingress = staticmethod(upstream.canary_ingress)
        render_httproute = staticmethod(gateway.render_httproute)
        choose_dialect = staticmethod(dialect.choose_dialect)
        stable_annotation = gateway.STABLE_ANNOTATION

    return Logic


def policy(params: dict, weight: int | None, matches: list[dict]) -> dict:
    checked = logic().check_policy(
        {
            "stable": params["old"]["service"],
            "canary": params["new"]["service"],
            "matches": [dict(m) for m in matches],
            "weight": weight,
            "weight_total": 100,
        },
        "matches/weight",
    )
    return checked


def dialect(release) -> str:
    """The dialect of this run: the inventory's, or chosen from the controller and its version."""
    if getattr(release, "_dialect", None):
        return release._dialect
    p = release.p
    recorded = rel.annotations(release.new).get(rel.ANN_DIALECT)
    if recorded and p["dialect"] in ("auto", recorded):
        release._dialect = recorded  # the release's own: retire and rollback undo what shift did
        return recorded
    if recorded:
        raise InputError(
            "dialect",
            p["dialect"],
            f"differs from {recorded!r}, in which this release's traffic rule was written "
            f"({describe(release.new)}): roll back first to change dialect",
        )
    controller = read_controller(release) if p["dialect"] in ("auto", "ack") else None
    choice = logic().choose_dialect(controller, None if p["dialect"] == "auto" else p["dialect"])
    release.warnings += list(choice.get("warnings") or [])
    release.dialect_reason = choice.get("reason")
    release._dialect = choice["dialect"]
    return release._dialect


def read_controller(release) -> dict | None:
    """The ingress controller's Deployment or DaemonSet, when it can be found."""
    ctl = release.p.get("controller") or {}
    ns, name = ctl.get("namespace") or "kube-system", ctl.get("name") or "nginx-ingress-controller"
    for kind in ("Deployment", "DaemonSet"):
        obj = release.client.get("apps/v1", kind, name, ns)
        if obj is not None:
            return obj
    return None


# ---- reading the objects


def require(release, kind: tuple[str, str], option: str) -> dict:
    name = release.p.get(option)
    if not name:
        raise InputError(option, None, f"is required for the {dialect(release)} dialect")
    obj = release.client.get(kind[0], kind[1], name, release.ns)
    if obj is None:
        raise InputError(option, name, f"no {kind[1]} {release.ns}/{name}")
    return obj


def canary_name(release) -> str:
    return release.p.get("canary_ingress") or f"{release.p['ingress']}-canary"


def backend_service(path: dict) -> str | None:
    return ((path.get("backend") or {}).get("service") or {}).get("name")


def paths_of(ingress: dict):
    for rule in (ingress.get("spec") or {}).get("rules") or []:
        yield rule, ((rule.get("http") or {}).get("paths") or [])


def check_serves(ingress: dict, service: str, option: str) -> None:
    if not any(backend_service(p) == service for _r, paths in paths_of(ingress) for p in paths):
        raise InputError(
            option,
            service,
            f"is not a backend of {describe(ingress)}: the gray release moves traffic between "
            "services of the same host and path",
        )


def with_backend(path: dict, service: str) -> dict:
    copied = copy.deepcopy(path)
    copied["backend"]["service"]["name"] = service
    return copied


def rewrite_paths(ingress: dict, stable: str, canary: str, keep: str) -> dict:
    """The Ingress with, for every stable path: both (``both``), only new (``new``) or only old."""
    out = copy.deepcopy(ingress)
    for rule in (out.get("spec") or {}).get("rules") or []:
        http = rule.get("http")
        if not http:
            continue
        paths: list[dict] = []
        for path in http.get("paths") or []:
            name = backend_service(path)
            if name == canary and keep != "new":
                continue  # "both" rebuilds it next to its stable path; "old" drops it
            if name != stable:
                candidates = [path]
            elif keep == "both":
                candidates = [path, with_backend(path, canary)]
            elif keep == "new":
                candidates = [with_backend(path, canary)]
            else:
                candidates = [path]
            paths += [c for c in candidates if c not in paths]
        http["paths"] = paths
    return out


def set_annotations(obj: dict, values: dict) -> dict:
    out = copy.deepcopy(obj)
    ann = rel.annotations(out)
    for key, value in values.items():
        if value is None:
            ann.pop(key, None)
        else:
            ann[key] = value
    out["metadata"]["annotations"] = ann
    return out


# ---- the steps


def lossy(release) -> list | None:
    """Where the release logic notes what a dialect cannot say, or None to refuse such a rule.

    By default a rule the dialect cannot express is refused (naming what is
    lost) and nothing changes; ``accept_losses`` renders the nearest rule and
    reports each loss.
    """
    return [] if release.p.get("accept_losses") else None


def shift(release, pol: dict) -> None:
    chosen = dialect(release)
    if chosen == "ack":
        ingress = require(release, INGRESS, "ingress")
        check_serves(ingress, pol["stable"], "old.service")
        losses = lossy(release)
        rendered = logic().render_ack(pol, losses)
        release.warnings += [f"ack: {loss}" for loss in losses or []]
        desired = rewrite_paths(ingress, pol["stable"], pol["canary"], "both")
        desired = set_annotations(desired, {key: rendered.get(key) for key in ACK_KEYS})
        release.patch(ingress, desired)
    elif chosen == "upstream":
        ingress = require(release, INGRESS, "ingress")
        check_serves(ingress, pol["stable"], "old.service")
        losses = lossy(release)
        body = logic().canary_ingress(pol, ingress, name=canary_name(release), losses=losses)
        release.warnings += [f"upstream: {loss}" for loss in losses or []]
        body["metadata"]["labels"] = {
            rel.LABEL_RELEASE: release.p["release"],
            rel.LABEL_ROLE: "canary",
        }
        release.apply(body)
    else:
        route = require(release, ROUTE, "route")
        base = base_rules(route)
        rules, extra, losses = gateway_rules(release, route, base, pol)
        release.warnings += [f"gateway: {loss}" for loss in losses or []]
        desired = set_annotations(
            route, {ANN_BASE_RULES: json.dumps(base, sort_keys=True), **extra}
        )
        desired["spec"]["rules"] = rules
        release.patch(route, desired)


def base_rules(route: dict) -> list[dict]:
    """The route's rules before the release touched them (kept on the route by the first shift)."""
    recorded = rel.annotations(route).get(ANN_BASE_RULES)
    if recorded:
        return json.loads(recorded)
    return copy.deepcopy((route.get("spec") or {}).get("rules") or [])


def gateway_rules(release, route: dict, base: list[dict], pol: dict) -> tuple[list, dict, list]:
    """``base`` with every rule that sends to the stable Service replaced by the rendered policy.

    Also the annotations the rendering puts on the route, and what it lost.
    """
    rules: list[dict] = []
    extra: dict = {}
    losses = lossy(release)
    meta = route["metadata"]
    served = False
    for rule in base:
        refs = rule.get("backendRefs") or []
        stable_ref = next((r for r in refs if r.get("name") == pol["stable"]), None)
        if stable_ref is None:
            rules.append(rule)
            continue
        served = True
        matches = rule.get("matches") or [{}]
        path = ((matches[0].get("path") or {}).get("value")) or "/"
        rendered = logic().render_httproute(
            pol,
            meta["name"],
            namespace=meta.get("namespace"),
            parent_refs=route["spec"].get("parentRefs"),
            hostnames=route["spec"].get("hostnames"),
            path=path,
            port=stable_ref.get("port", 80),
            losses=losses,
        )
        rules += rendered["spec"]["rules"]
        extra.update(rel.annotations(rendered))
    if not served:
        raise InputError(
            "old.service",
            pol["stable"],
            f"is not a backendRef of {describe(route)}: nothing to shift",
        )
    return rules, extra, losses


def retire(release) -> None:
    stable, canary = release.p["old"]["service"], release.p["new"]["service"]
    chosen = dialect(release)
    if chosen in ("ack", "upstream"):
        ingress = require(release, INGRESS, "ingress")
        desired = rewrite_paths(ingress, stable, canary, "new")
        desired = set_annotations(desired, dict.fromkeys(ACK_KEYS))
        release.patch(ingress, desired)
        _delete_canary(release)
    else:
        route = require(release, ROUTE, "route")
        desired = set_annotations(route, {ANN_BASE_RULES: None, logic().stable_annotation: None})
        desired["spec"]["rules"] = swap_backend(base_rules(route), stable, canary)
        release.patch(route, desired)


def rollback(release) -> None:
    stable, canary = release.p["old"]["service"], release.p["new"]["service"]
    chosen = dialect(release)
    if chosen in ("ack", "upstream"):
        ingress = require(release, INGRESS, "ingress")
        desired = rewrite_paths(ingress, stable, canary, "old")
        desired = set_annotations(desired, dict.fromkeys(ACK_KEYS))
        release.patch(ingress, desired)
        _delete_canary(release)
    else:
        route = require(release, ROUTE, "route")
        desired = set_annotations(route, {ANN_BASE_RULES: None, logic().stable_annotation: None})
        desired["spec"]["rules"] = base_rules(route)
        release.patch(route, desired)


def _delete_canary(release) -> None:
    if not release.p.get("ingress"):
        return
    found = release.client.get(*INGRESS, canary_name(release), release.ns)
    release.delete(INGRESS, found)


def swap_backend(rules: list[dict], stable: str, canary: str) -> list[dict]:
    """``rules`` with every backendRef to the stable Service sent to the canary instead."""
    out = copy.deepcopy(rules)
    for rule in out:
        for ref in rule.get("backendRefs") or []:
            if ref.get("name") == stable:
                ref["name"] = canary
    return out


def describe_traffic(release) -> dict | None:
    """What the Ingress / HTTPRoute says now (for status and the report)."""
    p = release.p
    try:
        chosen = rel.annotations(release.new).get(rel.ANN_DIALECT) or (
            p["dialect"] if p["dialect"] != "auto" else None
        )
    except (KeyError, TypeError):
        chosen = None
    out: dict = {"dialect": chosen}
    if p.get("ingress"):
        ingress = release.client.get(*INGRESS, p["ingress"], release.ns)
        if ingress is not None:
            ann = rel.annotations(ingress)
            out["ingress"] = {
                "name": p["ingress"],
                "backends": sorted(
                    {backend_service(x) for _r, paths in paths_of(ingress) for x in paths} - {None}
                ),
                "annotations": {k: ann[k] for k in ACK_KEYS if k in ann},
            }
        canary = release.client.get(*INGRESS, canary_name(release), release.ns)
        if canary is not None:
            ann = rel.annotations(canary)
            out["canary_ingress"] = {
                "name": canary_name(release),
                "annotations": {k: v for k, v in ann.items() if "/canary" in k},
            }
    if p.get("route"):
        route = release.client.get(*ROUTE, p["route"], release.ns)
        if route is not None:
            out["route"] = {
                "name": p["route"],
                "backends": [
                    [(r.get("name"), r.get("weight")) for r in rule.get("backendRefs") or []]
                    for rule in route["spec"].get("rules") or []
                ],
            }
    return out
