"""k8s_client: the auth options, the configuration they build, and the errors
an operator sees when the kubeconfig or the API server is wrong."""

from __future__ import annotations

import socket

import pytest
import yaml

from ansible_collections.ackops.runbooks.plugins.doc_fragments.k8s_auth import ModuleDocFragment
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s import client as k8s_client
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.client import (
    K8S_AUTH_ARGSPEC,
    K8sClientError,
    build_configuration,
    describe_source,
    get_api_client,
    k8s_auth_argspec,
)

SERVER = "https://10.0.0.10:6443"


@pytest.fixture
def kubeconfig(tmp_path):
    """A token-authenticated kubeconfig with two contexts."""
    path = tmp_path / "admin.conf"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "ack",
                        "cluster": {"server": SERVER, "insecure-skip-tls-verify": True},
                    },
                    {"name": "other", "cluster": {"server": "https://10.9.9.9:6443"}},
                ],
                "users": [{"name": "admin", "user": {"token": "s3cr3t"}}],
                "contexts": [
                    {"name": "ack-admin", "context": {"cluster": "ack", "user": "admin"}},
                    {"name": "other-admin", "context": {"cluster": "other", "user": "admin"}},
                ],
                "current-context": "ack-admin",
            }
        )
    )
    return str(path)


def free_port() -> int:
    """A local port nothing listens on, so connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_argspec_matches_doc_fragment():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(documented) == set(K8S_AUTH_ARGSPEC)
    for name, spec in K8S_AUTH_ARGSPEC.items():
        assert documented[name]["type"] == spec["type"], name
        assert documented[name].get("aliases", []) == spec.get("aliases", []), name


def test_only_the_token_is_no_log():
    assert [n for n, s in K8S_AUTH_ARGSPEC.items() if s.get("no_log")] == ["api_key"]


def test_argspec_copy_does_not_leak_changes():
    spec = k8s_auth_argspec()
    spec["kubeconfig"]["required"] = True
    assert "required" not in K8S_AUTH_ARGSPEC["kubeconfig"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kubeconfig": "/etc/kubernetes/admin.conf"}, "kubeconfig /etc/kubernetes/admin.conf"),
        ({"kubeconfig": "/k", "context": "prod"}, "kubeconfig /k, context prod"),
        ({"host": SERVER}, "host option"),
    ],
)
def test_describe_source(params, expected):
    assert describe_source(params) == expected


def test_describe_source_defaults_to_kubeconfig_env(monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/a/config:/b/config")
    assert describe_source({}) == "default kubeconfig /a/config"


def test_kubeconfig_current_context(kubeconfig):
    cfg = build_configuration({"kubeconfig": kubeconfig})
    assert cfg.host == SERVER
    assert cfg.get_api_key_with_prefix("BearerToken") == "Bearer s3cr3t"
    assert cfg.verify_ssl is False


def test_kubeconfig_named_context(kubeconfig):
    cfg = build_configuration({"kubeconfig": kubeconfig, "context": "other-admin"})
    assert cfg.host == "https://10.9.9.9:6443"


def test_options_override_kubeconfig(kubeconfig, tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("not parsed until a connection is made")
    cfg = build_configuration(
        {
            "kubeconfig": kubeconfig,
            "host": "https://lb.example:6443",
            "api_key": "other-token",
            "validate_certs": True,
            "ca_cert": str(ca),
        }
    )
    # auth_settings() runs the kubeconfig's refresh hook, which must not undo
    # the explicit options.
    assert cfg.auth_settings()["BearerToken"]["value"] == "Bearer other-token"
    assert cfg.host == "https://lb.example:6443"
    assert cfg.verify_ssl is True
    assert cfg.ssl_ca_cert == str(ca)


def test_host_without_kubeconfig():
    cfg = build_configuration({"host": SERVER, "api_key": "t", "validate_certs": False})
    assert (cfg.host, cfg.verify_ssl) == (SERVER, False)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"kubeconfig": "/nonexistent/admin.conf"},
            r"kubeconfig /nonexistent/admin\.conf does not exist",
        ),
        (
            {"host": SERVER, "client_cert": "/nonexistent/c.crt"},
            r"client_cert /nonexistent/c\.crt does not exist",
        ),
    ],
)
def test_missing_files_are_named(params, message):
    with pytest.raises(K8sClientError, match=message):
        build_configuration(params)


def test_unknown_context_names_kubeconfig(kubeconfig):
    with pytest.raises(
        K8sClientError, match=rf"cannot load kubeconfig {kubeconfig}, context nope: .*nope"
    ):
        build_configuration({"kubeconfig": kubeconfig, "context": "nope"})


def test_unparsable_kubeconfig_names_it(tmp_path):
    path = tmp_path / "broken.conf"
    path.write_text("just a string\n")
    with pytest.raises(K8sClientError, match=rf"cannot load kubeconfig {path}"):
        build_configuration({"kubeconfig": str(path)})


def test_no_configuration_at_all(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(
        K8sClientError, match=r"not running inside a cluster.*absent does not exist"
    ):
        build_configuration({})


def test_unreachable_server_is_named(kubeconfig):
    server = f"https://127.0.0.1:{free_port()}"
    with pytest.raises(K8sClientError) as caught:
        get_api_client({"kubeconfig": kubeconfig, "host": server})
    message = str(caught.value)
    assert f"cannot reach the Kubernetes API server {server} (kubeconfig {kubeconfig})" in message
    assert "refused" in message.lower()


def test_unchecked_client_does_not_connect(kubeconfig):
    api = get_api_client({"kubeconfig": kubeconfig, "host": "https://127.0.0.1:1"}, check=False)
    assert api.configuration.host == "https://127.0.0.1:1"


def test_missing_library_is_reported(monkeypatch):
    monkeypatch.setattr(k8s_client, "HAS_KUBERNETES", False)
    monkeypatch.setattr(
        k8s_client, "KUBERNETES_IMPORT_ERROR", ImportError("No module named 'kubernetes'")
    )
    with pytest.raises(K8sClientError, match="kubernetes Python library is required"):
        build_configuration({"host": SERVER})
