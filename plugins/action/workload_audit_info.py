# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for ackops.runbooks.workload_audit_info: relative input paths are the controller's.

Ansible runs a module on the local connection in the playbook's directory, so a
relative ``manifest_dir`` or ``config_file`` would be looked up under
``playbooks/``. A user means the directory they ran ansible-playbook from, so on
the local connection those paths are made absolute here, in the controller
process, before the module runs (the same rule as report_write's ``dir``), and
files are named relative to that directory in the findings (``display_root``).
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

PATH_OPTIONS = ("manifest_dir", "config_file")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        if self._connection.transport == "local":
            args.setdefault("display_root", os.getcwd())
            for option in PATH_OPTIONS:
                value = args.get(option)
                if (
                    isinstance(value, str)
                    and value
                    and not os.path.isabs(os.path.expanduser(value))
                ):
                    args[option] = os.path.abspath(value)
        result.update(
            self._execute_module(
                module_name="ackops.runbooks.workload_audit_info",
                module_args=args,
                task_vars=task_vars,
            )
        )
        return result
