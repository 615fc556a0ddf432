"""The one report writer: stable JSON, both files together, content-based changed."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.module_utils.common.report import (
    ReportWriteError,
    render_json,
    write_report,
)

DATA = {"b": [1, 2], "a": {"z": "ü", "y": None}}


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_json_is_sorted_indented_and_ends_in_one_newline():
    assert render_json(DATA) == (
        '{\n    "a": {\n        "y": null,\n        "z": "ü"\n    },\n'
        '    "b": [\n        1,\n        2\n    ]\n}\n'
    )


def test_writes_both_files_with_their_modes_and_records_them(tmp_path):
    target = tmp_path / "reports" / "nested"
    changes = Changes()
    result = write_report(str(target), "plan", DATA, "# Plan", changes=changes)
    assert result["changed"] is True
    assert json.loads((target / "plan.json").read_text()) == DATA
    assert (target / "plan.md").read_text() == "# Plan\n"
    assert mode(target) == 0o755
    assert mode(target / "plan.json") == mode(target / "plan.md") == 0o644
    assert result["json_path"] == str(target / "plan.json")
    assert result["markdown_path"] == str(target / "plan.md")
    assert [c["action"] for c in changes] == ["created", "wrote", "wrote"]
    assert sorted(p.name for p in target.iterdir()) == ["plan.json", "plan.md"]  # no temp left


def test_same_content_is_unchanged_and_leaves_the_files_alone(tmp_path):
    write_report(str(tmp_path), "plan", DATA, "# Plan\n")
    before = os.stat(tmp_path / "plan.json").st_mtime_ns
    again = write_report(str(tmp_path), "plan", dict(reversed(DATA.items())), "# Plan")
    assert again["changed"] is False
    assert again["written"] == []
    assert os.stat(tmp_path / "plan.json").st_mtime_ns == before


def test_only_the_file_whose_content_moved_is_rewritten(tmp_path):
    write_report(str(tmp_path), "plan", DATA, "# Plan")
    result = write_report(str(tmp_path), "plan", DATA, "# Plan v2", want_diff=True)
    assert result["written"] == [str(tmp_path / "plan.md")]
    assert result["diff"] == [
        {
            "before_header": str(tmp_path / "plan.md"),
            "after_header": str(tmp_path / "plan.md"),
            "before": "# Plan\n",
            "after": "# Plan v2\n",
        }
    ]


def test_check_mode_reports_the_change_and_writes_nothing(tmp_path):
    target = tmp_path / "reports"
    result = write_report(str(target), "plan", DATA, "# Plan", check_mode=True)
    assert result["changed"] is True
    assert result["written"] == [str(target / "plan.json"), str(target / "plan.md")]
    assert not target.exists()


def test_a_relative_directory_is_resolved_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = write_report("reports", "plan", DATA, "# Plan")
    assert result["dir"] == str(tmp_path / "reports")
    assert (tmp_path / "reports" / "plan.md").exists()


@pytest.mark.parametrize("name", ["", "../plan", "a/b", ".hidden", "plan cluster"])
def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path, name):
    with pytest.raises(ReportWriteError) as caught:
        write_report(str(tmp_path), name, DATA, "# Plan")
    assert caught.value.field == "name"
    assert f"{name!r} is not a report name" in str(caught.value)


def test_data_json_cannot_hold_names_the_field(tmp_path):
    with pytest.raises(ReportWriteError, match=r"^data: cannot be written as JSON"):
        write_report(str(tmp_path), "plan", {"when": object()}, "# Plan")
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_directory_should_be_names_it(tmp_path):
    (tmp_path / "reports").write_text("not a directory")
    with pytest.raises(ReportWriteError) as caught:
        write_report(str(tmp_path / "reports"), "plan", DATA, "# Plan")
    assert str(caught.value) == f"{tmp_path / 'reports'}: dir: exists and is not a directory"


def test_a_directory_that_cannot_be_made_fails_naming_the_path(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ReportWriteError) as caught:
        write_report(str(tmp_path / "file" / "reports"), "plan", DATA, "# Plan")
    assert str(caught.value) == f"{tmp_path / 'file' / 'reports'}: Not a directory"


def test_a_failed_rename_leaves_no_temporary_file_and_the_old_pair(tmp_path, monkeypatch):
    write_report(str(tmp_path), "plan", DATA, "# Plan")

    def refuse(src, dst):
        raise OSError(28, "No space left on device", dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ReportWriteError, match="No space left on device"):
        write_report(str(tmp_path), "plan", {"new": 1}, "# New")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "plan.md"]
    assert (tmp_path / "plan.md").read_text() == "# Plan\n"
