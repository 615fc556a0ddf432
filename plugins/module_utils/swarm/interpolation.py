# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose variable interpolation and ``.env`` files.

``$VAR`` and ``${VAR}`` take the variable; ``${VAR:-word}`` the word when the
variable is unset or empty, ``${VAR-word}`` only when unset; ``${VAR:?msg}``
and ``${VAR?msg}`` stop with ``msg`` in the same two cases; ``${VAR:+word}``
and ``${VAR+word}`` give the word when the variable is set (and not empty).
Words are interpolated themselves, so defaults nest. ``$$`` is a literal
``$``; a ``$`` followed by anything that is not a name or ``{`` stays as it is.
An unset variable without a default becomes "" and is reported as a warning.

Only values are interpolated, never mapping keys. The caller's variables are
the environment; a project ``.env`` adds what they do not set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.yamlfile import Override

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    """Raised inside the parser; turned into a ComposeError naming the file and key."""


def _braced_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` whose body starts at ``start``."""
    depth, index = 1, start
    while index < len(text):
        char = text[index]
        if text.startswith("$$", index):
            index += 2
            continue
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise InterpolationError("has a '${' without its closing '}'")


def substitute(text: str, variables: Mapping[str, str], warn: Callable[[str], None]) -> str:
    """``text`` with its variables replaced; InterpolationError when a required one is missing."""
    if "$" not in text:
        return text
    out, index = [], 0
    while index < len(text):
        dollar = text.find("$", index)
        if dollar < 0:
            out.append(text[index:])
            break
        out.append(text[index:dollar])
        if text.startswith("$$", dollar):
            out.append("$")
            index = dollar + 2
            continue
        if text.startswith("${", dollar):
            end = _braced_end(text, dollar + 2)
            out.append(_braced(text[dollar + 2 : end], variables, warn))
            index = end + 1
            continue
        name = _NAME.match(text, dollar + 1)
        if name:
            out.append(_lookup(name.group(0), variables, warn))
            index = name.end()
            continue
        out.append("$")
        index = dollar + 1
    return "".join(out)


def _lookup(name: str, variables: Mapping[str, str], warn: Callable[[str], None]) -> str:
    if name in variables and variables[name] is not None:
        return str(variables[name])
    warn(f"variable {name} is not set; an empty string is used")
    return ""


def _braced(body: str, variables: Mapping[str, str], warn: Callable[[str], None]) -> str:
    name = _NAME.match(body)
    if not name:
        raise InterpolationError(f"has an invalid variable '${{{body}}}'")
    rest = body[name.end() :]
    var = name.group(0)
    if not rest:
        return _lookup(var, variables, warn)
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise InterpolationError(
            f"has an invalid variable '${{{body}}}' (Compose supports :-, -, :?, ?, :+ and + only)"
        )
    word = rest[len(operator) :]
    value = variables.get(var)
    is_set = var in variables and value is not None
    usable = is_set and (not operator.startswith(":") or str(value) != "")
    if operator in (":-", "-"):
        return str(value) if usable else substitute(word, variables, warn)
    if operator in (":+", "+"):
        return substitute(word, variables, warn) if usable else ""
    if usable:
        return str(value)
    message = substitute(word, variables, warn) or f"variable {var} is required"
    state = "not set" if not is_set else "empty"
    raise InterpolationError(f"needs variable {var}, which is {state}: {message}")


def interpolate_tree(
    data, variables: Mapping[str, str], file: str, warn: Callable[[str], None], path: str = ""
):
    """Every string value under ``data`` interpolated; keys are left alone.

    ``path`` is the dotted key of ``data`` in the file, for messages.
    """
    if isinstance(data, str):
        try:
            return substitute(data, variables, warn)
        except InterpolationError as exc:
            service, key = split_path(path)
            raise ComposeError(str(exc), file=file, service=service, key=key, value=data) from None
    if isinstance(data, dict):
        return {
            key: interpolate_tree(value, variables, file, warn, _join(path, key))
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [
            interpolate_tree(item, variables, file, warn, f"{path}[{index}]")
            for index, item in enumerate(data)
        ]
    if isinstance(data, Override):
        return Override(interpolate_tree(data.value, variables, file, warn, path))
    return data


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def split_path(path: str) -> tuple[str | None, str | None]:
    """``services.web.deploy.replicas`` -> (``web``, ``deploy.replicas``)."""
    if path.startswith("services."):
        parts = path.split(".", 2)
        name = parts[1].split("[", 1)[0]
        rest = parts[1][len(name) :].lstrip(".") if len(parts) == 2 else parts[2]
        return name, rest or None
    return None, path or None


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'", "$": "\\$"}


def parse_dotenv(
    text: str,
    file: str,
    variables: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
    raw: bool = False,
) -> dict[str, str]:
    """The variables an env file sets, in order.

    ``VAR=VAL`` sets VAL; ``VAR=`` sets ""; a bare ``VAR`` sets nothing. ``#``
    starts a comment line, or an inline comment after a space in an unquoted
    value. Double-quoted values know ``\\n \\t \\r \\\\ \\"`` and may span
    lines; single-quoted ones are literal. Unquoted and double-quoted values
    are interpolated from earlier lines and ``variables`` (``raw`` keeps every
    value exactly as written, without quotes handling or interpolation).
    """
    warn = warn or (lambda _message: None)
    result: dict[str, str] = {}
    scope = dict(variables or {})
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") and "=" in line:
            line = line[len("export ") :].lstrip()
        name, equals, value = line.partition("=")
        name = name.strip()
        if not re.fullmatch(r"[^\s=#]+", name):
            raise ComposeError(
                f"line {number}: not VAR=VALUE", file=file, key=f"line {number}", value=line
            )
        if not equals:
            continue
        value = value.strip()
        if raw:
            result[name] = value
            scope[name] = value
            continue
        if value[:1] in ("'", '"'):
            quote = value[0]
            body, index = _quoted(value[1:], quote, lines, index, file, number)
            if quote == '"':
                body = _substitute(body, scope, warn, file, number)
            value = body
        else:
            comment = value.find(" #")
            if comment >= 0:
                value = value[:comment].rstrip()
            value = _substitute(value, scope, warn, file, number)
        result[name] = value
        scope[name] = value
    return result


def _substitute(text, scope, warn, file, number):
    try:
        return substitute(text, scope, warn)
    except InterpolationError as exc:
        raise ComposeError(str(exc), file=file, key=f"line {number}", value=text) from None


def _quoted(rest: str, quote: str, lines: list[str], index: int, file: str, number: int):
    """The body of a quoted value starting after its quote; it may continue on later lines."""
    out: list[str] = []
    while True:
        position = 0
        while position < len(rest):
            char = rest[position]
            if char == "\\" and position + 1 < len(rest):
                following = rest[position + 1]
                if quote == '"' and following in _ESCAPES:
                    out.append(_ESCAPES[following] if following != "$" else "$$")
                    position += 2
                    continue
                if quote == "'" and following == "'":
                    out.append("'")
                    position += 2
                    continue
            if char == quote:
                return "".join(out), index
            out.append(char)
            position += 1
        if index >= len(lines):
            raise ComposeError(
                f"line {number}: the quoted value has no closing {quote}",
                file=file,
                key=f"line {number}",
            )
        out.append("\n")
        rest = lines[index]
        index += 1
