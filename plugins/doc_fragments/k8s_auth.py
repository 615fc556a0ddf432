# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module that talks to the Kubernetes API."""

from __future__ import annotations


class ModuleDocFragment:
    # Mirrors the option names, aliases and environment variables of
    # kubernetes.core's k8s_auth_options, so an AWX credential or a playbook
    # written for kubernetes.core works unchanged with ackops.runbooks modules.
    # The argument spec is K8S_AUTH_ARGSPEC in module_utils/k8s/client.py.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file on the controller.
      - When neither O(kubeconfig) nor O(host) is set, the client falls back to
        the in-cluster service account (inside a pod), then to the
        E(KUBECONFIG) environment variable or C(~/.kube/config).
      - Can also be set with the E(K8S_AUTH_KUBECONFIG) environment variable.
    type: path
  context:
    description:
      - The context of O(kubeconfig) to use; the kubeconfig's current context
        when omitted.
      - Can also be set with the E(K8S_AUTH_CONTEXT) environment variable.
    type: str
  host:
    description:
      - URL of the Kubernetes API server, for example C(https://192.168.0.10:6443).
      - Overrides the server of O(kubeconfig) when both are given.
      - Can also be set with the E(K8S_AUTH_HOST) environment variable.
    type: str
  api_key:
    description:
      - Bearer token used to authenticate with the API server.
      - Can also be set with the E(K8S_AUTH_API_KEY) environment variable.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate.
      - Defaults to the kubeconfig's setting, which is V(true) unless it sets
        C(insecure-skip-tls-verify).
      - Can also be set with the E(K8S_AUTH_VERIFY_SSL) environment variable.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to a CA certificate bundle used to verify the API server.
      - Can also be set with the E(K8S_AUTH_SSL_CA_CERT) environment variable.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate used to authenticate with the API server.
      - Can also be set with the E(K8S_AUTH_CERT_FILE) environment variable.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the private key of O(client_cert).
      - Can also be set with the E(K8S_AUTH_KEY_FILE) environment variable.
    type: path
    aliases: [key_file]
requirements:
  - kubernetes >= 24.2.0 (Python library)
notes:
  - The API server named in O(host) or in the kubeconfig's context must be
    reachable from the controller; when it is not, the module fails with a
    message naming that server and the kubeconfig it came from.
"""
