"""The fault matrix: what the runbooks do when something breaks under them, rendered from
the lab tests that break it into one table, docs/reliability.md.

A fault test calls ``record(...)`` once, after its own assertions passed, with what it saw:
what the runbook reported, whether a re-run converged, whether every certificate on the
hosts still matches its key, whether backups exist, and how many API probes through the
SLB failed. ``None`` means the test does not check that column; the table then says "not
checked" (a value is never filled in for a test). ``record`` does nothing unless
``ACKOPS_FAULTS`` names a directory; then it appends one JSON line to ``<dir>/<pid>.jsonl``.
The document is generated, never edited (``make faults``):

    rm -rf build/faults
    ACKOPS_FAULTS=build/faults .venv/bin/python -m pytest -p no:cacheprovider \\
        $(.venv/bin/python -m tests.faults --tests)
    .venv/bin/python -m tests.faults build/faults docs/reliability.md

Every fault the matrix knows is in ``FAULTS`` (with the test that makes it); the faults
the issue asks for are ``ISSUE``. A fault no test recorded in the run is listed as not
run, and an item of the issue no fault stands for is listed as missing, so the table
never looks more complete than the run was.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.catalogue import append_row, cell, current_test, normalise, read_rows

ENV = "ACKOPS_FAULTS"
NOT_CHECKED = "not checked"


def matrix_only(test):
    """A fault test longer than make integration's time for it: marked ``fault_matrix``, which
    `make integration` leaves out (``-m "not fault_matrix"``: deselected, never skipped) and
    `make faults` runs, as does pytest given the test without that filter."""
    import pytest  # only the lab tests use it; rendering the matrix does not need pytest

    return pytest.mark.fault_matrix(test)


# What the issue asks the matrix to cover (issue 15, "A fault matrix, on the ha lab").
ISSUE = {
    "sshd": "During a renewal, a worker's sshd killed mid-run",
    "apiserver": "During a renewal, a master's API server killed mid-run",
    "backup-full": "During a renewal, the backup file system full",
    "kubeconfig": "A kubeconfig corrupted between report and renewal",
    "network": "The network to one host cut (its veth down)",
    "controller": "The controller's run killed and started again",
    "ingress-apiserver": "During an ingress-ha run, the API server restarted",
    "release-apiserver": "During a release step, the API server restarted",
}


@dataclass(frozen=True)
class Fault:
    title: str  # what the test does to the cluster, as the table shows it
    runbook: str
    test: str  # the test that makes it (path::name), for `--tests` and the table
    covers: str = ""  # the ISSUE item it stands for, or "" for a fault beyond the list


FAULTS: dict[str, Fault] = {
    "worker-sshd-killed": Fault(
        "A worker's sshd killed once the masters' play started (its sessions too), "
        "kept down until the run ended; another worker's renewal failing; one worker per batch",
        "renew-certs",
        "tests/integration/test_faults.py"
        "::test_a_worker_failing_and_a_worker_lost_mid_renewal_do_not_stop_the_others",
        "sshd",
    ),
    "apiserver-killed": Fault(
        "The master's API server SIGKILLed while the run waits for it to serve the renewed "
        "certificate (the host's kubelet starts it again)",
        "renew-certs",
        "tests/integration/test_faults.py::test_a_masters_api_server_killed_mid_renewal",
        "apiserver",
    ),
    "apiserver-fails-ssh": Fault(
        "A master's API server fails from its restart on (lab fault), HA lab, SSH method",
        "renew-certs",
        "tests/integration/test_renew_certs.py"
        "::test_ha_renewal_without_a_failed_request_then_rollback",
        "apiserver",
    ),
    "apiserver-fails-job": Fault(
        "A master's API server fails from its restart on (lab fault), HA lab, Job method",
        "renew-certs",
        "tests/integration/test_renew_jobs.py::test_job_method_rolls_back_a_master_that_fails_and_stops",
        "apiserver",
    ),
    "manifests-aside": Fault(
        "A restart interrupted with the manifests moved aside (the control plane stopped)",
        "renew-certs",
        "tests/integration/test_renew_interrupted.py"
        "::test_manifests_left_aside_are_put_back_and_checked",
        "apiserver",
    ),
    "backup-fs-full": Fault(
        "The file system of the backup directory full when the renewal starts",
        "renew-certs",
        "tests/integration/test_faults.py::test_a_full_backup_file_system_refuses_the_renewal",
        "backup-full",
    ),
    "pki-disk-full": Fault(
        "The file system of pki/etcd full during the write",
        "renew-certs",
        "tests/integration/test_renew_pki_rules.py::test_disk_full_during_the_write_is_rolled_back",
    ),
    "kubeconfig-corrupted": Fault(
        "A master's controller-manager.conf truncated between the report and the renewal",
        "renew-certs",
        "tests/integration/test_faults.py::test_a_kubeconfig_corrupted_after_the_report",
        "kubeconfig",
    ),
    "network-cut-report": Fault(
        "The network to a worker cut (its veth down) once the report play started",
        "renew-certs",
        "tests/integration/test_faults.py::test_the_network_to_a_worker_cut_during_a_report",
        "network",
    ),
    "worker-unreachable-report": Fault(
        "A worker with nothing at its address (report)",
        "renew-certs",
        "tests/integration/test_renew_unreachable.py"
        "::test_report_lists_an_unreachable_worker_and_covers_the_others",
        "network",
    ),
    "worker-unreachable-renewal": Fault(
        "A worker with nothing at its address (renewal)",
        "renew-certs",
        "tests/integration/test_renew_unreachable.py"
        "::test_renewal_goes_on_without_an_unreachable_worker",
        "network",
    ),
    "controller-killed": Fault(
        "ansible-playbook SIGKILLed (with its workers) right after a master's certificates "
        "were written, then started again",
        "renew-certs",
        "tests/integration/test_faults.py::test_the_controllers_run_killed_and_started_again",
        "controller",
    ),
    "died-after-write": Fault(
        "A run that stopped right after writing a master's certificates (before the restart)",
        "renew-certs",
        "tests/integration/test_renew_interrupted.py"
        "::test_a_run_that_died_after_writing_is_restarted_by_the_next",
        "controller",
    ),
    "lock-held": Fault(
        "A master's renewal lock held by another run",
        "renew-certs",
        "tests/integration/test_renew_interrupted.py"
        "::test_a_second_run_on_a_locked_master_is_refused",
    ),
    "ha-restarts": Fault(
        "Each master's control plane restarted by the renewal, one master at a time (HA lab)",
        "renew-certs",
        "tests/integration/test_renew_certs.py"
        "::test_ha_renewal_without_a_failed_request_then_rollback",
    ),
    "release-apiserver-restart": Fault(
        "The API server restarted while a release step waits at its gate",
        "release",
        "tests/integration/test_release.py"
        "::test_apiserver_restart_during_a_step_is_survived_by_rerunning",
        "release-apiserver",
    ),
    "ingress-apiserver-restart": Fault(
        "The API server frozen as ingress-ha's task starts, then killed and started again",
        "ingress-ha",
        "tests/integration/test_ingress_ha.py"
        "::test_an_apiserver_restart_during_the_run_is_survived_by_rerunning",
        "ingress-apiserver",
    ),
}


def record(
    fault: str,
    runbook: str,
    what_the_runbook_reported: str,
    rerun_converged: bool | None,
    keys_match: bool | None,
    backups: bool | None,
    failed_probes: int | None,
    test: str | None = None,
    *,
    probes: int | None = None,
    lab: str | None = None,
) -> None:
    """One row, after the test's assertions: only what the test checked or measured.

    ``None`` for a column the test does not check. ``probes`` is how many API probes
    went through the SLB in all (with ``failed_probes`` failed); ``lab`` the lab's shape
    (see ``lab_shape``). ``test`` defaults to the running test.
    """
    if fault not in FAULTS:
        raise ValueError(f"fault {fault!r} is not in tests/faults.py FAULTS")
    if FAULTS[fault].runbook != runbook:
        raise ValueError(f"fault {fault!r} is a {FAULTS[fault].runbook} fault, not {runbook}")
    if not str(what_the_runbook_reported).strip():
        raise ValueError("a fault row needs what the runbook reported")
    for name, value in (
        ("rerun_converged", rerun_converged),
        ("keys_match", keys_match),
        ("backups", backups),
    ):
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{name} is true, false or None (not checked), not {value!r}")
    for name, value in (("failed_probes", failed_probes), ("probes", probes)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} is a count or None (not checked), not {value!r}")
        if value is not None and value < 0:
            raise ValueError(f"{name} cannot be negative")
    if probes is not None and failed_probes is not None and failed_probes > probes:
        raise ValueError("more failed probes than probes")
    append_row(
        ENV,
        {
            "fault": fault,
            "runbook": runbook,
            "reported": normalise(what_the_runbook_reported),
            "rerun_converged": rerun_converged,
            "keys_match": keys_match,
            "backups": backups,
            "failed_probes": failed_probes,
            "probes": probes,
            "lab": lab,
            "test": test or current_test(),
        },
    )


def lab_shape(lab) -> str:
    """The lab's shape, e.g. `small: 1 master, 2 workers` (a conftest.py Lab handle)."""
    masters, workers = len(lab.masters), len(lab.workers)
    size = (lab.opts or {}).get("size") or lab.status().get("size") or "lab"
    return f"{size}: {masters} master{'s' * (masters != 1)}, {workers} worker{'s' * (workers != 1)}"


