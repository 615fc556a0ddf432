# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting with an injected clock: polling, predicates, and reading a watch stream.

``poll_until`` is the loop every wait uses when there is nothing to watch (a
condition over several objects, or a server that refuses watches); the clock
and sleep are parameters so tests run it without waiting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any


def poll_until(
    probe: Callable[[], tuple[bool, Any]],
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    interval: float = 2.0,
) -> tuple[bool, Any]:
    """Call ``probe()`` (returning ``(done, value)``) until done or ``timeout`` seconds passed.

    Returns the last ``(done, value)``: the caller raises its own error,
    naming what it waited for, when ``done`` is False.
    """
    deadline = clock() + timeout
    while True:
        done, value = probe()
        if done or clock() >= deadline:
            return done, value
        sleep(interval)


def is_gone(obj: dict | None) -> bool:
    return obj is None


def condition_is(kind: str, status: str = "True") -> Callable[[dict | None], bool]:
    """A predicate: the object has condition ``kind`` with ``status`` (e.g. Ready True)."""

    def holds(obj: dict | None) -> bool:
        conditions = ((obj or {}).get("status") or {}).get("conditions") or []
        return any(c.get("type") == kind and c.get("status") == status for c in conditions)

    return holds


def field_is(path: str, value: Any) -> Callable[[dict | None], bool]:
    """A predicate: the dotted ``path`` (e.g. ``status.phase``) of the object equals ``value``."""

    def holds(obj: dict | None) -> bool:
        current: Any = obj
        for part in path.split("."):
            if not isinstance(current, dict):
                return False
            current = current.get(part)
        return current == value

    return holds


def watch_events(chunks) -> Iterator[dict]:
    """The JSON events of a watch stream, from its byte chunks (one event per line)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)
    if pending.strip():
        yield json.loads(pending)
