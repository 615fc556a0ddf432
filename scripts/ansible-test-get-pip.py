"""Stand-in for the get-pip.py that ansible-test bootstraps pip with.

ansible-test creates each sanity test's virtual environment without pip and
downloads get-pip.py from a CI host that is not reachable where only package
registries are. It runs the script cached at ~/.ansible/test/cache/ instead
when one is there (its error message says to put one there), so
scripts/sanity.sh puts this one there: it installs pip with the standard
library's ensurepip and then the requested packages from the package index,
which is what get-pip.py does.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py options that pip install itself does not take.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
