# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The set-up every PKI module shares, so a module is its options and one function.

``run_pki_module(options, work)`` builds the AnsibleModule (the root options of
the ``k8s_pki`` doc fragment plus ``options``, check mode on), fails with the
error contract when the host lacks cryptography or PyYAML instead of an import
traceback, and runs ``work(module, roots, changes)`` through
``common.errors.run_module``: whatever ``work`` raises, the result has the
contract's keys and holds what was recorded in ``changes`` before the failure.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    failure,
    run_module,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    DEFAULT_KUBECONFIG_DIR,
    DEFAULT_KUBECONFIGS,
    DEFAULT_KUBELET_PKI_DIR,
    DEFAULT_PKI_DIR,
    HAS_PKI_LIBS,
    PKI_IMPORT_ERROR,
    PKIError,
    Roots,
)

# The options every PKI module with roots takes (documented in the k8s_pki doc fragment).
ROOT_ARGSPEC = {
    "pki_dir": {"type": "path", "default": DEFAULT_PKI_DIR},
    "kubeconfig_dir": {"type": "path", "default": DEFAULT_KUBECONFIG_DIR},
    "kubeconfigs": {"type": "list", "elements": "str", "default": list(DEFAULT_KUBECONFIGS)},
    "kubelet_pki_dir": {"type": "path", "default": DEFAULT_KUBELET_PKI_DIR},
}


def roots_from_params(params: dict) -> Roots:
    return Roots(
        pki_dir=params["pki_dir"],
        kubeconfig_dir=params["kubeconfig_dir"],
        kubeconfigs=tuple(params["kubeconfigs"]),
        kubelet_pki_dir=params["kubelet_pki_dir"],
    )


def run_pki_module(
    options: dict,
    work: Callable[[AnsibleModule, Roots | None, Changes], dict],
    *,
    with_roots: bool = True,
    **module_kwargs,
) -> None:
    """Build the module, check the libraries, run ``work`` under the error contract.

    ``with_roots`` adds the root options and hands ``work`` the Roots they
    name (None otherwise). ``module_kwargs`` go to AnsibleModule
    (``required_if`` and the like).
    """
    spec = {**ROOT_ARGSPEC, **options} if with_roots else dict(options)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **module_kwargs)
    host = socket.gethostname()
    if not HAS_PKI_LIBS:
        missing = PKIError(missing_required_lib("cryptography and PyYAML"), host=host)
        module.fail_json(**failure(missing), exception=PKI_IMPORT_ERROR)
    roots = roots_from_params(module.params) if with_roots else None
    run_module(module, lambda changes: work(module, roots, changes), host=host)
