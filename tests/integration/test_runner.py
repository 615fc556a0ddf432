"""The runbooks run the way AWX/AAP runs them: through ansible-runner, with survey answers.

AWX starts a job with ``ansible_runner.run`` on a private data directory, the
project checked out as the working directory, and the survey's answers in
extra vars as the survey produced them: text and multiple-choice answers are
strings (a boolean question is a multiple choice of "true"/"false"), and an
optional field left empty is sent as "" (text) or left out. These tests do
exactly that, from the repository (the project) and the lab's inventory for the
cluster runbooks, and judge the job by what AWX keeps of it: the status, the
return code, the ``set_stats`` artifacts (AWX's artifacts, what a workflow
branches on), the events stream and the files in the artifacts directory.

Bad answers must stop the job before any change, with a message naming the
field: each is checked against the events (no changed task) and, on the lab,
against the state of the objects the runbook could write.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import ansible_runner
import pytest
import yaml

from tests.catalogue import record

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"


class Job:
    """One ansible-runner job and what AWX would keep of it."""

    def __init__(self, result, data_dir: Path, reports: Path):
        self.result = result
        self.data_dir = data_dir
        self.reports = reports
        self.events = list(result.events)

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def rc(self) -> int:
        return self.result.rc

    @property
    def stats(self) -> dict:
        return self.result.stats or {}

    @property
    def artifacts(self) -> dict:
        """What set_stats published: the job's artifacts in AWX."""
        stats = [e for e in self.events if e["event"] == "playbook_on_stats"]
        assert stats, self.output
        return stats[-1]["event_data"].get("artifact_data") or {}

    @property
    def output(self) -> str:
        return self.result.stdout.read() if self.result.stdout else ""

    def of(self, event: str) -> list[dict]:
        return [e for e in self.events if e["event"] == event]

    @property
    def failures(self) -> list[dict]:
        """The failed task results (rescued ones left out), as AWX lists them."""
        return [
            e["event_data"]
            for e in self.of("runner_on_failed")
            if not e["event_data"].get("ignore_errors")
        ]

    @property
    def messages(self) -> str:
        return "\n".join(
            json.dumps(f.get("res", {}).get("msg"), default=str) for f in self.failures
        )

    @property
    def changed_tasks(self) -> list[str]:
        return [
            e["event_data"]["task"]
            for e in self.of("runner_on_ok")
            if e["event_data"].get("res", {}).get("changed")
        ]


def run_job(
    tmp_path: Path,
    playbook: str,
    answers: dict,
    inventory=None,
    awx_vars=None,
    reports: Path | None = None,
    **kwargs,
) -> Job:
    """``playbook`` from the repository through ansible-runner, answers as extra vars.

    ``awx_vars``: extra vars built from a committed survey (awx_extra_vars),
    added to the answers as they are (AWX sends integers and multiselect lists).
    ``reports``: the report directory (default: the job's own), e.g. one the
    slices of a sliced job share.
    """
    data_dir = tmp_path / f"job-{len(list(tmp_path.glob('job-*')))}"
    data_dir.mkdir()
    reports = reports or data_dir / "reports"
    for key, value in answers.items():
        # Survey answers are strings (or absent): a test passing anything else
        # would not be testing what AWX sends.
        assert isinstance(value, str), f"{key}: survey answers are strings"
    envvars = {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "ACKOPS_REPORT_DIR": str(reports),
        "ANSIBLE_FORCE_COLOR": "0",
    }
    options = dict(
        private_data_dir=str(data_dir),
        project_dir=str(REPO),
        playbook=playbook,
        extravars={**answers, **(awx_vars or {})},
        envvars=envvars,
        quiet=True,
        timeout=900,
        **kwargs,
    )
    if inventory is not None:
        options["inventory"] = [str(i) for i in inventory]
    return Job(ansible_runner.run(**options), data_dir, reports)


def assert_successful(job: Job) -> None:
    assert job.status == "successful", job.messages or job.output[-4000:]
    assert job.rc == 0
    assert not job.stats.get("failures"), job.stats
    assert not job.stats.get("dark"), job.stats
    # The events stream is whole: it starts and ends like a job AWX shows.
    assert job.of("playbook_on_start")
    assert job.of("playbook_on_stats")
    # And the artifacts directory AWX reads holds the job's status and rc.
    artifact_dir = Path(job.result.config.artifact_dir)
    assert (artifact_dir / "status").read_text() == "successful"
    assert (artifact_dir / "rc").read_text() == "0"
    assert list((artifact_dir / "job_events").glob("*.json"))


