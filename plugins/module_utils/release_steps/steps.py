# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps of a release against the cluster: deploy, shift, promote, retire, rollback, status.

Each step reads the release's objects from the API server, computes what they
should be, and writes only the difference (server-side apply for the objects
the release owns, a resourceVersion-guarded JSON patch for the Ingress or
HTTPRoute someone else owns, the scale subresource for replicas), so a second
run changes nothing and a run cut short (an API server restart) is finished by
running the step again. In check mode every write is a server-side dry run and
nothing is waited for.

Two kinds of release:

``l4``
    old and new Deployments behind one Service that selects a label both
    carry; weight is moved by replica counts (``split_replicas`` of the
    release logic), and the Service's EndpointSlices are checked to split as
    computed.
``ingress``
    the new version gets its own Service; traffic is moved by the Ingress
    controller, in one of three dialects: ACK's ``service-match`` /
    ``service-weight`` annotations on the existing Ingress (``ack``), a second
    canary Ingress (``upstream`` ingress-nginx), or the weights and matches of
    an HTTPRoute (``gateway``). The rules are rendered by the release logic
    (``module_utils/release``); this file only puts them on the cluster.
"""

from __future__ import annotations

import copy
import json

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError
from ansible_collections.ackops.runbooks.plugins.module_utils.common.input_checks import InputError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.diff import (
    describe,
    diff_entry,
    differs,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.errors import K8sObjectError
from ansible_collections.ackops.runbooks.plugins.module_utils.k8s.waits import poll_until
from ansible_collections.ackops.runbooks.plugins.module_utils.release_steps import gates, traffic
from ansible_collections.ackops.runbooks.plugins.module_utils.release_steps import (
    objects as rel,
)

STEPS = ("deploy", "shift", "promote", "retire", "rollback", "status")
DEPLOYMENT = ("apps/v1", "Deployment")
SERVICE = ("v1", "Service")
SLICE = ("discovery.k8s.io/v1", "EndpointSlice")
PDB = ("policy/v1", "PodDisruptionBudget")


class ReleaseStateError(RunbookError):
    """The cluster is not in a state this step can start from."""

    error_type = "release_state"


class Release:
    """One run of one step: the client, the inputs, what was changed and seen."""

    def __init__(self, client, params: dict, check_mode: bool, ledger, split_replicas=None):
        self.client = client
        self.p = params
        self.check = check_mode
        self.ledger = ledger
        self.ns = params["namespace"]
        self.lines: list[str] = []
        self.diffs: list[dict] = []
        self.gates: list[str] = []
        self.warnings: list[str] = []
        self.waited = False
        self._split = split_replicas
        self.split: dict | None = None
        self.slices: dict | None = None

    # ---- reading

    def get(self, kind: tuple[str, str], name: str | None) -> dict | None:
        if not name:
            return None
        return self.client.get(kind[0], kind[1], name, self.ns)

    def read(self) -> None:
        self.old = self.get(DEPLOYMENT, self.p["old"]["deployment"])
        self.new = self.get(DEPLOYMENT, self.p["new"]["deployment"])
        self.old_svc = self.get(SERVICE, self.p["old"]["service"])
        self.new_svc = self.get(SERVICE, self.p["new"].get("service")) if self.ingress else None

    @property
    def ingress(self) -> bool:
        return self.p["mode"] == "ingress"

    @property
    def recorded_step(self) -> str | None:
        return rel.annotations(self.new).get(rel.ANN_STEP)

    def require_old(self) -> dict:
        if self.old is None:
            raise ReleaseStateError(
                "the old Deployment does not exist",
                obj=describe("Deployment", self.p["old"]["deployment"], self.ns),
                field="old.deployment",
            )
        return self.old

    def require_new(self, step: str) -> dict | None:
        if self.new is None and not self.check:
            raise ReleaseStateError(
                f"the new Deployment does not exist: run the deploy step before {step}",
                obj=describe("Deployment", self.p["new"]["deployment"], self.ns),
            )
        return self.new

    def require_service(self) -> dict:
        if self.old_svc is None:
            raise ReleaseStateError(
                "the Service does not exist",
                obj=describe("Service", self.p["old"]["service"], self.ns),
                field="old.service",
            )
        return self.old_svc

    # ---- writing

    def _record(self, action: str, target: str, line: str) -> None:
        self.lines.append(line)
        if not self.check:
            self.ledger.record(action, target, change=line)

    def apply(self, body: dict) -> dict:
        """Server-side apply an object the release owns whole."""
        [result] = self.client.apply_all([body], dry_run=self.check)
        if result["changed"]:
            action = "create" if result["before"] is None else "update"
            self._record(action, result["object"], f"{action} {result['object']}")
            self.diffs.append(result["diff"])
        if self.check:
            return result["after"]  # a dry run: what would be (nothing to patch later)
        meta = body["metadata"]
        return self.client.get(body["apiVersion"], body["kind"], meta["name"], meta["namespace"])

    def patch(self, current: dict, desired: dict) -> dict:
        """Make ``current`` (someone else's object) look like ``desired``: annotations and spec."""
        if not differs(current, desired):
            return current

        def operations(_fresh):
            return [
                {"op": "add", "path": "/metadata/annotations", "value": rel.annotations(desired)},
                {"op": "add", "path": "/spec", "value": desired.get("spec") or {}},
            ]

        after = self._guarded_patch(current, operations, same_spec=True)
        if differs(current, after):
            what = describe(current)
            self._record("update", what, f"update {what}")
            self.diffs.append(diff_entry(what, current, after))
        return after

    def _guarded_patch(self, obj: dict, operations, same_spec: bool) -> dict:
        """A JSON patch guarded by resourceVersion, retried when only the status moved meanwhile.

        Controllers update an object's status all the time (a new Deployment
        settling); that must not fail the step. A change of its spec or
        annotations by someone else does: the step is then run again.
        """
        current = obj
        for _attempt in range(5):
            try:
                return self.client.json_patch(current, operations(current), dry_run=self.check)
            except K8sObjectError as exc:
                if exc.status not in (409, 422):
                    raise
                meta = current["metadata"]
                fresh = self.client.get(
                    current["apiVersion"], current["kind"], meta["name"], meta.get("namespace")
                )
                moved = fresh is not None and fresh["metadata"].get("resourceVersion") != meta.get(
                    "resourceVersion"
                )
                if not moved:
                    raise
                mine = (rel.annotations(current), current.get("spec"))
                theirs = (rel.annotations(fresh), fresh.get("spec"))
                if same_spec and mine != theirs:
                    raise ReleaseStateError(
                        "changed by someone else while this step ran: run the step again",
                        obj=describe(current),
                    ) from exc
                current = fresh
        raise ReleaseStateError(
            "kept changing while this step tried to update it: run the step again",
            obj=describe(obj),
        )

    def annotate(self, obj: dict | None, values: dict) -> dict | None:
        """Set (value) or remove (None) annotations of ``obj`` when they differ."""
        if obj is None or "resourceVersion" not in obj["metadata"]:
            return obj  # not on the cluster (a dry-run creation): nothing to annotate

        def operations(current_obj):
            current = rel.annotations(current_obj)
            ops = []
            for key, value in values.items():
                pointer = "/metadata/annotations/" + rel.escape(key)
                if value is None and key in current:
                    ops.append({"op": "remove", "path": pointer})
                elif value is not None and current.get(key) != value:
                    ops.append({"op": "add", "path": pointer, "value": value})
            if ops and not current:
                ops = [{"op": "add", "path": "/metadata/annotations", "value": {}}, *ops]
            return ops

        if not operations(obj):
            return obj
        after = self._guarded_patch(obj, operations, same_spec=False)
        what = describe(obj)
        self._record("annotate", what, f"annotate {what}: {', '.join(sorted(values))}")
        self.diffs.append(diff_entry(what, obj, after))
        return after

    def scale(self, dep: dict | None, replicas: int) -> None:
        if dep is None:
            return
        current = (dep.get("spec") or {}).get("replicas", 1)
        if current == replicas:
            return
        self.client.scale(dep, replicas, dry_run=self.check)
        what = describe(dep)
        self._record("scale", what, f"scale {what}: {current} -> {replicas}")
        after = copy.deepcopy(dep)
        after["spec"]["replicas"] = replicas
        self.diffs.append(diff_entry(what, dep, after))

    def delete(self, kind: tuple[str, str], obj: dict | None) -> None:
        if obj is None:
            return
        name = obj["metadata"]["name"]
        gone = self.client.delete(kind[0], kind[1], name, self.ns, dry_run=self.check)
        if gone is not None:
            what = describe(kind[1], name, self.ns)
            self._record("delete", what, f"delete {what}")
            self.diffs.append(diff_entry(what, obj, None))

    def wait_rollout(self, name: str) -> dict | None:
        """Until the Deployment's replicas are all updated, ready and none left over."""
        if self.check:
            return self.get(DEPLOYMENT, name)
        self.waited = True
        return self.client.wait(
            *DEPLOYMENT,
            name,
            self.ns,
            gates.deployment_ready,
            self.p["wait_timeout"],
            what="every replica updated and Ready",
        )

    def set_state(self, step: str, **extra) -> None:
        """The step this release has completed, on the new Deployment, for the next run and status."""
        values = {rel.ANN_STEP: step, **extra}
        self.new = self.annotate(self.new, values)

    # ---- steps

    def run(self, step: str) -> dict:
        self.read()
        getattr(self, "step_" + step)()
        self.read()  # what the cluster holds now (in check mode: still the state before)
        return self.result(step)

    def step_status(self) -> None:
        if self.old_svc is not None and not self.ingress:
            self.slices = self.endpoint_split()

    def step_deploy(self) -> None:
        old = self.require_old()
        rel.check_new_labels(old, self.p["new"]["labels"])
        if self.recorded_step == "retire":
            raise ReleaseStateError(
                "this release was retired: the new version is the only one; start a new release",
                obj=describe(self.new),
            )
        svc = self.require_service()
        pod_labels = {**rel.pod_template_labels(old), **self.p["new"]["labels"]}
        if self.ingress:
            replicas = self.p["new"].get("replicas") or old["spec"].get("replicas", 1)
        else:
            # Behind the shared Service every Ready pod takes traffic: the
            # new version starts with none; shift gives it its share.
            if not rel.service_selects(svc, pod_labels):
                raise InputError(
                    "old.service",
                    self.p["old"]["service"],
                    f"selects {svc['spec'].get('selector')}, which does not select the new pods "
                    f"{pod_labels}: the layer-4 Service must select a label old and new share",
                )
            replicas = 0
        body = rel.new_deployment(old, self.p, self.new, replicas)
        self.new = self.apply(body)
        if self.ingress:
            self.new_svc = self.apply(rel.new_service(svc, self.p))
        if self.ingress and self.new["spec"].get("replicas", 0) > 0:
            self.new = self.wait_rollout(self.p["new"]["deployment"]) or self.new
        if self.recorded_step is None:
            self.set_state("deploy", **{rel.ANN_WEIGHT: "0"})

    def step_shift(self) -> None:
        self.shift(self.p["weight"], self.p["matches"], "shift")

    def step_promote(self) -> None:
        self.shift(100, [], "promote")

    def shift(self, weight: int | None, matches: list[dict], step: str) -> None:
        self.require_old() if not self.ingress else None
        self.require_new(step)
        if self.recorded_step == "retire":
            raise ReleaseStateError(
                f"this release was retired: nothing to {step}", obj=describe(self.new)
            )
        if weight is None and not matches:
            raise InputError("weight", weight, f"{step} needs a weight or at least one match")
        if weight is not None and not 0 <= weight <= 100:
            raise InputError("weight", weight, "must be a percentage from 0 to 100")
        if self.ingress:
            self.gate(step)
            policy = traffic.policy(self.p, weight, matches)
            traffic.shift(self, policy)
            state_weight = "" if weight is None else str(weight)
            self.set_state(
                step,
                **{
                    rel.ANN_WEIGHT: state_weight,
                    rel.ANN_DIALECT: traffic.dialect(self),
                    rel.ANN_POLICY: json.dumps(
                        {"weight": weight, "matches": matches}, sort_keys=True
                    ),
                },
            )
        else:
            if matches:
                raise InputError(
                    "matches", matches, "a layer-4 release splits by pod count: no match rules"
                )
            self.l4_shift(weight, step)
            self.set_state(step, **{rel.ANN_WEIGHT: str(weight)})

    def gate(self, step: str) -> None:
        """Pods Ready, disruption budgets, then the inventory's HTTP/metric checks."""
        new = self.new
        if new is None:  # check mode before deploy: nothing to gate yet
            self.gates.append("gates not run: the new Deployment does not exist yet (check mode)")
            return
        if not self.check:
            new = self.wait_rollout(new["metadata"]["name"]) if self.p["wait"] else new
        self.gates.append(gates.check_ready(new, step))
        pdbs = self.client.list(*PDB, self.ns)
        labels = rel.pod_template_labels(new)
        self.gates += gates.check_pdbs(pdbs, labels, new["spec"].get("replicas", 1), step)
        for index, check in enumerate(self.p["gates"]):
            if self.check:
                self.gates.append(
                    f"check {check.get('name') or check['url']}: not run in check mode"
                )
                continue
            self.gates.append(gates.check_http(check, index, step))

    # ---- layer 4

    def total(self) -> int:
        total = self.p["total_replicas"]
        if total is None:
            recorded = rel.annotations(self.new).get(rel.ANN_OLD_REPLICAS)
            total = int(recorded) if recorded else self.old["spec"].get("replicas", 1)
        return total

    def compute_split(self, weight: int) -> dict:
        split = self._split(weight, total=self.total(), min_per_side=self.p["min_per_side"])
        if abs(split["error"]) > self.p["max_weight_error"]:
            raise InputError(
                "weight",
                weight,
                f"the nearest split of {self.total()} replicas is {split['old']} old : "
                f"{split['new']} new ({split['achieved_weight']} %), {split['error']} points off; "
                f"max_weight_error is {self.p['max_weight_error']}",
            )
        return split

    def l4_shift(self, weight: int, step: str) -> None:
        self.require_service()
        self.split = split = self.compute_split(weight)
        new_name = self.p["new"]["deployment"]
        old_name = self.p["old"]["deployment"]
        # Grow the side that gains first, so capacity never dips; gate before the old side shrinks.
        current_new = (self.new or {}).get("spec", {}).get("replicas", 0)
        if split["new"] >= current_new:
            self.scale(self.new, split["new"])
            if split["new"] > 0 and self.check:
                self.gates.append("gates run once the new replicas are up (not in check mode)")
            elif split["new"] > 0:
                self.new = self.wait_rollout(new_name) or self.new
                self.gate(step)
            self.scale(self.old, split["old"])
            self.wait_rollout(old_name)
        else:
            self.scale(self.old, split["old"])
            self.wait_rollout(old_name)
            self.scale(self.new, split["new"])
            self.new = self.wait_rollout(new_name) or self.new
        if not self.check and self.p["wait"]:
            self.slices = self.verify_slices(split)

    def endpoint_split(self) -> dict:
        """Ready endpoints of the Service's EndpointSlices, counted per version."""
        svc = self.old_svc
        slices = self.client.list(
            *SLICE, self.ns, label_selector={"kubernetes.io/service-name": svc["metadata"]["name"]}
        )
        pods = self.client.list("v1", "Pod", self.ns)
        owner = {}
        for pod in pods:
            labels = (pod.get("metadata") or {}).get("labels") or {}
            for side, dep in (("old", self.old), ("new", self.new)):
                if dep and gates.labels_match(dep["spec"].get("selector"), labels):
                    owner[pod["metadata"]["name"]] = side
        counts = {"old": 0, "new": 0, "other": 0}
        seen = set()
        for item in slices:
            for endpoint in item.get("endpoints") or []:
                ref = endpoint.get("targetRef") or {}
                ready = (endpoint.get("conditions") or {}).get("ready")
                if ready is False or ref.get("kind") != "Pod" or ref.get("name") in seen:
                    continue
                seen.add(ref.get("name"))
                counts[owner.get(ref.get("name"), "other")] += 1
        total = counts["old"] + counts["new"]
        counts["new_percent"] = round(100 * counts["new"] / total, 1) if total else None
        return counts

    def verify_slices(self, split: dict) -> dict:
        def probe():
            counts = self.endpoint_split()
            return (counts["old"], counts["new"]) == (split["old"], split["new"]), counts

        done, counts = poll_until(
            probe, self.p["wait_timeout"], self.client.clock, self.client.sleep, 2.0
        )
        if not done:
            raise ReleaseStateError(
                f"the Service's EndpointSlices hold {counts['old']} old and {counts['new']} new "
                f"ready endpoints, expected {split['old']} and {split['new']}",
                obj=describe(self.old_svc),
                details={"endpoints": counts, "split": split},
            )
        return counts

    # ---- retire and rollback

    def step_retire(self) -> None:
        if self.recorded_step not in ("promote", "retire"):
            if self.new is None and self.old is not None:
                raise ReleaseStateError(
                    "no release in progress: the new Deployment does not exist",
                    obj=describe("Deployment", self.p["new"]["deployment"], self.ns),
                )
            raise ReleaseStateError(
                f"the release is at step {self.recorded_step!r}: promote it (all traffic to the "
                "new version) before retiring the old one",
                obj=describe(self.new) if self.new else None,
            )
        if self.ingress:
            traffic.retire(self)
            self.delete(SERVICE, self.old_svc)
        self.delete(DEPLOYMENT, self.old)
        self.set_state("retire")

    def step_rollback(self) -> None:
        if self.recorded_step == "retire":
            raise ReleaseStateError(
                "the old version was retired (its Deployment deleted): there is nothing to roll "
                "back to; deploy the old image as a new release",
                obj=describe(self.new),
            )
        old = self.require_old()
        recorded = rel.annotations(self.new).get(rel.ANN_OLD_REPLICAS)
        wanted = self.p["total_replicas"] or (int(recorded) if recorded else None)
        if wanted is not None and old["spec"].get("replicas", 1) < wanted:
            self.scale(old, wanted)
        if old["spec"].get("replicas", 1) > 0 or wanted:
            self.wait_rollout(old["metadata"]["name"])
        if self.ingress:
            traffic.rollback(self)
            self.delete(SERVICE, self.new_svc)
        self.delete(DEPLOYMENT, self.new)

    # ---- result

    def result(self, step: str) -> dict:
        state = self.state()
        return {
            "changed": bool(self.lines),
            "step": step,
            "changes": self.lines,
            "gates": self.gates,
            "split": self.split,
            "endpoints": self.slices,
            "state": state,
            "notices": self.warnings,
            "diff": self.diffs,
            "check_mode": self.check,
        }

    def state(self) -> dict:
        def summary(dep):
            if dep is None:
                return None
            status = dep.get("status") or {}
            images = [c.get("image") for c in dep["spec"]["template"]["spec"].get("containers", [])]
            return {
                "name": dep["metadata"]["name"],
                "replicas": dep["spec"].get("replicas", 1),
                "ready": status.get("readyReplicas", 0),
                "images": images,
            }

        ann = rel.annotations(self.new)
        step = ann.get(rel.ANN_STEP) if self.new else None
        if self.new is None:
            step = "none"
        state = {
            "release": self.p["release"],
            "namespace": self.ns,
            "mode": self.p["mode"],
            "step": step,
            "weight": int(ann[rel.ANN_WEIGHT]) if ann.get(rel.ANN_WEIGHT) else None,
            "old": summary(self.old),
            "new": summary(self.new),
        }
        if self.ingress:
            state["dialect"] = ann.get(rel.ANN_DIALECT)
            state["traffic"] = traffic.describe_traffic(self)
        return state


def markdown(result: dict) -> str:
    state = result["state"]
    lines = [
        f"# Release {state['release']} ({state['namespace']}): {result['step']}",
        "",
        f"- mode: {state['mode']}"
        + (f", dialect {state.get('dialect')}" if state.get("dialect") else ""),
        f"- step recorded on the cluster: {state['step']}",
        f"- weight of the new version: {state['weight']}",
    ]
    for side in ("old", "new"):
        dep = state[side]
        if dep:
            lines.append(
                f"- {side}: Deployment {dep['name']}, {dep['ready']}/{dep['replicas']} ready, "
                f"{', '.join(dep['images'])}"
            )
        else:
            lines.append(f"- {side}: none")
    if result.get("split"):
        s = result["split"]
        lines.append(
            f"- replicas: {s['old']} old : {s['new']} new, {s['achieved_weight']} % "
            f"(error {s['error']})"
        )
    if result.get("endpoints"):
        e = result["endpoints"]
        lines.append(f"- EndpointSlices: {e['old']} old, {e['new']} new ready endpoints")
    if state.get("traffic"):
        lines.append(f"- traffic: `{json.dumps(state['traffic'], sort_keys=True)}`")
    lines += ["", "## Gates", ""] + [f"- {g}" for g in result["gates"] or ["none run"]]
    lines += ["", "## Changes" + (" (check mode)" if result["check_mode"] else ""), ""]
    lines += [f"- {c}" for c in result["changes"] or ["none"]]
    if result["notices"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in result["notices"]]
    return "\n".join(lines) + "\n"
