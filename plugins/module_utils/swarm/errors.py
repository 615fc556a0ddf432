# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converter's one error: a compose input that cannot be used, and where.

Every message names the file, the service (when the problem is inside one),
the key as a dotted path from the top of the file (``services.web.deploy.
replicas``) and the offending value, so the operator can open the file at the
right line. Values of secrets are never part of a message: callers pass
``value=HIDDEN`` where the value could be one.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

_NO_VALUE = object()
HIDDEN = object()


class ComposeError(RunbookError):
    """A compose file (or a caller option about it) the converter cannot use."""

    error_type = "compose"

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        service: str | None = None,
        key: str | None = None,
        value: Any = _NO_VALUE,
    ):
        self.file = file
        self.service = service
        self.key = key
        self.reason = reason
        field = key_path(service, key)
        if value is _NO_VALUE:
            cause = reason
        elif value is HIDDEN:
            cause = f"(value hidden) {reason}"
        else:
            cause = f"{_show(value)} {reason}"
        details = {"file": file, "service": service, "key": key}
        if value is not _NO_VALUE and value is not HIDDEN:
            details["value"] = value if isinstance(value, (str, int, float, bool)) else repr(value)
        super().__init__(cause, obj=file, field=field, details=details)


def key_path(service: str | None, key: str | None) -> str | None:
    """``services.<service>.<key>``, or the key alone outside a service."""
    if service is None:
        return key
    return f"services.{service}" + (f".{key}" if key else "")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
