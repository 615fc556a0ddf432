#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.swarm_stack_info: a deployed Swarm stack read back as a compose document."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_stack_info
author: ack-runbooks contributors (@ackops)
version_added: "1.3.0"
short_description: Read a deployed Docker Swarm stack back into a compose document, with its nodes and tasks
description:
  - Runs on a Swarm manager and reads the stack with the docker CLI - C(docker
    service ls/inspect), C(docker config inspect), C(docker network inspect),
    C(docker volume inspect), C(docker node inspect) and C(docker stack ps) - so
    a migration also works where the stack file was lost.
  - Returns RV(compose), a Compose Specification document of the stack as
    deployed, which M(ackops.runbooks.swarm_compose_convert) converts like a
    file (its O(ackops.runbooks.swarm_compose_convert#module:documents) option).
  - What Swarm does not keep is listed in RV(notes) - C(depends_on) (docker
    stack deploy ignores it), C(build), C(env_file) and the interpolation
    variables (the values as deployed are kept), and secret values.
  - Config contents come from C(Spec.Data). Secret values can never be read
    from the Swarm API; in the document secrets are C(external). Only with
    O(read_secrets=true) are they read from a running task of this host
    (C(docker exec TASK cat /run/secrets/TARGET)) into RV(secret_values); run
    that task with C(no_log=true).
  - Changes nothing.
extends_documentation_fragment:
  - ackops.runbooks.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  stack:
    description: The stack name (label C(com.docker.stack.namespace)).
    type: str
    required: true
  docker:
    description: The docker CLI to run.
    type: str
    default: docker
  docker_host:
    description: The daemon to talk to (C(DOCKER_HOST)); empty uses the CLI's default.
    type: str
    default: ""
  read_secrets:
    description:
      - Read the values of the stack's secrets from running tasks on this host
        into RV(secret_values). Run the task with C(no_log=true).
    type: bool
    default: false
  secrets:
    description: With O(read_secrets), only these secrets (names as in the stack); all when empty.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds each docker command may take.
    type: int
    default: 60
notes:
  - Volumes are local to each Swarm node; C(docker volume inspect) sees the
    ones of this host only. Their data is not copied - RV(notes) says so per volume.
"""

EXAMPLES = r"""
- name: Read the shop stack from the manager
  ackops.runbooks.swarm_stack_info:
    stack: shop
  delegate_to: "{{ groups['swarm_managers'][0] }}"
  register: shop_live

- name: Read the secret values from running tasks (explicit request)
  ackops.runbooks.swarm_stack_info:
    stack: shop
    read_secrets: true
  delegate_to: "{{ groups['swarm_managers'][0] }}"
  register: shop_secrets
  no_log: true
"""

RETURN = r"""
compose:
  description: The stack as a Compose Specification document (C($) doubled in strings).
  returned: success
  type: dict
  sample: {name: shop, services: {web: {image: "nginx:1.27", deploy: {replicas: 2}}}}
notes:
  description: What the live Swarm does not keep or this read could not recover, C(key) and C(note) (and C(service)).
  returned: success
  type: list
  elements: dict
services:
  description: The stack's services (short names) with C(name) (the Swarm name), C(replicas) (as C(docker service ls) shows them) and C(running) (task count).
  returned: success
  type: list
  elements: dict
tasks:
  description: Per service, its running tasks with C(name), C(node) and C(ports).
  returned: success
  type: dict
running_tasks:
  description: How many tasks of the stack run.
  returned: success
  type: int
nodes:
  description: The Swarm nodes - C(hostname), C(role), C(availability), C(state), C(labels), C(engine_labels), C(platform).
  returned: success
  type: list
  elements: dict
secrets_read:
  description: With O(read_secrets), the secrets whose value was read, and C(unread) with why for the others.
  returned: when O(read_secrets=true)
  type: dict
secret_values:
  description: With O(read_secrets), secret name to value. Never log it.
  returned: when O(read_secrets=true)
  type: dict
error:
  description: On failure, C(type), C(host), C(object) (the docker command or object), C(cause).
  returned: failure
  type: dict
"""

import json
import os
import shlex
import subprocess

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    RunbookError,
    run_module,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.live import (
    STACK_LABEL,
    LiveStackError,
    node_summary,
    running_tasks,
    short_name,
    stack_document,
)

ARGSPEC = {
    "stack": {"type": "str", "required": True},
    "docker": {"type": "str", "default": "docker"},
    "docker_host": {"type": "str", "default": ""},
    "read_secrets": {"type": "bool", "default": False},
    "secrets": {"type": "list", "elements": "str", "default": [], "no_log": False},
    "timeout": {"type": "int", "default": 60},
}


class Docker:
    def __init__(self, params: dict, host: str):
        self.argv0 = params["docker"]
        self.timeout = params["timeout"]
        self.host = host
        self.env = dict(os.environ)
        if params["docker_host"]:
            self.env["DOCKER_HOST"] = params["docker_host"]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [self.argv0, *args]
        try:
            proc = subprocess.run(
                argv, capture_output=True, env=self.env, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RunbookError(
                f"cannot run {shlex.join(argv)}: {exc}", host=self.host, obj=shlex.join(argv[:3])
            ) from None
        if check and proc.returncode != 0:
            raise RunbookError(
                f"{shlex.join(argv[:4])} failed: {proc.stderr.decode(errors='replace').strip()}",
                host=self.host,
                obj=shlex.join(argv[:3]),
            )
        return proc

    def json(self, *args: str):
        out = self.run(*args).stdout.decode(errors="replace")
        try:
            return json.loads(out) if out.strip() else []
        except ValueError:
            raise RunbookError(
                f"docker {' '.join(args[:2])} did not print JSON", host=self.host, obj=args[0]
            ) from None

    def lines_json(self, *args: str) -> list:
        items = []
        for line in self.run(*args).stdout.decode(errors="replace").splitlines():
            if line.strip():
                items.append(json.loads(line))
        return items


def read_secret_values(docker: Docker, stack: str, specs: list[dict], wanted: list[str]):
    """Secret name -> value, read from the first running local task mounting it; and why not."""
    values, unread = {}, {}
    for spec in specs:
        container = spec["Spec"]["TaskTemplate"].get("ContainerSpec") or {}
        service = spec["Spec"]["Name"]
        for grant in container.get("Secrets") or []:
            name = short_name(grant["SecretName"], stack)
            if (wanted and name not in wanted) or name in values:
                continue
            target = (grant.get("File") or {}).get("Name") or name
            path = target if target.startswith("/") else f"/run/secrets/{target}"
            ids = docker.run(
                "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={service}",
                "--filter", "status=running",
            ).stdout.decode().split()  # fmt: skip
            if not ids:
                unread[name] = f"no running task of {service} on this host"
                continue
            proc = docker.run("exec", ids[0], "cat", path, check=False)
            if proc.returncode != 0:
                unread[name] = f"cat {path} in a task of {service} failed (rc {proc.returncode})"
                continue
            try:
                values[name] = proc.stdout.decode("utf-8")
            except UnicodeDecodeError:
                unread[name] = "not UTF-8 text: give it from the vault"
                continue
            unread.pop(name, None)
    for name in wanted:
        if name not in values:
            unread.setdefault(name, "no service of the stack mounts it")
    return values, unread


def read_stack(module) -> dict:
    params = module.params
    stack = params["stack"]
    host = os.uname().nodename
    docker = Docker(params, host)
    listed = docker.lines_json(
        "service", "ls", "--filter", f"label={STACK_LABEL}={stack}", "--format", "{{json .}}"
    )
    if not listed:
        return {
            "changed": False,
            "compose": {},
            "notes": [],
            "services": [],
            "tasks": {},
            "running_tasks": 0,
            "nodes": read_nodes(docker),
            "exists": False,
        }
    specs = docker.json("service", "inspect", *[s["ID"] for s in listed])
    config_ids = sorted(
        {
            c["ConfigID"]
            for s in specs
            for c in (s["Spec"]["TaskTemplate"].get("ContainerSpec") or {}).get("Configs") or []
            if "ConfigID" in c
        }
    )
    configs = docker.json("config", "inspect", *config_ids) if config_ids else []
    network_ids = sorted(
        {n["Target"] for s in specs for n in s["Spec"]["TaskTemplate"].get("Networks") or []}
    )
    networks = docker.json("network", "inspect", *network_ids) if network_ids else []
    volume_names = sorted(
        {
            m["Source"]
            for s in specs
            for m in (s["Spec"]["TaskTemplate"].get("ContainerSpec") or {}).get("Mounts") or []
            if m.get("Type") == "volume" and m.get("Source")
        }
    )
    volumes = []
    for name in volume_names:  # node-local: absent here is normal
        proc = docker.run("volume", "inspect", name, check=False)
        if proc.returncode == 0:
            volumes.extend(json.loads(proc.stdout or b"[]"))
    try:
        document, notes = stack_document(stack, specs, configs, networks, volumes)
    except LiveStackError as exc:
        raise RunbookError(str(exc), host=host, obj=f"stack {stack}") from None
    tasks = running_tasks(
        docker.lines_json(
            "stack", "ps", stack, "--filter", "desired-state=running", "--format", "{{json .}}"
        ),
        stack,
    )
    services = [
        {
            "service": short_name(s["Name"], stack),
            "name": s["Name"],
            "replicas": s.get("Replicas"),
            "mode": s.get("Mode"),
            "running": len(tasks.get(short_name(s["Name"], stack), [])),
        }
        for s in sorted(listed, key=lambda s: s["Name"])
    ]
    result = {
        "changed": False,
        "exists": True,
        "compose": document,
        "notes": notes,
        "services": services,
        "tasks": tasks,
        "running_tasks": sum(len(t) for t in tasks.values()),
        "nodes": read_nodes(docker),
    }
    if params["read_secrets"]:
        values, unread = read_secret_values(docker, stack, specs, params["secrets"])
        result["secret_values"] = values
        result["secrets_read"] = {"read": sorted(values), "unread": unread}
    return result


def read_nodes(docker: Docker) -> list[dict]:
    ids = docker.run("node", "ls", "-q").stdout.decode().split()
    return [node_summary(n) for n in docker.json("node", "inspect", *ids)] if ids else []


def main():
    module = AnsibleModule(argument_spec=ARGSPEC, supports_check_mode=True)
    run_module(module, lambda changes: read_stack(module))


if __name__ == "__main__":
    main()
