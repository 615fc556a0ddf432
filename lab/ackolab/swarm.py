"""The lab's optional Docker Swarm manager host (`lab up --swarm`).

`lab-swarm-1` is a host like the others (its own network namespace on the
lab's bridge, hostname, sshd reachable with the lab's key, started by
hostinit.py) that runs no Kubernetes: it runs Debian's dockerd, is the
manager of a one-node Swarm with node and engine labels, and has the sample
stack of lab/swarm/stack deployed as stack `shop`, with the image
lab/swarm/build-image.sh makes from busybox-static (no registry is reachable).

dockerd runs inside the host's network and UTS namespaces and in a private
mount namespace of its own, where a tmpfs on /run and the machine's cgroup
hierarchies are mounted (`ip netns exec` gives the host a /sys without
them), so nothing it mounts reaches the machine or the host's sshd. Its data
root, exec root, pid file and socket are under the host's state directory;
its containers' cgroups are under CGROUP_PARENT. `stop` kills the containers
and dockerd; `lab down` then removes the namespace and the state directory
as for every host, and `remove_cgroups` the cgroups.

The docker CLI reaches dockerd through its socket from the machine (status,
tests) and on the host over SSH (sshd sets DOCKER_HOST for every session).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .daemons import host_pid, host_running
from .state import LAB, NET, STATE, ZONES, Host, Lab
from .util import LabError, kill_pids, log, pid_alive, port_open, run, wait_for

SWARM_DIR = LAB / "swarm"
STACK_SRC = SWARM_DIR / "stack"
STACK_FILE_NAME = "docker-stack.yml"
MANAGER_NAME = "lab-swarm-1"
ROLE = "swarm_manager"
SWARM_BASE = 200  # manager N gets NET[SWARM_BASE + N]
STACK_NAME = "shop"
IMAGE = "lab/busybox:1.35"
# The Debian client, of the daemon's version (/usr/local/bin may hold another).
DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
CGROUP_PARENT = "ackops-lab-swarm"
# Labels the sample stack's placement constraints use (node.labels.* and
# engine.labels.*): the zone is the one of the manager's host.
ENGINE_LABELS = {"ackops.lab": "swarm"}
SECRET_NAMES = ("db_password", "api_token")
# Private to dockerd's address plans, away from the lab's 10.250.0.0/24 and
# the cluster's 172.20.0.0/16 pod and 172.21.0.0/20 service ranges.
BRIDGE_IP = "172.29.0.1/24"
ADDRESS_POOL = "base=172.30.0.0/16,size=24"
START_TIMEOUT = 60
CONVERGE_TIMEOUT = 180


def manager_host(index: int = 1) -> Host:
    name = f"lab-swarm-{index}"
    return Host(name, ROLE, index, str(NET[SWARM_BASE + index]), name, ZONES[(index - 1) % 3])


def node_labels(host: Host) -> dict[str, str]:
    return {"zone": host.zone, "tier": "db", "disk": "ssd", "ackops.io/lab": "swarm"}


# ---- paths


def docker_dir(host: Host) -> Path:
    return host.state / "docker"


def socket_path(host: Host) -> Path:
    return docker_dir(host) / "docker.sock"


def docker_host(host: Host) -> str:
    return f"unix://{socket_path(host)}"


def stack_dir(host: Host) -> Path:
    return host.state / "stack"


def docker(host: Host, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """The docker CLI on the machine, against the host's dockerd."""
    env = dict(
        os.environ, DOCKER_HOST=docker_host(host), DOCKER_CONFIG=str(docker_dir(host) / "cli")
    )
    kw.setdefault("timeout", 120)
    return run([DOCKER, *args], check=check, env=env, **kw)


# ---- lab up --swarm


def install() -> None:
    run([str(SWARM_DIR / "install-docker.sh")], capture=False)


def prepare_host_files(lab: Lab) -> None:
    """A Swarm host's own files (after net.prepare_host_files, before the host starts).

    Every SSH session talks to the host's dockerd. The host has no DNS server:
    its resolv.conf points at its own loopback, so the image pull Swarm tries
    before every task start fails at once instead of waiting for a resolver
    the namespace cannot reach (and the task runs the local image).
    """
    for host in lab.swarm_hosts:
        config = host.state / "ssh" / "sshd_config"
        config.write_text(config.read_text() + f"SetEnv DOCKER_HOST={docker_host(host)}\n")
        (host.etc / "resolv.conf").write_text(
            "# lab Swarm host: no DNS server\nnameserver 127.0.0.1\n"
        )


def cgroup_mounts() -> list[tuple[str, str, str]]:
    """The machine's cgroup file systems: (type, mount point, options) from /proc/mounts."""
    out = []
    for line in Path("/proc/mounts").read_text().splitlines():
        _, target, fstype, options = line.split()[:4]
        if fstype in ("cgroup", "cgroup2") and target.startswith("/sys/fs/cgroup"):
            keep = [
                o
                for o in options.split(",")
                if o not in ("rw", "ro", "relatime", "nosuid", "nodev", "noexec")
            ]
            out.append((fstype, target, ",".join(keep)))
    return out


