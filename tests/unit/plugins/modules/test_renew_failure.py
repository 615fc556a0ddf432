"""A renewal that fails half-way still says what it changed: the module's real failure output.

The module's ``main`` runs in this process (arguments through
``ansible.module_utils.basic._ANSIBLE_ARGS``, result read from what
``fail_json``/``exit_json`` print), so a fault can be injected between two of
its writes: a full disk on the Nth rename, a bug in a helper.
"""

from __future__ import annotations

import errno
import json
import os
import socket

import pytest
from ansible.module_utils import basic

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import ERROR_KEYS
from ansible_collections.ackops.runbooks.plugins.module_utils.pki import renew as pki_renew
from ansible_collections.ackops.runbooks.plugins.modules import k8s_cert_backup, k8s_cert_renew
from tests.unit.kubeadm_pki_factory import build_host


@pytest.fixture
def call(monkeypatch, capsys):
    """Run a module's main with ``args``; return the JSON it printed."""

    def run(module, **args) -> dict:
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", payload)
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
        with pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)

    return run


@pytest.fixture
def host(tmp_path):
    return build_host(tmp_path, leaf_days=10)


def roots(host) -> dict:
    return {
        "pki_dir": host.pki_dir,
        "kubeconfig_dir": host.kubeconfig_dir,
        "kubelet_pki_dir": host.kubelet_pki_dir,
        "backup_dir": host.backup_dir,
    }


def disk_full_on_rename(monkeypatch, nth: int) -> list[str]:
    """os.replace raises ENOSPC on its ``nth`` call; returns the targets renamed before."""
    real = os.replace
    done: list[str] = []

    def replace(src, dst, *args, **kwargs):
        if len(done) + 1 == nth:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), src)
        real(src, dst, *args, **kwargs)
        done.append(str(dst))

    monkeypatch.setattr(os, "replace", replace)
    return done


def assert_contract(result: dict) -> None:
    assert result["failed"] is True
    assert set(result["error"]) == set(ERROR_KEYS)
    assert "Traceback" not in result["msg"]
    assert "backup" not in result, "a failure carries partial_changes, not a backup key"


def test_disk_full_mid_renewal_returns_the_backup_and_the_files_written(host, call, monkeypatch):
    # Rename 1 is the backup's manifest; 2..5 are the first two leaves' key and cert; 6 fails.
    renamed = disk_full_on_rename(monkeypatch, nth=6)
    result = call(k8s_cert_renew, **roots(host))
    monkeypatch.undo()

    assert_contract(result)
    assert result["changed"] is True
    changes = result["partial_changes"]
    assert changes[0]["action"] == "backup"
    backup_path = changes[0]["target"]
    assert backup_path.startswith(host.backup_dir)
    assert os.path.isdir(backup_path)
    assert os.path.join(backup_path, "manifest.json") == renamed[0]
    assert changes[1:] == [{"action": "write", "target": path} for path in renamed[1:]]
    assert len(changes) == 5
    assert all(path.startswith(host.pki_dir) for path in renamed[1:])

    error = result["error"]
    assert error["type"] == "pki"
    assert error["host"] == socket.gethostname()
    assert error["object"].startswith(host.pki_dir)
    assert error["object"] not in renamed, "the file that could not be written is named"
    assert error["details"]["errno"] == "ENOSPC"
    assert result["msg"] == (
        f"{error['host']}: {error['object']}: cannot write (No space left on device)"
    )

    # What partial_changes names is enough to undo it.
    before_restore = host.tree_hash()
    restored = call(k8s_cert_backup, state="restored", path=backup_path, **roots(host))
    assert restored["changed"] is True
    assert set(renamed[1:]) <= set(restored["restored"])
    assert host.tree_hash() != before_restore


