"""The report role's summary for AWX (ackops_reports.<name>), published by report_write's action.

The playbook tests run ansible-playbook with the json stdout callback, whose
``global_custom_stats`` is what AWX stores as the job's artifacts: the same
place set_stats's data lands. The summary's rules are checked without Ansible.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import ERROR_KEYS
from ansible_collections.ackops.runbooks.plugins.module_utils.common.report import (
    ReportWriteError,
    report_summary,
)
from tests.unit.playbooks.test_planning_runbooks import PLAYBOOK_BIN, REPO

HTML = {
    "title": "Certificates",
    "columns": ["name", {"key": "days", "type": "number", "warning": 30, "critical": 7}],
    "rows": [{"name": "a", "days": 300}, {"name": "b", "days": 20}, {"name": "c", "days": 3}],
}
WRITTEN = {"json_path": "/r/x.json", "markdown_path": "/r/x.md"}


def test_the_summary_of_a_written_report():
    summary = report_summary(WRITTEN, None, [], "")
    assert summary == {
        "files": ["/r/x.json", "/r/x.md"],
        "html": "",
        "counts": {},
        "changes": [],
        "changed": False,
        "failed": False,
        "reason": "",
    }


def test_the_html_page_is_listed_and_its_rows_counted_by_severity():
    summary = report_summary({**WRITTEN, "html_path": "/r/x.html"}, HTML, [{"a": 1}], "")
    assert summary["files"] == ["/r/x.json", "/r/x.md", "/r/x.html"]
    assert summary["html"] == "/r/x.html"
    # 300 days: ok; 20 under the warning of 30; 3 under the critical of 7.
    assert summary["counts"] == {"ok": 1, "warning": 1, "critical": 1}
    assert summary["changes"] == [{"a": 1}]
    assert summary["changed"] is True


def test_nothing_written_lists_no_file_and_still_counts():
    summary = report_summary(None, HTML, [], "")
    assert summary["files"] == []
    assert summary["html"] == ""
    assert summary["counts"] == {"ok": 1, "warning": 1, "critical": 1}


def test_a_bad_html_spec_with_nothing_written_is_refused_naming_its_field():
    # With an empty report directory the module does not run: the counting finds it.
    with pytest.raises(ReportWriteError) as caught:
        report_summary(None, {"title": "x", "columns": [], "rows": []})
    assert caught.value.field.endswith("columns")
    assert caught.value.cause == "needs a non-empty list of columns"


def test_the_reason_is_one_line_cut_at_300_characters():
    assert report_summary(None, None, [], "  two\n\twords  ")["reason"] == "two words"
    exact = "x" * 300
    assert report_summary(None, None, [], exact)["reason"] == exact
    long = "y" * 301
    cut = report_summary(None, None, [], long)["reason"]
    assert cut == "y" * 297 + "..."
    assert len(cut) == 300
    assert report_summary(None, None, [], long)["failed"] is True


# A play on the controller, with the Python running Ansible.
LOCAL_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
"""

PLAY = (
    LOCAL_PLAY
    + """\
    - name: Report
      ansible.builtin.include_role:
        name: ackops.runbooks.report
        tasks_from: write
      vars:
        report_name: publish-test
        report_dir: "{{ dir }}"
        report_data: {rows: 3}
        report_markdown: "# Publish test"
        report_html: "{{ html }}"
        report_stats: "{{ stats }}"
        report_changes: [renewed a]
        report_failure: "{{ failure }}"
"""
)


def play(tmp_path, text: str, extra: dict) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the playbook ``text`` on localhost; its output as the json callback gives it."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(text)
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_SHOW_CUSTOM_STATS": "true",
    }
    proc = subprocess.run(
        [str(PLAYBOOK_BIN), "-i", "localhost,", str(playbook), "-e", json.dumps(extra)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return proc, json.loads(proc.stdout)


def run(tmp_path, **extra) -> tuple[subprocess.CompletedProcess, dict]:
    """The report role's write entry point, with these variables."""
    return play(
        tmp_path, PLAY, {"html": HTML, "stats": {"runbook": {"x": 1}}, "failure": "", **extra}
    )


@pytest.mark.slow
def test_the_role_writes_and_publishes_in_one_task(tmp_path):
    proc, out = run(tmp_path, dir=str(tmp_path / "reports"), failure="gate\nfailed")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    stats = out["global_custom_stats"]
    assert stats["runbook"] == {"x": 1}
    entry = stats["ackops_reports"]["publish-test"]
    base = tmp_path / "reports" / "publish-test"
    assert entry["files"] == [f"{base}.json", f"{base}.md", f"{base}.html"]
    assert all(os.path.exists(path) for path in entry["files"])
    assert entry["counts"] == {"ok": 1, "warning": 1, "critical": 1}
    assert (entry["changes"], entry["changed"]) == (["renewed a"], True)
    assert (entry["failed"], entry["reason"]) == (True, "gate failed")
    tasks = [task["task"]["name"] for task in out["plays"][0]["tasks"]]
    assert not [name for name in tasks if "set_stats" in name or "Publish" in name], tasks


@pytest.mark.slow
def test_an_empty_report_dir_writes_nothing_and_still_publishes(tmp_path):
    proc, out = run(tmp_path, dir="")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    entry = out["global_custom_stats"]["ackops_reports"]["publish-test"]
    assert entry["files"] == []
    assert entry["counts"] == {"ok": 1, "warning": 1, "critical": 1}
    assert list(tmp_path.iterdir()) == [tmp_path / "play.yml"]


DIRECT = (
    LOCAL_PLAY
    + """\
    - name: Write and publish
      ackops.runbooks.report_write:
        dir: "{{ dir }}"
        name: direct
        data: {}
        markdown: "# Direct"
        publish: "{{ publish }}"
"""
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("publish", "field", "cause"),
    [
        ({"stats": ["not", "a", "dict"]}, "publish.stats", "must be a dict, got list"),
        ({"changes": "one"}, "publish.changes", "must be a list, got str"),
        ({"failure": 3}, "publish.failure", "must be a str, got int"),
        ({"stat": {}}, "publish", "unknown key(s) stat; known: stats, changes, failure"),
        ("text", "publish", "must be a dict, got str"),
    ],
)
def test_a_bad_publish_is_refused_with_the_contract_and_nothing_written(
    tmp_path, publish, field, cause
):
    proc, out = play(tmp_path, DIRECT, {"dir": str(tmp_path / "reports"), "publish": publish})
    assert proc.returncode != 0
    failed = out["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert set(failed["error"]) == set(ERROR_KEYS)
    assert failed["error"]["field"] == field
    assert failed["msg"] == f"report_write: {field}: {cause}"
    assert failed["partial_changes"] == []
    assert not (tmp_path / "reports").exists()
    assert not out.get("global_custom_stats")


@pytest.mark.slow
def test_publish_without_a_dir_is_the_modules_missing_option_error(tmp_path):
    # Only an empty dir means "write nothing"; a missing one is still refused by the module.
    text = DIRECT.replace('        dir: "{{ dir }}"\n', "")
    assert text != DIRECT
    proc, out = play(tmp_path, text, {"publish": {}})
    assert proc.returncode != 0
    failed = out["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert "missing required arguments: dir" in failed["msg"]
    assert not out.get("global_custom_stats")
