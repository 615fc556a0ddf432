# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one report writer of the collection: ``<dir>/<name>.json``, ``.md`` (and ``.html``).

Every runbook ends with a report for machines (JSON: sorted keys, four-space
indent, a trailing newline, so two runs of the same state give the same bytes
and a ``diff`` between runs shows only what moved) and one for people
(Markdown, the text the runbook prints). Both are written together: each goes
to a temporary file in the report directory first, and only when both are
complete are they renamed into place, so a reader never sees a half-written
file or a JSON report from one run next to the Markdown of another.

Permissions: directory 0755, files 0644. Reports say what a runbook found and
did (certificate names and expiry dates, CIDRs, workload names, node names,
load balancer addresses); they hold no key, token or credential, and they are
meant to be read by the operators, AWX and CI artefact collectors. A runbook
whose findings could carry a secret must leave it out of its report.

An HTML page (render_html) is written too when the runbook gives the rows of
its report as a table spec: one self-contained page, sortable, filterable,
coloured by severity. Sliced runs (AWX job slicing) write fragments that carry
the hosts they covered; merge_fragments builds the fleet report from them.

Pure stdlib: this runs wherever the module runs (the controller).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import tempfile
from html import escape

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    RunbookError,
)

DIR_MODE = 0o755
FILE_MODE = 0o644
EXTENSIONS = ("json", "md")
# A report name becomes a file name: letters, digits, '.', '_' and '-', not
# starting with a dot (no hidden files, no path separators, no '..').
_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
# Further formats a runbook may add (SARIF, JUnit XML, ...): their file suffix,
# for example "sarif" or "junit.xml", and their text, written with the others.
_EXTRA = re.compile(r"^[a-z0-9]+(?:\.[a-z0-9]+)*$")


class ReportWriteError(RunbookError):
    """The report cannot be rendered or written; names the file or option and why."""

    error_type = "report"


def render_json(data) -> str:
    """``data`` as stable JSON text: sorted keys, indented, one trailing newline."""
    try:
        text = json.dumps(
            data, indent=4, sort_keys=True, separators=(",", ": "), ensure_ascii=False
        )
    except (TypeError, ValueError) as exc:
        raise ReportWriteError(f"cannot be written as JSON: {exc}", field="data") from exc
    return text + "\n"


def render_markdown(markdown: str) -> str:
    """The Markdown text ending in exactly one newline."""
    return markdown.rstrip("\n") + "\n"


def report_paths(directory: str, name: str, extra=()) -> dict[str, str]:
    """The absolute paths of a report's files, by extension (``extra``: further suffixes)."""
    if not _NAME.match(name or ""):
        raise ReportWriteError(
            f"{name!r} is not a report name (letters, digits, '.', '_' and '-', "
            "not starting with '.')",
            field="name",
        )
    if not directory:
        raise ReportWriteError("the report directory is empty", field="dir")
    for ext in extra:
        if not isinstance(ext, str) or not _EXTRA.match(ext) or ext in EXTENSIONS:
            raise ReportWriteError(
                f"{ext!r} is not a further report suffix (lower-case words joined by '.', "
                "not json or md)",
                field="extra_files",
            )
    base = os.path.abspath(directory)
    return {ext: os.path.join(base, f"{name}.{ext}") for ext in (*EXTENSIONS, *extra)}


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        # Unreadable or not text: it will be replaced, which is a change.
        return None


def _os_error(exc: OSError, path: str) -> ReportWriteError:
    return ReportWriteError(exc.strerror or str(exc), obj=exc.filename or path)


def _make_dir(directory: str, changes: Changes) -> None:
    if os.path.isdir(directory):
        return
    if os.path.lexists(directory):
        raise ReportWriteError("exists and is not a directory", obj=directory, field="dir")
    try:
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, DIR_MODE)
    except OSError as exc:
        raise _os_error(exc, directory) from exc
    changes.record("created", directory)


