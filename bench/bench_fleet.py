#!/usr/bin/env python3
"""The scaling curve: the certificate report and a full renewal on 5 to 100 lab hosts,
each as a ratio to the SSH floor measured at the same size in the same run.

For every size N (hosts in all: one master and N-1 workers; workers are cheap, a network
namespace and an sshd each) the lab is brought up with leaf certificates due, then, interleaved
``--repeat`` times so that a burst of load hits every side alike (medians kept):

* floor: ``ansible masters:workers -m ping``, what any run over SSH costs at least;
* playbook floor: ``ansible-playbook`` of one ping task on the same hosts (the floor plus what
  ansible-playbook itself costs: parsing, the play, the callbacks);
* report: ``renew-certs.yml -e renew_certs_action=report``;
* with ``--baseline REF``: the same report from the tree of commit REF (``git archive``, run with
  the same ``.venv``, inventory and forks), the "before" of a change in the same run;

then the report once more (and the baseline's) with ``ansible.posix.profile_tasks``, and a
renewal (``renew-certs.yml``, profiled; ``--no-renewal`` leaves it out): the time spent in health
waits (tasks named "Wait ..." and the load balancer's drain pause) is reported apart, since no
connection setting can shorten them, and the rest is compared with the floor. ``--variants``
repeats floor, report (and baseline) under other connection settings than ansible.cfg's:
without pipelining, without ControlPersist (every task opens its SSH connections cold, as a
fresh AWX container does), with 10 and with 50 forks (50 only with more hosts than
``--forks``), and with ``--mitogen DIR`` (a directory holding
``ansible_mitogen``, e.g. ``pip install --target DIR mitogen``) Mitogen's ``mitogen_linear``
strategy, which ansible-core 2.19 still loads (with a deprecation warning for third-party
strategies).

The results are merged into ``--results`` (JSON, one entry per size, so the sizes can be run
by separate commands, each under the lab lock), and ``--plot`` draws time and ratio per size
when matplotlib is installed (``make bench`` installs requirements-bench.txt). There is no
pass/fail on time. The lab is shared and restarted by this bench: it takes the lab lock for each
size (``make bench``), or runs under ``flock`` as below and then takes nothing more.

    flock /tmp/ackops-lab.lock .venv/bin/python bench/bench_fleet.py --sizes 5,10,20
    flock /tmp/ackops-lab.lock .venv/bin/python bench/bench_fleet.py --sizes 20 --baseline HEAD~3
    .venv/bin/python bench/bench_fleet.py --sizes '' --plot build/bench/fleet.png  # print, plot
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_renew_report import BIN, INVENTORY, REPO, BenchError, host_counts
from k8s_loop import API_NOTE, LOCK, Lab, fmt, ingress_markdown, release_markdown

# The report's tasks that reach the hosts: the certificate read and, before it was the
# reach check too, the ping; with their argument validation and bookkeeping per host.
PER_HOST_TASK = re.compile(
    r"Read and parse every certificate|arg spec '(inventory|reach)'|Ask every host to answer"
    r"|Remember whether this host answered"
)
WAIT_TASK = re.compile(r"(^|: )(Wait |Give the load balancer time)")
PROFILE_LINE = re.compile(r"^(?P<task>.+?) -+ (?P<seconds>\d+(\.\d+)?)s$")
PROFILED = {
    "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
    "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
}
# Connection settings tried against ansible.cfg's (pipelining, ControlPersist 60s, 20 forks).
VARIANTS = {
    "no pipelining": ({"ANSIBLE_PIPELINING": "False"}, None),
    "no ControlPersist (cold SSH)": ({"ANSIBLE_SSH_ARGS": "-o ControlMaster=no"}, None),
    "10 forks": ({}, 10),
    "50 forks": ({}, 50),
}
PLAYBOOK_FLOOR = """\
- name: The playbook floor, one ping per host
  hosts: masters:workers
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""

