"""The fault matrix recorder and renderer (tests/faults.py), without the lab.

The recorder stays silent without ACKOPS_FAULTS and refuses rows that would invent or
mistype a value; the renderer shows "not checked" for what a test did not check, one row
per fault, lists the issue's faults no row stands for, and refuses a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import faults

SSHD_TEST = "tests/integration/test_faults.py::test_a_worker_failing_and_a_worker_lost_mid_renewal_do_not_stop_the_others"


def a_row(**changes) -> dict:
    row = {
        "fault": "worker-sshd-killed",
        "runbook": "renew-certs",
        "reported": "lab-worker-2: UNREACHABLE",
        "rerun_converged": True,
        "keys_match": True,
        "backups": None,
        "failed_probes": None,
        "probes": None,
        "lab": "small: 1 master, 2 workers",
        "test": SSHD_TEST,
    }
    return {**row, **changes}


def write_rows(directory: Path, *rows: dict) -> Path:
    directory.mkdir(exist_ok=True)
    with (directory / "1.jsonl").open("a") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return directory


def test_nothing_is_recorded_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(faults.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    faults.record("worker-sshd-killed", "renew-certs", "x", True, None, None, None)
    assert list(tmp_path.iterdir()) == []


def test_a_row_keeps_what_was_checked_and_none_for_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv(faults.ENV, str(tmp_path / "rows"))
    faults.record(
        "controller-killed", "renew-certs", "refused:\n  another run holds it",
        True, True, True, None, lab="small: 1 master, 2 workers",
    )  # fmt: skip
    (row,) = faults.load(tmp_path / "rows")
    assert row["reported"] == "refused: another run holds it"
    assert (row["rerun_converged"], row["keys_match"], row["backups"]) == (True, True, True)
    assert row["failed_probes"] is None
    assert row["test"].endswith("::test_a_row_keeps_what_was_checked_and_none_for_the_rest")


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("no-such-fault", "renew-certs", "x", True, None, None, None), {}, "not in"),
        (("worker-sshd-killed", "release", "x", True, None, None, None), {}, "renew-certs fault"),
        (("worker-sshd-killed", "renew-certs", " ", True, None, None, None), {}, "reported"),
        (
            ("worker-sshd-killed", "renew-certs", "x", "yes", None, None, None),
            {},
            "rerun_converged",
        ),
        (("worker-sshd-killed", "renew-certs", "x", True, 1, None, None), {}, "keys_match"),
        (("worker-sshd-killed", "renew-certs", "x", True, None, None, True), {}, "failed_probes"),
        (("worker-sshd-killed", "renew-certs", "x", True, None, None, -1), {}, "negative"),
        (("worker-sshd-killed", "renew-certs", "x", True, None, None, 5), {"probes": 3}, "more"),
    ],
)
def test_a_mistyped_row_is_a_mistake_in_the_test(args, kwargs, match, monkeypatch):
    monkeypatch.delenv(faults.ENV, raising=False)
    with pytest.raises(ValueError, match=match):
        faults.record(*args, **kwargs)


def test_every_fault_names_an_existing_test_and_an_issue_item_or_none():
    repo = Path(__file__).resolve().parents[2]
    for key, fault in faults.FAULTS.items():
        path, name = fault.test.split("::")
        assert f"def {name}(" in (repo / path).read_text(), key
        assert fault.covers in (*faults.ISSUE, ""), key
    listed = faults.tests_to_run()
    assert sorted(listed) == sorted({f.test for f in faults.FAULTS.values()})
    files = [test.split("::")[0] for test in listed]
    assert files == sorted(files, key=files.index), "a file's tests are not together"


def test_unchecked_columns_say_so_and_nothing_is_filled_in(tmp_path):
    rows = faults.one_per_fault(faults.load(write_rows(tmp_path / "rows", a_row())))
    document = faults.render(rows)
    (line,) = [line for line in document.splitlines() if line.startswith("| 1 |")]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[3] == "lab-worker-2: UNREACHABLE"
    assert cells[4:8] == ["yes", "yes", "not checked", "not checked"]
    assert cells[8] == "small: 1 master, 2 workers"
    assert (
        cells[9]
        == "`test_faults.py::test_a_worker_failing_and_a_worker_lost_mid_renewal_do_not_stop_the_others`"
    )
    assert "1 faults recorded, 1 holding in every column checked" in document
    assert "backups in 1, SLB probes in 1" in document


def test_a_failed_column_is_shown_and_the_row_does_not_hold(tmp_path):
    row = a_row(keys_match=False, failed_probes=3, probes=400)
    document = faults.render(faults.one_per_fault(faults.load(write_rows(tmp_path / "r", row))))
    assert "| **no** |" in document
    assert "| 3 of 400 |" in document
    assert "1 faults recorded, 0 holding" in document


def test_one_row_per_fault_the_first_test_wins(tmp_path):
    rows = faults.load(
        write_rows(
            tmp_path / "rows",
            a_row(test="b.py::test_b", reported="second"),
            a_row(test="a.py::test_a", reported="first"),
        )
    )
    (chosen,) = faults.one_per_fault(rows).values()
    assert chosen["reported"] == "first"


def test_the_issue_items_no_row_stands_for_are_listed(tmp_path, monkeypatch):
    document = faults.render(faults.one_per_fault(faults.load(write_rows(tmp_path / "r", a_row()))))
    coverage = document.split("## The issue's faults", 1)[1]
    assert "| During a renewal, a worker's sshd killed mid-run | 1 | — |" in coverage
    ingress = next(line for line in coverage.splitlines() if "ingress-ha" in line)
    assert "**missing**" not in ingress
    assert "test_an_apiserver_restart_during_the_run_is_survived_by_rerunning" in ingress
    # An item of the issue that no fault of the matrix stands for is said to be missing.
    without = {k: v for k, v in faults.FAULTS.items() if v.covers != "ingress-apiserver"}
    monkeypatch.setattr(faults, "FAULTS", without)
    document = faults.render(faults.one_per_fault(faults.load(write_rows(tmp_path / "s", a_row()))))
    coverage = document.split("## The issue's faults", 1)[1]
    ingress = next(line for line in coverage.splitlines() if "ingress-ha" in line)
    assert "**missing**" in ingress
    release = next(line for line in coverage.splitlines() if "release step" in line)
    assert "`test_release.py::test_apiserver_restart_during_a_step_is_survived_by_rerunning`" in (
        release
    )


def test_rendering_refuses_a_traceback_or_nothing_and_writes_nothing(tmp_path, capsys):
    output = tmp_path / "reliability.md"
    (tmp_path / "empty").mkdir()
    assert faults.main([str(tmp_path / "empty"), str(output)]) == 1
    assert "no fault was recorded" in capsys.readouterr().err
    traced = a_row(reported="Traceback (most recent call last): boom")
    assert faults.main([str(write_rows(tmp_path / "rows", traced)), str(output)]) == 1
    assert "traceback" in capsys.readouterr().err
    assert not output.exists()


def test_unknown_faults_and_broken_lines_are_refused(tmp_path):
    with pytest.raises(faults.MatrixError, match="unknown fault"):
        faults.load(write_rows(tmp_path / "a", a_row(fault="gone")))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "1.jsonl").write_text("{not json\n")
    with pytest.raises(faults.MatrixError, match="not a JSON line"):
        faults.load(tmp_path / "b")


def test_main_writes_the_document_and_lists_the_tests(tmp_path, capsys):
    output = tmp_path / "reliability.md"
    assert faults.main([str(write_rows(tmp_path / "rows", a_row())), str(output)]) == 0
    assert output.read_text().startswith("# Reliability: the fault matrix")
    assert faults.main(["--tests"]) == 0
    assert SSHD_TEST in capsys.readouterr().out.split()


# ansible-playbook ends the first line of a failure with "=> " (a trailing space).
YAML_FAILURE = """\
TASK [Renew] ******
fatal: [lab-master-1]: FAILED! => {space}
    changed: false
    msg: 'lab-master-1: the renewal did not come back healthy (timeout).
        Restored the backup /var/lib/ackops/pki-backups/pki-1.'

