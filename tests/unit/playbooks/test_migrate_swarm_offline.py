"""migrate-swarm.yml from the compose files alone: no lab, no inventory, no Swarm manager.

ansible-playbook runs from a temporary directory (not the repository, so not its ansible.cfg)
with a compose path relative to that directory, as an operator converts a stack checked out
next to them. Cut-over checks are validated by the role's argument spec before anything runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.playbooks.test_fresh_clone import play as play_in

pytestmark = pytest.mark.slow  # each test runs ansible-playbook

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK_BIN = Path(sys.executable).parent / "ansible-playbook"
COMPOSE = """\
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    deploy:
      replicas: 2
      placement:
        constraints: [node.labels.zone == west]
"""


def play(cwd: Path, extra: dict) -> subprocess.CompletedProcess:
    """The repository's migrate-swarm.yml run from ``cwd``, with no ANSIBLE_*/K8S_AUTH_* settings."""
    return play_in(cwd, str(REPO / "migrate-swarm.yml"), extra)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "compose.yml").write_text(COMPOSE)
    return tmp_path


FILES = {"migrate_swarm_source": "files", "migrate_swarm_files": "stack/compose.yml"}


def test_analyze_and_convert_run_from_a_relative_path_with_no_inventory(workdir):
    result = play(workdir, {**FILES, "migrate_swarm_steps": "analyze,convert"})
    assert result.returncode == 0, result.stdout + result.stderr
    analyze = json.loads((workdir / "reports" / "migrate-swarm-analyze.json").read_text())
    assert analyze["conversion"]["summary"]["objects"] == {"Deployment": 1, "Service": 2}
    written = sorted(p.name for p in (workdir / "build" / "migrate-swarm").rglob("*.yaml"))
    assert any("deployment-web" in name for name in written), written
    assert not (REPO / "playbooks" / "stack").exists()


@pytest.mark.parametrize(
    ("check", "error"),
    [
        ({"name": "dns", "cmd": "true"}, "one of the following is required: command, url"),
        (
            {"name": "both", "command": "true", "url": "http://127.0.0.1:9/"},
            "parameters are mutually exclusive: command|url",
        ),
    ],
)
def test_a_malformed_cutover_check_is_refused_before_anything_runs(workdir, check, error):
    result = play(
        workdir,
        {**FILES, "migrate_swarm_steps": "cutover", "migrate_swarm_cutover_checks": [check]},
    )
    assert result.returncode != 0
    assert error in result.stdout
    assert not (workdir / "reports").exists()


def test_cutover_runs_its_checks_with_no_manager(workdir):
    checks = [{"name": "passes", "command": "true"}, {"name": "fails", "command": "exit 3"}]
    result = play(
        workdir,
        {**FILES, "migrate_swarm_steps": "cutover", "migrate_swarm_cutover_checks": checks},
    )
    assert result.returncode != 0
    assert "cut-over checks failed: fails" in result.stdout
    report = json.loads((workdir / "reports" / "migrate-swarm-cutover.json").read_text())
    assert [(c["name"], c["passed"]) for c in report["checks"]] == [
        ("passes", True),
        ("fails", False),
    ]


def test_an_slb_set_command_without_its_read_command_is_refused_up_front(workdir):
    marker = workdir / "slb-was-set"
    result = play(
        workdir,
        {
            **FILES,
            "migrate_swarm_steps": "analyze,canary",
            "migrate_swarm_canary_weight": 5,
            "migrate_swarm_slb_command": f"touch {marker}",
        },
    )
    assert result.returncode != 0
    assert "migrate_swarm_slb_command is set but migrate_swarm_slb_weight_command is not" in (
        result.stdout
    )
    assert not marker.exists()
    assert not (workdir / "reports").exists()  # refused before the analyze step too
