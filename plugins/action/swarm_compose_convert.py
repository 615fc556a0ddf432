# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for ackops.runbooks.swarm_compose_convert: relative compose paths are the controller's cwd's.

``ansible-playbook migrate-swarm.yml -e migrate_swarm_files=stack/compose.yml`` means the file
under the directory ansible-playbook runs in, not under playbooks/ (see controller_paths).
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.ackops.runbooks.plugins.plugin_utils.controller_paths import (
    run_with_controller_paths,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(
            run_with_controller_paths(
                self,
                task_vars,
                "ackops.runbooks.swarm_compose_convert",
                single=("project_directory", "dotenv", "dest"),
                lists=("files",),
            )
        )
        return result