def assert_summary(job: Job, report: str, *, failed: bool = False, html: bool = True) -> dict:
    """The summary every report publishes (ackops_reports.<report>), as a workflow reads it.

    Where the files are, the rows per severity, what changed, and for a run
    that stopped on its gate a one-line reason to page with and a failed job.
    """
    entry = job.artifacts["ackops_reports"][report]
    assert set(entry) >= {"files", "html", "counts", "changes", "changed", "failed", "reason"}
    assert entry["files"], entry
    for name in entry["files"]:
        assert Path(name).is_file(), name
        assert Path(name).parent == job.reports, name
    if html:
        assert entry["html"] == str(job.reports / f"{report}.html"), entry
        assert entry["html"] in entry["files"]
        assert set(entry["counts"]) <= {"none", "ok", "info", "warning", "critical", "expired"}
    else:
        assert entry["html"] == "", entry
        assert entry["counts"] == {}, entry
    assert entry["changed"] is bool(entry["changes"]), entry
    assert entry["failed"] is failed, entry
    if failed:
        assert entry["reason"], entry
        assert "\n" not in entry["reason"]
        assert len(entry["reason"]) <= 300
        assert job.status == "failed"
        assert job.rc != 0
    else:
        assert entry["reason"] == "", entry
    return entry


def assert_refused_unchanged(job: Job, field: str) -> None:
    """Failed with a message naming ``field``, and no task changed anything."""
    assert job.status == "failed", job.output[-4000:]
    assert job.rc != 0
    assert job.failures, job.output[-4000:]
    assert field in job.messages, job.messages
    assert job.changed_tasks == [], job.changed_tasks
    assert not job.stats.get("changed"), job.stats


# ---------------------------------------------------------------- no lab needed


def test_plan_cluster_survey_answers_are_typed(tmp_path):
    job = run_job(tmp_path, "plan-cluster.yml", {"plan_cluster_node_count": "30"})
    assert_successful(job)
    plan = job.artifacts["plan_cluster"]
    # "30" was taken as the number 30 (an int in the artifacts, not a string).
    assert plan["master"]["node_count"] == 30, plan
    assert plan["valid"] is True, plan
    assert plan["conflicts"] == 0, plan
    assert (job.reports / "plan-cluster.json").is_file()
    assert_summary(job, "plan-cluster")


