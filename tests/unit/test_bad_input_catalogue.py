"""The bad-input catalogue (tests/catalogue.py) and the document it generates, docs/bad-inputs.md.

The recorder must stay silent without ACKOPS_CATALOGUE, keep per-run scratch paths out of
the table, and the renderer must refuse a traceback or too few rows. The committed document
must hold at least 100 distinct bad inputs, none answered by a traceback, each from a test
that still exists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests import catalogue

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "bad-inputs.md"


def rows_in(directory: Path) -> list[dict]:
    return catalogue.load(directory)


def test_nothing_is_recorded_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(catalogue.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    catalogue.record("r", "variable", {"a": 1}, "a: must be a string")
    assert list(tmp_path.iterdir()) == []


def test_a_row_is_recorded_with_its_test_and_without_scratch_paths(tmp_path, monkeypatch):
    out = tmp_path / "rows"
    monkeypatch.setenv(catalogue.ENV, str(out))
    scratch = "/tmp/pytest-of-root/pytest-7/test_x0/bad.yaml"
    catalogue.record("audit-workloads", "manifest", "kind: 3\nmetadata: {}\n",
                     f"{scratch}#1: kind is a number", "nothing written")  # fmt: skip
    (row,) = rows_in(out)
    assert row["input"] == "kind: 3 ↵ metadata: {}"
    assert row["message"] == "<tmp>/bad.yaml#1: kind is a number"
    assert row["unchanged"] == "nothing written"
    assert row["test"].endswith("::test_a_row_is_recorded_with_its_test_and_without_scratch_paths")


def test_a_kind_outside_the_list_or_an_empty_message_is_a_mistake_in_the_test():
    with pytest.raises(ValueError, match="kind"):
        catalogue.record("r", "vibes", "x", "message")
    with pytest.raises(ValueError, match="message"):
        catalogue.record("r", "variable", "x", "  ")


def fake_rows(directory: Path, count: int, message: str = "x: must be an integer") -> None:
    directory.mkdir()
    lines = [
        json.dumps({"runbook": "r", "kind": "variable", "input": f"{{'x': {i}}}",
                    "message": message, "unchanged": None, "test": "t.py::test"})
        for i in range(count)
    ]  # fmt: skip
    (directory / "1.jsonl").write_text("\n".join(lines) + "\n")


def test_rendering_refuses_a_traceback_and_writes_nothing(tmp_path, capsys):
    fake_rows(tmp_path / "rows", 120, "Traceback (most recent call last): ...")
    output = tmp_path / "bad-inputs.md"
    assert catalogue.main([str(tmp_path / "rows"), str(output)]) == 1
    assert "answered by a traceback" in capsys.readouterr().err
    assert not output.exists()


def test_rendering_refuses_fewer_than_the_minimum(tmp_path, capsys):
    fake_rows(tmp_path / "rows", 99)
    output = tmp_path / "bad-inputs.md"
    assert catalogue.main([str(tmp_path / "rows"), str(output)]) == 1
    assert "99 distinct bad inputs recorded, fewer than 100" in capsys.readouterr().err
    assert not output.exists()


def test_the_same_input_twice_is_one_row(tmp_path):
    fake_rows(tmp_path / "rows", 100)
    text = (tmp_path / "rows" / "1.jsonl").read_text()
    (tmp_path / "rows" / "2.jsonl").write_text(text)
    output = tmp_path / "bad-inputs.md"
    assert catalogue.main([str(tmp_path / "rows"), str(output)]) == 0
    rows = catalogue.table_rows(output.read_text())
    assert len(rows) == 100
    assert rows[0][4] == f"— {catalogue.NOT_CHECKED}"  # no proof claimed for it


@pytest.mark.parametrize(
    ("unchanged", "kind"),
    [
        (None, "none"),
        ("build_plan raised StorageInputError: no plan returned", "pure"),
        ("the filter raised AnsibleError: no value returned", "pure"),
        ("module result changed=false", "claimed"),
        ("changed is false", "claimed"),
        ("no file under <tmp> written; recap: no host contacted", "observed"),
        ("lab nodes, pvc compared before and after: identical", "observed"),
        ("changed=false and the PV compared before and after: identical", "observed"),
    ],
)
def test_a_proof_is_called_what_it_is(unchanged, kind):
    # Written by hand: a raise from a pure check and a module's own changed=false are not
    # shown as state the test looked at.
    assert catalogue.proof_kind(unchanged) == kind


def test_the_table_says_how_far_each_row_proves_it(tmp_path):
    rows = [
        {"runbook": "r", "kind": "variable", "input": str(i), "message": "m", "test": "t::x",
         "unchanged": proof}
        for i, proof in enumerate(
            ["f raised E: no plan returned", "changed=false", "tree compared: identical", None]
        )
    ]  # fmt: skip
    text = catalogue.render(rows)
    assert "| r | 4 | 1 | 1 | 1 | 1 |" in text
    cells = [row[4] for row in catalogue.table_rows(text)]
    assert cells == [
        "a pure check that raised: nothing to change, nothing compared (f raised E: no plan returned)",
        "the module's own result says changed=false (changed=false)",
        "tree compared: identical",
        f"— {catalogue.NOT_CHECKED}",
    ]


def test_a_pipe_in_a_message_does_not_split_its_cell(tmp_path):
    fake_rows(tmp_path / "rows", 100, "value a|b is not allowed")
    output = tmp_path / "bad-inputs.md"
    assert catalogue.main([str(tmp_path / "rows"), str(output)]) == 0
    assert all(len(r) == 6 for r in catalogue.table_rows(output.read_text()))


# ---- the committed document


def test_the_document_has_at_least_100_bad_inputs_and_no_traceback():
    """Rows are distinct by construction (the renderer keeps one per runbook, kind and input)."""
    rows = catalogue.table_rows(DOC.read_text(encoding="utf-8"))
    assert len(rows) >= catalogue.MINIMUM, len(rows)
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    assert not [r for r in rows if "Traceback" in r[3]]


def test_every_row_of_the_document_names_a_test_that_still_exists():
    sources = {path.name: path.read_text() for path in (REPO / "tests").rglob("test_*.py")}
    for row in catalogue.table_rows(DOC.read_text(encoding="utf-8")):
        match = re.fullmatch(r"`(test_\w+\.py)::(?:\w+::)?(test_\w+)(\[.*\])?`", row[5])
        assert match, row
        assert match.group(1) in sources, row
        assert f"def {match.group(2)}(" in sources[match.group(1)], row
