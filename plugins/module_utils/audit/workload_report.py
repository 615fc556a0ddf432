"""Reports for workload audit results: Polaris-shaped JSON, Markdown, SARIF 2.1.0,
JUnit XML, a console summary, and the CI gate (severity, minimum score, nothing audited)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    CHECKS,
    SEVERITIES,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    finding as finding_of,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError

POLARIS_OUTPUT_VERSION = "1.0"
SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_NAME = "ackops.runbooks.workload_audit_info"
TOOL_URI = "https://github.com/ackops/ack-runbooks/blob/main/docs/audit-workloads.md"
CONSOLE_FINDINGS = 20  # findings printed in full on the console; the rest are counted
FAIL_ON_CHOICES = ("none", *SEVERITIES)


def _message(result: dict) -> dict:
    check = CHECKS[result["check"]]
    return {
        "ID": check.id,
        "Message": check.success if result["success"] else check.failure,
        "Details": [result["details"]] if result["details"] and not result["success"] else [],
        "Success": result["success"],
        "Severity": check.severity,
        "Category": check.category,
    }


def score(results: list[dict]) -> int:
    """Polaris' score: the percentage of check results that passed (100 when none ran)."""
    passed = sum(1 for r in results if r["success"])
    return round(100 * passed / len(results)) if results else 100


def polaris(
    results: list[dict],
    source_type: str,
    source_name: str,
    cluster_info: dict | None = None,
    counts: dict | None = None,
    notes: list | None = None,
) -> dict:
    """Results in the layout of Polaris' JSON audit (PolarisOutputVersion 1.0).

    One entry per object with controller-level results, a PodResult with
    pod-level results and one ContainerResults entry per container. AuditTime
    is left out so that an unchanged cluster yields an unchanged report.
    """
    by_object: dict[tuple, dict] = {}
    for result in results:
        ref = result["object"]
        key = (ref["namespace"], ref["kind"], ref["name"], ref["source"])
        entry = by_object.setdefault(
            key,
            {
                "Name": ref["name"],
                "Namespace": ref["namespace"],
                "Kind": ref["kind"],
                "Results": {},
                "PodResult": {"Name": ref["name"], "Results": {}, "ContainerResults": []},
            },
        )
        message = _message(result)
        if result["level"] == "controller":
            entry["Results"][message["ID"]] = message
        elif result["level"] == "pod":
            entry["PodResult"]["Results"][message["ID"]] = message
        else:
            containers = entry["PodResult"]["ContainerResults"]
            match = next((c for c in containers if c["Name"] == result["container"]), None)
            if match is None:
                match = {"Name": result["container"], "Results": {}}
                containers.append(match)
            match["Results"][message["ID"]] = message
    return {
        "PolarisOutputVersion": POLARIS_OUTPUT_VERSION,
        "SourceType": source_type,
        "SourceName": source_name,
        "DisplayName": source_name,
        "ClusterInfo": cluster_info or {},
        "Results": [by_object[key] for key in sorted(by_object)],
        "Score": score(results),
        # Not in Polaris' layout: what was audited, what was not and why.
        "AuditCounts": counts or {},
        "AuditNotes": list(notes or []),
    }


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _header(findings: list[dict], counts: dict | None, notes: list | None, points) -> list[str]:
    total = summary(findings)
    lines = [
        f"{total['total']} finding(s): {total['danger']} danger, {total['warning']} warning."
        + (f" Score {points}." if points is not None else ""),
    ]
    if counts is not None:
        lines.append(
            f"Audited {counts.get('audited', 0)} workload(s); skipped {counts.get('skipped', 0)}"
            + (" object(s):" if counts.get("skipped_by_reason") else " object(s).")
        )
        lines += [f"- {n} {reason}" for reason, n in counts.get("skipped_by_reason", {}).items()]
    lines += [f"Note: {note}" for note in notes or []]
    return lines


