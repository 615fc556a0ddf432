"""Storage input helpers: sizes as the disk driver rounds them, zone ids of a region."""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.model import zone_in_region
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import Size
from tests.catalogue import record


@pytest.mark.parametrize(
    ("value", "quantity", "gib"),
    [
        (20, "20Gi", 20),
        ("20", "20Gi", 20),
        ("40Gi", "40Gi", 40),
        ("1Ti", "1Ti", 1024),
        ("500Mi", "500Mi", 1),
        # 100 G is 93.13 GiB: the disk driver rounds a request up to whole GiB.
        ("100G", "100G", 94),
        ("2048Ki", "2048Ki", 1),
    ],
)
def test_sizes(value, quantity, gib):
    size = Size.parse(value)
    assert (size.quantity, size.gib) == (quantity, gib)


@pytest.mark.parametrize(
    "value", [0, -5, "0Gi", "20GB", "20.5Gi", "1e3", "", True, None, 1.5, "Gi"]
)
def test_bad_sizes(value):
    with pytest.raises(ValueError, match=r"not a size|greater than zero") as info:
        Size.parse(value)
    record("provision-storage", "storage description", {"size": value}, str(info.value),
           "Size.parse raised ValueError: no size returned")  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "region", "inside"),
    [
        ("cn-hangzhou-h", "cn-hangzhou", True),
        ("ap-southeast-1a", "ap-southeast-1", True),
        ("cn-shanghai-finance-1z", "cn-shanghai-finance-1", True),
        ("cn-beijing-a", "cn-hangzhou", False),
        ("cn-hangzhou", "cn-hangzhou", False),
        ("cn-hangzhou-finance-a", "cn-hangzhou", False),
        ("cn-hangzhou-hh-x", "cn-hangzhou", False),
    ],
)
def test_zone_in_region(zone, region, inside):
    assert zone_in_region(zone, region) is inside