# What the measurements showed (the printed explanation; numbers come from the results).
EXPLANATION = """\
Where the report's time goes, and what is left (2-core lab shared with a mutation run at nice
15; the load average is in each table):
* One round trip per host: the certificate read (k8s_cert_info) is also the reach check, so
  the report opens each host's SSH connection once, as the floor does; the report's own tasks
  run once on the controller (run_once, included once).
* Applied (session 6, "The report before and after" above): the read is imported without the
  role's per-host argument check (rolespec_validate: false; the first play validates the
  run's settings, the read module checks its own options on every host: 0.38 s at 20 hosts,
  3.8 s at 100); the report's summary for AWX is published by report_write's action in the
  write task (ansible_stats, as set_stats returns it), one task less for every runbook's report
  (0.59 s at 20). At 20 hosts the report went from 1.92x to 1.70x the floor in the same run.
* What is left at 20 hosts (profiled run 11.34 s, floor 7.71 s): the read, 7.88 s, is at the
  floor (1.02x): alone on one host it took 1.2-1.5 s against a ping's 1.1-1.4 s (5 runs; Python
  importing cryptography and parsing the files), which a real fleet pays on each host in
  parallel and the lab pays on the controller's 2 cores; the report's controller work, 1.26 s
  (the cert_report filter over every host's rows 0.62 s, the write 0.64 s); 28 small tasks,
  0.95 s (asserts, gates, meta, one include), which Ansible's linear strategy runs host by host;
  1.25 s outside any task (parsing the 10 plays and their roles' argument specs, and the
  renewal plays that a report-only run enters and ends at once).
* Why 1.3x is not reached: 1.3x of a 7.7 s floor leaves 2.1 s beyond the read for everything
  else; the fixed part alone (plays, their settings check, the gate tasks) is about 2.2 s, and
  the report's build and write grow with the rows. Getting there would mean a report-only
  playbook of its own (no renewal plays to enter) with the settings check, read, build, write
  and gate folded into fewer tasks: a second way to run the same report, which the project's
  "one way to do a thing" rule weighs against. Not done.
* The renewal beyond its health waits is 15-24x the floor, not 2x: it is a sequence of round
  trips per host, not one (the reach ping 1x the floor, the read before and after 1.4x each,
  the kubelet credential's plan 1.6x at 100 hosts, then the key and CSR, the signing on the
  master, the install and the check, per batch of 25 % of the workers, batches one after the
  other by design), and the master's restart waits count as waits only where the task is
  named Wait.
"""


def timed(
    argv: list[str],
    what: str,
    env: dict[str, str] | None = None,
    cwd: Path = REPO,
) -> tuple[float, str]:
    """Seconds ``argv`` took and its stdout; raises with its output when it fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(
            f"{what} failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        )
    return elapsed, proc.stdout


def profile(stdout: str) -> list[tuple[str, float]]:
    """The task lines of ``profile_tasks``'s closing summary, slowest first."""
    tasks = []
    for line in stdout.splitlines():
        match = PROFILE_LINE.match(line.strip())
        if match:
            tasks.append((match["task"].strip(), float(match["seconds"])))
    return sorted(tasks, key=lambda item: -item[1])


def breakdown(seconds: float, tasks: list[tuple[str, float]]) -> dict:
    """A profiled run's time split into the tasks that reach the hosts (PER_HOST_TASK), the
    other tasks and the rest (ansible-playbook's start, parsing, the plays that end at once,
    the recap)."""
    per_host = sum(s for task, s in tasks if PER_HOST_TASK.search(task))
    once = sum(s for task, s in tasks if not PER_HOST_TASK.search(task))
    return {
        "total_s": round(seconds, 2),
        "reach_tasks_s": round(per_host, 2),
        "other_tasks_s": round(once, 2),
        "other_tasks": sum(1 for task, _ in tasks if not PER_HOST_TASK.search(task)),
        "outside_tasks_s": round(seconds - per_host - once, 2),
    }


