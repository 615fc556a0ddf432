"""`lab/lab up|down|status|ssh|kubectl|expire-certs|fault` (run as root)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from . import crds, daemons, inventory, kubeadm, net, nodes, pki, state, status, swarm
from .state import KNOWN_HOSTS, KUBECONFIG, LAB, SIZES, SSH_DIR, SSH_KEY, STATE
from .util import LabError, log, parse_duration, run, to_kubeadm_duration

# Verbs whose arguments after their own positionals go to another program untouched
# (so `lab kubectl -n kube-system get pods` and `lab ssh HOST -- cmd` work).
PASSTHROUGH = {"kubectl": 0, "ssh": 1}


def cmd_down(args=None, quiet: bool = False) -> None:
    """Remove every namespace, link, mount, file and process the lab made."""
    swarm.stop()  # the Swarm's containers live outside the hosts' namespaces
    daemons.stop_all()
    swarm.remove_cgroups()
    net.remove_network()
    for target in (state.load_state() or {}).get("made_dirs", []):
        with contextlib.suppress(OSError):
            Path(target).rmdir()
    if STATE.exists():
        shutil.rmtree(STATE, ignore_errors=True)
    inventory.remove_inventory()
    if not quiet:
        log("lab is down")


def cmd_up(args) -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts): run it with sudo")
    masters, workers = SIZES[args.size]
    if args.workers is not None:
        workers = args.workers
    if args.masters is not None:
        masters = args.masters
    if not 1 <= masters <= 9 or not 0 <= workers <= 150:
        raise LabError(f"--masters must be 1..9 and --workers 0..150 (got {masters}, {workers})")
    for dur in (args.cert_validity, args.ca_validity):
        if dur:
            parse_duration(dur)
    t0 = time.monotonic()
    run([str(LAB / "scripts" / "install-prereqs.sh")], capture=False)
    run([str(LAB / "scripts" / "build-binaries.sh")], capture=False)
    if args.swarm:
        swarm.install()
    cmd_down(quiet=True)  # whatever an earlier, killed run left behind
    opts = {
        "size": args.size,
        "cert_validity": to_kubeadm_duration(args.cert_validity) if args.cert_validity else None,
        "ca_validity": to_kubeadm_duration(args.ca_validity) if args.ca_validity else None,
        "legacy_master_taint": args.legacy_master_taint,
        "kwok_nodes": args.kwok_nodes,
        "swarm": args.swarm,
    }
    lab = state.Lab(state.topology(masters, workers), opts)
    if args.swarm:
        lab.swarm_hosts = [swarm.manager_host()]
    for sub in ("run", "log", "ssh"):
        (STATE / sub).mkdir(parents=True, exist_ok=True)
    record = state.new_state(lab, up_args(args))
    state.save_state(record)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ackops-lab", "-f", str(SSH_KEY)])
    shutil.copy(f"{SSH_KEY}.pub", SSH_DIR / "authorized_keys")
    log(f"network and {len(lab.hosts)} hosts ({masters} masters, {workers} workers)")
    net.create_network(lab)
    net.prepare_host_files(lab)
    swarm.prepare_host_files(lab)
    state.save_state(record)  # with the mount targets lab up had to create
    daemons.start_hosts(lab)
    swarm.start_dockerd(lab)  # boots while the control plane does
    daemons.start_haproxy(lab)
    kubeadm.init_control_plane(lab)
    log("waiting for etcd and the API servers")
    kubeadm.wait_api(lab)
    pki.write_lab_credentials(lab)
    kubeadm.bind_cluster_admins(lab)
    nodes.create_nodes(lab)
    daemons.start_kwok(lab)
    daemons.start_cloud()
    daemons.start_nodeagent(lab)
    nodes.seed_ack_objects()
    record["crds"] = crds.install_gateway_api(lab.v["GATEWAY_API_VERSION"])
    nodes.wait_nodes_ready(lab)
    if lab.swarm_hosts:
        record["swarm"] = swarm.deploy(lab)
    inventory.write_inventory(lab)
    if args.expired:
        changed = pki.expire_certs(lab)
        log(f"re-signed {len(changed)} leaf certificates as expired")
        inventory.refresh_kubeconfig(lab)
    record["up_seconds"] = round(time.monotonic() - t0, 1)
    state.save_state(record)
    log(f"lab is up in {record['up_seconds']}s: inventory {inventory.HOSTS_FILE}")


def up_args(args) -> dict:
    wanted = {"size": args.size}
    for key in ("masters", "workers", "cert_validity", "ca_validity"):
        if getattr(args, key) is not None:
            wanted[key] = getattr(args, key)
    for key in ("kwok_nodes", "expired", "legacy_master_taint", "swarm"):
        if getattr(args, key):
            wanted[key] = getattr(args, key)
    return wanted


def cmd_status(args) -> None:
    if args.json:
        print(json.dumps(status.contract(), indent=1))
        return
    status.print_report(state.require_lab())


def cmd_ssh(args) -> None:
    host = state.require_lab().host(args.host)
    command = ["ssh", "-i", str(SSH_KEY), "-o", f"UserKnownHostsFile={KNOWN_HOSTS}"]
    command += ["-o", "StrictHostKeyChecking=yes", f"{state.SSH_USER}@{host.ip}", *args.rest]
    os.execvp("ssh", command)


def cmd_kubectl(args) -> None:
    state.require_lab()
    kubectl = state.BINDIR / "kubectl"
    os.execv(str(kubectl), ["kubectl", "--kubeconfig", str(KUBECONFIG), *args.rest])


def cmd_expire_certs(args) -> None:
    lab = state.require_lab()
    changed = pki.expire_certs(lab)
    inventory.refresh_kubeconfig(lab)
    print("\n".join(changed))
    log(f"re-signed {len(changed)} leaf certificates as expired; components restarting")


def cmd_fault(args) -> None:
    """Make a static pod of a host fail from its next start until its manifest changes.

    For testing a runbook's rollback: the component stays down after the
    runbook restarts it, and comes back when the manifest is moved out and
    back again (as a rollback does).
    """
    host = state.require_lab().host(args.host)
    faults = host.state / "faults"
    faults.mkdir(exist_ok=True)
    (faults / args.component).write_text("planted\n")
    log(f"{host.name}: {args.component} will fail from its next start")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="lab",
        description="The local lab: a real Kubernetes control plane and emulated ACK hosts.",
    )
    sub = top.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="build what is missing and start the lab (re-entrant)")
    up.add_argument("--size", choices=sorted(SIZES), default="small")
    up.add_argument("--masters", type=int)
    up.add_argument("--workers", type=int)
    up.add_argument(
        "--kwok-nodes", type=int, default=0, help="extra API-only nodes for scale tests"
    )
    up.add_argument(
        "--cert-validity",
        help="leaf certificate lifetime, e.g. 72h (kubeadm certificateValidityPeriod)",
    )
    up.add_argument("--ca-validity", help="CA lifetime, e.g. 87600h")
    up.add_argument(
        "--expired", action="store_true", help="re-sign every leaf certificate as already expired"
    )
    up.add_argument(
        "--legacy-master-taint",
        action="store_true",
        help="also taint masters node-role.kubernetes.io/master",
    )
    up.add_argument(
        "--swarm",
        action="store_true",
        help="also a Docker Swarm manager host (lab-swarm-1) running the sample stack",
    )
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="remove everything the lab made").set_defaults(func=cmd_down)
    st = sub.add_parser("status", help="versions, hosts, addresses, health")
    st.add_argument("--json", action="store_true", help="the documented contract (lab/README.md)")
    st.set_defaults(func=cmd_status)
    ssh = sub.add_parser("ssh", help="ssh into a lab host: lab ssh HOST [--] [command...]")
    ssh.add_argument("host", help="inventory name, node name or address")
    ssh.set_defaults(func=cmd_ssh)
    kc = sub.add_parser(
        "kubectl", help="kubectl with the lab's admin kubeconfig: lab kubectl [args...]"
    )
    kc.set_defaults(func=cmd_kubectl)
    sub.add_parser("expire-certs", help="re-sign every leaf certificate as expired").set_defaults(
        func=cmd_expire_certs
    )
    fault = sub.add_parser("fault", help="make a host's static pod fail from its next start")
    fault.add_argument("host")
    fault.add_argument("component", help="manifest name without .yaml, e.g. kube-apiserver")
    fault.set_defaults(func=cmd_fault)
    return top


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """The lab's own arguments and, for kubectl/ssh, the rest verbatim (a leading `--` dropped)."""
    if argv and argv[0] in PASSTHROUGH:
        own = 1 + PASSTHROUGH[argv[0]]
        if argv[0] == "ssh" and argv[1:2] and argv[1].startswith("-"):
            own = 2  # `lab ssh --help`: argparse answers
        head, rest = argv[:own], argv[own:]
        return head, rest[1:] if rest[:1] == ["--"] else rest
    return argv, []


def main(argv: list[str] | None = None) -> int:
    head, rest = split_passthrough(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(head)
    args.rest = rest
    try:
        args.func(args)
    except LabError as exc:
        log(f"error: {exc}")
        return 1
    return 0
