"""execution-environment.yml: a valid ansible-builder v3 definition, pinned as the suite runs.

`ansible-builder create` writes the build context (no image is built: no
registry is reachable here); the context must carry the pins of
requirements.txt / requirements-dev.txt and the collections of
requirements.yml, and a broken definition must be refused.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BUILDER = REPO / ".venv" / "bin" / "ansible-builder"
EE = yaml.safe_load((REPO / "execution-environment.yml").read_text())


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


REQUIRED = pins(REPO / "requirements.txt")
DEV = pins(REPO / "requirements-dev.txt")


def create(tmp_path: Path, definition: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BUILDER),
            "create",
            "-f",
            str(definition),
            "-c",
            str(tmp_path / "context"),
            "--output-filename",
            "Containerfile",
        ],
        cwd=definition.parent,
        text=True,
        capture_output=True,
        timeout=120,
    )


def test_create_writes_a_build_context_with_the_suites_pins(tmp_path):
    proc = create(tmp_path, REPO / "execution-environment.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{EE["images"]["base_image"]["name"]}"' in containerfile
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]+)"', containerfile).group(1).split()
    assert f"ansible-core=={REQUIRED['ansible-core']}" in refs
    assert f"ansible-runner=={DEV['ansible-runner']}" in refs
    # The Python the plugins import, pinned as requirements.txt pins it.
    python = pins(context / "_build" / "requirements.txt")
    assert python
    for name, version in python.items():
        assert REQUIRED.get(name) == version, (
            f"{name}=={version} in the EE, {REQUIRED.get(name)} in requirements.txt"
        )
    for name in ("kubernetes", "cryptography", "jmespath", "pyyaml"):
        assert name in python, name
    # The collections of requirements.yml, as they are.
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    expected = yaml.safe_load((REPO / "requirements.yml").read_text())
    assert galaxy["collections"] == expected["collections"]
    assert "openssh-clients" in (context / "_build" / "bindep.txt").read_text()


def test_collections_match_the_ansible_package_the_suite_runs():
    """requirements.yml's versions are those of the installed `ansible` package (what the tests use)."""
    import importlib.util
    import json

    spec = importlib.util.find_spec("ansible_collections")
    roots = [Path(p) for p in spec.submodule_search_locations]
    for entry in yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]:
        namespace, name = entry["name"].split(".")
        manifests = [
            r / namespace / name / "MANIFEST.json"
            for r in roots
            if (r / namespace / name / "MANIFEST.json").is_file()
        ]
        assert manifests, entry["name"]
        installed = json.loads(manifests[0].read_text())["collection_info"]["version"]
        assert installed == entry["version"], (
            f"{entry['name']}: {installed} installed, {entry['version']} in requirements.yml"
        )


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d.update(version=99), "version"),
        (lambda d: d["dependencies"].update(ansible_core={"package": "x"}), "package"),
        (lambda d: d["dependencies"].update(pyhton=["kubernetes"]), "pyhton"),
    ],
    ids=["version", "ansible-core", "misspelled-key"],
)
def test_a_broken_definition_is_refused(tmp_path, mutate, words):
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    mutate(definition)
    broken = tmp_path / "execution-environment.yml"
    broken.write_text(yaml.safe_dump(definition))
    (tmp_path / "requirements.yml").write_text((REPO / "requirements.yml").read_text())
    proc = create(tmp_path, broken)
    assert proc.returncode != 0, proc.stdout
    assert words in (proc.stdout + proc.stderr), proc.stdout + proc.stderr


def test_navigator_settings_use_the_ee():
    settings = yaml.safe_load((REPO / "ansible-navigator.yml").read_text())["ansible-navigator"]
    ee = settings["execution-environment"]
    assert ee["enabled"] is True
    assert ee["image"] in EE["options"]["tags"]
    assert settings["playbook-artifact"]["enable"] is True