def export_tree(ref: str, into: Path) -> Path:
    """The tree of commit ``ref`` in ``into`` (git archive: the repository is not touched)."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", ref],
            capture_output=True,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        raise BenchError(f"--baseline {ref}: {exc.stderr.decode().strip()}") from exc
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def project_tree(ref: str | None, scratch: Path) -> Path | None:
    """The project tree of ``ref``: a directory holding one as it is (a candidate change), else
    commit ``ref`` exported into ``scratch``; None without a ref."""
    if not ref:
        return None
    if Path(ref, "renew-certs.yml").is_file():
        return Path(ref).resolve()
    return export_tree(ref, Path(tempfile.mkdtemp(dir=scratch)))


def commit_of(ref: str | None) -> str | None:
    """The commit ``ref`` names (None for a directory or no ref), for the results."""
    if not ref or Path(ref).is_dir():
        return None
    proc = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref],
                          capture_output=True, text=True)  # fmt: skip
    return proc.stdout.strip() or None


class Sides:
    """The commands of one size, each run with the same inventory and forks."""

    def __init__(
        self, forks: int, reports: Path, baseline: Path | None, playbook_floor: Path, tree: Path
    ):
        self.forks = forks
        self.tree = tree
        self.reports = reports
        self.baseline = baseline
        self.playbook_floor = playbook_floor

    def common(self, forks: int | None) -> list[str]:
        return ["-i", str(INVENTORY), "--forks", str(forks or self.forks)]

    def floor(self, forks: int | None = None) -> list[str]:
        return [
            str(BIN / "ansible"),
            "masters:workers",
            *self.common(forks),
            "-m",
            "ansible.builtin.ping",
        ]

    def pb_floor(self, forks: int | None = None) -> list[str]:
        return [str(BIN / "ansible-playbook"), *self.common(forks), str(self.playbook_floor)]

    def playbook(self, forks: int | None = None, *extra: str) -> list[str]:
        return [
            str(BIN / "ansible-playbook"),
            *self.common(forks),
            "renew-certs.yml",
            "-e",
            f"renew_certs_report_dir={self.reports}",
            *extra,
        ]

    def report(self, forks: int | None = None) -> list[str]:
        return self.playbook(forks, "-e", "renew_certs_action=report")

    def run_all(self, env: dict[str, str], forks: int | None, repeat: int, playbook_floor: bool):
        """Medians of every side, interleaved so a burst of load hits each alike."""
        runs: dict[str, list[float]] = {"floor": [], "report": []}
        if playbook_floor:
            runs["playbook_floor"] = []
        if self.baseline:
            runs["baseline"] = []
        for _ in range(repeat):
            runs["floor"].append(timed(self.floor(forks), "ansible -m ping", env, self.tree)[0])
            if playbook_floor:
                runs["playbook_floor"].append(
                    timed(self.pb_floor(forks), "the playbook floor", env, self.tree)[0]
                )
            runs["report"].append(timed(self.report(forks), "the report", env, self.tree)[0])
            if self.baseline:
                runs["baseline"].append(
                    timed(self.report(forks), "the baseline's report", env, self.baseline)[0]
                )
        return {side: round(statistics.median(times), 2) for side, times in runs.items()}


def mitogen_variant(directory: Path) -> dict[str, tuple[dict[str, str], int | None]]:
    directory = directory.resolve()  # the sides run in the project tree (--tree), not here
    strategies = directory / "ansible_mitogen" / "plugins" / "strategy"
    if not (strategies / "mitogen_linear.py").is_file():
        raise BenchError(
            f"--mitogen {directory}: no ansible_mitogen/plugins/strategy/mitogen_linear.py"
        )
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(directory), os.environ.get("PYTHONPATH")])),
        "ANSIBLE_STRATEGY_PLUGINS": str(strategies),
        "ANSIBLE_STRATEGY": "mitogen_linear",
    }
    return {"Mitogen (mitogen_linear)": (env, None)}


def failure_lines(output: str, keep: int = 6) -> str:
    """The lines of a failed run that say why (errors, msg), else its last lines."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    wanted = [line for line in lines if re.search(r"ERROR|Error|error|msg|failed", line)]
    return "\n".join((wanted or lines)[:keep])


