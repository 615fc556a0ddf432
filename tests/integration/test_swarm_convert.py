"""The converter's objects for the whole compose corpus, accepted by the lab's API server.

Every case of the unit corpus (tests/unit/plugins/module_utils/test_swarm_corpus.py)
is converted into a namespace of its own and sent as a server-side dry run
through the access layer's apply_all: the API server validates and admits each
object (field validation, defaulting, admission) and persists nothing. The
namespace is created for real (a dry run cannot preview objects in a namespace
the same batch would create) and removed whatever happens.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.objects import ObjectClient
from ansible_collections.ackops.runbooks.plugins.module_utils.swarm.convert import (
    ConvertOptions,
    convert_compose,
)
from tests.unit.plugins.module_utils.test_swarm_corpus import CORPUS, CORPUS_DIR

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def dry_run(lab_handle):
    lab = lab_handle.ensure("small")
    client = ObjectClient(get_api_client({"kubeconfig": str(lab.kubeconfig)}), "ackops-test")
    namespace = f"swarm-convert-{uuid.uuid4().hex[:6]}"
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        yield client, namespace
    finally:
        client.delete("v1", "Namespace", namespace)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_the_api_server_accepts_every_converted_object(dry_run, case):
    client, namespace = dry_run
    files, variables, profiles, options = CORPUS[case]
    options = dataclasses.replace(
        ConvertOptions(**options), namespace=namespace, create_namespace=False
    )
    conversion = convert_compose(
        [str(CORPUS_DIR / f) for f in files], options, variables=variables, profiles=profiles
    )
    results = client.apply_all(conversion.objects, dry_run=True)

    assert len(results) == len(conversion.objects)
    assert all(r["validated"] for r in results), [
        r["object"] for r in results if not r["validated"]
    ]
    assert all(r["changed"] for r in results)  # all new: the dry run created nothing before
    for obj in conversion.objects:
        meta = obj["metadata"]
        assert (
            client.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace")) is None
        )
