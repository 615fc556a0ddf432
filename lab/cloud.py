"""The lab's stand-in for Alibaba Cloud: disks, NAS, OSS and SLB addresses.

- Dynamic PVCs of a StorageClass whose provisioner is one of ACK's (the CSI
  drivers `diskplugin|nasplugin|ossplugin.csi.alibabacloud.com`, or the legacy
  flexVolume provisioners `alicloud/disk|nas|oss`) get a matching PV, pre-bound
  to the claim, the way an external provisioner answers. WaitForFirstConsumer
  classes wait for the scheduler's selected node and take its zone; Immediate
  disk classes take the first zone the class names. A zone the class does not
  allow (its `allowedTopologies`, or its `zoneId`/`zoneid` parameter), a zone
  outside the nodes' region (Immediate disk classes), an
  unknown disk category or a claim below the category's minimum size is
  refused the way the drivers refuse it: a `ProvisioningFailed` Event on the
  PVC, which stays Pending.
- A CSI PV carries what the real driver puts in `volumeAttributes`: the
  class's parameters, without the `csi.storage.k8s.io/` keys the external
  provisioner keeps for itself, with the disk category actually created as
  `type` (the first of a list; `available` becomes cloud_ssd, the first the driver tries) and, for
  NAS `volumeAs: subpath`, the class's `server` split into the host and the
  volume's own sub-directory `<path>/<PV name>`, as the NAS driver creates it.
- Released PVs of a Delete class are deleted; Retain ones are kept.
- LoadBalancer Services get an ingress address in their status, as the cloud
  controller manager does once the SLB exists.

It polls instead of watching: simple, restart-safe, and fast enough for a lab.
"""

from __future__ import annotations

import argparse
import hashlib
import re
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
REGION_LABEL = "topology.kubernetes.io/region"
DISK_ZONE_KEY = "topology.diskplugin.csi.alibabacloud.com/zone"
ZONE_KEYS = (ZONE_LABEL, DISK_ZONE_KEY, "failure-domain.beta.kubernetes.io/zone")
# Minimum size (GiB) of a disk per category, as ECS creates them; PL2/PL3 ESSDs more.
DISK_MIN_GIB = {
    "cloud": 5,
    "cloud_efficiency": 20,
    "cloud_ssd": 20,
    "cloud_essd": 20,
    "cloud_essd_entry": 10,
    "cloud_auto": 1,
    "cloud_essd_xc0": 40,
    "cloud_essd_xc1": 40,
    "cloud_regional_disk_auto": 10,
    "elastic_ephemeral_disk_standard": 64,
    "elastic_ephemeral_disk_premium": 64,
    "available": 20,
}
ESSD_PL_MIN_GIB = {"PL0": 1, "PL1": 20, "PL2": 461, "PL3": 1261}
UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
         "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}  # fmt: skip


class Refused(Exception):
    """The driver would refuse this claim: the message of its ProvisioningFailed Event."""


def quantity_bytes(value: str) -> float:
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value).strip())
    if not match or (match.group(2) and match.group(2) not in UNITS):
        raise Refused(f"cannot read the requested size {value!r}")
    return float(match.group(1)) * UNITS.get(match.group(2), 1)


def allowed_zones(sc) -> set[str]:
    """The zones a class allows (empty: any): allowedTopologies and the zoneId parameter."""
    zones: set[str] = set()
    for term in sc.allowed_topologies or []:
        for expr in term.match_label_expressions or []:
            if expr.key in ZONE_KEYS:
                zones.update(expr.values or [])
    params = sc.parameters or {}
    for key in ("zoneId", "zoneid"):
        zones.update(z.strip() for z in (params.get(key) or "").split(",") if z.strip())
    return zones


def disk_category(params: dict, size: str) -> str:
    """The category the disk driver would create, or Refused."""
    wanted = [t.strip() for t in (params.get("type") or "available").split(",") if t.strip()]
    for category in wanted:
        if category not in DISK_MIN_GIB:
            raise Refused(f"disk category {category!r} is not supported")
    category = wanted[0]
    minimum = DISK_MIN_GIB[category]
    if category == "cloud_essd":
        minimum = ESSD_PL_MIN_GIB.get(params.get("performanceLevel") or "PL1", minimum)
    if quantity_bytes(size) < minimum * 2**30:
        raise Refused(f"{category} disks are at least {minimum}Gi, {size} requested")
    return "cloud_ssd" if category == "available" else category


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} cloud: {msg}", flush=True)


def volume_id(kind: str, claim_uid: str) -> str:
    digest = hashlib.sha1(claim_uid.encode()).hexdigest()
    return {
        "disk": f"d-bp1{digest[:17]}",
        "nas": f"nas-{digest[:10]}",
        "oss": f"oss-{digest[:10]}",
    }[kind]


