"""ackops.runbooks.report_write run as Ansible runs it: a process with its arguments file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    ERROR_KEYS,
    FAILURE_KEYS,
)

REPO = Path(__file__).resolve().parents[4]


def run_module(cwd: Path, **args) -> dict:
    args_file = cwd / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = {**os.environ, "PYTHONPATH": str(REPO / "collections")}
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.ackops.runbooks.plugins.modules.report_write",
         str(args_file)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return json.loads(proc.stdout)


def test_writes_a_relative_directory_under_the_working_directory(tmp_path):
    result = run_module(
        tmp_path, dir="reports", name="plan-cluster", data={"valid": True}, markdown="# Plan"
    )
    assert result["changed"] is True
    assert result["json_path"] == str(tmp_path / "reports" / "plan-cluster.json")
    assert (tmp_path / "reports" / "plan-cluster.json").read_text() == '{\n    "valid": true\n}\n'
    again = run_module(
        tmp_path, dir="reports", name="plan-cluster", data={"valid": True}, markdown="# Plan"
    )
    assert again["changed"] is False


def test_check_mode_writes_nothing(tmp_path):
    result = run_module(
        tmp_path, dir="reports", name="plan", data={}, markdown="", _ansible_check_mode=True
    )
    assert result["changed"] is True
    assert not (tmp_path / "reports").exists()


def test_failure_follows_the_error_contract(tmp_path):
    result = run_module(tmp_path, dir="reports", name="../escape", data={}, markdown="")
    assert result["failed"] is True
    assert set(FAILURE_KEYS) <= set(result)
    assert set(result["error"]) == set(ERROR_KEYS)
    assert result["error"]["type"] == "report"
    assert result["error"]["field"] == "name"
    assert result["msg"].startswith("name: '../escape' is not a report name")
    assert result["partial_changes"] == []
    assert not (tmp_path / "reports").exists()
