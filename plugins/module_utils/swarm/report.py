# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration report: per service and key, what became of it.

Each entry is ``{key, status, result, lost, instead, behaviour_change}``:

``status``
    ``converted`` (same behaviour), ``converted_with_loss`` (converted, and
    ``lost`` says what does not carry over) or ``not_convertible`` (``lost``
    says why, ``instead`` what to do).
``behaviour_change``
    true when the stack would behave differently on Kubernetes than on Swarm
    (a healthcheck that gates nothing, a constraint no node satisfies, a
    claim several nodes cannot share); these are listed again at the top of
    the report so they are read before anything is applied.

The report holds names, keys and Kubernetes field paths, never a secret's or
an environment variable's value. ``markdown`` renders it for people; the
runbook hands both to the collection's report writer (``common/report.py``).
"""

from __future__ import annotations

from collections import Counter

STATUSES = ("converted", "converted_with_loss", "not_convertible")
_STATUS_TEXT = {
    "converted": "converted",
    "converted_with_loss": "converted with loss",
    "not_convertible": "not convertible",
}


class KeyReport:
    """The entries of one service (or of the stack's top-level keys)."""

    def __init__(self):
        self.entries: list[dict] = []

    def _add(self, key, status, result, lost, instead, behaviour_change):
        self.entries.append(
            {
                "key": key,
                "status": status,
                "result": result,
                "lost": lost,
                "instead": instead,
                "behaviour_change": bool(behaviour_change),
            }
        )

    def converted(
        self, key: str, result: str, behaviour_change: bool = False, note: str | None = None
    ):
        self._add(key, "converted", result, note, None, behaviour_change)

    def lossy(
        self, key: str, result: str, lost: str, instead: str | None = None, behaviour_change=False
    ):
        self._add(key, "converted_with_loss", result, lost, instead, behaviour_change)

    def unconvertible(self, key: str, why: str, instead: str, behaviour_change: bool = False):
        self._add(key, "not_convertible", None, why, instead, behaviour_change)


def build_report(project, services: dict[str, dict], stack: KeyReport, objects: list[dict]) -> dict:
    """The JSON report: summary, behaviour changes first, then per service and for the stack."""
    counts: Counter = Counter()
    flagged = []
    for service, info in services.items():
        for entry in info["entries"]:
            counts[entry["status"]] += 1
            if entry["behaviour_change"]:
                flagged.append({"service": service, **_flag(entry)})
    for entry in stack.entries:
        counts[entry["status"]] += 1
        if entry["behaviour_change"]:
            flagged.append({"service": None, **_flag(entry)})
    kinds = Counter(obj["kind"] for obj in objects)
    return {
        "project": project.name,
        "files": list(project.files),
        "summary": {
            "services": len(services),
            "inactive_services": list(project.inactive),
            "objects": dict(sorted(kinds.items())),
            **{status: counts.get(status, 0) for status in STATUSES},
            "behaviour_changes": len(flagged),
        },
        "behaviour_changes": flagged,
        "services": services,
        "stack": stack.entries,
        "objects": [_ref(obj) for obj in objects],
        "warnings": list(project.warnings),
    }


def _flag(entry: dict) -> dict:
    return {
        "key": entry["key"],
        "status": entry["status"],
        "message": entry["lost"] or entry["result"],
    }


def _ref(obj: dict) -> str:
    meta = obj["metadata"]
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj['kind']} {where}{meta['name']}"


def stats(report: dict) -> dict:
    """The summary AWX gets through set_stats."""
    summary = report["summary"]
    return {
        "migrate_swarm": {
            "project": report["project"],
            "services": summary["services"],
            "objects": sum(summary["objects"].values()),
            "converted": summary["converted"],
            "converted_with_loss": summary["converted_with_loss"],
            "not_convertible": summary["not_convertible"],
            "behaviour_changes": summary["behaviour_changes"],
        }
    }


def _cell(text) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def markdown(report: dict) -> str:
    """The report for people: summary, behaviour changes, then one table per service."""
    summary = report["summary"]
    lines = [
        f"# Swarm stack {report['project']}: conversion to Kubernetes",
        "",
        f"Files: {', '.join(report['files'])}",
        "",
        f"- services: {summary['services']}"
        + (
            f" (inactive profiles: {', '.join(summary['inactive_services'])})"
            if summary["inactive_services"]
            else ""
        ),
        "- objects: " + (", ".join(f"{n} {k}" for k, n in summary["objects"].items()) or "none"),
        f"- converted: {summary['converted']}, converted with loss: {summary['converted_with_loss']}, "
        f"not convertible: {summary['not_convertible']}",
        f"- behaviour changes: {summary['behaviour_changes']}",
        "",
    ]
    if report["behaviour_changes"]:
        lines += ["## Behaviour changes (read before applying)", ""]
        for flag in report["behaviour_changes"]:
            where = f"{flag['service']}: " if flag["service"] else ""
            lines.append(f"- {where}`{flag['key']}`: {flag['message']}")
        lines.append("")
    if report["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in report["warnings"]] + [""]
    sections = [
        (f"Service {name} ({info['kind']} {info['name']})", info["entries"])
        for name, info in report["services"].items()
    ]
    sections.append(("Stack (networks, volumes, configs, secrets)", report["stack"]))
    for title, entries in sections:
        if not entries:
            continue
        lines += [
            f"## {title}",
            "",
            "| Key | Status | Result | Lost / why | Instead |",
            "|---|---|---|---|---|",
        ]
        for entry in entries:
            status = _STATUS_TEXT[entry["status"]] + (" ⚠" if entry["behaviour_change"] else "")
            lines.append(
                f"| `{_cell(entry['key'])}` | {status} | {_cell(entry['result'])} | "
                f"{_cell(entry['lost'])} | {_cell(entry['instead'])} |"
            )
        lines.append("")
    lines += ["## Objects", ""] + [f"- {ref}" for ref in report["objects"]]
    return "\n".join(lines) + "\n"