def dockerd_script(host: Host) -> str:
    """What runs in dockerd's private mount namespace before it becomes dockerd."""
    d = docker_dir(host)
    lines = ["set -e", "mount -t tmpfs -o mode=755 lab-run /run"]
    mounts = cgroup_mounts()
    if not mounts:
        raise LabError("the machine has no cgroup file system mounted: dockerd cannot run")
    if not any(target == "/sys/fs/cgroup" for _, target, _ in mounts):
        lines.append("mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup")
    for fstype, target, options in mounts:
        if fstype == "cgroup" and not any(
            o for o in options.split(",") if not o.startswith("name=")
        ):
            options = ",".join(["none", options])
        opt = ["-o", options] if options else []
        lines.append(f"mkdir -p {shlex.quote(target)}")
        lines.append(shlex.join(["mount", "-t", fstype, *opt, fstype, target]))
    argv = [
        DOCKERD,
        "--config-file", str(d / "daemon.json"),
        "--data-root", str(d / "data"),
        "--exec-root", str(d / "exec"),
        "--pidfile", str(d / "docker.pid"),
        "--host", docker_host(host),
        "--containerd-namespace", CGROUP_PARENT,
        "--containerd-plugins-namespace", f"{CGROUP_PARENT}-plugins",
        "--cgroup-parent", CGROUP_PARENT,
        "--exec-opt", "native.cgroupdriver=cgroupfs",
        "--bip", BRIDGE_IP,
        "--default-address-pool", ADDRESS_POOL,
        *[f"--label={k}={v}" for k, v in ENGINE_LABELS.items()],
    ]  # fmt: skip
    lines.append("exec " + shlex.join(argv))
    return "\n".join(lines) + "\n"


def start_dockerd(lab: Lab) -> None:
    """dockerd in each Swarm host (after daemons.start_hosts); `deploy` waits for it."""
    for host in lab.swarm_hosts:
        d = docker_dir(host)
        for sub in ("data", "exec", "cli"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "daemon.json").write_text("{}\n")
        script = d / "start-dockerd.sh"
        script.write_text(dockerd_script(host))
        logf = open(host.state / "log" / "dockerd.log", "ab")  # noqa: SIM115 (handed to the child)
        argv = [
            "nsenter", "-t", str(host_pid(host)), "-n", "-m", "-u", "--",
            "unshare", "--mount", "--propagation", "private", "--",
            "sh", str(script),
        ]  # fmt: skip
        subprocess.Popen(
            argv,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()


def deploy(lab: Lab) -> dict:
    """Swarm, labels, image and the sample stack on each Swarm host; what lab.json keeps."""
    out = {}
    for host in lab.swarm_hosts:
        wait_for(
            lambda h=host: docker(h, "version", check=False, timeout=10).returncode == 0,
            START_TIMEOUT,
            f"dockerd on {host.name}",
            diagnose=lambda h=host: tail(h.state / "log" / "dockerd.log"),
        )
        docker(
            host, "swarm", "init", "--advertise-addr", host.ip, "--listen-addr", f"{host.ip}:2377"
        )
        label_args = [a for k, v in node_labels(host).items() for a in ("--label-add", f"{k}={v}")]
        node_id = docker(host, "info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        docker(host, "node", "update", *label_args, node_id)
        run(
            [str(SWARM_DIR / "build-image.sh"), docker_host(host), IMAGE],
            env=dict(os.environ, DOCKER_CONFIG=str(docker_dir(host) / "cli")),
        )
        write_stack(host)
        docker(
            host, "stack", "deploy", "--resolve-image", "never",
            "-c", str(stack_dir(host) / STACK_FILE_NAME), STACK_NAME,
            cwd=stack_dir(host),
        )  # fmt: skip
        out[host.name] = {"stack": STACK_NAME, "image": IMAGE}
    for host in lab.swarm_hosts:
        wait_for(
            lambda h=host: converged(h),
            CONVERGE_TIMEOUT,
            f"stack {STACK_NAME} on {host.name} (every replica running and healthy)",
            diagnose=lambda h=host: (
                docker(h, "stack", "ps", "--no-trunc", STACK_NAME, check=False).stdout
            ),
        )
        log(f"{host.name}: swarm manager with stack {STACK_NAME} ({docker_host(host)})")
    return out


def write_stack(host: Host) -> None:
    """The stack directory on the host: the committed files and secrets made now (0600)."""
    target = stack_dir(host)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(STACK_SRC, target)
    secret_dir = target / "secrets"
    secret_dir.mkdir(mode=0o700, exist_ok=True)
    for name in SECRET_NAMES:
        path = secret_dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(18))


def services(host: Host) -> list[dict]:
    """The stack's services as `docker service ls` reports them (name, mode, replicas)."""
    proc = docker(
        host, "service", "ls", "--filter", f"label=com.docker.stack.namespace={STACK_NAME}",
        "--format", "{{json .}}", check=False, timeout=20,
    )  # fmt: skip
    if proc.returncode != 0:
        return []
    out = []
    for line in proc.stdout.splitlines():
        item = json.loads(line)
        running, _, desired = item.get("Replicas", "").partition("/")
        out.append(
            {
                "name": item["Name"],
                "mode": item.get("Mode"),
                "replicas": item.get("Replicas"),
                "running": int(running) if running.isdigit() else 0,
                "desired": int(desired.split()[0]) if desired[:1].isdigit() else 0,
            }
        )
    return sorted(out, key=lambda s: s["name"])


def converged(host: Host) -> bool:
    found = services(host)
    if not found or any(s["desired"] == 0 or s["running"] != s["desired"] for s in found):
        return False
    ps = docker(
        host, "ps", "--filter", f"label=com.docker.stack.namespace={STACK_NAME}",
        "--format", "{{.Status}}", check=False, timeout=20,
    )  # fmt: skip
    statuses = ps.stdout.splitlines()
    wanted = sum(s["desired"] for s in found)
    return len(statuses) >= wanted and sum("(healthy)" in s for s in statuses) >= wanted


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no {path})"