def command_line() -> str:
    """How this bench was started, for the results (the lab lock is not visible from here)."""
    return " ".join([".venv/bin/python", f"bench/{Path(sys.argv[0]).name}", *sys.argv[1:]])


def row_hosts(hosts: dict[str, int]) -> int:
    return hosts["masters"] + hosts["workers"]


def measure(
    size: int,
    repeat: int,
    forks: int,
    baseline_ref: str | None,
    renewal: bool,
    variants: dict[str, tuple[dict[str, str], int | None]],
    tree_ref: str | None = None,
) -> dict:
    if size < 2:
        raise BenchError(f"--sizes: {size} is too small (one master and at least one worker)")
    # 240h leaves are inside the 30-day threshold: every one is due, so the renewal renews.
    timed(
        [
            str(REPO / "lab" / "lab"),
            "up",
            "--size",
            "small",
            "--workers",
            str(size - 1),
            "--cert-validity",
            "240h",
        ],
        f"lab up with {size - 1} workers",
    )
    hosts = host_counts()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as scratch:
        scratch = Path(scratch)
        (scratch / "reports").mkdir()
        (scratch / "floor.yml").write_text(PLAYBOOK_FLOOR)
        baseline = project_tree(baseline_ref, scratch)
        tree = project_tree(tree_ref, scratch) or REPO
        sides = Sides(forks, scratch / "reports", baseline, scratch / "floor.yml", tree)
        # warms the SSH control sockets for every side alike
        timed(sides.floor(), "ansible -m ping", cwd=tree)
        medians = sides.run_all({}, None, repeat, playbook_floor=True)
        profiled_s, report_out = timed(sides.report(), "the report, profiled", PROFILED, tree)
        baseline_out = ""
        if baseline:
            baseline_profiled_s, baseline_out = timed(
                sides.report(), "the baseline's report, profiled", PROFILED, baseline
            )
        tried = {}
        if variants:
            for name, (env, variant_forks) in variants.items():
                if variant_forks and variant_forks > forks and row_hosts(hosts) <= forks:
                    continue  # as many forks as hosts already: nothing to try
                try:
                    tried[name] = sides.run_all(env, variant_forks, repeat, playbook_floor=False)
                except BenchError as exc:  # recorded (Mitogen may not load): the rest goes on
                    tried[name] = {"error": failure_lines(str(exc))}
                    continue
                tried[name]["report_ratio"] = round(tried[name]["report"] / tried[name]["floor"], 2)
        row = {
            "hosts": hosts["masters"] + hosts["workers"],
            "masters": hosts["masters"],
            "workers": hosts["workers"],
            "forks": forks,
            "repeat": repeat,
            "floor_s": medians["floor"],
            "playbook_floor_s": medians["playbook_floor"],
            "report_s": medians["report"],
            "report_ratio": round(medians["report"] / medians["floor"], 2),
            "report_profile_top": profile(report_out)[:10],
            "report_breakdown": breakdown(profiled_s, profile(report_out)),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tree": commit_of(tree_ref) or tree_ref or "working tree",
            "command": command_line(),
            "load_average": [round(load, 2) for load in os.getloadavg()],
        }
        if baseline:
            row |= {
                "baseline_ref": baseline_ref,
                "baseline_report_s": medians["baseline"],
                "baseline_ratio": round(medians["baseline"] / medians["floor"], 2),
                "baseline_profile_top": profile(baseline_out)[:10],
                "baseline_breakdown": breakdown(baseline_profiled_s, profile(baseline_out)),
            }
        if tried:
            row["variants"] = tried
        if renewal:
            seconds, renewal_out = timed(sides.playbook(), "the renewal", PROFILED, tree)
            renewal_tasks = profile(renewal_out)
            waits = sum(s for task, s in renewal_tasks if WAIT_TASK.search(task))
            row |= {
                "renewal_s": round(seconds, 2),
                "renewal_health_waits_s": round(waits, 2),
                "renewal_beyond_waits_ratio": round((seconds - waits) / medians["floor"], 2),
                "renewal_summary": json.loads(
                    (scratch / "reports" / "renew-certs.json").read_text()
                )["summary"],
                "renewal_profile_top": renewal_tasks[:8],
            }
    return row


