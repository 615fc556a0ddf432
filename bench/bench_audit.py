#!/usr/bin/env python3
"""Audit 10,000 generated objects from manifest files and print time and peak
memory, once with PyYAML's libyaml C loader and once with the pure-Python one.

    .venv/bin/python bench/bench_audit.py [--objects 10000] [--per-file 10]

A measurement, not a test: nothing passes or fails on time. Peak memory is
Python's (tracemalloc); it should stay flat as the number of files grows,
because files are read one at a time and only cross-object data is kept.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (  # noqa: E402
    Auditor,
    findings,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_sources import (  # noqa: E402
    ManifestReader,
)

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n}
  namespace: ns-{ns}
  labels: {{app: app-{n}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: app-{n}}}
  template:
    metadata:
      labels: {{app: app-{n}}}
    spec:
      securityContext: {{runAsNonRoot: true, runAsUser: 10001}}
      containers:
        - name: app
          image: registry.example.com/team/app-{n}:{tag}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
          readinessProbe:
            httpGet: {{path: /ready, port: 8080}}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {{name: app-{n}, namespace: ns-{ns}}}
spec:
  selector: {{app: app-{n}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def generate(directory: Path, objects: int, per_file: int) -> int:
    """Write ``objects`` objects (Deployment + Service pairs), ``per_file`` per file."""
    pairs = objects // 2
    files = 0
    for start in range(0, pairs, per_file // 2 or 1):
        text = "---\n".join(
            DEPLOYMENT.format(
                n=n, ns=n % 50, replicas=1 + n % 4, tag="latest" if n % 7 == 0 else "1.2.3"
            )
            for n in range(start, min(pairs, start + (per_file // 2 or 1)))
        )
        (directory / f"part-{files:05d}.yaml").write_text(text)
        files += 1
    return files


def run_audit(directory: Path, prefer_c: bool) -> dict:
    reader = ManifestReader(str(directory), prefer_c_loader=prefer_c)
    auditor = Auditor()
    for obj, source in reader:
        auditor.add(obj, source)
    done = auditor.finish()
    return {
        "loader": reader.loader.__name__,
        "audited": done["counts"]["audited"],
        "findings": len(findings(done["results"])),
    }


def measure(directory: Path, prefer_c: bool) -> dict:
    """Time an untraced run (tracemalloc slows Python several times), then take
    the peak memory of a second, traced run."""
    began = time.perf_counter()
    row = run_audit(directory, prefer_c)
    row["seconds"] = time.perf_counter() - began
    tracemalloc.start()
    run_audit(directory, prefer_c)
    row["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        directory = Path(tmp)
        files = generate(directory, args.objects, args.per_file)
        print(f"{args.objects} objects in {files} files")
        print(f"{'loader':<14} {'seconds':>8} {'peak MiB':>9} {'audited':>8} {'findings':>9}")
        rows = []
        for prefer_c in (True, False):
            row = measure(directory, prefer_c)
            rows.append(row)
            print(
                f"{row['loader']:<14} {row['seconds']:>8.2f} {row['peak_mib']:>9.1f} "
                f"{row['audited']:>8} {row['findings']:>9}"
            )
        # The same objects in ten times as many files: peak memory should not move.
        with tempfile.TemporaryDirectory(prefix="bench-audit-many-") as many:
            many_files = generate(Path(many), args.objects, max(2, args.per_file // 10))
            row = measure(Path(many), True)
            print(
                f"{row['loader']:<14} {row['seconds']:>8.2f} {row['peak_mib']:>9.1f} "
                f"{row['audited']:>8} {row['findings']:>9}   ({many_files} files)"
            )
        if rows[0]["loader"] == rows[1]["loader"]:
            print("PyYAML has no libyaml here: both runs used the pure-Python loader")
        else:
            print(f"C loader speed-up: {rows[1]['seconds'] / rows[0]['seconds']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
