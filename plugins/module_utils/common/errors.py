# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error contract of the collection.

Domain logic raises ``RunbookError`` (or a subclass): the cause, and where it
applies (host, object, field). A module hands its work to ``run_module``, which
turns every failure into the same ``fail_json`` shape:

``msg``
    one line a person can act on: ``host: object: field: cause``, with the
    parts that are known;
``changed``
    whether anything was changed before the failure;
``error``
    ``{type, host, object, field, cause, details}`` for a machine (an AWX
    notification, a rescue block);
``partial_changes``
    what was already changed, in order (for a renewal: the backup taken and
    every file written), so a rescue can undo it and a person can see it.

Anything else a module raises (a bug, an ``OSError`` nobody turned into a
domain error) is reported the same way with ``type: internal``; the traceback
is kept in ``exception`` (Ansible prints it only with ``-vvv``). Either way
what was recorded in ``partial_changes`` before the failure is returned.

Pure Python, no Ansible import: ``run_module`` only calls ``fail_json`` and
``exit_json`` on the module it is given.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

# The keys every failure result has, beside Ansible's own (failed, invocation,
# exception).
FAILURE_KEYS = ("msg", "changed", "error", "partial_changes")
ERROR_KEYS = ("type", "host", "object", "field", "cause", "details")


class RunbookError(Exception):
    """A failure a person must act on.

    ``cause`` says what is wrong; ``host``, ``obj`` (a file, ``Kind ns/name``,
    a variable) and ``field`` say where, when known. ``partial_changes`` lists
    what was changed before the failure. ``details`` holds machine-readable
    context (an HTTP status, the allowed values) and never a secret.
    """

    error_type = "runbook"

    def __init__(
        self,
        cause: str,
        *,
        host: str | None = None,
        obj: str | None = None,
        field: str | None = None,
        partial_changes: list | None = None,
        details: dict | None = None,
    ):
        self.cause = cause
        self.host = host
        self.obj = obj
        self.field = field
        self.partial_changes = list(partial_changes or [])
        self.details = dict(details or {})
        super().__init__(cause)

    def __str__(self) -> str:
        where = [part for part in (self.host, self.obj, self.field) if part]
        return ": ".join([*where, self.cause])

    def as_error(self) -> dict:
        return {
            "type": self.error_type,
            "host": self.host,
            "object": self.obj,
            "field": self.field,
            "cause": self.cause,
            "details": self.details,
        }


class InternalError(RunbookError):
    """An exception the code did not expect, wrapped so it reports like any other."""

    error_type = "internal"

    @classmethod
    def wrap(cls, exc: BaseException, host: str | None = None) -> InternalError:
        reason = str(exc) or repr(exc)
        if isinstance(exc, OSError) and exc.filename:
            reason = f"{exc.strerror or reason} ({exc.filename})"
        return cls(f"unexpected {type(exc).__name__}: {reason}", host=host)


class Changes(list):
    """What a module changed so far, in order; handed to its logic to record into."""

    def record(self, action: str, target: str, **extra: Any) -> None:
        self.append({"action": action, "target": target, **extra})


def failure(exc: RunbookError, changes: list | None = None) -> dict:
    """The ``fail_json`` arguments for ``exc``: always the keys in FAILURE_KEYS."""
    partial = list(changes or [])
    partial += [change for change in exc.partial_changes if change not in partial]
    return {
        "msg": str(exc),
        "changed": bool(partial),
        "error": exc.as_error(),
        "partial_changes": partial,
    }


def run_module(
    module,
    work: Callable[[Changes], dict],
    host: str | None = None,
) -> None:
    """Run ``work(changes)`` and exit the module with its result or the failure contract.

    ``work`` returns the success result (a dict for ``exit_json``) and records
    what it changes into ``changes`` as it goes, so a failure at any point
    still reports it. ``host`` names the host in an unexpected failure.
    """
    changes = Changes()
    try:
        result = work(changes)
    except RunbookError as exc:
        module.fail_json(**failure(exc, changes))
    except Exception as exc:
        module.fail_json(
            **failure(InternalError.wrap(exc, host), changes), exception=traceback.format_exc()
        )
    else:
        module.exit_json(**result)
