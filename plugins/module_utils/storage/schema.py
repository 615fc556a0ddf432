# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the storage inputs: one error type, one reader per item, sizes and names.

Every check names the object (``volume data-0``, ``storage class fast``,
``claim web/logs``, ``statefulset web/db``, ``secret oss-keys``), the key path
(``storage_classes[2].performance_level``) and what is allowed. A value read as
a secret is never echoed: messages say ``<hidden>`` instead.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

HIDDEN = "<hidden>"
PLAN_OBJECT = "storage plan"

# RFC 1123 names, as the API server checks them.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
# Label values: 63 characters, alphanumeric at both ends.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
GIB = 2**30


class StorageInputError(RunbookError):
    """A storage description that cannot be turned into objects; nothing is applied.

    ``obj`` names the item, ``field`` its key path, the cause says what is
    allowed; ``details["allowed"]`` carries the allowed values for a machine.
    """

    error_type = "input"

    def __init__(self, cause: str, *, obj: str, field: str, allowed: Any = None):
        details = {"allowed": allowed} if allowed is not None else None
        super().__init__(cause, obj=obj, field=field, details=details)


def show(value: Any) -> str:
    """A value for a message: repr, cut at 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def one_of(values) -> str:
    return ", ".join(str(v) for v in values)


class Item:
    """One dict of the input, read key by key against what its kind accepts.

    ``keys`` are every key the item may have; anything else is refused with
    the list. ``secret_keys`` are never shown in a message.
    """

    def __init__(
        self,
        raw: Any,
        path: str,
        obj: str,
        keys: tuple[str, ...],
        secret_keys: tuple[str, ...] = (),
    ):
        self.path = path
        self.obj = obj
        self.keys = keys
        self.secret_keys = secret_keys
        if not isinstance(raw, dict):
            raise StorageInputError(
                f"must be a dict, got {type(raw).__name__}; allowed: a dict with keys among {one_of(keys)}",
                obj=obj,
                field=path,
                allowed=list(keys),
            )
        self.raw = raw
        for key in raw:
            if key not in keys:
                raise StorageInputError(
                    f"unknown key {key!r}; allowed: the keys {one_of(keys)}",
                    obj=obj,
                    field=f"{path}.{key}" if path else str(key),
                    allowed=list(keys),
                )

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, cause: str, allowed: Any = None):
        raise StorageInputError(cause, obj=self.obj, field=self.field(key), allowed=allowed)

    def _shown(self, key: str, value: Any) -> str:
        return HIDDEN if key in self.secret_keys else show(value)

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        choices: tuple[str, ...] | None = None,
        pattern: re.Pattern | None = None,
        what: str = "",
    ) -> str | None:
        """A non-empty string (numbers are accepted and turned into text, booleans are not)."""
        value = self.raw.get(key)
        if value is None:
            if required:
                allowed = one_of(choices) if choices else (what or "a non-empty string")
                self.fail(
                    key,
                    f"is required; allowed: {allowed}",
                    allowed=list(choices) if choices else None,
                )
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(
                key, f"must be a string, got {type(value).__name__}; allowed: {what or 'text'}"
            )
        text = str(value).strip()
        if not text:
            self.fail(key, f"must not be empty; allowed: {what or 'a non-empty string'}")
        if choices is not None and text not in choices:
            self.fail(
                key,
                f"{self._shown(key, value)} is not allowed; allowed: {one_of(choices)}",
                allowed=list(choices),
            )
        if pattern is not None and not pattern.match(text):
            self.fail(key, f"{self._shown(key, value)} is not valid; allowed: {what}")
        return text

    def name(
        self, key: str = "name", *, required: bool = True, subdomain: bool = False
    ) -> str | None:
        """A Kubernetes object name (RFC 1123 label, or subdomain where the kind allows it)."""
        what = (
            "a DNS subdomain name (lowercase letters, digits, '-' and '.', at most 253)"
            if subdomain
            else "a DNS label (lowercase letters, digits and '-', at most 63, alphanumeric at both ends)"
        )
        return self.text(
            key, required=required, pattern=DNS_SUBDOMAIN if subdomain else DNS_LABEL, what=what
        )

    def flag(self, key: str, default: bool | None = False) -> bool | None:
        """A boolean (YAML true/false, or the strings true/false/yes/no)."""
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "no"):
            return False
        self.fail(key, f"{show(value)} is not a boolean; allowed: true, false")
        return None  # unreachable

    def integer(
        self,
        key: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(key, f"is required; allowed: a whole number{_bounds(minimum, maximum)}")
            return default
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            number = int(value.strip())
        if number is None:
            self.fail(
                key,
                f"{show(value)} is not a whole number; allowed: a whole number{_bounds(minimum, maximum)}",
            )
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            self.fail(
                key, f"{number} is out of range; allowed: a whole number{_bounds(minimum, maximum)}"
            )
        return number

    def strings(
        self, key: str, *, default: list | None = None, required: bool = False
    ) -> list[str]:
        """A list of non-empty strings (a single string is a list of one)."""
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(key, "is required; allowed: a non-empty list of strings")
            return list(default or [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            self.fail(
                key, f"must be a list, got {type(value).__name__}; allowed: a list of strings"
            )
        items = []
        for index, element in enumerate(value):
            if isinstance(element, bool) or not isinstance(element, (str, int, float)):
                raise StorageInputError(
                    f"must be a string, got {type(element).__name__}; allowed: a string",
                    obj=self.obj,
                    field=f"{self.field(key)}[{index}]",
                )
            text = str(element).strip()
            if not text:
                raise StorageInputError(
                    "must not be empty; allowed: a non-empty string",
                    obj=self.obj,
                    field=f"{self.field(key)}[{index}]",
                )
            items.append(text)
        if required and not items:
            self.fail(key, "must not be empty; allowed: a non-empty list of strings")
        return items

    def mapping(self, key: str, *, labels: bool = False) -> dict[str, str]:
        """A dict of string to string; with ``labels``, keys and values must be valid label text."""
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(
                key,
                f"must be a dict, got {type(value).__name__}; allowed: a dict of string to string",
            )
        result = {}
        for name in sorted(value, key=str):
            element = value[name]
            if isinstance(element, bool) or not isinstance(element, (str, int, float)):
                raise StorageInputError(
                    f"must be a string, got {type(element).__name__}; allowed: a string",
                    obj=self.obj,
                    field=f"{self.field(key)}.{name}",
                )
            if labels and not (LABEL_KEY.match(str(name)) and LABEL_VALUE.match(str(element))):
                raise StorageInputError(
                    f"{show(name)}: {show(element)} is not a valid label; allowed: keys [prefix/]name "
                    "and values of at most 63 letters, digits, '-', '_' and '.'",
                    obj=self.obj,
                    field=f"{self.field(key)}.{name}",
                )
            result[str(name)] = str(element)
        return result

    def items(self, key: str) -> list:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.fail(key, f"must be a list, got {type(value).__name__}; allowed: a list of dicts")
        return list(value)

    def size(self, key: str, *, required: bool = True) -> Size | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(key, f"is required; allowed: {Size.WHAT}")
            return None
        try:
            return Size.parse(value)
        except ValueError as exc:
            self.fail(key, f"{show(value)} {exc}; allowed: {Size.WHAT}")
        return None  # unreachable


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    if maximum is not None:
        return f" of at most {maximum}"
    return ""


class Size:
    """A storage size: the quantity written in the manifest and its bytes.

    A bare number means GiB (``20`` is ``20Gi``); a string is a Kubernetes
    quantity with a whole number (``20Gi``, ``500Mi``, ``1Ti``, ``100G``).
    """

    WHAT = "a whole number of GiB (20) or a quantity such as 20Gi, 500Mi, 1Ti"

    def __init__(self, quantity: str, size_bytes: int):
        self.quantity = quantity
        self.bytes = size_bytes

    @classmethod
    def parse(cls, value: Any) -> Size:
        if isinstance(value, bool):
            raise ValueError("is not a size")
        if isinstance(value, int):
            if value <= 0:
                raise ValueError("must be greater than zero")
            return cls(f"{value}Gi", value * GIB)
        if not isinstance(value, str):
            raise ValueError("is not a size")
        text = value.strip()
        if text.isdigit():
            return cls.parse(int(text))
        match = _QUANTITY.match(text)
        if not match:
            raise ValueError("is not a size")
        number, suffix = int(match.group(1)), match.group(2) or ""
        if number <= 0:
            raise ValueError("must be greater than zero")
        scale = _BINARY.get(suffix) or _DECIMAL[suffix]
        return cls(f"{number}{suffix}", number * scale)

    @property
    def gib(self) -> int:
        """Whole GiB, rounded up as the disk driver rounds a request."""
        return -(-self.bytes // GIB)

    def __repr__(self) -> str:
        return f"Size({self.quantity})"
