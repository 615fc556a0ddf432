#!/usr/bin/env python3
"""The scaling curve: the certificate report and a full renewal on 5 to 100 lab hosts,
each as a ratio to the SSH floor measured at the same size in the same run.

For every size N (hosts in all: one master and N-1 workers; workers are cheap, a network
namespace and an sshd each) the lab is brought up with leaf certificates due, then:

* floor: ``ansible masters:workers -m ping`` (median of ``--repeat``);
* report: ``renew-certs.yml -e renew_certs_action=report`` (median of ``--repeat``);
* renewal: ``renew-certs.yml`` once, with ``ansible.posix.profile_tasks``; the time spent in
  health waits (tasks named "Wait ..." and the load balancer's drain pause) is reported
  apart, since no connection setting can shorten them, and the rest is compared with the
  floor.

The results are merged into ``--results`` (JSON, one entry per size, so the sizes can be run
by separate commands, each under the lab lock), and ``--plot`` draws time and ratio per size
when matplotlib is installed (``make bench`` installs requirements-bench.txt). There is no
pass/fail on time. The lab is shared and restarted by this bench: run it under the lock.

    flock /tmp/ackops-lab.lock .venv/bin/python bench/bench_fleet.py --sizes 5,10,20
    .venv/bin/python bench/bench_fleet.py --sizes '' --plot build/bench/fleet.png  # plot only
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

WAIT_TASK = re.compile(r"(^|: )(Wait |Give the load balancer time)")
PROFILE_LINE = re.compile(r"^(?P<task>.+?) -+ (?P<seconds>\d+(\.\d+)?)s$")


def timed(argv: list[str], what: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Seconds ``argv`` took and its stdout; raises with its output when it fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        argv,
        cwd=REPO,
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


def measure(size: int, repeat: int, forks: int) -> dict:
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
    common = ["-i", str(INVENTORY), "--forks", str(forks)]
    floor_argv = [str(BIN / "ansible"), "masters:workers", *common, "-m", "ansible.builtin.ping"]
    timed(floor_argv, "ansible -m ping")  # warms the SSH control sockets for every side alike
    profiled = {
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
        "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
    }
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as reports:
        playbook = [
            str(BIN / "ansible-playbook"),
            *common,
            "renew-certs.yml",
            "-e",
            f"renew_certs_report_dir={reports}",
        ]
        floors, report_runs = [], []
        for _ in range(repeat):  # interleaved, so a burst of load hits both sides alike
            floors.append(timed(floor_argv, "ansible -m ping")[0])
            report_runs.append(
                timed([*playbook, "-e", "renew_certs_action=report"], "the report")[0]
            )
        _, report_out = timed(
            [*playbook, "-e", "renew_certs_action=report"], "the report, profiled", profiled
        )
        renewal, renewal_out = timed(playbook, "the renewal", profiled)
        renewed = json.loads(Path(reports, "renew-certs.json").read_text())["summary"]
    floor = statistics.median(floors)
    report = statistics.median(report_runs)
    renewal_tasks = profile(renewal_out)
    waits = sum(seconds for task, seconds in renewal_tasks if WAIT_TASK.search(task))
    return {
        "hosts": hosts["masters"] + hosts["workers"],
        "masters": hosts["masters"],
        "workers": hosts["workers"],
        "forks": forks,
        "repeat": repeat,
        "floor_s": round(floor, 2),
        "report_s": round(report, 2),
        "report_ratio": round(report / floor, 2),
        "renewal_s": round(renewal, 2),
        "renewal_health_waits_s": round(waits, 2),
        "renewal_beyond_waits_ratio": round((renewal - waits) / floor, 2),
        "renewal_summary": renewed,
        "report_profile_top": profile(report_out)[:8],
        "renewal_profile_top": renewal_tasks[:8],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


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
    hosts = [row["hosts"] for row in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=100)
    left.plot(hosts, [row["floor_s"] for row in rows], "o-", label="SSH floor (ping)")
    left.plot(hosts, [row["report_s"] for row in rows], "o-", label="certificate report")
    left.plot(
        hosts,
        [row["renewal_s"] - row["renewal_health_waits_s"] for row in rows],
        "o-",
        label="renewal without health waits",
    )
    left.set_xlabel("hosts")
    left.set_ylabel("seconds")
    left.legend(fontsize=7)
    right.plot(hosts, [row["report_ratio"] for row in rows], "o-", label="report / floor")
    right.plot(
        hosts,
        [row["renewal_beyond_waits_ratio"] for row in rows],
        "o-",
        label="renewal beyond waits / floor",
    )
    right.axhline(1.3, linestyle=":", color="grey", label="report goal 1.3")
    right.axhline(2.0, linestyle="--", color="grey", label="renewal goal 2")
    right.set_xlabel("hosts")
    right.set_ylabel("ratio to the floor")
    right.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return f"plot: {path}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="5,10,20,50,100", help="hosts per point, comma separated"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--forks", type=int, default=20, help="forks for every side (ansible.cfg: 20)"
    )
    parser.add_argument("--results", type=Path, default=REPO / "build" / "bench" / "fleet.json")
    parser.add_argument("--plot", type=Path, default=REPO / "build" / "bench" / "fleet.png")
    args = parser.parse_args()
    try:
        sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    except ValueError:
        print(f"bench_fleet: --sizes {args.sizes!r}: give numbers such as 5,10,20", file=sys.stderr)
        return 2
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    try:
        for size in sizes:
            results[str(size)] = measure(size, args.repeat, args.forks)
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(results, indent=2) + "\n")
    except BenchError as exc:
        print(f"bench_fleet: {exc}", file=sys.stderr)
        return 2
    print(
        f"{'hosts':>5} {'floor s':>8} {'report s':>9} {'ratio':>6} {'renewal s':>10} "
        f"{'waits s':>8} {'beyond/floor':>12}"
    )
    for row in sorted(results.values(), key=lambda row: row["hosts"]):
        print(
            f"{row['hosts']:>5} {row['floor_s']:>8.2f} {row['report_s']:>9.2f} "
            f"{row['report_ratio']:>6.2f} {row['renewal_s']:>10.2f} "
            f"{row['renewal_health_waits_s']:>8.2f} {row['renewal_beyond_waits_ratio']:>12.2f}"
        )
    for row in sorted(results.values(), key=lambda row: row["hosts"])[-1:]:
        print(f"where the report's time goes at {row['hosts']} hosts (profile_tasks):")
        for task, seconds in row["report_profile_top"]:
            print(f"  {seconds:7.2f} s  {task}")
    print(f"results: {args.results}")
    print(plot(results, args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
