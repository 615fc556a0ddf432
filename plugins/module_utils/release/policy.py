# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The neutral traffic policy every dialect parses into and renders from, and its error.

See the package docstring for the policy's shape and meaning.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError

MATCH_TYPES = ("header", "cookie", "query")
DIALECTS = ("ack", "upstream", "gateway")

# RFC 9110 token characters: what a header or cookie name may be made of.
TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
# A Service name (RFC 1035 label, at most 63 characters).
SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
DEFAULT_TOTAL = 100


class ReleaseRuleError(InputError):
    """A traffic rule that cannot be used: which rule, where in it, and why.

    ``rule`` names the rule (an annotation key, ``HTTPRoute spec.rules[1]``,
    ``policy.matches``); ``position`` is a character offset in the rule's text
    (an int, 0-based) or an item path (``matches[2]``); ``reason`` says what is
    wrong. All three are in the message and in ``details``.
    """

    error_type = "release_rule"

    def __init__(
        self, rule: str, position: int | str | None, reason: str, *, text: str | None = None
    ):
        self.rule = rule
        self.position = position
        self.reason = reason
        self.value = text
        if isinstance(position, int):
            cause = f"at character {position}: {reason}"
        elif position:
            cause = f"at {position}: {reason}"
        else:
            cause = reason
        details = {"rule": rule, "position": position, "reason": reason}
        if text is not None:
            details["text"] = text
        # InputError's own __init__ formats "<value> <reason>"; ours names the rule first.
        super(InputError, self).__init__(cause, field=rule, details=details)


def compile_regex(pattern: str, rule: str, position: int | str | None) -> None:
    """Refuse a regular expression that does not compile.

    ACK and ingress-nginx evaluate PCRE (nginx's ``ngx.re``); Python's ``re`` is
    the nearest check available here. It refuses what is broken in both (an
    unbalanced group, a dangling quantifier); it also refuses the few PCRE-only
    constructs (possessive quantifiers on old Pythons, ``\\K``), which is the
    safe side.
    """
    if not pattern:
        raise ReleaseRuleError(rule, position, "empty regular expression")
    try:
        re.compile(pattern)
    except re.error as exc:
        offset = f" (at {exc.pos} in the pattern)" if exc.pos is not None else ""
        raise ReleaseRuleError(
            rule, position, f"bad regular expression {pattern!r}: {exc.msg}{offset}"
        ) from None


def check_match(match: Any, rule: str, position: int | str) -> dict:
    """One match entry, checked and normalised to ``{type, name, value, regex}``."""
    if not isinstance(match, dict):
        raise ReleaseRuleError(
            rule, position, f"a match must be a mapping, not {type(match).__name__}"
        )
    unknown = set(match) - {"type", "name", "value", "regex"}
    if unknown:
        raise ReleaseRuleError(rule, position, f"unknown keys {sorted(unknown)}")
    kind = match.get("type")
    if kind not in MATCH_TYPES:
        raise ReleaseRuleError(
            rule, position, f"unknown match type {kind!r}: one of {', '.join(MATCH_TYPES)}"
        )
    name = match.get("name")
    if not isinstance(name, str) or not name:
        raise ReleaseRuleError(rule, position, f"empty {kind} name")
    if kind in ("header", "cookie") and not TOKEN.match(name):
        raise ReleaseRuleError(
            rule, position, f"{kind} name {name!r} has characters a {kind} name cannot hold"
        )
    if kind == "query" and any(c.isspace() or ord(c) < 32 for c in name):
        raise ReleaseRuleError(rule, position, f"query parameter name {name!r} holds white space")
    regex = match.get("regex", False)
    if not isinstance(regex, bool):
        raise ReleaseRuleError(rule, position, f"regex must be true or false, not {regex!r}")
    value = match.get("value")
    if regex and value == "":
        raise ReleaseRuleError(rule, position, "empty regular expression")
    if not isinstance(value, str) or not value:
        raise ReleaseRuleError(rule, position, f"empty value for {kind} {name!r}")
    if any(ord(c) < 32 and c != "\t" for c in value):
        raise ReleaseRuleError(
            rule, position, f"value for {kind} {name!r} holds a control character"
        )
    if regex:
        compile_regex(value, rule, position)
    return {"type": kind, "name": name, "value": value, "regex": regex}