fatal: [lab-worker-2]: UNREACHABLE! => {space}
    changed: false
    msg: |-
        Task failed: Data could not be sent to remote host "10.250.0.102".
        Connection timed out
    unreachable: true
failed: [lab-worker-1] => (item=x): FAILED! => {{"changed": false, "msg": "one item"}}
""".format(space=" ")


def test_failures_are_read_from_the_playbook_output():
    assert faults.failures(YAML_FAILURE) == [
        ("lab-master-1", "FAILED", "lab-master-1: the renewal did not come back healthy "
         "(timeout). Restored the backup /var/lib/ackops/pki-backups/pki-1."),
        ("lab-worker-2", "UNREACHABLE", 'Task failed: Data could not be sent to remote host '
         '"10.250.0.102". Connection timed out'),
        ("lab-worker-1", "FAILED", "one item"),
    ]  # fmt: skip
    assert faults.failures("PLAY RECAP\nok: [x]\n") == []


DEBUG_OUTPUT = """\
TASK [ackops.runbooks.renew_certs : Say what an earlier run left unfinished] ***
ok: [lab-master-1] =>{space}
    msg: 'lab-master-1: kube-apiserver (pid 812) started before its certificates were
        written by an earlier run. This run restarts the control plane.'

TASK [ackops.runbooks.renew_certs : Next] ***
""".format(space=" ")


def test_the_message_holding_a_text_is_taken_whole():
    assert faults.message_with(DEBUG_OUTPUT, "started before") == (
        "lab-master-1: kube-apiserver (pid 812) started before its certificates were written "
        "by an earlier run. This run restarts the control plane."
    )
    with pytest.raises(ValueError, match="not in the output"):
        faults.message_with(DEBUG_OUTPUT, "never said")


ERROR_OUTPUT = """\
TASK [ackops.runbooks.renew_certs : Fail when a host could not be reached] *****
[ERROR]: Task failed: Action failed: lab-worker-9 could not be reached over SSH: their
certificates were not read. Fix access and run again.
Origin: /work/main/roles/renew_certs/tasks/reach_verdict.yml:4:3

2 # The run's result when a host could not be reached
"""


def test_ansible_cores_error_framing_is_left_out():
    assert faults.message_with(ERROR_OUTPUT, "could not be reached") == (
        "lab-worker-9 could not be reached over SSH: their certificates were not read. "
        "Fix access and run again."
    )
    recorded = (
        "***** [ERROR]: Task failed: Module failed: lab-master-1: held. Origin: /x.yml:4:3 2 # src"
    )
    assert faults.clean_message(recorded) == "lab-master-1: held."


def test_the_framing_is_left_out_inside_a_longer_text_too():
    recorded = (
        "Started again: *** [ERROR]: Task failed: Module failed: m1: held. Origin: "
        "/r/master.yml:14:3 12 x: 1 13 14 - name: Take the lock ^ column 3 With the lock "
        "removed, it converged."
    )
    assert faults.clean_message(recorded) == (
        "Started again: m1: held. With the lock removed, it converged."
    )
    cut = "m1: held. Origin: /r/master.yml:14:3 12 x: 1 ^ colu With the lock removed."
    assert faults.clean_message(cut) == "m1: held. With the lock removed."
    assert faults.clean_message("m1: held. Origin: /r/m.yml:1:2 12 x") == "m1: held."
