#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.host_lock: one run at a time on a host."""

from __future__ import annotations

DOCUMENTATION = r"""
module: host_lock
author: ack-runbooks contributors (@ackops)
version_added: "0.2.0"
short_description: Take or release a run's lock on a host, so two runs never work on it at once
description:
  - A lock is a small JSON file created atomically (C(O_EXCL)) holding who took it (O(owner)), when,
    and until when it is valid (O(ttl)).
  - V(present) takes the lock, or keeps it when this O(owner) already holds it. It fails, naming the
    holder, since when and the file to remove, when another owner holds a lock that has not expired;
    an expired lock (a run that died) is taken over with a warning.
  - V(absent) releases the lock when this O(owner) holds it; another owner's lock is left alone.
  - In check mode V(present) only checks that the lock is free (or ours) and writes nothing.
attributes:
  check_mode:
    support: full
    details: Checks only; the lock file is not written or removed.
  diff_mode:
    support: none
    details: The lock file is an implementation detail; its state is in the result.
  idempotent:
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
extends_documentation_fragment:
  - ackops.runbooks.attributes
options:
  path:
    description: The lock file. Its directory is created (0700) when missing.
    type: path
    required: true
  owner:
    description: Who takes the lock, unique per run (for example the controller and a run id).
    type: str
    required: true
  state:
    description: V(present) takes or keeps the lock, V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  ttl:
    description:
      - Seconds a lock stays valid. A lock older than that is taken to belong to a run that
        died and is taken over.
    type: int
    default: 3600
"""

EXAMPLES = r"""
- name: One renewal at a time on this host
  ackops.runbooks.host_lock:
    path: /var/lib/ackops/locks/renew-certs.lock
    owner: "{{ run_id }}"

- name: Release it at the end
  ackops.runbooks.host_lock:
    path: /var/lib/ackops/locks/renew-certs.lock
    owner: "{{ run_id }}"
    state: absent
"""

RETURN = r"""
holder:
  description: The lock's content after the call (null when no lock is held).
  returned: always
  type: dict
  sample: {owner: "controller-1 20261204T031500 4242", since: "2026-12-04T03:15:00Z",
           expires: "2026-12-04T04:15:00Z"}
taken_over:
  description: The expired lock that was replaced, when one was.
  returned: when an expired lock was taken over
  type: dict
error:
  description: On failure, C(type) (V(lock)), C(host), C(object) (the lock file), C(cause) and C(details) (the holder).
  returned: failure
  type: dict
partial_changes:
  description: On failure, what was changed before it (nothing).
  returned: failure
  type: list
  elements: dict
"""

import datetime as dt
import json
import os
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    RunbookError,
    run_module,
)

# Module code runs on the managed host's Python, which may predate datetime.UTC.
UTC = dt.timezone.utc  # noqa: UP017


class LockError(RunbookError):
    error_type = "lock"


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def read_lock(path: str, host: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            content = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LockError(
            f"cannot read the lock ({exc}); remove it if no run is active", host=host, obj=path
        ) from exc
    if not isinstance(content, dict) or not {"owner", "since", "expires"} <= set(content):
        raise LockError(
            "not a lock this module wrote; remove it if no run is active", host=host, obj=path
        )
    return content


def expired(holder: dict, now: dt.datetime) -> bool:
    try:
        until = dt.datetime.strptime(holder["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return True
    return until <= now


def write_lock(path: str, content: dict, host: str) -> None:
    directory = os.path.dirname(path) or "."
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise
    except OSError as exc:
        raise LockError(f"cannot create the lock ({exc.strerror})", host=host, obj=path) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(content, handle)


def take(module, host: str, changes) -> dict:
    params = module.params
    path, owner = params["path"], params["owner"]
    now = dt.datetime.now(UTC)
    mine = {
        "owner": owner,
        "since": iso(now),
        "expires": iso(now + dt.timedelta(seconds=params["ttl"])),
    }
    holder = read_lock(path, host)
    result: dict = {"changed": False, "holder": holder}
    if holder is not None and holder["owner"] == owner:
        return result
    if holder is not None and not expired(holder, now):
        raise LockError(
            f"another run holds it: {holder['owner']}, since {holder['since']} (valid until "
            f"{holder['expires']}). Wait for that run to end; if it is no longer running, remove {path} "
            "and run again",
            host=host,
            obj=path,
            details={"holder": holder},
        )
    if holder is not None:
        module.warn(
            f"{path}: took over the expired lock of {holder['owner']} (since {holder['since']})"
        )
        result["taken_over"] = holder
    if module.check_mode:
        result["changed"] = True
        return result
    if holder is not None:
        os.unlink(path)
    try:
        write_lock(path, mine, host)
    except FileExistsError:
        # Another run took it between our read and our create.
        raise LockError(
            "another run took it at the same moment; run again when it is done", host=host, obj=path
        ) from None
    changes.record("create", path)
    return {**result, "changed": True, "holder": mine}


def release(module, host: str, changes) -> dict:
    path, owner = module.params["path"], module.params["owner"]
    holder = read_lock(path, host)
    if holder is None or holder["owner"] != owner:
        return {"changed": False, "holder": holder}
    if not module.check_mode:
        os.unlink(path)
        changes.record("remove", path)
    return {"changed": True, "holder": None}


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "owner": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "ttl": {"type": "int", "default": 3600},
        },
        supports_check_mode=True,
    )
    host = socket.gethostname()

    def work(changes):
        if module.params["ttl"] < 1:
            raise LockError("must be at least 1 second", host=host, field="ttl")
        if module.params["state"] == "present":
            return take(module, host, changes)
        return release(module, host, changes)

    run_module(module, work, host=host)


if __name__ == "__main__":
    main()
