"""A live Swarm stack (docker inspect JSON) back to a compose document the converter reads."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    ConvertOptions,
    convert,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.live import (
    LiveStackError,
    escape,
    go_duration,
    nano_cpus,
    node_summary,
    running_tasks,
    stack_document,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.project import load_project
from tests.unit.manifests import assert_valid_manifests

S = 1_000_000_000
NET_BACK = "k3x9back000000000000000000"
NET_FRONT = "p2q7front00000000000000000"
STACK = "shop"


def service(name: str, **spec) -> dict:
    """One ``docker service inspect`` entry as docker 20.10 prints it (the fields a stack sets)."""
    container = {
        "Image": "lab/busybox:1.35",
        "Labels": {"com.docker.stack.namespace": STACK},
        "Privileges": {"CredentialSpec": None, "SELinuxContext": None},
        "StopGracePeriod": 10 * S,
        "DNSConfig": {},
        "Isolation": "default",
        **spec.pop("container", {}),
    }
    task = {
        "ContainerSpec": container,
        "Resources": {},
        "Placement": {"Platforms": [{"Architecture": "amd64", "OS": "linux"}]},
        "Networks": [{"Target": NET_BACK, "Aliases": [name]}],
        "ForceUpdate": 0,
        "Runtime": "container",
        **spec.pop("task", {}),
    }
    return {
        "ID": f"id-{name}",
        "Spec": {
            "Name": f"{STACK}_{name}",
            "Labels": {
                "com.docker.stack.image": "lab/busybox:1.35",
                "com.docker.stack.namespace": STACK,
            },
            "TaskTemplate": task,
            "Mode": {"Replicated": {"Replicas": 1}},
            "EndpointSpec": {"Mode": "vip"},
            **spec,
        },
    }


DB = service(
    "db",
    container={
        "Args": ["sh", "-c", "echo $HOME > /data/x"],
        "Env": ["DB_NAME=shop", "DB_PASSWORD_FILE=/run/secrets/db_password", "PRICE=$5"],
        "Hostname": "db",
        "StopGracePeriod": 20 * S,
        "Healthcheck": {
            "Test": ["CMD", "wget", "-q", "http://127.0.0.1:5432/ready"],
            "Interval": 5 * S,
            "Timeout": 3 * S,
            "StartPeriod": 5 * S,
            "Retries": 3,
        },
        "Mounts": [
            {
                "Type": "volume",
                "Source": "shop_dbdata",
                "Target": "/data",
                "VolumeOptions": {
                    "Labels": {"ackops.io/data": "true", "com.docker.stack.namespace": STACK}
                },
            },
            {"Type": "tmpfs", "Target": "/run/cache", "TmpfsOptions": {"SizeBytes": 1048576}},
        ],
        "Secrets": [
            {
                "File": {"Name": "db_password", "UID": "0", "GID": "0", "Mode": 0o444},
                "SecretID": "sec1",
                "SecretName": "shop_db_password",
            }
        ],
        "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
        "CapabilityAdd": ["NET_ADMIN"],
        "Hosts": ["10.0.0.9 legacy-db legacy"],
        "Sysctls": {"net.ipv4.tcp_syncookies": "1"},
    },
    task={
        "Resources": {
            "Limits": {"NanoCPUs": 500_000_000, "MemoryBytes": 134217728},
            "Reservations": {"NanoCPUs": 100_000_000, "MemoryBytes": 16777216},
        },
        "RestartPolicy": {
            "Condition": "on-failure",
            "Delay": 2 * S,
            "MaxAttempts": 5,
            "Window": 30 * S,
        },
        "Placement": {
            "Constraints": ["node.role == manager", "node.labels.tier == db"],
            "Platforms": [{"Architecture": "amd64", "OS": "linux"}],
        },
        "Networks": [{"Target": NET_BACK, "Aliases": ["db"]}],
        "LogDriver": {"Name": "json-file", "Options": {"max-size": "10m"}},
    },
    EndpointSpec={"Mode": "dnsrr"},
)
WEB = service(
    "web",
    container={
        "Command": ["/bin/entry"],
        "Args": ["httpd", "-f", "-p", "8080"],
        "Dir": "/var/www",
        "User": "33",
        "Configs": [
            {
                "File": {"Name": "/var/www/index.html", "UID": "0", "GID": "0", "Mode": 0o444},
                "ConfigID": "cfg1",
                "ConfigName": "shop_web_index",
            }
        ],
        "Secrets": [
            {
                "File": {"Name": "api_token", "UID": "33", "GID": "33", "Mode": 0o400},
                "SecretID": "sec2",
                "SecretName": "shop_api_token",
            }
        ],
    },
    task={
        "Placement": {
            "Constraints": ["node.labels.zone == west"],
            "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
            "MaxReplicas": 2,
        },
        "Networks": [
            {"Target": NET_FRONT, "Aliases": ["web", "www"]},
            {"Target": NET_BACK, "Aliases": ["web"]},
        ],
    },
    Mode={"Replicated": {"Replicas": 2}},
    UpdateConfig={
        "Parallelism": 1,
        "Delay": 5 * S,
        "FailureAction": "rollback",
        "Monitor": 5 * S,
        "MaxFailureRatio": 0,
        "Order": "start-first",
    },
    RollbackConfig={"Parallelism": 1, "FailureAction": "pause", "Order": "stop-first"},
)
EDGE = service(
    "edge",
    container={"Healthcheck": {"Test": ["NONE"]}},
    task={
        "Placement": {"Constraints": ["engine.labels.ackops.lab == swarm"]},
        "Networks": [{"Target": NET_FRONT, "Aliases": ["edge"]}],
    },
    Mode={"Global": {}},
    EndpointSpec={
        "Mode": "vip",
        "Ports": [
            {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080, "PublishMode": "host"}
        ],
    },
)
CONFIGS = [
    {
        "ID": "cfg1",
        "Spec": {
            "Name": "shop_web_index",
            "Labels": {"com.docker.stack.namespace": STACK},
            "Data": base64.b64encode(b"<h1>shop $1</h1>\n").decode(),
        },
    }
]
NETWORKS = [
    {
        "Name": "shop_back",
        "Id": NET_BACK,
        "Driver": "overlay",
        "Attachable": True,
        "Labels": {"com.docker.stack.namespace": STACK},
    },
    {
        "Name": "shop_front",
        "Id": NET_FRONT,
        "Driver": "overlay",
        "Labels": {"com.docker.stack.namespace": STACK},
    },
]
VOLUMES = [
    {
        "Name": "shop_dbdata",
        "Driver": "local",
        "Mountpoint": "/var/lib/docker/volumes/shop_dbdata/_data",
        "Labels": {"ackops.io/data": "true", "com.docker.stack.namespace": STACK},
    }
]


@pytest.fixture(scope="module")
def live():
    return stack_document(STACK, [WEB, DB, EDGE], CONFIGS, NETWORKS, VOLUMES)


def test_services_come_back_with_their_compose_keys(live):
    doc, _notes = live
    assert doc["name"] == "shop"
    assert sorted(doc["services"]) == ["db", "edge", "web"]
    db = doc["services"]["db"]
    assert db["command"] == [
        "sh",
        "-c",
        "echo $$HOME > /data/x",
    ]  # stored value, not re-interpolated
    assert db["environment"][2] == "PRICE=$$5"
    assert db["hostname"] == "db"
    assert db["stop_grace_period"] == "20s"
    assert db["healthcheck"] == {
        "test": ["CMD", "wget", "-q", "http://127.0.0.1:5432/ready"],
        "interval": "5s",
        "timeout": "3s",
        "start_period": "5s",
        "retries": 3,
    }
    assert db["volumes"][0] == {"type": "volume", "target": "/data", "source": "dbdata"}
    assert db["volumes"][1] == {"type": "tmpfs", "target": "/run/cache", "tmpfs": {"size": 1048576}}
    assert db["secrets"] == [{"source": "db_password", "target": "db_password"}]
    assert db["ulimits"] == {"nofile": {"soft": 1024, "hard": 2048}}
    assert db["extra_hosts"] == ["legacy-db=10.0.0.9", "legacy=10.0.0.9"]
    assert db["cap_add"] == ["NET_ADMIN"]
    assert db["logging"] == {"driver": "json-file", "options": {"max-size": "10m"}}
    assert "isolation" not in db  # docker's "default" is no choice
    deploy = db["deploy"]
    assert deploy["endpoint_mode"] == "dnsrr"
    assert deploy["replicas"] == 1
    assert deploy["resources"] == {
        "limits": {"cpus": "0.5", "memory": 134217728},
        "reservations": {"cpus": "0.1", "memory": 16777216},
    }
    assert deploy["restart_policy"] == {
        "condition": "on-failure",
        "delay": "2s",
        "max_attempts": 5,
        "window": "30s",
    }
    assert deploy["placement"]["constraints"] == ["node.labels.tier == db", "node.role == manager"]
    assert "labels" not in deploy  # only the stack's own labels


def test_web_edge_grants_networks_ports_and_updates(live):
    doc, _notes = live
    web, edge = doc["services"]["web"], doc["services"]["edge"]
    assert (web["entrypoint"], web["command"]) == (["/bin/entry"], ["httpd", "-f", "-p", "8080"])
    assert (web["working_dir"], web["user"]) == ("/var/www", "33")
    assert web["configs"] == [{"source": "web_index", "target": "/var/www/index.html"}]
    assert web["secrets"] == [
        {"source": "api_token", "target": "api_token", "uid": "33", "gid": "33", "mode": 0o400}
    ]
    assert web["networks"] == {"front": {"aliases": ["www"]}, "back": {}}
    assert web["deploy"]["placement"]["preferences"] == [{"spread": "node.labels.zone"}]
    assert web["deploy"]["placement"]["max_replicas_per_node"] == 2
    assert web["deploy"]["update_config"] == {
        "parallelism": 1,
        "failure_action": "rollback",
        "max_failure_ratio": 0,
        "order": "start-first",
        "delay": "5s",
        "monitor": "5s",
    }
    assert edge["deploy"]["mode"] == "global"
    assert edge["healthcheck"] == {"disable": True}
    assert edge["ports"] == [{"target": 80, "protocol": "tcp", "mode": "host", "published": "8080"}]


def test_top_level_resources_and_what_swarm_does_not_keep(live):
    doc, notes = live
    assert doc["configs"] == {"web_index": {"content": "<h1>shop $$1</h1>\n"}}
    assert doc["secrets"] == {"api_token": {"external": True}, "db_password": {"external": True}}
    assert doc["volumes"] == {"dbdata": {"labels": {"ackops.io/data": "true"}}}
    assert doc["networks"] == {"back": {"attachable": True}, "front": {}}
    keys = [n["key"] for n in notes]
    assert keys[:3] == ["depends_on", "build / env_file / .env", "secrets (values)"]
    (volume_note,) = [n for n in notes if n["key"] == "volumes.dbdata"]
    assert "/var/lib/docker/volumes/shop_dbdata/_data" in volume_note["note"]


def test_the_document_converts_with_valid_objects_and_exact_content(live):
    doc, _notes = live
    project = load_project(["<live>"], texts={"<live>": json.dumps(doc)}, dotenv=False)
    conversion = convert(
        project, ConvertOptions(namespace="shop", secret_values={"db_password": "s3cr3t"})
    )
    assert_valid_manifests(conversion.objects)
    by_ref = {(o["kind"], o["metadata"]["name"]): o for o in conversion.objects}
    assert by_ref[("ConfigMap", "web-index")]["data"] == {"web_index": "<h1>shop $1</h1>\n"}
    assert base64.b64decode(by_ref[("Secret", "db-password")]["data"]["db_password"]) == b"s3cr3t"
    assert ("Secret", "api-token") not in by_ref  # no value: flagged, never invented
    flags = {(f["service"], f["key"]) for f in conversion.report["behaviour_changes"]}
    assert (None, "secrets.api_token") in flags
    db = by_ref[("Deployment", "db")]["spec"]["template"]["spec"]["containers"][0]
    assert db["args"] == ["sh", "-c", "echo $$HOME > /data/x"]  # Kubernetes' $(VAR) escaping
    assert (
        by_ref[("DaemonSet", "edge")]["spec"]["template"]["spec"]["containers"][0]["ports"][0][
            "hostPort"
        ]
        == 8080
    )


def test_units_and_escaping():
    assert [go_duration(v) for v in (None, 0, 5 * S, 90 * S, 3600 * S, 1_500_000, 2500, 7)] == [
        None, "0h", "5s", "90s", "1h", "1500us", "2500ns", "7ns",
    ]  # fmt: skip
    assert go_duration(1_500_000_000) == "1500ms"
    assert [nano_cpus(v) for v in (500_000_000, 1_000_000_000, 1_250_000_000)] == [
        "0.5",
        "1",
        "1.25",
    ]
    assert escape({"a": ["$x", 1, {"b": "$$"}]}) == {"a": ["$$x", 1, {"b": "$$$$"}]}


def test_nodes_and_tasks():
    node = {
        "ID": "n1",
        "Spec": {"Role": "manager", "Availability": "active", "Labels": {"zone": "west"}},
        "Description": {
            "Hostname": "swarm-1",
            "Platform": {"OS": "linux", "Architecture": "x86_64"},
            "Engine": {"Labels": {"ackops.lab": "swarm"}},
        },
        "Status": {"State": "ready"},
    }
    summary = node_summary(node)
    assert summary["hostname"] == "swarm-1"
    assert summary["labels"] == {"zone": "west"}
    assert summary["engine_labels"] == {"ackops.lab": "swarm"}
    tasks = [
        {
            "Name": "shop_web.1",
            "Node": "swarm-1",
            "DesiredState": "Running",
            "CurrentState": "Running 2 minutes ago",
        },
        {
            "Name": "shop_web.2",
            "Node": "swarm-1",
            "DesiredState": "Running",
            "CurrentState": "Starting 1 second ago",
        },
        {
            "Name": "shop_edge.n1",
            "Node": "swarm-1",
            "DesiredState": "Running",
            "CurrentState": "Running 5 minutes ago",
        },
        {
            "Name": "shop_db.1",
            "Node": "swarm-1",
            "DesiredState": "Shutdown",
            "CurrentState": "Running 1 second ago",
        },
    ]
    tasks.append(
        {
            "Name": "shop_api.1",
            "Node": "swarm-1",
            "DesiredState": "Running",
            "CurrentState": "Preparing 3 seconds ago",
        }
    )
    running = running_tasks(tasks, STACK)
    # Starting and Preparing tasks are live (Swarm wants them running); the Shutdown one is not
    assert {k: len(v) for k, v in running.items()} == {"web": 2, "edge": 1, "api": 1}


def test_malformed_inspect_output_is_named():
    with pytest.raises(LiveStackError, match="stack shop: no service"):
        stack_document(STACK, [])
    broken = {"Spec": {"Name": "shop_x", "TaskTemplate": {"PluginSpec": {}}}}
    with pytest.raises(LiveStackError, match=r"service shop_x: no TaskTemplate\.ContainerSpec"):
        stack_document(STACK, [broken])
    with pytest.raises(LiveStackError, match="config web_index was not inspected"):
        stack_document(STACK, [WEB], [], NETWORKS)
