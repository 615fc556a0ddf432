"""workload_audit.py's decisions its first complete mutation run (session 6) found untested.

Expected values are written by hand from the Kubernetes API reference (policy/v1
PodDisruptionBudgetSpec.selector: "A null selector will match no pods, while an empty
({}) selector will select all pods within the namespace"), the audit's documented
inputs (check ids, the exemption annotation, the configuration file) and Python's repr
of the values involved; none is read back from the module's tables.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    audit,
    findings,
    parse_config,
)
from tests.unit.plugins.module_utils.test_audit_oracle import FIX_NAMES
from tests.unit.plugins.module_utils.test_workload_audit import NETPOL, PDB, deployment


def found(objects, source="t"):
    return findings(audit([(obj, source) for obj in objects]))


def checks_of(objects, source="t"):
    return sorted(f["check"] for f in found(objects, source))


# --- PodDisruptionBudget selectors (policy/v1) ---------------------------------------


def test_a_pdb_without_a_selector_protects_no_pod():
    no_selector = copy.deepcopy(PDB)
    del no_selector["spec"]["selector"]
    assert "missingPodDisruptionBudget" in checks_of([deployment(), NETPOL, no_selector])


def test_a_pdb_with_an_empty_selector_protects_every_pod_of_its_namespace():
    everything = copy.deepcopy(PDB)
    everything["spec"]["selector"] = {}
    assert "missingPodDisruptionBudget" not in checks_of([deployment(), NETPOL, everything])
    # ... of its own namespace only
    elsewhere = copy.deepcopy(everything)
    elsewhere["metadata"]["namespace"] = "other"
    assert "missingPodDisruptionBudget" in checks_of([deployment(), NETPOL, elsewhere])
