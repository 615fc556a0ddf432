"""Fixtures for tests that run against the local lab (lab/lab).

`lab` is one lab shared by the session, brought up in the `small` size when
it is not already up in the shape a test asks for. Tests that change the
cluster's certificates or topology ask for a fresh lab with `lab.up(...)`;
bringing one up takes seconds, so tests do not have to undo what they did.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography import x509

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
LAB_CLI = REPO / "lab" / "lab"

CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


@dataclass
class LabHost:
    name: str
    role: str
    ip: str
    node_name: str
    zone: str
    ssh_user: str
    ssh_port: int
    # The host's /etc/kubernetes and /var/lib/kubelet as seen from this machine.
    etc_kubernetes: Path
    var_lib_kubelet: Path


class Lab:
    """A handle on the running lab, read through `lab/lab status --json` (lab/README.md)."""

    def __init__(self) -> None:
        self.opts: dict = {}
        # Set by tests that leave the lab changed in ways ensure() cannot see.
        self.dirty = False
        self._status: dict | None = None

    # ---- the lab's contract

    def status(self, refresh: bool = False) -> dict:
        """The status document; cached until the lab is brought up or down again."""
        if self._status is None or refresh:
            proc = subprocess.run(
                [str(LAB_CLI), "status", "--json"], text=True, capture_output=True, timeout=120
            )
            assert proc.returncode == 0, f"lab status --json failed:\n{proc.stderr[-4000:]}"
            self._status = json.loads(proc.stdout)
        return self._status

    @property
    def inventory(self) -> Path:
        return Path(self.status()["inventory"])

    @property
    def kubeconfig(self) -> Path:
        """The cluster's admin.conf (expires with the cluster's certificates)."""
        return Path(self.status()["kubeconfig"])

    @property
    def lab_kubeconfig(self) -> Path:
        """The lab's own long-lived credential: works while the cluster's are expired."""
        return Path(self.status()["lab_kubeconfig"])

    @property
    def kubectl_bin(self) -> Path:
        return Path(self.status()["kubectl"])

    # ---- lifecycle

    def up(self, size: str = "small", **opts) -> Lab:
        argv = [str(LAB_CLI), "up", "--size", size]
        for key, value in opts.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                argv.append(flag)
            elif value not in (None, False):
                argv += [flag, str(value)]
        self._status = None
        proc = subprocess.run(argv, text=True, capture_output=True, timeout=900)
        assert proc.returncode == 0, f"lab up failed:\n{proc.stderr[-4000:]}"
        self.opts = {"size": size, **opts}
        self.dirty = False
        return self

    def ensure(self, size: str = "small", **opts) -> Lab:
        """The lab as asked for: reused when it was brought up with these flags and is healthy.

        Tests that change what a later test relies on (certificates, labels,
        replicas) bring up a fresh lab with up() instead.
        """
        status = self.status(refresh=True)
        wanted = {"size": size, **{k: v for k, v in opts.items() if v not in (None, False, 0)}}
        if not status["up"] or status["args"] != wanted or self.dirty or not self.healthy():
            self.up(size, **opts)
        return self

    def healthy(self) -> bool:
        return self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0

    def down(self) -> subprocess.CompletedProcess:
        self.opts = {}
        self._status = None
        return subprocess.run([str(LAB_CLI), "down"], text=True, capture_output=True, timeout=300)

    # ---- topology

    @property
    def hosts(self) -> list[LabHost]:
        status = self.status()
        assert status["up"], "the lab is not up"
        return [
            LabHost(
                h["name"], h["role"], h["address"], h["node_name"], h["zone"],
                h["ssh_user"], h["ssh_port"],
                Path(h["paths"]["etc_kubernetes"]), Path(h["paths"]["var_lib_kubelet"]),
            )
            for h in status["hosts"]
        ]  # fmt: skip

    @property
    def masters(self) -> list[LabHost]:
        return [h for h in self.hosts if h.role == "master"]

    @property
    def workers(self) -> list[LabHost]:
        return [h for h in self.hosts if h.role == "worker"]

    def host(self, name: str) -> LabHost:
        return next(h for h in self.hosts if name in (h.name, h.node_name))

    # ---- tools

    def ssh(self, host: str, command: str, check: bool = True, timeout: float = 120):
        """Run a shell command on a lab host over real SSH, as Ansible does."""
        target, keys = self.host(host), self.status()["ssh"]
        argv = [
            "ssh", "-i", keys["private_key"], "-p", str(target.ssh_port),
            "-o", f"UserKnownHostsFile={keys['known_hosts']}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            f"{target.ssh_user}@{target.ip}", command,
        ]  # fmt: skip
        proc = subprocess.run(argv, text=True, capture_output=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{host}: `{command}` failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def kubectl(self, *args: str, check: bool = True, input: str | None = None, kubeconfig=None):
        argv = [
            str(self.kubectl_bin), "--kubeconfig", str(kubeconfig or self.kubeconfig),
            "--request-timeout=20s", *args,
        ]  # fmt: skip
        proc = subprocess.run(argv, text=True, capture_output=True, input=input, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {shlex.join(args)} failed:\n{proc.stderr}")
        return proc

    def kubectl_json(self, *args: str, kubeconfig=None) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json", kubeconfig=kubeconfig).stdout)

    def object_states(self, kinds: str) -> dict[str, str]:
        """A digest per object of what a runbook could write: spec, labels, annotations.

        resourceVersion would also move with status updates the controllers and
        kwok make on their own (a Deployment settling, a node heartbeat), so
        "nothing changed" is judged on these instead. Read with the lab's own
        long-lived credential, which works while the cluster's are expired.
        """
        items = self.kubectl_json("get", kinds, "-A", kubeconfig=self.lab_kubeconfig)
        out = {}
        for item in items["items"]:
            meta = item["metadata"]
            annotations = {
                k: v
                for k, v in (meta.get("annotations") or {}).items()
                if not k.startswith("deployment.kubernetes.io/")  # controller bookkeeping
            }
            what = {
                "spec": item.get("spec"),
                "labels": meta.get("labels"),
                "annotations": annotations,
            }
            key = f"{item['kind']}/{meta.get('namespace', '')}/{meta['name']}"
            out[key] = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()
        return out

    def playbook(self, name: str, *args: str, env: dict | None = None, timeout: float = 1200):
        """ansible-playbook from the repository root, against the lab inventory."""
        argv, full_env = self.playbook_command(name, *args, env=env)
        return subprocess.run(
            argv, cwd=REPO, text=True, capture_output=True, env=full_env, timeout=timeout
        )

    def playbook_command(self, name: str, *args: str, env: dict | None = None):
        """The argv and environment of playbook(), for tests that start the run themselves."""
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), name, *args]
        full_env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", **(env or {}))
        full_env.setdefault("ANSIBLE_FORCE_COLOR", "0")
        return argv, full_env

    def ansible(self, host: str, module: str, args: str = "", *extra: str, timeout: float = 600):
        """One module on one lab host (ad hoc), as a run that stopped after it would leave things."""
        argv = [str(VENV_BIN / "ansible"), "-i", str(self.inventory), host, "-m", module]
        argv += (["-a", args] if args else []) + list(extra)
        env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", ANSIBLE_FORCE_COLOR="0")
        return subprocess.run(
            argv, cwd=REPO, text=True, capture_output=True, env=env, timeout=timeout
        )

    def component_pids(self, host: str) -> dict[str, int]:
        """Control-plane component -> pid, by its command's first word, as ps on ``host`` shows it.

        The lab's hosts share one PID namespace: meant for the small lab's single master.
        """
        found = {}
        for line in self.ssh(host, "ps -eo pid=,args=", check=False).stdout.splitlines():
            pid, _, args = line.strip().partition(" ")
            name = args.split()[0].rsplit("/", 1)[-1] if args.split() else ""
            if name in CONTROL_PLANE:
                found[name] = int(pid)
        return found

    def served_certificate(self, ip: str, port: int = 6443) -> x509.Certificate:
        """The certificate a TLS server presents (no verification: we inspect it)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        import socket

        with (
            socket.create_connection((ip, port), timeout=5) as sock,
            ctx.wrap_socket(sock, server_hostname=ip) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
        return x509.load_der_x509_certificate(der)


# The one handle of the session (tests that need the lab outside a fixture import it).
LAB = Lab()


@pytest.fixture(scope="session")
def lab_handle() -> Lab:
    """The lab handle, without bringing anything up (tests that manage it themselves)."""
    if os.geteuid() != 0:
        pytest.fail("integration tests need root: the lab uses network namespaces")
    return LAB


@pytest.fixture
def lab(lab_handle: Lab) -> Lab:
    """A healthy `small` lab (reused when the previous test left one)."""
    return lab_handle.ensure("small")


def wait_until(pred, timeout=90, what="condition"):
    """Poll ``pred`` every second until it is truthy (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def flat(text: str) -> str:
    """ansible-playbook output with its YAML line wrapping undone."""
    return " ".join(text.split())


def assert_ok(proc, what="run"):
    assert proc.returncode == 0, f"{what} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"


def changed_total(proc) -> int:
    return sum(counts.get("changed", 0) for counts in recap(proc.stdout).values())


def recap(output: str) -> dict[str, dict[str, int]]:
    """Per-host counters of ansible-playbook's PLAY RECAP."""
    counters: dict[str, dict[str, int]] = {}
    lines = output.splitlines()
    if "PLAY RECAP" not in output:
        return counters
    start = max(i for i, line in enumerate(lines) if line.startswith("PLAY RECAP"))
    for line in lines[start + 1 :]:
        if ":" not in line or "=" not in line:
            continue
        host, _, rest = line.partition(":")
        counters[host.strip()] = {
            key: int(value) for key, value in (item.split("=") for item in rest.split())
        }
    return counters


# ---- shared by the renew-certs tests (HA renewal through the SLB, Job method)


def tree_hashes(lab) -> dict[str, str]:
    """sha256 of every file under every host's /etc/kubernetes and /var/lib/kubelet."""
    out = {}
    for host in lab.hosts:
        for root in (host.etc_kubernetes, host.var_lib_kubelet):
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
                elif path.is_symlink():
                    out[str(path)] = "-> " + str(path.readlink())
    return out


class SlbPoller(threading.Thread):
    """GETs through the load balancer on fresh connections until stopped; counts failures."""

    def __init__(self, kubeconfig: Path, url: str):
        super().__init__(daemon=True)
        config = yaml.safe_load(kubeconfig.read_text())
        self.tmp = tempfile.mkdtemp(prefix="poller-")
        user = config["users"][0]["user"]
        for name, key in (
            ("ca", None),
            ("cert", "client-certificate-data"),
            ("key", "client-key-data"),
        ):
            data = (
                config["clusters"][0]["cluster"]["certificate-authority-data"]
                if key is None
                else user[key]
            )
            Path(self.tmp, name).write_bytes(base64.b64decode(data))
        self.ctx = ssl.create_default_context(cafile=f"{self.tmp}/ca")
        self.ctx.load_cert_chain(f"{self.tmp}/cert", f"{self.tmp}/key")
        self.url = url
        self.probes = 0
        self.failures: list[str] = []
        self.stopping = threading.Event()

    def run(self):
        deadline = time.monotonic() + 900  # bounded, whatever happens to the test
        while not self.stopping.is_set() and time.monotonic() < deadline:
            self.probes += 1
            try:
                with urllib.request.urlopen(self.url, context=self.ctx, timeout=10) as resp:
                    if resp.status != 200:
                        self.failures.append(f"HTTP {resp.status}")
            except urllib.error.HTTPError as exc:  # the API server's own answer: keep its reason
                body = exc.read(300).decode(errors="replace").replace("\n", " ")
                self.failures.append(f"{time.strftime('%T')} HTTP {exc.code}: {body}")
            except Exception as exc:  # every failure counts, whatever its kind
                self.failures.append(f"{time.strftime('%T')} {exc!r}")
            time.sleep(0.1)


# ---- a run watched while it goes (the fault tests break things mid-run)


class Watched:
    """A playbook (renew-certs.yml unless told) in the background, its output read line by
    line as it comes, so a test can break something at a given point of the run."""

    def __init__(self, lab, *args: str, playbook: str = "renew-certs.yml") -> None:
        argv, env = lab.playbook_command(playbook, *args)
        env["PYTHONUNBUFFERED"] = "1"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            argv, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.ended = False
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    @property
    def output(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> int:
        """The index of the first output line from ``after`` on matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for index in range(after, len(self.lines)):
                    if regex.search(self.lines[index]):
                        return index
                after = len(self.lines)
                remaining = deadline - time.monotonic()
                if self.ended or remaining <= 0:
                    why = "the run ended" if self.ended else f"{timeout:.0f} s passed"
                    raise AssertionError(
                        f"{why} before /{pattern}/:\n{''.join(self.lines)[-4000:]}"
                    )
                self.changed.wait(remaining)

    def kill(self) -> None:
        """SIGKILL to ansible-playbook and its workers, as when the controller dies."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=30)

    def finish(self, timeout: float) -> tuple[int, str, float]:
        """Exit code, output and duration; killed and failed after ``timeout`` seconds."""
        try:
            self.proc.wait(timeout=max(0.0, timeout - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the run did not end within {timeout:.0f} s:\n{self.output[-4000:]}"
            ) from None
        self.reader.join(timeout=30)
        return self.proc.returncode, self.output, time.monotonic() - self.started

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill()
