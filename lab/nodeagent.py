"""The lab's node agent: runs opted-in pods on the lab host behind their node.

kwok fakes every pod's lifecycle without running anything. A pod that must
really run (a renewal Job's `kubeadm certs renew all`, a node-admin script)
carries the annotation ``ackops.io/lab-run: host``; kwok's stages leave such
pods alone (lab/kwok/stages.yaml) and this agent does what a kubelet does
with them:

- it watches the pods bound to the lab's host-backed nodes (the Nodes of
  `lab-master-N` / `lab-worker-N`, from --hosts) that carry the annotation;
- it runs each container's command + args inside that host's namespaces
  (network, mounts, hostname: `nsenter` into the host's init), in a private
  mount namespace whose root is a tmpfs "image" made of the machine's /usr
  (the lab pulls no images) with /dev, /proc, /sys, a fresh /tmp, and the
  pod's volumes at their mountPath: hostPath (the host's path, as the host
  sees it, bind-mounted, type checked, readOnly honoured), emptyDir,
  configMap, secret, downwardAPI and projected (a TokenRequest token for the
  pod's service account, the cluster CA, the namespace), subPath included;
  then `chroot` and `exec`, like a container runtime would;
- without hostNetwork the container gets a network namespace of its own
  (loopback only: the lab has no pod network), without hostPID a PID
  namespace of its own;
- init containers run one after the other, then the containers together;
  restartPolicy Never / OnFailure / Always as the kubelet applies it (with a
  back-off), the pod's activeDeadlineSeconds too;
- it reports through the pods/status subresource what the kubelet reports:
  phase, conditions, hostIP/podIP, startTime, per container ``state``
  (running / terminated with exitCode, reason Completed / Error /
  DeadlineExceeded / StartError, startedAt, finishedAt) and, with
  ``terminationMessagePolicy: FallbackToLogsOnError`` or when the command
  wrote /dev/termination-log, the message;
- a deleted pod's processes get SIGTERM, SIGKILL after the grace period, and
  the pod is then removed (grace period 0), as the kubelet confirms it.

An opted-in pod on a node with no lab host behind it (the API-only nodes of
`up --kwok-nodes`) cannot run anywhere: it is failed with reason NoLabHost.
Pods without the annotation are kwok's, as before: the agent never touches
them. Each container's output is in
<state>/nodeagent/pods/<namespace>_<name>_<uid>/<container>.log
(`kubectl logs` needs a kubelet server, which the lab has not).

Run by `lab up` (`nodeagent.py watch`); `nodeagent.py container SPEC` is the
part that runs inside a host's namespaces.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

OPT_IN = "ackops.io/lab-run"
OPT_IN_VALUE = "host"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
START_ERROR = 125  # the container step's code for "could not create the container"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
MAX_BACKOFF = 10.0
TERMINATION_LOG = "/dev/termination-log"


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} nodeagent: {msg}", flush=True)


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def opted_in(pod: dict) -> bool:
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    return annotations.get(OPT_IN) == OPT_IN_VALUE


# ---- inside the host: build the container's root and exec the command


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, stdout=subprocess.DEVNULL)


def _check_host_path(path: str, kind: str) -> str:
    """The kubelet's hostPath type check; returns 'dir' or 'file' (what to mount on)."""
    exists = os.path.exists(path)
    if kind in ("DirectoryOrCreate",) and not exists:
        os.makedirs(path, 0o755)
    elif kind == "FileOrCreate" and not exists:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
        os.chmod(path, 0o644)
    elif kind == "Directory" and not os.path.isdir(path):
        raise RuntimeError(f"hostPath type check failed: {path} is not a directory")
    elif kind == "File" and not os.path.isfile(path):
        raise RuntimeError(f"hostPath type check failed: {path} is not a file")
    elif kind == "Socket" and not (exists and stat.S_ISSOCK(os.stat(path).st_mode)):
        raise RuntimeError(f"hostPath type check failed: {path} is not a socket")
    elif not kind and not exists:
        # An unchecked hostPath that does not exist is created as a directory.
        os.makedirs(path, 0o755)
    return "dir" if os.path.isdir(path) else "file"


