# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Translate a release rule between ACK's annotations, upstream ingress-nginx canary and Gateway API.

Every translation goes through the neutral policy: parse the source, render
the target. Each side says what it cannot express; those sentences are the
``losses``. A lossy rendering never sends a request to the canary that the
source would not (when it cannot say a match, the canary gets no traffic).
"""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.release.ack import (
    ingress_services,
    parse_ack,
    render_ack,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.gateway import (
    parse_httproute,
    render_httproute,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    ReleaseRuleError,
    check_policy,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.upstream import (
    parse_upstream,
    render_upstream,
)

FORMS = ("policy", "ack", "upstream", "gateway")
ROUTE_OPTIONS = ("name", "namespace", "parent_refs", "hostnames", "path", "port")


def _mapping(source, dialect: str, keys: tuple) -> dict:
    if not isinstance(source, dict):
        raise ReleaseRuleError(
            dialect, None, f"the source must be a mapping with {', '.join(keys)}"
        )
    missing = [k for k in keys if k not in source]
    if missing:
        raise ReleaseRuleError(dialect, None, f"the source lacks {', '.join(missing)}")
    return source


def to_policy(source, dialect: str, losses: list | None = None, stable: str | None = None) -> dict:
    """The neutral policy of ``source`` written in ``dialect``.

    ``ack``: ``{annotations, services, stable?}`` or an Ingress manifest;
    ``upstream``: ``{annotations, stable, canary}`` (the canary Ingress's
    annotations); ``gateway``: an HTTPRoute; ``policy``: a policy.
    """
    if dialect == "policy":
        return check_policy(source)
    if dialect == "ack":
        if isinstance(source, dict) and source.get("kind") == "Ingress":
            annotations = (source.get("metadata") or {}).get("annotations") or {}
            return parse_ack(annotations, ingress_services(source), stable=stable)
        source = _mapping(source, "ack", ("annotations", "services"))
        return parse_ack(
            source["annotations"], source["services"], stable=stable or source.get("stable")
        )
    if dialect == "upstream":
        source = _mapping(source, "upstream", ("annotations", "stable", "canary"))
        return parse_upstream(source["annotations"], source["stable"], source["canary"], losses)
    if dialect == "gateway":
        return parse_httproute(source, stable=stable, losses=losses)
    raise ReleaseRuleError(
        "source_dialect", None, f"unknown dialect {dialect!r}: one of {', '.join(FORMS)}"
    )


def from_policy(policy: dict, dialect: str, losses: list | None = None, route: dict | None = None):
    """``policy`` written in ``dialect`` (the shapes ``to_policy`` reads back)."""
    policy = check_policy(policy)
    if dialect == "policy":
        return policy
    if dialect == "ack":
        return {
            "annotations": render_ack(policy, losses),
            "services": [policy["stable"], policy["canary"]],
            "stable": policy["stable"],
        }
    if dialect == "upstream":
        return {
            "annotations": render_upstream(policy, losses),
            "stable": policy["stable"],
            "canary": policy["canary"],
        }
    if dialect == "gateway":
        options = dict(route or {})
        unknown = set(options) - set(ROUTE_OPTIONS)
        if unknown:
            raise ReleaseRuleError(
                "route", None, f"unknown options {sorted(unknown)}: {', '.join(ROUTE_OPTIONS)}"
            )
        options.setdefault("name", policy["stable"])
        return render_httproute(policy, losses=losses, **options)
    raise ReleaseRuleError(
        "target_dialect", None, f"unknown dialect {dialect!r}: one of {', '.join(FORMS)}"
    )


def translate(
    source,
    source_dialect: str,
    target_dialect: str,
    strict: bool = False,
    stable: str | None = None,
    route: dict | None = None,
):
    """``(result, losses)``: ``source`` rewritten from one dialect into another.

    ``losses`` lists, in words, what the target cannot say and what was
    rendered instead; empty when the translation is exact. ``strict`` raises
    ``ReleaseRuleError`` on the first loss instead. ``stable`` names the old
    service where the source cannot tell (ACK without a match, an HTTPRoute
    splitting all traffic); ``route`` holds ``render_httproute``'s options
    (name, namespace, parent_refs, hostnames, path, port) for a Gateway API
    target.
    """
    for field, dialect in (("source_dialect", source_dialect), ("target_dialect", target_dialect)):
        if dialect not in FORMS:
            raise ReleaseRuleError(
                field, None, f"unknown dialect {dialect!r}: one of {', '.join(FORMS)}"
            )
    losses = None if strict else []
    policy = to_policy(source, source_dialect, losses, stable=stable)
    result = from_policy(policy, target_dialect, losses, route=route)
    return result, list(losses or [])
