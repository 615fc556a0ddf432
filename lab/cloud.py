"""The lab's stand-in for Alibaba Cloud: disks, NAS, OSS and SLB addresses.

- Dynamic PVCs of a StorageClass whose provisioner is one of ACK's (the CSI
  drivers `diskplugin|nasplugin|ossplugin.csi.alibabacloud.com`, or the legacy
  flexVolume provisioners `alicloud/disk|nas|oss`) get a matching PV, pre-bound
  to the claim, the way an external provisioner answers; WaitForFirstConsumer
  classes wait for the scheduler's selected node and take its zone. Released
  PVs of a Delete class are deleted.
- LoadBalancer Services get an ingress address in their status, as the cloud
  controller manager does once the SLB exists.

It polls instead of watching: simple, restart-safe, and fast enough for a lab.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

CSI = {
    "diskplugin.csi.alibabacloud.com": "disk",
    "nasplugin.csi.alibabacloud.com": "nas",
    "ossplugin.csi.alibabacloud.com": "oss",
}
FLEX = {"alicloud/disk": "disk", "alicloud/nas": "nas", "alicloud/oss": "oss"}
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ZONE_LABEL = "topology.kubernetes.io/zone"
DISK_ZONE_KEY = "topology.diskplugin.csi.alibabacloud.com/zone"


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} cloud: {msg}", flush=True)


def volume_id(kind: str, claim_uid: str) -> str:
    digest = hashlib.sha1(claim_uid.encode()).hexdigest()
    return {
        "disk": f"d-bp1{digest[:17]}",
        "nas": f"nas-{digest[:10]}",
        "oss": f"oss-{digest[:10]}",
    }[kind]


def volume_source(kind: str, provisioner: str, vid: str, params: dict) -> dict:
    fstype = params.get("fstype") or params.get("fsType") or "ext4"
    if provisioner in CSI:
        attrs = {k: str(v) for k, v in params.items()}
        source = {"driver": provisioner, "volumeHandle": vid, "volumeAttributes": attrs}
        if kind == "disk":
            source["fsType"] = fstype
        return {"csi": source}
    options = (
        {"volumeId": vid}
        if kind == "disk"
        else {"server": params.get("server", ""), "path": "/" + vid}
    )
    if kind == "oss":
        options = {"bucket": params.get("bucket", vid), "url": params.get("url", "")}
    return {
        "flexVolume": {
            "driver": provisioner,
            "fsType": fstype if kind == "disk" else "",
            "options": options,
        }
    }


class Cloud:
    def __init__(self, lb_address: str):
        self.core = client.CoreV1Api()
        self.storage = client.StorageV1Api()
        self.lb_address = lb_address

    def classes(self) -> dict:
        out = {}
        for sc in self.storage.list_storage_class().items:
            if sc.provisioner in CSI or sc.provisioner in FLEX:
                out[sc.metadata.name] = sc
        return out

    def provision(self) -> None:
        classes = self.classes()
        for pvc in self.core.list_persistent_volume_claim_for_all_namespaces().items:
            sc = classes.get(pvc.spec.storage_class_name or "")
            if sc is None or pvc.spec.volume_name or pvc.status.phase != "Pending":
                continue
            annotations = pvc.metadata.annotations or {}
            zone = None
            if sc.volume_binding_mode == "WaitForFirstConsumer":
                node_name = annotations.get(SELECTED_NODE)
                if not node_name:
                    continue
                node = self.core.read_node(node_name)
                zone = (node.metadata.labels or {}).get(ZONE_LABEL)
            self.create_pv(pvc, sc, zone)
        for pv in self.core.list_persistent_volume().items:
            owner = (pv.metadata.annotations or {}).get(PROVISIONED_BY)
            if (
                (owner in CSI or owner in FLEX)
                and pv.status.phase == "Released"
                and pv.spec.persistent_volume_reclaim_policy == "Delete"
            ):
                log(f"deleting released PV {pv.metadata.name}")
                self.core.delete_persistent_volume(pv.metadata.name)

    def create_pv(self, pvc, sc, zone: str | None) -> None:
        provisioner = sc.provisioner
        kind = CSI.get(provisioner) or FLEX[provisioner]
        params = dict(sc.parameters or {})
        vid = volume_id(kind, pvc.metadata.uid)
        name = f"{kind}-{pvc.metadata.uid}" if provisioner in CSI and kind != "disk" else vid
        labels = {"alicloud-pvname": name}
        if zone:
            labels[ZONE_LABEL] = zone
            labels["topology.kubernetes.io/region"] = zone.rsplit("-", 1)[0]
        body = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {PROVISIONED_BY: provisioner},
            },
            "spec": {
                "capacity": {"storage": pvc.spec.resources.requests["storage"]},
                "accessModes": pvc.spec.access_modes,
                "persistentVolumeReclaimPolicy": sc.reclaim_policy or "Delete",
                "storageClassName": sc.metadata.name,
                "volumeMode": pvc.spec.volume_mode or "Filesystem",
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": pvc.metadata.namespace,
                    "name": pvc.metadata.name,
                    "uid": pvc.metadata.uid,
                },
                **volume_source(kind, provisioner, vid, params),
            },
        }
        if zone and kind == "disk":
            body["spec"]["nodeAffinity"] = {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": ZONE_LABEL, "operator": "In", "values": [zone]}
                            ]
                        }
                    ]
                }
            }
        try:
            self.core.create_persistent_volume(body)
            log(
                f"provisioned {name} for {pvc.metadata.namespace}/{pvc.metadata.name} ({provisioner})"
            )
        except ApiException as exc:
            if exc.status != 409:
                raise

    def load_balancers(self) -> None:
        for svc in self.core.list_service_for_all_namespaces().items:
            if svc.spec.type != "LoadBalancer":
                continue
            ingress = (svc.status.load_balancer and svc.status.load_balancer.ingress) or []
            if ingress:
                continue
            self.core.patch_namespaced_service_status(
                svc.metadata.name,
                svc.metadata.namespace,
                {"status": {"loadBalancer": {"ingress": [{"ip": self.lb_address}]}}},
            )
            log(f"SLB address {self.lb_address} for {svc.metadata.namespace}/{svc.metadata.name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--lb-address", required=True)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    config.load_kube_config(args.kubeconfig)
    cloud = Cloud(args.lb_address)
    while True:
        try:
            cloud.provision()
            cloud.load_balancers()
        except Exception as exc:
            log(f"retrying after error: {exc}")
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