def _stage(directory: str, content: str) -> str:
    """Write ``content`` to a new temporary file in ``directory``; return its path."""
    handle, temp = tempfile.mkstemp(prefix=".report-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, FILE_MODE)
    except BaseException:
        os.unlink(temp)
        raise
    return temp


def write_report(
    directory: str,
    name: str,
    data,
    markdown: str,
    *,
    check_mode: bool = False,
    want_diff: bool = False,
    changes: Changes | None = None,
    extra_files: dict | None = None,
    html=None,
) -> dict:
    """Write ``<directory>/<name>.json`` and ``.md``; return the module result.

    ``extra_files`` maps further suffixes to their text (``{"sarif": ...}`` writes
    ``<name>.sarif``); they are written with the two others, the same way.
    ``html`` is a table spec (see render_html): ``<name>.html`` is written from
    it with the others, and the result carries ``html_path`` and ``counts``
    (rows per severity level).

    A file whose content is already what would be written is left alone (its
    mtime too), so ``changed`` says whether a file's content moved. In check
    mode nothing is created or written.
    """
    changes = Changes() if changes is None else changes
    extra_files = dict(extra_files or {})
    if html is not None:
        if "html" in extra_files:
            raise ReportWriteError(
                "html is written from the html table spec, not from extra_files",
                field="extra_files",
            )
        tables = html_tables(html)
        extra_files["html"] = render_html(html, name)
    paths = report_paths(directory, name, tuple(extra_files))
    contents = {"json": render_json(data), "md": render_markdown(markdown)}
    contents |= {ext: str(text) for ext, text in extra_files.items()}
    before = {ext: _read(path) for ext, path in paths.items()}
    stale = [ext for ext in paths if before[ext] != contents[ext]]
    base = os.path.dirname(paths["json"])
    result = {
        "changed": bool(stale),
        "dir": base,
        "json_path": paths["json"],
        "markdown_path": paths["md"],
        "written": [paths[ext] for ext in stale],
    }
    if html is not None:
        result["html_path"] = paths["html"]
        result["counts"] = _counts(tables)
    if want_diff:
        result["diff"] = [
            {
                "before_header": paths[ext],
                "after_header": paths[ext],
                "before": before[ext] or "",
                "after": contents[ext],
            }
            for ext in stale
        ]
    if check_mode or not stale:
        return result

    _make_dir(base, changes)
    staged: dict[str, str] = {}
    try:
        for ext in stale:
            staged[ext] = _stage(base, contents[ext])
        for ext in stale:
            os.replace(staged[ext], paths[ext])
            del staged[ext]
            changes.record("wrote", paths[ext])
    except OSError as exc:
        raise _os_error(exc, base) from exc
    finally:
        for temp in staged.values():
            with contextlib.suppress(OSError):
                os.unlink(temp)
    return result


# ---------------------------------------------------------------- HTML

# The HTML page of a report is one self-contained file: the rows of one or
# more tables, a severity per row (from a row field, from thresholds on a
# column, or both: the worse wins), a filter box and sortable columns. Inline
# CSS and JS only, pinned by a Content-Security-Policy with their hashes, so the
# page loads nothing from anywhere and no injected script could run even if a
# value escaped its escaping (none does: every value goes through html.escape).

# Severity words the runbooks' data uses, by level. A word not listed gives
# the row no colour (level "none").
SEVERITY_LEVELS = ("none", "ok", "info", "warning", "critical", "expired")
_SEVERITY_WORDS = {
    "none": "none",
    "ok": "ok",
    "pass": "ok",
    "passed": "ok",
    "success": "ok",
    "successful": "ok",
    "healthy": "ok",
    "info": "info",
    "notice": "info",
    "warning": "warning",
    "warn": "warning",
    "critical": "critical",
    "danger": "critical",
    "error": "critical",
    "failed": "critical",
    "fatal": "critical",
    "expired": "expired",
}
# A column named like this would put a credential on the page: refused.
_SECRET_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|private[_ -]?key|credential|access[_ -]?key|api[_ -]?key)$",
    re.IGNORECASE,
)
# A value that is (or holds) key material is shown as [redacted].
_SECRET_VALUE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bBearer\s+[A-Za-z0-9._~+/-]{16,}|"
    r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.",
)
REDACTED = "[redacted]"