def build_root(spec: dict) -> str:
    rootfs = spec["rootfs"]
    os.makedirs(rootfs, exist_ok=True)
    _mount("-t", "tmpfs", "-o", "mode=0755", "ackops-container", rootfs)
    for name in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        source = "/" + name
        if os.path.islink(source):
            os.symlink(os.readlink(source), os.path.join(rootfs, name))
        elif os.path.isdir(source):
            os.mkdir(os.path.join(rootfs, name))
            _mount("--bind", "-o", "ro", source, os.path.join(rootfs, name))
    for name, how in (("usr", "ro"), ("etc", "ro")):
        os.mkdir(os.path.join(rootfs, name))
        _mount("--rbind", "/" + name, os.path.join(rootfs, name))
        _mount("-o", f"remount,bind,{how}", os.path.join(rootfs, name))
    for name in ("dev", "sys"):
        os.mkdir(os.path.join(rootfs, name))
        _mount("--rbind", "/" + name, os.path.join(rootfs, name))
    os.mkdir(os.path.join(rootfs, "proc"))
    _mount("-t", "proc", "proc", os.path.join(rootfs, "proc"))
    for name in ("tmp", "run"):
        os.mkdir(os.path.join(rootfs, name))
        _mount("-t", "tmpfs", "-o", "mode=1777", "ackops-" + name, os.path.join(rootfs, name))
    os.makedirs(os.path.join(rootfs, "var", "tmp"))
    for mount in spec["mounts"]:
        source = mount["source"]
        what = (
            _check_host_path(source, mount.get("host_path_type", ""))
            if mount.get("host_path")
            else ("dir" if os.path.isdir(source) else "file")
        )
        target = os.path.join(rootfs, mount["target"].lstrip("/"))
        if what == "dir":
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not os.path.exists(target):
                with open(target, "a", encoding="utf-8"):
                    pass
        _mount("--rbind", source, target)
        if mount.get("read_only"):
            _mount("-o", "remount,bind,ro", target)
    return rootfs


def container_main(spec_path: str) -> int:
    """Runs inside the host's namespaces, in a private mount namespace of its own."""
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    try:
        rootfs = build_root(spec)
        if spec.get("hostname"):
            with contextlib.suppress(OSError):
                subprocess.run(["hostname", spec["hostname"]], check=False)
        os.chroot(rootfs)
        os.chdir(spec.get("workdir") or "/")
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        Path(spec["error_file"]).write_text(f"{exc}\n")
        return START_ERROR
    env = spec["env"]
    argv = spec["argv"]
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        print(f"exec {argv[0]}: {exc.strerror}", file=sys.stderr, flush=True)
        # The runtime's codes: 127 not found, 126 not executable.
        return 127 if isinstance(exc, FileNotFoundError) else 126
    return 0  # not reached


# ---- on the machine: the agent


