"""Validate a filter's arguments against the filter's own DOCUMENTATION.

The options a filter documents are the options it accepts: one source for
``ansible-doc`` and for the checks, as ansible.utils does for its filters.
Domain errors (InputError from module_utils) become AnsibleFilterError with
the same field-and-value message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError

_SPEC_KEYS = ("type", "elements", "required", "choices", "default", "aliases")


def _argument_spec(options: dict) -> dict:
    spec = {}
    for name, doc in options.items():
        entry = {key: doc[key] for key in _SPEC_KEYS if key in doc}
        if "suboptions" in doc:
            entry["options"] = _argument_spec(doc["suboptions"])
        spec[name] = entry
    return spec


def _overflowing(spec: dict, given: dict) -> tuple[str, object]:
    """The option whose value Ansible's int conversion cannot take (an infinite float)."""
    for option, value in given.items():
        try:
            ArgumentSpecValidator({option: spec[option]}).validate({option: value})
        except OverflowError:
            return option, value
        except KeyError:  # an unknown option: reported by the full validation
            continue
    return "?", None


def documented_filter(documentation: str, input_name: str = "_input") -> Callable:
    """Decorate ``func(_input, **options)`` so its arguments are checked against ``documentation``.

    The wrapped function receives validated (type-converted, defaulted) options.
    ``input_name`` is what messages call the input (for example ``total_cores``).
    """
    doc = yaml.safe_load(documentation)
    name = doc["name"]
    spec = _argument_spec(doc["options"])
    validator = ArgumentSpecValidator(spec)

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(_input=None, *args, **kwargs):
            if args:
                raise AnsibleFilterError(
                    f"{name}: pass options by name, e.g. {name}(option=value); got {args!r}"
                )
            given = {k: v for k, v in {"_input": _input, **kwargs}.items() if v is not None}
            try:
                result = validator.validate(given)
            except OverflowError:
                # int(float('inf')) inside Ansible's type conversion: not a count at all
                option, value = _overflowing(spec, given)
                shown = input_name if option == "_input" else option
                what = (
                    "hold finite whole numbers"
                    if isinstance(value, list)
                    else "be a finite whole number"
                )
                raise AnsibleFilterError(f"{name}: {shown}: {value!r} must {what}") from None
            if result.error_messages:
                raise AnsibleFilterError(
                    f"{name}: "
                    + "; ".join(
                        m if "Supported parameters" not in m else f"unsupported option {m}"
                        for m in result.error_messages
                    )
                )
            options = result.validated_parameters
            try:
                return func(options.pop("_input"), **options)
            except InputError as exc:
                raise AnsibleFilterError(f"{name}: {exc}") from None

        return wrapper

    return decorate