def is_secret_name(name) -> bool:
    """Whether a key or label names a credential (its value is never shown)."""
    return bool(_SECRET_NAME.search(str(name).replace(" ", "_")))


def redact(value):
    """``value`` with every credential-named key's value and every key material string redacted.

    Mappings are walked to any depth (lists too); the structure is kept, so a
    redacted copy of a table spec renders the same page.
    """
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_name(k) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value):
        return REDACTED
    return value


_CSS = """
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
body{margin:1.5rem;color:#1d232a;background:#fff}
h1{font-size:1.4rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:1.5rem 0 .4rem}
.facts{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;margin:.3rem 0 1rem;padding:0;list-style:none}
.facts li{font-size:.9rem}.facts b{font-weight:600}
.counts{display:flex;gap:.5rem;margin:.5rem 0}
.count{padding:.15rem .55rem;border-radius:.8rem;font-size:.85rem;border:1px solid #c9ced4}
#filter{font:inherit;padding:.3rem .5rem;width:22rem;max-width:100%}
.shown{margin-left:.8rem;font-size:.85rem;color:#555}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #c9ced4;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#eef1f4;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.sev-ok{background:#e3f4e6}tr.sev-info{background:#e4eefb}
tr.sev-warning{background:#fff1c7}tr.sev-critical{background:#fbd5d2}
tr.sev-expired{background:#8f1d1d;color:#fff}
td.sev-warning{outline:2px solid #c98a00;outline-offset:-2px}
td.sev-critical,td.sev-expired{outline:2px solid #b3261e;outline-offset:-2px;font-weight:600}
.count.sev-ok{background:#e3f4e6}.count.sev-info{background:#e4eefb}
.count.sev-warning{background:#fff1c7}.count.sev-critical{background:#fbd5d2}
.count.sev-expired{background:#8f1d1d;color:#fff}
.empty{color:#555;font-style:italic}
tr[hidden],table[hidden]{display:none}
""".strip()

_JS = """
(function(){
"use strict";
function key(cell,numeric){
  var raw=cell.getAttribute("data-sort");
  if(numeric){var n=parseFloat(raw);return isNaN(n)?-Infinity:n;}
  return (raw===null?cell.textContent:raw).toLowerCase();
}
function sortBy(th){
  var table=th.closest("table"),body=table.tBodies[0],col=th.cellIndex;
  var dir=th.getAttribute("aria-sort")==="ascending"?"descending":"ascending";
  var numeric=th.getAttribute("data-type")==="number";
  var rows=Array.prototype.slice.call(body.rows);
  rows.forEach(function(r,i){r.__pos=i;});
  rows.sort(function(a,b){
    var x=key(a.cells[col],numeric),y=key(b.cells[col],numeric);
    var c=x<y?-1:x>y?1:a.__pos-b.__pos;
    return dir==="ascending"?c:-c;
  });
  rows.forEach(function(r){body.appendChild(r);});
  Array.prototype.forEach.call(th.parentNode.cells,function(h){h.removeAttribute("aria-sort");});
  th.setAttribute("aria-sort",dir);
}
function filter(){
  var q=document.getElementById("filter").value.trim().toLowerCase(),shown=0,total=0;
  Array.prototype.forEach.call(document.querySelectorAll("table.report tbody tr"),function(r){
    var hit=!q||r.textContent.toLowerCase().indexOf(q)>=0||
      ("severity:"+r.getAttribute("data-severity"))===q;
    r.hidden=!hit;total++;if(hit)shown++;
  });
  document.getElementById("shown").textContent=shown+" of "+total+" rows shown";
}
document.addEventListener("DOMContentLoaded",function(){
  Array.prototype.forEach.call(document.querySelectorAll("table.report th"),function(th){
    th.addEventListener("click",function(){sortBy(th);});
    th.addEventListener("keydown",function(e){if(e.key==="Enter"){sortBy(th);}});
  });
  document.getElementById("filter").addEventListener("input",filter);
  filter();
});
})();
""".strip()


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def severity_level(word) -> str:
    """The level (one of SEVERITY_LEVELS) of a severity word; "none" for anything else."""
    if isinstance(word, bool) or not isinstance(word, str):
        return "none"
    return _SEVERITY_WORDS.get(word.strip().lower(), "none")


