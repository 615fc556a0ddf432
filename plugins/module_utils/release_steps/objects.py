# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The objects of a release as the cluster holds them, and the new version's objects built from the old.

Everything a step needs to know is read here from the API server: the old and
new Deployments and Services, the Ingress or HTTPRoute, and the release's own
bookkeeping, which lives on the new Deployment (labels and annotations under
``release.ackops.io/``), never in a local file. Two operators, or a re-run
after a failure, read the same state.
"""

from __future__ import annotations

import copy

from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError

PREFIX = "release.ackops.io/"
LABEL_RELEASE = PREFIX + "name"
LABEL_ROLE = PREFIX + "role"
ANN_STEP = PREFIX + "step"
ANN_WEIGHT = PREFIX + "weight"
ANN_OLD_DEPLOYMENT = PREFIX + "old-deployment"
ANN_OLD_SERVICE = PREFIX + "old-service"
ANN_OLD_REPLICAS = PREFIX + "old-replicas"
ANN_DIALECT = PREFIX + "dialect"
ANN_POLICY = PREFIX + "policy"

# Fields the server assigns to a Service: a copy must not carry them.
SERVICE_SERVER_FIELDS = ("clusterIP", "clusterIPs", "healthCheckNodePort", "loadBalancerIP")


def deployment_labels(dep: dict) -> dict:
    return dict(((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})


def pod_template_labels(dep: dict) -> dict:
    return dict(((dep["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})


def check_new_labels(old: dict, new_labels: dict) -> None:
    """The new pods must fall outside the old Deployment's selector (and its pods outside the new's)."""
    if not new_labels:
        raise InputError(
            "new.labels",
            new_labels,
            "give at least one label that tells the new pods from the old (e.g. version: v2)",
        )
    old_selector = deployment_labels(old)
    differing = [k for k, v in new_labels.items() if k in old_selector and old_selector[k] != v]
    if not differing:
        name = old["metadata"]["name"]
        raise InputError(
            "new.labels",
            new_labels,
            f"the old Deployment {name}'s selector {old_selector} would also select the new pods: "
            "change the value of one of its keys (e.g. version)",
        )


def new_deployment(old: dict, params: dict, current: dict | None, replicas: int) -> dict:
    """The new version's Deployment: the old one's spec with the new image(s) and labels.

    ``current`` (the new Deployment as it exists, if it does) keeps its replica
    count: re-running ``deploy`` after a ``shift`` must not undo the shift.
    """
    new = params["new"]
    release = params["release"]
    meta = old["metadata"]
    spec = copy.deepcopy(old["spec"])
    spec.pop("paused", None)
    selector = deployment_labels(old)
    selector.update(new["labels"])
    spec["selector"] = {"matchLabels": selector}
    template = spec["template"]
    template.setdefault("metadata", {})
    template["metadata"].pop("creationTimestamp", None)
    template["metadata"]["labels"] = {**pod_template_labels(old), **new["labels"]}
    # The pod template hash annotation kubectl rollout restart leaves behind is the old's own.
    (template["metadata"].get("annotations") or {}).pop("kubectl.kubernetes.io/restartedAt", None)
    set_images(template["spec"], new.get("image"), new.get("images") or {}, old)
    if current is not None:
        replicas = (current.get("spec") or {}).get("replicas", replicas)
    spec["replicas"] = replicas
    labels = {
        k: v for k, v in (meta.get("labels") or {}).items() if not k.startswith(PREFIX)
    } | new["labels"]
    labels[LABEL_RELEASE] = release
    labels[LABEL_ROLE] = "new"
    current_ann = ((current or {}).get("metadata") or {}).get("annotations") or {}
    annotations = {
        ANN_OLD_DEPLOYMENT: meta["name"],
        ANN_OLD_REPLICAS: current_ann.get(
            ANN_OLD_REPLICAS, str((old.get("spec") or {}).get("replicas", 1))
        ),
    }
    if params["old"].get("service"):
        annotations[ANN_OLD_SERVICE] = params["old"]["service"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": new["deployment"],
            "namespace": meta["namespace"],
            "labels": labels,
            "annotations": annotations,
        },
        "spec": spec,
    }


def set_images(pod_spec: dict, image: str | None, images: dict, old: dict) -> None:
    containers = pod_spec.get("containers") or []
    names = [c.get("name") for c in containers]
    unknown = sorted(set(images) - set(names))
    if unknown:
        raise InputError(
            "new.images",
            images,
            f"no container {', '.join(unknown)} in Deployment {old['metadata']['name']} "
            f"(containers: {', '.join(names)})",
        )
    if image and len(containers) != 1 and not images:
        raise InputError(
            "new.image",
            image,
            f"Deployment {old['metadata']['name']} has {len(containers)} containers "
            f"({', '.join(names)}): name them in new.images",
        )
    if not image and not images:
        raise InputError("new.image", image, "give the new version's image (or new.images)")
    for container in containers:
        if container.get("name") in images:
            container["image"] = images[container["name"]]
        elif image and len(containers) == 1:
            container["image"] = image


def new_service(old_svc: dict, params: dict) -> dict:
    """The new version's Service: the old one's ports and type, selecting the new pods."""
    release = params["release"]
    spec = copy.deepcopy(old_svc["spec"])
    for key in SERVICE_SERVER_FIELDS:
        spec.pop(key, None)
    for port in spec.get("ports") or []:
        port.pop("nodePort", None)  # the old Service's node ports are taken
    selector = dict(spec.get("selector") or {})
    selector.update(params["new"]["labels"])
    spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": params["new"]["service"],
            "namespace": old_svc["metadata"]["namespace"],
            "labels": {LABEL_RELEASE: release, LABEL_ROLE: "new"},
        },
        "spec": spec,
    }


def service_selects(svc: dict, labels: dict) -> bool:
    selector = (svc.get("spec") or {}).get("selector") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def annotations(obj: dict | None) -> dict:
    return dict(((obj or {}).get("metadata") or {}).get("annotations") or {})


def escape(key: str) -> str:
    """A JSON-pointer segment for ``key``."""
    return key.replace("~", "~0").replace("/", "~1")
