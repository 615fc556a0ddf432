# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which dialect a cluster's ingress speaks: ACK annotations, upstream canary or Gateway API.

From the ingress controller's Deployment/DaemonSet, read with ingress-ha's
version gate (``ingress/ack_version.py``): an ACK build (``aliyun`` in the
image) from 0.12.0-5 (gray-release minimum, ``ingress/plan.py``) up to, not
including, 1.12 speaks ACK's ``service-match``/``service-weight``; from 1.12
ACK dropped them (``release/ack.py`` cites the source) and speaks only the
upstream ``canary-*`` annotations, as does every non-ACK ingress-nginx. The
inventory's choice wins, but ``ack`` on a controller without the annotations
is refused, and so is ``upstream`` on an ACK build older than 0.22.0: ACK's
table of canary-* annotations gives "applicable ACK Nginx Ingress Controller
version >= v0.22.0" for each of them (help.aliyun.com/document_detail/211732.htm).
"""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.ack_version import (
    version_gate,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.plan import (
    GRAY_RELEASE_MINIMUM,
    controller_container,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.ack import (
    ACK_ANNOTATIONS_REMOVED_IN,
    ack_deprecation,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import DIALECTS

# The first ACK controller with the canary-* annotations (see the module docstring).
ACK_CANARY_MINIMUM = "0.22.0"


def _controller_facts(controller: dict) -> dict:
    image = controller_container(controller).get("image", "")
    ack_build = "aliyun" in image
    gate = version_gate(image, GRAY_RELEASE_MINIMUM)
    removed = None
    if ack_build and gate["tag"]:
        removed = ack_deprecation(gate["tag"], ACK_ANNOTATIONS_REMOVED_IN)
    canary = version_gate(image, ACK_CANARY_MINIMUM)["supported"] if ack_build else None
    return {
        "image": image,
        "ack_build": ack_build,
        "gate": gate,
        "ack_problem": removed,
        "ack_canary": canary,
    }


def choose_dialect(controller: dict | None, inventory_choice: str | None = None) -> dict:
    """``{dialect, reason, controller_image, version, warnings}``.

    ``controller``: the ingress controller's Deployment or DaemonSet as the API
    returns it (None when the cluster has none). ``inventory_choice``: ``ack``,
    ``upstream`` or ``gateway`` (None/"" = decide from the controller).
    """
    if inventory_choice in ("", "auto"):
        inventory_choice = None
    if inventory_choice is not None and inventory_choice not in DIALECTS:
        raise InputError(
            "release_dialect", inventory_choice, f"must be one of {', '.join(DIALECTS)}"
        )
    warnings: list[str] = []
    facts = _controller_facts(controller) if controller else None
    result = {
        "dialect": None,
        "reason": "",
        "controller_image": facts["image"] if facts else None,
        "version": facts["gate"]["version"] if facts else None,
        "warnings": warnings,
    }
    if facts and facts["ack_build"] and facts["gate"]["supported"] is None:
        warnings.append(facts["gate"]["reason"])

    if inventory_choice:
        if inventory_choice == "ack" and facts is not None:
            if not facts["ack_build"]:
                raise InputError(
                    "release_dialect",
                    "ack",
                    f"needs ACK's ingress controller; {facts['image']} is not an ACK build (use upstream)",
                )
            if facts["ack_problem"] and facts["gate"]["supported"] is not None:
                raise InputError(
                    "release_dialect", "ack", f"cannot be used: {facts['ack_problem']}"
                )
        if inventory_choice == "upstream" and facts is not None and facts["ack_canary"] is False:
            raise InputError(
                "release_dialect",
                "upstream",
                f"needs ACK's controller {ACK_CANARY_MINIMUM} or newer for the canary-* annotations; "
                f"{facts['image']} is older (use ack)",
            )
        if inventory_choice == "ack":
            warnings.append(
                "ACK's service-match/service-weight are deprecated (removed in "
                f"{ACK_ANNOTATIONS_REMOVED_IN}); the canary-* annotations (upstream) are the supported way"
            )
        result.update(
            dialect=inventory_choice, reason=f"chosen in the inventory ({inventory_choice})"
        )
        return result

    if facts is None:
        raise InputError(
            "release_dialect",
            None,
            "no ingress controller found and no dialect in the inventory: set it (gateway for Gateway API)",
        )
    gate = facts["gate"]
    if facts["ack_build"] and gate["supported"] and not facts["ack_problem"]:
        warnings.append(
            "ACK's service-match/service-weight are deprecated (removed in "
            f"{ACK_ANNOTATIONS_REMOVED_IN}); set the dialect to upstream to use canary-* instead"
        )
        result.update(
            dialect="ack",
            reason=f"ACK controller {gate['reason']} and older than {ACK_ANNOTATIONS_REMOVED_IN}",
        )
        return result
    if facts["ack_build"] and gate["supported"] is False:
        raise InputError(
            "controller",
            facts["image"],
            f"is older than {GRAY_RELEASE_MINIMUM}: no gray-release annotations; upgrade the ingress controller",
        )
    if facts["ack_build"] and facts["ack_problem"] and gate["supported"]:
        reason = facts["ack_problem"]
    elif facts["ack_build"]:
        reason = f"ACK controller of unknown version ({gate['reason']}): canary-* works on every version that has them"
    else:
        reason = f"{facts['image']} is not an ACK build: upstream ingress-nginx canary annotations"
    result.update(dialect="upstream", reason=reason)
    return result