def plot(results: dict, path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no plot: matplotlib is not installed (make bench installs requirements-bench.txt)"
    rows = sorted(results.values(), key=lambda row: row["hosts"])
    if not rows:
        return "no plot: no results yet"
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=100)

    def line(axis, key, label, style="o-", value=lambda row, key: row[key]):
        points = [(row["hosts"], value(row, key)) for row in rows if key in row]
        if points:
            axis.plot([x for x, _ in points], [y for _, y in points], style, label=label)

    line(left, "floor_s", "SSH floor (ping)")
    line(left, "playbook_floor_s", "playbook floor (one ping task)", "o:")
    line(left, "report_s", "certificate report")
    line(left, "baseline_report_s", "report before (baseline)", "x--")
    line(
        left,
        "renewal_s",
        "renewal without health waits",
        value=lambda row, key: row[key] - row["renewal_health_waits_s"],
    )
    left.set_xlabel("hosts")
    left.set_ylabel("seconds")
    left.legend(fontsize=7)
    line(right, "report_ratio", "report / floor")
    line(right, "baseline_ratio", "report before / floor", "x--")
    line(right, "renewal_beyond_waits_ratio", "renewal beyond waits / floor")
    right.axhline(1.3, linestyle=":", color="grey", label="report goal 1.3")
    right.axhline(2.0, linestyle="--", color="grey", label="renewal goal 2")
    right.set_xlabel("hosts")
    right.set_ylabel("ratio to the floor")
    right.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return f"plot: {path}"


def cell(row: dict, key: str, width: int) -> str:
    value = row.get(key)
    return f"{value:>{width}.2f}" if isinstance(value, (int, float)) else f"{'-':>{width}}"


def explain(results: dict) -> None:
    rows = sorted(results.values(), key=lambda row: row["hosts"])
    print(
        f"{'hosts':>5} {'floor s':>8} {'pb floor':>8} {'report s':>9} {'ratio':>6} "
        f"{'before s':>9} {'ratio':>6} {'renewal s':>10} {'waits s':>8} {'beyond/floor':>12}"
    )
    for row in rows:
        print(
            f"{row['hosts']:>5} {cell(row, 'floor_s', 8)} {cell(row, 'playbook_floor_s', 8)} "
            f"{cell(row, 'report_s', 9)} {cell(row, 'report_ratio', 6)} "
            f"{cell(row, 'baseline_report_s', 9)} {cell(row, 'baseline_ratio', 6)} "
            f"{cell(row, 'renewal_s', 10)} {cell(row, 'renewal_health_waits_s', 8)} "
            f"{cell(row, 'renewal_beyond_waits_ratio', 12)}"
        )
    for row in rows:
        for name, sides in row.get("variants", {}).items():
            if "error" in sides:
                print(f"  {row['hosts']:>3} hosts, {name}: failed: {sides['error']}")
                continue
            before = (
                f", before {sides['baseline']:.2f} s ({sides['baseline'] / sides['floor']:.2f}x)"
                if "baseline" in sides
                else ""
            )
            print(
                f"  {row['hosts']:>3} hosts, {name}: floor {sides['floor']:.2f} s, "
                f"report {sides['report']:.2f} s ({sides['report_ratio']:.2f}x){before}"
            )
    print()
    print(EXPLANATION)
    for row in rows:
        for key, label in (("report_breakdown", "report"), ("baseline_breakdown", "before")):
            if key in row:
                split = row[key]
                print(
                    f"  {row['hosts']:>3} hosts, {label} (profiled run {split['total_s']:.2f} s): "
                    f"ping/read tasks {split['reach_tasks_s']:.2f} s, "
                    f"{split['other_tasks']} other tasks {split['other_tasks_s']:.2f} s, "
                    f"outside any task {split['outside_tasks_s']:.2f} s "
                    f"(floor {row['floor_s']:.2f} s, playbook floor "
                    f"{row.get('playbook_floor_s', float('nan')):.2f} s)"
                )
    if rows:
        last = rows[-1]
        print(f"The report's profile at {last['hosts']} hosts (profile_tasks, slowest first):")
        for task, seconds in last["report_profile_top"]:
            print(f"  {seconds:7.2f} s  {task}")
        if "baseline_profile_top" in last:
            print(f"and before ({last['baseline_ref']}):")
            for task, seconds in last["baseline_profile_top"]:
                print(f"  {seconds:7.2f} s  {task}")


