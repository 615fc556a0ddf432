# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one report writer of the collection: ``<dir>/<name>.json`` and ``<name>.md``.

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

Pure stdlib: this runs wherever the module runs (the controller).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile

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
) -> dict:
    """Write ``<directory>/<name>.json`` and ``.md``; return the module result.

    ``extra_files`` maps further suffixes to their text (``{"sarif": ...}`` writes
    ``<name>.sarif``); they are written with the two others, the same way.

    A file whose content is already what would be written is left alone (its
    mtime too), so ``changed`` says whether a file's content moved. In check
    mode nothing is created or written.
    """
    changes = Changes() if changes is None else changes
    extra_files = dict(extra_files or {})
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
