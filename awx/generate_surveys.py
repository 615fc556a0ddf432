#!/usr/bin/env python3
"""Write awx/surveys/<runbook>.json from the roles' argument specs (see awx/surveys.yml).

.venv/bin/python awx/generate_surveys.py           # write the files
.venv/bin/python awx/generate_surveys.py --check   # exit 1 when a file is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.ackops.runbooks.plugins.module_utils.surveys.spec import (  # noqa: E402
    survey_spec,
)

SURVEYS = REPO / "awx" / "surveys.yml"
OUT = REPO / "awx" / "surveys"


def generate(repo: Path = REPO) -> dict[str, str]:
    """File name -> the JSON text it must hold."""
    table = yaml.safe_load((repo / "awx" / "surveys.yml").read_text())["surveys"]
    files = {}
    for runbook, entry in table.items():
        specs = yaml.safe_load(
            (repo / "roles" / entry["role"] / "meta" / "argument_specs.yml").read_text()
        )
        spec = survey_spec(
            runbook,
            entry["description"],
            specs["argument_specs"][entry["entry_point"]],
            prefix=entry["role"] + "_",
            exclude=entry.get("exclude") or [],
            order=entry.get("order") or [],
        )
        files[f"{runbook}.json"] = json.dumps(spec, indent=2, sort_keys=True) + "\n"
    return files


def main(argv: list[str]) -> int:
    files = generate()
    stale = [
        name
        for name, text in files.items()
        if not (OUT / name).is_file() or (OUT / name).read_text() != text
    ]
    if "--check" in argv:
        for name in stale:
            print(f"awx/surveys/{name} is stale: run awx/generate_surveys.py", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
