"""The control-plane state reader, on a fake /proc and manifest tree.

Expected values are written out from the fixture (the start tick, the clock
rate, the file times), not computed by the code under test.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.pki import control_plane as cp

BOOT = 1_800_000_000.0
TICKS = os.sysconf("SC_CLK_TCK")

APISERVER = """\
apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
spec:
  containers:
  - command:
    - kube-apiserver
    - --secure-port=16443
    - --tls-cert-file={pki}/apiserver.crt
    - --etcd-certfile={pki}/apiserver-etcd-client.crt
"""
SCHEDULER = """\
spec:
  containers:
  - command:
    - kube-scheduler
    - --bind-address=0.0.0.0
    - --kubeconfig={etc}/scheduler.conf
"""
ETCD = """\
spec:
  containers:
  - command:
    - etcd
    - --listen-client-urls=https://127.0.0.1:12379,https://10.0.0.5:12379
    - --cert-file={pki}/etcd/server.crt
"""


class Tree:
    def __init__(self, root):
        self.root = root
        self.proc = root / "proc"
        self.etc = root / "etc"
        self.pki = self.etc / "pki"
        self.manifests = self.etc / "manifests"
        self.aside = self.etc / "manifests.ackops-restart"
        for d in (self.proc, self.pki / "etcd", self.manifests):
            d.mkdir(parents=True)
        (self.proc / "stat").write_text(f"cpu  1 2 3\nbtime {int(BOOT)}\nprocesses 9\n")
        self.netns("self", "net:[4026531840]")

    def netns(self, pid, target):
        (self.proc / pid / "ns").mkdir(parents=True, exist_ok=True)
        os.symlink(target, self.proc / pid / "ns" / "net")

    def file(self, path, mtime):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        os.utime(path, (mtime, mtime))
        return str(path)

    def manifest(self, name, text, where=None):
        target = (where or self.manifests) / f"{name}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.format(pki=self.pki, etc=self.etc))

    def process(self, pid, argv, start_seconds, net="net:[4026531840]"):
        d = self.proc / str(pid)
        d.mkdir(parents=True, exist_ok=True)
        (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
        ticks = int(start_seconds * TICKS)
        # Field 2 with a space and a parenthesis, as comm may have.
        fields = ["S"] + ["0"] * 18 + [str(ticks), "0"]
        (d / "stat").write_text(f"{pid} (kube (odd) name) " + " ".join(fields) + "\n")
        self.netns(str(pid), net)

    def inspect(self):
        return cp.inspect(str(self.manifests), str(self.aside), cp.Proc(str(self.proc)))


@pytest.fixture
def tree(tmp_path):
    # The reader compares namespaces with its own: "self" is the fake one.
    return Tree(tmp_path)


def by_name(state):
    return {c["name"]: c for c in state["components"]}


def test_component_on_files_written_after_it_started_is_stale(tree):
    tree.manifest("kube-apiserver", APISERVER)
    crt = tree.file(tree.pki / "apiserver.crt", BOOT + 50)
    etcd_client = tree.file(tree.pki / "apiserver-etcd-client.crt", BOOT + 500)
    tree.process(101, ["/usr/local/bin/kube-apiserver", "--secure-port=16443",
                       f"--tls-cert-file={crt}", f"--etcd-certfile={etcd_client}"], 100)  # fmt: skip
    state = tree.inspect()
    api = by_name(state)["kube-apiserver"]
    assert api["running"] is True
    assert api["pid"] == 101
    assert api["started"] == pytest.approx(BOOT + 100, abs=0.02)
    assert api["ports"] == [16443]
    assert api["newer_than_process"] == [etcd_client]
    assert state["stale"] == ["kube-apiserver"]
    assert state["interrupted"] is False
    assert cp.findings(state) == [
        f"kube-apiserver (pid 101) started before {etcd_client} was written: it runs on the old files"
    ]


def test_file_written_within_the_slack_is_not_stale(tree):
    tree.manifest("kube-scheduler", SCHEDULER)
    conf = tree.file(tree.etc / "scheduler.conf", BOOT + 100.5)
    tree.process(7, ["kube-scheduler", f"--kubeconfig={conf}"], 100)
    state = tree.inspect()
    assert state["stale"] == []
    sched = by_name(state)["kube-scheduler"]
    assert sched["ports"] == [10259]
    assert sched["address"] == "127.0.0.1"  # bound to every address: knock locally


def test_processes_of_other_hosts_are_not_ours(tree):
    # Another master's apiserver in the same PID namespace but another network namespace.
    tree.manifest("kube-apiserver", APISERVER)
    tree.file(tree.pki / "apiserver.crt", BOOT + 50)
    tree.process(200, ["kube-apiserver"], 10, net="net:[4026532999]")
    state = tree.inspect()
    assert by_name(state)["kube-apiserver"]["running"] is False
    assert state["not_running"] == ["kube-apiserver"]


def test_newest_process_of_a_component_counts(tree):
    tree.manifest("kube-scheduler", SCHEDULER)
    conf = tree.file(tree.etc / "scheduler.conf", BOOT + 300)
    tree.process(10, ["kube-scheduler", f"--kubeconfig={conf}"], 100)  # old, exiting
    tree.process(11, ["kube-scheduler", f"--kubeconfig={conf}"], 400)
    sched = by_name(tree.inspect())["kube-scheduler"]
    assert (sched["pid"], sched["stale"]) == (11, False)


def test_aside_directory_means_an_interrupted_restart(tree):
    tree.manifest("etcd", ETCD, where=tree.aside)
    tree.manifest("kube-scheduler", SCHEDULER)
    state = tree.inspect()
    assert state["interrupted"] is True
    assert state["aside_manifests"] == [str(tree.aside / "etcd.yaml")]
    etcd = by_name(state)["etcd"]
    assert etcd["manifest_aside"] is True
    assert etcd["ports"] == [12379]
    assert cp.findings(state)[0].startswith(
        f"a restart was interrupted: {tree.aside} exists (etcd.yaml"
    )
    # and a restart is not proven while it is there
    assert f"{tree.aside} still exists" in cp.not_restarted(state, BOOT)


def test_ports_and_addresses_come_from_flags():
    assert cp.ports(
        "etcd", {"listen-client-urls": "https://10.1.1.1:2381,https://127.0.0.1:2381"}
    ) == [2381]
    assert cp.address("etcd", {"listen-client-urls": "https://[::1]:2379"}) == "::1"
    assert cp.address("etcd", {"listen-client-urls": "https://0.0.0.0:2379"}) == "127.0.0.1"
    assert cp.ports("kube-apiserver", {}) == [6443]
    assert cp.ports("kube-controller-manager", {"secure-port": "20257"}) == [20257]
    assert cp.address("kube-controller-manager", {"bind-address": "10.0.0.5"}) == "10.0.0.5"


@pytest.mark.parametrize(
    ("flags", "seconds"),
    [
        ({}, 0.0),
        ({"shutdown-delay-duration": "0"}, 0.0),
        ({"shutdown-delay-duration": "70s"}, 70.0),
        ({"shutdown-delay-duration": "1m10s"}, 70.0),
        ({"shutdown-delay-duration": "1500ms"}, 1.5),
        ({"shutdown-delay-duration": "seventy"}, None),
        ({"shutdown-delay-duration": "70"}, None),
        ({"shutdown-delay-duration": ""}, None),
    ],
)
def test_shutdown_delay_of_the_api_server_from_its_flag(flags, seconds):
    assert cp.shutdown_delay("kube-apiserver", flags) == seconds
    # the other components have no such delay, whatever their flags
    assert cp.shutdown_delay("etcd", flags) is None


def test_inspect_reports_the_api_servers_shutdown_delay(tree):
    tree.manifest("kube-apiserver", APISERVER + "    - --shutdown-delay-duration=20s\n")
    tree.manifest("kube-scheduler", SCHEDULER)
    delays = {name: c["shutdown_delay"] for name, c in by_name(tree.inspect()).items()}
    assert delays == {"kube-apiserver": 20.0, "kube-scheduler": None}


def test_manifest_component_by_command_not_file_name():
    assert cp.manifest_component("    - kube-scheduler\n", "sched-custom.yaml") == "kube-scheduler"
    assert cp.manifest_component("image: x\n", "etcd.yaml") == "etcd"
    assert cp.manifest_component("image: x\n", "coredns.yaml") is None
    assert cp.manifest_flags('    - "--secure-port=7443"\n    - --x=a=b\n') == {
        "secure-port": "7443",
        "x": "a=b",
    }


def test_not_restarted_names_each_reason(tree):
    tree.manifest("kube-apiserver", APISERVER)
    tree.manifest("kube-scheduler", SCHEDULER)
    conf = tree.file(tree.etc / "scheduler.conf", BOOT + 50)
    tree.process(5, ["kube-scheduler", f"--kubeconfig={conf}"], 40)
    reasons = cp.not_restarted(tree.inspect(), BOOT + 45)
    assert reasons == [
        "kube-apiserver is not running",
        "kube-scheduler (pid 5) was not restarted",
    ]
