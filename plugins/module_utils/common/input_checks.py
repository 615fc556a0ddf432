"""Input checking shared by the planning and audit logic.

Every helper names the field it checks (a dotted path such as
``network.clusters[1].pod_cidr``) and the offending value, so a module or a
filter can pass the message straight to the operator.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError


class InputError(RunbookError, ValueError):
    """A planning or audit input that cannot be used as given."""

    error_type = "input"

    def __init__(self, field: str, value: Any, reason: str):
        self.value = value
        self.reason = reason
        super().__init__(f"{value!r} {reason}", field=field)


def field_path(root: str, name: str) -> str:
    """``root.name``, or just ``name`` at the top level (a filter's own options)."""
    return f"{root}.{name}" if root else name


def positive_int(field: str, value: Any) -> int:
    """Return ``value`` as an int, insisting on a whole number above zero."""
    if isinstance(value, bool):
        raise InputError(field, value, "must be a whole number greater than zero")
    if isinstance(value, str):
        value_str = value.strip()
        if not value_str.lstrip("-").isdigit():
            raise InputError(field, value, "must be a whole number greater than zero")
        number = int(value_str)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise InputError(field, value, "must be a whole number greater than zero")
    if number <= 0:
        raise InputError(field, value, "must be greater than zero")
    return number


def exact_number(field: str, value: Any) -> Fraction:
    """Return ``value`` as an exact fraction (0.1 stays one tenth, not 0.1000000000000000055)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Fraction)):
        raise InputError(field, value, "must be a number")
    try:
        return Fraction(str(value).strip()) if not isinstance(value, Fraction) else value
    except (ValueError, ZeroDivisionError):
        raise InputError(field, value, "must be a number") from None


def ratio_below_one(field: str, value: Any) -> Fraction:
    """A failure ratio: strictly between 0 and 1 (0.1 means 10 %)."""
    ratio = exact_number(field, value)
    if not 0 < ratio < 1:
        raise InputError(field, value, "must be greater than 0 and less than 1 (0.1 means 10 %)")
    return ratio


def non_empty_list(field: str, value: Any) -> list:
    if not isinstance(value, (list, tuple)) or not value:
        raise InputError(field, value, "must be a non-empty list")
    return list(value)