def check_weight(value: Any, rule: str, position: int | str | None) -> int:
    """A weight: a whole number, zero or more (a bool, a float, a numeric string refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReleaseRuleError(rule, position, f"weight {value!r} is not an integer")
    if value < 0:
        raise ReleaseRuleError(rule, position, f"weight {value} is negative")
    return value


def check_service(name: Any, rule: str, position: int | str | None) -> str:
    if not isinstance(name, str) or not name:
        raise ReleaseRuleError(rule, position, "empty service name")
    if not SERVICE_NAME.match(name):
        raise ReleaseRuleError(
            rule,
            position,
            f"{name!r} is not a Service name (lower-case RFC 1035 label, at most 63)",
        )
    return name


def check_policy(policy: Any, rule: str = "policy") -> dict:
    """Check a neutral policy and return a normalised copy (every key present).

    Refused: a missing or malformed service name, stable and canary the same,
    a malformed match, the same match twice, a weight that is not an integer,
    a total that is not positive, a weight above the total.
    """
    if not isinstance(policy, dict):
        raise ReleaseRuleError(
            rule, None, f"a policy must be a mapping, not {type(policy).__name__}"
        )
    unknown = set(policy) - {"stable", "canary", "matches", "weight", "weight_total"}
    if unknown:
        raise ReleaseRuleError(rule, None, f"unknown keys {sorted(unknown)}")
    stable = check_service(policy.get("stable"), rule, "stable")
    canary = check_service(policy.get("canary"), rule, "canary")
    if stable == canary:
        raise ReleaseRuleError(rule, "canary", f"stable and canary are the same service {stable!r}")
    raw_matches = policy.get("matches") or []
    if not isinstance(raw_matches, list):
        raise ReleaseRuleError(rule, "matches", "matches must be a list")
    matches = []
    for index, match in enumerate(raw_matches):
        checked = check_match(match, rule, f"matches[{index}]")
        if any(same_match(checked, seen) for seen in matches):
            raise ReleaseRuleError(
                rule, f"matches[{index}]", f"the same {checked['type']} match twice"
            )
        matches.append(checked)
    total = policy.get("weight_total", DEFAULT_TOTAL)
    if total is None:
        total = DEFAULT_TOTAL
    total = check_weight(total, rule, "weight_total")
    if total == 0:
        raise ReleaseRuleError(rule, "weight_total", "weight_total must be greater than zero")
    weight = policy.get("weight")
    if weight is not None:
        weight = check_weight(weight, rule, "weight")
        if weight > total:
            raise ReleaseRuleError(rule, "weight", f"weight {weight} is above weight_total {total}")
    return {
        "stable": stable,
        "canary": canary,
        "matches": matches,
        "weight": weight,
        "weight_total": total,
    }


def lose(losses: list | None, rule: str, position: int | str | None, reason: str) -> None:
    """Refuse (``losses`` None) or record (a list) what a dialect cannot express."""
    if losses is None:
        raise ReleaseRuleError(rule, position, reason)
    losses.append(reason)


def same_match(a: dict, b: dict) -> bool:
    """Two matches select the same requests (header names compare case-insensitively)."""
    name_a, name_b = a["name"], b["name"]
    if a["type"] == "header":
        name_a, name_b = name_a.lower(), name_b.lower()
    return (a["type"], name_a, a["value"], a["regex"]) == (
        b["type"],
        name_b,
        b["value"],
        b["regex"],
    )


def canary_share(policy: dict) -> Fraction:
    """The share of selected requests (matched ones, or all without a match) sent to canary.

    ``weight: None`` means all of them.
    """
    if policy["weight"] is None:
        return Fraction(1)
    return Fraction(policy["weight"], policy["weight_total"])


def same_rules(a: dict, b: dict) -> bool:
    """Whether two policies route every request the same way.

    Same services, the same set of matches, the same canary share (20/80 and
    25/100 are the same rule).
    """
    a, b = check_policy(a), check_policy(b)
    if (a["stable"], a["canary"]) != (b["stable"], b["canary"]):
        return False
    if len(a["matches"]) != len(b["matches"]):
        return False
    if not all(any(same_match(m, n) for n in b["matches"]) for m in a["matches"]):
        return False
    return canary_share(a) == canary_share(b)


def describe_match(match: dict) -> str:
    """``header("x-canary", /^on$/)``, the way the ACK grammar writes it (for messages)."""
    value = f"/{match['value']}/" if match["regex"] else f'"{match["value"]}"'
    return f'{match["type"]}("{match["name"]}", {value})'


def share_text(policy: dict) -> str:
    share = canary_share(policy)
    return f"{float(share * 100):g}%"
