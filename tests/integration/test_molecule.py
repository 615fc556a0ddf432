"""The Molecule scenarios run against the lab (driver `default`, unmanaged)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.integration.conftest import REPO, VENV_BIN

pytestmark = pytest.mark.lab


def test_renew_certs_scenario(lab_handle):
    # Leaf certificates inside the 30-day threshold, so converge renews and
    # Molecule's idempotence step proves the second run changes nothing.
    lab_handle.up("small", cert_validity="240h")
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        [str(VENV_BIN / "molecule"), "test", "-s", "renew_certs"],
        cwd=REPO, env=env, text=True, capture_output=True, timeout=1200,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "idempotence" in output
