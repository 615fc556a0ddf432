"""Every Molecule scenario under molecule/ runs against the lab (driver
`default`, unmanaged): syntax, converge, idempotence, verify.

A scenario says which lab it needs in `molecule/<scenario>/lab.json`, the
keyword arguments of `Lab.up` (e.g. {"size": "small", "cert_validity": "240h"});
without the file it runs on the default small lab.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.integration.conftest import REPO, VENV_BIN

pytestmark = pytest.mark.lab

SCENARIOS = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))


def lab_needs(scenario: str) -> dict:
    path = REPO / "molecule" / scenario / "lab.json"
    return json.loads(path.read_text()) if path.exists() else {"size": "small"}


def test_every_runbook_has_a_scenario():
    roles = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks").is_dir())
    # The report role is a helper the runbooks call, not a runbook.
    missing = [r for r in roles if r != "report" and r not in SCENARIOS]
    assert not missing, f"roles without a molecule scenario: {missing}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(lab_handle, scenario):
    needs = dict(lab_needs(scenario))
    lab_handle.up(needs.pop("size", "small"), **needs)
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        [str(VENV_BIN / "molecule"), "test", "-s", scenario],
        cwd=REPO, env=env, text=True, capture_output=True, timeout=1200,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    # Each step of the matrix ran and passed: Molecule prints "<scenario> > <step>:
    # Executed: Successful" in its closing summary (a step's name alone is not proof).
    for step in ("converge", "idempotence", "verify"):
        pattern = rf"{re.escape(scenario)} > {step}: Executed: Successful"
        assert re.search(pattern, output), f"{step} did not pass:\n{output[-4000:]}"
