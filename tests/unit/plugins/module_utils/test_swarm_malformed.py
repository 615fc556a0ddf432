"""Malformed compose input: one clear error naming the file, the service, the key and the value."""

from __future__ import annotations

import textwrap

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import convert_compose
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.errors import ComposeError
from tests.catalogue import record


def svc(body: str, name: str = "web", top: str = "") -> str:
    indented = "\n".join("    " + line for line in textwrap.dedent(body).strip("\n").splitlines())
    return f"services:\n  {name}:\n{indented}\n{top}"


IMG = "image: nginx:1\n"

# (id, files (the first is converted), file named, service, key, value shown in the message)
CASES = [
    ("bad-yaml", {"compose.yml": "services:\n  web:\n    image: [nginx\n"}, "compose.yml", None, None, "line 4"),
    ("tab-indent", {"compose.yml": "services:\n\tweb: {}\n"}, "compose.yml", None, None, "not valid YAML"),
    ("duplicate-key", {"compose.yml": svc(IMG + "image: other\n")}, "compose.yml", None, None, "'image' appears twice"),
    ("two-documents", {"compose.yml": svc(IMG) + "---\nservices: {}\n"}, "compose.yml", None, None, "2 YAML documents"),
    ("version-2", {"compose.yml": "version: '2.4'\n" + svc(IMG)}, "compose.yml", None, "version", "'2.4'"),
    ("version-1", {"compose.yml": "version: 1\n" + svc(IMG)}, "compose.yml", None, "version", "1"),
    ("not-a-mapping", {"compose.yml": "- web\n- db\n"}, "compose.yml", None, None, "['web', 'db']"),
    ("unknown-top-level", {"compose.yml": "servics:\n  web: {image: x}\n"}, "compose.yml", None, "servics", "{'web'"),
    ("unknown-service-key", {"compose.yml": svc(IMG + "imagee: nginx\n")}, "compose.yml", "web", "imagee", "'nginx'"),
    ("replicas-word", {"compose.yml": svc(IMG + "deploy: {replicas: three}\n")}, "compose.yml", "web", "deploy.replicas", "'three'"),
    ("replicas-negative", {"compose.yml": svc(IMG + "deploy: {replicas: -1}\n")}, "compose.yml", "web", "deploy.replicas", "-1"),
    ("deploy-mode", {"compose.yml": svc(IMG + "deploy: {mode: everywhere}\n")}, "compose.yml", "web", "deploy.mode", "'everywhere'"),
    ("unknown-deploy-key", {"compose.yml": svc(IMG + "deploy: {replica: 2}\n")}, "compose.yml", "web", "deploy.replica", "2"),
    ("constraint-operator", {"compose.yml": svc(IMG + "deploy: {placement: {constraints: ['node.labels.zone >= 3']}}\n")},
     "compose.yml", "web", "deploy.placement.constraints[0]", "'node.labels.zone >= 3'"),
    ("constraint-single-equals", {"compose.yml": svc(IMG + "deploy: {placement: {constraints: ['node.role = manager']}}\n")},
     "compose.yml", "web", "deploy.placement.constraints[0]", "'node.role = manager'"),
    ("constraint-attribute", {"compose.yml": svc(IMG + "deploy: {placement: {constraints: ['node.colour == red']}}\n")},
     "compose.yml", "web", "deploy.placement.constraints[0]", "'node.colour == red'"),
    ("constraint-shape", {"compose.yml": svc(IMG + "deploy: {placement: {constraints: [ssd]}}\n")},
     "compose.yml", "web", "deploy.placement.constraints[0]", "'ssd'"),
    ("role-value", {"compose.yml": svc(IMG + "deploy: {placement: {constraints: ['node.role == boss']}}\n")},
     "compose.yml", "web", "deploy.placement.constraints[0]", "'node.role == boss'"),
    ("required-variable", {"compose.yml": svc("image: nginx:${TAG:?set TAG to the release}\n")},
     "compose.yml", "web", "image", "'nginx:${TAG:?set TAG to the release}'"),
    ("required-variable-unset-only", {"compose.yml": svc("image: nginx:${TAG?no tag}\n")},
     "compose.yml", "web", "image", "no tag"),
    ("bad-interpolation", {"compose.yml": svc(IMG + "environment: {A: '${A/x/y}'}\n")},
     "compose.yml", "web", "environment.A", "'${A/x/y}'"),
    ("unclosed-interpolation", {"compose.yml": svc(IMG + "command: echo ${A\n")},
     "compose.yml", "web", "command", "'echo ${A'"),
    ("port-word", {"compose.yml": svc(IMG + "ports: ['80:abc']\n")}, "compose.yml", "web", "ports[0]", "'abc'"),
    ("port-ranges", {"compose.yml": svc(IMG + "ports: ['8000-8002:80-81']\n")},
     "compose.yml", "web", "ports[0]", "'8000-8002:80-81'"),
    ("port-protocol", {"compose.yml": svc(IMG + "ports: ['80/http']\n")}, "compose.yml", "web", "ports[0]", "'http'"),
    ("port-too-big", {"compose.yml": svc(IMG + "ports: [{target: 70000}]\n")}, "compose.yml", "web", "ports[0].target", "'70000'"),
    ("volume-relative-target", {"compose.yml": svc(IMG + "volumes: ['data:relative']\n", top="volumes: {data: {}}\n")},
     "compose.yml", "web", "volumes[0]", "'data:relative'"),
    ("healthcheck-test", {"compose.yml": svc(IMG + "healthcheck: {test: [RUN, check]}\n")},
     "compose.yml", "web", "healthcheck.test", "['RUN', 'check']"),
    ("healthcheck-interval", {"compose.yml": svc(IMG + "healthcheck: {test: [CMD, ok], interval: fast}\n")},
     "compose.yml", "web", "healthcheck.interval", "'fast'"),
    ("stop-grace", {"compose.yml": svc(IMG + "stop_grace_period: soon\n")}, "compose.yml", "web", "stop_grace_period", "'soon'"),
    ("cpus", {"compose.yml": svc(IMG + "deploy: {resources: {limits: {cpus: lots}}}\n")},
     "compose.yml", "web", "deploy.resources.limits.cpus", "'lots'"),
    ("memory", {"compose.yml": svc(IMG + "deploy: {resources: {limits: {memory: 1 gigabyte}}}\n")},
     "compose.yml", "web", "deploy.resources.limits.memory", "'1 gigabyte'"),
    ("reservation-above-limit", {"compose.yml": svc(IMG + "deploy: {resources: {limits: {memory: 1g}, reservations: {memory: 2g}}}\n")},
     "compose.yml", "web", "deploy.resources.reservations", "'2Gi'"),
    ("restart-condition", {"compose.yml": svc(IMG + "deploy: {restart_policy: {condition: sometimes}}\n")},
     "compose.yml", "web", "deploy.restart_policy.condition", "'sometimes'"),
    ("update-order", {"compose.yml": svc(IMG + "deploy: {update_config: {order: random}}\n")},
     "compose.yml", "web", "deploy.update_config.order", "'random'"),
    ("labels-type", {"compose.yml": svc(IMG + "labels: 5\n")}, "compose.yml", "web", "labels", "5"),
    ("environment-nested", {"compose.yml": svc(IMG + "environment: {A: {b: c}}\n")}, "compose.yml", "web", "environment.A", "{'b': 'c'}"),
    ("cap-add-string", {"compose.yml": svc(IMG + "cap_add: NET_ADMIN\n")}, "compose.yml", "web", "cap_add", "'NET_ADMIN'"),
    ("ulimit-half", {"compose.yml": svc(IMG + "ulimits: {nofile: {soft: 1}}\n")}, "compose.yml", "web", "ulimits.nofile", "{'soft': 1}"),
    ("no-image", {"compose.yml": svc("command: run\n")}, "compose.yml", "web", "image", "None"),
    ("depends-on-unknown", {"compose.yml": svc(IMG + "depends_on: [db]\n")}, "compose.yml", "web", "depends_on", "'db'"),
    ("depends-condition", {"compose.yml": svc(IMG + "depends_on: {db: {condition: ready}}\n") + "  db: {image: db}\n"},
     "compose.yml", "web", "depends_on.db.condition", "'ready'"),
    ("secret-undefined", {"compose.yml": svc(IMG + "secrets: [token]\n")}, "compose.yml", "web", "secrets[0].source", "'token'"),
    ("env-file-missing", {"compose.yml": svc(IMG + "env_file: [missing.env]\n")}, "compose.yml", "web", "env_file[0]", "'missing.env'"),
    ("override-file-type", {"compose.yml": svc(IMG), "override.yml": svc("deploy: {replicas: many}\n")},
     "override.yml", "web", "deploy.replicas", "'many'"),
    ("name-clash", {"compose.yml": "services:\n  my_api: {image: a}\n  my-api: {image: b}\n"},
     "compose.yml", "my-api", None, "as service 'my_api' does"),
    ("extends-cycle", {"compose.yml": "services:\n  a: {image: x, extends: b}\n  b: {image: y, extends: a}\n"},
     "compose.yml", "a", "extends", "a -> b -> a"),
    ("extends-unknown", {"compose.yml": svc(IMG + "extends: {service: base}\n")}, "compose.yml", "web", "extends.service", "'base'"),
    ("extends-file-missing", {"compose.yml": svc(IMG + "extends: {file: none.yml, service: base}\n")},
     "compose.yml", "web", "extends.file", "'none.yml'"),
]  # fmt: skip


