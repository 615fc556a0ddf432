# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose's durations, byte values and CPU counts, turned into Kubernetes units.

Durations (``1m30s``, ``500ms``, a bare number of seconds in stop_grace_period
of old files) become exact ``Fraction`` seconds; Kubernetes takes whole
seconds, so callers round up and report when that lost precision. Byte values
follow Docker (``k``/``m``/``g`` are powers of 1024, the ``b`` suffix optional)
and become the largest binary suffix that is exact (``512m`` -> ``512Mi``).
CPUs (``0.5``, ``"1.25"``) become millicores (``500m``) or whole cores.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.durations import go_duration

_BYTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_BYTE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
_BINARY_SUFFIXES = (("Pi", 5), ("Ti", 4), ("Gi", 3), ("Mi", 2), ("Ki", 1))


class UnitError(ValueError):
    """A value that is not a duration, byte size or CPU count; the message says what is expected."""


def duration(value: Any) -> Fraction:
    """Seconds in a Compose duration (``1m30s``, ``10ms``; an int is seconds)."""
    if isinstance(value, bool):
        raise UnitError("is not a duration (like 30s, 1m30s or 500ms)")
    if isinstance(value, (int, float)):
        if value < 0:
            raise UnitError("is a negative duration")
        return Fraction(str(value))
    if not isinstance(value, str) or not value.strip():
        raise UnitError("is not a duration (like 30s, 1m30s or 500ms)")
    text = value.strip()
    if text.isdigit():
        return Fraction(int(text))
    try:
        return go_duration(text)
    except ValueError:
        raise UnitError("is not a duration (like 30s, 1m30s or 500ms)") from None


def whole_seconds(seconds: Fraction, minimum: int = 0) -> tuple[int, bool]:
    """``seconds`` rounded up to a whole number, at least ``minimum``; and whether that changed it."""
    whole = max(-(-seconds.numerator // seconds.denominator), minimum)
    return whole, Fraction(whole) != seconds


def byte_count(value: Any) -> int:
    """Bytes in a Docker byte value (``300m``, ``1gb``, ``2048k``, ``1024``)."""
    if isinstance(value, bool):
        raise UnitError("is not a byte value (like 512m, 1g or 1024k)")
    if isinstance(value, int):
        if value < 0:
            raise UnitError("is a negative byte value")
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    match = _BYTES.match(value) if isinstance(value, str) else None
    if not match:
        raise UnitError("is not a byte value (like 512m, 1g or 1024k)")
    amount = Fraction(match.group(1)) * 1024 ** _BYTE_POWERS[match.group(2).lower()]
    if amount.denominator != 1:
        raise UnitError("is not a whole number of bytes")
    return int(amount)


def memory_quantity(value: Any) -> str:
    """A Kubernetes memory quantity for a Docker byte value, exact: ``512m`` -> ``512Mi``."""
    count = byte_count(value)
    for suffix, power in _BINARY_SUFFIXES:
        unit = 1024**power
        if count and count % unit == 0:
            return f"{count // unit}{suffix}"
    return str(count)


def cpu_quantity(value: Any) -> tuple[str, bool]:
    """A Kubernetes CPU quantity for a Compose ``cpus`` value; and whether it was rounded.

    Kubernetes counts CPU in millicores: ``0.5`` -> ``500m``, ``2`` -> ``2``,
    ``0.0005`` -> ``1m`` (rounded up, reported as a loss).
    """
    if isinstance(value, bool):
        raise UnitError("is not a number of CPUs (like 0.5 or 2)")
    try:
        cores = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise UnitError("is not a number of CPUs (like 0.5 or 2)") from None
    if cores <= 0:
        raise UnitError("must be more than 0 CPUs")
    millis = cores * 1000
    whole = -(-millis.numerator // millis.denominator)
    rounded = Fraction(whole) != millis
    if whole % 1000 == 0:
        return str(whole // 1000), rounded
    return f"{whole}m", rounded
