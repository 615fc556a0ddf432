# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The set-up every Kubernetes API module shares, so a module is its options and one function.

``run_k8s_module(options, work, field_manager)`` builds the AnsibleModule (the
connection options of the ``k8s_auth`` doc fragment plus ``options``, check
mode on) and runs ``work(module, connect, changes)`` through
``common.errors.run_module``. ``connect()`` returns the one ``ObjectClient``
of the run, connecting on first use: the kubernetes library is checked, the
API server is asked for its version (so an unreachable server fails there,
named, rather than half-way through), and the answer is kept in
``connect.version``. A module that may not need the API (an audit of
manifests) simply never calls it.
"""

from __future__ import annotations

from collections.abc import Callable

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import (
    Changes,
    run_module,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.client import (
    HAS_KUBERNETES,
    KUBERNETES_IMPORT_ERROR,
    K8sClientError,
    check_connection,
    describe_source,
    get_api_client,
    k8s_auth_argspec,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient


class Connector:
    """``connect()``: the run's ObjectClient, made on first call."""

    def __init__(self, params: dict, field_manager: str):
        self.params = params
        self.field_manager = field_manager
        self.client: ObjectClient | None = None
        self.version: str | None = None

    def __call__(self) -> ObjectClient:
        if self.client is None:
            if not HAS_KUBERNETES:
                raise K8sClientError(
                    f"{missing_required_lib('kubernetes')}: {KUBERNETES_IMPORT_ERROR}"
                )
            api_client = get_api_client(self.params, check=False)
            self.version = check_connection(api_client, describe_source(self.params))
            self.client = ObjectClient(api_client, self.field_manager)
        return self.client


def run_k8s_module(
    options: dict,
    work: Callable[[AnsibleModule, Connector, Changes], dict],
    field_manager: str,
    **module_kwargs,
) -> None:
    """Build the module, run ``work(module, connect, changes)`` under the error contract.

    ``field_manager`` names this module's writes (server-side apply owns
    fields by it). ``module_kwargs`` go to AnsibleModule (``required_if`` and
    the like).
    """
    module = AnsibleModule(
        argument_spec={**k8s_auth_argspec(), **options},
        supports_check_mode=True,
        **module_kwargs,
    )
    connect = Connector(module.params, field_manager)
    run_module(module, lambda changes: work(module, connect, changes))
