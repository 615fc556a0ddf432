"""swarm_stack_info run as Ansible runs it, against a docker CLI stand-in that answers from JSON.

The stand-in (a script named ``docker``) prints what docker 20.10 prints for
the commands the module runs; the inspect JSON is test_swarm_live's. The lab
test (tests/integration/test_migrate_swarm.py) reads the real Swarm.
"""

from __future__ import annotations

import json
import sys
import textwrap

from tests.unit.plugins.module_utils.test_swarm_live import (
    CONFIGS,
    DB,
    EDGE,
    NETWORKS,
    VOLUMES,
    WEB,
)
from tests.unit.plugins.modules.test_failure_contract import run_adhoc

NODE = {
    "ID": "n1",
    "Spec": {"Role": "manager", "Availability": "active", "Labels": {"zone": "west"}},
    "Description": {"Hostname": "swarm-1", "Engine": {"Labels": {"ackops.lab": "swarm"}}},
    "Status": {"State": "ready"},
}
TASKS = [
    {
        "Name": "shop_web.1",
        "Node": "swarm-1",
        "DesiredState": "Running",
        "CurrentState": "Running 1 minute ago",
    },
    {
        "Name": "shop_db.1",
        "Node": "swarm-1",
        "DesiredState": "Running",
        "CurrentState": "Running 1 minute ago",
    },
]
FAKE = """\
#!{python}
import json, sys
data = json.load(open({data!r}))
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(" ".join(args) + "\\n")
def out(value):
    print(json.dumps(value))
if args[:2] == ["service", "ls"]:
    if "label=com.docker.stack.namespace=shop" in args:
        for s in data["services"]:
            out({{"ID": s["ID"], "Name": s["Spec"]["Name"], "Replicas": "1/1", "Mode": "replicated"}})
elif args[:2] == ["service", "inspect"]:
    out([s for s in data["services"] if s["ID"] in args[2:]])
elif args[:2] == ["config", "inspect"]:
    out(data["configs"])
elif args[:2] == ["network", "inspect"]:
    out([n for n in data["networks"] if n["Id"] in args[2:]])
elif args[:2] == ["volume", "inspect"]:
    found = [v for v in data["volumes"] if v["Name"] == args[2]]
    out(found) if found else sys.exit("Error: No such volume: " + args[2])
elif args[:2] == ["stack", "ps"]:
    for t in data["tasks"]:
        out(t)
elif args[:2] == ["node", "ls"]:
    print("n1")
elif args[:2] == ["node", "inspect"]:
    out([data["node"]])
elif args[0] == "ps":
    print("c-" + args[3].split("=", 1)[1] if "shop_web" in args[3] else "")
elif args[0] == "exec":
    if args[-1] == "/run/secrets/api_token":
        sys.stdout.write("tok-3n7")
    else:
        sys.exit(1)
else:
    sys.exit("unexpected: " + " ".join(args))
"""


def fake_docker(tmp_path):
    data = tmp_path / "data.json"
    data.write_text(
        json.dumps(
            {
                "services": [WEB, DB, EDGE],
                "configs": CONFIGS,
                "networks": NETWORKS,
                "volumes": VOLUMES,
                "tasks": TASKS,
                "node": NODE,
            }
        )
    )
    script = tmp_path / "docker"
    script.write_text(
        textwrap.dedent(FAKE).format(
            python=sys.executable, data=str(data), log=str(tmp_path / "log")
        )
    )
    script.chmod(0o755)
    return script


def test_reads_the_stack_nodes_and_tasks(tmp_path):
    result = run_adhoc("swarm_stack_info", {"stack": "shop", "docker": str(fake_docker(tmp_path))})
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert result["exists"] is True
    assert sorted(result["compose"]["services"]) == ["db", "edge", "web"]
    assert result["compose"]["configs"]["web_index"]["content"].startswith("<h1>shop")
    assert [s["service"] for s in result["services"]] == ["db", "edge", "web"]
    assert {s["service"]: s["running"] for s in result["services"]} == {
        "db": 1,
        "edge": 0,
        "web": 1,
    }
    assert result["running_tasks"] == 2
    assert result["nodes"][0]["hostname"] == "swarm-1"
    assert "secret_values" not in result
    # the values are never asked for unless read_secrets
    assert "exec" not in (tmp_path / "log").read_text()


def test_reads_secret_values_only_when_asked_and_says_what_it_could_not(tmp_path):
    result = run_adhoc(
        "swarm_stack_info",
        {"stack": "shop", "docker": str(fake_docker(tmp_path)), "read_secrets": True},
    )
    assert result.get("failed") is not True, result
    assert result["secret_values"] == {"api_token": "tok-3n7"}
    assert result["secrets_read"]["read"] == ["api_token"]
    assert "no running task of shop_db" in result["secrets_read"]["unread"]["db_password"]


def test_a_missing_stack_is_reported_not_failed(tmp_path):
    result = run_adhoc("swarm_stack_info", {"stack": "other", "docker": str(fake_docker(tmp_path))})
    assert result.get("failed") is not True, result
    assert result["exists"] is False
    assert result["running_tasks"] == 0
    assert result["compose"] == {}
