"""The lab's network and host file systems: bridge, veths, namespaces, /etc/netns."""

from __future__ import annotations

import shutil
from pathlib import Path

from .state import BRIDGE, CLUSTER_NAME, NET, NS_PREFIX, SLB_IP, SSH_DIR, VETH_PREFIX, Lab
from .util import run

# Mount targets the namespaced hosts bind their own directories over.
HOST_MOUNT_TARGETS = ["/etc/kubernetes", "/var/lib/kubelet", "/var/lib/etcd"]


def create_network(lab: Lab) -> None:
    run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "addr", "add", f"{SLB_IP}/{NET.prefixlen}", "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])
    for host in lab.all_hosts:
        run(["ip", "netns", "add", host.ns])
        run(
            [
                "ip",
                "link",
                "add",
                host.veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                host.ns,
            ]
        )
        run(["ip", "link", "set", host.veth, "master", BRIDGE, "up"])
        ns = ["ip", "-n", host.ns]
        run([*ns, "addr", "add", f"{host.ip}/{NET.prefixlen}", "dev", "eth0"])
        run([*ns, "link", "set", "eth0", "up"])
        run([*ns, "link", "set", "lo", "up"])
        run([*ns, "route", "add", "default", "via", SLB_IP])


def prepare_host_files(lab: Lab) -> None:
    """Each host's directories, /etc/hostname and /etc/hosts, sshd config and host key."""
    for target in HOST_MOUNT_TARGETS:
        if not Path(target).exists():
            Path(target).mkdir(parents=True)
            lab.made_dirs.append(target)
    hosts_file = (
        "127.0.0.1 localhost\n"
        + "".join(f"{h.ip} {h.name}\n" for h in lab.all_hosts)
        + f"{SLB_IP} lab-slb apiserver.{CLUSTER_NAME}.local\n"
    )
    for host in lab.all_hosts:
        for sub in ("log", "var-lib-kubelet/pki", "var-lib-etcd", "ssh"):
            (host.state / sub).mkdir(parents=True, exist_ok=True)
        (host.etc_kubernetes / "manifests").mkdir(parents=True, exist_ok=True)
        (host.etc_kubernetes / "pki").mkdir(exist_ok=True)
        (host.etc / "hostname").write_text(host.name + "\n")
        (host.etc / "hosts").write_text(hosts_file)
        hostkey = host.state / "ssh" / "ssh_host_ed25519_key"
        if not hostkey.exists():
            run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host.name, "-f", str(hostkey)]
            )
        (host.state / "ssh" / "sshd_config").write_text(
            f"""# sshd of lab host {host.name}
ListenAddress {host.ip}:22
HostKey {hostkey}
PidFile {host.state}/ssh/sshd.pid
AuthorizedKeysFile {SSH_DIR}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 50
Subsystem sftp /usr/lib/openssh/sftp-server
"""
        )
    known = "".join(
        f"{h.ip},{h.name} {(h.state / 'ssh' / 'ssh_host_ed25519_key.pub').read_text().split(' ')[0]} "
        f"{(h.state / 'ssh' / 'ssh_host_ed25519_key.pub').read_text().split(' ')[1]}\n"
        for h in lab.all_hosts
    )
    (SSH_DIR / "known_hosts").write_text(known)


def lab_namespaces() -> list[str]:
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(NS_PREFIX)]


def pids_in_netns(ns: str) -> list[int]:
    proc = run(["ip", "netns", "pids", ns], check=False)
    return [int(p) for p in proc.stdout.split()] if proc.returncode == 0 else []


def lab_links() -> list[str]:
    out = run(["ip", "-o", "link", "show"], check=False).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]
    return [n for n in names if n == BRIDGE or n.startswith(VETH_PREFIX)]


def remove_network() -> None:
    """Namespaces, links and /etc/netns entries of the lab (its processes already stopped)."""
    for ns in lab_namespaces():
        run(["ip", "netns", "del", ns], check=False)
    for link in lab_links():
        run(["ip", "link", "del", link], check=False)
    etc_netns = Path("/etc/netns")
    if etc_netns.exists():
        for entry in etc_netns.iterdir():
            if entry.name.startswith(NS_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)
        if not any(etc_netns.iterdir()):
            etc_netns.rmdir()
