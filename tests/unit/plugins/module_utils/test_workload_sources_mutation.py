"""workload_sources.py's directory walk: what its re-measurement (session 6) found untested.

Expected values follow from the layout written in each test (file counts, which
files are read) and the reader's documented options (include/exclude globs matched
against the path below the directory or the file name; hidden directories skipped).
"""

from __future__ import annotations

import yaml

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_sources import (
    ManifestReader,
)

CM = {"apiVersion": "v1", "kind": "ConfigMap"}


def write(root, rel):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump({**CM, "metadata": {"name": rel.replace("/", "-").replace(".", "-")}})
    )


def names(reader):
    return sorted(obj["metadata"]["name"] for obj, _source in reader)


def test_every_file_read_is_counted(tmp_path):
    for rel in ("a.yaml", "b.yml", "sub/c.yaml", "sub/deeper/d.yaml"):
        write(tmp_path, rel)
    reader = ManifestReader(str(tmp_path), found_tools={})
    assert len(names(reader)) == 4
    assert reader.files == 4


def test_a_single_file_is_one_file(tmp_path):
    write(tmp_path, "only.yaml")
    reader = ManifestReader(str(tmp_path / "only.yaml"), found_tools={})
    # each document is named <file>#<n>
    assert [source for _obj, source in reader] == [f"{tmp_path / 'only.yaml'}#1"]
    assert reader.files == 1


def test_hidden_directories_are_not_read(tmp_path):
    write(tmp_path, "app.yaml")
    write(tmp_path, ".git/objects.yaml")
    write(tmp_path, "sub/.cache/x.yaml")
    assert names(ManifestReader(str(tmp_path), found_tools={})) == ["app-yaml"]


def test_an_excluded_nested_directory_is_matched_by_its_path(tmp_path):
    for rel in ("a/b/x.yaml", "a/c/y.yaml", "b/z.yaml"):
        write(tmp_path, rel)
    reader = ManifestReader(str(tmp_path), exclude=["a/b"], found_tools={})
    assert names(reader) == ["a-c-y-yaml", "b-z-yaml"]


def test_an_excluded_file_does_not_stop_the_others(tmp_path):
    for rel in ("a.yaml", "b.yaml", "c.yaml"):
        write(tmp_path, rel)
    reader = ManifestReader(str(tmp_path), exclude=["a.yaml"], found_tools={})
    assert names(reader) == ["b-yaml", "c-yaml"]
    assert reader.files == 2


def test_an_entry_that_is_not_a_file_does_not_stop_the_walk(tmp_path):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "missing.yaml")  # a dangling link
    write(tmp_path, "b.yaml")
    assert names(ManifestReader(str(tmp_path), found_tools={})) == ["b-yaml"]


def test_a_single_file_under_the_display_root_is_named_relative_to_it(tmp_path):
    write(tmp_path, "apps/only.yaml")
    reader = ManifestReader(
        str(tmp_path / "apps" / "only.yaml"), found_tools={}, display_root=str(tmp_path)
    )
    assert [source for _obj, source in reader] == ["apps/only.yaml#1"]
