# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX/AAP survey specs derived from a role's meta/argument_specs.yml.

A survey is the form AWX shows before a job starts; its answers arrive as
extra vars. Generating it from the argument spec the role validates keeps the
two from drifting: a question exists for each option an operator may answer,
with the option's type, choices, default, required flag and description.

Type mapping (argument spec -> survey question):

- bool -> multiplechoice "true"/"false" (the role's spec accepts those strings)
- int -> integer, float -> float
- str/path with choices -> multiplechoice (a "" choice means "not set": the
  question is then optional, without that choice)
- list with choices -> multiselect
- list of scalars -> text, comma-separated (Ansible splits a string given
  for a list on commas; a textarea's lines would arrive as one item)
- str -> text

Options a survey cannot express or should not ask are left out, by rule:
dict and raw values (they belong in the inventory or the job template's extra
vars), options whose default is a template (``{{ ... }}``: they follow the
inventory, e.g. the kubeconfig or the report directory, and an answer would
override that), ``*_kubeconfig`` (a credential's job in AWX), and the names a
runbook lists in ``exclude``.

Only the standard library: the result is plain data, written as JSON.
"""

from __future__ import annotations

from typing import Any

# The survey question types AWX accepts.
QUESTION_TYPES = (
    "text",
    "textarea",
    "password",
    "integer",
    "float",
    "multiplechoice",
    "multiselect",
)

TEXT_MAX = 1024
TEXTAREA_MAX = 4096


class SurveySpecError(ValueError):
    """An argument spec that cannot be turned into a survey, naming the option."""


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _description(option: dict) -> str:
    text = option.get("description", "")
    if isinstance(text, list):
        text = " ".join(str(line).strip() for line in text)
    return " ".join(str(text).split())


def _question_name(variable: str, prefix: str) -> str:
    short = variable[len(prefix) :] if prefix and variable.startswith(prefix) else variable
    words = short.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def skip_reason(variable: str, option: dict, exclude: frozenset[str] = frozenset()) -> str | None:
    """Why ``variable`` gets no question, or None when it gets one."""
    kind = option.get("type", "str")
    if variable in exclude:
        return "excluded by the runbook"
    if variable.endswith("_kubeconfig"):
        return "a credential in AWX"
    if kind in ("dict", "raw", "path"):
        return f"type {kind}: set in the inventory or the job template's extra vars"
    if kind == "list" and option.get("elements", "str") not in ("str", "int", "float"):
        return f"a list of {option.get('elements')}: set in the inventory or extra vars"
    if _is_template(option.get("default")):
        return "its default follows the inventory"
    return None


def question(variable: str, option: dict, prefix: str = "") -> dict:
    """The survey question for one argument spec option."""
    kind = option.get("type", "str")
    choices = option.get("choices")
    default = option.get("default")
    required = bool(option.get("required", False))
    entry: dict[str, Any] = {
        "variable": variable,
        "question_name": _question_name(variable, prefix),
        "question_description": _description(option),
        "required": required,
    }
    if kind == "bool":
        entry["type"] = "multiplechoice"
        entry["choices"] = ["true", "false"]
        if default is not None:
            entry["default"] = "true" if default else "false"
            # A boolean with a default always has an answer.
            entry["required"] = True
    elif kind == "list":
        if choices:
            entry["type"] = "multiselect"
            entry["choices"] = [str(c) for c in choices]
            entry["default"] = "\n".join(str(v) for v in default or [])
        else:
            # Comma-separated text, not a textarea: Ansible turns a string into
            # a list by splitting it on commas (the argument spec's and every
            # module's list conversion); lines would arrive as one item.
            entry["type"] = "text"
            entry["min"], entry["max"] = 0, TEXTAREA_MAX
            entry["default"] = ",".join(str(v) for v in default or [])
            entry["question_description"] += " (comma-separated)"
    elif choices:
        named = [str(c) for c in choices if c not in ("", None)]
        if not named:
            raise SurveySpecError(f"{variable}: choices {choices!r} name no value")
        entry["type"] = "multiplechoice"
        entry["choices"] = named
        if default not in (None, ""):
            if str(default) not in named:
                raise SurveySpecError(f"{variable}: default {default!r} is not one of {named}")
            entry["default"] = str(default)
            entry["required"] = True
        else:
            # "" is the spec's "not set": an unanswered optional question.
            entry["required"] = False
            entry["default"] = ""
    elif kind == "int":
        entry["type"] = "integer"
        if default is not None:
            entry["default"] = int(default)
    elif kind == "float":
        entry["type"] = "float"
        if default is not None:
            entry["default"] = float(default)
    elif kind == "str":
        entry["type"] = "text"
        entry["min"], entry["max"] = 0, TEXT_MAX
        entry["default"] = "" if default is None else str(default)
        if option.get("no_log"):
            entry["type"] = "password"
    else:
        raise SurveySpecError(f"{variable}: type {kind!r} has no survey question")
    return entry


def survey_spec(
    name: str,
    description: str,
    argument_spec: dict,
    prefix: str = "",
    exclude: list[str] | tuple[str, ...] = (),
    order: list[str] | tuple[str, ...] = (),
) -> dict:
    """The AWX survey for an entry point's argument spec (``argument_specs.<ep>``).

    ``order`` puts the named variables first (the questions an operator
    answers most), the others follow in the spec's order.
    """
    options = argument_spec.get("options") or {}
    excluded = frozenset(exclude)
    unknown = [v for v in [*excluded, *order] if v not in options]
    if unknown:
        raise SurveySpecError(
            f"{name}: not options of the argument spec: {', '.join(sorted(unknown))}"
        )
    names = [v for v in order if v in options] + [v for v in options if v not in order]
    spec = [
        question(variable, options[variable], prefix)
        for variable in names
        if skip_reason(variable, options[variable], excluded) is None
    ]
    return {"name": name, "description": description, "spec": spec}


def left_out(argument_spec: dict, exclude: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """Options without a question and why, for the docs."""
    options = argument_spec.get("options") or {}
    excluded = frozenset(exclude)
    out = {}
    for variable, option in options.items():
        reason = skip_reason(variable, option, excluded)
        if reason:
            out[variable] = reason
    return out
