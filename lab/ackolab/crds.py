"""Gateway API CRDs (standard channel) in the lab's cluster.

lab/scripts/build-binaries.sh takes them from the Go module
sigs.k8s.io/gateway-api at GATEWAY_API_VERSION (lab/versions.env) into the
cache; `up` applies them server-side and waits until every one is Established.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .state import CACHE, kubectl
from .util import LabError


def gateway_api_dir(version: str) -> Path:
    return CACHE / f"gateway-api-{version}"


def install_gateway_api(version: str, timeout: str = "60s") -> list[str]:
    """Apply the cached CRDs (idempotent) and return their names once Established."""
    files = sorted(gateway_api_dir(version).glob("*.yaml"))
    if not files:
        raise LabError(
            f"no Gateway API {version} CRDs in {gateway_api_dir(version)}: "
            "run lab/scripts/build-binaries.sh gateway_api"
        )
    names = [yaml.safe_load(f.read_text())["metadata"]["name"] for f in files]
    argv = ["apply", "--server-side", "--force-conflicts", "--field-manager=ackops-lab"]
    kubectl(*argv, *(a for f in files for a in ("-f", str(f))))
    kubectl("wait", "--for=condition=Established", f"--timeout={timeout}",
            *(f"crd/{n}" for n in names))  # fmt: skip
    return names
