# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kubernetes API client built from the shared connection options.

Modules that talk to the API merge ``K8S_AUTH_ARGSPEC`` into their argument
spec, document it with ``extends_documentation_fragment: ackops.runbooks.k8s_auth``
and call ``get_api_client(module.params)``. Failures raise ``K8sClientError``
whose message names the API server and the kubeconfig it came from, so that
``main()`` can hand it to ``fail_json`` as it is.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import env_fallback

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

try:
    import urllib3
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
except ImportError as exc:  # the module reports it through missing_required_lib
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR: ImportError | None = exc
else:
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None

# Same names, aliases and environment variables as kubernetes.core's auth
# options (module_utils/args_common.py there), documented by the
# ackops.runbooks.k8s_auth doc fragment.
K8S_AUTH_ARGSPEC: dict[str, dict] = {
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
    "host": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_HOST"])},
    "api_key": {
        "type": "str",
        "no_log": True,
        "fallback": (env_fallback, ["K8S_AUTH_API_KEY"]),
    },
    "validate_certs": {
        "type": "bool",
        "aliases": ["verify_ssl"],
        "fallback": (env_fallback, ["K8S_AUTH_VERIFY_SSL"]),
    },
    "ca_cert": {
        "type": "path",
        "aliases": ["ssl_ca_cert"],
        "fallback": (env_fallback, ["K8S_AUTH_SSL_CA_CERT"]),
    },
    "client_cert": {
        "type": "path",
        "aliases": ["cert_file"],
        "fallback": (env_fallback, ["K8S_AUTH_CERT_FILE"]),
    },
    "client_key": {
        "type": "path",
        "aliases": ["key_file"],
        "fallback": (env_fallback, ["K8S_AUTH_KEY_FILE"]),
    },
}

DEFAULT_KUBECONFIG = "~/.kube/config"
# Seconds to wait for the API server to accept a connection and to answer.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15


class K8sClientError(RunbookError):
    """The API client could not be configured, or the API server not reached."""


def k8s_auth_argspec() -> dict[str, dict]:
    """A copy of the auth options, for a module to extend with its own."""
    return {name: dict(spec) for name, spec in K8S_AUTH_ARGSPEC.items()}


def describe_source(params: dict) -> str:
    """Where the connection settings come from, for error messages."""
    kubeconfig = params.get("kubeconfig")
    context = params.get("context")
    if kubeconfig:
        source = f"kubeconfig {kubeconfig}"
    elif params.get("host"):
        return "host option"
    else:
        source = f"default kubeconfig {default_kubeconfig_path()}"
    return f"{source}, context {context}" if context else source


def default_kubeconfig_path() -> str:
    """The kubeconfig kubectl would use: the first of $KUBECONFIG, or ~/.kube/config."""
    env = os.environ.get("KUBECONFIG", "")
    first = env.split(os.pathsep)[0] if env else DEFAULT_KUBECONFIG
    return os.path.expanduser(first)


def _require_file(option: str, path: str | None) -> None:
    if path and not os.path.isfile(path):
        raise K8sClientError(f"{option} {path} does not exist or is not a file")


def _load_kubeconfig(cfg, path: str, context: str | None, source: str) -> None:
    try:
        k8s_config.load_kube_config(
            config_file=path, context=context, client_configuration=cfg, persist_config=False
        )
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
        raise K8sClientError(f"cannot load {source}: {exc}") from exc


def _overrides(params: dict) -> dict:
    """Configuration attributes set by explicit options, which beat the kubeconfig."""
    overrides: dict = {}
    if params.get("host"):
        overrides["host"] = params["host"]
    if params.get("api_key"):
        # The kubernetes client sends api_key["BearerToken"] as the
        # Authorization header (Configuration.auth_settings).
        overrides["api_key"] = {"BearerToken": f"Bearer {params['api_key']}"}
    if params.get("validate_certs") is not None:
        overrides["verify_ssl"] = params["validate_certs"]
    for option, attribute in (
        ("ca_cert", "ssl_ca_cert"),
        ("client_cert", "cert_file"),
        ("client_key", "key_file"),
    ):
        if params.get(option):
            _require_file(option, params[option])
            overrides[attribute] = params[option]
    return overrides


