"""What the API-side benches share (bench_storage.py, bench_ingress.py, bench_release.py):
the lab as ``lab status --json`` describes it with the optional per-phase lock, one
ansible-playbook run, the ``kubernetes.core.k8s`` loop they measure a runbook against, the
kubectl calls that set up and remove a bench's own objects, and the JSON results.
Not a bench itself (``make bench`` runs bench/bench_*.py only).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "collections"))
VENV = REPO / ".venv" / "bin"
RESULTS = REPO / "build" / "bench"
# Every item is one kubernetes.core.k8s call: ``definition`` and optionally ``state``
# (present, patched, absent), ``apply`` with ``server_side_apply``, ``wait``. Only the loop
# task is timed (set_fact before, the elapsed time and the items that changed written
# after), as in bench_storage.py.
LOOP_PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact: {bench_start: "{{ now(utc=true).timestamp() }}"}
    - kubernetes.core.k8s:
        kubeconfig: "{{ kubeconfig }}"
        state: "{{ item.state | default('present') }}"
        apply: "{{ item.apply | default(omit) }}"
        server_side_apply: "{{ item.server_side_apply | default(omit) }}"
        wait: "{{ item.wait | default(omit) }}"
        wait_timeout: 180
        definition: "{{ item.definition }}"
      loop: "{{ objects }}"
      loop_control: {label: "{{ item.definition.kind }}/{{ item.definition.metadata.name }}"}
      register: bench_loop
    - ansible.builtin.copy:
        dest: "{{ elapsed_file }}"
        content: "{{ {'seconds': now(utc=true).timestamp() | float - bench_start | float,
                      'changed': bench_loop.results | selectattr('changed') | list | length}
                     | to_json }}"
        mode: "0644"
"""
# Fields the API server maintains, left out when two sides' objects are compared.
SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")


LOCK = "/tmp/ackops-lab.lock"


def parse_args(doc: str, count: str, default: int, what: str) -> tuple[argparse.Namespace, Lab]:
    """An API-side bench's arguments: ``--<count>`` (``what``) and ``--lock``, taken per phase
    by default so that ``make bench`` shares the lab (not when run under ``flock`` already)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(f"--{count}", type=int, default=default, help=what)
    parser.add_argument("--lock", default=LOCK,
                        help="the lab lock, taken per phase unless run under flock ('' for none)")  # fmt: skip
    args = parser.parse_args()
    return args, Lab(args.lock or None)


def held_by_caller(lock: str) -> bool:
    """Whether a process this one was started from is ``flock <lock> ...``: the lock is held
    for this run already (taking it again would wait for ever)."""
    pid = os.getppid()
    while pid > 1:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        if Path(argv[0].decode()).name == "flock" and lock.encode() in argv:
            return True
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False


class Lab:
    """The lab as `lab status --json` describes it, and the optional per-phase lock."""

    def __init__(self, lock: str | None):
        self.lock_path = lock

    def load(self) -> None:
        """Read inside a phase: another user may be bringing the lab up or down."""
        out = subprocess.run(
            [str(REPO / "lab" / "lab"), "status", "--json"], text=True, capture_output=True
        )
        lab = json.loads(out.stdout or "{}")
        if not lab.get("up"):
            sys.exit("the lab is not up (lab/lab up)")
        self.inventory, self.kubeconfig = lab["inventory"], lab["kubeconfig"]
        self.region = lab["hosts"][0]["node_name"].split(".", 1)[0]
        self.zones = sorted({h["zone"] for h in lab["hosts"]})
        self.kubectl = [lab["kubectl"], "--kubeconfig", self.kubeconfig]

    @contextlib.contextmanager
    def phase(self):
        """The lab lock for one phase, unless the bench was started under it (flock)."""
        if not self.lock_path or held_by_caller(self.lock_path):
            yield
            return
        with open(self.lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, *args: str) -> dict:
        out = subprocess.run([*self.kubectl, "get", *args, "-o", "json"], text=True,
                             capture_output=True)  # fmt: skip
        return json.loads(out.stdout) if out.returncode == 0 else {"items": []}


def run_playbook(path: Path, inventory: str, extra: dict, scratch: Path) -> tuple[float, str]:
    """Seconds and stdout of one ansible-playbook run, its variables and reports in
    ``scratch``, never the checkout; exits when it fails."""
    vars_file = scratch / f"{path.stem}.vars.json"
    vars_file.write_text(json.dumps(extra))
    env = dict(os.environ, PATH=f"{VENV}:{os.environ['PATH']}", ACKOPS_REPORT_DIR=str(scratch))
    start = time.monotonic()
    proc = subprocess.run(
        [str(VENV / "ansible-playbook"), "-i", inventory, str(path), "-e", f"@{vars_file}"],
        cwd=REPO, text=True, capture_output=True, env=env,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        failed = [line for line in proc.stdout.splitlines() if '"msg"' in line or "msg:" in line]
        sys.exit(f"{path.name} failed:\n{proc.stdout[-2000:]}\n" + "\n".join(failed[-5:]))
    return elapsed, proc.stdout


def run_loop(lab: Lab, objects: list[dict], scratch: Path, name: str) -> dict:
    """The kubernetes.core.k8s loop over ``objects``: its task's seconds, the whole
    playbook's and how many items changed."""
    play = scratch / "k8s-loop.yml"
    play.write_text(LOOP_PLAY)
    elapsed_file = scratch / f"{name}.elapsed"
    seconds, _ = run_playbook(
        play, lab.inventory,
        {"objects": objects, "kubeconfig": lab.kubeconfig, "elapsed_file": str(elapsed_file)},
        scratch,
    )  # fmt: skip
    loop = json.loads(elapsed_file.read_text())
    return {
        "loop_task_s": round(loop["seconds"], 2),
        "playbook_s": round(seconds, 2),
        "changed": loop["changed"],
    }