def test_an_unexpected_exception_after_the_backup_still_returns_it(host, call, monkeypatch):
    real = pki_renew.reissue
    calls = []

    def reissue(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated bug in a helper")
        return real(*args, **kwargs)

    monkeypatch.setattr(pki_renew, "reissue", reissue)
    result = call(k8s_cert_renew, **roots(host))

    assert_contract(result)
    assert result["changed"] is True
    assert result["error"]["type"] == "internal"
    assert result["error"]["host"] == socket.gethostname()
    assert "simulated bug in a helper" in result["msg"]
    actions = [change["action"] for change in result["partial_changes"]]
    assert actions == ["backup", "write", "write"]  # the first leaf's key and certificate
    assert os.path.isdir(result["partial_changes"][0]["target"])


def test_a_refusal_before_the_backup_changes_nothing_and_says_so(host, call):
    with open(f"{host.pki_dir}/apiserver.crt", "w") as handle:
        handle.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    before = host.tree_hash()
    result = call(k8s_cert_renew, **roots(host))

    assert_contract(result)
    assert result["changed"] is False
    assert result["partial_changes"] == []
    assert result["error"]["object"] == f"{host.pki_dir}/apiserver.crt"
    assert host.tree_hash() == before
    assert not os.path.exists(host.backup_dir)


def test_a_backup_that_fails_half_way_is_removed_and_not_reported(host, call, monkeypatch):
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith("manifest.json"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), src)
        real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    before = host.tree_hash()
    result = call(k8s_cert_renew, **roots(host))
    monkeypatch.undo()

    assert_contract(result)
    assert result["changed"] is False
    assert result["partial_changes"] == []
    assert result["error"]["details"]["errno"] == "EROFS"
    assert "Read-only file system" in result["msg"]
    assert os.listdir(host.backup_dir) == []
    assert host.tree_hash() == before


def backups_in(result: dict) -> list[str]:
    """What master.yml's rescue reads: partial_changes | selectattr('action', 'eq', 'backup')."""
    return [c["target"] for c in result["partial_changes"] if c["action"] == "backup"]


def test_a_writer_failing_after_the_first_file_returns_the_backup_and_that_file(
    host, call, monkeypatch
):
    from ansible_collections.ackops.runbooks.plugins.module_utils.pki import files as pki_files

    real = pki_files._write_atomic
    written: list[str] = []

    def writer(path, data, mode):
        if written and not path.endswith("manifest.json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        real(path, data, mode)
        if not path.endswith("manifest.json"):
            written.append(path)

    monkeypatch.setattr(pki_files, "_write_atomic", writer)
    result = call(k8s_cert_renew, **roots(host))
    monkeypatch.undo()

    assert_contract(result)
    assert result["changed"] is True
    (backup_path,) = backups_in(result)
    assert os.path.isfile(os.path.join(backup_path, "manifest.json"))
    assert [c["target"] for c in result["partial_changes"][1:]] == written
    assert len(written) == 1
    assert result["error"]["details"]["errno"] == "ENOSPC"
    restored = call(k8s_cert_backup, state="restored", path=backup_path, **roots(host))
    assert written[0] in restored["restored"]


def test_a_file_renamed_into_place_is_reported_even_when_syncing_its_directory_fails(
    host, call, monkeypatch
):
    # The rename is the write: a failure after it (the directory's fsync, on a
    # disk going read-only) must not hide the file from partial_changes, or the
    # rescue would not know the host changed.
    from ansible_collections.ackops.runbooks.plugins.module_utils.pki import files as pki_files

    real = pki_files._fsync_dir
    synced: list[str] = []

    def fsync_dir(path):
        if len(synced) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO), path)
        real(path)
        synced.append(path)

    monkeypatch.setattr(pki_files, "_fsync_dir", fsync_dir)
    renamed = disk_full_on_rename(monkeypatch, nth=10**6)  # only records the renames
    result = call(k8s_cert_renew, **roots(host))
    monkeypatch.undo()

    assert_contract(result)
    writes = [c["target"] for c in result["partial_changes"] if c["action"] == "write"]
    assert len(backups_in(result)) == 1
    assert writes == renamed[1:], "every file renamed into place is reported"
    assert len(writes) == 3
    assert result["error"]["details"]["errno"] == "EIO"
    assert result["error"]["object"] == writes[-1]


def test_a_failure_before_the_backup_returns_no_backup_entry(host, call):
    os.chmod(host.pki_dir, 0o755)
    with open(f"{host.pki_dir}/ca.key", "wb") as handle:
        handle.write(b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
    result = call(k8s_cert_renew, **roots(host))
    assert_contract(result)
    assert backups_in(result) == []
    assert result["changed"] is False