def _worse(first: str, second: str) -> str:
    return max(first, second, key=SEVERITY_LEVELS.index)


def _lookup(row, path: str):
    """``row``'s value at a dotted ``path`` (``object.name``); None when absent."""
    value = row
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{k}={REDACTED if is_secret_name(k) else _text(v)}" for k, v in value.items()
        )
    text = str(value)
    return REDACTED if _SECRET_VALUE.search(text) else text


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _threshold_level(value, column: dict) -> str:
    """The level ``value`` reaches against the column's warning/critical thresholds."""
    number = _number(value)
    if number is None or ("warning" not in column and "critical" not in column):
        return "none"
    below = column.get("worse", "below") == "below"
    for level in ("critical", "warning"):
        limit = column.get(level)
        if limit is None:
            continue
        if (number < limit) if below else (number > limit):
            return level
    return "ok"


def _columns(table: dict, where: str) -> list[dict]:
    columns = table.get("columns")
    if not isinstance(columns, list) or not columns:
        raise ReportWriteError("needs a non-empty list of columns", field=f"{where}.columns")
    out = []
    for index, column in enumerate(columns):
        field = f"{where}.columns[{index}]"
        if isinstance(column, str):
            column = {"key": column}
        if not isinstance(column, dict) or not isinstance(column.get("key"), str):
            raise ReportWriteError("a column is a name or a mapping with a key", field=field)
        column = dict(column)
        column.setdefault("label", column["key"])
        for name in (column["key"].rsplit(".", 1)[-1], str(column["label"])):
            if is_secret_name(name):
                raise ReportWriteError(
                    f"column {name!r} would put a credential in the report", field=f"{field}.key"
                )
        if column.get("worse", "below") not in ("below", "above"):
            raise ReportWriteError("worse is 'below' or 'above'", field=f"{field}.worse")
        for level in ("warning", "critical"):
            if level in column and _number(column[level]) is None:
                raise ReportWriteError(
                    f"{column[level]!r} is not a number", field=f"{field}.{level}"
                )
            if level in column:
                column[level] = _number(column[level])
        if column.get("type", "auto") not in ("auto", "text", "number"):
            raise ReportWriteError("type is auto, text or number", field=f"{field}.type")
        out.append(column)
    return out


def html_tables(spec) -> list[dict]:
    """The tables of an HTML spec, checked: each with title, columns, rows and levels.

    Each row becomes ``{"level": ..., "cells": [(text, sort_key, level, numeric), ...]}``.
    """
    if not isinstance(spec, dict):
        raise ReportWriteError("the HTML report is a mapping", field="html")
    tables = spec.get("tables")
    if tables is None and "columns" in spec:
        tables = [spec]
    if not isinstance(tables, list) or not tables:
        raise ReportWriteError("needs tables (or columns and rows)", field="html.tables")
    out = []
    for number, table in enumerate(tables):
        where = f"html.tables[{number}]"
        if not isinstance(table, dict):
            raise ReportWriteError("a table is a mapping", field=where)
        columns = _columns(table, where)
        rows = table.get("rows") or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ReportWriteError("rows is a list of mappings", field=f"{where}.rows")
        rows = _sorted_rows(table)
        severity_key = table.get("severity")
        # The table's own words for its severity field (a PVC phase, a state).
        levels = table.get("levels") or {}
        if not isinstance(levels, dict) or any(
            severity_level(v) == "none" and v != "none" for v in levels.values()
        ):
            raise ReportWriteError(
                f"levels maps words to one of {', '.join(SEVERITY_LEVELS)}", field=f"{where}.levels"
            )
        levels = {str(k).lower(): severity_level(v) for k, v in levels.items()}
        numeric = []
        for column in columns:
            kind = column.get("type", "auto")
            values = [_lookup(r, column["key"]) for r in rows]
            present = [v for v in values if v not in (None, "")]
            numeric.append(
                kind == "number"
                or (
                    kind == "auto"
                    and bool(present)
                    and all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
                    )
                )
            )
        rendered = []
        for row in rows:
            word = _lookup(row, severity_key) if severity_key else None
            level = levels.get(str(word).lower()) or severity_level(word)
            cells = []
            for column, is_number in zip(columns, numeric, strict=True):
                value = _lookup(row, column["key"])
                cell_level = _threshold_level(value, column)
                level = _worse(level, cell_level)
                text = _text(value)
                sort = _number(value) if is_number else None
                cells.append((text, "" if sort is None else repr(sort), cell_level, is_number))
            rendered.append({"level": level, "cells": cells})
        out.append(
            {
                "title": str(table.get("title") or ""),
                "columns": columns,
                "numeric": numeric,
                "rows": rendered,
                "empty": str(table.get("empty") or "nothing to show"),
            }
        )
    return out


