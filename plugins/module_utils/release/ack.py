# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACK's gray-release annotations: ``service-match`` and ``service-weight``.

One Ingress lists the old and the new Service as backends of the same host
and path; two annotations steer between them::

    nginx.ingress.kubernetes.io/service-match: |
      new-nginx: header("foo", /^bar$/)
    nginx.ingress.kubernetes.io/service-weight: |
      new-nginx: 20, old-nginx: 60

Grammar (one ``service-match`` line per service; blank lines ignored)::

    line   := service ":" type "(" string "," (string | regex) ")"
    type   := "header" | "cookie" | "query"
    string := '"' { char | '\\"' | '\\\\' } '"'        exact value
    regex  := "/" { char | "\\/" } "/"                  regular expression
    weight := service ":" integer { ("," | newline) service ":" integer }

Semantics (ACK-GUIDE section 5): the match is evaluated first; requests that
do not match go to the old service; matched requests go to the matching
service, split by the weights when ``service-weight`` is set. Weights are
relative; a service of the same host and path that ``service-weight`` does
not list weighs 100.

ACK stops serving these annotations: "service-* annotations are not
available in Nginx Ingress Controller v1.12 and later; do not use them"
(Alibaba Cloud, "Implement phased releases and blue-green deployments using
Nginx Ingress", https://help.aliyun.com/document_detail/200941.html; in
English on www.alibabacloud.com/help/en/container-service-for-kubernetes/latest/
as nginx-ingress-management-use-ingresses-to-implement-canary-releases-and-blue-green-releases;
read 2026-12). The same page calls them deprecated, no longer maintained, in
every version, and points to the ``canary-*`` annotations (``upstream.py``).
They need at least 0.12.0-5 (ACK-GUIDE section 3; ingress-ha's gate).
"""

from __future__ import annotations

import re

from ansible_collections.ackops.runbooks.plugins.module_utils.ingress.ack_version import (
    VersionError,
    parse_tag,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.release.policy import (
    MATCH_TYPES,
    ReleaseRuleError,
    check_match,
    check_policy,
    check_service,
    describe_match,
)

PREFIX = "nginx.ingress.kubernetes.io/"
SERVICE_MATCH = PREFIX + "service-match"
SERVICE_WEIGHT = PREFIX + "service-weight"
ANNOTATIONS = (SERVICE_MATCH, SERVICE_WEIGHT)
# ACK's weight for a service service-weight does not list.
DEFAULT_SERVICE_WEIGHT = 100
# The first ACK controller version without service-match / service-weight (see the module docstring).
ACK_ANNOTATIONS_REMOVED_IN = "1.12.0"
# The first version with them (ACK-GUIDE section 3).
ACK_ANNOTATIONS_MINIMUM = "0.12.0-5"


class _Scanner:
    """A cursor over one annotation value; every error names the annotation and the offset."""

    def __init__(self, rule: str, text: str, pos: int, end: int):
        self.rule, self.text, self.pos, self.end = rule, text, pos, end

    def fail(self, reason: str, pos: int | None = None):
        raise ReleaseRuleError(self.rule, self.pos if pos is None else pos, reason, text=self.text)

    def spaces(self) -> None:
        while self.pos < self.end and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < self.end else ""

    def expect(self, char: str, what: str) -> None:
        self.spaces()
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end of the line"
            self.fail(f"expected {char!r} {what}, found {found}")
        self.pos += 1

    def word(self, what: str) -> tuple[str, int]:
        """A service name or a match type: letters, digits, '-', '.', '_'."""
        self.spaces()
        start = self.pos
        while self.pos < self.end and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "-._"
        ):
            self.pos += 1
        if self.pos == start:
            found = repr(self.peek()) if self.peek() else "the end of the line"
            self.fail(f"expected {what}, found {found}")
        return self.text[start : self.pos], start

    def known(self, service: str, at: int, services: list[str]) -> None:
        """Refuse a service that is not one of the Ingress's backends for the host and path."""
        if service not in services:
            self.fail(
                f"service {service!r} is not a backend of this Ingress's host and path "
                f"({', '.join(services) or 'none'})",
                at,
            )

    def delimited(self, close: str, what: str, unescape) -> tuple[str, int]:
        """Text from the opening delimiter at the cursor up to ``close``; ``unescape(c)`` reads ``\\c``."""
        start = self.pos
        self.pos += 1
        out = []
        while self.pos < self.end:
            char = self.text[self.pos]
            if char == "\\":
                following = self.text[self.pos + 1] if self.pos + 1 < self.end else ""
                out.append(unescape(following))
                self.pos += 2
                continue
            if char == close:
                self.pos += 1
                return "".join(out), start
            out.append(char)
            self.pos += 1
        kind = "quote" if close == '"' else "slash"
        self.fail(f"unbalanced {kind}: {what} opened at character {start} is never closed", start)

    def quoted(self, what: str) -> tuple[str, int]:
        """A double-quoted string; ``\\"`` and ``\\\\`` are its only escapes."""
        self.spaces()
        if self.peek() != '"':
            found = repr(self.peek()) if self.peek() else "the end of the line"
            self.fail(f"expected {what} in double quotes, found {found}")

        def unescape(following: str) -> str:
            if following not in ('"', "\\"):
                self.fail(f'unknown escape \\{following} in {what} (only \\" and \\\\)')
            return following

        return self.delimited('"', what, unescape)

    def regex(self) -> tuple[str, int]:
        """``/.../``; ``\\/`` stands for a slash inside, every other escape is the regex's own."""
        return self.delimited("/", "regular expression", lambda c: "/" if c == "/" else "\\" + c)


def _lines(text: str):
    """(start, end) of every non-blank line."""
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if line.strip():
            yield start, end
        start = end + 1


def parse_service_match(text: str, services: list[str]) -> dict[str, tuple[dict, int]]:
    """``{service: (match, offset of its line)}`` from a ``service-match`` value."""
    if not isinstance(text, str):
        raise ReleaseRuleError(SERVICE_MATCH, None, f"must be a string, not {type(text).__name__}")
    found: dict[str, tuple[dict, int]] = {}
    for start, end in _lines(text):
        scan = _Scanner(SERVICE_MATCH, text, start, end)
        service, service_at = scan.word("a service name")
        scan.expect(":", "after the service name")
        kind, kind_at = scan.word("a match type (header, cookie or query)")
        if kind not in MATCH_TYPES:
            scan.fail(f"unknown match type {kind!r}: one of {', '.join(MATCH_TYPES)}", kind_at)
        scan.expect("(", f"after {kind}")
        name, name_at = scan.quoted(f"the {kind} name")
        scan.expect(",", f"after the {kind} name")
        scan.spaces()
        value_at = scan.pos
        if scan.peek() == "/":
            value = scan.regex()[0]
            regex = True
        elif scan.peek() == '"':
            value = scan.quoted(f"the {kind} value")[0]
            regex = False
        else:
            found_char = repr(scan.peek()) if scan.peek() else "the end of the line"
            scan.fail(f'expected a value, "exact" or /regex/, found {found_char}')
        scan.expect(")", f"to close {kind}(")
        scan.spaces()
        if scan.pos < end:
            scan.fail(
                f"unexpected {text[scan.pos : end]!r} after the match (one match per service)"
            )
        if not name:
            scan.fail(f"empty {kind} name", name_at)
        scan.known(service, service_at, services)
        if service in found:
            scan.fail(
                f"a second match for service {service!r} (ACK takes one per service)", service_at
            )
        try:
            match = check_match(
                {"type": kind, "name": name, "value": value, "regex": regex},
                SERVICE_MATCH,
                value_at,
            )
        except ReleaseRuleError as exc:
            # Same reason, at the offset of the part it is about.
            at = name_at if "name" in exc.reason else value_at
            raise ReleaseRuleError(SERVICE_MATCH, at, exc.reason, text=text) from None
        found[service] = (match, start)
    return found


def parse_service_weight(text: str, services: list[str]) -> dict[str, int]:
    """``{service: weight}`` from a ``service-weight`` value (listed services only)."""
    if not isinstance(text, str):
        raise ReleaseRuleError(SERVICE_WEIGHT, None, f"must be a string, not {type(text).__name__}")
    weights: dict[str, int] = {}
    pieces = list(re.finditer(r"[^,\n]*", text))
    for piece in pieces:
        start, end = piece.span()
        if not piece.group().strip():
            between_commas = (
                start > 0 and text[start - 1] == "," and end < len(text) and text[end] == ","
            )
            if between_commas:
                raise ReleaseRuleError(
                    SERVICE_WEIGHT, start, "empty entry between two commas", text=text
                )
            continue
        scan = _Scanner(SERVICE_WEIGHT, text, start, end)
        service, service_at = scan.word("a service name")
        scan.expect(":", "after the service name")
        scan.spaces()
        number_at = scan.pos
        raw = text[number_at:end].strip()
        if not raw:
            scan.fail(f"no weight for service {service!r}")
        if not re.fullmatch(r"[0-9]+", raw):
            scan.fail(
                f"weight {raw!r} for service {service!r} is not a non-negative integer", number_at
            )
        scan.known(service, service_at, services)
        if service in weights:
            scan.fail(f"a second weight for service {service!r}", service_at)
        weights[service] = int(raw)
    return weights


def parse_ack(annotations: dict, services: list[str], stable: str | None = None) -> dict:
    """The neutral policy of an Ingress that uses ACK's annotations.

    ``services`` are the Service names the Ingress routes its host and path to
    (two for a release: old and new, in any order). The canary is the service
    ``service-match`` names; without a match, ``stable`` must say which one is
    the old service. Raises ``ReleaseRuleError`` for every malformed rule.
    """
    annotations = annotations or {}
    services = list(dict.fromkeys(services or []))
    for index, name in enumerate(services):
        check_service(name, "services", f"services[{index}]")
    if len(services) != 2:
        raise ReleaseRuleError(
            "services",
            None,
            f"a release has exactly two backends for one host and path (old and new), got {services}",
        )
    matches = {}
    if annotations.get(SERVICE_MATCH) is not None:
        matches = parse_service_match(annotations[SERVICE_MATCH], services)
    if len(matches) > 1:
        raise ReleaseRuleError(
            SERVICE_MATCH,
            sorted(entry[1] for entry in matches.values())[1],
            "both backends have a match: one of them must be the old service, which takes what does not match",
            text=annotations[SERVICE_MATCH],
        )
    if stable is not None and stable not in services:
        raise ReleaseRuleError("stable", None, f"{stable!r} is not one of the backends {services}")
    if matches:
        canary = next(iter(matches))
        if stable == canary:
            raise ReleaseRuleError(
                SERVICE_MATCH,
                matches[canary][1],
                f"the match names {canary!r}, which was given as the stable (old) service",
                text=annotations[SERVICE_MATCH],
            )
        stable = next(s for s in services if s != canary)
    elif stable is None:
        raise ReleaseRuleError(
            SERVICE_MATCH,
            None,
            "no service-match names the new service: say which backend is the stable (old) one",
        )
    else:
        canary = next(s for s in services if s != stable)

    weight = None
    total = 100
    text = annotations.get(SERVICE_WEIGHT)
    if text is not None or not matches:
        weights = parse_service_weight(text, services) if text is not None else {}
        canary_weight = weights.get(canary, DEFAULT_SERVICE_WEIGHT)
        stable_weight = weights.get(stable, DEFAULT_SERVICE_WEIGHT)
        total = canary_weight + stable_weight
        if total == 0:
            raise ReleaseRuleError(
                SERVICE_WEIGHT, 0, "every weight is 0: no backend would get traffic", text=text
            )
        weight = canary_weight
    return check_policy(
        {
            "stable": stable,
            "canary": canary,
            "matches": [entry[0] for entry in matches.values()],
            "weight": weight,
            "weight_total": total,
        }
    )


def _regex_text(pattern: str) -> str:
    """A regex written between slashes: bare slashes escaped, escapes kept as they are."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(pattern[index : index + 2])
            index += 2
            continue
        out.append("\\/" if char == "/" else char)
        index += 1
    return "/" + "".join(out) + "/"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_match(match: dict) -> str:
    value = _regex_text(match["value"]) if match["regex"] else _quoted(match["value"])
    return f"{match['type']}({_quoted(match['name'])}, {value})"


def render_ack(policy: dict, losses: list | None = None) -> dict:
    """The two annotations for ``policy``.

    ACK takes one match per service: a policy with several (ANDed) matches
    raises ``ReleaseRuleError``, or, when ``losses`` is a list, is rendered
    with no traffic to the canary (keeping one of the matches would send it
    requests the policy does not) and the loss is appended.
    """
    policy = check_policy(policy)
    annotations = {}
    matches = policy["matches"]
    if len(matches) > 1:
        reason = (
            f"ACK takes one match per service; the policy's {len(matches)} matches "
            f"({', '.join(describe_match(m) for m in matches)}) must all hold"
        )
        if losses is None:
            raise ReleaseRuleError("policy", "matches[1]", reason)
        losses.append(reason + "; rendered with no traffic to canary")
        return {
            SERVICE_WEIGHT: f"{policy['canary']}: 0, {policy['stable']}: {policy['weight_total']}"
        }
    if matches:
        annotations[SERVICE_MATCH] = f"{policy['canary']}: {render_match(matches[0])}"
    if policy["weight"] is not None or not matches:
        weight = policy["weight_total"] if policy["weight"] is None else policy["weight"]
        rest = policy["weight_total"] - weight
        annotations[SERVICE_WEIGHT] = f"{policy['canary']}: {weight}, {policy['stable']}: {rest}"
    return annotations


def ingress_services(ingress: dict) -> list[str]:
    """The Service names an Ingress routes to, in order, each once."""
    names = []
    spec = (ingress or {}).get("spec") or {}
    default = ((spec.get("defaultBackend") or {}).get("service") or {}).get("name")
    if default:
        names.append(default)
    for rule in spec.get("rules") or []:
        for path in (rule.get("http") or {}).get("paths") or []:
            name = ((path.get("backend") or {}).get("service") or {}).get("name")
            if name:
                names.append(name)
    return list(dict.fromkeys(names))


def ack_ingress(
    policy: dict,
    name: str,
    host: str | None = None,
    namespace: str | None = None,
    path: str = "/",
    path_type: str = "Prefix",
    port: int | str | dict = 80,
    ingress_class: str | None = None,
    losses: list | None = None,
) -> dict:
    """An Ingress (networking.k8s.io/v1) with both backends on one host and path and ACK's annotations.

    ``port``: a number or name for both Services, or ``{service: port}``.
    """
    policy = check_policy(policy)

    def backend(service: str) -> dict:
        value = port[service] if isinstance(port, dict) else port
        key = "number" if isinstance(value, int) else "name"
        return {"service": {"name": service, "port": {key: value}}}

    paths = [
        {"path": path, "pathType": path_type, "backend": backend(policy["stable"])},
        {"path": path, "pathType": path_type, "backend": backend(policy["canary"])},
    ]
    rule = {"http": {"paths": paths}}
    if host:
        rule["host"] = host
    metadata = {"name": name, "annotations": render_ack(policy, losses)}
    if namespace:
        metadata["namespace"] = namespace
    spec = {"rules": [rule]}
    if ingress_class:
        spec["ingressClassName"] = ingress_class
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": spec,
    }


def ack_deprecation(
    controller_version: str, removed_in: str = ACK_ANNOTATIONS_REMOVED_IN
) -> str | None:
    """Why ``service-match``/``service-weight`` cannot be used on this ACK controller, or None.

    ``controller_version`` is the controller's image tag (``v1.2.1-aliyun.1``,
    ``0.44.0.5-8e7c6dc-aliyun``) or a plain version. ``removed_in`` is the first
    version without the annotations (1.12.0, see the module docstring).
    A version older than 0.12.0-5 does not have them yet.
    """
    try:
        found = parse_tag(str(controller_version))
    except VersionError as exc:
        return f"{exc}: cannot tell whether ACK's service-match/service-weight still work"
    removed = parse_tag(removed_in)
    if found.numbers >= removed.numbers:
        return (
            f"ACK Nginx Ingress Controller {controller_version} is {'.'.join(map(str, removed.numbers[:2]))} "
            "or newer: service-match/service-weight are no longer available there "
            f"(deprecated, removed in {removed_in}); use the canary-* annotations"
        )
    if found < parse_tag(ACK_ANNOTATIONS_MINIMUM):
        return (
            f"ACK Nginx Ingress Controller {controller_version} is older than "
            f"{ACK_ANNOTATIONS_MINIMUM}: service-match/service-weight are not there yet"
        )
    return None