def volume_attributes(kind: str, params: dict, pv_name: str, pvc) -> dict:
    attrs = {k: str(v) for k, v in params.items() if not k.startswith("csi.storage.k8s.io/")}
    if kind == "disk":
        attrs["type"] = disk_category(params, pvc.spec.resources.requests["storage"])
    if kind == "nas" and params.get("volumeAs", "subpath") == "subpath":
        # The class names "server:/base"; the volume gets the host and /base/<PV name>.
        host, _, base = (params.get("server") or "").partition(":")
        base = (base or params.get("path") or "/").rstrip("/")
        attrs["server"] = host
        attrs["path"] = f"{base}/{pv_name}"
    return attrs


def volume_source(kind: str, provisioner: str, vid: str, params: dict, pvc=None, name=None) -> dict:
    fstype = (
        params.get("fstype")
        or params.get("fsType")
        or params.get("csi.storage.k8s.io/fstype")
        or "ext4"
    )
    if provisioner in CSI:
        attrs = volume_attributes(kind, params, name or vid, pvc)
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
            try:
                zone = self.zone_for(pvc, sc)
                if zone is False:
                    continue  # waiting for the scheduler
                self.create_pv(pvc, sc, zone)
            except Refused as exc:
                self.refuse(pvc, sc, str(exc))
            except ApiException as exc:  # one claim's trouble must not stall the others
                log(f"{pvc.metadata.namespace}/{pvc.metadata.name}: {exc.status} {exc.reason}")
        self.release()

    def zone_for(self, pvc, sc):
        """The claim's zone (None: not zonal), False while waiting for a node, or Refused."""
        allowed = allowed_zones(sc)
        kind = CSI.get(sc.provisioner) or FLEX[sc.provisioner]
        if sc.volume_binding_mode == "WaitForFirstConsumer":
            node_name = (pvc.metadata.annotations or {}).get(SELECTED_NODE)
            if not node_name:
                return False
            node = self.core.read_node(node_name)
            labels = node.metadata.labels or {}
            zone = next((labels[k] for k in ZONE_KEYS if labels.get(k)), None)
            if allowed and zone not in allowed:
                raise Refused(
                    f"node {node_name} is in zone {zone}, which class {sc.metadata.name} "
                    f"does not allow ({', '.join(sorted(allowed))})"
                )
            return zone if kind == "disk" else None
        if kind != "disk":
            return None
        params = sc.parameters or {}
        listed = [
            z.strip() for z in (params.get("zoneId") or params.get("zoneid") or "").split(",")
        ]
        listed = [z for z in listed if z] or sorted(allowed)
        if not listed:
            return None
        # CreateDisk in the cluster's region: a zone of another region is InvalidZoneId.
        regions = {
            (n.metadata.labels or {}).get(REGION_LABEL) for n in self.core.list_node().items
        } - {None}
        if regions and not any(listed[0].startswith(f"{r}-") for r in regions):
            raise Refused(
                f"zone {listed[0]} is not in region {', '.join(sorted(regions))} (the nodes' region)"
            )
        return listed[0]

    def refuse(self, pvc, sc, message: str) -> None:
        """A ProvisioningFailed Event on the claim, once per claim and message."""
        digest = hashlib.sha1(f"{pvc.metadata.uid}/{message}".encode()).hexdigest()[:10]
        name = f"{pvc.metadata.name}.{digest}"
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": pvc.metadata.namespace},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": pvc.metadata.namespace,
                "name": pvc.metadata.name,
                "uid": pvc.metadata.uid,
            },
            "reason": "ProvisioningFailed",
            "message": f"failed to provision volume with StorageClass {sc.metadata.name!r}: {message}",
            "type": "Warning",
            "source": {"component": f"{sc.provisioner}_lab-cloud"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self.core.create_namespaced_event(pvc.metadata.namespace, body)
            log(f"refused {pvc.metadata.namespace}/{pvc.metadata.name}: {message}")
        except ApiException as exc:
            if exc.status not in (403, 409):  # 403: the namespace is being deleted
                raise

    def release(self) -> None:
        """Released PVs the lab provisioned: deleted for a Delete class, kept for Retain."""
        for pv in self.core.list_persistent_volume().items:
            owner = (pv.metadata.annotations or {}).get(PROVISIONED_BY)
            if (
                (owner in CSI or owner in FLEX)
                and pv.status.phase == "Released"
                and pv.spec.persistent_volume_reclaim_policy == "Delete"
            ):
                log(f"deleting released PV {pv.metadata.name}")
                try:
                    self.core.delete_persistent_volume(pv.metadata.name)
                except ApiException as exc:
                    if exc.status != 404:
                        raise

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
                **volume_source(kind, provisioner, vid, params, pvc, name),
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