# ansible-playbook's failure lines: `fatal: [host]: FAILED! => ` then the result, indented
# YAML (callback_result_format = yaml) or JSON on the same line.
FAILURE = re.compile(
    r"^(?:fatal|failed): \[([^\]]+)\](?: => \([^)]*\))?: (FAILED|UNREACHABLE)! => ?(.*)$"
)


def failures(output: str) -> list[tuple[str, str, str]]:
    """(host, FAILED or UNREACHABLE, msg) of every failed task in ansible-playbook's output."""
    found = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        match = FAILURE.match(line)
        if not match:
            continue
        host, kind, rest = match.groups()
        result = None
        if rest.strip().startswith("{"):
            try:
                result = json.loads(rest)
            except ValueError:
                result = None
        else:
            block = []
            for following in lines[index + 1 :]:
                if following and not following.startswith(" "):
                    break
                if not following.strip() and block and not block[-1].strip():
                    break
                block.append(following)
            try:
                result = yaml.safe_load("\n".join(block))
            except yaml.YAMLError:
                result = None
        message = result.get("msg") if isinstance(result, dict) else None
        found.append((host, kind, " ".join(str(message or rest).split())))
    return found


# Where a message printed by a task ends in the flattened output: the next task's header
# or result, or the recap.
MESSAGE_END = re.compile(
    r" (?:TASK \[|PLAY \[|PLAY RECAP|ok: \[|changed: \[|skipping: \[|fatal: \[|Origin: )"
)


