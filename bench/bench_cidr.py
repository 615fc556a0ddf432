#!/usr/bin/env python3
"""CIDR conflict check on 10,000 routes: sort-and-sweep versus all pairs, in one run.

Builds an ACK-shaped plan (one VPC, 32 vSwitches, 16 clusters) with 10,000
routes to peered VPCs and the IDC (a share of them IPv6, see --ipv6-share),
some of them landing on pod and service CIDRs. Times ackops.runbooks' sweep
(cidr_plan.overlapping_conflicts) and the straightforward check a person
would write first (every pair of blocks, overlap by integer bounds, the same
conflict rules), checks they find the same conflicts, and prints the ratio.
No pass/fail on time.

    .venv/bin/python bench/bench_cidr.py [--routes 10000] [--seed 1] [--ipv6-share 0.2]
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "collections"))

from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    conflict_between,
    overlapping_conflicts,
    plan_blocks,
)


def ack_plan(routes: int, seed: int, ipv6_share: float = 0.0) -> dict:
    rng = random.Random(seed)
    clusters = [
        {"name": f"c{i}", "pod_cidr": f"172.{16 + i}.0.0/16", "service_cidr": "172.15.0.0/20"}
        for i in range(16)
    ]
    table = set()
    while len(table) < routes:
        if rng.random() < ipv6_share:  # IPv6 routes, a few of them link-local
            if rng.random() < 0.002:
                net = ipaddress.ip_network(f"fe80:{rng.getrandbits(16):x}::/32")
            else:
                prefix = rng.choice((48, 56, 64, 64))
                address = (0xFD << 120) | (rng.getrandbits(56) << 64)
                net = ipaddress.ip_network(
                    f"{ipaddress.IPv6Address(address)}/{prefix}", strict=False
                )
        elif rng.random() < 0.002:  # a few routes collide with pod CIDRs
            net = ipaddress.ip_network(f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.0/24")
        else:
            prefix = rng.choice((16, 20, 22, 24, 24, 24, 26, 28))
            address = (10 << 24) | rng.getrandbits(24)
            net = ipaddress.ip_network(f"{ipaddress.IPv4Address(address)}/{prefix}", strict=False)
        table.add(net.with_prefixlen)
    ordered = sorted(table)
    rng.shuffle(ordered)
    half = routes // 2
    return {
        "vpc_cidr": "192.168.0.0/16",
        "vswitches": [f"192.168.{i * 8}.0/21" for i in range(32)],
        "clusters": clusters,
        "peer_routes": [{"name": f"peer-{i}", "cidr": c} for i, c in enumerate(ordered[:half])],
        "idc_routes": [{"name": f"idc-{i}", "cidr": c} for i, c in enumerate(ordered[half:])],
    }


def pairwise_conflicts(blocks):
    """The first version anyone writes: compare every block with every other."""
    found = []
    for a, b in itertools.combinations(blocks, 2):
        if a.first <= b.last and b.first <= a.last:
            conflict = conflict_between(a, b)
            if conflict is not None:
                found.append(conflict)
    return found


def timed(func, *args, repeat: int = 1):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def key(conflict):
    return conflict["type"], conflict["first"]["field"], conflict["second"]["field"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--ipv6-share", type=float, default=0.2, help="share of IPv6 routes (default 0.2)"
    )
    args = parser.parse_args()

    _, blocks = plan_blocks(ack_plan(args.routes, args.seed, args.ipv6_share))
    sweep_time, sweep = timed(overlapping_conflicts, blocks, repeat=5)
    pairs_time, pairs = timed(pairwise_conflicts, blocks)
    same = sorted(map(key, sweep)) == sorted(map(key, pairs))

    print(
        f"blocks checked: {len(blocks)} ({args.routes} routes), "
        f"pairs compared by the pairwise check: {len(blocks) * (len(blocks) - 1) // 2}"
    )
    print(f"conflicts found: sweep {len(sweep)}, pairwise {len(pairs)}, identical: {same}")
    print(f"sort-and-sweep: {sweep_time * 1000:.1f} ms   pairwise: {pairs_time * 1000:.0f} ms")
    print(
        f"ratio pairwise / sweep: {pairs_time / sweep_time:.0f} (the sweep is that many times faster)"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
