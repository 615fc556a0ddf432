"""common/atomic.write_atomic: the one atomic file writer (swarm manifests use it)."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common import atomic
from ansible_collections.ackops.runbooks.plugins.module_utils.common.atomic import write_atomic


def test_new_file_gets_content_and_mode_and_no_temporary_file_is_left(tmp_path):
    path = tmp_path / "secret.yaml"
    seen = []
    assert write_atomic(str(path), b"k: v\n", 0o600, on_replaced=seen.append) == str(path)
    assert path.read_bytes() == b"k: v\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert seen == [str(path)]
    assert sorted(os.listdir(tmp_path)) == ["secret.yaml"]


def test_existing_file_is_replaced_and_takes_the_new_mode(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("old\n")
    path.chmod(0o600)
    write_atomic(str(path), b"new\n", 0o644)
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_symlink_is_followed_and_kept(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("old\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert write_atomic(str(link), b"new\n", 0o644) == str(real)
    assert link.is_symlink()
    assert real.read_text() == "new\n"


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text("old\n")

    def refuse(_src, _dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(str(path), b"new\n", 0o644)
    assert path.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["a.yaml"]


def test_a_missing_directory_is_an_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(str(tmp_path / "missing" / "a.yaml"), b"x", 0o644)
