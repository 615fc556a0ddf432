"""ackops.runbooks.host_lock run as Ansible runs it: a process with its arguments file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
MODULE = "ansible_collections.ackops.runbooks.plugins.modules.host_lock"


def lock(tmp_path: Path, check: bool = False, **args) -> dict:
    args_file = tmp_path / "args.json"
    if check:
        args["_ansible_check_mode"] = True
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = {**os.environ, "PYTHONPATH": str(REPO / "collections")}
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, str(args_file)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return json.loads(proc.stdout)


def test_take_keep_release(tmp_path):
    path = tmp_path / "locks" / "renew.lock"
    first = lock(tmp_path, path=str(path), owner="run-a")
    assert first["changed"] is True
    assert first["holder"]["owner"] == "run-a"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    again = lock(tmp_path, path=str(path), owner="run-a")
    assert again["changed"] is False
    released = lock(tmp_path, path=str(path), owner="run-a", state="absent")
    assert released["changed"] is True
    assert not path.exists()


def test_another_owners_live_lock_is_refused_and_kept(tmp_path):
    path = tmp_path / "renew.lock"
    lock(tmp_path, path=str(path), owner="run-a")
    before = path.read_text()
    refused = lock(tmp_path, path=str(path), owner="run-b")
    assert refused["failed"] is True
    assert refused["error"]["type"] == "lock"
    assert refused["error"]["object"] == str(path)
    assert "another run holds it: run-a, since" in refused["msg"]
    assert f"remove {path}" in refused["msg"]
    assert path.read_text() == before
    # and run-b cannot release run-a's lock
    assert lock(tmp_path, path=str(path), owner="run-b", state="absent")["changed"] is False
    assert path.read_text() == before


def test_an_expired_lock_is_taken_over_with_a_warning(tmp_path):
    path = tmp_path / "renew.lock"
    path.write_text(json.dumps({"owner": "dead-run", "since": "2020-01-01T00:00:00Z",
                                "expires": "2020-01-01T01:00:00Z"}))  # fmt: skip
    taken = lock(tmp_path, path=str(path), owner="run-b")
    assert taken["changed"] is True
    assert taken["taken_over"]["owner"] == "dead-run"
    # ansible-core 2.19 returns each warning as a summary with its event's message.
    assert "took over the expired lock of dead-run" in json.dumps(taken["warnings"])
    assert json.loads(path.read_text())["owner"] == "run-b"


def test_check_mode_checks_and_writes_nothing(tmp_path):
    path = tmp_path / "renew.lock"
    free = lock(tmp_path, check=True, path=str(path), owner="run-a")
    assert free["changed"] is True
    assert not path.exists()
    lock(tmp_path, path=str(path), owner="run-a")
    held = lock(tmp_path, check=True, path=str(path), owner="run-b")
    assert held["failed"] is True


def test_a_foreign_file_is_not_taken_for_a_lock(tmp_path):
    path = tmp_path / "renew.lock"
    path.write_text("[1, 2]")
    refused = lock(tmp_path, path=str(path), owner="run-a")
    assert refused["failed"] is True
    assert "not a lock this module wrote" in refused["msg"]
    assert path.read_text() == "[1, 2]"
