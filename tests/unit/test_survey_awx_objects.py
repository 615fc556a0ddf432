"""The AWX objects as code (awx/controller.yml, awx/apply.yml): consistent with the repo and the surveys.

No AWX is reachable here: these check the objects apply.yml would create —
every job template runs a playbook of the project with a committed survey,
every workflow node and schedule names an object that exists, every answer a
workflow node or schedule gives is a question of the template's survey (AWX
refuses extra_data a survey does not ask for) and a valid answer to it, the
renewal runs only behind an approval — and that apply.yml passes
--syntax-check and refuses to run without CONTROLLER_HOST.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AWX = REPO / "awx"
CONTROLLER = yaml.safe_load((AWX / "controller.yml").read_text())
TEMPLATES = {t["name"]: t for t in CONTROLLER["ackops_awx_job_templates"]}
WORKFLOWS = {w["name"]: w for w in CONTROLLER["ackops_awx_workflows"]}


def survey_of(template_name: str) -> dict[str, dict]:
    survey = json.loads(
        (AWX / "surveys" / f"{TEMPLATES[template_name]['survey']}.json").read_text()
    )
    return {q["variable"]: q for q in survey["spec"]}


def answer_problem(question: dict, value) -> str | None:
    """What AWX's survey validation would refuse in ``value``, or None."""
    kind = question["type"]
    if kind == "multiplechoice" and str(value) not in question["choices"]:
        return f"{value!r} is not one of {question['choices']}"
    if kind == "multiselect" and not set(value) <= set(question["choices"]):
        return f"{value!r} is not a subset of {question['choices']}"
    if kind == "integer" and not (isinstance(value, int) or re.fullmatch(r"-?\d+", str(value))):
        return f"{value!r} is not an integer"
    return None


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_job_template_runs_a_project_playbook_with_its_survey(name):
    template = TEMPLATES[name]
    assert (REPO / template["playbook"]).is_file(), template["playbook"]
    assert (AWX / "surveys" / f"{template['survey']}.json").is_file()
    # The survey is generated from the playbook's role: renew-certs.yml has the
    # renew-certs survey or a variant of it (renew-certs-report).
    surveys = yaml.safe_load((AWX / "surveys.yml").read_text())["surveys"]
    runbook = template["playbook"].removesuffix(".yml")
    assert surveys[template["survey"]]["role"] == surveys[runbook]["role"], name


def _answers():
    for workflow in CONTROLLER["ackops_awx_workflows"]:
        for node in workflow["workflow_nodes"]:
            ujt = node["unified_job_template"]
            if ujt["type"] == "job_template":
                yield (
                    f"{workflow['name']}/{node['identifier']}",
                    ujt["name"],
                    node.get("extra_data", {}),
                )
    for schedule in CONTROLLER["ackops_awx_schedules"]:
        if "job_template" in schedule:
            yield schedule["name"], schedule["job_template"], schedule.get("extra_data", {})


@pytest.mark.parametrize(
    ("where", "template", "extra"), list(_answers()), ids=[a[0] for a in _answers()]
)
def test_every_given_answer_is_a_valid_survey_answer(where, template, extra):
    assert template in TEMPLATES, f"{where}: no job template {template!r}"
    questions = survey_of(template)
    for variable, value in extra.items():
        assert variable in questions, (
            f"{where}: {variable} is not asked by the survey of {template}"
        )
        assert answer_problem(questions[variable], value) is None, (where, variable)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_workflow_graph_is_whole(name):
    nodes = WORKFLOWS[name]["workflow_nodes"]
    ids = [n["identifier"] for n in nodes]
    assert len(ids) == len(set(ids)), "identifiers repeat"
    targets = set()
    for node in nodes:
        ujt = node["unified_job_template"]
        assert ujt["type"] in ("job_template", "workflow_approval"), ujt
        if ujt["type"] == "job_template":
            assert ujt["name"] in TEMPLATES, ujt["name"]
        else:
            assert ujt["timeout"] > 0, "an approval without a timeout waits forever"
            assert "extra_data" not in node
        for kind, linked in (node.get("related") or {}).items():
            assert kind in ("success_nodes", "failure_nodes", "always_nodes"), kind
            for link in linked:
                assert link["identifier"] in ids, f"{node['identifier']} -> {link['identifier']}"
                targets.add(link["identifier"])
    roots = [i for i in ids if i not in targets]
    assert len(roots) == 1, f"one start node expected, got {roots}"


def _parents(nodes, kinds=("success_nodes",)):
    parents = {}
    for node in nodes:
        for kind in kinds:
            for link in (node.get("related") or {}).get(kind, []):
                parents.setdefault(link["identifier"], []).append(node)
    return parents


def test_renewal_only_after_approval():
    nodes = WORKFLOWS["ack: monthly certificate renewal"]["workflow_nodes"]
    parents = _parents(nodes, ("success_nodes", "failure_nodes", "always_nodes"))
    renewals = [
        n for n in nodes if (n.get("extra_data") or {}).get("renew_certs_action") == "renew"
    ]
    assert renewals
    for renew in renewals:
        # The only way in is an approval's success.
        into = parents[renew["identifier"]]
        assert [p["unified_job_template"]["type"] for p in into] == ["workflow_approval"]
        approval = into[0]
        assert renew["identifier"] in [
            x["identifier"] for x in approval["related"]["success_nodes"]
        ]
        # And the approval follows a report.
        before = parents[approval["identifier"]]
        assert all(p["extra_data"]["renew_certs_action"] == "report" for p in before)


