# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for ackops.runbooks.report_write: a relative report directory is the controller's.

Ansible runs a module on the local connection in the playbook's directory, so
a relative ``dir`` would land in ``playbooks/``. The collection's rule is that
a relative report directory is relative to where ansible-playbook runs (the
project root, for the runbooks and AWX alike), so on the local connection it
is made absolute here, in the controller process, before the module runs.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        directory = args.get("dir")
        if (
            self._connection.transport == "local"
            and isinstance(directory, str)
            and directory
            and not os.path.isabs(os.path.expanduser(directory))
        ):
            args["dir"] = os.path.abspath(directory)
        result.update(
            self._execute_module(
                module_name="ackops.runbooks.report_write", module_args=args, task_vars=task_vars
            )
        )
        return result
