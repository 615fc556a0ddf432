"""The AnsibleModule of every PKI module: check mode on, and a clear failure when
the host lacks cryptography or PyYAML instead of an import traceback."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    HAS_PKI_LIBS,
    PKI_IMPORT_ERROR,
)


def pki_module(**kwargs) -> AnsibleModule:
    module = AnsibleModule(supports_check_mode=True, **kwargs)
    if not HAS_PKI_LIBS:
        module.fail_json(
            msg=missing_required_lib("cryptography and PyYAML"), exception=PKI_IMPORT_ERROR
        )
    return module
