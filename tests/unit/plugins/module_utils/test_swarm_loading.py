"""Reading compose files as Compose does: YAML, interpolation, .env, merging several files, extends."""

from __future__ import annotations

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.interpolation import (
    InterpolationError,
    parse_dotenv,
    substitute,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.project import load_project
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.yamlfile import parse_yaml
from tests.unit.plugins.module_utils.test_swarm_helpers import write

VARIABLES = {"SET": "value", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "value"),
        ("$SET/x", "value/x"),
        ("${UNSET:-default}", "default"),
        ("${EMPTY:-default}", "default"),
        ("${EMPTY-default}", ""),
        ("${UNSET-default}", "default"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET:-${SET}}", "value"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("$$SET and $${SET}", "$SET and ${SET}"),
        ("cost: 5$", "cost: 5$"),
        ("$1 stays", "$1 stays"),
        ("${SET:?never shown}", "value"),
        ("${EMPTY?set but empty is fine}", ""),
    ],
)
def test_interpolation(text, expected):
    assert substitute(text, VARIABLES, lambda _m: None) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${UNSET:?please set it}", "needs variable UNSET, which is not set: please set it"),
        ("${EMPTY:?not empty}", "needs variable EMPTY, which is empty: not empty"),
        ("${UNSET?}", "needs variable UNSET, which is not set: variable UNSET is required"),
        ("${UNSET?needs ${SET}}", "not set: needs value"),
    ],
)
def test_required_variables(text, message):
    with pytest.raises(InterpolationError, match=message.replace("$", r"\$")):
        substitute(text, VARIABLES, lambda _m: None)


def test_unset_variable_warns_and_is_empty():
    warnings = []
    assert substitute("a${NOPE}b", {}, warnings.append) == "ab"
    assert warnings == ["variable NOPE is not set; an empty string is used"]


def test_dotenv_format():
    text = (
        "# comment\n"
        "\n"
        "export A=1\n"
        "B=two words # comment\n"
        "C=hash#kept\n"
        'D="quoted # not a comment" # comment\n'
        "E='single $A'\n"
        'F="double $A\\tand\\nnewline"\n'
        "G=\n"
        "H\n"
        'I="multi\n'
        'line"\n'
        "J=${A}-${MISSING:-dflt}\n"
        "K='it\\'s'\n"
    )
    assert parse_dotenv(text, ".env") == {
        "A": "1",
        "B": "two words",
        "C": "hash#kept",
        "D": "quoted # not a comment",
        "E": "single $A",
        "F": "double 1\tand\nnewline",
        "G": "",
        "I": "multi\nline",
        "J": "1-dflt",
        "K": "it's",
    }


def test_dotenv_raw_format_keeps_values():
    assert parse_dotenv("A='x'\nB=$HOME\n", "raw.env", raw=True) == {"A": "'x'", "B": "$HOME"}


def test_yaml_is_read_as_yaml_1_2_with_octal_modes():
    data = parse_yaml(
        "a: no\nb: on\nc: 8080:80\nd: true\ne: 0440\nf: 0o17\ng: 1.5\nh: ~\ni: '007'\n", "f.yml"
    )
    assert data == {"a": "no", "b": "on", "c": "8080:80", "d": True, "e": 0o440, "f": 0o17,
                    "g": 1.5, "h": None, "i": "007"}  # fmt: skip


def test_anchors_merge_keys_and_extension_fields(tmp_path):
    paths = write(
        tmp_path,
        {
            "compose.yml": """\
                x-common: &common
                  image: base:1
                  environment: &env
                    A: "1"
                    B: "2"
                services:
                  one:
                    <<: *common
                    x-note: ignored
                  two:
                    <<: *common
                    image: two:1
                    environment:
                      <<: *env
                      B: "3"
                """
        },
    )
    project = load_project(paths)
    assert project.services["one"] == {"image": "base:1", "environment": {"A": "1", "B": "2"}}
    assert project.services["two"] == {"image": "two:1", "environment": {"A": "1", "B": "3"}}


def test_dotenv_of_the_project_and_caller_variables_win(tmp_path):
    paths = write(
        tmp_path,
        {
            "compose.yml": "services:\n  a:\n    image: app:${TAG}\n    environment:\n      - WHO=${WHO}\n",
            ".env": "TAG=from-dotenv\nWHO=dotenv\n",
        },
    )[:1]
    project = load_project(paths, variables={"WHO": "caller"})
    assert project.services["a"]["image"] == "app:from-dotenv"
    assert project.services["a"]["environment"] == {"WHO": "caller"}
    assert load_project(paths, variables={"TAG": "x"}, dotenv=False).services["a"][
        "environment"
    ] == {"WHO": ""}


def test_keys_are_not_interpolated(tmp_path):
    paths = write(
        tmp_path,
        {"compose.yml": "services:\n  a:\n    image: x\n    labels:\n      $KEY: ${VALUE}\n"},
    )
    project = load_project(paths, variables={"KEY": "k", "VALUE": "v"})
    assert project.services["a"]["labels"] == {"$KEY": "v"}


