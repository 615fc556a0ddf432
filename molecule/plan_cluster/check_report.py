"""Check plan-cluster's written report with Python's ipaddress, not the planner's own code.

    check_report.py <report dir>

Exits non-zero naming the first thing wrong: a vSwitch outside the VPC, two
vSwitches overlapping, a pod vSwitch smaller than its zone's pods, an export
naming a CIDR the report does not hold.
"""

import ipaddress
import itertools
import json
import math
import sys
from pathlib import Path

RESERVED_PER_VSWITCH = 4  # Alibaba Cloud keeps 4 addresses of every vSwitch


def main(directory: Path) -> None:
    report = json.loads((directory / "plan-cluster.json").read_text())
    tfvars = json.loads((directory / "plan-cluster.auto.tfvars.json").read_text())
    vpc = ipaddress.ip_network("192.168.0.0/16")
    vswitches = [ipaddress.ip_network("192.168.0.0/24")]
    for zone in report["network"]["zones"]:
        for kind in ("node", "pod"):
            sizing = zone.get(f"{kind}_vswitch")
            if not sizing:
                continue
            cidr = ipaddress.ip_network(sizing["cidr"])
            wanted = zone["nodes"] if kind == "node" else math.ceil(zone["nodes"] * 64 * 1.2)
            assert sizing["needed"] == wanted, (zone["zone"], kind, sizing, wanted)
            assert cidr.num_addresses - RESERVED_PER_VSWITCH >= wanted, (zone["zone"], kind, cidr)
            assert cidr.subnet_of(vpc), cidr
            vswitches.append(cidr)
    for first, second in itertools.combinations(vswitches, 2):
        assert not first.overlaps(second), f"{first} overlaps {second}"
    terway = tfvars["ack_clusters"]["ack-terway"]
    exported = {ipaddress.ip_network(v["cidr_block"]) for v in terway["pod_vswitches"]}
    assert exported <= set(vswitches), exported
    proposals = report["proposals"]
    used = (
        vswitches
        + [vpc]
        + [
            ipaddress.ip_network(c)
            for c in ("172.20.0.0/16", "172.21.0.0/20", "172.22.0.0/20", "10.0.0.0/13")
        ]
    )
    for cidr in (ipaddress.ip_network(c) for key in proposals for c in proposals[key]):
        assert not any(cidr.version == u.version and cidr.overlaps(u) for u in used), cidr
    print(
        f"report in {directory} checked: {len(vswitches)} vSwitches, {len(proposals)} kinds of proposals"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
