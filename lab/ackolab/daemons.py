"""Processes of the lab: each host's init (lab/hostinit.py) and, on the machine,
haproxy (the SLB), kwok, the cloud stand-in (lab/cloud.py) and the node agent
(lab/nodeagent.py), with their pid files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import net
from .state import (
    BINDIR,
    INGRESS_LB_IP,
    LAB,
    LAB_ADMIN_KUBECONFIG,
    POD_SUBNET,
    SLB_IP,
    STATE,
    Host,
    Lab,
)
from .util import LabError, kill_pids, pid_alive, port_open, run, wait_for

RUN_DIR = STATE / "run"


# ---- hosts


def start_hosts(lab: Lab) -> None:
    for host in lab.all_hosts:
        logf = open(host.state / "log" / "hostinit.log", "ab")  # noqa: SIM115
        subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                host.ns,
                "unshare",
                "--uts",
                "--",
                sys.executable,
                str(LAB / "hostinit.py"),
                "--hostname",
                host.name,
                "--state",
                str(host.state),
                "--bindir",
                str(BINDIR),
                "--sshd-config",
                str(host.state / "ssh" / "sshd_config"),
            ],
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()
    wait_for(
        lambda: all((h.state / "hostinit.ready").exists() for h in lab.all_hosts),
        30,
        "hosts to start",
    )
    wait_for(lambda: all(port_open(h.ip, 22) for h in lab.all_hosts), 30, "sshd on every host")


def host_pid(host: Host) -> int:
    ready = host.state / "hostinit.ready"
    if not ready.exists():
        raise LabError(f"host {host.name} is not running (no {ready})")
    return int(ready.read_text())


def host_running(host: Host) -> bool:
    ready = host.state / "hostinit.ready"
    return ready.exists() and pid_alive(int(ready.read_text()))


def in_host(host: Host, argv: list[str], check: bool = True, **kw):
    """A command inside a host's namespaces (network, mounts, hostname)."""
    env = dict(os.environ, PATH=f"/usr/local/bin:{os.environ.get('PATH', '/usr/bin:/bin')}")
    return run(
        ["nsenter", "-t", str(host_pid(host)), "-n", "-m", "-u", "--", *argv],
        check=check,
        env=env,
        **kw,
    )


# ---- daemons on the machine


def start_daemon(name: str, argv: list[str]) -> None:
    logf = open(STATE / "log" / f"{name}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        argv,
        stdout=logf,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    logf.close()
    (RUN_DIR / f"{name}.pid").write_text(str(proc.pid))


def start_haproxy(lab: Lab) -> None:
    servers = "\n".join(
        f"  server {m.name} {m.ip}:6443 check check-ssl verify none" for m in lab.masters
    )
    cfg = STATE / "haproxy.cfg"
    cfg.write_text(
        f"""# The lab's SLB: TCP in front of every master's API server, health-checked on /readyz.
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 3s
  timeout client 1h
  timeout server 1h
  retries 3
  option redispatch
frontend apiserver
  bind {SLB_IP}:6443
  default_backend masters
backend masters
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 1s fall 2 rise 2
{servers}
"""
    )
    start_daemon("haproxy", ["/usr/sbin/haproxy", "-db", "-f", str(cfg)])
    wait_for(lambda: port_open(SLB_IP, 6443), 15, "haproxy on the SLB address")


def start_kwok(lab: Lab) -> None:
    start_daemon(
        "kwok",
        [
            str(BINDIR / "kwok"),
            "--kubeconfig",
            str(LAB_ADMIN_KUBECONFIG),
            "--config",
            str(kwok_config(lab)),
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-lease-duration-seconds=40",
            "--cidr=" + POD_SUBNET,
            "--server-address=",
        ],
    )


def kwok_config(lab: Lab) -> Path:
    """kwok's stages with the node version filled in (kwok would report its own)."""
    path = STATE / "kwok.yaml"
    text = (LAB / "kwok" / "stages.yaml").read_text()
    path.write_text(text.replace("LAB_KUBELET_VERSION", lab.v["KUBERNETES_VERSION"]))
    return path


def start_cloud() -> None:
    start_daemon(
        "cloud",
        [
            sys.executable,
            str(LAB / "cloud.py"),
            "--kubeconfig",
            str(LAB_ADMIN_KUBECONFIG),
            "--lb-address",
            INGRESS_LB_IP,
        ],
    )


def start_nodeagent(lab: Lab) -> None:
    """lab/nodeagent.py: runs the pods opted in with ackops.io/lab-run=host on their host."""
    hosts = {
        h.node_name: {"name": h.name, "ip": h.ip, "pid_file": str(h.state / "hostinit.ready")}
        for h in lab.hosts
    }
    path = STATE / "nodeagent-hosts.json"
    path.write_text(json.dumps(hosts, indent=1))
    start_daemon(
        "nodeagent",
        [
            sys.executable,
            str(LAB / "nodeagent.py"),
            "watch",
            "--kubeconfig",
            str(LAB_ADMIN_KUBECONFIG),
            "--hosts",
            str(path),
            "--state",
            str(STATE / "nodeagent"),
        ],
    )


def daemons() -> list[dict]:
    """Every daemon started with a pid file: name, pid, alive."""
    out = []
    for pidfile in sorted(RUN_DIR.glob("*.pid")) if RUN_DIR.exists() else []:
        try:
            pid = int(pidfile.read_text())
        except ValueError:
            continue
        out.append({"name": pidfile.stem, "pid": pid, "alive": pid_alive(pid)})
    return out


# ---- stopping


def lab_processes() -> list[int]:
    """Processes the lab started outside the hosts (haproxy, kwok, cloud), by pidfile or path."""
    pids = [d["pid"] for d in daemons() if d["alive"]]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(STATE) in cmd and int(proc.name) not in pids and int(proc.name) != os.getpid():
            pids.append(int(proc.name))
    return pids


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def stop_all() -> None:
    """Stop every process in the hosts and on the machine: TERM, then KILL after 8s.

    The API servers are killed outright: their --shutdown-delay-duration
    (kubeadm.py) keeps them serving for seconds after TERM, for the SLB's sake,
    and a lab being torn down has no client to protect.
    """
    for ns in net.lab_namespaces():
        kill_pids([p for p in net.pids_in_netns(ns) if comm(p) == "kube-apiserver"], signal.SIGKILL)
    for ns in net.lab_namespaces():
        kill_pids(net.pids_in_netns(ns))
    kill_pids(lab_processes())
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and (
        any(net.pids_in_netns(ns) for ns in net.lab_namespaces()) or lab_processes()
    ):
        time.sleep(0.5)
    for ns in net.lab_namespaces():
        kill_pids(net.pids_in_netns(ns), signal.SIGKILL)
    kill_pids(lab_processes(), signal.SIGKILL)
    time.sleep(0.3)