class Agent:
    def __init__(self, api, hosts: dict, state: Path, python: str) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(api)
        self.hosts = hosts  # node name -> {"name", "pid_file", "ip"}
        self.state = state
        self.python = python
        self.pods: dict[str, PodRun] = {}
        self.finished: set[str] = set()  # never run a pod twice
        self.lock = threading.Lock()

    def host_pid(self, node: str) -> int:
        return int(Path(self.hosts[node]["pid_file"]).read_text())

    def handle(self, pod: dict) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or not opted_in(pod):
            return
        with self.lock:
            run = self.pods.get(uid)
            if run is None:
                phase = (pod.get("status") or {}).get("phase") or "Pending"
                if uid in self.finished or meta.get("deletionTimestamp") or phase != "Pending":
                    # Run already (or by an agent before this one): only confirm a deletion.
                    if meta.get("deletionTimestamp"):
                        self.confirm_deletion(pod)
                    return
                run = PodRun(self, pod)
                self.pods[uid] = run
                threading.Thread(target=run.run, name=f"pod-{meta['name']}", daemon=True).start()
                return
        if meta.get("deletionTimestamp"):
            run.delete(pod)

    def forget(self, uid: str) -> None:
        with self.lock:
            self.pods.pop(uid, None)
            self.finished.add(uid)

    def confirm_deletion(self, pod: dict) -> None:
        from kubernetes.client.rest import ApiException

        meta = pod["metadata"]
        try:
            self.core.delete_namespaced_pod(
                meta["name"],
                meta["namespace"],
                grace_period_seconds=0,
                body={"preconditions": {"uid": meta["uid"]}, "gracePeriodSeconds": 0},
            )
        except ApiException as exc:
            if exc.status not in (404, 409):
                log(f"cannot remove pod {meta['namespace']}/{meta['name']}: {exc.reason}")

    def patch_status(self, pod: dict, status: dict) -> None:
        from kubernetes.client.rest import ApiException

        meta = pod["metadata"]
        for _ in range(5):
            try:
                self.core.patch_namespaced_pod_status(
                    meta["name"],
                    meta["namespace"],
                    {"status": status},
                    _content_type="application/strategic-merge-patch+json",
                )
                return
            except ApiException as exc:
                if exc.status == 404:
                    return
                log(f"status of {meta['namespace']}/{meta['name']}: {exc.status} {exc.reason}")
                time.sleep(1)

    def list_pods(self) -> list[dict]:
        # resourceVersion=0: from the API server's cache, cheap enough to poll.
        response = self.core.list_pod_for_all_namespaces(
            resource_version="0", _preload_content=False
        )
        return json.loads(response.data).get("items") or []

    def poll(self, interval: float = 1.0) -> None:
        """List every pod each interval (simple and restart-safe, like lab/cloud.py)."""
        while True:
            try:
                pods = self.list_pods()
            except Exception as exc:
                log(f"cannot list pods: {type(exc).__name__}: {exc}")
                time.sleep(2)
                continue
            seen = set()
            for pod in pods:
                seen.add(pod["metadata"]["uid"])
                self.handle(pod)
            with self.lock:
                vanished = [run for uid, run in self.pods.items() if uid not in seen]
            for run in vanished:
                run.delete(run.pod, gone=True)
            time.sleep(interval)


class StartError(Exception):
    """The container could not be created (a volume, a hostPath type check)."""


