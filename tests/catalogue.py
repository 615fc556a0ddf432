"""The bad-input catalogue: every bad input the refusal tests try, the message it gets and
what the test checked stayed unchanged, rendered into one table, docs/bad-inputs.md.

Refusal tests call ``record(...)`` once per row, after their own assertions passed. It
does nothing unless ``ACKOPS_CATALOGUE`` names a directory; then it appends one JSON line
to ``<dir>/<pid>.jsonl`` (one file per process, so parallel runs do not interleave).
The document is generated, never edited:

    rm -rf build/bad-inputs
    ACKOPS_CATALOGUE=build/bad-inputs .venv/bin/python -m pytest -q -p no:cacheprovider \\
        $(grep -rl "tests.catalogue import" tests/unit)
    ACKOPS_CATALOGUE=build/bad-inputs .venv/bin/python -m pytest -q -p no:cacheprovider \\
        tests/integration/test_runner.py -k bad_answer_refused_offline
    .venv/bin/python -m tests.catalogue build/bad-inputs docs/bad-inputs.md

Rendering fails (and writes nothing) when a message holds a traceback or when there are
fewer than ``--minimum`` (100) distinct inputs. ``unchanged`` is the proof the test itself
makes that nothing changed (a file tree compared, ``changed`` false asserted, objects
compared on the API server); ``None`` when the test does not check it, and the table says so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ENV = "ACKOPS_CATALOGUE"
MINIMUM = 100
# What kind of input a row is: the list, plus the arguments of modules and filters.
KINDS = (
    "variable",
    "survey answer",
    "inventory",
    "manifest",
    "compose file",
    "CIDR",
    "storage description",
    "release rule",
    "module argument",
    "filter argument",
)
NOT_CHECKED = "not checked by this test"
# Per-run scratch paths, so the table does not change from one run to the next.
SCRATCH = (
    re.compile(r"/[^\s'\":]*?/pytest-of-[^/\s]+/pytest-\d+/[^/\s'\":]+"),
    re.compile(r"/tmp/tmp[a-z0-9_]{6,}"),
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def normalise(text: str) -> str:
    text = ANSI.sub("", str(text))
    for pattern in SCRATCH:
        text = pattern.sub("<tmp>", text)
    return " ".join(printable(text).split())


def printable(text: str) -> str:
    """Control characters (a NUL in a non-UTF-8 file's text) escaped, as Python shows them."""
    return "".join(c if c.isprintable() or c.isspace() else repr(c)[1:-1] for c in text)


def summary(bad_input) -> str:
    """How a bad input is shown: text as it is, anything else as compact JSON."""
    if isinstance(bad_input, bytes):
        bad_input = bad_input.decode("utf-8", "backslashreplace")
    if not isinstance(bad_input, str):
        bad_input = json.dumps(bad_input, sort_keys=True, default=repr, ensure_ascii=False)
    elif "\n" in bad_input.strip("\n"):  # a file's text: its lines stay visible
        bad_input = " ↵ ".join(line.rstrip() for line in bad_input.strip("\n").splitlines())
    return normalise(bad_input)


def current_test() -> str:
    """``path::name[id]`` of the running test (pytest sets PYTEST_CURRENT_TEST)."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]


def record(runbook: str, kind: str, bad_input, message, unchanged: str | None = None) -> None:
    """One row: call it after the test's assertions, so only what was checked is recorded."""
    if kind not in KINDS:
        raise ValueError(f"catalogue kind {kind!r} is not one of {', '.join(KINDS)}")
    if not str(message).strip():
        raise ValueError("a catalogue row needs the message the input got")
    if not os.environ.get(ENV):
        return
    row = {
        "runbook": runbook,
        "kind": kind,
        "input": summary(bad_input),
        "message": normalise(message),
        "unchanged": normalise(unchanged) if unchanged else None,
        "test": current_test(),
    }
    append_row(ENV, row)


def append_row(variable: str, row: dict) -> None:
    """``row`` as one JSON line in ``<$variable>/<pid>.jsonl`` (one file per process, so
    parallel runs do not interleave); nothing when the variable is not set."""
    directory = os.environ.get(variable)
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    with (path / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_rows(directory: Path, required: set[str], error: type[Exception]) -> list[dict]:
    """Every row ``append_row`` wrote into ``directory``; ``error`` for a broken line."""
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise error(f"{path}:{number}: not a JSON line ({exc})") from exc
            missing = required - set(row)
            if missing:
                raise error(f"{path}:{number}: missing {', '.join(sorted(missing))}")
            rows.append(row)
    return rows


# ---- rendering


class CatalogueError(Exception):
    """The recorded rows do not make a catalogue (a traceback, too few rows, bad lines)."""


def load(directory: Path) -> list[dict]:
    return read_rows(directory, {"runbook", "kind", "input", "message"}, CatalogueError)


def distinct(rows: list[dict]) -> list[dict]:
    """One row per (runbook, kind, input); the first test to record it, by test id, wins."""
    chosen: dict[tuple, dict] = {}
    for row in sorted(rows, key=lambda r: (r.get("test") or "", r["message"])):
        chosen.setdefault((row["runbook"], row["kind"], row["input"]), row)
    return sorted(
        chosen.values(), key=lambda r: (r["runbook"], r["kind"], r.get("test") or "", r["input"])
    )


def check(rows: list[dict], minimum: int) -> None:
    traced = [r for r in rows if "Traceback" in r["message"]]
    if traced:
        first = traced[0]
        raise CatalogueError(
            f"{len(traced)} bad input(s) answered by a traceback, first: {first['runbook']} "
            f"{first['kind']} {first['input']!r} ({first.get('test')})"
        )
    if len(rows) < minimum:
        raise CatalogueError(f"{len(rows)} distinct bad inputs recorded, fewer than {minimum}")


def cell(text: str, limit: int = 0) -> str:
    """A table cell; past ``limit``, its start and its end (where a bad value usually is)."""
    text = " ".join(printable(str(text)).split())
    if limit and len(text) > limit:
        head = limit * 2 // 5
        text = text[:head] + " … " + text[-(limit - head - 3) :]
    return text.replace("|", "\\|")


# What a recorded "unchanged" text is worth. A pure validator that raised has nothing to
# change and nothing was compared; a module's own changed=false is its claim, not an
# observation; anything else is the test looking at state (files, recap, API objects).
PURE = re.compile(r" raised \w+.*: no [\w ]+ returned$")
CLAIM = re.compile(r"\bchanged ?(=|is) ?false\b|\bchanged=False\b", re.IGNORECASE)
PROOFS = {
    "observed": "state compared by the test",
    "claimed": "the module's own result says changed=false",
    "pure": "a pure check that raised: nothing to change, nothing compared",
    "none": NOT_CHECKED,
}


def proof_kind(unchanged: str | None) -> str:
    """observed, claimed, pure or none: how far a row's "nothing changed" text proves it."""
    if not unchanged:
        return "none"
    if PURE.search(unchanged):
        return "pure"
    if CLAIM.search(unchanged) and not re.search(r"compared|identical|unchanged", unchanged):
        return "claimed"
    return "observed"


def render(rows: list[dict]) -> str:
    runbooks: dict[str, list[dict]] = {}
    for row in rows:
        runbooks.setdefault(row["runbook"], []).append(row)
    tally = dict.fromkeys(PROOFS, 0)
    for row in rows:
        tally[proof_kind(row.get("unchanged"))] += 1
    lines = [
        "# Bad inputs, and what each gets",
        "",
        "<!-- Generated by tests/catalogue.py from the refusal tests; do not edit by hand. -->",
        "",
        f"Every bad input the unit tests try on the runbooks: {len(rows)} distinct inputs, none",
        "answered by a traceback. For each, the message it gets (as the test saw it), and how",
        "far the test proves that nothing changed:",
        "",
        f"- {tally['observed']}: {PROOFS['observed']} (a file tree, a play recap, objects);",
        f"- {tally['claimed']}: {PROOFS['claimed']} (asserted, not observed);",
        f"- {tally['pure']}: {PROOFS['pure']} (the runbooks call these checks before any write);",
        f"- {tally['none']}: {PROOFS['none']}.",
        "",
        "The lab's refusal tests (objects compared on the API server before and after) record",
        "rows too, but the command below runs the unit tests only.",
        "",
        "Regenerate (the tests record rows only when `ACKOPS_CATALOGUE` is set):",
        "",
        "```",
        "rm -rf build/bad-inputs",
        "ACKOPS_CATALOGUE=build/bad-inputs .venv/bin/python -m pytest -q -p no:cacheprovider \\",
        '    $(grep -rl "tests.catalogue import" tests/unit)',
        ".venv/bin/python -m tests.catalogue build/bad-inputs docs/bad-inputs.md",
        "```",
        "",
        "| Runbook | Bad inputs | State compared | changed=false claimed | Pure check | Not checked |",
        "|---|---|---|---|---|---|",
    ]
    for runbook, items in runbooks.items():
        kinds = [proof_kind(r.get("unchanged")) for r in items]
        counts = " | ".join(str(kinds.count(kind)) for kind in PROOFS)
        lines.append(f"| {runbook} | {len(items)} | {counts} |")
    number = 0
    for runbook, items in runbooks.items():
        lines += ["", f"## {runbook}", ""]
        lines += [
            "| # | Kind | Bad input | Message | Nothing changed | Test |",
            "|---|---|---|---|---|---|",
        ]
        for row in items:
            number += 1
            test = (row.get("test") or "").split("::", 1)  # a parameter id may hold "::"
            where = f"`{Path(test[0]).name}::{test[-1]}`" if len(test) > 1 else ""
            shown = cell(row["input"], 600).replace("`", "'")
            kind = proof_kind(row.get("unchanged"))
            if kind == "none":
                proof = f"— {NOT_CHECKED}"
            elif kind == "observed":
                proof = row["unchanged"]
            else:
                proof = f"{PROOFS[kind]} ({row['unchanged']})"
            lines.append(
                f"| {number} | {cell(row['kind'])} | `{shown}` | {cell(row['message'], 600)} "
                f"| {cell(proof)} | {cell(where)} |"
            )
    return "\n".join(lines) + "\n"


def table_rows(document: str) -> list[list[str]]:
    """The catalogue rows of a rendered document (for the tests that read docs/bad-inputs.md)."""
    rows = []
    for line in document.splitlines():
        if re.match(r"^\| \d+ \| ", line):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="render docs/bad-inputs.md from recorded rows")
    parser.add_argument("directory", type=Path, help="where the tests wrote their *.jsonl")
    parser.add_argument("output", type=Path, help="the Markdown file to write")
    parser.add_argument("--minimum", type=int, default=MINIMUM)
    args = parser.parse_args(argv)
    try:
        rows = distinct(load(args.directory))
        check(rows, args.minimum)
    except CatalogueError as exc:
        print(f"catalogue: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(render(rows), encoding="utf-8")
    print(f"catalogue: {len(rows)} distinct bad inputs -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
