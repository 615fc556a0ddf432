"""Reports for workload audit results: Polaris-shaped JSON, a Markdown table, a CI gate."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    CHECKS,
    SEVERITIES,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError

POLARIS_OUTPUT_VERSION = "1.0"
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


def polaris(
    results: list[dict], source_type: str, source_name: str, cluster_info: dict | None = None
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
    passed = sum(1 for r in results if r["success"])
    return {
        "PolarisOutputVersion": POLARIS_OUTPUT_VERSION,
        "SourceType": source_type,
        "SourceName": source_name,
        "DisplayName": source_name,
        "ClusterInfo": cluster_info or {},
        "Results": [by_object[key] for key in sorted(by_object)],
        "Score": round(100 * passed / len(results)) if results else 100,
    }


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def markdown(findings: list[dict], title: str = "Workload audit") -> str:
    """A Markdown table, most severe first, one row per finding."""
    counts = summary(findings)
    lines = [
        f"# {title}",
        "",
        f"{counts['total']} finding(s): {counts['danger']} danger, {counts['warning']} warning.",
        "",
    ]
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
