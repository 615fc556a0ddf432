"""The report writer's further formats (extra_files), as the audit uses them for
SARIF and JUnit: written with the JSON and Markdown, unchanged files left alone."""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.report import (
    ReportWriteError,
    write_report,
)


def test_extra_files_are_written_with_the_others_and_left_alone_when_unchanged(tmp_path):
    extra = {"sarif": '{"version": "2.1.0"}\n', "junit.xml": "<testsuites/>\n"}
    first = write_report(str(tmp_path), "audit-workloads", {"a": 1}, "# A\n", extra_files=extra)
    assert first["changed"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "audit-workloads.json",
        "audit-workloads.junit.xml",
        "audit-workloads.md",
        "audit-workloads.sarif",
    ]
    assert (tmp_path / "audit-workloads.sarif").read_text() == extra["sarif"]
    again = write_report(str(tmp_path), "audit-workloads", {"a": 1}, "# A\n", extra_files=extra)
    assert again["changed"] is False
    moved = write_report(
        str(tmp_path), "audit-workloads", {"a": 1}, "# A\n", extra_files={**extra, "sarif": "{}\n"}
    )
    assert moved["written"] == [str(tmp_path / "audit-workloads.sarif")]


def test_check_mode_writes_no_extra_file(tmp_path):
    result = write_report(str(tmp_path), "r", {}, "", check_mode=True, extra_files={"sarif": "{}"})
    assert result["changed"] is True
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", ["json", "md", "../x", "SARIF", "", ".sarif", "a/b"])
def test_a_suffix_that_is_not_one_is_refused(tmp_path, suffix):
    with pytest.raises(ReportWriteError) as exc:
        write_report(str(tmp_path), "r", {}, "", extra_files={suffix: "x"})
    assert exc.value.field == "extra_files"
    assert list(tmp_path.iterdir()) == []