# ansible-core 2.19 prints a failure twice: an [ERROR] line ("Task failed: Action failed:
# <msg>", then "Origin: <file:line>" and the task's source) and the result's msg.
ERROR_PREFIX = re.compile(
    r"\**\s*\[ERROR\]: (?:Task failed: )?(?:(?:Action|Module) failed: )?|^(?:Task failed: )?"
    r"(?:(?:Action|Module) failed: )"
)
# "Origin: file:line:column", then the task's source down to its "^ column N" line (or
# to the end, when the recorded text was cut before it).
ERROR_ORIGIN = re.compile(r" Origin: \S+:\d+:\d+(?:.*?\^ col\w*(?: \d+)?|.*$)")


def clean_message(text: str) -> str:
    """A runbook's message without ansible-core's [ERROR] framing (prefix, Origin, source)."""
    return " ".join(ERROR_ORIGIN.sub("", ERROR_PREFIX.sub("", text)).split())


def message_with(output: str, text: str, limit: int = 600) -> str:
    """The message in ansible-playbook's output that holds ``text``: from its ``msg:`` (or
    its result line) to the next task's output, line wrapping undone."""
    flat = " ".join(output.split())
    headers = [m.span() for m in re.finditer(r"(?:TASK|PLAY) \[[^\]]*\]", flat)]
    found = [
        m.start()
        for m in re.finditer(re.escape(text), flat)
        if not any(start <= m.start() < end for start, end in headers)  # a task's name
    ]
    if not found:
        raise ValueError(f"{text!r} is not in the output")
    index = found[0]
    markers = ("msg: ", "[ERROR]: ", "=> ", "] ")
    start, marker = max((flat.rfind(m, 0, index), m) for m in markers)
    start = max(start + len(marker), index - limit) if start >= 0 else max(0, index - limit)
    end = MESSAGE_END.search(flat, index)
    message = flat[start : end.start() if end else index + limit]
    return clean_message(message.strip().strip("'\""))[:limit]