def _conflicting_network() -> dict:
    # Extra vars a job template carries (AWX extra_vars may hold mappings);
    # the survey only answers the flag.
    return {
        "vpc_cidr": "192.168.0.0/16",
        "vswitches": ["192.168.0.0/24"],
        "clusters": [
            {"name": "a", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.21.0.0/20"},
            {"name": "b", "pod_cidr": "172.20.0.0/16", "service_cidr": "172.22.0.0/20"},
        ],
    }


@pytest.mark.parametrize(("answer", "status"), [("false", "successful"), ("true", "failed")])
def test_plan_cluster_boolean_false_means_false(tmp_path, answer, status):
    inventory = tmp_path / "plan.yml"
    inventory.write_text(
        yaml.safe_dump({"all": {"vars": {"plan_cluster_network": _conflicting_network()}}})
    )
    job = run_job(
        tmp_path,
        "plan-cluster.yml",
        {"plan_cluster_fail_on_conflict": answer},
        inventory=[inventory],
    )
    assert job.status == status, job.messages or job.output[-3000:]
    report = json.loads((job.reports / "plan-cluster.json").read_text())
    assert "172.20.0.0/16" in json.dumps(report), report  # the conflict is reported either way
    assert job.artifacts["plan_cluster"]["conflicts"] > 0
    assert job.artifacts["plan_cluster"]["valid"] is False
    if status == "failed":
        assert job.failures
        assert "conflict" in job.messages.lower(), job.messages
    summary = assert_summary(job, "plan-cluster", failed=status == "failed")
    assert summary["counts"]["critical"] == job.artifacts["plan_cluster"]["conflicts"]
    if status == "failed":
        assert "172.20.0.0/16" in summary["reason"], summary


def test_audit_numbers_as_strings_gate_the_run(tmp_path):
    answers = {
        "audit_workloads_manifest_dir": "examples/workloads",
        "audit_workloads_fail_on": "none",
        "audit_workloads_context": "",  # an empty optional text answer
    }
    low = run_job(tmp_path, "audit-workloads.yml", {**answers, "audit_workloads_min_score": "30"})
    assert_successful(low)
    published = low.artifacts["audit_workloads"]
    # The gate compared numbers: "30" arrived as 30.
    assert published["gate"]["min_score"] == 30, published["gate"]
    assert published["gate"]["failed"] is False
    assert 30 <= published["score"] < 90, published
    assert published["summary"]["total"] > 0
    for name in ("audit-workloads.json", "audit-workloads.md", "audit-workloads.sarif"):
        assert (low.reports / name).is_file(), name
    counts = assert_summary(low, "audit-workloads")["counts"]
    # Rows by severity are the findings by severity: danger is critical.
    assert counts == {
        level: published["summary"][word]
        for level, word in (("warning", "warning"), ("critical", "danger"))
        if published["summary"][word]
    }

    high = run_job(tmp_path, "audit-workloads.yml", {**answers, "audit_workloads_min_score": "90"})
    assert high.status == "failed"
    assert high.rc != 0
    assert "below the minimum 90" in high.messages, high.messages
    # Published before the gate failed: a workflow can still branch on it.
    assert high.artifacts["audit_workloads"]["summary"] == published["summary"]
    reason = assert_summary(high, "audit-workloads", failed=True)["reason"]
    assert "below the minimum 90" in reason, reason


def test_audit_choice_answer_fails_on_danger(tmp_path):
    job = run_job(
        tmp_path,
        "audit-workloads.yml",
        {"audit_workloads_manifest_dir": "examples/workloads", "audit_workloads_fail_on": "danger"},
    )
    assert job.status == "failed", job.output[-3000:]
    assert "danger" in job.messages, job.messages


def test_migrate_swarm_analyze_from_files(tmp_path):
    """The Swarm migration's analyze step of compose files, survey-style, and its page in Chromium."""
    from tests.html_browser import Browser, column, tables

    compose = REPO / "tests" / "unit" / "fixtures" / "compose" / "shop"
    # The manager is in the inventory (group swarm_managers), as in AWX; with
    # the files source and no stack named it is not connected to.
    inventory = tmp_path / "swarm.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "swarm_managers": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                        }
                    }
                }
            }
        )
    )
    answers = {
        "migrate_swarm_steps": "analyze",
        "migrate_swarm_source": "files",
        "migrate_swarm_files": str(compose / "compose.yml"),
        "migrate_swarm_namespace": "shop",
        "migrate_swarm_wait": "false",
    }
    job = run_job(tmp_path, "migrate-swarm.yml", answers, inventory=[inventory])
    assert_successful(job)
    assert job.changed_tasks == []
    report = json.loads((job.reports / "migrate-swarm-analyze.json").read_text())
    summary = report["conversion"]["summary"]
    entry = assert_summary(job, "migrate-swarm-analyze")
    levels = {"ok": "converted", "warning": "converted_with_loss", "critical": "not_convertible"}
    assert entry["counts"] == {k: summary[v] for k, v in levels.items() if summary[v]}, entry
    page = Path(entry["html"]).read_text()
    secret = (compose / "api_token.txt").read_text().strip()
    assert secret not in page
    assert secret not in (job.reports / "migrate-swarm-analyze.json").read_text()

    browser = Browser()
    try:
        browser.open(Path(entry["html"]))
        services, _stack = tables(browser)
        lost = [r for r in services["rows"] if r["severity"] == "critical"]
        assert len(lost) == sum(
            e["status"] == "not_convertible"
            for s in report["conversion"]["services"].values()
            for e in s["entries"]
        )
        assert {r["background"] for r in lost} == {"rgb(251, 213, 210)"}
        browser.type_into("#filter", "severity:critical")
        assert set(column(tables(browser)[0], "Status")) == {"not_convertible"}
        browser.type_into("#filter", "")
        browser.screenshot("migrate-swarm-analyze")
    finally:
        browser.close()


# Bad survey answers to the runbooks that need no cluster: (playbook, answers, field).
OFFLINE_REFUSALS = [
    ("plan-cluster.yml", {"plan_cluster_node_count": "thirty"}, "plan_cluster_node_count"),
    (
        "plan-cluster.yml",
        {"plan_cluster_fail_on_conflict": "maybe"},
        "plan_cluster_fail_on_conflict",
    ),
    ("audit-workloads.yml", {"audit_workloads_min_score": "abc"}, "audit_workloads_min_score"),
    ("audit-workloads.yml", {"audit_workloads_fail_on": "fatal"}, "audit_workloads_fail_on"),
    (
        "audit-workloads.yml",
        {"audit_workloads_skip_checks": "noSuchCheck"},
        "audit_workloads_skip_checks",
    ),
    (
        "audit-workloads.yml",
        {"audit_workloads_console_findings": "1.5"},
        "audit_workloads_console_findings",
    ),
    ("audit-workloads.yml", {"audit_workloads_source": "git"}, "audit_workloads_source"),
    ("migrate-swarm.yml", {"migrate_swarm_source": "git"}, "migrate_swarm_source"),
    ("migrate-swarm.yml", {"migrate_swarm_wait_timeout": "soon"}, "migrate_swarm_wait_timeout"),
]


@pytest.mark.parametrize(("playbook", "answers", "field"), OFFLINE_REFUSALS)
def test_bad_answer_refused_offline(tmp_path, playbook, answers, field):
    answers = (
        {"audit_workloads_manifest_dir": "examples/workloads", **answers}
        if "audit" in playbook
        else answers
    )
    job = run_job(tmp_path, playbook, answers)
    assert_refused_unchanged(job, field)
    # Refused before anything was computed: no report was written.
    assert not job.reports.exists() or not any(job.reports.iterdir())
    record(
        playbook.removesuffix(".yml"),
        "survey answer",
        {field: answers[field]},
        job.messages,
        "AWX job events: no task changed; no report written",
    )


