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


def logic():
    """The release logic package (rules, dialects), imported when a step needs it."""
    from ansible_collections.ackops.runbooks.plugins.module_utils import release

    return release


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
    controller = None
    if p["dialect"] in ("auto", "ack"):
        controller = read_controller(release)
    chosen = logic().choose_dialect(controller, None if p["dialect"] == "auto" else p["dialect"])
    if isinstance(chosen, dict):
        for note in chosen.get("warnings") or []:
            release.warnings.append(note)
        chosen = chosen["dialect"]
    if chosen == "ack" and controller and controller.get("version"):
        note = logic().ack_deprecation(controller["version"])
        if note:
            release.warnings.append(note if isinstance(note, str) else str(note))
    release._dialect = chosen
    return chosen


def read_controller(release) -> dict | None:
    """The ingress controller's image and version tag, when it can be found."""
    ctl = release.p.get("controller") or {}
    ns, name = ctl.get("namespace") or "kube-system", ctl.get("name") or "nginx-ingress-controller"
    for kind in ("Deployment", "DaemonSet"):
        obj = release.client.get("apps/v1", kind, name, ns)
        if obj is None:
            continue
        containers = obj["spec"]["template"]["spec"].get("containers") or []
        image = containers[0].get("image", "") if containers else ""
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        return {"kind": kind, "namespace": ns, "name": name, "image": image, "version": tag}
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
        paths = []
        for path in http.get("paths") or []:
            name = backend_service(path)
            if name == canary:
                continue  # rebuilt next to its stable path below
            if name != stable:
                paths.append(path)
            elif keep == "both":
                paths += [path, with_backend(path, canary)]
            elif keep == "new":
                paths.append(with_backend(path, canary))
            else:
                paths.append(path)
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


def shift(release, pol: dict) -> None:
    chosen = dialect(release)
    if chosen == "ack":
        ingress = require(release, INGRESS, "ingress")
        check_serves(ingress, pol["stable"], "old.service")
        rendered = logic().render_ack(pol)
        desired = rewrite_paths(ingress, pol["stable"], pol["canary"], "both")
        desired = set_annotations(desired, {key: rendered.get(key) for key in ACK_KEYS})
        release.patch(ingress, desired)
    elif chosen == "upstream":
        ingress = require(release, INGRESS, "ingress")
        check_serves(ingress, pol["stable"], "old.service")
        release.apply(canary_ingress(release, ingress, pol))
    else:
        route = require(release, ROUTE, "route")
        desired = copy.deepcopy(route)
        desired["spec"]["rules"] = logic().gateway_rules(route, pol)
        release.patch(route, desired)
    _loss_warnings(release, pol, chosen)


def _loss_warnings(release, pol: dict, chosen: str) -> None:
    losses = logic().losses_for(pol, chosen) if hasattr(logic(), "losses_for") else []
    for loss in losses:
        release.warnings.append(f"{chosen}: {loss}")


def canary_ingress(release, ingress: dict, pol: dict) -> dict:
    spec = copy.deepcopy(ingress.get("spec") or {})
    spec.pop("defaultBackend", None)
    rules = []
    for rule in spec.get("rules") or []:
        paths = [
            with_backend(p, pol["canary"])
            for p in (rule.get("http") or {}).get("paths") or []
            if backend_service(p) == pol["stable"]
        ]
        if paths:
            rules.append({**rule, "http": {"paths": paths}})
    spec["rules"] = rules
    hosts = {r.get("host") for r in rules}
    spec["tls"] = [t for t in spec.get("tls") or [] if hosts & set(t.get("hosts") or [])]
    if not spec["tls"]:
        spec.pop("tls")
    annotations = logic().render_upstream(pol)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": canary_name(release),
            "namespace": release.ns,
            "labels": {rel.LABEL_RELEASE: release.p["release"], rel.LABEL_ROLE: "canary"},
            "annotations": annotations,
        },
        "spec": spec,
    }


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
        desired = copy.deepcopy(route)
        desired["spec"]["rules"] = only_backend(route, stable, canary, keep=canary)
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
        desired = copy.deepcopy(route)
        desired["spec"]["rules"] = only_backend(route, stable, canary, keep=stable)
        release.patch(route, desired)


def _delete_canary(release) -> None:
    if not release.p.get("ingress"):
        return
    found = release.client.get(*INGRESS, canary_name(release), release.ns)
    release.delete(INGRESS, found)


def only_backend(route: dict, stable: str, canary: str, keep: str) -> list[dict]:
    """The route's rules with one of the two Services left where both were, match-only rules gone."""
    rules = []
    for rule in copy.deepcopy((route.get("spec") or {}).get("rules") or []):
        refs = rule.get("backendRefs") or []
        names = {r.get("name") for r in refs}
        if names == {canary} and keep != canary and _has_release_matches(rule):
            continue  # a rule only the canary's matches created
        if names == {stable} and keep != stable and _has_release_matches(rule):
            continue
        if names & {stable, canary}:
            kept = [r for r in refs if r.get("name") not in (stable, canary)]
            template = next(r for r in refs if r.get("name") in (stable, canary))
            ref = {k: v for k, v in template.items() if k != "weight"}
            ref["name"] = keep
            rule["backendRefs"] = [ref, *kept]
        rules.append(rule)
    return _dedupe(rules)


def _has_release_matches(rule: dict) -> bool:
    return any(m.get("headers") or m.get("queryParams") for m in rule.get("matches") or [])


def _dedupe(rules: list[dict]) -> list[dict]:
    out = []
    for rule in rules:
        if rule not in out:
            out.append(rule)
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
