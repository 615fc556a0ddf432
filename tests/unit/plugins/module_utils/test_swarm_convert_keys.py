"""One test per Compose key: what it becomes in Kubernetes and the line the report has for it.

Expected objects and report lines are written out by hand from the Compose
and Kubernetes semantics, not taken from the converter's output.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.unit.plugins.module_utils.test_swarm_helpers import (
    container,
    convert_text,
    entry,
    obj,
    pod,
)

SELECTOR = {"app.kubernetes.io/name": "app", "app.kubernetes.io/instance": "demo"}


def app(body: str, top: str = "") -> str:
    """A one-service stack; ``body`` is indented under the service."""
    indented = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"services:\n  app:\n    image: example/app:1\n{indented}\n{top}"


def test_image_and_default_deployment(tmp_path):
    c = convert_text(tmp_path, app("environment: {A: b}"))
    deployment = obj(c, "Deployment", "app")
    assert deployment["apiVersion"] == "apps/v1"
    assert deployment["spec"]["selector"] == {"matchLabels": SELECTOR}
    assert deployment["spec"]["template"]["metadata"]["labels"] == SELECTOR
    assert container(c, "app")["image"] == "example/app:1"
    assert entry(c, "app", "image") == {
        "key": "image",
        "status": "converted",
        "result": "Deployment container app image example/app:1",
        "lost": None,
        "instead": None,
        "behaviour_change": False,
    }


def test_command_and_entrypoint_strings_are_split_like_a_shell(tmp_path):
    c = convert_text(tmp_path, app("entrypoint: /bin/run --mode 'fast lane'\ncommand: serve -p 80"))
    assert container(c, "app")["command"] == ["/bin/run", "--mode", "fast lane"]
    assert container(c, "app")["args"] == ["serve", "-p", "80"]
    assert entry(c, "app", "command")["result"] == "args ['serve', '-p', '80']"
    assert entry(c, "app", "entrypoint")["status"] == "converted"


def test_empty_command_cannot_override_the_image(tmp_path):
    c = convert_text(tmp_path, app("command: []"))
    assert "args" not in container(c, "app")
    line = entry(c, "app", "command")
    assert line["status"] == "converted_with_loss"
    assert line["behaviour_change"] is True
    assert "image's CMD runs" in line["lost"]


def test_working_dir_and_numeric_user(tmp_path):
    c = convert_text(tmp_path, app("working_dir: /srv\nuser: '1001:2002'"))
    assert container(c, "app")["workingDir"] == "/srv"
    assert container(c, "app")["securityContext"] == {"runAsUser": 1001, "runAsGroup": 2002}
    assert entry(c, "app", "user")["result"] == "securityContext.runAsUser 1001, runAsGroup 2002"


def test_user_by_name_is_not_convertible(tmp_path):
    c = convert_text(tmp_path, app("user: www-data"))
    assert "securityContext" not in container(c, "app")
    line = entry(c, "app", "user")
    assert line["status"] == "not_convertible"
    assert "numeric" in line["lost"]
    assert "id -u" in line["instead"]


def test_environment_list_and_map_with_unset_and_dollar(tmp_path):
    c = convert_text(
        tmp_path,
        app("environment:\n  - PLAIN=1\n  - FROM_SHELL\n  - MISSING\n  - TEMPLATE=$$(date)"),
        variables={"FROM_SHELL": "shell-value"},
    )
    assert container(c, "app")["env"] == [
        {"name": "PLAIN", "value": "1"},
        {"name": "FROM_SHELL", "value": "shell-value"},
        # Kubernetes would expand $(date); $$ keeps it literal, as Swarm passed it.
        {"name": "TEMPLATE", "value": "$$(date)"},
    ]
    line = entry(c, "app", "environment")
    assert line["status"] == "converted_with_loss"
    assert "MISSING" in line["lost"]


def test_env_file_then_environment_wins(tmp_path):
    c = convert_text(
        tmp_path,
        app("env_file: [app.env]\nenvironment: {B: from-environment}"),
        extra={"app.env": "# comment\nA=1\nB=from-file\nC=\"two\\nlines\"\nD='$$kept'\n"},
    )
    assert container(c, "app")["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "from-environment"},
        {"name": "C", "value": "two\nlines"},
        # single quotes keep $$kept as it is: both dollars reach the container, so each is doubled
        {"name": "D", "value": "$$$$kept"},
    ]
    assert entry(c, "app", "env_file[0]")["result"] == "4 env entries from app.env"


def test_every_dollar_reaches_the_container_as_swarm_passed_it(tmp_path):
    # Compose interpolation turns $$ into $: the container gets DB_PASSWORD=pa$$word,
    # REF=$(A) and args [sh, -c, "echo $(A) pid=$$"]. The kubelet expands $(VAR) and turns $$ into
    # $ in env values, command and args, so each of those dollars must be written $$.
    c = convert_text(
        tmp_path,
        app(
            "environment:\n  A: one\n  DB_PASSWORD: 'pa$$$$word'\n  REF: '$$(A)'\n"
            "entrypoint: ['/bin/$$run']\n"
            "command: ['sh', '-c', 'echo $$(A) pid=$$$$']"
        ),
    )
    assert container(c, "app")["env"] == [
        {"name": "A", "value": "one"},
        {"name": "DB_PASSWORD", "value": "pa$$$$word"},
        {"name": "REF", "value": "$$(A)"},
    ]
    assert container(c, "app")["command"] == ["/bin/$$run"]
    assert container(c, "app")["args"] == ["sh", "-c", "echo $$(A) pid=$$$$"]


def test_labels_become_pod_annotations_and_deploy_labels_workload_annotations(tmp_path):
    c = convert_text(
        tmp_path,
        app("labels: [com.example.team=shop]\ndeploy:\n  labels: {com.example.tier: front end}"),
    )
    deployment = obj(c, "Deployment", "app")
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"com.example.team": "shop"}
    assert deployment["metadata"]["annotations"]["com.example.tier"] == "front end"
    assert (
        entry(c, "app", "deploy.labels")["result"] == "Deployment annotations ['com.example.tier']"
    )


def test_replicas(tmp_path):
    c = convert_text(tmp_path, app("deploy: {replicas: 5}"))
    assert obj(c, "Deployment", "app")["spec"]["replicas"] == 5
    assert entry(c, "app", "deploy.replicas")["result"] == "Deployment.spec.replicas 5"


def test_global_mode_is_a_daemonset(tmp_path):
    c = convert_text(tmp_path, app("deploy: {mode: global, replicas: 3}"))
    daemonset = obj(c, "DaemonSet", "app")
    assert "replicas" not in daemonset["spec"]
    assert entry(c, "app", "deploy.mode")["result"] == "DaemonSet"
    assert entry(c, "app", "deploy.replicas")["status"] == "converted"


def test_named_volume_becomes_a_claim_with_the_callers_class(tmp_path):
    c = convert_text(
        tmp_path,
        app("volumes: ['data:/var/lib/data']", "volumes:\n  data: {}\n"),
        storage_class="alicloud-disk-essd",
        volume_size="20Gi",
    )
    claim = obj(c, "PersistentVolumeClaim", "data")
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "20Gi"}},
        "storageClassName": "alicloud-disk-essd",
    }
    assert pod(c, "app")["volumes"] == [
        {"name": "vol-data", "persistentVolumeClaim": {"claimName": "data"}}
    ]
    assert container(c, "app")["volumeMounts"] == [
        {"name": "vol-data", "mountPath": "/var/lib/data"}
    ]
    line = entry(c, None, "volumes.data")
    assert line["status"] == "converted_with_loss"
    assert line["result"] == (
        "PersistentVolumeClaim data (ReadWriteOnce, 20Gi, class alicloud-disk-essd)"
    )


def test_statefulset_on_request_gets_claim_templates(tmp_path):
    c = convert_text(
        tmp_path,
        app("volumes: ['data:/data']\ndeploy: {replicas: 3}", "volumes:\n  data:\n"),
        statefulsets=["app"],
        storage_class="nas",
    )
    statefulset = obj(c, "StatefulSet", "app")
    assert statefulset["spec"]["serviceName"] == "app"
    assert statefulset["spec"]["replicas"] == 3
    assert statefulset["spec"]["volumeClaimTemplates"] == [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "vol-data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "10Gi"}},
                "storageClassName": "nas",
            },
        }
    ]
    assert not [o for o in c.objects if o["kind"] == "PersistentVolumeClaim"]
    assert entry(c, None, "volumes.data")["result"] == "volumeClaimTemplates of app"


def test_shared_readwriteonce_claim_is_flagged(tmp_path):
    c = convert_text(
        tmp_path,
        app("volumes: ['data:/data']\ndeploy: {replicas: 2}", "volumes:\n  data:\n"),
    )
    line = entry(c, None, "volumes.data")
    assert line["behaviour_change"] is True
    assert "ReadWriteOnce" in line["lost"]


def test_bind_mount_absolute_is_hostpath_with_the_choices(tmp_path):
    c = convert_text(tmp_path, app("volumes: ['/var/log/app:/logs:ro']"))
    assert pod(c, "app")["volumes"] == [
        {"name": "bind-logs", "hostPath": {"path": "/var/log/app", "type": "DirectoryOrCreate"}}
    ]
    assert container(c, "app")["volumeMounts"] == [
        {"name": "bind-logs", "mountPath": "/logs", "readOnly": True}
    ]
    line = entry(c, "app", "volumes[0]")
    assert line["status"] == "converted_with_loss"
    assert "hostPath" in line["instead"]
    assert "configMap" in line["instead"]
    assert "persistentVolumeClaim" in line["instead"]


def test_bind_mount_relative_file_becomes_a_configmap(tmp_path):
    c = convert_text(
        tmp_path,
        app("volumes: ['./conf/app.ini:/etc/app.ini']"),
        extra={"conf/app.ini": "[main]\nx=1\n"},
    )
    configmap = obj(c, "ConfigMap", "app-bind-etc-app-ini")
    assert configmap["data"] == {"app.ini": "[main]\nx=1\n"}
    assert container(c, "app")["volumeMounts"] == [
        {"name": "bind-etc-app-ini", "mountPath": "/etc/app.ini", "subPath": "app.ini",
         "readOnly": True}
    ]  # fmt: skip


def test_bind_mount_choice_pvc(tmp_path):
    c = convert_text(
        tmp_path,
        app("volumes: ['/srv/shared:/shared']"),
        bind_mounts={"app:/shared": {"type": "persistentVolumeClaim", "claim_name": "shared-nas"}},
    )
    assert pod(c, "app")["volumes"] == [
        {"name": "bind-shared", "persistentVolumeClaim": {"claimName": "shared-nas"}}
    ]
    assert entry(c, "app", "volumes[0]")["result"] == "PersistentVolumeClaim shared-nas at /shared"


def test_configs_file_and_content(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "configs:\n  - source: site\n    target: /etc/nginx/site.conf\n    mode: 0440\n  - motd",
            "configs:\n  site: {file: ./site.conf}\n  motd: {content: 'hello ${WHO}'}\n",
        ),
        extra={"site.conf": "listen 80;\n"},
        variables={"WHO": "ops"},
    )
    assert obj(c, "ConfigMap", "site")["data"] == {"site": "listen 80;\n"}
    assert obj(c, "ConfigMap", "motd")["data"] == {"motd": "hello ops"}
    volumes = pod(c, "app")["volumes"]
    assert volumes[0] == {
        "name": "config-site",
        "configMap": {
            "name": "site",
            "items": [{"key": "site", "path": "site.conf", "mode": 0o440}],
        },
    }
    mounts = container(c, "app")["volumeMounts"]
    assert mounts[1] == {"name": "config-motd", "mountPath": "/motd", "subPath": "motd",
                         "readOnly": True}  # fmt: skip
    assert entry(c, None, "configs.site")["result"] == "ConfigMap site (from file)"
    assert entry(c, "app", "configs[0]")["result"] == (
        "ConfigMap site key site at /etc/nginx/site.conf"
    )


def test_secret_value_from_the_caller_and_external_flagged(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "secrets: [db_pass, api_key]",
            "secrets:\n  db_pass: {external: true}\n  api_key: {external: true}\n",
        ),
        secret_values={"db_pass": "hunter2"},
    )
    secret = obj(c, "Secret", "db-pass")
    assert secret["data"] == {"db_pass": base64.b64encode(b"hunter2").decode()}
    assert [o["metadata"]["name"] for o in c.objects if o["kind"] == "Secret"] == ["db-pass"]
    missing = entry(c, None, "secrets.api_key")
    assert missing["status"] == "converted_with_loss"
    assert missing["behaviour_change"] is True
    assert "cannot be read back" in missing["lost"]
    assert container(c, "app")["volumeMounts"][0] == {
        "name": "secret-db-pass", "mountPath": "/run/secrets/db_pass", "subPath": "db_pass",
        "readOnly": True,
    }  # fmt: skip
    assert "hunter2" not in repr(c.report)


def test_secret_from_environment_takes_its_value_from_secret_values_only(tmp_path):
    text = app("secrets: [token]", "secrets:\n  token: {environment: TOKEN}\n")
    c = convert_text(tmp_path, text, variables={"TOKEN": "tok-in-variables"})
    assert not [o for o in c.objects if o["kind"] == "Secret"]
    line = entry(c, None, "secrets.token")
    assert line["status"] == "not_convertible"
    assert line["lost"] == (
        "no value: environment TOKEN: secret values are taken from secret_values only, "
        "never from the variables (those are logged)"
    )
    assert "tok-in-variables" not in repr(c.report)
    c = convert_text(tmp_path, text, secret_values={"token": "tok-from-vault"})
    assert obj(c, "Secret", "token")["data"] == {"token": "dG9rLWZyb20tdmF1bHQ="}


def test_secret_without_value_is_not_invented(tmp_path):
    c = convert_text(
        tmp_path,
        app("secrets: [token]", "secrets:\n  token: {environment: TOKEN}\n"),
    )
    assert not [o for o in c.objects if o["kind"] == "Secret"]
    line = entry(c, None, "secrets.token")
    assert line["status"] == "not_convertible"
    assert "secret_values.token" in line["instead"]


def test_resources_units_converted(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "deploy:\n  resources:\n    limits: {cpus: '1.5', memory: 1g}\n"
            "    reservations: {cpus: 0.25, memory: 512m}"
        ),
    )
    assert container(c, "app")["resources"] == {
        "limits": {"cpu": "1500m", "memory": "1Gi"},
        "requests": {"cpu": "250m", "memory": "512Mi"},
    }
    assert entry(c, "app", "deploy.resources.limits.memory")["result"] == (
        "resources.limits.memory 1Gi"
    )


def test_service_level_resources_superseded_by_deploy_resources_are_reported(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "cpus: 2\nmem_limit: 1g\nmem_reservation: 20m\n"
            "deploy:\n  resources:\n    limits: {cpus: '0.5', memory: 50M}"
        ),
    )
    # deploy.resources wins for the limits; mem_reservation has no rival and is used
    assert container(c, "app")["resources"] == {
        "limits": {"cpu": "500m", "memory": "50Mi"},
        "requests": {"memory": "20Mi"},
    }
    assert entry(c, "app", "cpus") == {
        "key": "cpus",
        "status": "converted_with_loss",
        "result": "superseded by deploy.resources.limits.cpus",
        "lost": "cpus 2 is not used: deploy.resources.limits.cpus 0.5 is",
        "instead": "keep only deploy.resources.limits.cpus",
        "behaviour_change": False,
    }
    assert entry(c, "app", "mem_limit")["result"] == (
        "superseded by deploy.resources.limits.memory"
    )
    assert entry(c, "app", "mem_reservation")["result"] == "resources.requests.memory 20Mi"


def test_memory_not_a_whole_binary_unit_stays_in_bytes(tmp_path):
    c = convert_text(tmp_path, app("deploy: {resources: {limits: {memory: 1000000b}}}"))
    assert container(c, "app")["resources"]["limits"] == {"memory": "1000000"}
    c = convert_text(tmp_path, app("deploy: {resources: {limits: {memory: 1500k}}}"))
    assert container(c, "app")["resources"]["limits"] == {"memory": "1500Ki"}


def test_limits_without_reservation_are_reported(tmp_path):
    c = convert_text(tmp_path, app("deploy: {resources: {limits: {cpus: '2'}}}"))
    line = entry(c, "app", "deploy.resources.reservations.cpus")
    assert line["status"] == "converted_with_loss"
    assert line["result"] == "resources.requests.cpu defaults to the limit 2"


@pytest.mark.parametrize(
    ("constraint", "expression"),
    [
        ("node.labels.zone == west", {"key": "zone", "operator": "In", "values": ["west"]}),
        ("node.labels.zone!=east", {"key": "zone", "operator": "NotIn", "values": ["east"]}),
        ("engine.labels.disk == ssd", {"key": "disk", "operator": "In", "values": ["ssd"]}),
        ("node.role == worker",
         {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}),
        ("node.role != manager",
         {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}),
        ("node.hostname == swarm-1",
         {"key": "kubernetes.io/hostname", "operator": "In", "values": ["cn-hangzhou.i-001"]}),
        ("node.platform.os == linux",
         {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}),
        ("node.platform.arch == aarch64",
         {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}),
    ],
)  # fmt: skip
def test_constraints_become_node_affinity(tmp_path, constraint, expression):
    c = convert_text(
        tmp_path,
        app(f"deploy:\n  placement:\n    constraints: ['{constraint}']"),
        node_names={"swarm-1": "cn-hangzhou.i-001"},
    )
    affinity = pod(c, "app")["affinity"]["nodeAffinity"]
    terms = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [expression]}]
    assert entry(c, "app", "deploy.placement.constraints[0]")["status"] in (
        "converted",
        "converted_with_loss",
    )


def test_constraint_label_mapping_and_unknown_label_flagged(tmp_path):
    c = convert_text(
        tmp_path,
        app("deploy:\n  placement:\n    constraints: ['node.labels.zone == west']"),
        label_map={"node.labels.zone": "topology.kubernetes.io/zone"},
        node_labels={"topology.kubernetes.io/zone": ["east"]},
    )
    terms = pod(c, "app")["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"] == [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["west"]}
    ]
    line = entry(c, "app", "deploy.placement.constraints[0]")
    assert line["behaviour_change"] is True
    assert (
        line["lost"]
        == "no Kubernetes node has topology.kubernetes.io/zone=west: the pods stay Pending"
    )
    assert c.report["summary"]["behaviour_changes"] >= 1


def test_manager_constraint_tolerates_the_control_plane_and_is_flagged(tmp_path):
    c = convert_text(tmp_path, app("deploy: {placement: {constraints: ['node.role==manager']}}"))
    assert pod(c, "app")["tolerations"] == [
        {
            "key": "node-role.kubernetes.io/control-plane",
            "operator": "Exists",
            "effect": "NoSchedule",
        }
    ]
    assert entry(c, "app", "deploy.placement.constraints[0]")["behaviour_change"] is True


def test_node_id_constraint_is_not_convertible(tmp_path):
    c = convert_text(tmp_path, app("deploy: {placement: {constraints: ['node.id==abc123']}}"))
    assert "affinity" not in pod(c, "app")
    assert entry(c, "app", "deploy.placement.constraints[0]")["status"] == "not_convertible"


def test_preferences_become_topology_spread(tmp_path):
    c = convert_text(
        tmp_path, app("deploy: {placement: {preferences: [{spread: node.labels.rack}]}}")
    )
    assert pod(c, "app")["topologySpreadConstraints"] == [
        {"maxSkew": 1, "topologyKey": "rack", "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": {"matchLabels": SELECTOR}}
    ]  # fmt: skip
    assert entry(c, "app", "deploy.placement.preferences[0]")["result"] == (
        "topologySpreadConstraints on rack (maxSkew 1, ScheduleAnyway)"
    )


def test_max_replicas_per_node_one_is_anti_affinity(tmp_path):
    c = convert_text(tmp_path, app("deploy: {replicas: 3, placement: {max_replicas_per_node: 1}}"))
    assert pod(c, "app")["affinity"]["podAntiAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": SELECTOR}, "topologyKey": "kubernetes.io/hostname"}
        ]
    }
    assert entry(c, "app", "deploy.placement.max_replicas_per_node")["status"] == "converted"


def test_max_replicas_per_node_more_is_an_approximation(tmp_path):
    c = convert_text(tmp_path, app("deploy: {replicas: 6, placement: {max_replicas_per_node: 2}}"))
    assert pod(c, "app")["topologySpreadConstraints"][0]["maxSkew"] == 2
    assert entry(c, "app", "deploy.placement.max_replicas_per_node")["status"] == (
        "converted_with_loss"
    )


@pytest.mark.parametrize(
    ("config", "rolling"),
    [
        ("{parallelism: 2, order: start-first}", {"maxSurge": 2, "maxUnavailable": 0}),
        ("{parallelism: 3}", {"maxSurge": 0, "maxUnavailable": 3}),
        ("{parallelism: 0}", {"maxSurge": 0, "maxUnavailable": "100%"}),
    ],
)
def test_update_config_is_the_rolling_update(tmp_path, config, rolling):
    c = convert_text(tmp_path, app(f"deploy: {{update_config: {config}}}"))
    assert obj(c, "Deployment", "app")["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": rolling,
    }
    assert entry(c, "app", "deploy.update_config")["status"] == "converted"


def test_update_delay_and_rollback_action_reported(tmp_path):
    c = convert_text(
        tmp_path,
        app("deploy: {update_config: {delay: 10s, failure_action: rollback}, rollback_config: {}}"),
    )
    assert obj(c, "Deployment", "app")["spec"]["minReadySeconds"] == 10
    line = entry(c, "app", "deploy.update_config")
    assert line["status"] == "converted_with_loss"
    assert "does not roll back" in line["lost"]
    assert entry(c, "app", "deploy.rollback_config")["status"] == "converted_with_loss"


def test_restart_policy_on_failure_is_flagged_for_a_deployment(tmp_path):
    c = convert_text(tmp_path, app("deploy: {restart_policy: {condition: on-failure}}"))
    line = entry(c, "app", "deploy.restart_policy")
    assert line["result"] == "restartPolicy Always"
    assert line["behaviour_change"] is True


def test_replicated_job_is_a_job(tmp_path):
    c = convert_text(
        tmp_path,
        app("deploy: {mode: replicated-job, replicas: 2, restart_policy: {condition: none}}"),
    )
    job = obj(c, "Job", "app")
    assert job["apiVersion"] == "batch/v1"
    assert job["spec"]["completions"] == 2
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_stop_grace_period_rounds_up(tmp_path):
    c = convert_text(tmp_path, app("stop_grace_period: 1m30s"))
    assert pod(c, "app")["terminationGracePeriodSeconds"] == 90
    c = convert_text(tmp_path, app("stop_grace_period: 1500ms"))
    assert pod(c, "app")["terminationGracePeriodSeconds"] == 2
    assert entry(c, "app", "stop_grace_period")["status"] == "converted_with_loss"


def test_healthcheck_is_liveness_readiness_and_startup(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "healthcheck:\n  test: [CMD, /bin/check, --fast]\n  interval: 10s\n  timeout: 2s\n"
            "  retries: 5\n  start_period: 60s\n  start_interval: 5s"
        ),
    )
    probe = {"exec": {"command": ["/bin/check", "--fast"]}, "periodSeconds": 10,
             "timeoutSeconds": 2, "failureThreshold": 5}  # fmt: skip
    main = container(c, "app")
    assert main["livenessProbe"] == probe
    assert main["readinessProbe"] == probe
    # 60s of start period at 5s, then the 5 retries.
    assert main["startupProbe"] == {**probe, "periodSeconds": 5, "failureThreshold": 17}
    assert entry(c, "app", "healthcheck")["status"] == "converted"


def test_healthcheck_shell_string_and_defaults(tmp_path):
    c = convert_text(tmp_path, app("healthcheck: {test: 'curl -f http://localhost || exit 1'}"))
    assert container(c, "app")["readinessProbe"] == {
        "exec": {"command": ["/bin/sh", "-c", "curl -f http://localhost || exit 1"]},
        "periodSeconds": 30,
        "timeoutSeconds": 30,
        "failureThreshold": 3,
    }


def test_missing_healthcheck_flags_no_readiness_gate(tmp_path):
    c = convert_text(tmp_path, app("environment: {A: b}"))
    line = entry(c, "app", "healthcheck")
    assert line["behaviour_change"] is True
    assert "no readiness gate" in line["lost"]


def test_disabled_healthcheck_gives_no_probe(tmp_path):
    c = convert_text(tmp_path, app("healthcheck: {disable: true}"))
    assert "livenessProbe" not in container(c, "app")
    assert entry(c, "app", "healthcheck")["result"] == "no probes (the healthcheck is disabled)"


def _two(service_body: str, db_body: str = "expose: ['5432']") -> str:
    db = "\n".join("    " + line for line in db_body.splitlines())
    web = "\n".join("    " + line for line in service_body.splitlines())
    return f"services:\n  web:\n    image: web:1\n{web}\n  db:\n    image: db:1\n{db}\n"


def test_depends_on_short_form_waits_for_the_port(tmp_path):
    c = convert_text(tmp_path, _two("depends_on: [db]"), wait_image="registry.local/busybox:1")
    assert pod(c, "web")["initContainers"] == [
        {"name": "wait-for-db", "image": "registry.local/busybox:1",
         "command": ["sh", "-c", "until nc -z -w 2 db 5432; do echo waiting for db; sleep 2; done"]}
    ]  # fmt: skip
    assert (
        entry(c, "web", "depends_on.db")["result"]
        == "init container waits until TCP db:5432 accepts"
    )
    assert entry(c, "web", "depends_on")["behaviour_change"] is True


def test_depends_on_long_form_conditions(tmp_path):
    c = convert_text(
        tmp_path,
        _two(
            "depends_on:\n  db: {condition: service_healthy, required: false}",
            "healthcheck: {test: [CMD, ok]}",
        ),
    )
    init = pod(c, "web")["initContainers"][0]
    assert init["command"][2] == (
        "i=0; until nslookup db; do echo waiting for db; i=$$((i+1)); [ $$i -ge 60 ] && break; "
        "sleep 2; done"
    )
    assert entry(c, "web", "depends_on.db")["status"] == "converted_with_loss"


def test_depends_on_waits_for_the_first_tcp_port_not_a_udp_one(tmp_path):
    c = convert_text(tmp_path, _two("depends_on: [db]", "ports: ['53:53/udp', '8053:8053']"))
    assert pod(c, "web")["initContainers"][0]["command"][2] == (
        "until nc -z -w 2 db 8053; do echo waiting for db; sleep 2; done"
    )
    c = convert_text(tmp_path, _two("depends_on: [db]", "expose: ['514/udp', '515']"))
    assert pod(c, "web")["initContainers"][0]["command"][2] == (
        "until nc -z -w 2 db 515; do echo waiting for db; sleep 2; done"
    )


def test_depends_on_a_udp_only_service_waits_for_its_name_with_loss(tmp_path):
    # nc -z probes TCP: on a UDP-only service it would never succeed and the pod never start.
    c = convert_text(
        tmp_path, _two("depends_on: [db]", "ports: ['53:53/udp']\nexpose: ['514/udp']")
    )
    assert pod(c, "web")["initContainers"][0]["command"] == [
        "sh", "-c", "until nslookup db; do echo waiting for db; sleep 2; done"
    ]  # fmt: skip
    line = entry(c, "web", "depends_on.db")
    assert line["status"] == "converted_with_loss"
    assert line["result"] == "init container waits until DNS name db resolves"
    assert line["lost"] == (
        "db has no TCP port to probe (only UDP): the init container waits until the name db "
        "resolves, which it does once the Service exists, not when the service answers"
    )


def test_depends_on_a_service_without_ports_waits_for_its_name_with_loss(tmp_path):
    c = convert_text(tmp_path, _two("depends_on: [db]", "environment: {A: b}"))
    assert pod(c, "web")["initContainers"][0]["command"][2] == (
        "until nslookup db; do echo waiting for db; sleep 2; done"
    )
    line = entry(c, "web", "depends_on.db")
    assert line["status"] == "converted_with_loss"
    assert line["lost"].startswith("db has no port to probe: the init container waits until")


def test_depends_on_completed_successfully_is_not_convertible(tmp_path):
    c = convert_text(
        tmp_path, _two("depends_on: {db: {condition: service_completed_successfully}}")
    )
    assert "initContainers" not in pod(c, "web")
    assert entry(c, "web", "depends_on.db")["status"] == "not_convertible"


def test_extra_hosts_group_by_address(tmp_path):
    c = convert_text(
        tmp_path, app("extra_hosts: ['a.internal=10.0.0.1', 'b.internal:10.0.0.1', 'c=::1']")
    )
    assert pod(c, "app")["hostAliases"] == [
        {"ip": "10.0.0.1", "hostnames": ["a.internal", "b.internal"]},
        {"ip": "::1", "hostnames": ["c"]},
    ]


def test_capabilities_privileged_read_only(tmp_path):
    c = convert_text(
        tmp_path,
        app("cap_add: [CAP_NET_ADMIN]\ncap_drop: [all]\nprivileged: true\nread_only: true"),
    )
    assert container(c, "app")["securityContext"] == {
        "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
        "privileged": True,
        "readOnlyRootFilesystem": True,
    }
    assert entry(c, "app", "privileged")["status"] == "converted"


def test_sysctls_unsafe_ones_flagged(tmp_path):
    c = convert_text(tmp_path, app("sysctls: [net.ipv4.tcp_syncookies=1, net.core.somaxconn=1024]"))
    assert pod(c, "app")["securityContext"]["sysctls"] == [
        {"name": "net.ipv4.tcp_syncookies", "value": "1"},
        {"name": "net.core.somaxconn", "value": "1024"},
    ]
    line = entry(c, "app", "sysctls")
    assert line["behaviour_change"] is True
    assert line["lost"].startswith("net.core.somaxconn")


def test_tmpfs_is_a_memory_emptydir(tmp_path):
    c = convert_text(tmp_path, app("tmpfs: ['/run:size=32m', /tmp]"))
    assert pod(c, "app")["volumes"] == [
        {"name": "tmpfs-run", "emptyDir": {"medium": "Memory", "sizeLimit": "32Mi"}},
        {"name": "tmpfs-tmp", "emptyDir": {"medium": "Memory"}},
    ]
    assert entry(c, "app", "tmpfs[1]")["result"] == "emptyDir (Memory) at /tmp"


def test_ulimits_are_not_convertible(tmp_path):
    c = convert_text(tmp_path, app("ulimits: {nofile: {soft: 1024, hard: 4096}, nproc: 512}"))
    line = entry(c, "app", "ulimits")
    assert line["status"] == "not_convertible"
    assert line["lost"].startswith("['nofile', 'nproc']")


def test_init_shares_the_process_namespace(tmp_path):
    c = convert_text(tmp_path, app("init: true"))
    assert pod(c, "app")["shareProcessNamespace"] is True
    assert entry(c, "app", "init")["status"] == "converted_with_loss"


def test_ports_clusterip_nodeport_and_host_mode(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "ports:\n  - '8080:80'\n  - '30080:81'\n  - '53:53/udp'\n"
            "  - {target: 9100, published: 9100, mode: host}"
        ),
    )
    cluster = obj(c, "Service", "app")["spec"]
    assert cluster["ports"] == [
        {"name": "tcp-80", "port": 80, "targetPort": 80, "protocol": "TCP"},
        {"name": "tcp-81", "port": 81, "targetPort": 81, "protocol": "TCP"},
        {"name": "udp-53", "port": 53, "targetPort": 53, "protocol": "UDP"},
        {"name": "tcp-9100", "port": 9100, "targetPort": 9100, "protocol": "TCP"},
    ]
    published = obj(c, "Service", "app-published")["spec"]
    assert published["type"] == "NodePort"
    assert published["ports"] == [
        {"name": "tcp-8080", "port": 8080, "targetPort": 80, "protocol": "TCP"},
        {
            "name": "tcp-30080",
            "port": 30080,
            "targetPort": 81,
            "protocol": "TCP",
            "nodePort": 30080,
        },
        {"name": "udp-53", "port": 53, "targetPort": 53, "protocol": "UDP"},
    ]
    assert container(c, "app")["ports"][3] == {
        "containerPort": 9100,
        "protocol": "TCP",
        "hostPort": 9100,
    }
    assert (
        entry(c, "app", "ports[1]")["result"]
        == "NodePort Service app-published nodePort 30080 -> 81"
    )
    assert entry(c, "app", "ports[0]")["behaviour_change"] is True


def test_a_port_without_published_port_gets_an_assigned_nodeport_like_swarm(tmp_path):
    c = convert_text(tmp_path, app("ports: ['80', '9000-9001/udp']"))
    published = obj(c, "Service", "app-published")["spec"]
    assert published["type"] == "NodePort"
    assert published["ports"] == [
        {"name": "tcp-80", "port": 80, "targetPort": 80, "protocol": "TCP"},
        {"name": "udp-9000", "port": 9000, "targetPort": 9000, "protocol": "UDP"},
        {"name": "udp-9001", "port": 9001, "targetPort": 9001, "protocol": "UDP"},
    ]
    assert entry(c, "app", "ports[0]") == {
        "key": "ports[0]",
        "status": "converted",
        "result": "NodePort Service app-published port 80 -> 80 "
        "(nodePort assigned, as Swarm assigned the published port)",
        "lost": None,
        "instead": None,
        "behaviour_change": False,
    }
    assert entry(c, "app", "ports[2]")["status"] == "converted"


def test_load_balancer_with_ack_annotations(tmp_path):
    c = convert_text(
        tmp_path,
        app("ports: ['443:8443']"),
        load_balancer={
            "services": ["app"],
            "options": {"address_type": "intranet", "spec": "slb.s1.small"},
        },
    )
    service = obj(c, "Service", "app-published")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"] == [
        {"name": "tcp-443", "port": 443, "targetPort": 8443, "protocol": "TCP"}
    ]
    annotations = service["metadata"]["annotations"]
    assert (
        annotations["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type"]
        == "intranet"
    )
    assert (
        annotations["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec"] == "slb.s1.small"
    )


def test_dnsrr_and_no_ports_are_headless(tmp_path):
    c = convert_text(tmp_path, app("expose: ['6379']\ndeploy: {endpoint_mode: dnsrr}"))
    assert obj(c, "Service", "app")["spec"]["clusterIP"] == "None"
    c = convert_text(tmp_path, app("environment: {A: b}"))
    assert obj(c, "Service", "app")["spec"] == {"selector": SELECTOR, "clusterIP": "None"}
    assert entry(c, "app", "ports")["status"] == "converted_with_loss"


def test_network_aliases_become_services_and_networks_notes(tmp_path):
    c = convert_text(
        tmp_path,
        app("expose: ['80']\nnetworks:\n  back: {aliases: [legacy-name]}", "networks:\n  back:\n"),
    )
    alias = obj(c, "Service", "legacy-name")
    assert alias["spec"]["selector"] == SELECTOR
    assert entry(c, None, "networks.back")["status"] == "converted_with_loss"


def test_network_policies_isolate_services_that_share_no_network(tmp_path):
    text = (
        "services:\n"
        "  a: {image: a, networks: [front]}\n"
        "  b: {image: b, networks: [front, back]}\n"
        "  c: {image: c, networks: [back], ports: ['5432:5432']}\n"
        "networks: {front: {}, back: {}}\n"
    )
    c = convert_text(tmp_path, text, network_policies=True)
    policy_a = obj(c, "NetworkPolicy", "a")["spec"]
    assert policy_a["ingress"][0]["from"][0]["podSelector"]["matchExpressions"] == [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["a", "b"]}
    ]
    policy_c = obj(c, "NetworkPolicy", "c")["spec"]
    assert policy_c["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"] == [
        "b",
        "c",
    ]
    assert policy_c["ingress"][1] == {"ports": [{"port": 5432, "protocol": "TCP"}]}


def test_network_mode_host_and_pid_host(tmp_path):
    c = convert_text(tmp_path, app("network_mode: host\npid: host"))
    spec = pod(c, "app")
    assert spec["hostNetwork"] is True
    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert spec["hostPID"] is True


def test_stop_signal_and_shm_size(tmp_path):
    c = convert_text(tmp_path, app("stop_signal: quit\nshm_size: 1g"))
    assert container(c, "app")["lifecycle"] == {"stopSignal": "SIGQUIT"}
    assert pod(c, "app")["os"] == {"name": "linux"}
    assert pod(c, "app")["volumes"] == [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}
    ]


def test_keys_swarm_ignores_and_keys_without_field(tmp_path):
    c = convert_text(
        tmp_path, app("build: .\ncontainer_name: x\ncpuset: '0-1'\nlogging: {driver: syslog}")
    )
    assert entry(c, "app", "build")["status"] == "not_convertible"
    assert "ignores" in entry(c, "app", "container_name")["lost"]
    assert entry(c, "app", "cpuset")["status"] == "not_convertible"
    assert "syslog" in entry(c, "app", "logging")["lost"]


def test_underscored_service_name_is_a_dns_name(tmp_path):
    c = convert_text(tmp_path, "services:\n  My_Api: {image: api, expose: ['80']}\n")
    deployment = obj(c, "Deployment", "my-api")
    assert deployment["metadata"]["annotations"]["ackops.io/compose-service"] == "My_Api"


def test_namespace_on_every_object(tmp_path):
    c = convert_text(tmp_path, app("expose: ['80']"), namespace="shop", create_namespace=True)
    assert c.objects[0] == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"app.kubernetes.io/instance": "demo"}},
    }
    assert {o["metadata"].get("namespace") for o in c.objects[1:]} == {"shop"}


def test_security_opt_no_new_privileges_unless_privileged(tmp_path):
    c = convert_text(tmp_path, app("security_opt: ['no-new-privileges:true']"))
    assert container(c, "app")["securityContext"] == {"allowPrivilegeEscalation": False}
    # The API server refuses allowPrivilegeEscalation false with privileged true.
    c = convert_text(tmp_path, app("privileged: true\nsecurity_opt: [no-new-privileges]"))
    assert container(c, "app")["securityContext"] == {"privileged": True}
    assert entry(c, "app", "security_opt[no-new-privileges]")["status"] == "converted_with_loss"


def test_service_names_kubernetes_refuses_are_renamed_and_flagged(tmp_path):
    c = convert_text(tmp_path, "services:\n  2fa_api: {image: api, expose: ['80']}\n")
    assert obj(c, "Service", "s-2fa-api")["spec"]["ports"][0]["port"] == 80
    line = entry(c, "2fa_api", "name")
    assert line["result"] == "Kubernetes name s-2fa-api"
    assert line["behaviour_change"] is True


def test_invalid_annotation_keys_and_traefik_labels(tmp_path):
    long_key = "traefik.http.services.a-rather-long-service-name.loadbalancer.server.port"
    c = convert_text(
        tmp_path,
        app(f"deploy:\n  labels:\n    {long_key}: '80'\n    traefik.enable: 'true'\n    team: a"),
    )
    annotations = obj(c, "Deployment", "app")["metadata"]["annotations"]
    assert long_key not in annotations
    assert annotations["traefik.enable"] == "true"
    assert annotations["team"] == "a"
    line = entry(c, "app", "deploy.labels")
    assert line["status"] == "converted_with_loss"
    assert long_key in line["lost"]
    assert "Ingress" in line["lost"]


def test_one_config_mounted_twice_gets_two_volumes(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "configs:\n  - {source: site, target: /a/site.conf}\n  - {source: site, target: /b/site.conf}",
            "configs:\n  site: {content: x}\n",
        ),
    )
    assert [v["name"] for v in pod(c, "app")["volumes"]] == ["config-site", "config-site-2"]


def test_swarm_templates_in_environment(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "environment:\n  NODE: '{{.Node.Hostname}}'\n  TASK: '{{ .Task.Name }}'\n"
            "  SERVICE: '{{.Service.Name}}'\n  SLOT: 'worker-{{.Task.Slot}}'"
        ),
    )
    assert container(c, "app")["env"] == [
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "TASK", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "SERVICE", "value": "app"},
        {"name": "SLOT", "value": "worker-{{.Task.Slot}}"},
    ]
    assert entry(c, "app", "environment.SLOT")["behaviour_change"] is True
    assert entry(c, "app", "environment.NODE")["status"] == "converted"


def test_keys_swarm_ignores_are_converted_and_flagged(tmp_path):
    c = convert_text(tmp_path, app("privileged: true\nnetwork_mode: host"))
    assert container(c, "app")["securityContext"] == {"privileged": True}
    for key in ("privileged", "network_mode"):
        line = entry(c, "app", key)
        assert line["behaviour_change"] is True
        assert "docker stack deploy ignores this key" in line["lost"]


def test_the_external_host_network_is_host_networking(tmp_path):
    c = convert_text(
        tmp_path,
        app("networks: [hostnet]", "networks:\n  hostnet: {external: true, name: host}\n"),
    )
    assert pod(c, "app")["hostNetwork"] is True
    assert entry(c, "app", "networks.hostnet")["result"] == (
        "hostNetwork true, dnsPolicy ClusterFirstWithHostNet"
    )


def test_templated_config_is_reported(tmp_path):
    c = convert_text(
        tmp_path,
        app(
            "configs: [conf]",
            "configs:\n  conf: {content: 'id={{.Task.Slot}}', template_driver: golang}\n",
        ),
    )
    assert obj(c, "ConfigMap", "conf")["data"] == {"conf": "id={{.Task.Slot}}"}
    line = entry(c, None, "configs.conf")
    assert line["status"] == "converted_with_loss"
    assert line["behaviour_change"] is True


def test_external_config_from_the_callers_value_or_flagged(tmp_path):
    top = "configs:\n  props: {external: true, name: app_props_v3}\n"
    c = convert_text(tmp_path, app("configs: [props]", top), config_values={"props": "a=b\n"})
    assert obj(c, "ConfigMap", "app-props-v3")["data"] == {"props": "a=b\n"}
    assert [e["key"] for e in c.report["stack"]].count("configs.props") == 1
    assert (
        entry(c, None, "configs.props")["result"] == "ConfigMap app-props-v3 (from config_values)"
    )
    c = convert_text(tmp_path, app("configs: [props]", top))
    assert not [o for o in c.objects if o["kind"] == "ConfigMap"]
    assert entry(c, None, "configs.props")["behaviour_change"] is True


@pytest.mark.parametrize("unmigrated", [None, ""])
def test_constraint_on_a_label_not_migrated_is_not_convertible(tmp_path, unmigrated):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.options import (
        ARGSPEC,
        convert_params,
    )

    text = app("deploy:\n  placement:\n    constraints: ['node.labels.zone == west']")
    (tmp_path / "compose.yml").write_text(text)
    # through the modules' argument spec, as a playbook passes label_map: {node.labels.zone: ~}
    validated = ArgumentSpecValidator(ARGSPEC).validate(
        {"files": [str(tmp_path / "compose.yml")], "label_map": {"node.labels.zone": unmigrated}}
    )
    assert not validated.error_messages
    c = convert_params(validated.validated_parameters)
    assert "affinity" not in pod(c, "app")
    line = entry(c, "app", "deploy.placement.constraints[0]")
    assert line["status"] == "not_convertible"
    assert line["behaviour_change"] is True
    assert "node.labels.zone is not migrated" in json.dumps(line)