# ---------------------------------------------------------------- on the lab


@pytest.fixture
def lab_inventory(lab):
    return [lab.inventory]


def test_renew_certs_report_with_survey_answers(lab, tmp_path):
    """The nightly report: numbers as strings set the thresholds, "false" keeps the gate off."""
    answers = {
        "renew_certs_action": "report",
        # The lab's leaf certificates live a year, its CAs ten: "1000" makes
        # the leaves critical and leaves the CAs out, so the number was a number.
        "renew_certs_warning_days": "3650",
        "renew_certs_critical_days": "1000",
        "renew_certs_fail_on_critical": "false",
    }
    job = run_job(tmp_path, "renew-certs.yml", answers, inventory=[lab.inventory])
    assert_successful(job)
    summary = job.artifacts["renew_certs"]["renew-certs"]
    assert summary["critical"] > 0, summary
    assert summary["unreachable"] == [], summary
    assert job.changed_tasks == []
    report = json.loads((job.reports / "renew-certs.json").read_text())
    short_lived = [c for c in report["certificates"] if c["days_left"] < 1000]
    assert len(short_lived) == summary["critical"], summary
    assert summary["total"] > summary["critical"], summary  # the CAs are not critical
    counts = assert_summary(job, "renew-certs")["counts"]
    assert counts.get("critical", 0) == summary["critical"], counts

    # The same answers with "true": the report still publishes, the job fails.
    gated = run_job(
        tmp_path,
        "renew-certs.yml",
        {**answers, "renew_certs_fail_on_critical": "true"},
        inventory=[lab.inventory],
    )
    assert gated.status == "failed", gated.output[-3000:]
    assert "critical" in gated.messages, gated.messages
    assert gated.artifacts["renew_certs"]["renew-certs"]["critical"] == summary["critical"]
    assert gated.changed_tasks == []
    reason = assert_summary(gated, "renew-certs", failed=True)["reason"]
    assert f"{summary['critical']} critical certificates" in reason, reason


def test_ingress_ha_with_survey_answers(lab, tmp_path):
    """Booleans as "true"/"false", numbers as strings, an empty optional context."""
    answers = {
        "ingress_ha_automatic_selection": "true",
        "ingress_ha_take_ownership": "true",
        "ingress_ha_replicas": str(len(lab.workers)),
        "ingress_ha_prune": "false",
        "ingress_ha_dedicate": "false",
        "ingress_ha_pdb": "true",
        "ingress_ha_pdb_max_unavailable": "1",
        "ingress_ha_wait_timeout": "120",
        "ingress_ha_context": "",
    }
    lab.dirty = True  # labels and the controller's placement change
    job = run_job(tmp_path, "ingress-ha.yml", answers, inventory=[lab.inventory])
    assert_successful(job)
    published = job.artifacts["ingress_ha"]
    workers = {h.node_name for h in lab.workers}
    assert set(published["nodes"]) == workers, published
    # "false" meant false: no node was tainted for dedication.
    nodes = lab.kubectl_json("get", "nodes")["items"]
    for node in nodes:
        if node["metadata"]["name"] in workers:
            taints = node["spec"].get("taints") or []
            assert not [t for t in taints if "ingress" in t["key"]], node["metadata"]["name"]
    pdb = lab.kubectl_json("get", "pdb", "-n", "kube-system", "nginx-ingress-controller")
    assert pdb["spec"]["maxUnavailable"] == 1  # "1" arrived as the number
    entry = assert_summary(job, "ingress-ha", html=False)
    assert entry["changes"] == published["changes"], entry

    again = run_job(tmp_path, "ingress-ha.yml", answers, inventory=[lab.inventory])
    assert_successful(again)
    assert again.artifacts["ingress_ha"]["changed"] is False, again.artifacts
    assert again.changed_tasks == []
    assert assert_summary(again, "ingress-ha", html=False)["changed"] is False


def _release_answers() -> dict:
    # The release's names come from the job template's extra vars (or the
    # inventory) in AWX; here as extra vars with the step's survey answers.
    return {"release_name": "shop-web", "release_namespace": "shop"}


