"""workload_report.py: what its re-measurement (session 6) found untested.

Expected layouts written by hand from the formats they follow: Polaris' JSON audit
(DisplayName, ClusterInfo, Results of Name/Namespace/Kind/Results/PodResult, a PodResult
of Name/Results/ContainerResults) and SARIF 2.1.0 (logicalLocations, artifactLocation
uri, partialFingerprints, rules with defaultConfiguration.level and properties); the
audit's own additions (AuditCounts, AuditNotes) as its docs name them.
"""

from __future__ import annotations

import json

from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_audit import (
    audit,
    findings,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.audit.workload_report import (
    polaris,
    sarif,
)
from tests.unit.plugins.module_utils.test_audit_oracle import FIX_NAMES
from tests.unit.plugins.module_utils.test_workload_audit import NETPOL, PDB, deployment


def results_of(*objects, source="cluster"):
    return audit([(obj, source) for obj in objects])


def bad_web():
    obj = deployment(hostNetwork=True)
    del obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    return obj


def test_polaris_layout_by_hand():
    info = {"Nodes": 3, "Namespaces": 2}
    report = polaris(
        results_of(bad_web(), NETPOL, PDB),
        "Cluster",
        "prod",
        cluster_info=info,
        counts={"audited": 1},
        notes=["a note"],
    )
    assert report["DisplayName"] == "prod"
    assert report["ClusterInfo"] == info
    assert report["AuditCounts"] == {"audited": 1}
    assert report["AuditNotes"] == ["a note"]
    (web,) = [e for e in report["Results"] if e["Kind"] == "Deployment"]
    assert set(web) == {"Name", "Namespace", "Kind", "Results", "PodResult"}
    assert (web["Name"], web["Namespace"], web["Kind"]) == ("web", "shop", "Deployment")
    assert set(web["PodResult"]) == {"Name", "Results", "ContainerResults"}
    assert web["PodResult"]["Name"] == "web"
    host = web["PodResult"]["Results"]["hostNetworkSet"]
    assert (host["ID"], host["Success"], host["Details"]) == (
        "hostNetworkSet",
        False,
        ["hostNetwork: true"],
    )
    (app,) = web["PodResult"]["ContainerResults"]
    cpu = app["Results"]["cpuRequestsMissing"]
    assert (cpu["Success"], cpu["Details"]) == (False, [])  # no details: an empty list
    # nothing given: empty mappings and lists, not null
    bare = polaris(results_of(NETPOL), "Cluster", "prod")
    assert (bare["ClusterInfo"], bare["AuditCounts"], bare["AuditNotes"]) == ({}, {}, [])


def sarif_log(objects, source="cluster", severities=None):
    return json.loads(sarif(findings(results_of(*objects, source=source)), severities))


def test_sarif_lists_every_check_as_a_rule_with_its_category_and_level():
    log = sarif_log([NETPOL], severities={"cpuRequestsMissing": "warning"})
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == set(FIX_NAMES)  # every check, found or not
    assert rules["cpuRequestsMissing"]["defaultConfiguration"]["level"] == "warning"
    assert rules["hostNetworkSet"]["defaultConfiguration"]["level"] == "error"
    assert all(set(rule["properties"]) == {"category"} for rule in rules.values())


def test_sarif_results_carry_a_fingerprint_and_locations():
    log = sarif_log([bad_web(), NETPOL, PDB], source="apps/my web.yaml#2")
    by_rule = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert by_rule["cpuRequestsMissing"]["partialFingerprints"] == {
        "ackopsObject/v1": "shop/Deployment/web/app/cpuRequestsMissing"
    }
    assert by_rule["hostNetworkSet"]["partialFingerprints"] == {
        "ackopsObject/v1": "shop/Deployment/web//hostNetworkSet"
    }
    (location,) = by_rule["hostNetworkSet"]["locations"]
    assert location == {
        "logicalLocations": [{"fullyQualifiedName": "shop/Deployment/web", "kind": "object"}],
        "physicalLocation": {"artifactLocation": {"uri": "apps/my%20web.yaml"}},
    }


def test_sarif_locations_of_rendered_absolute_and_cluster_sources():
    def uri(source):
        log = sarif_log([bad_web(), NETPOL, PDB], source=source)
        location = log["runs"][0]["results"][0]["locations"][0]
        return location.get("physicalLocation", {}).get("artifactLocation", {}).get("uri")

    assert uri("charts/web (helm render)#3") == "charts/web"
    assert uri("/srv/apps/web.yaml#1") == "file:///srv/apps/web.yaml"
    assert uri("cluster") is None
    assert uri("") is None


def test_sarif_text_is_stable():
    # Sorted keys, two-space indent, a final newline: the same findings give the same bytes.
    text = sarif(findings(results_of(bad_web(), NETPOL, PDB)))
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
