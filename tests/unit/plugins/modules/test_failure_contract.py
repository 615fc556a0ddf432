"""Every module of the collection fails the same way: the error contract, through Ansible.

Each module in plugins/modules/ is run by ``ansible localhost -m`` (the JSON
callback) with an input that must fail, and its failure must hold exactly the
contract's keys (``common.errors.FAILURE_KEYS``, ``error`` with ``ERROR_KEYS``)
beside Ansible's own, with no traceback in ``msg``. The modules are globbed: a
new module fails this test until it has a failing input in ``FAILING``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    ERROR_KEYS,
    FAILURE_KEYS,
)
from tests.catalogue import record

REPO = Path(__file__).resolve().parents[4]
MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py"))
# Keys Ansible itself adds to a failed result (the JSON callback adds ``action``).
ANSIBLE_KEYS = {"failed", "invocation", "exception", "action", "warnings", "deprecations"}
UNREACHABLE_API = "https://127.0.0.1:1"
CORRUPT_CERT = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"

# module -> (why it must fail, arguments); "{tmp}" is a scratch directory holding
# pki/apiserver.crt (corrupt) and kubelet/ (empty).
FAILING = {
    "cluster_plan_info": [
        ("impossible failure ratio", {"workers": {"total_cores": 160, "failure_ratio": 1.5}})
    ],
    "host_lock": [("zero ttl", {"path": "{tmp}/renew.lock", "owner": "run", "ttl": 0})],
    "ingress_ha": [("unreachable API", {"host": UNREACHABLE_API, "validate_certs": False})],
    "k8s_apiserver_info": [
        ("unreachable API", {"server": UNREACHABLE_API, "kubeconfig": "", "timeout": 1}),
        ("missing kubeconfig", {"server": UNREACHABLE_API, "kubeconfig": "{tmp}/none.conf"}),
    ],
    "k8s_cert_backup": [("missing backup", {"state": "restored", "path": "{tmp}/nowhere"})],
    "k8s_cert_info": [("corrupt certificate", {"pki_dir": "{tmp}/pki"})],
    "k8s_control_plane_info": [("negative timeout", {"timeout": -1, "started_after": 0})],
    "k8s_cert_renew": [
        ("corrupt certificate", {"pki_dir": "{tmp}/pki", "backup_dir": "{tmp}/backups"})
    ],
    "k8s_csr_sign": [("not a CSR", {"csr": "garbage", "node_name": "w1", "pki_dir": "{tmp}"})],
    "k8s_job_run": [
        (
            "job without namespace",
            {
                "host": UNREACHABLE_API,
                "job": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}},
            },
        ),
        (
            "unreachable API",
            {
                "host": UNREACHABLE_API,
                "validate_certs": False,
                "job": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {"name": "j", "namespace": "default"},
                },
            },
        ),
    ],
    "k8s_node_csr": [
        (
            "no kubelet credential",
            {
                "kubeconfig_dir": "{tmp}",
                "pki_dir": "{tmp}/none",
                "kubelet_pki_dir": "{tmp}/kubelet",
            },
        )
    ],
    "k8s_object_info": [
        ("unreachable API", {"host": UNREACHABLE_API, "validate_certs": False, "kind": "Node"})
    ],
    "release_step": [
        (
            "unreachable API",
            {
                "host": UNREACHABLE_API,
                "validate_certs": False,
                "step": "status",
                "release": "web",
                "namespace": "shop",
                "old": {"deployment": "web-v1", "service": "web-v1"},
                "new": {"deployment": "web-v2", "service": "web-v2", "labels": {"version": "v2"}},
            },
        )
    ],
    "report_write": [
        ("bad name", {"dir": "{tmp}/reports", "name": "../escape", "data": {}, "markdown": ""})
    ],
    "swarm_compose_convert": [("missing compose file", {"files": ["{tmp}/none.yml"]})],
    "swarm_migrate_apply": [
        ("no compose input", {"host": UNREACHABLE_API, "validate_certs": False})
    ],
    "swarm_node_labels": [
        ("unreachable API", {"host": UNREACHABLE_API, "validate_certs": False, "swarm_nodes": []})
    ],
    "swarm_stack_info": [("no docker CLI", {"stack": "shop", "docker": "{tmp}/no-docker"})],
    "storage_migrate": [("unreachable API", {"host": UNREACHABLE_API, "validate_certs": False})],
    "storage_provision": [
        ("zone outside the region", {"region": "cn-hangzhou", "zones": ["cn-beijing-a"]})
    ],
    "workload_audit_info": [
        ("unreachable API", {"host": UNREACHABLE_API, "validate_certs": False})
    ],
}

CASES = [
    pytest.param(module, args, id=f"{module}-{why}")
    for module in MODULES
    for why, args in FAILING.get(module, [("no failing input", None)])
]


def fill(value, tmp: str):
    if isinstance(value, str):
        return value.replace("{tmp}", tmp)
    if isinstance(value, dict):
        return {key: fill(item, tmp) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, tmp) for item in value]
    return value


def run_adhoc(module: str, args: dict) -> dict:
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="json",
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,",
         "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
         "-m", f"ackops.runbooks.{module}", "-a", json.dumps(args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"no JSON from ansible: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    return out["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.mark.slow
@pytest.mark.parametrize(("module", "args"), CASES)
def test_failure_has_the_contract_keys(module, args, tmp_path):
    assert args is not None, f"add an input that makes {module} fail to FAILING"
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "apiserver.crt").write_text(CORRUPT_CERT)
    (tmp_path / "kubelet").mkdir()
    result = run_adhoc(module, fill(args, str(tmp_path)))

    assert result.get("failed") is True, result
    own = {key for key in result if key not in ANSIBLE_KEYS and not key.startswith("_ansible")}
    assert own == set(FAILURE_KEYS), f"{module} returned {sorted(own)}"
    assert set(result["error"]) == set(ERROR_KEYS)
    assert result["error"]["type"]
    assert result["error"]["cause"]
    assert isinstance(result["error"]["details"], dict)
    assert isinstance(result["partial_changes"], list)
    assert result["changed"] is bool(result["partial_changes"])
    assert result["msg"]
    assert "Traceback" not in result["msg"]
    assert result["error"]["cause"] in result["msg"]
    proof = None if result["partial_changes"] else "module result changed=false, partial_changes []"
    record("every module (failure contract)", "module argument", f"ackops.runbooks.{module} {args}",
           result["msg"], proof)  # fmt: skip
