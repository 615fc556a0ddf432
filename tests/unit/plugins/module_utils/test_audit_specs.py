"""The check ids a user can name are listed the same everywhere: the role's
argument spec, the module's documentation and options, and the docs page."""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import CHECKS
from ansible_collections.ackops.runbooks.plugins.modules import workload_audit_info

REPO = Path(__file__).resolve().parents[4]
SKIPPABLE = sorted(set(CHECKS) - {"invalidObject"})


def role_options() -> dict:
    spec = yaml.safe_load((REPO / "roles/audit_workloads/meta/argument_specs.yml").read_text())
    return spec["argument_specs"]["main"]["options"]


def test_skip_checks_choices_are_the_check_ids_everywhere():
    doc = yaml.safe_load(workload_audit_info.DOCUMENTATION)
    assert doc["options"]["skip_checks"]["choices"] == SKIPPABLE
    assert workload_audit_info.OPTIONS["skip_checks"]["choices"] == SKIPPABLE
    assert role_options()["audit_workloads_skip_checks"]["choices"] == SKIPPABLE


def test_every_check_is_in_the_docs_page():
    page = (REPO / "docs" / "audit-workloads.md").read_text()
    assert [c for c in CHECKS if f"`{c}`" not in page] == []


def test_role_spec_shows_the_defaults_of_defaults_main():
    defaults = yaml.safe_load((REPO / "roles/audit_workloads/defaults/main.yml").read_text())
    options = role_options()
    assert sorted(options) == sorted(defaults)
    for name, option in options.items():
        assert "default" in option, f"{name} has no default in the spec"
        assert option["default"] == defaults[name], name
