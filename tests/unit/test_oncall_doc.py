"""docs/ONCALL.md's commands are real: the playbooks exist, every -e variable is one the runbook takes.

Each `ansible-playbook` line is checked against the argument specs of the
roles its playbook runs (a variable, and a value among its choices), and each
`ansible ... -m` module against the collection's modules. The four symptoms
of the issue each have their section.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "ONCALL.md").read_text()


def commands(tool: str) -> list[list[str]]:
    out = []
    for block in re.findall(r"```sh\n(.*?)```", DOC, re.S):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith(tool + " "):
                out.append(shlex.split(line.replace("$INV", "INV")))
    return out


def role_options(playbook: Path) -> dict[str, dict]:
    text = playbook.read_text()
    target = re.search(r"import_playbook:\s*(\S+)", text)
    if target:
        text = (REPO / target.group(1)).read_text()
    options = {}
    for role in set(re.findall(r"name:\s*ackops\.runbooks\.(\w+)", text)):
        specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
        for entry in specs["argument_specs"].values():
            options |= entry.get("options") or {}
    return options


PLAYBOOK_LINES = commands("ansible-playbook")


def test_the_four_symptoms_have_a_section():
    for words in ("Expired certificates", "ingress node lost", "PVC pending", "canary gone wrong"):
        assert re.search(rf"^## .*{words}", DOC, re.M | re.I), words
    assert len(PLAYBOOK_LINES) >= 10


@pytest.mark.parametrize("argv", PLAYBOOK_LINES, ids=[" ".join(a[3:]) for a in PLAYBOOK_LINES])
def test_playbook_commands_name_real_variables(argv):
    playbook = REPO / next(a for a in argv if a.endswith(".yml"))
    assert playbook.is_file(), playbook
    options = role_options(playbook)
    assert options, playbook
    for flag, value in zip(argv, [*argv[1:], ""], strict=True):
        if flag != "-e":
            continue
        name, _, given = value.partition("=")
        assert name in options, f"{playbook.name}: no variable {name}"
        choices = options[name].get("choices")
        if choices:
            assert given in [str(c) for c in choices], (name, given, choices)
        if options[name].get("type") == "bool":
            assert given in ("true", "false"), (name, given)


def test_module_commands_name_real_modules():
    lines = commands("ansible")
    assert lines
    for argv in lines:
        module = argv[argv.index("-m") + 1]
        name = module.rsplit(".", 1)[-1]
        assert (REPO / "plugins" / "modules" / f"{name}.py").is_file(), module