def _apply(cfg, overrides: dict) -> None:
    # Copies: the kubeconfig hook updates cfg.api_key in place, which must not
    # reach the overrides themselves.
    for attribute, value in overrides.items():
        setattr(cfg, attribute, dict(value) if isinstance(value, dict) else value)


def build_configuration(params: dict):
    """Build a ``kubernetes.client.Configuration`` from the auth options.

    The kubeconfig (if given) is loaded first; ``host``, ``api_key`` and the
    TLS options then override what it says. With neither kubeconfig nor host,
    the in-cluster service account is tried, then the default kubeconfig.
    """
    if not HAS_KUBERNETES:
        raise K8sClientError(
            f"the kubernetes Python library is required: {KUBERNETES_IMPORT_ERROR}"
        )

    kubeconfig = params.get("kubeconfig")
    context = params.get("context")
    host = params.get("host")
    source = describe_source(params)
    cfg = k8s.Configuration()

    if kubeconfig:
        _require_file("kubeconfig", kubeconfig)
        _load_kubeconfig(cfg, kubeconfig, context, source)
    elif not host:
        try:
            k8s_config.load_incluster_config(client_configuration=cfg)
        except ConfigException:
            default = default_kubeconfig_path()
            if not os.path.isfile(default):
                raise K8sClientError(
                    "no kubeconfig or host given, not running inside a cluster, and the "
                    f"default kubeconfig {default} does not exist"
                ) from None
            _load_kubeconfig(cfg, default, context, source)

    overrides = _overrides(params)
    _apply(cfg, overrides)
    hook = cfg.refresh_api_key_hook
    if overrides and hook is not None:
        # The kubeconfig loader's hook re-applies the kubeconfig's server, TLS
        # settings and token before every request; keep its token refresh but
        # re-apply the options given explicitly on top.
        def refresh_then_override(configuration):
            hook(configuration)
            _apply(configuration, overrides)

        cfg.refresh_api_key_hook = refresh_then_override
    return cfg


def _root_cause(exc: BaseException) -> str:
    """The most specific reason urllib3 gives (e.g. 'Connection refused')."""
    reason = getattr(exc, "reason", None)
    while isinstance(reason, BaseException) and getattr(reason, "reason", None) is not None:
        reason = reason.reason
    return str(reason) if reason is not None else str(exc)


def check_connection(api_client, source: str = "") -> str:
    """Ask the API server for its version; return its gitVersion.

    Raises ``K8sClientError`` naming the server (and ``source``) when it cannot
    be reached, the TLS handshake fails or it answers with an error.
    """
    server = api_client.configuration.host
    where = f"{server} ({source})" if source else server
    try:
        version = k8s.VersionApi(api_client).get_code(
            _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
        )
    except ApiException as exc:
        raise K8sClientError(
            f"Kubernetes API server {where} answered /version with {exc.status} {exc.reason}"
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise K8sClientError(
            f"cannot reach the Kubernetes API server {where}: {_root_cause(exc)}"
        ) from exc
    return version.git_version


def get_api_client(params: dict, check: bool = True):
    """An ``ApiClient`` for the options in ``params`` (a module's params).

    With ``check`` (the default) the API server is contacted once, so an
    unreachable server fails here with a message naming it rather than in the
    middle of a module's work.
    """
    cfg = build_configuration(params)
    # Fail fast: urllib3's default of three retries turns one unreachable
    # server into four connection timeouts.
    cfg.retries = 1
    api_client = k8s.ApiClient(cfg)
    if check:
        check_connection(api_client, describe_source(params))
    return api_client