# ---- rendering


class MatrixError(Exception):
    """The recorded rows do not make a matrix (a traceback, an unknown fault, bad lines)."""


FIELDS = ("fault", "runbook", "reported", "rerun_converged", "keys_match", "backups")


def load(directory: Path) -> list[dict]:
    rows = read_rows(directory, set(FIELDS), MatrixError)
    unknown = sorted({row["fault"] for row in rows} - set(FAULTS))
    if unknown:
        raise MatrixError(f"unknown fault {', '.join(map(repr, unknown))} in {directory}")
    return rows


def one_per_fault(rows: list[dict]) -> dict[str, dict]:
    """The row of each fault: the first by test id when a fault was recorded twice."""
    chosen: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: (r.get("test") or "", r["reported"])):
        chosen.setdefault(row["fault"], row)
    return {key: chosen[key] for key in FAULTS if key in chosen}


def check(rows: dict[str, dict]) -> None:
    if not rows:
        raise MatrixError("no fault was recorded (was ACKOPS_FAULTS set for the tests?)")
    traced = [key for key, row in rows.items() if "Traceback" in row["reported"]]
    if traced:
        raise MatrixError(f"the runbook answered with a traceback: {', '.join(traced)}")


def yes_no(value: bool | None) -> str:
    return NOT_CHECKED if value is None else ("yes" if value else "**no**")


def probes_cell(row: dict) -> str:
    failed, total = row.get("failed_probes"), row.get("probes")
    if failed is None:
        return NOT_CHECKED
    return f"{failed} of {total}" if total is not None else str(failed)


def holds(row: dict) -> bool:
    """No column the test checked says otherwise (an unchecked column is shown as such)."""
    return (
        row["rerun_converged"] is not False
        and row["keys_match"] is not False
        and row["backups"] is not False
        and not row.get("failed_probes")
    )


def where(test: str) -> str:
    parts = (test or "").split("::", 1)
    return f"`{Path(parts[0]).name}::{parts[-1]}`" if len(parts) > 1 else ""