# Bad survey answers to the cluster runbooks: (playbook, answers, field).
LAB_REFUSALS = [
    ("renew-certs.yml", {"renew_certs_threshold_days": "thirty"}, "renew_certs_threshold_days"),
    ("renew-certs.yml", {"renew_certs_action": "rotate"}, "renew_certs_action"),
    ("renew-certs.yml", {"renew_certs_force": "maybe"}, "renew_certs_force"),
    ("renew-certs.yml", {"renew_certs_key_algorithm": "DSA"}, "renew_certs_key_algorithm"),
    ("renew-certs.yml", {"renew_certs_critical_days": "7d"}, "renew_certs_critical_days"),
    ("ingress-ha.yml", {"ingress_ha_replicas": "two"}, "ingress_ha_replicas"),
    ("ingress-ha.yml", {"ingress_ha_prune": "perhaps"}, "ingress_ha_prune"),
    ("ingress-ha.yml", {"ingress_ha_controller_kind": "Pod"}, "ingress_ha_controller_kind"),
    ("ingress-ha.yml", {"ingress_ha_wait_timeout": "5m"}, "ingress_ha_wait_timeout"),
    ("provision-storage.yml", {"provision_storage_driver": "nfs"}, "provision_storage_driver"),
    ("provision-storage.yml", {"provision_storage_wait": "sometimes"}, "provision_storage_wait"),
    (
        "provision-storage.yml",
        {"provision_storage_batch_size": "many"},
        "provision_storage_batch_size",
    ),
    ("release.yml", {"release_step": "explode"}, "release_step"),
    ("release.yml", {"release_weight": "half"}, "release_weight"),
    ("release.yml", {"release_wait": "later"}, "release_wait"),
]


@pytest.mark.parametrize(("playbook", "answers", "field"), LAB_REFUSALS)
def test_bad_answer_refused_on_the_lab(lab, tmp_path, playbook, answers, field):
    if playbook == "release.yml":
        answers = {**_release_answers(), **answers}
    before = lab.object_states("nodes,deployments,daemonsets,pdb,services,pvc,storageclasses")
    job = run_job(tmp_path, playbook, answers, inventory=[lab.inventory])
    assert_refused_unchanged(job, field)
    assert (
        lab.object_states("nodes,deployments,daemonsets,pdb,services,pvc,storageclasses") == before
    )
    record(
        playbook.removesuffix(".yml"),
        "survey answer",
        {field: answers[field]},
        job.messages,
        "AWX job events: no task changed; nodes, workloads, PDBs, services, PVCs and"
        " StorageClasses compared on the API server",
    )


# ---------------------------------------------------------------- the committed surveys


def awx_extra_vars(runbook: str, answers: dict) -> dict:
    """Extra vars as AWX builds them from the committed survey and the operator's answers.

    An unanswered question contributes its default (an empty text default as
    ""), a multiselect answer is a list, an unanswered optional question
    without a default is left out.
    """
    survey = json.loads((REPO / "awx" / "surveys" / f"{runbook}.json").read_text())
    out = {}
    for question in survey["spec"]:
        variable = question["variable"]
        if variable in answers:
            out[variable] = answers[variable]
        elif question["type"] == "multiselect":
            chosen = [c for c in str(question.get("default", "")).split("\n") if c]
            if chosen:
                out[variable] = chosen
        elif "default" in question:
            out[variable] = question["default"]
    return out


def test_audit_with_every_survey_default(tmp_path):
    extra = awx_extra_vars(
        "audit-workloads",
        {"audit_workloads_manifest_dir": "examples/workloads", "audit_workloads_min_score": "30"},
    )
    job = run_job(tmp_path, "audit-workloads.yml", {}, awx_vars=extra)
    assert_successful(job)
    assert job.artifacts["audit_workloads"]["counts"]["audited"] > 0


def test_plan_with_every_survey_default(tmp_path):
    extra = awx_extra_vars("plan-cluster", {"plan_cluster_node_count": "12"})
    job = run_job(tmp_path, "plan-cluster.yml", {}, awx_vars=extra)
    assert_successful(job)
    assert job.artifacts["plan_cluster"]["master"]["node_count"] == 12


RUNNER_NS = "runner-storage"


