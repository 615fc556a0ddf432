"""swarm_compose_convert: manifests written once and compared, check mode, Secrets kept out of output."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import Changes
from ansible_collections.ackops.runbooks.plugins.modules.swarm_compose_convert import (
    ARGSPEC,
    convert_stack,
)
from tests.unit.plugins.modules.test_failure_contract import run_adhoc

REPO = Path(__file__).resolve().parents[4]
SHOP = REPO / "tests" / "unit" / "fixtures" / "compose" / "shop"
SECRET = "db-pass-value-5e1f"


class FakeModule:
    def __init__(self, params: dict, check_mode=False, diff=False):
        result = ArgumentSpecValidator(ARGSPEC).validate(params)
        assert not result.error_messages, result.error_messages
        self.params = result.validated_parameters
        self.check_mode = check_mode
        self._diff = diff


def run(params, **kwargs):
    changes = Changes()
    return convert_stack(FakeModule(params, **kwargs), changes), changes


@pytest.fixture
def shop(tmp_path):
    copy = tmp_path / "shop"
    shutil.copytree(SHOP, copy)
    return {
        "files": [str(copy / "compose.yml"), str(copy / "compose.prod.yml")],
        "variables": {"FROM_SHELL": "x"},
        "namespace": "shop",
        "secret_values": {"db_password": SECRET},
        "dest": str(tmp_path / "out"),
    }


def test_writes_once_then_nothing_changes(shop):
    first, changes = run(shop)
    assert first["changed"] is True
    names = sorted(os.listdir(shop["dest"]))
    assert "05-deployment-web.yaml" in names  # kinds numbered by apply order
    assert "04-service-web-published.yaml" in names
    assert [c["action"] for c in changes][:2] == ["created", "wrote"]
    assert first["manifests"]["held_back"] == [
        "02-secret-api-token.yaml",
        "02-secret-db-password.yaml",
    ]
    second, changes = run(shop)
    assert second["changed"] is False
    assert second["manifests"]["written"] == []
    assert list(changes) == []


def test_check_mode_writes_nothing_and_diff_shows_the_change(shop):
    run(shop)
    web = Path(shop["dest"]) / "05-deployment-web.yaml"
    web.write_text("edited by hand\n")
    result, changes = run(shop, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["manifests"]["written"] == [str(web)]
    assert web.read_text() == "edited by hand\n"
    assert list(changes) == []
    assert result["diff"][0]["before"] == "edited by hand\n"
    assert "kind: Deployment" in result["diff"][0]["after"]


def test_secret_values_are_redacted_and_written_only_when_asked(shop):
    result, _changes = run({**shop, "write_secrets": True}, diff=True)
    secrets = [o for o in result["objects"] if o["kind"] == "Secret"]
    assert [s["data"] for s in secrets] == [
        {"api_token": "<redacted>"},
        {"db_password": "<redacted>"},
    ]
    assert SECRET not in json.dumps(result)
    path = Path(shop["dest"]) / "02-secret-db-password.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "ZGItcGFzcy12YWx1ZS01ZTFm" in path.read_text()  # base64 of the value, in the file only


def test_stale_manifests_are_listed_not_removed(shop):
    run(shop)
    stale = Path(shop["dest"]) / "05-deployment-old.yaml"
    stale.write_text("kind: Deployment\n")
    result, _changes = run(shop)
    assert result["manifests"]["stale"] == [str(stale)]
    assert stale.exists()


def test_report_parts_for_the_report_writer(shop):
    result, _changes = run({**shop, "dest": None})
    assert "manifests" not in result
    assert result["report_markdown"].startswith("# Swarm stack shop: conversion to Kubernetes")
    assert result["report_stats"]["migrate_swarm"]["services"] == 7
    assert (
        result["report_stats"]["migrate_swarm"]["behaviour_changes"]
        == (result["report"]["summary"]["behaviour_changes"])
    )


def _adhoc(args: dict) -> dict:
    result = run_adhoc("swarm_compose_convert", args)
    assert SECRET not in json.dumps(result)
    return result


@pytest.mark.slow
def test_through_ansible_no_secret_in_the_output(shop):
    result = _adhoc({**shop, "write_secrets": True})
    assert result["changed"] is True
    assert "failed" not in result


@pytest.mark.slow
def test_a_secret_variable_is_not_in_the_vvv_output(tmp_path):
    # A secret whose source is environment: names a variable; a caller may pass its value in
    # variables (not no_log): Ansible prints module arguments at -vvv.
    token = "tok-3c9a-given-in-variables"
    compose = tmp_path / "compose.yml"
    compose.write_text(
        "services:\n  app:\n    image: app:${TAG}\n    secrets: [token]\n    configs: [banner]\n"
        "secrets:\n  token:\n    environment: TOKEN\n"
        "configs:\n  banner:\n    environment: BANNER\n"
    )
    variables = {"TOKEN": token, "TAG": "tag-shown-77", "BANNER": "banner-shown-55"}
    args = {"files": [str(compose)], "variables": variables}
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,",
         "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}", "-vvv",
         "-m", "ackops.runbooks.swarm_compose_convert", "-a", json.dumps(args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert "SUCCESS" in output, output[-2000:]
    assert token not in output
    # only that variable is masked: the others stay readable (the image tag, a config's content)
    assert "app:tag-shown-77" in output
    assert "banner-shown-55" in output


@pytest.mark.slow
def test_through_ansible_malformed_input_fails_and_writes_nothing(shop, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("services:\n  web:\n    image: x\n    deploy: {replicas: lots}\n")
    result = _adhoc({**shop, "files": [str(bad)]})
    assert result["failed"] is True
    assert result["msg"] == f"{bad}: services.web.deploy.replicas: 'lots' must be a whole number"
    assert result["error"]["details"] == {
        "file": str(bad), "service": "web", "key": "deploy.replicas", "value": "lots"
    }  # fmt: skip
    assert result["partial_changes"] == []
    assert not Path(shop["dest"]).exists()


def test_one_load_balancer_service_may_be_given_as_a_string(shop):
    result, _changes = run({**shop, "dest": None, "load_balancer": {"services": "web"}})
    published = [o for o in result["objects"] if o["metadata"]["name"] == "web-published"]
    assert published[0]["spec"]["type"] == "LoadBalancer"
    db = [o for o in result["objects"] if o["metadata"]["name"] == "db-published"]
    assert db[0]["spec"]["type"] == "NodePort"
