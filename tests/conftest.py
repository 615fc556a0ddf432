"""Make the in-repo collection importable as ansible_collections.ackops.runbooks.

``collections/ansible_collections`` is a namespace package, like the one the
``ansible`` package installs in site-packages, so both merge: tests import our
module_utils and kubernetes.core's alike by their collection paths.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO_ROOT / "collections"

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
