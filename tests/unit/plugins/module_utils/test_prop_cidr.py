"""Property tests of the CIDR planning against the standard library's ``ipaddress``.

The oracle never uses the planner's own Block/conflict_between: two networks overlap
when ``ipaddress`` says so, and a free block is one that overlaps nothing used.
"""

from __future__ import annotations

import ipaddress
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import (
    InputError,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.planning.cidr_plan import (
    block,
    free_cidrs,
    overlapping_conflicts,
)

# bench/mutation.py runs fewer examples per mutant (ACKOPS_HYPOTHESIS_EXAMPLES).
EXAMPLES = int(os.environ.get("ACKOPS_HYPOTHESIS_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=EXAMPLES or 150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def v4_network(draw, base="10.0.0.0/16", shortest=16, longest=32):
    """A network inside ``base``, /16 to /32 (so /29-/32 blocks are frequent)."""
    space = ipaddress.ip_network(base)
    prefix = draw(st.integers(max(shortest, space.prefixlen), longest))
    offset = draw(st.integers(0, 2 ** (prefix - space.prefixlen) - 1))
    size = 2 ** (32 - prefix)
    return ipaddress.ip_network(f"{space.network_address + offset * size}/{prefix}")


@st.composite
def v6_network(draw):
    prefix = draw(st.integers(112, 128))
    offset = draw(st.integers(0, 2 ** (prefix - 112) - 1))
    return ipaddress.ip_network(
        f"{ipaddress.ip_address('fd00::') + offset * 2 ** (128 - prefix)}/{prefix}"
    )


networks = st.lists(st.one_of(v4_network(), v4_network(), v6_network()), min_size=0, max_size=12)


def _pairs(conflicts):
    return Counter(frozenset((c["first"]["name"], c["second"]["name"])) for c in conflicts)


@SETTINGS
@given(networks)
def test_sweep_reports_exactly_the_pairs_ipaddress_says_overlap(nets):
    # Pod CIDRs of different clusters must never overlap: every overlapping pair is a conflict.
    names = [f"c{i}" for i in range(len(nets))]
    blocks = [
        block("pod", n, "pod_cidr", str(net), cluster=n) for n, net in zip(names, nets, strict=True)
    ]
    expected = Counter(
        frozenset((names[i], names[j]))
        for i in range(len(nets))
        for j in range(i + 1, len(nets))
        if nets[i].version == nets[j].version and nets[i].overlaps(nets[j])
    )
    assert _pairs(overlapping_conflicts(blocks)) == expected


@pytest.mark.parametrize(
    ("big", "small"),
    [
        ("10.0.0.0/24", "10.0.0.255/32"),  # the container's last address is the small one
        ("10.0.0.0/24", "10.0.0.0/32"),
        ("10.0.0.0/24", "10.0.0.248/29"),
        ("fd00::/120", "fd00::ff/128"),
    ],
)
def test_a_block_at_the_very_end_of_another_is_found(big, small):
    assert ipaddress.ip_network(big).overlaps(ipaddress.ip_network(small))  # the oracle agrees
    blocks = [
        block("pod", "a", "pod_cidr", big, cluster="a"),
        block("pod", "b", "pod_cidr", small, cluster="b"),
        block(
            "pod",
            "c",
            "pod_cidr",
            "10.0.1.0/32" if ":" not in big else "fd00::100/128",
            cluster="c",
        ),
    ]
    assert _pairs(overlapping_conflicts(blocks)) == Counter([frozenset(("a", "b"))])


def _brute_force(used, prefix, count, spaces):
    """The first ``count`` aligned /prefix blocks, space by space, overlapping nothing used
    (nor a block already found, when search spaces overlap)."""
    found = []
    for space in spaces:
        if space.prefixlen > prefix:
            continue
        for candidate in space.subnets(new_prefix=prefix):
            if len(found) == count:
                return found
            taken = [u for u in used if u.version == candidate.version] + found
            if any(candidate.overlaps(u) for u in taken):
                continue
            found.append(candidate)
    return found


@st.composite
def free_request(draw):
    # Search spaces may overlap or repeat (10.1.0.0/22 inside 10.0.0.0/15).
    chosen = draw(st.lists(st.sampled_from(range(8)), min_size=1, max_size=3))
    spaces = [
        ipaddress.ip_network("10.0.0.0/21" if i == 7 else f"10.0.{4 * i}.0/22") for i in chosen
    ]
    prefix = draw(st.integers(22, 32))
    used = draw(
        st.lists(st.one_of(*(v4_network(str(s), 22, 32) for s in spaces), v6_network()), max_size=8)
    )
    count = draw(st.integers(1, 5))
    return used, prefix, count, spaces


@SETTINGS
@given(free_request())
def test_free_cidrs_are_the_first_free_aligned_blocks_and_overlap_nothing(request_):
    used, prefix, count, spaces = request_
    expected = _brute_force(used, prefix, count, spaces)
    try:
        found = free_cidrs([str(u) for u in used], prefix, count, [str(s) for s in spaces])
    except InputError:
        assert len(expected) < count
        return
    nets = [ipaddress.ip_network(f) for f in found]  # strict: aligned, or this raises
    assert nets == expected
    for i, net in enumerate(nets):
        assert net.prefixlen == prefix
        assert any(net.subnet_of(s) for s in spaces)
        assert not any(net.overlaps(u) for u in used if u.version == 4)
        assert not any(net.overlaps(other) for other in nets[i + 1 :])


def test_overlapping_search_spaces_never_propose_one_block_twice():
    # Found by this file's first version; fixed in d546884.
    found = free_cidrs([], 24, 2, ["10.0.0.0/24", "10.0.0.0/16"])
    assert found == ["10.0.0.0/24", "10.0.1.0/24"]
