# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_convert filter: a compose document to Kubernetes objects and a migration report."""

from __future__ import annotations

DOCUMENTATION = r"""
name: compose_convert
author: ack-runbooks contributors (@ackops)
version_added: "1.2.0"
short_description: Convert one compose document (Swarm stack) to Kubernetes objects and a migration report
description:
  - The converter of the module ackops.runbooks.swarm_compose_convert for a
    compose document held in a variable (for example read from a Swarm manager
    with C(slurp)), without files; see that module for what is converted.
  - Interpolation uses O(variables) only (no C(.env) is read); relative paths
    in the document (configs, env files, bind mounts) resolve from O(project_directory).
  - Secret values are redacted in the objects; to apply Secrets use the module.
    A secret whose source is C(environment) gets no Secret here, as its value is
    never taken from O(variables), only from the module's C(secret_values).
  - Malformed input fails with the file (C(<input>)), service, key and value.
options:
  _input:
    description: The compose document, as YAML text or an already parsed mapping.
    type: raw
    required: true
  project_name:
    description: The stack name.
    type: str
    default: stack
  project_directory:
    description: Where relative paths of the document resolve.
    type: path
    default: .
  variables:
    description: The interpolation variables.
    type: dict
    default: {}
  namespace:
    description: Namespace of every object.
    type: str
  options:
    description:
      - Further conversion options, named as the module's (statefulsets,
        storage_class, volume_size, volume_claims, load_balancer, label_map,
        node_names, node_labels, bind_mounts, network_policies, wait_image,
        config_values).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Show what a stack file read from the manager would become
  ansible.builtin.debug:
    msg: "{{ (stack_file.content | b64decode | ackops.runbooks.compose_convert(project_name='shop')).report.summary }}"
"""

RETURN = r"""
_value:
  description: The conversion.
  type: dict
  contains:
    objects: {description: The Kubernetes objects (Secret values redacted)., type: list, elements: dict}
    report: {description: "The migration report, as the module ackops.runbooks.swarm_compose_convert returns it.", type: dict}
    report_markdown: {description: The report for people., type: str}
"""

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    ConvertOptions,
    convert_compose,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.output import redacted
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.report import markdown
from ansible_collections.ackops.runbooks.plugins.plugin_utils.filter_args import documented_filter

INPUT = "<input>"
_OPTION_NAMES = {
    "statefulsets", "statefulset_for_named_volumes", "storage_class", "volume_size",
    "volume_claims", "load_balancer", "label_map", "node_names", "node_labels", "bind_mounts",
    "network_policies", "wait_image", "config_values", "create_namespace",
}  # fmt: skip


@documented_filter(DOCUMENTATION)
def compose_convert(document, project_name, project_directory, variables, namespace, options):
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise AnsibleFilterError(f"compose_convert: unknown options {unknown}")
    if isinstance(document, dict):
        document = yaml.safe_dump(document, sort_keys=False)
    if not isinstance(document, str):
        raise AnsibleFilterError("compose_convert: the input must be YAML text or a mapping")
    try:
        conversion = convert_compose(
            [INPUT],
            ConvertOptions(namespace=namespace, **options),
            variables=variables,
            dotenv=False,
            project_name=project_name,
            project_directory=project_directory,
            texts={INPUT: document},
        )
    except ComposeError as exc:
        raise AnsibleFilterError(f"compose_convert: {exc}") from None
    return {
        "objects": redacted(conversion.objects),
        "report": conversion.report,
        "report_markdown": markdown(conversion.report),
    }


class FilterModule:
    def filters(self):
        return {"compose_convert": compose_convert}