def test_provision_storage_with_survey_answers(lab, tmp_path):
    """The plan in the inventory (as an AWX inventory source carries it), the flags from the survey."""
    zones = sorted({h.zone for h in lab.workers})
    plan = {
        "provision_storage_region": lab.hosts[0].node_name.split(".", 1)[0],
        "provision_storage_zones": sorted({h.zone for h in lab.hosts}),
        "provision_storage_storage_classes": [
            {
                "name": "runner-essd",
                "type": "disk",
                "category": "cloud_essd",
                "performance_level": "PL1",
                "zones": zones,
            }
        ],
        "provision_storage_claims": [
            {
                "name": "runner-data",
                "namespace": RUNNER_NS,
                "storage_class": "runner-essd",
                "size": "20Gi",
            }
        ],
    }
    inventory = tmp_path / "storage.yml"
    inventory.write_text(yaml.safe_dump({"all": {"vars": plan}}))
    answers = {
        "provision_storage_wait": "false",
        "provision_storage_batch_size": "50",
        "provision_storage_wait_timeout": "60",
        "provision_storage_migrate_flexvolume": "false",
        "provision_storage_context": "",
    }
    lab.kubectl("delete", "namespace", RUNNER_NS, "--ignore-not-found", "--wait=true", check=False)
    lab.kubectl("delete", "storageclass", "runner-essd", "--ignore-not-found", check=False)
    lab.kubectl("create", "namespace", RUNNER_NS)
    try:
        job = run_job(
            tmp_path, "provision-storage.yml", answers, inventory=[lab.inventory, inventory]
        )
        assert_successful(job)
        published = job.artifacts["provision_storage"]
        assert published["changed"] is True, published
        entry = assert_summary(job, "provision-storage")
        assert entry["changes"] == published["changes"], entry
        assert entry["counts"].get("ok", 0) + entry["counts"].get("warning", 0) == 1, entry
        assert published["migrated"] == [], published  # "false": no migration ran
        assert lab.kubectl_json("get", "storageclass", "runner-essd")["provisioner"]
        assert (
            lab.kubectl_json("get", "pvc", "-n", RUNNER_NS, "runner-data")["spec"][
                "storageClassName"
            ]
            == "runner-essd"
        )

        again = run_job(
            tmp_path, "provision-storage.yml", answers, inventory=[lab.inventory, inventory]
        )
        assert_successful(again)
        assert again.artifacts["provision_storage"]["changed"] is False, again.artifacts
        assert again.changed_tasks == []
    finally:
        lab.kubectl(
            "delete", "namespace", RUNNER_NS, "--ignore-not-found", "--wait=true", check=False
        )
        lab.kubectl("delete", "storageclass", "runner-essd", "--ignore-not-found", check=False)


def test_release_workflow_steps_through_runner(lab, tmp_path):
    """The `ack: release` workflow of awx/controller.yml walked on its success path, one runner job per node.

    The application's identity is in the inventory (the survey does not ask for
    it); each node's extra_data is passed as survey answers, in strings.
    """
    from tests.integration.test_release import App

    app = App(lab, tmp_path, "ingress", "ack")
    try:
        identity = {k: v for k, v in app.vars.items() if k != "release_report_dir"}
        inventory = tmp_path / "release.yml"
        inventory.write_text(yaml.safe_dump({"all": {"vars": identity}}))
        controller = yaml.safe_load((REPO / "awx" / "controller.yml").read_text())
        workflow = next(
            w for w in controller["ackops_awx_workflows"] if w["name"] == "ack: release"
        )
        nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
        targets = {
            t["identifier"]
            for n in nodes.values()
            for ts in (n.get("related") or {}).values()
            for t in ts
        }
        node = next(n for i, n in nodes.items() if i not in targets)
        walked = []
        while node is not None:
            if node["unified_job_template"]["type"] == "job_template":
                answers = {k: str(v) for k, v in (node.get("extra_data") or {}).items()}
                answers["release_wait_timeout"] = "90"
                job = run_job(
                    tmp_path, "release.yml", answers, inventory=[lab.inventory, inventory]
                )
                assert_successful(job)
                published = job.artifacts["release"]
                assert published["step"] == answers["release_step"], published
                entry = assert_summary(job, f"release-{answers['release_step']}", html=False)
                assert entry["changes"] == published["changes"], entry
                walked.append(answers["release_step"])
                if answers["release_step"] == "shift":
                    # "20" from the workflow node is the weight the ACK rule carries.
                    weights = app.annotations("ingress", "web")[
                        "nginx.ingress.kubernetes.io/service-weight"
                    ]
                    assert re.search(r"\bweb-v2\s*:\s*20\b", weights), weights
            success = (node.get("related") or {}).get("success_nodes") or []
            node = nodes[success[0]["identifier"]] if success else None
        assert walked == ["status", "deploy", "shift", "promote", "retire"]
        assert app.get("deployment", "web-v1") is None or app.replicas("web-v1") == 0

        # After retire there is nothing to roll back to: refused, and the job's
        # summary says so in one line (what an alert pages with).
        late = run_job(
            tmp_path,
            "release.yml",
            {"release_step": "rollback"},
            inventory=[lab.inventory, inventory],
        )
        entry = assert_summary(late, "release-rollback", failed=True, html=False)
        assert entry["reason"].startswith(
            f"release {identity['release_name']} step rollback failed:"
        )
    finally:
        app.cleanup()


# ---------------------------------------------------------------- reports people look at