def _convert(tmp_path, files: dict[str, str]):
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    return convert_compose(paths if len(paths) > 1 else paths[:1], project_name="bad")


@pytest.mark.parametrize(
    ("files", "file", "service", "key", "shown"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_malformed_input_names_file_service_key_and_value(
    tmp_path, files, file, service, key, shown
):
    with pytest.raises(ComposeError) as caught:
        _convert(tmp_path, files)
    error = caught.value
    message = str(error)
    assert isinstance(error, RunbookError)
    assert error.file == str(tmp_path / file)
    assert message.startswith(str(tmp_path / file) + ": ")
    assert error.service == service
    assert error.key == key
    if service:
        assert f"services.{service}" + (f".{key}" if key else "") + ": " in message
    elif key:
        assert f": {key}: " in message
    assert shown in message
    assert "Traceback" not in message
    assert error.as_error()["object"] == str(tmp_path / file)
    shown_files = next(iter(files.values())) if len(files) == 1 else files
    record("migrate-swarm", "compose file", shown_files, message,
           "convert_compose raised ComposeError: no manifests returned")  # fmt: skip


def test_the_table_is_large_enough():
    assert len(CASES) >= 20


def test_a_bad_caller_option_is_named(tmp_path):
    (tmp_path / "compose.yml").write_text(svc(IMG))
    from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
        ConvertOptions,
    )

    with pytest.raises(ComposeError, match=r"<options>: statefulsets: 'db' is not a service"):
        convert_compose([str(tmp_path / "compose.yml")], ConvertOptions(statefulsets=["db"]))


def test_a_secret_value_of_the_wrong_type_is_not_shown(tmp_path):
    (tmp_path / "compose.yml").write_text(svc(IMG))
    from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
        ConvertOptions,
    )

    with pytest.raises(ComposeError) as caught:
        convert_compose(
            [str(tmp_path / "compose.yml")], ConvertOptions(secret_values={"token": 123456789})
        )
    assert "123456789" not in str(caught.value)
    assert "secret_values.token" in str(caught.value)
