# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Relative paths a user gives on the command line are the controller's, relative to its cwd.

Ansible runs a module on the local connection in the playbook's directory, so a relative
path given with ``-e`` would be looked up under ``playbooks/``.  Action plugins of modules
that read or write controller files make such paths absolute in the controller process,
against the directory ansible-playbook runs in, before the module runs.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase


def _absolute(value):
    if isinstance(value, str) and value and not os.path.isabs(os.path.expanduser(value)):
        return os.path.abspath(value)
    return value


def absolute_paths(args: dict, single=(), lists=()) -> dict:
    """``args`` with the named path options (and path-list options) made absolute."""
    args = dict(args)
    for option in single:
        if option in args:
            args[option] = _absolute(args[option])
    for option in lists:
        value = args.get(option)
        if isinstance(value, str):  # -e files=a.yml,b.yml: a list as Ansible splits it
            value = [v.strip() for v in value.split(",")] if value else []
        if isinstance(value, (list, tuple)):
            args[option] = [_absolute(v) for v in value]
    return args


def run_with_controller_paths(action, task_vars, module_name: str, single=(), lists=()) -> dict:
    """Run ``module_name`` from ``action`` (an ActionBase) with its local paths made absolute."""
    args = dict(action._task.args)
    if action._connection.transport == "local":
        args = absolute_paths(args, single, lists)
    return action._execute_module(module_name=module_name, module_args=args, task_vars=task_vars)


def controller_paths_action(module_name: str, single=(), lists=()) -> type:
    """The ActionModule class of ``module_name``: its local path options made absolute first."""

    class ActionModule(ActionBase):
        TRANSFERS_FILES = False

        def run(self, tmp=None, task_vars=None):
            result = super().run(tmp, task_vars)
            result.update(run_with_controller_paths(self, task_vars, module_name, single, lists))
            return result

    return ActionModule
