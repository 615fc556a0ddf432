"""Helpers of the converter's tests (no tests here; the name keeps it among the swarm test files)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    ConvertOptions,
    convert_compose,
)
from tests.unit.manifests import assert_valid_manifests


def write(directory: Path, files: dict[str, str]) -> list[str]:
    paths = []
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        paths.append(str(path))
    return paths


def convert_text(
    tmp_path: Path, text: str, *, extra: dict | None = None, variables=None, **options
):
    """Convert compose.yml holding ``text`` (plus ``extra`` files beside it); objects validated."""
    paths = write(tmp_path, {"compose.yml": text, **(extra or {})})
    conversion = convert_compose(
        [paths[0]], ConvertOptions(**options), variables=variables, project_name="demo"
    )
    assert_valid_manifests(conversion.objects)
    return conversion


def obj(conversion, kind: str, name: str) -> dict:
    found = [o for o in conversion.objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name} not among {conversion.report['objects']}"
    return found[0]


def pod(conversion, name: str, kind: str = "Deployment") -> dict:
    return obj(conversion, kind, name)["spec"]["template"]["spec"]


def container(conversion, name: str, kind: str = "Deployment") -> dict:
    return pod(conversion, name, kind)["containers"][0]


def entry(conversion, service: str | None, key: str) -> dict:
    entries = (
        conversion.report["stack"]
        if service is None
        else conversion.report["services"][service]["entries"]
    )
    found = [e for e in entries if e["key"] == key]
    assert len(found) == 1, f"{key} not in {[e['key'] for e in entries]}"
    return found[0]
