"""The init process of one emulated lab host.

Started by `lab up` inside the host's network namespace (and the mount
namespace `ip netns exec` makes, where `/etc/netns/<ns>/*` is bound over
`/etc`), in a UTS namespace of its own. It finishes the host's view of the
file system (per-host /var/lib/kubelet and /var/lib/etcd, the lab's binaries
on PATH), sets the hostname, runs the host's sshd and plays the kubelet for
static pods: every manifest in /etc/kubernetes/manifests is run as a process,
restarted when the pod it describes changes, stopped when it goes away,
restarted with back-off when it dies. Everything it starts is in its process
group, so `lab down` ends it by killing the namespace's processes.

Like the kubelet, it keys a static pod by a hash of the decoded pod and the
manifest's path, not of the file's bytes or mtime: the kubelet's file source
(pkg/kubelet/config/file.go) decodes each manifest and pkg/kubelet/config/
common.go gives the pod a UID hashed from the decoded object, the node and the
file's path, and a pod whose UID changed is a new pod. So `touch`, a comment
or re-indenting restarts nothing; a changed flag, image or mount, or moving
the manifest out and back (the pod is deleted, then created), restarts it.
The lab itself asks for a restart with a file <state>/restart/<manifest stem>
(consumed), never by touching a manifest.

Like the kubelet's pod workers (pkg/kubelet/pod_workers.go), pods are stopped
independently: a pod being stopped (SIGTERM, killed after STOP_GRACE_SECONDS)
does not hold up the others, so an API server draining for its
--shutdown-delay-duration does not delay noticing that etcd's manifest went
away. And as pod_workers.go's allowStaticPodStart does, a static pod is not
started while an earlier pod from the same manifest path is still stopping.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

MANIFESTS = Path("/etc/kubernetes/manifests")
STOP_GRACE_SECONDS = 15
MAX_BACKOFF_SECONDS = 10


def log(msg: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(f"{stamp} hostinit: {msg}", flush=True)


def bind_mount(source: Path, target: str) -> None:
    source.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "--bind", str(source), target], check=True)


class StaticPod:
    """One static pod manifest and the process that runs its first container."""

    def __init__(self, path: Path, logdir: Path):
        self.path = path
        self.logdir = logdir
        self.proc: subprocess.Popen | None = None
        self.fingerprint: tuple[str, int] | None = None
        self.restarts = 0
        self.next_start = 0.0
        self.backoff = 1.0
        self.name = path.stem
        self.last_exit: int | None = None
        self.started_at = 0.0
        self.error = ""
        # Set by a fault planted with `lab fault`: this incarnation of the pod
        # never comes up, until its manifest goes away or changes.
        self.faulty = False
        # Processes asked to stop (SIGTERM) and not gone yet, with when to kill them.
        self.terminating: list[tuple[subprocess.Popen, float]] = []

    @staticmethod
    def fingerprint_of(path: Path) -> tuple[str, str] | None:
        """The pod's identity as the kubelet sees it: its decoded content and its path."""
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            decoded = json.dumps(yaml.safe_load(data), sort_keys=True, default=str).encode()
        except yaml.YAMLError:
            decoded = data  # the kubelet would skip it; a fix to it is a change
        return hashlib.sha256(decoded + b"\0" + str(path).encode()).hexdigest(), str(path)

    def command(self) -> tuple[list[str], dict[str, str]]:
        pod = yaml.safe_load(self.path.read_text())
        container = pod["spec"]["containers"][0]
        self.name = pod.get("metadata", {}).get("name", self.path.stem)
        argv = list(container.get("command", [])) + list(container.get("args", []))
        if not argv:
            raise ValueError(f"{self.path}: first container has no command")
        env = dict(os.environ)
        for item in container.get("env", []) or []:
            if "value" in item:
                env[item["name"]] = str(item["value"])
        return argv, env

    def start(self) -> None:
        self.fingerprint = self.fingerprint_of(self.path)
        fault = self.logdir.parent / "faults" / self.path.stem
        if fault.exists():
            fault.unlink()
            self.faulty = True
            log(f"fault planted for {self.path.stem}: it will not come up")
        try:
            argv, env = self.command()
            if self.faulty:
                argv = ["sh", "-c", f"echo 'lab fault: {self.name} does not start' >&2; exit 1"]
        except (OSError, ValueError, KeyError, IndexError, TypeError, yaml.YAMLError) as exc:
            self.error = f"cannot run {self.path}: {exc}"
            log(self.error)
            self.next_start = time.monotonic() + MAX_BACKOFF_SECONDS
            return
        self.error = ""
        logfile = open(self.logdir / f"{self.name}.log", "ab")  # noqa: SIM115 (handed to the child)
        logfile.write(f"--- start {time.ctime()}: {' '.join(argv[:1])}\n".encode())
        logfile.flush()
        self.proc = subprocess.Popen(
            argv, env=env, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        logfile.close()
        self.started_at = time.time()
        log(f"started {self.name} (pid {self.proc.pid}) from {self.path.name}")

    def stop(self) -> None:
        """Ask the running process to end (SIGTERM) and go on: reap() kills it after
        STOP_GRACE_SECONDS and notes when it is gone."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.terminate()
            self.terminating.append((proc, time.monotonic() + STOP_GRACE_SECONDS))
            log(f"stopping {self.name} (pid {proc.pid})")
        else:
            log(f"stopped {self.name} (pid {proc.pid})")

    def reap(self) -> bool:
        """Note the stopped processes that are gone, kill those past their grace period;
        True while one is still running."""
        still = []
        for proc, kill_at in self.terminating:
            if proc.poll() is not None:
                log(f"stopped {self.name} (pid {proc.pid})")
            elif time.monotonic() >= kill_at:
                proc.kill()
                proc.wait()
                log(
                    f"killed {self.name} (pid {proc.pid}): still running {STOP_GRACE_SECONDS}s after SIGTERM"
                )
            else:
                still.append((proc, kill_at))
        self.terminating = still
        return bool(still)

    def tick(self) -> None:
        """Reconcile: restart on manifest change, restart a dead process with back-off."""
        self.reap()
        current = self.fingerprint_of(self.path)
        if current is None:
            # Gone since the directory was listed: the next scan stops the pod.
            return
        request = self.logdir.parent / "restart" / self.path.stem
        if self.proc is not None and request.exists():
            request.unlink()
            log(f"restart of {self.name} requested by the lab")
            current = None  # treated as a change below
        if self.proc is not None and current != self.fingerprint:
            log(f"pod of {self.path.name} changed: restarting {self.name}")
            self.stop()
            self.faulty = False
            self.restarts += 1
            self.backoff = 1.0
            self.next_start = 0.0
        if self.proc is not None and self.proc.poll() is not None:
            self.last_exit = self.proc.returncode
            log(f"{self.name} exited with {self.last_exit}; retry in {self.backoff:.0f}s")
            self.proc = None
            self.restarts += 1
            self.next_start = time.monotonic() + self.backoff
            self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)
        if self.proc is None and not self.terminating and time.monotonic() >= self.next_start:
            self.start()
        elif self.proc is not None and time.time() - self.started_at > 60:
            self.backoff = 1.0

    def status(self) -> dict:
        return {
            "name": self.name,
            "manifest": str(self.path),
            "pid": self.proc.pid if self.proc and self.proc.poll() is None else None,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "started_at": self.started_at,
            "pod_hash": self.fingerprint[0] if self.fingerprint else None,
            "error": self.error,
        }


class StaticPodRunner:
    def __init__(self, logdir: Path, status_file: Path):
        self.pods: dict[Path, StaticPod] = {}
        # Pods whose manifest went away, until their process is gone.
        self.leaving: list[StaticPod] = []
        self.logdir = logdir
        self.status_file = status_file

    def scan(self) -> None:
        # `lab up` holds the runner while kubeadm writes a multi-master etcd
        # manifest set, so no member starts as a single-member cluster.
        if (self.status_file.parent / "runner.paused").exists():
            return
        seen = set()
        if MANIFESTS.is_dir():
            for path in sorted(MANIFESTS.iterdir()):
                # The kubelet skips hidden files; editors and backups leave them.
                if path.name.startswith(".") or path.suffix not in (".yaml", ".yml", ".json"):
                    continue
                seen.add(path)
                if path not in self.pods:
                    self.pods[path] = StaticPod(path, self.logdir)
        for path in list(self.pods):
            if path not in seen:
                log(f"manifest {path.name} removed")
                gone = self.pods.pop(path)
                gone.stop()
                self.leaving.append(gone)
        self.leaving = [pod for pod in self.leaving if pod.reap()]
        still_stopping = {pod.path for pod in self.leaving}
        for path, pod in self.pods.items():
            # A manifest put back while its earlier pod is still stopping waits for it.
            if path not in still_stopping:
                pod.tick()
        self.write_status()

    def write_status(self) -> None:
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps([p.status() for p in self.pods.values()], indent=1))
        tmp.replace(self.status_file)

    def stop_all(self) -> None:
        pods = [*self.pods.values(), *self.leaving]
        for pod in pods:
            pod.stop()
        while pods:
            pods = [pod for pod in pods if pod.reap()]
            time.sleep(0.2 if pods else 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hostname", required=True)
    parser.add_argument("--state", required=True, type=Path, help="this host's state dir")
    parser.add_argument("--bindir", required=True, type=Path)
    parser.add_argument("--sshd-config", required=True, type=Path)
    args = parser.parse_args()

    state: Path = args.state
    logdir = state / "log"
    logdir.mkdir(parents=True, exist_ok=True)
    socket.sethostname(args.hostname)
    bind_mount(state / "var-lib-kubelet", "/var/lib/kubelet")
    bind_mount(state / "var-lib-etcd", "/var/lib/etcd")
    # The kubelet, kubeadm and kubectl of a node live on its own PATH.
    subprocess.run(["mount", "--bind", "-o", "ro", str(args.bindir), "/usr/local/bin"], check=True)
    os.environ["PATH"] = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
    Path("/run/sshd").mkdir(exist_ok=True)
    sshd_log = open(logdir / "sshd.log", "ab")  # noqa: SIM115 (handed to the child)
    sshd = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(args.sshd_config)],
        stdout=sshd_log,
        stderr=subprocess.STDOUT,
    )
    runner = StaticPodRunner(logdir, state / "static-pods.json")
    stopping = False

    def on_term(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    (state / "hostinit.ready").write_text(str(os.getpid()))
    log(f"host {args.hostname} up; sshd pid {sshd.pid}")
    while not stopping:
        runner.scan()
        if sshd.poll() is not None:
            log(f"sshd exited with {sshd.returncode}; restarting")
            sshd = subprocess.Popen(
                ["/usr/sbin/sshd", "-D", "-e", "-f", str(args.sshd_config)],
                stdout=sshd_log,
                stderr=subprocess.STDOUT,
            )
        time.sleep(1)
    runner.stop_all()
    sshd.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