class PodRun:
    """One opted-in pod: its volumes, its containers' processes, its status."""

    def __init__(self, agent: Agent, pod: dict) -> None:
        self.agent = agent
        self.pod = pod
        meta = pod["metadata"]
        self.ident = f"{meta['namespace']}/{meta['name']}"
        self.dir = agent.state / "pods" / f"{meta['namespace']}_{meta['name']}_{meta['uid']}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.deleting = threading.Event()
        self.deadline_hit = False
        self.statuses: dict[str, dict] = {}
        self.init_statuses: dict[str, dict] = {}
        self.started = now()
        self.grace = 30
        self.gone = False

    # -- deletion

    def delete(self, pod: dict, gone: bool = False) -> None:
        self.grace = (pod.get("metadata") or {}).get("deletionGracePeriodSeconds") or 30
        if not self.deleting.is_set():
            log(f"{self.ident}: deleted, stopping its containers")
        self.deleting.set()
        self.gone = gone

    def stop_all(self, grace: float) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + grace
        while time.monotonic() < end and any(p.poll() is None for p in self.procs.values()):
            time.sleep(0.2)
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    # -- the pod

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:
            log(f"{self.ident}: {type(exc).__name__}: {exc}")
            self.report("Failed", reason="AgentError", message=str(exc))
        finally:
            self.stop_all(0)
            self.cleanup()
            if self.deleting.is_set():
                self.agent.confirm_deletion(self.pod)
            self.agent.forget(self.pod["metadata"]["uid"])

    def _run(self) -> None:
        spec = self.pod["spec"]
        node = spec["nodeName"]
        if node not in self.agent.hosts:
            self.report(
                "Failed",
                reason="NoLabHost",
                message=f"node {node} has no lab host behind it: nothing can run this pod",
            )
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host = self.agent.hosts[node]
        self.report("Pending")
        try:
            volumes = self.prepare_volumes()
        except StartError as exc:
            self.report("Failed", reason="FailedMount", message=str(exc))
            return
        restart = spec.get("restartPolicy") or "Always"
        deadline = spec.get("activeDeadlineSeconds")
        self.deadline = time.monotonic() + deadline if deadline else None
        for container in spec.get("initContainers") or []:
            code = self.run_to_end(container, volumes, self.init_statuses, restart, init=True)
            if code is None:
                return self.finish()
            if code != 0:
                return self.finish(failed=True)
        threads = [
            threading.Thread(
                target=self.run_to_end, args=(c, volumes, self.statuses, restart), daemon=True
            )
            for c in spec["containers"]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.finish()

    def finish(self, failed: bool = False) -> None:
        if self.deleting.is_set() and self.gone:
            return
        codes = [
            s["state"]["terminated"]["exitCode"]
            for s in self.statuses.values()
            if "terminated" in s["state"]
        ]
        if self.deadline_hit:
            self.report(
                "Failed", reason="DeadlineExceeded", message="Pod was active on the node longer "
                "than the specified deadline",
            )  # fmt: skip
        elif failed or any(codes) or len(codes) < len(self.pod["spec"]["containers"]):
            self.report("Failed")
        else:
            self.report("Succeeded")

    def run_to_end(self, container, volumes, statuses, restart, init=False) -> int | None:
        """Run a container as restartPolicy says; its last exit code (None: stopped)."""
        name = container["name"]
        restarts, backoff = 0, 1.0
        while True:
            code = self.run_once(container, volumes, statuses, restarts, init)
            if code is None:
                return None
            again = (restart == "Always" and not init) or (
                restart in ("OnFailure", "Always") and code
            )
            if not again or self.deleting.is_set():
                return code
            restarts += 1
            log(f"{self.ident}: {name} exited {code}, restart {restarts} in {backoff:.0f}s")
            if self.deleting.wait(backoff):
                return code
            backoff = min(backoff * 2, MAX_BACKOFF)

    def run_once(self, container, volumes, statuses, restarts, init) -> int | None:
        name = container["name"]
        argv = list(container.get("command") or []) + list(container.get("args") or [])
        started = now()
        base = {"name": name, "image": container.get("image", ""), "restartCount": restarts,
                "imageID": "", "containerID": f"lab://{self.pod['metadata']['uid']}-{name}"}  # fmt: skip
        if not argv:
            statuses[name] = {**base, "ready": False, "started": False, "state": {"terminated": {
                "exitCode": 128, "reason": "StartError", "startedAt": started,
                "finishedAt": started,
                "message": "the lab pulls no images: a container needs a command"}}}  # fmt: skip
            return 128
        spec_path, error_file, logfile = self.container_files(container, argv, volumes)
        with open(logfile, "ab") as out:
            proc = subprocess.Popen(
                self.enter_argv(spec_path),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs[name] = proc
        statuses[name] = {**base, "ready": not init, "started": True,
                          "state": {"running": {"startedAt": started}}}  # fmt: skip
        self.report("Running")
        log(f"{self.ident}: {name} started on {self.host['name']} (pid {proc.pid})")
        while proc.poll() is None:
            if self.deleting.wait(0.5):
                self.stop_all(self.grace)
                break
            if self.deadline and time.monotonic() > self.deadline:
                self.deadline_hit = True
                self.stop_all(self.grace)
                break
        code = proc.returncode
        code = 128 - code if code < 0 else code
        terminated = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                      "startedAt": started, "finishedAt": now()}  # fmt: skip
        if code == START_ERROR and os.path.exists(error_file):
            terminated.update(
                exitCode=128, reason="StartError", message=Path(error_file).read_text().strip()
            )
        else:
            message = self.termination_message(container, logfile, code)
            if message:
                terminated["message"] = message
        statuses[name] = {**base, "ready": False, "started": False,
                          "state": {"terminated": terminated}}  # fmt: skip
        log(f"{self.ident}: {name} exited {code}")
        if self.deleting.is_set() or self.deadline_hit:
            return None
        return code

    def termination_message(self, container, logfile, code) -> str:
        written = self.dir / "termination" / container["name"]
        if written.exists() and written.stat().st_size:
            return written.read_text(errors="replace")[-4096:]
        if code and container.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            lines = Path(logfile).read_bytes().decode(errors="replace").splitlines()[-80:]
            return "\n".join(lines)[-2048:]
        return ""

    def enter_argv(self, spec_path: str) -> list[str]:
        spec = self.pod["spec"]
        argv = ["nsenter", "-t", str(self.agent.host_pid(self.pod["spec"]["nodeName"]))]
        argv += ["-m", "-n", "-u", "--", "unshare", "-m", "--propagation", "private"]
        if not spec.get("hostNetwork"):
            argv.append("-n")
        if not spec.get("hostPID"):
            argv += ["-p", "-f"]
        if not spec.get("hostIPC"):
            argv.append("-i")
        if not spec.get("hostNetwork"):
            argv.append("-u")
        return [*argv, "--", self.agent.python, os.path.abspath(__file__), "container", spec_path]

    def container_files(self, container, argv, volumes) -> tuple[str, str, str]:
        name = container["name"]
        mounts = []
        for mount in container.get("volumeMounts") or []:
            volume = volumes.get(mount["name"])
            if volume is None:
                raise StartError(f"container {name}: volumeMount {mount['name']}: no such volume")
            source = volume["source"]
            if mount.get("subPath"):
                source = os.path.join(source, mount["subPath"])
            mounts.append({**volume, "source": source, "target": mount["mountPath"],
                           "read_only": bool(mount.get("readOnly"))})  # fmt: skip
        termination = self.dir / "termination"
        termination.mkdir(exist_ok=True)
        (termination / name).write_bytes(b"")
        mounts.append({"source": str(termination / name),
                       "target": container.get("terminationMessagePath") or TERMINATION_LOG})  # fmt: skip
        env = {"PATH": DEFAULT_PATH, "HOSTNAME": self.pod_hostname()}
        env.update(self.env_of(container))
        spec = {
            "rootfs": str(self.dir / "rootfs" / name),
            "mounts": mounts,
            "argv": argv,
            "env": env,
            "workdir": container.get("workingDir") or "/",
            "hostname": None if self.pod["spec"].get("hostNetwork") else self.pod_hostname(),
            "error_file": str(self.dir / f"{name}.start-error"),
        }
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spec["error_file"])
        path = self.dir / f"{name}.json"
        path.write_text(json.dumps(spec))
        path.chmod(0o600)
        return str(path), spec["error_file"], str(self.dir / f"{name}.log")

    def pod_hostname(self) -> str:
        if self.pod["spec"].get("hostNetwork"):
            return self.host["name"]
        return self.pod["spec"].get("hostname") or self.pod["metadata"]["name"][:63]

    # -- volumes and environment, as the kubelet fills them

    def field(self, path: str) -> str:
        meta, spec = self.pod["metadata"], self.pod["spec"]
        simple = {
            "metadata.name": meta["name"],
            "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"],
            "spec.nodeName": spec.get("nodeName", ""),
            "spec.serviceAccountName": spec.get("serviceAccountName", ""),
            "status.hostIP": self.host["ip"],
            "status.podIP": self.host["ip"] if spec.get("hostNetwork") else "",
        }
        if path in simple:
            return simple[path]
        for prefix, values in (
            ("metadata.labels", meta.get("labels") or {}),
            ("metadata.annotations", meta.get("annotations") or {}),
        ):
            if path == prefix:
                return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
            if path.startswith(prefix + "['") and path.endswith("']"):
                return values.get(path[len(prefix) + 2 : -2], "")
        raise StartError(f"fieldRef {path} is not supported by the lab's node agent")

    def data_of(self, kind: str, name: str, optional: bool) -> dict[str, bytes]:
        from kubernetes.client.rest import ApiException

        namespace = self.pod["metadata"]["namespace"]
        try:
            if kind == "configMap":
                obj = self.agent.core.read_namespaced_config_map(name, namespace)
                data = {k: v.encode() for k, v in (obj.data or {}).items()}
                data.update({k: base64.b64decode(v) for k, v in (obj.binary_data or {}).items()})
                return data
            obj = self.agent.core.read_namespaced_secret(name, namespace)
            return {k: base64.b64decode(v) for k, v in (obj.data or {}).items()}
        except ApiException as exc:
            if exc.status == 404 and optional:
                return {}
            raise StartError(f"{kind} {namespace}/{name}: {exc.status} {exc.reason}") from None

    def token(self, source: dict) -> bytes:
        meta, spec = self.pod["metadata"], self.pod["spec"]
        body = {"spec": {"expirationSeconds": source.get("expirationSeconds") or 3607,
                         "boundObjectRef": {"kind": "Pod", "apiVersion": "v1",
                                            "name": meta["name"], "uid": meta["uid"]}}}  # fmt: skip
        if source.get("audience"):
            body["spec"]["audiences"] = [source["audience"]]
        made = self.agent.core.create_namespaced_service_account_token(
            spec.get("serviceAccountName") or "default", meta["namespace"], body
        )
        return made.status.token.encode()

    @staticmethod
    def write_items(target: Path, data: dict[str, bytes], items, mode: int) -> None:
        chosen = (
            [(i["key"], i["path"], i.get("mode")) for i in items]
            if items
            else [(key, key, None) for key in data]
        )
        for key, rel, item_mode in chosen:
            if key not in data:
                raise StartError(f"key {key} not found")
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data[key])
            path.chmod(item_mode if item_mode is not None else mode)

    def prepare_volumes(self) -> dict[str, dict]:
        volumes = {}
        for volume in self.pod["spec"].get("volumes") or []:
            name = volume["name"]
            target = self.dir / "volumes" / name
            if "hostPath" in volume:
                volumes[name] = {"source": volume["hostPath"]["path"], "host_path": True,
                                 "host_path_type": volume["hostPath"].get("type") or ""}  # fmt: skip
                continue
            target.mkdir(parents=True, exist_ok=True)
            volumes[name] = {"source": str(target)}
            if "emptyDir" in volume:
                continue
            if "configMap" in volume or "secret" in volume:
                kind = "configMap" if "configMap" in volume else "secret"
                source = volume[kind]
                ref = source.get("name") or source.get("secretName")
                self.write_items(
                    target,
                    self.data_of(kind, ref, bool(source.get("optional"))),
                    source.get("items"),
                    source.get("defaultMode", 0o644),
                )
            elif "projected" in volume or "downwardAPI" in volume:
                projected = volume.get("projected") or {"sources": [volume]}
                mode = projected.get("defaultMode", 0o644)
                for source in projected.get("sources") or []:
                    self.project(target, source, mode)
            else:
                kinds = sorted(set(volume) - {"name"})
                raise StartError(f"volume {name}: {', '.join(kinds)} is not supported in the lab")
        return volumes

    def project(self, target: Path, source: dict, mode: int) -> None:
        if "serviceAccountToken" in source:
            sat = source["serviceAccountToken"]
            self.write_items(
                target, {"t": self.token(sat)}, [{"key": "t", "path": sat["path"]}], mode
            )
        elif "configMap" in source or "secret" in source:
            kind = "configMap" if "configMap" in source else "secret"
            ref = source[kind]
            data = self.data_of(kind, ref["name"], bool(ref.get("optional")))
            self.write_items(target, data, ref.get("items"), mode)
        elif "downwardAPI" in source:
            for item in source["downwardAPI"].get("items") or []:
                if "fieldRef" not in item:
                    raise StartError(f"downwardAPI {item.get('path')}: only fieldRef is supported")
                value = self.field(item["fieldRef"]["fieldPath"]).encode()
                self.write_items(target, {"v": value}, [{"key": "v", "path": item["path"]}], mode)
        else:
            raise StartError(f"projected source {sorted(source)} is not supported in the lab")

    def env_of(self, container: dict) -> dict[str, str]:
        env: dict[str, str] = {}
        for item in container.get("envFrom") or []:
            kind = "configMap" if "configMapRef" in item else "secret"
            ref = item.get("configMapRef") or item.get("secretRef") or {}
            for key, value in self.data_of(kind, ref["name"], bool(ref.get("optional"))).items():
                env[item.get("prefix", "") + key] = value.decode(errors="replace")
        for item in container.get("env") or []:
            if "value" in item or "valueFrom" not in item:
                env[item["name"]] = str(item.get("value", ""))
                continue
            source = item["valueFrom"]
            if "fieldRef" in source:
                env[item["name"]] = self.field(source["fieldRef"]["fieldPath"])
            elif "configMapKeyRef" in source or "secretKeyRef" in source:
                kind = "configMap" if "configMapKeyRef" in source else "secret"
                ref = source.get("configMapKeyRef") or source.get("secretKeyRef")
                data = self.data_of(kind, ref["name"], bool(ref.get("optional")))
                if ref["key"] in data:
                    env[item["name"]] = data[ref["key"]].decode(errors="replace")
                elif not ref.get("optional"):
                    raise StartError(
                        f"env {item['name']}: key {ref['key']} not found in {ref['name']}"
                    )
            else:
                raise StartError(
                    f"env {item['name']}: {sorted(source)} is not supported in the lab"
                )
        return env

    # -- status

    def report(self, phase: str, reason: str | None = None, message: str | None = None) -> None:
        spec = self.pod["spec"]
        stamp = now()
        running = phase == "Running"
        ready = running and all(
            "running" in (self.statuses.get(c["name"]) or {}).get("state", {})
            for c in spec["containers"]
        )
        done = phase in ("Succeeded", "Failed")
        initialized = done or bool(self.statuses) or not spec.get("initContainers")
        why = {"reason": "PodCompleted" if phase == "Succeeded" else "PodFailed"} if done else {}
        status = {
            "phase": phase,
            "startTime": self.started,
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Initialized", "status": str(initialized), "lastTransitionTime": stamp},
                *(
                    {"type": kind, "status": str(ready), "lastTransitionTime": stamp, **why}
                    for kind in ("ContainersReady", "Ready")
                ),
            ],
        }
        host = getattr(self, "host", None)
        if host:
            status["hostIP"] = host["ip"]
            status["hostIPs"] = [{"ip": host["ip"]}]
            if spec.get("hostNetwork"):
                status["podIP"] = host["ip"]
                status["podIPs"] = [{"ip": host["ip"]}]
        status["containerStatuses"] = [
            self.statuses.get(c["name"])
            or {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "started": False,
                "restartCount": 0,
                "state": {
                    "waiting": {
                        "reason": "PodInitializing"
                        if spec.get("initContainers")
                        else "ContainerCreating"
                    }
                },
            }
            for c in spec["containers"]
        ]
        if spec.get("initContainers"):
            status["initContainerStatuses"] = [
                self.init_statuses.get(c["name"])
                or {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}},
                }
                for c in spec["initContainers"]
            ]
        if reason:
            status["reason"] = reason
        if message:
            status["message"] = message
        self.agent.patch_status(self.pod, status)

    def cleanup(self) -> None:
        # Secrets and tokens written for the pod go with it; logs stay for the tests.
        shutil.rmtree(self.dir / "volumes", ignore_errors=True)
        for spec in self.dir.glob("*.json"):
            spec.unlink()


