# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converted objects leaving the converter: redacted for output, or written for review.

A Secret's values never leave in a module result (``redacted``) and are
written to disk only when asked, in files only the owner can read. Manifests
are one file per object, ``<NN>-<kind>-<name>.yaml`` with ``NN`` the kind's
place in apply order, so ``kubectl apply -f DIR`` creates them in order.
A file whose content is already right is left alone (``changed`` compares).
"""

from __future__ import annotations

import copy
import os

from ansible_collections.ackops.runbooks.plugins.module_utils.common.atomic import write_atomic
from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import KIND_ORDER
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError

try:
    import yaml
except ImportError:  # pragma: no cover - Ansible always ships PyYAML on the controller
    yaml = None

REDACTED = "<redacted>"
SECRET_MODE = 0o600
FILE_MODE = 0o644


def redacted(objects: list[dict]) -> list[dict]:
    """``objects`` with every Secret value replaced by a marker (keys kept)."""
    result = []
    for obj in objects:
        if obj.get("kind") == "Secret":
            obj = copy.deepcopy(obj)
            for field in ("data", "stringData"):
                if field in obj:
                    obj[field] = dict.fromkeys(obj[field], REDACTED)
        result.append(obj)
    return result


def file_name(obj: dict) -> str:
    kind = obj["kind"]
    order = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return f"{order:02d}-{kind.lower()}-{obj['metadata']['name']}.yaml"


def render(obj: dict) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=True)


def write_manifests(
    directory: str,
    objects: list[dict],
    *,
    write_secrets: bool = False,
    check_mode: bool = False,
    want_diff: bool = False,
    changes: Changes | None = None,
) -> dict:
    """Write one file per object into ``directory``; the module result part about it."""
    changes = Changes() if changes is None else changes
    directory = os.path.abspath(directory)
    if os.path.lexists(directory) and not os.path.isdir(directory):
        raise ComposeError("exists and is not a directory", file=directory, key="dest")
    written, unchanged, held_back, diffs = [], [], [], []
    wanted = set()
    for obj in objects:
        name = file_name(obj)
        path = os.path.join(directory, name)
        secret = obj["kind"] == "Secret"
        if secret and not write_secrets:
            held_back.append(name)
            continue
        wanted.add(name)
        content = render(obj)
        try:
            with open(path, encoding="utf-8") as handle:
                before = handle.read()
        except OSError:
            before = None
        if before == content:
            unchanged.append(path)
            continue
        written.append(path)
        if want_diff:
            shown = (lambda text: REDACTED) if secret else (lambda text: text)
            diffs.append(
                {
                    "before_header": path,
                    "after_header": path,
                    "before": shown(before or ""),
                    "after": shown(content),
                }
            )
        if check_mode:
            continue
        _write(directory, path, content, SECRET_MODE if secret else FILE_MODE, changes)
    stale = []
    if os.path.isdir(directory):
        stale = sorted(
            os.path.join(directory, n)
            for n in os.listdir(directory)
            if n.endswith(".yaml") and n[:2].isdigit() and n not in wanted and n not in held_back
        )
    result = {
        "dest": directory,
        "written": written,
        "unchanged": unchanged,
        "held_back": held_back,
        "stale": stale,
    }
    if want_diff:
        result["diff"] = diffs
    return result


def _write(directory: str, path: str, content: str, mode: int, changes: Changes) -> None:
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o755, exist_ok=True)
            changes.record("created", directory)
        write_atomic(
            path,
            content.encode("utf-8"),
            mode,
            on_replaced=lambda _p: changes.record("wrote", path),
        )
    except OSError as exc:
        raise ComposeError(
            f"cannot be written: {exc.strerror or exc}", file=path, key="dest"
        ) from None