def test_multiple_files_merge_as_compose_does(tmp_path):
    paths = write(
        tmp_path,
        {
            "base.yml": """\
                services:
                  web:
                    image: web:1
                    command: [serve, --port, "80"]
                    environment: [A=1, B=2]
                    ports: ["80:80", "443:443"]
                    volumes: ["data:/data", "/logs:/logs"]
                    cap_add: [NET_ADMIN]
                    labels: {team: a}
                    healthcheck: {test: [CMD, a], interval: 5s}
                    deploy:
                      replicas: 2
                      placement: {constraints: [node.role == worker]}
                volumes: {data: {}, other: {}}
                """,
            "override.yml": """\
                services:
                  web:
                    image: web:2
                    command: [serve]
                    environment: {B: "3", C: "4"}
                    ports: ["8080:8080", "443:443"]
                    volumes: ["other:/data"]
                    cap_add: [NET_ADMIN, SYS_TIME]
                    labels: !reset {}
                    healthcheck: {test: [CMD, b]}
                    deploy:
                      placement: {constraints: [node.labels.zone == a]}
                """,
        },
    )
    web = load_project(paths).services["web"]
    assert web["image"] == "web:2"
    assert web["command"] == ["serve"]
    assert web["environment"] == {"A": "1", "B": "3", "C": "4"}
    assert [(p["published"], p["target"]) for p in web["ports"]] == [
        ("80", 80),
        ("443", 443),
        ("8080", 8080),
    ]
    assert [(v["source"], v["target"]) for v in web["volumes"]] == [
        ("other", "/data"),
        ("/logs", "/logs"),
    ]
    assert web["cap_add"] == ["NET_ADMIN", "SYS_TIME"]
    assert "labels" not in web
    assert web["healthcheck"] == {"test": ["CMD", "b"], "interval": "5s"}
    assert web["deploy"]["replicas"] == 2
    assert web["deploy"]["placement"]["constraints"] == [
        "node.role == worker",
        "node.labels.zone == a",
    ]


def test_override_tag_replaces_a_sequence(tmp_path):
    paths = write(
        tmp_path,
        {
            "a.yml": "services:\n  web:\n    image: x\n    ports: ['80:80']\n",
            "b.yml": "services:\n  web:\n    ports: !override ['8443:443']\n",
        },
    )
    ports = load_project(paths).services["web"]["ports"]
    assert [(p["published"], p["target"]) for p in ports] == [("8443", 443)]


def test_extends_from_the_same_and_another_file(tmp_path):
    paths = write(
        tmp_path,
        {
            "compose.yml": """\
                services:
                  base:
                    image: base:1
                    user: "1000"
                    environment: {TZ: utc, PORT: "80"}
                  common:
                    extends: base
                    cap_drop: [ALL]
                  cli:
                    extends: {service: common}
                    environment: {PORT: "8080"}
                  remote:
                    extends: {file: lib/common.yml, service: worker}
                    image: remote:1
                """,
            "lib/common.yml": "services:\n  worker:\n    image: w\n    command: [work]\n",
        },
    )
    services = load_project(paths[:1]).services
    assert sorted(services) == ["base", "cli", "common", "remote"]
    assert services["cli"] == {
        "image": "base:1",
        "user": "1000",
        "environment": {"TZ": "utc", "PORT": "8080"},
        "cap_drop": ["ALL"],
    }
    assert services["remote"]["command"] == ["work"]
    assert services["remote"]["image"] == "remote:1"


def test_profiles_leave_services_out(tmp_path):
    paths = write(
        tmp_path,
        {"compose.yml": "services:\n  a: {image: a}\n  debug: {image: d, profiles: [debug]}\n"},
    )
    project = load_project(paths)
    assert list(project.services) == ["a"]
    assert project.inactive == ["debug"]
    assert list(load_project(paths, profiles=["debug"]).services) == ["a", "debug"]


def test_project_name_from_the_file_or_the_directory(tmp_path):
    paths = write(
        tmp_path / "My Stack", {"compose.yml": "name: Shop_2\nservices:\n  a: {image: a}\n"}
    )
    assert load_project(paths).name == "shop_2"
    paths = write(tmp_path / "plain", {"compose.yml": "services:\n  a: {image: a}\n"})
    assert load_project(paths).name == "plain"
    assert load_project(paths, project_name="_Shop Stack_").name == "shopstack"


def test_file_format_3_external_name_form(tmp_path):
    paths = write(
        tmp_path,
        {
            "compose.yml": "version: '3.3'\nservices:\n  a: {image: a, secrets: [s]}\n"
            "secrets:\n  s: {external: {name: prod_s}}\n"
        },
    )
    assert load_project(paths).secrets["s"] == {"external": True, "name": "prod_s"}
