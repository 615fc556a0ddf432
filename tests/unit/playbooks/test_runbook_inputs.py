"""Bad input stops renew-certs and ingress-ha before any host or API is contacted.

The example inventory's hosts do not exist: a run that got as far as
connecting to one would end unreachable, and one that reached the API would
fail on the connection. Both must fail on the role's argument spec (or its
cross-checks) first, naming the variable, with no traceback.
"""

from __future__ import annotations

import re

import pytest

from tests.catalogue import record

from .test_planning_runbooks import run

pytestmark = pytest.mark.slow


def recaps(output: str) -> dict[str, dict[str, int]]:
    return {
        host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
        for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.MULTILINE)
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"renew_certs_action": "delete"},
            "value of renew_certs_action must be one of: renew, report, got: delete",
        ),
        (
            {"renew_certs_threshold_days": "soon"},
            "argument 'renew_certs_threshold_days' is of type str and we were unable to convert to int",
        ),
        (
            {"renew_certs_critical_days": 40},
            "renew_certs_critical_days (40) must not exceed renew_certs_warning_days (30)",
        ),
    ],
)
def test_renew_certs_refuses_bad_input_once_before_touching_a_host(extra, message):
    result = run("renew-certs.yml", extra=extra)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2
    assert message in output
    assert "Traceback" not in output
    # Checked once, on the first host, and no host was ever connected to
    # (localhost only ran the play that checks the inventory has hosts).
    counts = recaps(result.stdout)
    assert counts == {
        "localhost": {**counts["localhost"], "failed": 0, "unreachable": 0},
        "k8s-master-1": {**counts["k8s-master-1"], "failed": 1, "unreachable": 0},
    }
    record("renew-certs", "variable", extra, message,
           "stopped before any host was contacted: recap unreachable=0 on every host "
           "(the example inventory's hosts do not exist)")  # fmt: skip


def test_ingress_ha_refuses_bad_input_before_reaching_the_api():
    result = run("ingress-ha.yml", extra={"ingress_ha_controller_kind": "StatefulSet"})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2
    assert (
        "value of ingress_ha_controller_kind must be one of: auto, Deployment, DaemonSet, "
        "got: StatefulSet" in output
    )
    # The message says which role and entry point refused it.
    assert "validate_args_context: argument_spec_name: main name: ingress_ha" in output
    record("ingress-ha", "variable", {"ingress_ha_controller_kind": "StatefulSet"},
           "value of ingress_ha_controller_kind must be one of: auto, Deployment, DaemonSet, "
           "got: StatefulSet")  # fmt: skip
