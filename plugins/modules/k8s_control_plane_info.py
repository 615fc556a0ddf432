#!/usr/bin/python
# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module ackops.runbooks.k8s_control_plane_info: is the control plane running on its files?"""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_control_plane_info
author: ack-runbooks contributors (@ackops)
version_added: "0.2.0"
short_description: Tell whether a master's control plane runs on the certificates on disk
description:
  - Reads the static pod manifests (and a restart's aside directory), the control-plane processes of
    this host (those sharing its network namespace, as host-network static pods do) with their start
    times, and every file their flags name (certificates, keys, kubeconfigs) with its modification
    time.
  - A component that started before one of its files was written runs on the old file (a renewal
    whose restart never happened); an aside directory left behind means a restart was interrupted and
    the kubelet keeps those components stopped. Both are returned in RV(findings).
  - Ports and addresses come from the manifests' flags (kubeadm's defaults otherwise), not from fixed
    numbers.
  - With O(started_after), waits up to O(timeout) seconds until every component whose manifest is in
    place runs, started after that time, started after each of its files was written, and accepts
    connections on its ports; fails naming what is missing otherwise. This proves a restart, which
    the API server's serving certificate cannot (it reloads that file without restarting).
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    details: Read-only, nothing to diff.
  idempotent:
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
extends_documentation_fragment:
  - ackops.runbooks.attributes
options:
  manifest_dir:
    description: The kubelet's static pod directory.
    type: path
    default: /etc/kubernetes/manifests
  aside_dir:
    description:
      - Where a restart moves manifests while the components are stopped.
      - Defaults to O(manifest_dir) with C(.ackops-restart) appended, as the renew_certs role uses it.
    type: path
  started_after:
    description:
      - Epoch seconds (float) at which a restart began. When set, the module waits for the restart
        to be complete (see the description).
    type: float
  timeout:
    description: Seconds to wait when O(started_after) is set.
    type: int
    default: 180
  delay:
    description: Seconds between two looks while waiting.
    type: float
    default: 2
seealso:
  - module: ackops.runbooks.k8s_cert_renew
  - module: ackops.runbooks.k8s_apiserver_info
"""

EXAMPLES = r"""
- name: Find out whether an earlier renewal left the control plane on old files
  ackops.runbooks.k8s_control_plane_info:
  register: control_plane

- name: Wait until every component was restarted after the renewal wrote its files
  ackops.runbooks.k8s_control_plane_info:
    started_after: "{{ restart_began }}"
    timeout: 180
"""

RETURN = r"""
components:
  description: One entry per control-plane component with a manifest or a running process.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: C(etcd), C(kube-apiserver), C(kube-controller-manager) or C(kube-scheduler).
      type: str
    manifest:
      description: Its manifest's path (in the aside directory when moved there), or null.
      type: str
    manifest_aside:
      description: Its manifest sits in the aside directory.
      type: bool
    running:
      description: A process of it runs on this host.
      type: bool
    pid:
      description: Its process id.
      type: int
    started:
      description: Its start time, epoch seconds.
      type: float
    ports:
      description: The TCP ports it listens on, from its flags.
      type: list
      elements: int
    address:
      description: The address its ports are checked on.
      type: str
    files:
      description: The files its flags name.
      type: list
      elements: str
    newer_than_process:
      description: Those written after it started.
      type: list
      elements: str
    stale:
      description: It runs on at least one old file.
      type: bool
    shutdown_delay:
      description:
        - For kube-apiserver, seconds of its C(--shutdown-delay-duration) (0 when the flag is not
          set); null for the other components, and when the value is not a Go duration.
        - During that time a stopping API server fails C(/readyz) but still serves, so a load
          balancer that checks C(/readyz) takes it out before it stops accepting connections.
      type: float
  sample:
    - {name: kube-scheduler, manifest: /etc/kubernetes/manifests/kube-scheduler.yaml,
       manifest_aside: false, running: true, pid: 4121, started: 1796390000.52, ports: [10259],
       address: 127.0.0.1, files: [/etc/kubernetes/scheduler.conf],
       newer_than_process: [/etc/kubernetes/scheduler.conf], stale: true,
       shutdown_delay: null}
interrupted:
  description: The aside directory exists (a restart did not finish).
  returned: always
  type: bool
aside_dir:
  description: The aside directory looked at.
  returned: always
  type: str
aside_exists:
  description: Whether it exists.
  returned: always
  type: bool
aside_manifests:
  description: Manifests still in it.
  returned: always
  type: list
  elements: str
stale:
  description: Names of the components running on old files.
  returned: always
  type: list
  elements: str
not_running:
  description: Names of the components with a manifest but no process.
  returned: always
  type: list
  elements: str
findings:
  description: One sentence per thing an earlier run left unfinished (empty when all is well).
  returned: always
  type: list
  elements: str
  sample: ["kube-scheduler (pid 4121) started before /etc/kubernetes/scheduler.conf was written: it runs on the old files"]
waited:
  description: Seconds spent waiting (0 without O(started_after)).
  returned: always
  type: float
error:
  description: On failure, C(type), C(host), C(object), C(field), C(cause) and C(details) (C(reasons) when a wait timed out).
  returned: failure
  type: dict
partial_changes:
  description: On failure, always empty (the module only reads).
  returned: failure
  type: list
  elements: dict
"""

import socket
import time

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.control_plane import (
    ControlPlaneError,
    findings,
    inspect,
    not_restarted,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.module import run_pki_module

OPTIONS = {
    "manifest_dir": {"type": "path", "default": "/etc/kubernetes/manifests"},
    "aside_dir": {"type": "path"},
    "started_after": {"type": "float"},
    "timeout": {"type": "int", "default": 180},
    "delay": {"type": "float", "default": 2.0},
}


class RestartNotProven(RunbookError):
    error_type = "control_plane"


def look(params: dict, host: str) -> dict:
    aside = params["aside_dir"] or params["manifest_dir"].rstrip("/") + ".ackops-restart"
    try:
        return inspect(params["manifest_dir"], aside)
    except ControlPlaneError as exc:
        raise RestartNotProven(str(exc), host=host, obj=params["manifest_dir"]) from exc


def control_plane(module, roots, changes) -> dict:
    params = module.params
    host = socket.gethostname()
    if params["timeout"] < 0:
        raise RestartNotProven("must be 0 or more seconds", host=host, field="timeout")
    began = time.monotonic()
    state = look(params, host)
    since = params["started_after"]
    if since is not None:
        deadline = began + params["timeout"]
        reasons = not_restarted(state, since)
        while reasons and time.monotonic() < deadline:
            time.sleep(params["delay"])
            state = look(params, host)
            reasons = not_restarted(state, since)
        if reasons:
            raise RestartNotProven(
                f"the control plane did not come back on its files within {params['timeout']}s: "
                + "; ".join(reasons),
                host=host,
                obj=params["manifest_dir"],
                details={"reasons": reasons},
            )
    return {
        "changed": False,
        **state,
        "findings": findings(state),
        "waited": round(time.monotonic() - began, 1),
    }


def main():
    run_pki_module(OPTIONS, control_plane, with_roots=False)


if __name__ == "__main__":
    main()
