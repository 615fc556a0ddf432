# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet-wide certificate report from per-host inventory results.

Plain functions on plain data: the input is what ``k8s_cert_info``
returns per host; the output is a dict (JSON for machines) carrying a
Markdown table for people. Rows are sorted by expiry, soonest first; status is
``expired``, ``critical``, ``warning`` or ``ok`` against the thresholds.
"""

from __future__ import annotations

import datetime as dt

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

STATUSES = ("expired", "critical", "warning", "ok")
_COLUMNS = (
    ("Host", "host"),
    ("Certificate", "name"),
    ("Kind", "kind"),
    ("Expires", "expires"),
    ("Residual", "residual_time"),
    ("CA", "chains_to"),
    ("Status", "status"),
    ("Path", "path"),
)


class ReportError(RunbookError, ValueError):
    """The input cannot be turned into a report; the message says why."""


def _parse_time(value: str, where: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except (TypeError, ValueError) as exc:
        raise ReportError(f"{where}: not_after {value!r} is not YYYY-MM-DDTHH:MM:SSZ") from exc


def _host_results(results) -> list[tuple[str, dict]]:
    """Accept {host: result} or [result, ...] (each result naming its host)."""
    if isinstance(results, dict):
        pairs = list(results.items())
    elif isinstance(results, list):
        pairs = []
        for index, result in enumerate(results):
            if not isinstance(result, dict) or not result.get("host"):
                raise ReportError(f"item {index} is not an inventory result with a 'host' key")
            pairs.append((result["host"], result))
    else:
        raise ReportError(
            f"expected a dict of host: result or a list of results, got {type(results).__name__}"
        )
    for host, result in pairs:
        if not isinstance(result, dict) or not isinstance(result.get("certificates"), list):
            raise ReportError(
                f"host {host}: the result has no 'certificates' list (did the inventory run?)"
            )
    return pairs


def classify(days_left: float, warning_days: int, critical_days: int) -> str:
    if days_left <= 0:
        return "expired"
    if days_left < critical_days:
        return "critical"
    if days_left < warning_days:
        return "warning"
    return "ok"


def build_report(results, warning_days: int = 30, critical_days: int = 7, now=None) -> dict:
    """Rows for every certificate of every host, soonest expiry first, with a summary."""
    if not isinstance(warning_days, int) or not isinstance(critical_days, int):
        raise ReportError("warning_days and critical_days must be whole numbers of days")
    if critical_days < 0 or warning_days < critical_days:
        raise ReportError(
            f"thresholds must satisfy 0 <= critical_days <= warning_days, "
            f"got critical_days={critical_days}, warning_days={warning_days}"
        )
    now = now or dt.datetime.now(dt.UTC)
    rows = []
    for host, result in _host_results(results):
        for cert in result["certificates"]:
            not_after = _parse_time(cert.get("not_after"), f"host {host}: {cert.get('id')}")
            days_left = (not_after - now).total_seconds() / 86400
            rows.append(
                {
                    "host": host,
                    "id": cert.get("id"),
                    "name": cert.get("name"),
                    "kind": cert.get("kind"),
                    "storage": cert.get("storage"),
                    "path": cert.get("path"),
                    "subject": cert.get("subject"),
                    "serial": cert.get("serial"),
                    "not_after": cert.get("not_after"),
                    "expires": not_after.strftime("%b %d, %Y %H:%M UTC"),
                    "residual_time": cert.get("residual_time"),
                    "days_left": int(days_left // 1),
                    "chains_to": cert.get("chains_to"),
                    "key_matches": cert.get("key_matches"),
                    "status": classify(days_left, warning_days, critical_days),
                }
            )
    return {
        "generated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "thresholds": {"warning_days": warning_days, "critical_days": critical_days},
        **summarise(rows, warning_days, critical_days),
    }


def summarise(rows: list[dict], warning_days: int, critical_days: int) -> dict:
    """``certificates`` (sorted, soonest first), ``summary`` and ``markdown`` of report rows.

    Also what merging the fragments of a sliced run rebuilds (report_merge).
    """
    rows = sorted(rows, key=lambda row: (row["not_after"], row["host"], row["name"] or ""))
    counts = {status: sum(row["status"] == status for row in rows) for status in STATUSES}
    worst = next((status for status in STATUSES if counts[status]), "ok")
    return {
        "summary": {
            "hosts": len({row["host"] for row in rows}),
            "total": len(rows),
            **counts,
            "worst": worst,
            "soonest": rows[0] if rows else None,
            "key_mismatches": [f"{r['host']}:{r['id']}" for r in rows if r["key_matches"] is False],
        },
        "certificates": rows,
        "markdown": markdown(rows, warning_days, critical_days),
    }


def _cell(value) -> str:
    return "" if value is None else str(value).replace("|", "\\|")


def markdown(rows: list[dict], warning_days: int, critical_days: int) -> str:
    lines = [
        f"Certificates by expiry (warning < {warning_days} days, critical < {critical_days} days)",
        "",
        "| " + " | ".join(column[0] for column in _COLUMNS) + " |",
        "|" + "|".join("---" for column in _COLUMNS) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[column[1]]) for column in _COLUMNS) + " |")
    return "\n".join(lines) + "\n"
