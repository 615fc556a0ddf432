# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Go durations (``8760h0m0s``, ``1m30s``, ``500ms``, ``0``), the one parser for them.

kubeadm's certificate lifetimes, kube-apiserver flags and Compose files all
write durations the way Go's ``time.ParseDuration`` reads them: one or more
``<number><unit>`` parts with units ns, us (or µs), ms, s, m, h, or a lone
``0``. The value is exact (a ``Fraction`` of seconds); callers round it the
way their target needs. Only the standard library: it also runs on hosts.
"""

from __future__ import annotations

import re
from fractions import Fraction

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {
    "ns": Fraction(1, 10**9),
    "us": Fraction(1, 10**6),
    "µs": Fraction(1, 10**6),
    "ms": Fraction(1, 1000),
    "s": Fraction(1),
    "m": Fraction(60),
    "h": Fraction(3600),
}


def go_duration(text: str) -> Fraction:
    """Seconds in a Go duration string; ValueError when ``text`` is not one."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a Go duration (like 90s, 1m30s or 8760h)")
    value = text.strip()
    if value == "0":
        return Fraction(0)
    position, total = 0, Fraction(0)
    for match in _PART.finditer(value):
        if match.start() != position:
            break
        total += Fraction(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(value):
        raise ValueError(f"{text!r} is not a Go duration (like 90s, 1m30s or 8760h)")
    return total
