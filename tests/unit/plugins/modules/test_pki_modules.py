"""The certificate modules end to end through ansible-playbook on localhost.

One play drives inventory, a check-mode renewal, the renewal, a second run,
the worker CSR / master signing / install, and a restore, against a
kubeadm-shaped tree in tmp_path; the -vvv output must hold no key material.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.kubeadm_pki_factory import build_host

REPO = Path(__file__).resolve().parents[4]
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    roots: &roots
      pki_dir: "{pki}"
      kubeconfig_dir: "{kc}"
      kubelet_pki_dir: "{kubelet}"
  tasks:
    - ackops.runbooks.k8s_cert_info: *roots
      register: inv
    - ackops.runbooks.k8s_cert_renew:
        <<: *roots
        backup_dir: "{backups}"
      check_mode: true
      diff: true
      register: plan
    - ackops.runbooks.k8s_cert_renew:
        <<: *roots
        backup_dir: "{backups}"
      diff: true
      register: renewed
    - ackops.runbooks.k8s_cert_renew:
        <<: *roots
        backup_dir: "{backups}"
      register: again
    - ackops.runbooks.k8s_node_csr:
        <<: *roots
        force: true
      register: node_csr
    - ackops.runbooks.k8s_csr_sign:
        pki_dir: "{pki}"
        csr: "{{{{ node_csr.csr }}}}"
        node_name: "{{{{ node_csr.node_name }}}}"
      register: node_cert
    - ackops.runbooks.k8s_node_csr:
        <<: *roots
        state: installed
        certificate: "{{{{ node_cert.certificate }}}}"
      register: installed
    - ackops.runbooks.k8s_cert_backup:
        <<: *roots
        state: restored
        path: "{{{{ renewed.backup }}}}"
      register: restored
    - ansible.builtin.copy:
        dest: "{out}"
        content: "{{{{ dict(inv=inv, plan=plan, renewed=renewed, again=again, node_csr=node_csr,
                   installed=installed, restored=restored,
                   report=({{'localhost': inv}} | ackops.runbooks.cert_report(30, 7))) | to_json }}}}"
"""


@pytest.mark.slow
def test_modules_end_to_end(tmp_path):
    host = build_host(tmp_path, leaf_days=10)
    out = tmp_path / "out.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        PLAYBOOK.format(
            pki=host.pki_dir,
            kc=host.kubeconfig_dir,
            kubelet=host.kubelet_pki_dir,
            backups=host.backup_dir,
            out=out,
        )
    )
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR="1",
    )
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-vvv",
            "--diff",
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PRIVATE KEY" not in done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["inv"]["summary"]["total"] == 16
    assert result["plan"]["changed"] is True
    assert result["plan"]["backup"] is None
    assert len(result["plan"]["renewed"]) == 12
    assert set(result["plan"]["diff"]["before"]) == set(result["plan"]["diff"]["after"])
    assert result["renewed"]["changed"] is True
    assert result["renewed"]["backup"].startswith(host.backup_dir)
    assert result["again"]["changed"] is False
    assert result["again"]["renewed"] == []
    assert result["node_csr"]["needed"] is True
    assert result["installed"]["changed"] is True
    assert result["restored"]["changed"] is True
    assert result["report"]["summary"]["warning"] == 12
