"""storage_migrate's restore commands: runnable as given, in an order that cannot lose data.

The lab suite runs them against a migration stopped half-way
(tests/integration/test_provision_storage.py); these pin the order for every stopping point.
"""

from __future__ import annotations

import json
import shlex

from ansible_collections.ackops.runbooks.plugins.modules.storage_migrate import Volume

OLD_PVC = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data", "namespace": "apps", "annotations": {"note": "it's 'quoted'"}},
    "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "ssd", "volumeName": "d-1"},
}


def volume(done: list[str], scaled_up: bool = False) -> Volume:
    vol = Volume(
        {
            "pv": "d-1",
            "type": "disk",
            "old_pvc": {"metadata": {"name": "data", "namespace": "apps"}},
            "new_pv": {"metadata": {"name": "d-1-csi"}, "spec": {"csi": {}}},
            "old_reclaim_policy": "Delete",
            "rollback": {"pvc": OLD_PVC, "text": "put it back"},
        }
    )
    app = {"kind": "Deployment", "metadata": {"name": "app", "namespace": "apps"}}
    vol.workloads = [app]
    vol.replicas = {"Deployment apps/app": 3}
    vol.done = [*done, *(["scaled up Deployment apps/app"] if scaled_up else [])]
    return vol


def commands(vol: Volume) -> list[str]:
    return [line for line in vol.restore() if not line.startswith("#")]


def test_after_the_claim_was_deleted_every_step_back_in_order():
    done = ["retain", "scaled down Deployment apps/app", "new PV created", "claim deleted"]
    lines = commands(volume(done))
    assert lines[0] == "kubectl -n apps delete pvc data --ignore-not-found --wait=true"
    assert lines[1] == "kubectl delete pv d-1-csi --ignore-not-found"
    assert lines[2].startswith("kubectl patch pv d-1 --type merge")
    # The old claim, inlined and quoted so a shell gives kubectl exactly its JSON.
    create = shlex.split(lines[3])
    assert create[:2] == ["printf", "%s\\n"]
    assert json.loads(create[2]) == OLD_PVC
    assert create[3:] == ["|", "kubectl", "create", "-f", "-"]
    assert "wait pvc/data" in lines[4]
    assert lines[5] == "kubectl -n apps scale deployment app --replicas=3"
    # The old policy comes back last, once bound: a Released PV set to Delete would go.
    assert lines[6] == (
        'kubectl patch pv d-1 -p \'{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}\''
    )
    assert len(lines) == 7


def test_a_workload_already_scaled_back_is_stopped_before_its_claim_goes():
    done = ["retain", "new PV created", "claim deleted", "claim recreated"]
    lines = commands(volume(done, scaled_up=True))
    assert lines[0] == "kubectl -n apps scale deployment app --replicas=0"
    assert lines[1].startswith("kubectl -n apps delete pvc data")
    assert lines[-2] == "kubectl -n apps scale deployment app --replicas=3"


def test_before_the_claim_was_touched_only_the_new_pv_goes():
    lines = commands(volume(["retain", "scaled down Deployment apps/app", "new PV created"]))
    assert lines == [
        "kubectl delete pv d-1-csi --ignore-not-found",
        "kubectl -n apps scale deployment app --replicas=3",
        'kubectl patch pv d-1 -p \'{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}\'',
    ]
    assert volume(["retain"]).restore()[-1] == "# in short: put it back"
