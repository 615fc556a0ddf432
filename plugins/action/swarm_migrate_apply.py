# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for ackops.runbooks.swarm_migrate_apply: relative compose paths are the controller cwd's (controller_paths)."""

from __future__ import annotations

from ansible_collections.ackops.runbooks.plugins.plugin_utils.controller_paths import (
    controller_paths_action,
)

ActionModule = controller_paths_action(
    "ackops.runbooks.swarm_migrate_apply",
    single=("project_directory", "dotenv", "dest"),
    lists=("files",),
)