MACHINE_NOTE = """\
The machine: 2 cores shared by everyone working on the project; while these were measured a
mutation-testing run was going on at nice 15 (one child), and the lab's hosts (a network
namespace and an sshd each), its API server, etcd and kwok run on the same 2 cores as the
controller. The load average (1, 5, 15 min) at the end of each measurement is in the tables:
compare ratios measured in the same run, not seconds across runs."""


def variants_markdown(row: dict) -> list[str]:
    """One ``--variants`` run: every setting's floor and report (and the baseline's report,
    with ``--baseline``), which ones beat ansible.cfg's, and the baseline's profile."""
    baseline = "baseline_report_s" in row
    lines = ["", f"## Connection settings and Mitogen at {row['hosts']} hosts", "",
             f"    flock /tmp/ackops-lab.lock {row.get('command', '?')}", "",
             f"ansible.cfg's settings (pipelining, ControlPersist 60s, {row['forks']} forks)"
             " against each variant, medians of the same interleaved runs"
             + (f"; baseline = the report of {row['baseline_ref']}" if baseline else "") + ".", "",
             "| settings | floor s | report s | report / floor |"
             + (" baseline s | baseline / floor |" if baseline else ""),
             "|---|---:|---:|---:|" + ("---:|---:|" if baseline else "")]  # fmt: skip

    def cells(floor: float, report: float, other: float | None) -> str:
        text = f"{fmt(floor)} | {fmt(report)} | {fmt(report / floor, unit='x')} |"
        return text + (f" {fmt(other)} | {fmt(other / floor, unit='x')} |" if baseline else "")

    lines.append(f"| ansible.cfg | {cells(row['floor_s'], row['report_s'], row.get('baseline_report_s'))}")  # fmt: skip
    better = []
    for name, sides in row["variants"].items():
        if "error" in sides:
            error = sides["error"].replace("|", "\\|").replace("\n", "<br>")
            lines.append(f"| {name} | failed: {error} | | |" + (" | |" if baseline else ""))
            continue
        lines.append(f"| {name} | {cells(sides['floor'], sides['report'], sides.get('baseline'))}")  # fmt: skip
        if sides["report"] < row["report_s"]:
            better.append(f"{name} ({sides['report']:.2f} s against {row['report_s']:.2f} s)")
    skipped = [name for name in VARIANTS if name not in row["variants"]]
    lines += ["", "Measured faster than ansible.cfg's settings for the report: "
              + (", ".join(better) if better else "none") + ". A lower ratio over a slower"
              " floor is not a faster report: compare the report's seconds."
              + (f" Not tried: {', '.join(skipped)} (no more hosts than {row['forks']} forks)."
                 if skipped else "")]  # fmt: skip
    if baseline:
        lines += ["", f"The baseline's profile ({row['baseline_ref']}):", "", "| s | task |",
                  "|---:|---|", *[f"| {s:.2f} | {t} |" for t, s in row["baseline_profile_top"]]]  # fmt: skip
    return lines


