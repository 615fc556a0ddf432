#!/usr/bin/env python3
"""Compose conversion of a 1,000-service stack: the converter versus a plain per-service loop.

Generates a Swarm stack of N services (anchors, interpolation, ports, expose,
healthchecks, resources, constraints, depends_on, configs, secrets, named
volumes) plus an override file, then times in the same run:

- the converter (ackops.runbooks swarm: read both files as Compose does,
  interpolate, merge, convert every key, build the report);
- a plain conversion a person would write first: the main file parsed (with
  the same libyaml parser) and, per service, a Deployment (image, replicas, env, command) and a
  ClusterIP Service from the ports - no override file, no interpolation, no
  report.

Prints both times and the ratio converter / plain. No pass/fail on time (the
suite never runs this).

    .venv/bin/python bench/bench_compose.py [--services 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "collections"))

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    ConvertOptions,
    convert_compose,
)

HEADER = """\
version: "3.8"
x-service: &service
  networks: [mesh]
  environment: &env
    REGION: "${REGION:-cn-hangzhou}"
    LOG_FORMAT: json
  healthcheck:
    test: ["CMD", "/bin/health"]
    interval: 10s
    start_period: 20s
  deploy: &deploy
    replicas: 2
    resources:
      limits: {cpus: "0.5", memory: 256M}
      reservations: {cpus: "0.1", memory: 64M}
    update_config: {parallelism: 1, order: start-first}
    placement:
      constraints: ["node.labels.pool == general"]
services:
"""


def stack(services: int) -> tuple[str, str]:
    lines = [HEADER]
    override = ["services:"]
    for i in range(services):
        name = f"svc{i:04d}"
        lines += [f"  {name}:", "    <<: *service", f"    image: corp/{name}:${{TAG:-1.{i}}}",
                  f"    command: [serve, --port, '{8000 + i % 1000}']",
                  f"    expose: ['{8000 + i % 1000}']"]  # fmt: skip
        if i % 10 == 0:
            lines += ["    ports:", f"      - '{30000 + i % 2000}:{8000 + i % 1000}'"]
        if i % 7 == 0 and i:
            lines += ["    depends_on:", f"      svc{i - 1:04d}: {{condition: service_healthy}}"]
        if i % 25 == 0:
            lines += ["    configs: [app_conf]", "    secrets: [app_secret]",
                      f"    volumes: ['data{i}:/data']"]  # fmt: skip
        if i % 3 == 0:
            override += [f"  {name}:", "    deploy:", f"      replicas: {1 + i % 4}"]
    lines += ["networks:", "  mesh: {driver: overlay}", "configs:", "  app_conf: {content: 'a=b'}",
              "secrets:", "  app_secret: {environment: APP_SECRET}", "volumes:"]  # fmt: skip
    lines += [f"  data{i}: {{}}" for i in range(0, services, 25)]
    return "\n".join(lines) + "\n", "\n".join(override) + "\n"


def plain(path: Path) -> list[dict]:
    """The first conversion anyone writes: one Deployment and maybe one Service per service."""
    # The same libyaml parser the converter uses, so the ratio is about the conversion.
    data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    objects = []
    for name, spec in data["services"].items():
        labels = {"app": name}
        container = {"name": name, "image": spec["image"]}
        if spec.get("command"):
            container["args"] = [str(a) for a in spec["command"]]
        if spec.get("environment"):
            container["env"] = [
                {"name": k, "value": str(v)} for k, v in spec["environment"].items()
            ]
        objects.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                        "spec": {"replicas": (spec.get("deploy") or {}).get("replicas", 1),
                                 "selector": {"matchLabels": labels},
                                 "template": {"metadata": {"labels": labels},
                                              "spec": {"containers": [container]}}}})  # fmt: skip
        ports = [int(str(p).rsplit(":", 1)[-1]) for p in spec.get("ports") or []]
        if ports:
            objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                            "spec": {"selector": labels,
                                     "ports": [{"port": p, "targetPort": p} for p in ports]}})  # fmt: skip
    return objects


def best_of(repeat: int, func) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main_text, override_text = stack(args.services)
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory) / "compose.yml"
        override = Path(directory) / "compose.override.yml"
        base.write_text(main_text)
        override.write_text(override_text)
        files = [str(base), str(override)]
        options = ConvertOptions(namespace="bench", network_policies=True)
        variables = {"APP_SECRET": "bench-secret"}
        converter_time, conversion = best_of(
            args.repeat, lambda: convert_compose(files, options, variables=variables)
        )
        plain_time, plain_objects = best_of(args.repeat, lambda: plain(base))
    summary = conversion.report["summary"]
    print(f"services: {args.services} (best of {args.repeat})")
    print(f"converter: {converter_time:.3f}s, {len(conversion.objects)} objects, "
          f"{summary['converted'] + summary['converted_with_loss'] + summary['not_convertible']} "
          f"report entries")  # fmt: skip
    print(f"plain per-service conversion: {plain_time:.3f}s, {len(plain_objects)} objects")
    print(f"ratio converter / plain: {converter_time / plain_time:.1f}")


if __name__ == "__main__":
    main()
