# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The errors of the Kubernetes access layer, all ``RunbookError`` subclasses.

Each names the object (``Kind namespace/name``) in ``obj`` and says in
``cause`` what the API server answered (status and its message), so a module
reports it as it is through ``run_module``.
"""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError


class K8sObjectError(RunbookError):
    """An API request failed; names the object and carries the server's status and reason."""

    error_type = "kubernetes"

    def __init__(self, message: str, status: int | None = None, reason: str | None = None, **where):
        details = dict(where.pop("details", None) or {})
        if status:
            details["status"] = status
        if reason:
            details["reason"] = reason
        super().__init__(message, details=details, **where)
        self.status = status
        self.reason = reason


class UnknownKindError(K8sObjectError):
    """The API server does not serve this kind at this apiVersion."""


class ScopeError(K8sObjectError):
    """A namespace given for a cluster-scoped kind, or missing for a namespaced one."""


class UnsupportedError(K8sObjectError):
    """The resource does not offer the verb or subresource asked for."""


class WaitTimeout(K8sObjectError):
    """A wait ended before its condition held."""