def render(rows: dict[str, dict]) -> str:
    numbers = {key: number for number, key in enumerate(rows, 1)}
    unchecked = {
        column: sum(row[field] is None for row in rows.values())
        for column, field in (
            ("re-run", "rerun_converged"),
            ("certificates and keys", "keys_match"),
            ("backups", "backups"),
            ("SLB probes", "failed_probes"),
        )
    }
    lines = [
        "# Reliability: the fault matrix",
        "",
        "<!-- Generated by tests/faults.py from the lab's fault tests; do not edit by hand. -->",
        "",
        "What the runbooks do when something breaks under them, on the local lab (real SSH,",
        "a real API server, real certificate files). Each row is recorded by the test that",
        "makes the fault, after its own assertions passed, from what it checked or measured:",
        "",
        "- **What the runbook reported**: the message the run ended with, as the test saw it;",
        "- **Re-run converges**: the run made again after the fault ends in the wanted state;",
        "- **Certificates match their keys**: every certificate/key pair on every host",
        "  (pki/, kubeconfigs, kubelet credentials) read from the lab's files afterwards;",
        "- **Backups exist**: a complete backup (its manifest.json written) of each host",
        "  that was changed, or the restore the runbook made from one;",
        "- **Failed API probes**: GETs through the SLB (10.250.0.1:6443), on fresh",
        "  connections every 0.1 s while the runbook ran.",
        "",
        f'"{NOT_CHECKED}" means the test does not check that column; nothing is filled in.',
        f"{len(rows)} faults recorded, {sum(map(holds, rows.values()))} holding in every "
        "column checked. Not checked: "
        + ", ".join(f"{column} in {count}" for column, count in unchecked.items())
        + ".",
        "",
        "Regenerate with `make faults` (the lab tests record rows only when `ACKOPS_FAULTS` is",
        "set; see tests/faults.py).",
        "",
        "| # | Fault | Runbook | What the runbook reported | Re-run converges "
        "| Certificates match their keys | Backups exist | Failed API probes (SLB) | Lab | Test |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in rows.items():
        lines.append(
            f"| {numbers[key]} | {cell(FAULTS[key].title)} | {row['runbook']} "
            f"| {cell(clean_message(row['reported']), 700)} | {yes_no(row['rerun_converged'])} "
            f"| {yes_no(row['keys_match'])} | {yes_no(row['backups'])} | {probes_cell(row)} "
            f"| {cell(row.get('lab') or NOT_CHECKED)} | {cell(where(row.get('test') or ''))} |"
        )
    lines += [
        "",
        "## The issue's faults and the rows that stand for them",
        "",
        "| Fault asked for | Rows | Not run in this generation |",
        "|---|---|---|",
    ]
    for item, text in ISSUE.items():
        mine = [key for key, fault in FAULTS.items() if fault.covers == item]
        done = ", ".join(str(numbers[key]) for key in mine if key in rows)
        left = [where(FAULTS[key].test) for key in mine if key not in rows]
        if not mine:
            done, left = "**missing**: no test makes this fault yet", []
        lines.append(f"| {text} | {done or '—'} | {', '.join(left) or '—'} |")
    beyond = [key for key, fault in FAULTS.items() if not fault.covers and key not in rows]
    if beyond:
        lines += ["", "Also not run in this generation:", ""]
        lines += [f"- {FAULTS[key].title} ({where(FAULTS[key].test)})" for key in beyond]
    return "\n".join(lines) + "\n"


def tests_to_run() -> list[str]:
    """Each test that records a fault, once, grouped by file (so that a module's lab is
    brought up once), files and tests in FAULTS order."""
    tests = list(dict.fromkeys(fault.test for fault in FAULTS.values()))
    files = list(dict.fromkeys(test.split("::")[0] for test in tests))
    return sorted(tests, key=lambda test: files.index(test.split("::")[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="render docs/reliability.md from recorded rows")
    parser.add_argument("--tests", action="store_true", help="print the tests that record faults")
    parser.add_argument("directory", type=Path, nargs="?", help="where the tests wrote *.jsonl")
    parser.add_argument("output", type=Path, nargs="?", help="the Markdown file to write")
    args = parser.parse_args(argv)
    if args.tests:
        print(" ".join(tests_to_run()))
        return 0
    if args.directory is None or args.output is None:
        parser.error("give the rows' directory and the output file (or --tests)")
    try:
        rows = one_per_fault(load(args.directory))
        check(rows)
    except MatrixError as exc:
        print(f"faults: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(render(rows), encoding="utf-8")
    print(f"faults: {len(rows)} of {len(FAULTS)} faults -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