def html_counts(spec) -> dict[str, int]:
    """Rows per severity level over every table of an HTML spec (levels with rows only)."""
    return _counts(html_tables(spec))


def _counts(tables: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        for row in table["rows"]:
            counts[row["level"]] = counts.get(row["level"], 0) + 1
    return {level: counts[level] for level in SEVERITY_LEVELS if level in counts}


def render_html(spec, name: str = "report") -> str:
    """The self-contained HTML page of a report spec (see report_write's ``html`` option)."""
    tables = html_tables(spec)
    title = str(spec.get("title") or name)
    facts = spec.get("facts") or {}
    if not isinstance(facts, dict):
        raise ReportWriteError("facts is a mapping of label to value", field="html.facts")
    counts = _counts(tables)
    csp = (
        "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; "
        f"style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_JS)}"
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        f"<script>{_JS}</script>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
    ]
    if facts:
        out.append('<ul class="facts">')
        for label, value in sorted(facts.items(), key=lambda item: str(item[0])):
            shown = REDACTED if is_secret_name(label) else _text(value)
            out.append(f"<li><b>{escape(str(label))}:</b> {escape(shown)}</li>")
        out.append("</ul>")
    out.append('<div class="counts" id="counts">')
    for level in SEVERITY_LEVELS:
        if counts.get(level):
            out.append(
                f'<span class="count sev-{level}" data-level="{level}">'
                f"{escape(level)}: {counts[level]}</span>"
            )
    out.append("</div>")
    out.append(
        '<p><label>Filter: <input id="filter" type="search" '
        'placeholder="text in any cell, or severity:critical" autocomplete="off"></label>'
        '<span class="shown" id="shown"></span></p>'
    )
    for index, table in enumerate(tables):
        if table["title"]:
            out.append(f'<h2 id="table-{index}">{escape(table["title"])}</h2>')
        if not table["rows"]:
            out.append(f'<p class="empty">{escape(table["empty"])}</p>')
        # An empty table keeps its place (the tables' indexes) but is not shown.
        hidden = "" if table["rows"] else " hidden"
        out.append(f'<table class="report" data-table="{index}"{hidden}>')
        out.append("<thead><tr>")
        for column, is_number in zip(table["columns"], table["numeric"], strict=True):
            kind = "number" if is_number else "text"
            limits = "".join(
                f" {level} {'<' if column.get('worse', 'below') == 'below' else '>'} "
                f"{column[level]:g}"
                for level in ("warning", "critical")
                if column.get(level) is not None
            )
            hint = f' title="{escape(limits.strip())}"' if limits else ""
            out.append(
                f'<th tabindex="0" data-key="{escape(column["key"])}" data-type="{kind}"{hint}>'
                f"{escape(str(column['label']))}</th>"
            )
        out.append("</tr></thead>")
        out.append("<tbody>")
        for row in table["rows"]:
            out.append(f'<tr class="sev-{row["level"]}" data-severity="{row["level"]}">')
            for text, sort, level, is_number in row["cells"]:
                classes = " ".join(
                    c
                    for c in ("num" if is_number else "", f"sev-{level}" if level != "none" else "")
                    if c
                )
                attrs = f' class="{classes}"' if classes else ""
                if sort:
                    attrs += f' data-sort="{escape(sort)}"'
                out.append(f"<td{attrs}>{escape(text)}</td>")
            out.append("</tr>")
        out.append("</tbody></table>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _sorted_rows(table: dict) -> list:
    """The table's rows, in the order of its ``sort`` keys when it has them."""
    rows = table.get("rows") or []
    keys = table.get("sort") or []
    if isinstance(keys, str):
        keys = [keys]
    if not keys or not isinstance(rows, list):
        return rows

    def order(row):
        out = []
        for key in keys:
            value = _lookup(row, key) if isinstance(row, dict) else None
            number = _number(value) if not isinstance(value, str) else None
            out.append((value is None, number if number is not None else 0, _text(value)))
        return out

    return sorted(rows, key=order)


def render_markdown_tables(spec) -> str:
    """The tables of an HTML spec as Markdown (a merged report's Markdown)."""
    tables = html_tables(spec)
    out = [f"# {spec.get('title') or 'report'}", ""]
    for label, value in sorted((spec.get("facts") or {}).items(), key=lambda i: str(i[0])):
        out.append(f"- {label}: {REDACTED if is_secret_name(label) else _text(value)}")
    counts = _counts(tables)
    if counts:
        out.append("- rows by severity: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for table in tables:
        out.append("")
        if table["title"]:
            out += [f"## {table['title']}", ""]
        if not table["rows"]:
            out.append(f"_{table['empty']}_")
            continue
        out.append("| " + " | ".join(str(c["label"]) for c in table["columns"]) + " |")
        out.append("|" + "---|" * len(table["columns"]))
        for row in table["rows"]:
            cells = [text.replace("|", "\\|").replace("\n", " ") for text, *_rest in row["cells"]]
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- fragments (job slicing)

FRAGMENT_KEY = "fragment"


SUMMARY_REASON_LENGTH = 300


def report_summary(written: dict | None, html=None, changes=(), failure: str = "") -> dict:
    """What every report publishes for AWX under ``ackops_reports.<name>``.

    ``written`` is report_write's result (None when no file was written: an empty
    report directory); ``html`` the table spec, whose rows are counted per severity;
    ``changes`` what the run changed; ``failure`` why it is about to fail ("" when it
    is not), as one line cut at SUMMARY_REASON_LENGTH characters with "...". Their types
    are checked by the caller (report_write's action, check_publish); a bad ``html`` spec
    raises ReportWriteError naming its field.
    """
    files = []
    if written:
        files = [written["json_path"], written["markdown_path"]]
        if written.get("html_path"):
            files.append(written["html_path"])
    reason = " ".join(failure.split())
    if len(reason) > SUMMARY_REASON_LENGTH:
        reason = reason[: SUMMARY_REASON_LENGTH - 3] + "..."
    return {
        "files": files,
        "html": (written or {}).get("html_path", ""),
        "counts": html_counts(html) if html else {},
        "changes": list(changes),
        "changed": len(changes) > 0,
        "failed": len(failure) > 0,
        "reason": reason,
    }


def fragment_name(name: str, hosts) -> str:
    """The report name of the fragment of ``name`` covering ``hosts`` (stable for the same hosts)."""
    digest = hashlib.sha256("\n".join(sorted(str(h) for h in hosts)).encode()).hexdigest()
    return f"{name}.fragment-{digest[:12]}"


def _run_id(value):
    """A run id as text; None for none (absent or "")."""
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        return None
    return str(value).strip()


def _additive_path(path: str) -> str:
    """A declared-additive key as the merge names it: ``data.<path>`` or ``html.facts.<label>``."""
    return path if path.startswith(("data.", "html.")) else f"data.{path}"


def make_fragment(name: str, hosts, data, html=None, run_id=None, additive=()) -> dict:
    """What a slice writes: the report's data and HTML spec, with the hosts it covered.

    ``run_id`` names the run the slice belongs to (AWX's workflow job id), so a
    merge refuses a fragment another run left behind. ``additive`` declares the
    keys whose numbers add up over the slices (dotted paths into the data, or
    ``html.facts.<label>``); any other number must be the same in every fragment.
    The HTML spec is stored with credential-named keys and key material redacted
    (its rows may carry fields no column shows).
    """
    if not isinstance(hosts, (list, tuple)) or not all(isinstance(h, str) for h in hosts):
        raise ReportWriteError("the hosts a fragment covered are a list of names", field="hosts")
    if not isinstance(additive, (list, tuple)) or not all(
        isinstance(a, str) and a for a in additive
    ):
        raise ReportWriteError("additive is a list of dotted keys", field="additive")
    return {
        FRAGMENT_KEY: {
            "report": name,
            "covered_hosts": sorted(hosts),
            "run_id": _run_id(run_id),
            "additive": sorted({_additive_path(a) for a in additive}),
        },
        "data": data,
        "html": redact(html or {}),
    }


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _merge_values(values: list, where: str, sources: list, additive=frozenset()):
    """One value from the fragments' values of one key (None: absent in a fragment).

    ``sources`` names the fragment of each value (its file). A key in
    ``additive`` is summed over the fragments (equal or not). Otherwise equal
    values are kept, lists joined (lists of names: their union), mappings merged
    key by key; any other disagreement, numbers included, is an error naming
    the key and the fragments.
    """
    pairs = [(source, v) for source, v in zip(sources, values, strict=True) if v is not None]
    if not pairs:
        return None
    present = [v for _source, v in pairs]
    if where in additive:
        wrong = [source for source, v in pairs if not _is_number(v)]
        if wrong:
            raise ReportWriteError(
                f"is declared additive but is not a number in {', '.join(wrong)}",
                obj=wrong[0],
                field=where,
            )
        return sum(present)
    first = present[0]
    if all(isinstance(v, dict) for v in present):
        keys = list(dict.fromkeys(k for v in present for k in v))
        return {
            k: _merge_values(
                [v.get(k) for v in present],
                f"{where}.{k}",
                [source for source, _v in pairs],
                additive,
            )
            for k in keys
        }
    if all(v == first for v in present):
        return first
    if all(isinstance(v, list) for v in present):
        merged = [item for v in present for item in v]
        if all(not isinstance(i, (dict, list)) for i in merged):
            return sorted(set(merged), key=str)
        return merged
    shown = "; ".join(f"{source}: {v!r}" for source, v in pairs[:4])
    raise ReportWriteError(
        f"the fragments disagree ({shown}); a count that adds up over the slices "
        "must be declared additive by the report",
        obj=pairs[0][0],
        field=where,
    )


def _merge_html(specs: list, names: list, additive=frozenset()) -> dict:
    pairs = [(s, n) for s, n in zip(specs, names, strict=True) if s]
    if not pairs:
        return {}
    specs = [s for s, _n in pairs]
    names = [n for _s, n in pairs]
    tables = [s.get("tables") or ([s] if "columns" in s else []) for s in specs]
    first = tables[0]
    merged_tables = []
    for index, table in enumerate(first):
        rows = []
        for spec_tables, name in zip(tables, names, strict=True):
            if len(spec_tables) != len(first) or spec_tables[index].get("columns") != table.get(
                "columns"
            ):
                raise ReportWriteError(
                    "its HTML tables differ from the first fragment's", obj=name, field="html"
                )
            rows += spec_tables[index].get("rows") or []
        merged = {k: v for k, v in table.items() if k != "rows"}
        merged["rows"] = rows
        merged_tables.append(merged)
    facts = _merge_values([s.get("facts") or {} for s in specs], "html.facts", names, additive)
    out = {k: v for k, v in specs[0].items() if k not in ("tables", "columns", "rows", "facts")}
    out["tables"] = merged_tables
    if facts:
        out["facts"] = facts
    return out


def merge_fragments(fragments, finish=None, expected_hosts=None, sources=None, run_id=None) -> dict:
    """The fleet report from the fragments of one report, each slice's hosts once.

    Returns ``{"report", "covered_hosts", "data", "html"}``, and with
    ``expected_hosts`` (the hosts the sliced job ran on) also ``expected_hosts``
    and ``missing_hosts`` (expected, covered by no fragment: a slice failed or
    never ran), which a mapping ``data`` records as ``missing_hosts`` too.

    ``data`` merges the fragments' data key by key (see _merge_values): the keys
    the fragments declare additive are summed, any other disagreement is an
    error naming the key and the fragments. ``finish(data)`` (for a report whose
    summary is not additive) rebuilds what depends on all rows.

    ``sources`` names the fragments in errors (their files). Every fragment must
    be of the same run: of ``run_id`` when given, else of the run most of them
    name; a fragment of another run is refused by name.
    """
    if not isinstance(fragments, list) or not fragments:
        raise ReportWriteError("no fragment to merge", field="fragments")
    if sources is None:
        sources = [f"fragments[{index}]" for index in range(len(fragments))]
    if len(sources) != len(fragments):
        raise ReportWriteError("one source name per fragment", field="sources")
    metas = []
    for fragment, source in zip(fragments, sources, strict=True):
        meta = fragment.get(FRAGMENT_KEY) if isinstance(fragment, dict) else None
        if not isinstance(meta, dict) or not isinstance(meta.get("covered_hosts"), list):
            raise ReportWriteError(
                "is not a report fragment (no fragment.covered_hosts)", obj=source, field="fragment"
            )
        metas.append(meta)
    report = metas[0].get("report")
    for meta, source in zip(metas, sources, strict=True):
        if meta.get("report") != report:
            raise ReportWriteError(
                f"is a fragment of {meta.get('report')!r}, not of {report!r}",
                obj=source,
                field="fragment.report",
            )
    runs = [_run_id(meta.get("run_id")) for meta in metas]
    want = _run_id(run_id)
    if want is None:
        # The run most fragments belong to (the first fragment's on a tie).
        want = max(dict.fromkeys(runs), key=runs.count)
    strangers = [(s, r) for s, r in zip(sources, runs, strict=True) if r != want]
    if strangers:
        raise ReportWriteError(
            "; ".join(f"{s} is a fragment of run {r or '(none)'}" for s, r in strangers)
            + f", not of run {want or '(none)'}: fragments of another run (remove them)",
            obj=strangers[0][0],
            field="fragment.run_id",
        )
    declared = {tuple(meta.get("additive") or []) for meta in metas}
    if len(declared) > 1:
        raise ReportWriteError(
            "the fragments declare different additive keys (written by different versions)",
            obj=sources[0],
            field="fragment.additive",
        )
    additive = frozenset(declared.pop())
    seen: dict[str, str] = {}
    for meta, source in zip(metas, sources, strict=True):
        for host in meta["covered_hosts"]:
            if host in seen:
                raise ReportWriteError(
                    f"host {host} is covered by {seen[host]} and {source}: "
                    "fragments of different runs are mixed (remove the older ones)",
                    host=host,
                    field="fragments",
                )
            seen[host] = source
    data = _merge_values([f.get("data") for f in fragments], "data", sources, additive)
    if finish is not None:
        data = finish(data)
    merged = {
        "report": report,
        "covered_hosts": sorted(seen),
        "data": data,
        "html": _merge_html([f.get("html") or {} for f in fragments], sources, additive),
    }
    if expected_hosts is not None:
        if not isinstance(expected_hosts, (list, tuple)) or not all(
            isinstance(h, str) for h in expected_hosts
        ):
            raise ReportWriteError("is a list of host names", field="expected_hosts")
        merged["expected_hosts"] = sorted(set(expected_hosts))
        merged["missing_hosts"] = sorted(set(expected_hosts) - set(seen))
        if isinstance(data, dict):
            data["missing_hosts"] = merged["missing_hosts"]
    return merged