def test_storage_migration_page_in_chromium(lab, tmp_path):
    """The flexVolume migration plan as the HTML page shows it, with no credential on it."""
    from tests.html_browser import Browser, column, tables
    from tests.integration.test_provision_storage import AK_ID, AK_SECRET, FLEX_NS, seed_flex

    def clean():
        lab.kubectl("delete", "namespace", FLEX_NS, "--ignore-not-found", "--wait=true",
                    "--timeout=120s", check=False)  # fmt: skip
        for pv in lab.kubectl_json("get", "pv")["items"]:
            name = pv["metadata"]["name"]
            if name.startswith(("pst-flex", "d-bp1pstflex")) or (
                (pv["spec"].get("claimRef") or {}).get("namespace") == FLEX_NS
            ):
                lab.kubectl("delete", "pv", name, "--ignore-not-found", "--wait=false", check=False)
        lab.kubectl("delete", "storageclass", "pst-flex-ssd", "--ignore-not-found", check=False)

    clean()
    try:
        names = seed_flex(lab)
        job = run_job(
            tmp_path,
            "provision-storage.yml",
            {"provision_storage_migrate_flexvolume": "true"},
            inventory=[lab.inventory],
            awx_vars={"provision_storage_migrate_volumes": names},
            cmdline="--check",
        )
        assert_successful(job)
        entry = assert_summary(job, "provision-storage")
        assert entry["counts"] == {"info": len(names)}, entry  # planned, nothing migrated
        page = Path(entry["html"])
        text = page.read_text()
        for secret in (AK_SECRET, AK_ID):
            assert secret not in text
            assert secret not in (job.reports / "provision-storage.json").read_text()
        browser = Browser()
        try:
            browser.open(page)
            claims, migration = tables(browser)
            assert claims["rows"] == []
            assert sorted(column(migration, "PV")) == sorted(names)
            assert set(column(migration, "State")) == {"planned"}
            assert {r["background"] for r in migration["rows"]} == {"rgb(228, 238, 251)"}
            browser.type_into("#filter", "nas")
            assert column(tables(browser)[1], "PV") == ["pst-flex-nas"]
            browser.type_into("#filter", "")
            browser.screenshot("provision-storage-migration")
        finally:
            browser.close()
    finally:
        clean()


def awx_slices(hosts: list[str], count: int) -> list[list[str]]:
    """How AWX slices a job: the inventory's hosts in name order, host i in slice i mod N."""
    ordered = sorted(hosts)
    return [ordered[index::count] for index in range(count)]


def _only_hosts(group: dict, keep: set[str]) -> dict:
    """An inventory group (YAML form) with only the hosts in ``keep``, its vars and children kept."""
    out = dict(group or {})
    if isinstance(out.get("hosts"), dict):
        out["hosts"] = {h: v for h, v in out["hosts"].items() if h in keep}
    if isinstance(out.get("children"), dict):
        out["children"] = {g: _only_hosts(c, keep) for g, c in out["children"].items()}
    return out


def slice_inventory(source: Path, hosts: list[str], dest: Path) -> Path:
    """The inventory AWX gives one slice: only its hosts, with their vars, every group kept.

    ``source`` is a YAML inventory file or a directory of them; the group_vars/
    and host_vars/ beside them are copied as they are. Written under ``dest``;
    returns what to pass as the inventory (the directory, or the file).
    """
    import shutil

    dest.mkdir(parents=True)
    keep = set(hosts)
    base = source if source.is_dir() else source.parent
    for name in ("group_vars", "host_vars"):
        if (base / name).is_dir():
            shutil.copytree(base / name, dest / name)
    files = sorted(source.glob("*.y*ml")) if source.is_dir() else [source]
    for path in files:
        doc = yaml.safe_load(path.read_text()) or {}
        sliced = {name: _only_hosts(group, keep) for name, group in doc.items()}
        (dest / path.name).write_text(yaml.safe_dump(sliced, sort_keys=False))
    return dest if source.is_dir() else dest / source.name