def kubectl(lab: Lab, *args: str, manifest: object = None, check: bool = True) -> str:
    proc = subprocess.run([*lab.kubectl, *args], input=None if manifest is None else
                          json.dumps(manifest), text=True, capture_output=True)  # fmt: skip
    if check and proc.returncode != 0:
        sys.exit(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def apply(lab: Lab, objects: list[dict]) -> None:
    """Server-side apply of the bench's own objects (field manager ackops-bench)."""
    kubectl(lab, "apply", "--server-side", "--field-manager=ackops-bench", "-f", "-",
            manifest={"apiVersion": "v1", "kind": "List", "items": objects})  # fmt: skip


def wait_for(what: str, ready, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            sys.exit(f"{what}: not after {timeout:.0f} s")
        time.sleep(1)


def strip_server_fields(obj: dict) -> dict:
    """``obj`` without what the API server maintains (status, uid, versions, managedFields)."""
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in SERVER_FIELDS}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def same_or_exit(what: str, one: dict, other: dict) -> None:
    """Stop the bench when the runbook's end state ``one`` and the loop's ``other`` differ."""
    different = [key for key in sorted(set(one) | set(other)) if one.get(key) != other.get(key)]
    if different:
        key = different[0]
        sys.exit(f"{what}: the end states differ in {len(different)} places, first {key}:\n"
                 f"  runbook: {one.get(key)}\n  loop:    {other.get(key)}")  # fmt: skip


def finish(name: str, results: dict, render) -> int:
    """Write build/bench/<name>.json and print it as ``render`` makes it Markdown."""
    path = write_results(name, {**results, "end_state_equal": True})
    print("\n".join(render(json.loads(path.read_text()))))
    print(f"results: {path}")
    return 0


def write_results(name: str, results: dict) -> Path:
    """build/bench/<name>.json, with the time it was measured."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    results = {
        **results,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join([".venv/bin/python", f"bench/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


API_NOTE = (
    "Ratio = the loop's task time / the runbook's whole playbook runs (start-up, validation,"
    " reads, writes, waits, report); above 1 the runbook is faster. The end states were compared"
    " and found equal in every row (the bench stops otherwise)."
)


def fmt(value: object, digits: int = 2, unit: str = "") -> str:
    return f"{value:.{digits}f}{unit}" if isinstance(value, (int, float)) else "-"


def measured(data: dict) -> str:
    load = "/".join(fmt(x, 1) for x in data["load_average"])
    return f"`{data['command']}`, load average {load}, {data['measured_at']}"


def ingress_markdown(data: dict) -> list[str]:
    """bench_ingress.py's results as a Markdown table (printed, and in bench/RESULTS.md)."""
    lines = [
        f"ingress-ha, {data['nodes']} kwok nodes a side (label, taint and annotation on each,"
        f" the controller and its budget); {measured(data)}:", "",
        "| run | ingress-ha.yml s | changes | k8s loop task s | loop playbook s |"
        " items changed | loop / runbook |", "|---|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for run, suffix in (("first", ""), ("second", "_again")):
        book, loop = data[f"runbook{suffix}"], data[f"loop{suffix}"]
        lines.append(f"| {run} | {fmt(book['playbook_s'])} | {book['changed']} | "
                     f"{fmt(loop['loop_task_s'])} | {fmt(loop['playbook_s'])} | "
                     f"{loop['changed']} | {fmt(data['ratio' + suffix], unit='x')} |")  # fmt: skip
    return lines


def release_markdown(data: dict) -> list[str]:
    """bench_release.py's results as a Markdown table (printed, and in bench/RESULTS.md)."""
    lines = [
        f"release steps, {data['releases']} applications a side (ingress mode, ACK dialect;"
        f" one release.yml run per application and step); {measured(data)}:", "",
        "| step | release.yml runs s | changes | objects | k8s loop task s | loop playbook s |"
        " items changed | loop / runbook |", "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for name, step in data["steps"].items():
        book, loop = step["runbook"], step["loop"]
        lines.append(f"| {name} | {fmt(book['playbooks_s'])} | {book['changed']} | "
                     f"{step['objects']} | {fmt(loop['loop_task_s'])} | "
                     f"{fmt(loop['playbook_s'])} | {loop['changed']} | "
                     f"{fmt(step['ratio'], 3, 'x')} |")  # fmt: skip
    return lines
