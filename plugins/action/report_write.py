# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for ackops.runbooks.report_write: a relative report directory is the controller's,
and with ``publish`` the report's summary is published for AWX by this same task.

Ansible runs a module on the local connection in the playbook's directory, so
a relative ``dir`` would land in ``playbooks/``. The collection's rule is that
a relative report directory is relative to where ansible-playbook runs (the
project root, for the runbooks and AWX alike), so on the local connection it
is made absolute here, in the controller process, before the module runs.

``publish`` returns ``ansible_stats`` as ``ansible.builtin.set_stats`` does
(aggregated, for the whole run: the strategy handles it for any task), so the
report role writes and publishes in one task instead of two; an empty ``dir``
then writes nothing and still publishes.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.ackops.runbooks.plugins.module_utils.common.report import (
    ReportWriteError,
    report_summary,
)

PUBLISH_KEYS = {"stats": dict, "changes": list, "failure": str}


def kind(value) -> str:
    """The plain type name of a value (Ansible 2.19 hands over tagged subclasses)."""
    for plain in (bool, int, float, str, list, dict):
        if isinstance(value, plain):
            return plain.__name__
    return "null" if value is None else type(value).__name__


def check_publish(publish) -> dict:
    """``publish`` with its defaults, or ReportWriteError naming the option and the cause."""
    if not isinstance(publish, dict):
        raise ReportWriteError(f"must be a dict, got {kind(publish)}", field="publish")
    unknown = sorted(set(publish) - set(PUBLISH_KEYS))
    if unknown:
        raise ReportWriteError(
            f"unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(PUBLISH_KEYS)}",
            field="publish",
        )
    checked = {"stats": {}, "changes": [], "failure": ""}
    for key, wanted in PUBLISH_KEYS.items():
        value = publish.get(key)
        if value is None:
            continue
        if not isinstance(value, wanted):
            raise ReportWriteError(
                f"must be a {wanted.__name__}, got {kind(value)}", field=f"publish.{key}"
            )
        checked[key] = value
    return checked


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        publish = args.pop("publish", None)
        if publish is not None:
            try:
                publish = check_publish(publish)
                if not isinstance(args.get("name"), str) or not args["name"]:
                    raise ReportWriteError("is required with publish", field="name")
            except ReportWriteError as exc:
                return self._refused(result, exc)
        directory = args.get("dir")
        written = None
        # Only an empty dir with publish skips the module (a missing dir is its error).
        if publish is None or directory != "":
            if (
                self._connection.transport == "local"
                and isinstance(directory, str)
                and directory
                and not os.path.isabs(os.path.expanduser(directory))
            ):
                args["dir"] = os.path.abspath(directory)
            written = self._execute_module(
                module_name="ackops.runbooks.report_write", module_args=args, task_vars=task_vars
            )
            result.update(written)
            if written.get("failed"):
                return result
        if publish is not None:
            try:
                summary = report_summary(
                    written, args.get("html"), publish["changes"], publish["failure"]
                )
            except ReportWriteError as exc:
                return self._refused(result, exc)
            data = dict(publish["stats"])
            data["ackops_reports"] = {args.get("name"): summary}
            result["ansible_stats"] = {"data": data, "per_host": False, "aggregate": True}
            result["summary"] = summary
        return result

    @staticmethod
    def _refused(result: dict, exc: ReportWriteError) -> dict:
        """The collection's failure contract: nothing was written or published."""
        result.update(
            failed=True,
            changed=False,
            msg=f"report_write: {exc}",
            error=exc.as_error(),
            partial_changes=[],
        )
        return result