def markdown(
    findings: list[dict],
    title: str = "Workload audit",
    counts: dict | None = None,
    notes: list | None = None,
    points: int | None = None,
) -> str:
    """A Markdown table, most severe first, one row per finding, after the counts."""
    lines = [f"# {title}", "", *_header(findings, counts, notes, points), ""]
    if not findings:
        return "\n".join([*lines, "No findings."]) + "\n"
    lines += [
        "| Severity | Namespace | Object | Container | Check | Finding | Fix |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in findings:
        ref = f["object"]
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f["severity"],
                    ref["namespace"],
                    f"{ref['kind']}/{ref['name']}",
                    f["container"] or "-",
                    f["check"],
                    f["message"],
                    f["fix"],
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def console(
    findings: list[dict],
    counts: dict | None = None,
    notes: list | None = None,
    points: int | None = None,
    limit: int = CONSOLE_FINDINGS,
) -> str:
    """What the play prints: counts, findings by check, the first ``limit`` findings."""
    lines = ["Workload audit", *_header(findings, counts, notes, points)]
    by_check = summary(findings)["by_check"]
    if by_check:
        lines.append("By check: " + ", ".join(f"{c} {n}" for c, n in by_check.items()))
    for f in findings[:limit]:
        lines.append(f"[{f['severity']}] {f['message']}")
    if len(findings) > limit:
        lines.append(f"... and {len(findings) - limit} more finding(s) in the report files.")
    return "\n".join(lines) + "\n"


def summary(findings: list[dict]) -> dict:
    counts = Counter(f["severity"] for f in findings)
    return {
        "total": len(findings),
        **{s: counts.get(s, 0) for s in SEVERITIES},
        "by_check": dict(sorted(Counter(f["check"] for f in findings).items())),
    }


def gate(findings: list[dict], fail_on: Any) -> list[dict]:
    """Findings at or above ``fail_on`` (none, warning, danger): what fails a CI gate."""
    if fail_on not in FAIL_ON_CHOICES:
        raise InputError("fail_on", fail_on, f"must be one of {', '.join(FAIL_ON_CHOICES)}")
    if fail_on == "none":
        return []
    floor = SEVERITIES.index(fail_on)
    return [f for f in findings if SEVERITIES.index(f["severity"]) >= floor]


def verdict(findings: list[dict], fail_on: Any, min_score: Any, points: int, counts: dict) -> dict:
    """The whole gate: severity, minimum score, and a run that audited nothing."""
    if isinstance(min_score, bool) or not isinstance(min_score, int) or not 0 <= min_score <= 100:
        raise InputError("min_score", min_score, "must be a whole number from 0 to 100")
    failing = gate(findings, fail_on)
    reasons = []
    if failing:
        reasons.append(f"{len(failing)} finding(s) at or above {fail_on}")
    if points < min_score:
        reasons.append(f"score {points} is below the minimum {min_score}")
    if not counts.get("audited"):
        why = "; ".join(f"{n} {r}" for r, n in counts.get("skipped_by_reason", {}).items())
        reasons.append(
            "no workload was audited" + (f" ({why})" if why else " (the input holds no object)")
        )
    return {
        "fail_on": fail_on,
        "min_score": min_score,
        "score": points,
        "failed": bool(reasons),
        "reasons": reasons,
        "findings": len(failing),
        "messages": [f["message"] for f in failing],
    }


def _location(ref: dict) -> dict:
    name = f"{ref['namespace']}/{ref['kind']}/{ref['name']}"
    location: dict = {"logicalLocations": [{"fullyQualifiedName": name, "kind": "object"}]}
    source = ref.get("source") or ""
    if source and source != "cluster":
        path = PurePosixPath(source.split("#", 1)[0].split(" (", 1)[0])
        uri = path.as_uri() if path.is_absolute() else quote(str(path))
        location["physicalLocation"] = {"artifactLocation": {"uri": uri}}
    return location


def sarif(findings: list[dict], severities: dict | None = None) -> str:
    """The findings as a SARIF 2.1.0 log (code-scanning UIs): one rule per check."""
    used = sorted({f["check"] for f in findings} | set(CHECKS))
    levels = {"danger": "error", "warning": "warning"}
    rules = [
        {
            "id": check,
            "name": check,
            "shortDescription": {"text": CHECKS[check].failure},
            "fullDescription": {
                "text": f"{CHECKS[check].failure}. Passes when: {CHECKS[check].success}."
            },
            "help": {"text": CHECKS[check].fix},
            "defaultConfiguration": {
                "level": levels[(severities or {}).get(check, CHECKS[check].severity)]
            },
            "properties": {"category": CHECKS[check].category},
        }
        for check in used
    ]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [
        {
            "ruleId": f["check"],
            "ruleIndex": index[f["check"]],
            "level": levels[f["severity"]],
            "message": {"text": f"{f['message']}. Fix: {f['fix']}"},
            "locations": [_location(f["object"])],
            "partialFingerprints": {
                "ackopsObject/v1": "/".join(
                    (
                        f["object"]["namespace"],
                        f["object"]["kind"],
                        f["object"]["name"],
                        f["container"] or "",
                        f["check"],
                    )
                )
            },
        }
        for f in findings
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "informationUri": TOOL_URI, "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


def junit(results: list[dict], severities: dict | None = None) -> str:
    """Every check result as a JUnit XML test case (CI test reports): one suite per object."""
    suites = ElementTree.Element("testsuites", name="audit-workloads")
    by_object: dict[tuple, list] = {}
    for result in results:
        ref = result["object"]
        by_object.setdefault(
            (ref["namespace"], ref["kind"], ref["name"], ref["source"]), []
        ).append(result)
    total = failed = 0
    for key in sorted(by_object):
        namespace, kind, name, source = key
        cases = by_object[key]
        failures = sum(1 for r in cases if not r["success"])
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=f"{kind} {namespace}/{name}",
            tests=str(len(cases)),
            failures=str(failures),
            errors="0",
            skipped="0",
        )
        if source and source != "cluster":
            suite.set("file", source)
        for result in cases:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"{namespace}.{kind}.{name}",
                name=result["check"] + (f"[{result['container']}]" if result["container"] else ""),
            )
            if not result["success"]:
                f = finding_of(result, severities)
                failure = ElementTree.SubElement(
                    case, "failure", message=f["message"], type=f["severity"]
                )
                failure.text = f"{f['message']}\nFix: {f['fix']}"
        total += len(cases)
        failed += failures
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    suites.set("errors", "0")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(suites, encoding="unicode")
        + "\n"
    )
