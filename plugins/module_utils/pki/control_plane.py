# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a master's control plane is running, and whether it runs on the files on disk.

A renewal writes certificates and kubeconfigs, then restarts the static pods.
A run that dies between the two leaves components running on the old files
(the API server reloads its serving certificate, but etcd's peer and client
settings, the controller-manager's and scheduler's kubeconfigs, and the API
server's client certificates towards etcd and kubelets are read at start), or
leaves the manifests moved aside so that the kubelet stopped the pods. Both
look healthy to a certificate report. This module tells them apart:

- the static pod manifests (kubeadm's four, or whatever is in the directory)
  and the flags in each, read without a YAML parser (kubeadm writes one
  ``- --flag=value`` per line), so ports and files come from the manifests;
- the running process of each component on this host: the process whose
  network namespace is ours (static control-plane pods use the host network,
  and so does the lab), its start time from ``/proc/<pid>/stat``;
- every file the process was given on its command line (certificates, keys,
  kubeconfigs) with its modification time: a file newer than the process means
  the component has not loaded it;
- the aside directory a restart moves manifests into, and what is left in it.

Only the standard library: it runs on the managed host.
"""

from __future__ import annotations

import os
import re
import socket

from ansible_collections.ackops.runbooks.plugins.module_utils.common.durations import go_duration

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
# A file counts as loaded when the process started at most this long before
# it was written (process start times have clock-tick resolution, mtimes may
# be rounded to the second).
SLACK_SECONDS = 1.0
_FLAG_LINE = re.compile(r"""^\s*-\s+["']?--([A-Za-z0-9-]+)=(.*?)["']?\s*$""")
_COMMAND_NAME = re.compile(
    r"""^\s*-\s+["']?(etcd|kube-apiserver|kube-controller-manager|kube-scheduler)["']?\s*$"""
)


class ControlPlaneError(Exception):
    """/proc or the manifest directory cannot be read (the caller maps it to the contract)."""


def manifest_component(text: str, filename: str) -> str | None:
    """Which component a manifest starts: its command's first word, else its file name."""
    for line in text.splitlines():
        match = _COMMAND_NAME.match(line)
        if match:
            return match.group(1)
    stem = filename.rsplit(".", 1)[0]
    return stem if stem in COMPONENTS else None


def manifest_flags(text: str) -> dict[str, str]:
    """``--flag=value`` lines of a kubeadm static pod manifest, in order."""
    flags: dict[str, str] = {}
    for line in text.splitlines():
        match = _FLAG_LINE.match(line)
        if match:
            flags[match.group(1)] = match.group(2)
    return flags


def ports(component: str, flags: dict[str, str]) -> list[int]:
    """The TCP ports a component listens on, from its flags (kubeadm's defaults otherwise)."""
    if component == "kube-apiserver":
        return [int(flags.get("secure-port", 6443))]
    if component == "kube-controller-manager":
        return [int(flags.get("secure-port", 10257))]
    if component == "kube-scheduler":
        return [int(flags.get("secure-port", 10259))]
    if component == "etcd":
        found = []
        for url in flags.get("listen-client-urls", "https://127.0.0.1:2379").split(","):
            match = re.search(r":(\d+)/?$", url.strip())
            if match and int(match.group(1)) not in found:
                found.append(int(match.group(1)))
        return found or [2379]
    return []


def shutdown_delay(component: str, flags: dict[str, str]) -> float | None:
    """kube-apiserver's ``--shutdown-delay-duration`` in seconds (0 unset); None otherwise or unreadable."""
    if component != "kube-apiserver":
        return None
    try:
        return float(go_duration(flags.get("shutdown-delay-duration", "0")))
    except ValueError:
        return None


def address(component: str, flags: dict[str, str]) -> str:
    """Where to knock on the component's ports from this host."""
    if component == "etcd":
        for url in flags.get("listen-client-urls", "").split(","):
            match = re.match(r"^\w+://\[?([^\]/]+?)\]?:\d+/?$", url.strip())
            if match and match.group(1) not in ("0.0.0.0", "::"):
                return match.group(1)
        return "127.0.0.1"
    bind = flags.get("bind-address", "")
    return bind if bind not in ("", "0.0.0.0", "::") else "127.0.0.1"


def argv_flags(argv: list[str]) -> dict[str, str]:
    flags: dict[str, str] = {}
    for arg in argv[1:]:
        if arg.startswith("--") and "=" in arg:
            name, value = arg[2:].split("=", 1)
            flags[name] = value
    return flags


class Proc:
    """Reads processes under a /proc root (a directory tree in tests)."""

    def __init__(self, root: str = "/proc") -> None:
        self.root = root
        self._boot: float | None = None
        self._ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def _read(self, *parts: str) -> bytes:
        with open(os.path.join(self.root, *parts), "rb") as handle:
            return handle.read()

    def boot_time(self) -> float:
        if self._boot is None:
            for line in self._read("stat").decode().splitlines():
                if line.startswith("btime "):
                    self._boot = float(line.split()[1])
                    break
            else:
                raise ControlPlaneError(f"{self.root}/stat has no btime line")
        return self._boot

    def net_ns(self, pid: str) -> str | None:
        try:
            return os.readlink(os.path.join(self.root, pid, "ns", "net"))
        except OSError:
            return None

    def pids(self) -> list[str]:
        try:
            return sorted((p for p in os.listdir(self.root) if p.isdigit()), key=int)
        except OSError as exc:
            raise ControlPlaneError(f"cannot list {self.root}: {exc.strerror}") from exc

    def argv(self, pid: str) -> list[str]:
        try:
            raw = self._read(pid, "cmdline")
        except OSError:
            return []
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]

    def started(self, pid: str) -> float | None:
        """Start time (epoch seconds) from field 22 of /proc/<pid>/stat."""
        try:
            stat = self._read(pid, "stat").decode(errors="replace")
        except OSError:
            return None
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        return self.boot_time() + int(fields[19]) / self._ticks


def running_components(proc: Proc, own_pid: str = "self") -> dict[str, dict]:
    """The control-plane processes sharing this process's network namespace."""
    ours = proc.net_ns(own_pid)
    found: dict[str, dict] = {}
    for pid in proc.pids():
        argv = proc.argv(pid)
        if not argv:
            continue
        name = os.path.basename(argv[0])
        if name not in COMPONENTS or (ours is not None and proc.net_ns(pid) != ours):
            continue
        started = proc.started(pid)
        if started is None:
            continue
        # Several (a restart in progress): the newest is the one that counts.
        if name not in found or started > found[name]["started"]:
            found[name] = {"pid": int(pid), "started": started, "flags": argv_flags(argv)}
    return found


def file_times(flags: dict[str, str]) -> list[dict]:
    """Every flag value that names an existing regular file, with its mtime."""
    files = []
    seen = set()
    for flag, value in flags.items():
        for path in value.split(","):
            if not path.startswith("/") or path in seen or not os.path.isfile(path):
                continue
            seen.add(path)
            files.append({"flag": flag, "path": path, "mtime": os.stat(path).st_mtime})
    return files


def inspect(manifest_dir: str, aside_dir: str, proc: Proc | None = None) -> dict:
    """The state of this master's control plane (see the module docstring)."""
    proc = proc or Proc()
    manifests: dict[str, dict] = {}
    for directory, where in ((manifest_dir, "manifests"), (aside_dir, "aside")):
        if not os.path.isdir(directory):
            continue
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            raise ControlPlaneError(f"cannot list {directory}: {exc.strerror}") from exc
        for filename in names:
            path = os.path.join(directory, filename)
            if not os.path.isfile(path) or not filename.endswith((".yaml", ".yml", ".json")):
                continue
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError as exc:
                raise ControlPlaneError(f"cannot read {path}: {exc.strerror}") from exc
            component = manifest_component(text, filename)
            if component is None:
                continue
            manifests[component] = {
                "path": path,
                "where": where,
                "mtime": os.stat(path).st_mtime,
                "flags": manifest_flags(text),
            }
    running = running_components(proc)
    components = []
    for name in COMPONENTS:
        manifest = manifests.get(name)
        process = running.get(name)
        if manifest is None and process is None:
            continue
        flags = dict(manifest["flags"]) if manifest else {}
        if process:
            flags.update(process["flags"])
        files = file_times(flags)
        started = process["started"] if process else None
        newer = [
            f["path"] for f in files if started is not None and f["mtime"] > started + SLACK_SECONDS
        ]
        components.append(
            {
                "name": name,
                "manifest": manifest["path"] if manifest else None,
                "manifest_aside": bool(manifest and manifest["where"] == "aside"),
                "running": process is not None,
                "pid": process["pid"] if process else None,
                "started": started,
                "ports": ports(name, flags),
                "address": address(name, flags),
                "files": [f["path"] for f in files],
                "newer_than_process": newer,
                "stale": bool(newer),
                "shutdown_delay": shutdown_delay(name, flags),
            }
        )
    aside_left = sorted(m["path"] for m in manifests.values() if m["where"] == "aside")
    return {
        "components": components,
        "aside_dir": aside_dir,
        "aside_exists": os.path.isdir(aside_dir),
        "aside_manifests": aside_left,
        "stale": [c["name"] for c in components if c["stale"]],
        "not_running": [c["name"] for c in components if c["manifest"] and not c["running"]],
        "interrupted": os.path.isdir(aside_dir),
    }


def findings(state: dict) -> list[str]:
    """One sentence per thing a previous run left unfinished."""
    lines = []
    if state["interrupted"]:
        left = ", ".join(os.path.basename(p) for p in state["aside_manifests"]) or "no manifest"
        lines.append(
            f"a restart was interrupted: {state['aside_dir']} exists ({left} still aside, so the "
            "kubelet keeps those components stopped)"
        )
    for component in state["components"]:
        if component["stale"]:
            lines.append(
                f"{component['name']} (pid {component['pid']}) started before "
                f"{', '.join(component['newer_than_process'])} was written: it runs on the old files"
            )
    return lines


def listening(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def not_restarted(state: dict, since: float) -> list[str]:
    """Why the control plane is not yet back on its files after a restart begun at ``since``."""
    reasons = []
    if state["interrupted"]:
        reasons.append(f"{state['aside_dir']} still exists")
    for component in state["components"]:
        name = component["name"]
        if component["manifest"] is None or component["manifest_aside"]:
            continue
        if not component["running"]:
            reasons.append(f"{name} is not running")
        elif component["started"] <= since:
            reasons.append(f"{name} (pid {component['pid']}) was not restarted")
        elif component["stale"]:
            reasons.append(
                f"{name} started before {', '.join(component['newer_than_process'])} was written"
            )
        else:
            closed = [p for p in component["ports"] if not listening(p, component["address"])]
            if closed:
                reasons.append(
                    f"{name} does not accept connections on port {', '.join(map(str, closed))} yet"
                )
    return reasons