def test_release_workflow_walks_the_steps_and_rolls_back():
    nodes = WORKFLOWS["ack: release"]["workflow_nodes"]
    steps = {n["identifier"]: (n.get("extra_data") or {}).get("release_step") for n in nodes}
    choices = survey_of("ack: release step")["release_step"]["choices"]
    assert {s for s in steps.values() if s} <= set(choices)
    parents = _parents(nodes, ("failure_nodes",))
    rollback = next(i for i, s in steps.items() if s == "rollback")
    # Every step that changes traffic rolls back on failure.
    assert {p["identifier"] for p in parents[rollback]} >= {"deploy", "shift", "promote"}
    promote = next(i for i, s in steps.items() if s == "promote")
    assert [p["unified_job_template"]["type"] for p in _parents(nodes)[promote]] == [
        "workflow_approval"
    ]


def test_schedules_name_objects_and_valid_rrules():
    names = set(TEMPLATES) | set(WORKFLOWS)
    for schedule in CONTROLLER["ackops_awx_schedules"]:
        target = schedule.get("job_template") or schedule.get("workflow")
        assert target in names, target
        assert re.fullmatch(
            r"DTSTART;TZID=[\w/+-]+:\d{8}T\d{6} RRULE:FREQ=(DAILY|WEEKLY|MONTHLY)(;[A-Z]+=[\w,+-]+)*",
            schedule["rrule"],
        ), schedule["rrule"]
    nightly = next(s for s in CONTROLLER["ackops_awx_schedules"] if "nightly" in s["name"])
    assert "FREQ=DAILY" in nightly["rrule"]
    assert nightly["extra_data"]["renew_certs_action"] == "report"
    monthly = next(s for s in CONTROLLER["ackops_awx_schedules"] if "monthly" in s["name"])
    assert "FREQ=MONTHLY" in monthly["rrule"]
    assert monthly.get("workflow") == "ack: monthly certificate renewal"


def test_renewal_is_never_sliced():
    assert TEMPLATES["ack: certificates"]["job_slice_count"] == 1
    for name, template in TEMPLATES.items():
        if template.get("job_slice_count", 1) > 1:
            # A sliced template can only report, and writes fragments.
            assert template["playbook"] == "renew-certs.yml", name
            assert template["extra_vars"]["renew_certs_action"] == "report", name
            assert template["extra_vars"]["ackops_report_fragment"] is True, name


def test_sliced_template_launched_as_is_reports():
    """A sliced template's launch answers (survey defaults over extra vars, as AWX) never renew.

    In AWX a survey answer overrides the template's extra_vars: a survey asking
    renew_certs_action (default renew) would turn every direct launch of the
    sliced template into a renewal, refused by the sliced-renewal guard.
    """
    sliced = [t for t in TEMPLATES.values() if t.get("job_slice_count", 1) > 1]
    assert sliced
    for template in sliced:
        questions = survey_of(template["name"])
        launched = {**template["extra_vars"]}
        launched |= {v: q["default"] for v, q in questions.items() if "default" in q}
        assert launched["renew_certs_action"] == "report", template["name"]
        assert "renew_certs_action" not in questions, template["name"]
        assert "renew_certs_force" not in questions, template["name"]
        # The generated survey keeps the report's questions.
        assert {"renew_certs_fail_on_critical", "renew_certs_warning_days"} <= set(questions)


def test_merge_node_gates_the_fleet_report():
    """The merge (not the slices) fails on critical certificates and on hosts no slice reported."""
    for workflow in WORKFLOWS.values():
        for node in workflow["workflow_nodes"]:
            if (node.get("extra_data") or {}).get("report_merge_name"):
                assert node["extra_data"].get("report_merge_fail_on_critical", "true") == "true"
                questions = survey_of(node["unified_job_template"]["name"])
                assert questions["report_merge_fail_on_critical"]["default"] == "true"


def test_sliced_report_is_merged_by_a_workflow_node():
    """Every node of a sliced template leads (always, even when a slice failed) to the merge."""
    merged = 0
    for workflow in WORKFLOWS.values():
        nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
        for node in nodes.values():
            template = TEMPLATES.get(node["unified_job_template"]["name"], {})
            if template.get("job_slice_count", 1) == 1:
                continue
            (link,) = node["related"]["always_nodes"]
            merge = nodes[link["identifier"]]
            assert TEMPLATES[merge["unified_job_template"]["name"]]["playbook"] == (
                "report-merge.yml"
            )
            assert merge["extra_data"]["report_merge_name"] == "renew-certs"
            merged += 1
    assert merged, "no workflow merges a sliced report"


def _playbook(*args, env=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLLER_")}
    full_env.update(
        PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
        ANSIBLE_FORCE_COLOR="0",
        **(env or {}),
    )
    return subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "ansible-playbook"),
            "-i",
            "localhost,",
            "awx/apply.yml",
            *args,
        ],
        cwd=REPO,
        text=True,
        capture_output=True,
        env=full_env,
        timeout=300,
    )


def test_apply_playbook_syntax():
    proc = _playbook("--syntax-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_apply_refuses_without_a_controller():
    proc = _playbook()
    assert proc.returncode != 0
    assert "Set CONTROLLER_HOST" in proc.stdout, proc.stdout


def test_apply_surveys_load_as_awx_expects():
    """The survey_spec apply.yml sends: the committed JSON, name/description/spec."""
    for template in TEMPLATES.values():
        survey = json.loads((AWX / "surveys" / f"{template['survey']}.json").read_text())
        assert set(survey) == {"name", "description", "spec"}
        assert survey["spec"], template["name"]
        variables = [q["variable"] for q in survey["spec"]]
        assert len(variables) == len(set(variables))