def commands(rows: list[dict]) -> list[str]:
    """The commands that measured ``rows``, each once, as run under the lab's lock."""
    return [f"    flock /tmp/ackops-lab.lock {command}"
            for command in dict.fromkeys(row.get("command", "?") for row in rows)]  # fmt: skip


def fleet_markdown(results: dict, variants: dict) -> list[str]:
    """The curve (``results``), then the variants of every row of ``results`` and ``variants``
    (the results of a separate ``--variants`` run) that has them."""
    rows = sorted(results.values(), key=lambda row: row["hosts"])
    lines = ["## The fleet curve", "", "Commands:", ""]
    lines += commands(rows)
    lines += [
        "",
        "Medians of `repeat` interleaved runs; floor = `ansible masters:workers -m ping`, playbook"
        " floor = one ping task in a playbook, report = `renew-certs.yml -e"
        " renew_certs_action=report`, renewal = one full `renew-certs.yml` run (every leaf due,"
        " profiled), its health waits (tasks named Wait ..., the load balancer's drain) apart.",
        "",
        "| hosts | repeat | floor s | playbook floor s | report s | report / floor | renewal s"
        " | health waits s | renewal beyond waits / floor | load avg | tree | measured |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        load = "/".join(fmt(x, 1) for x in row.get("load_average", [])) or "-"
        lines.append(
            f"| {row['hosts']} | {row['repeat']} | {fmt(row['floor_s'])} | "
            f"{fmt(row.get('playbook_floor_s'))} | {fmt(row['report_s'])} | "
            f"{fmt(row['report_ratio'], unit='x')} | {fmt(row.get('renewal_s'))} | "
            f"{fmt(row.get('renewal_health_waits_s'))} | "
            f"{fmt(row.get('renewal_beyond_waits_ratio'), unit='x')} | {load} | "
            f"{row.get('tree', 'working tree')} | {row['measured_at']} |"
        )
    for row in [*rows, *variants.values()]:
        if row.get("variants"):
            lines += variants_markdown(row)
    last = rows[-1] if rows else None
    for key, title in (("report_profile_top", "report"), ("renewal_profile_top", "renewal")):
        if last and last.get(key):
            lines += ["", f"## The {title}'s profile at {last['hosts']} hosts (profile_tasks)", "",
                      "| s | task |", "|---:|---|"]  # fmt: skip
            lines += [f"| {seconds:.2f} | {task} |" for task, seconds in last[key]]
    return lines


def before_after_markdown(directory: Path) -> list[str]:
    """The report against a baseline commit, from every ``fleet-report*.json`` (a
    ``--no-renewal --baseline REF`` run): both sides timed in the same run."""
    rows = []
    for path in sorted(directory.glob("fleet-report*.json")):
        rows += [row for row in json.loads(path.read_text()).values() if row.get("baseline_ref")]
    if not rows:
        return []
    lines = ["", "## The report before and after", "", "Commands:", ""]
    lines += commands(rows)
    lines += [
        "",
        "Both sides in the same run, interleaved (medians of `repeat`); the floor is measured"
        " once for both.",
        "",
        "| hosts | repeat | floor s | before | before s | before / floor | after | after s"
        " | after / floor | load avg | measured |",
        "|---:|---:|---:|---|---:|---:|---|---:|---:|---|---|",
    ]
    for row in sorted(rows, key=lambda row: row["hosts"]):
        load = "/".join(fmt(x, 1) for x in row.get("load_average", [])) or "-"
        lines.append(
            f"| {row['hosts']} | {row['repeat']} | {fmt(row['floor_s'])} | "
            f"{row['baseline_ref']} | {fmt(row['baseline_report_s'])} | "
            f"{fmt(row['baseline_ratio'], unit='x')} | {row.get('tree', 'working tree')} | "
            f"{fmt(row['report_s'])} | {fmt(row['report_ratio'], unit='x')} | {load} | "
            f"{row['measured_at']} |"
        )
    return lines


def api_markdown(directory: Path) -> list[str]:
    """The API-side benches' results (bench_ingress.py, bench_release.py), when present."""
    found = {name: directory / f"{name}.json" for name in ("ingress", "release")}
    found = {name: json.loads(path.read_text()) for name, path in found.items() if path.exists()}
    if not found:
        return []
    lines = ["", "## API-side runbooks against a kubernetes.core.k8s loop", "", API_NOTE, ""]
    if "ingress" in found:
        lines += [*ingress_markdown(found["ingress"]), ""]
    if "release" in found:
        lines += release_markdown(found["release"])
    return lines


def markdown(results: dict, directory: Path) -> str:
    """The curve from ``results``, the variants from them and from fleet-variants.json and the
    API-side benches' JSON from ``directory``."""
    variants_file = directory / "fleet-variants.json"
    variants = json.loads(variants_file.read_text()) if variants_file.exists() else {}
    lines = ["# Benchmarks", "",
             "Generated by `.venv/bin/python bench/bench_fleet.py --sizes '' --markdown"
             " bench/RESULTS.md` from build/bench/*.json (bench_fleet.py: fleet.json, and"
             " fleet-variants.json from a `--variants` run; bench_ingress.py, bench_release.py);"
             " no pass/fail on time.", "", MACHINE_NOTE, ""]  # fmt: skip
    explanation = ["", "## Where the time goes", "", "```", EXPLANATION.rstrip(), "```"]
    return "\n".join([*lines, *fleet_markdown(results, variants),
                      *before_after_markdown(directory), *explanation,
                      *api_markdown(directory)]) + "\n"  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="5,10,20,50,100", help="hosts per point, comma separated"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--forks", type=int, default=20, help="forks for every side (ansible.cfg: 20)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also time the report of this commit, or of the project tree in this directory",
    )
    parser.add_argument(
        "--tree",
        metavar="REF",
        help="run every side from this commit (git archive) or project directory instead of the "
        "working tree, which others may be editing while the bench runs",
    )
    parser.add_argument(
        "--lock",
        default=LOCK,
        help="the lab lock, taken for each size unless run under flock ('' for none)",
    )
    parser.add_argument("--no-renewal", action="store_true", help="time the report only")
    parser.add_argument(
        "--variants", action="store_true", help="also try other connection settings"
    )
    parser.add_argument(
        "--mitogen", type=Path, metavar="DIR", help="with --variants: also Mitogen from DIR"
    )
    parser.add_argument("--results", type=Path, default=REPO / "build" / "bench" / "fleet.json")
    parser.add_argument("--plot", type=Path, default=REPO / "build" / "bench" / "fleet.png")
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="PATH",
        help="also write the results (and the API-side benches' beside --results) as Markdown",
    )
    args = parser.parse_args()
    try:
        sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    except ValueError:
        print(f"bench_fleet: --sizes {args.sizes!r}: give numbers such as 5,10,20", file=sys.stderr)
        return 2
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    try:
        variants = dict(VARIANTS) if args.variants else {}
        if args.variants and args.mitogen:
            variants |= mitogen_variant(args.mitogen)
        for size in sizes:
            with Lab(args.lock or None).phase():  # one size at a time under the lab lock
                results[str(size)] = measure(
                    size,
                    args.repeat,
                    args.forks,
                    args.baseline,
                    not args.no_renewal,
                    variants,
                    args.tree,
                )
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(results, indent=2) + "\n")
    except BenchError as exc:
        print(f"bench_fleet: {exc}", file=sys.stderr)
        return 2
    explain(results)
    print(f"results: {args.results}")
    print(plot(results, args.plot))
    if args.markdown:
        args.markdown.write_text(markdown(results, args.results.parent))
        print(f"markdown: {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