def watch_main(args) -> int:
    from kubernetes import config

    hosts = json.loads(Path(args.hosts).read_text())
    api = config.new_client_from_config(args.kubeconfig)
    state = Path(args.state)
    (state / "pods").mkdir(parents=True, exist_ok=True)
    agent = Agent(api, hosts, state, sys.executable)

    def stop(signum, frame):
        # `lab down`: a container without hostNetwork is in no lab namespace,
        # so the agent ends its containers itself (SIGKILL to each group).
        with agent.lock:
            runs = list(agent.pods.values())
        for run in runs:
            for proc in run.procs.values():
                if proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"watching pods annotated {OPT_IN}={OPT_IN_VALUE} on {', '.join(sorted(hosts))}")
    agent.poll()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="The lab's node agent (see lab/README.md).")
    sub = parser.add_subparsers(dest="cmd", required=True)
    watch = sub.add_parser("watch", help="run opted-in pods of the lab's host-backed nodes")
    watch.add_argument("--kubeconfig", required=True)
    watch.add_argument("--hosts", required=True, help="JSON: node name -> name, pid_file, ip")
    watch.add_argument("--state", required=True)
    container = sub.add_parser("container", help="(inside a host) build the root, exec")
    container.add_argument("spec")
    args = parser.parse_args()
    if args.cmd == "container":
        return container_main(args.spec)
    return watch_main(args)


if __name__ == "__main__":
    sys.exit(main())
