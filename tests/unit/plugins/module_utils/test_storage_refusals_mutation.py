"""Storage refusals word for word: each message is the one docs/bad-inputs.md publishes.

The refusal tests check fragments of each message; a changed word elsewhere in it (a
mutated "allowed" list, a dropped clause) still passes them. The catalogue is the
published text every refusal gets: a message that drifts from it fails here until the
catalogue is regenerated (`make catalogue`) and the change is seen in review.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.migrate import (
    plan_flex_migration,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.plan import build_plan
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    Size,
    StorageInputError,
)
from tests.catalogue import cell, table_rows
from tests.unit.plugins.module_utils import test_storage_migrate, test_storage_schema
from tests.unit.plugins.module_utils.test_storage_refusals import REFUSALS

DOC = Path(__file__).resolve().parents[4] / "docs" / "bad-inputs.md"
TEST_ID = re.compile(r"`(test_storage_\w+\.py)::(\w+)\[(.*)\]`")


def published() -> dict[tuple[str, str], str]:
    """(test file, parameter id) -> the message cell of that row."""
    rows = {}
    for row in table_rows(DOC.read_text()):
        match = TEST_ID.search(row[-1])
        if match:
            rows[match.group(1), match.group(3)] = row[3]
    return rows


PUBLISHED = published()


def shown(message: str) -> str:
    return cell(message, 600)


def test_the_catalogue_lists_every_refusal_of_build_plan():
    listed = {param for (test, param) in PUBLISHED if test == "test_storage_refusals.py"}
    assert listed == {r[0] for r in REFUSALS}


@pytest.mark.parametrize(
    ("param", "params"), [r[:2] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_each_refusal_says_exactly_what_the_catalogue_publishes(param, params):
    with pytest.raises(StorageInputError) as info:
        build_plan(params)
    assert shown(str(info.value)) == PUBLISHED["test_storage_refusals.py", param]


def inputs_of(test) -> list:
    """The parameter values a refusal test runs with (the catalogue recorded them)."""
    (mark,) = [m for m in test.pytestmark if m.name == "parametrize"]
    return list(mark.args[1])


@pytest.mark.parametrize("value", inputs_of(test_storage_schema.test_bad_sizes), ids=str)
def test_each_bad_size_says_exactly_what_the_catalogue_publishes(value):
    with pytest.raises(ValueError, match=r"size|zero") as info:
        Size.parse(value)
    assert shown(str(info.value)) == PUBLISHED["test_storage_schema.py", str(value)]


@pytest.mark.parametrize(
    ("cluster", "options", "field"), inputs_of(test_storage_migrate.test_bad_inputs_are_refused)
)
def test_each_migration_refusal_says_exactly_what_the_catalogue_publishes(cluster, options, field):
    rows = {
        param.rsplit("-", 1)[-1]: message
        for (test, param), message in PUBLISHED.items()
        if test == "test_storage_migrate.py"
    }
    with pytest.raises(StorageInputError) as info:
        plan_flex_migration(cluster, options)
    assert shown(str(info.value)) == rows[field]
