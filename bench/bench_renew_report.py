#!/usr/bin/env python3
"""Fleet-wide certificate report versus the SSH floor and a naive runbook, in one run.

On the lab, side by side and with the same inventory and forks, runs each of:

* the report: ``ansible-playbook renew-certs.yml -e renew_certs_action=report``
  (one inventory task per host, the fleet-wide report on the controller);
* the floor: ``ansible masters:workers -m ping`` (the same hosts; what any run over
  SSH costs at least);
* the naive runbook a person writes from the guide: ``bench/naive-cert-report.yml``,
  one ``openssl x509 -enddate`` task per certificate file or kubeconfig.

Each is run ``--repeat`` times (3); the medians and the ratios report/floor
and report/naive are printed. No pass/fail on time. The lab is shared: run it
under the lab lock, which it does not take itself.

    flock /tmp/ackops-lab.lock .venv/bin/python bench/bench_renew_report.py [--size small|ha] [--workers N]

With ``--size`` or ``--workers`` it brings the lab up in that shape first;
otherwise it uses the lab as it is and stops when the lab is not up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
INVENTORY = REPO / "inventories" / "lab" / "hosts.yml"
NAIVE = REPO / "bench" / "naive-cert-report.yml"


class BenchError(RuntimeError):
    """The bench cannot run; the message says what to do."""


def run(argv: list[str], what: str) -> float:
    """Seconds ``argv`` took; raises with its output when it fails."""
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(
            f"{what} failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        )
    return elapsed


def lab_up(size: str, workers: int | None) -> None:
    argv = [str(REPO / "lab" / "lab"), "up", "--size", size]
    if workers is not None:
        argv += ["--workers", str(workers)]
    run(argv, "lab up")


def host_counts() -> dict[str, int]:
    if not INVENTORY.exists():
        raise BenchError(
            f"the lab is not up ({INVENTORY.relative_to(REPO)} is missing): "
            "start it with `flock /tmp/ackops-lab.lock lab/lab up --size small`, "
            "or pass --size/--workers"
        )
    proc = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(INVENTORY), "--list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    groups = json.loads(proc.stdout)
    return {group: len(groups.get(group, {}).get("hosts", [])) for group in ("masters", "workers")}


def median_of(argv: list[str], what: str, repeat: int) -> float:
    return statistics.median(run(argv, what) for _ in range(repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", choices=("small", "ha"), help="bring the lab up in this size first"
    )
    parser.add_argument("--workers", type=int, help="bring the lab up with this many workers first")
    parser.add_argument(
        "--forks", type=int, default=20, help="forks for all three (ansible.cfg: 20)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is kept")
    args = parser.parse_args()

    try:
        if args.size or args.workers is not None:
            lab_up(args.size or "small", args.workers)
        hosts = host_counts()
        common = ["-i", str(INVENTORY), "--forks", str(args.forks)]
        floor_argv = [
            str(BIN / "ansible"),
            "masters:workers",
            *common,
            "-m",
            "ansible.builtin.ping",
        ]
        # The floor first: it also proves the lab answers before anything is timed.
        try:
            run(floor_argv, "ansible -m ping")
        except BenchError as exc:
            raise BenchError(
                f"the lab's hosts do not answer over SSH; is the lab up?\n{exc}"
            ) from exc
        with tempfile.TemporaryDirectory(prefix="bench-renew-report-") as reports:
            report_argv = [
                str(BIN / "ansible-playbook"),
                *common,
                "renew-certs.yml",
                "-e",
                "renew_certs_action=report",
                "-e",
                f"renew_certs_report_dir={reports}",
            ]
            naive_argv = [str(BIN / "ansible-playbook"), *common, str(NAIVE)]
            report = median_of(report_argv, "renew-certs.yml report", args.repeat)
            floor = median_of(floor_argv, "ansible -m ping", args.repeat)
            naive = median_of(naive_argv, "naive openssl runbook", args.repeat)
            certificates = json.loads(Path(reports, "renew-certs.json").read_text())["summary"][
                "total"
            ]
    except BenchError as exc:
        print(f"bench_renew_report: {exc}", file=sys.stderr)
        return 2

    print(
        f"hosts: {hosts['masters']} masters, {hosts['workers']} workers; forks {args.forks}; "
        f"median of {args.repeat} runs each"
    )
    print(f"certificates in the report: {certificates}")
    print(
        f"report: {report:.2f} s   ssh floor (ping): {floor:.2f} s   naive openssl runbook: {naive:.2f} s"
    )
    print(f"ratio report / floor: {report / floor:.2f}")
    print(
        f"ratio report / naive: {report / naive:.2f} "
        f"(the naive runbook takes {naive / report:.1f} times as long)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