# ---- status


def status(lab: Lab) -> dict | None:
    """The `swarm` key of `lab status --json` (null for a lab brought up without --swarm)."""
    if not lab.swarm_hosts:
        return None
    managers = []
    for host in lab.swarm_hosts:
        pid = dockerd_pid(host)
        info = docker(host, "info", "--format", "{{json .}}", check=False, timeout=20)
        info_doc = json.loads(info.stdout) if info.returncode == 0 and info.stdout.strip() else {}
        swarm_info = info_doc.get("Swarm") or {}
        managers.append(
            {
                "name": host.name,
                "role": host.role,
                "address": host.ip,
                "zone": host.zone,
                "node_hostname": host.node_name,
                "ssh_user": "root",
                "ssh_port": 22,
                "running": host_running(host),
                "ssh_open": port_open(host.ip, 22),
                "docker_host": docker_host(host),
                "dockerd": {"pid": pid, "alive": bool(pid) and pid_alive(pid)},
                "engine_version": info_doc.get("ServerVersion"),
                "storage_driver": info_doc.get("Driver"),
                "swarm_state": swarm_info.get("LocalNodeState"),
                "node_id": swarm_info.get("NodeID"),
                "node_labels": node_labels(host),
                "engine_labels": ENGINE_LABELS,
                "image": IMAGE,
                "stack": {
                    "name": STACK_NAME,
                    "dir": str(stack_dir(host)),
                    "file": str(stack_dir(host) / STACK_FILE_NAME),
                    "services": services(host),
                },
                "secret_files": {n: str(stack_dir(host) / "secrets" / n) for n in SECRET_NAMES},
                "paths": {"state": str(host.state), "data_root": str(docker_dir(host) / "data")},
            }
        )
    return {"managers": managers, "stack": STACK_NAME, "image": IMAGE}


def dockerd_pid(host: Host) -> int | None:
    try:
        return int((docker_dir(host) / "docker.pid").read_text())
    except (OSError, ValueError):
        return None


# ---- lab down


def cgroup_dirs() -> list[Path]:
    """The containers' cgroup parents, in every hierarchy of the machine."""
    return [
        Path(target) / CGROUP_PARENT
        for _, target, _ in cgroup_mounts()
        if (Path(target) / CGROUP_PARENT).is_dir()
    ]


def cgroup_pids() -> list[int]:
    pids: set[int] = set()
    for top in cgroup_dirs():
        for procs in top.rglob("cgroup.procs"):
            try:
                pids.update(int(p) for p in procs.read_text().split())
            except (OSError, ValueError):
                continue
    return sorted(pids)


def stop() -> None:
    """Kill every Swarm container and stop dockerd (before daemons.stop_all); works from disk."""
    dockerds = []
    hosts_dir = STATE / "hosts"
    for pidfile in hosts_dir.glob("*/docker/docker.pid") if hosts_dir.exists() else []:
        try:
            dockerds.append(int(pidfile.read_text()))
        except (OSError, ValueError):
            continue
    containers = cgroup_pids()
    if not dockerds and not containers:
        return
    # The lab throws the Swarm's data away: no graceful container stop.
    kill_pids(containers, signal.SIGKILL)
    kill_pids(dockerds)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(pid_alive(p) for p in dockerds):
        time.sleep(0.3)
    kill_pids([p for p in dockerds if pid_alive(p)], signal.SIGKILL)
    kill_pids(cgroup_pids(), signal.SIGKILL)


def remove_cgroups() -> None:
    """The containers' cgroups (after every process of the lab is gone)."""
    deadline = time.monotonic() + 10
    while cgroup_dirs() and time.monotonic() < deadline:
        kill_pids(cgroup_pids(), signal.SIGKILL)
        for top in cgroup_dirs():
            subs = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
            for sub in [*subs, top]:
                with contextlib.suppress(OSError):
                    sub.rmdir()
        if cgroup_dirs():
            time.sleep(0.3)
