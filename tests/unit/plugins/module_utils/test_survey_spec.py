"""Survey specs from argument specs: the type mapping, and the committed awx/surveys match the roles."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ackops.runbooks.plugins.module_utils.surveys.spec import (
    QUESTION_TYPES,
    SurveySpecError,
    left_out,
    question,
    survey_spec,
)

REPO = Path(__file__).resolve().parents[4]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_surveys", REPO / "awx" / "generate_surveys.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_surveys_match_the_argument_specs():
    expected = _generator().generate(REPO)
    committed = {p.name: p.read_text() for p in (REPO / "awx" / "surveys").glob("*.json")}
    assert set(committed) == set(expected), (
        "awx/surveys/ and awx/surveys.yml list different runbooks"
    )
    for name, text in expected.items():
        assert committed[name] == text, (
            f"awx/surveys/{name} is stale: run .venv/bin/python awx/generate_surveys.py"
        )


def test_a_changed_argument_spec_makes_the_committed_survey_stale(tmp_path):
    # The comparison above can fail: a new option in a copy of the repo's specs
    # yields a different survey.
    (tmp_path / "awx").symlink_to(REPO / "awx")
    roles = tmp_path / "roles" / "ingress_ha" / "meta"
    roles.mkdir(parents=True)
    specs = yaml.safe_load(
        (REPO / "roles" / "ingress_ha" / "meta" / "argument_specs.yml").read_text()
    )
    specs["argument_specs"]["main"]["options"]["ingress_ha_new_flag"] = {
        "type": "bool",
        "default": False,
        "description": "x",
    }
    (roles / "argument_specs.yml").write_text(yaml.safe_dump(specs))
    for role in (REPO / "roles").iterdir():
        if role.name != "ingress_ha":
            (tmp_path / "roles" / role.name).symlink_to(role)
    regenerated = _generator().generate(tmp_path)
    committed = (REPO / "awx" / "surveys" / "ingress-ha.json").read_text()
    assert regenerated["ingress-ha.json"] != committed
    assert "ingress_ha_new_flag" in regenerated["ingress-ha.json"]


def test_type_mapping():
    assert question("r_flag", {"type": "bool", "default": False}, "r_") == {
        "variable": "r_flag",
        "question_name": "Flag",
        "question_description": "",
        "required": True,
        "type": "multiplechoice",
        "choices": ["true", "false"],
        "default": "false",
    }
    days = question("r_days", {"type": "int", "default": 30, "description": ["Days", "left."]})
    assert (days["type"], days["default"], days["question_description"]) == (
        "integer",
        30,
        "Days left.",
    )
    assert question("r_ratio", {"type": "float", "default": 1})["default"] == 1.0
    mode = question("r_mode", {"type": "str", "choices": ["a", "b"], "default": "b"})
    assert (mode["type"], mode["choices"], mode["default"], mode["required"]) == (
        "multiplechoice",
        ["a", "b"],
        "b",
        True,
    )
    unset = question("r_alg", {"type": "str", "choices": ["", "RSA", "ECDSA"], "default": ""})
    assert (unset["choices"], unset["required"], unset["default"]) == (["RSA", "ECDSA"], False, "")
    multi = question(
        "r_skip", {"type": "list", "elements": "str", "choices": ["x", "y"], "default": ["y"]}
    )
    assert (multi["type"], multi["default"]) == ("multiselect", "y")
    items = question("r_ns", {"type": "list", "elements": "str", "default": ["a", "b"]})
    assert (items["type"], items["default"]) == ("text", "a,b")
    name = question("r_name", {"type": "str", "required": True})
    assert (name["type"], name["required"], name["default"]) == ("text", True, "")
    assert question("r_token", {"type": "str", "no_log": True})["type"] == "password"


def test_left_out_by_rule():
    spec = {
        "options": {
            "r_plan": {"type": "dict"},
            "r_any": {"type": "raw"},
            "r_dir": {"type": "path"},
            "r_report_dir": {"type": "str", "default": "{{ ackops_report_dir }}"},
            "r_kubeconfig": {"type": "str"},
            "r_gates": {"type": "list", "elements": "dict"},
            "r_hidden": {"type": "str"},
            "r_kept": {"type": "int"},
        }
    }
    survey = survey_spec("r", "d", spec, "r_", exclude=["r_hidden"])
    assert [q["variable"] for q in survey["spec"]] == ["r_kept"]
    assert set(left_out(spec, ["r_hidden"])) == set(spec["options"]) - {"r_kept"}


def test_order_and_unknown_names():
    spec = {"options": {"r_a": {"type": "int"}, "r_b": {"type": "int"}, "r_c": {"type": "int"}}}
    assert [q["variable"] for q in survey_spec("r", "d", spec, order=["r_c"])["spec"]] == [
        "r_c",
        "r_a",
        "r_b",
    ]
    with pytest.raises(SurveySpecError, match="r_zz"):
        survey_spec("r", "d", spec, exclude=["r_zz"])
    with pytest.raises(SurveySpecError, match="r_m"):
        question("r_m", {"type": "str", "choices": ["a"], "default": "z"})


SURVEYS = sorted((REPO / "awx" / "surveys").glob("*.json"))


@pytest.mark.parametrize("path", SURVEYS, ids=[p.stem for p in SURVEYS])
def test_every_default_answer_passes_the_role_validation(path):
    """Each survey's defaults, as AWX sends them, are accepted by the role's own argument spec."""
    table = yaml.safe_load((REPO / "awx" / "surveys.yml").read_text())["surveys"][path.stem]
    role_spec = yaml.safe_load(
        (REPO / "roles" / table["role"] / "meta" / "argument_specs.yml").read_text()
    )
    options = role_spec["argument_specs"][table["entry_point"]]["options"]
    survey = json.loads(path.read_text())
    assert survey["name"] == path.stem
    answers = {}
    for q in survey["spec"]:
        assert q["type"] in QUESTION_TYPES, q
        assert q["variable"] in options, q["variable"]
        assert q["question_description"], f"{q['variable']} has no description"
        if q["type"] == "multiplechoice" and q.get("default"):
            assert q["default"] in q["choices"], q
        if q["type"] == "multiselect":
            answers[q["variable"]] = [c for c in q.get("default", "").split("\n") if c]
        elif q.get("default") not in (None, ""):
            answers[q["variable"]] = q["default"]
    # Only what the survey answers, validated without the options it leaves out.
    asked = {k: v for k, v in options.items() if k in answers}
    for option in asked.values():
        option.pop("required", None)
    result = ArgumentSpecValidator(asked).validate(answers)
    assert not result.error_messages, result.error_messages