def _without_clock(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows by host, without what depends on the moment of reading (checked apart)."""
    by_host: dict[str, list[dict]] = {}
    for row in rows:
        rest = {k: v for k, v in row.items() if k not in ("days_left", "residual_time")}
        by_host.setdefault(row["host"], []).append(rest)
    return by_host


def test_sliced_report_merges_to_the_single_run_report(lab_handle, tmp_path):
    """4 slices of the certificate report, each with its slice's inventory as AWX gives it, merged = one run.

    The slices share a run id (AWX's workflow job id); a merge before the last
    slice has run fails naming the missing hosts, and the whole merge equals a
    single run, host for host.
    """
    from tests.html_browser import Browser, tables

    lab = lab_handle.ensure("small", workers=4)
    hosts = [h.name for h in lab.hosts]
    assert len(hosts) >= 5, hosts  # every slice has a host, one has two
    answers = {"renew_certs_action": "report", "renew_certs_fail_on_critical": "false"}
    single = run_job(tmp_path, "renew-certs.yml", answers, inventory=[lab.inventory])
    assert_successful(single)
    expected = json.loads((single.reports / "renew-certs.json").read_text())

    shared = tmp_path / "shared"
    parts = awx_slices(hosts, 4)
    merge_answers = {"report_merge_name": "renew-certs"}
    for number, part in enumerate(parts):
        if number == len(parts) - 1:
            # One slice has not reported yet: the merge writes what it has,
            # names the hosts it lacks and fails; the fragments stay.
            early = run_job(
                tmp_path,
                "report-merge.yml",
                merge_answers,
                inventory=[lab.inventory],
                reports=shared,
            )
            assert early.status == "failed", early.output[-3000:]
            reason = assert_summary(early, "renew-certs", failed=True)["reason"]
            assert reason == (
                f"{len(part)} of {len(hosts)} expected hosts have no fragment "
                f"(a slice failed or did not run): {', '.join(sorted(part))}"
            )
            assert early.artifacts["report_merge"]["missing_hosts"] == sorted(part)
            assert json.loads((shared / "renew-certs.json").read_text())["missing_hosts"] == sorted(
                part
            )
            assert len(list(shared.glob("renew-certs.fragment-*.json"))) == 3
        # A slice's inventory holds only its hosts (groups['masters'] lists
        # only its masters); the controller plays run on the implicit localhost.
        inventory = slice_inventory(lab.inventory, part, tmp_path / f"slice-{number}")
        job = run_job(
            tmp_path,
            "renew-certs.yml",
            answers,
            inventory=[inventory],
            awx_vars={"ackops_report_fragment": True, "awx_workflow_job_id": 4242},
            reports=shared,
        )
        assert_successful(job)
        mine = [json.loads(f.read_text()) for f in shared.glob("renew-certs.fragment-*.json")]
        assert {
            "report": "renew-certs",
            "covered_hosts": sorted(part),
            "run_id": "4242",
            "additive": [],
        } in [m["fragment"] for m in mine]
    assert len(list(shared.glob("renew-certs.fragment-*.json"))) == 4

    # A renewal refuses to run sliced, before anything.
    refused = run_job(
        tmp_path,
        "renew-certs.yml",
        {"renew_certs_action": "renew"},
        inventory=[lab.inventory],
        awx_vars={"ackops_report_fragment": True},
        reports=shared,
    )
    assert_refused_unchanged(refused, "renew_certs_action")

    # The merge template runs with the job's (whole) inventory: it expects every
    # host. It pages (fails, one line) exactly when the single run would have
    # with renew_certs_fail_on_critical: on critical or expired certificates.
    merge = run_job(
        tmp_path, "report-merge.yml", merge_answers, inventory=[lab.inventory], reports=shared
    )
    summary = expected["summary"]
    if summary["critical"] + summary["expired"]:
        reason = assert_summary(merge, "renew-certs", failed=True)["reason"]
        assert reason.startswith(
            f"{summary['expired']} expired and {summary['critical']} critical certificates"
        ), reason
    else:
        assert_successful(merge)
        assert_summary(merge, "renew-certs")
    assert merge.artifacts["report_merge"]["covered_hosts"] == sorted(hosts)
    assert merge.artifacts["report_merge"]["missing_hosts"] == []
    assert merge.artifacts["report_merge"]["fragments"] == 4
    assert not list(shared.glob("renew-certs.fragment-*"))  # merged, then removed
    merged = json.loads((shared / "renew-certs.json").read_text())
    assert merged["missing_hosts"] == []

    # Host for host, the same certificates, in the same order, the same verdicts.
    assert _without_clock(merged["certificates"]) == _without_clock(expected["certificates"])
    assert [(r["host"], r["id"]) for r in merged["certificates"]] == [
        (r["host"], r["id"]) for r in expected["certificates"]
    ]
    for got, want in zip(merged["certificates"], expected["certificates"], strict=True):
        assert abs(got["days_left"] - want["days_left"]) <= 1, (got, want)
    for key in (
        "hosts",
        "total",
        "ok",
        "warning",
        "critical",
        "expired",
        "worst",
        "key_mismatches",
    ):
        assert merged["summary"][key] == expected["summary"][key], key
    assert merged["thresholds"] == expected["thresholds"]
    assert merged["unreachable"] == expected["unreachable"]
    assert set(_without_clock(merged["certificates"])) == set(hosts)
    counts = merge.artifacts["ackops_reports"]["renew-certs"]["counts"]
    assert counts == single.artifacts["ackops_reports"]["renew-certs"]["counts"]

    # And the two pages show the same rows, host for host.
    browser = Browser()
    try:
        pages = {}
        for name, path in (("single", single.reports), ("merged", shared)):
            browser.open(path / "renew-certs.html")
            (table,) = tables(browser)
            days = table["headers"].index("Days left")
            pages[name] = [
                [c for i, c in enumerate(r["cells"]) if i != days] + [r["severity"]]
                for r in table["rows"]
            ]
            browser.screenshot(f"renew-certs-{name}")
        assert pages["merged"] == pages["single"]
        assert len(pages["single"]) == len(expected["certificates"])
    finally:
        browser.close()
