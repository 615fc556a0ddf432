"""Health and identity checks of a control-plane host, from the host itself.

After a renewal the runbook must know, before it touches the next master,
that this master's API server is serving the renewed certificate, answers
/readyz, that its local etcd member is healthy, and that a renewed client
credential (admin.conf, kubelet.conf) really authenticates. Everything here
uses the standard library's TLS client, so it works while the cluster's
other credentials are expired; client keys are staged in a private temporary
directory and never returned.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import ssl
import tempfile
import time
from dataclasses import dataclass, field

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

APISERVER_MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
ETCD_MANIFEST = "/etc/kubernetes/manifests/etcd.yaml"
SELF_SUBJECT_REVIEW = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


class CheckError(RunbookError):
    """A check that cannot be attempted (bad input) or did not pass in time; names the file."""

    error_type = "check"


@dataclass
class Credentials:
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    server: str | None
    tmpdir: str | None = None

    def cleanup(self) -> None:
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


@dataclass
class Result:
    server: str = ""
    checks: dict = field(default_factory=dict)
    attempts: int = 0
    elapsed: float = 0.0
    ok: bool = False
    last_error: str = ""

    def as_dict(self) -> dict:
        return {
            "server": self.server,
            "checks": self.checks,
            "attempts": self.attempts,
            "elapsed": round(self.elapsed, 1),
            "healthy": self.ok,
            "last_error": self.last_error,
        }


def manifest_flag(path: str, flag: str) -> str | None:
    """The value of ``--flag=value`` in a static pod manifest's first container."""
    if not os.path.exists(path) or not HAS_YAML:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            pod = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise CheckError(f"cannot read ({exc.strerror or exc})", obj=path) from exc
    except yaml.YAMLError as exc:
        raise CheckError(f"not valid YAML: {exc}", obj=path) from exc
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    argv = list(containers[0].get("command") or []) + list(containers[0].get("args") or [])
    prefix = f"--{flag}="
    for arg in argv:
        if isinstance(arg, str) and arg.startswith(prefix):
            return arg[len(prefix) :]
    return None


def local_apiserver_url() -> str:
    address = manifest_flag(APISERVER_MANIFEST, "advertise-address") or "127.0.0.1"
    port = manifest_flag(APISERVER_MANIFEST, "secure-port") or "6443"
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}:{port}"


def load_credentials(kubeconfig: str) -> Credentials:
    """Client credentials of a kubeconfig's current user, as files the TLS client can load."""
    if not HAS_YAML:
        raise CheckError("PyYAML is needed to read kubeconfigs", obj=kubeconfig)
    try:
        with open(kubeconfig, encoding="utf-8") as handle:
            config = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise CheckError(
            f"cannot read ({exc.strerror or exc})", obj=kubeconfig, field="kubeconfig"
        ) from exc
    except yaml.YAMLError as exc:
        raise CheckError(
            f"kubeconfig is not valid YAML: {exc}", obj=kubeconfig, field="kubeconfig"
        ) from exc
    if not isinstance(config, dict):
        raise CheckError("not a kubeconfig (top level is not a mapping)", obj=kubeconfig)
    contexts = {c["name"]: c.get("context", {}) for c in config.get("contexts") or []}
    context = contexts.get(config.get("current-context"), {})
    clusters = {c["name"]: c.get("cluster", {}) for c in config.get("clusters") or []}
    users = {u["name"]: u.get("user", {}) for u in config.get("users") or []}
    cluster = clusters.get(context.get("cluster")) or next(iter(clusters.values()), {})
    user = users.get(context.get("user")) or next(iter(users.values()), {})
    base = os.path.dirname(kubeconfig)
    creds = Credentials(None, None, None, cluster.get("server"))
    staged = {}
    for kind, file_key, data_key, source in (
        ("ca", "certificate-authority", "certificate-authority-data", cluster),
        ("cert", "client-certificate", "client-certificate-data", user),
        ("key", "client-key", "client-key-data", user),
    ):
        if source.get(data_key):
            staged[kind] = base64.b64decode(source[data_key])
        elif source.get(file_key):
            path = source[file_key]
            staged[kind] = path if os.path.isabs(path) else os.path.join(base, path)
    if any(isinstance(v, bytes) for v in staged.values()):
        creds.tmpdir = tempfile.mkdtemp(prefix="ackops-check-")
    for kind, value in staged.items():
        if isinstance(value, bytes):
            path = os.path.join(creds.tmpdir, kind)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(value)
            value = path
        setattr(creds, f"{kind}_file", value)
    return creds


def split_url(url: str) -> tuple[str, int]:
    if not url.startswith("https://"):
        raise CheckError(f"server {url!r} must be an https:// URL", field="server")
    hostport = url[len("https://") :].split("/", 1)[0]
    if hostport.startswith("["):
        host, port = hostport[1:].split("]", 1)
        port = port.lstrip(":")
    elif ":" in hostport:
        host, port = hostport.rsplit(":", 1)
    else:
        host, port = hostport, ""
    return host, int(port or 443)


def tls_context(creds: Credentials | None, ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cafile = ca_file or (creds.ca_file if creds else None)
    if cafile:
        ctx.load_verify_locations(cafile=cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if creds and creds.cert_file and creds.key_file:
        ctx.load_cert_chain(creds.cert_file, creds.key_file)
    return ctx


def request(url: str, ctx: ssl.SSLContext, method: str, path: str, body=None, timeout=5.0):
    """One HTTPS request on a fresh connection; returns (status, body, peer certificate DER)."""
    host, port = split_url(url)
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        conn.request(method, path, body=payload, headers=headers)
        peer = conn.sock.getpeercert(binary_form=True)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), peer
    finally:
        conn.close()


def pem_file_der(path: str) -> bytes:
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read()
    except OSError as exc:
        raise CheckError(f"cannot read ({exc.strerror or exc})", obj=path) from exc
    except ValueError as exc:  # not ASCII: not a PEM file
        raise CheckError(f"not a PEM file: {exc}", obj=path) from exc
    start = text.find("-----BEGIN CERTIFICATE-----")
    end = text.find("-----END CERTIFICATE-----")
    if start < 0 or end < 0:
        raise CheckError("holds no PEM certificate", obj=path)
    return ssl.PEM_cert_to_DER_cert(text[start : end + len("-----END CERTIFICATE-----")] + "\n")


def serial_of(der: bytes) -> str:
    """The serial number of a DER certificate, as colon-free upper-case hex.

    Parsed by hand (tbsCertificate's second element) so the check needs no
    third-party library on the host.
    """

    def read_len(buf: bytes, pos: int) -> tuple[int, int]:
        first = buf[pos]
        if first < 0x80:
            return first, pos + 1
        count = first & 0x7F
        return int.from_bytes(buf[pos + 1 : pos + 1 + count], "big"), pos + 1 + count

    def enter(buf: bytes, pos: int) -> int:  # into a SEQUENCE, returns content start
        return read_len(buf, pos + 1)[1]

    pos = enter(der, 0)  # Certificate
    pos = enter(der, pos)  # tbsCertificate
    if der[pos] == 0xA0:  # [0] version
        length, start = read_len(der, pos + 1)
        pos = start + length
    length, start = read_len(der, pos + 1)  # INTEGER serial
    return der[start : start + length].hex().upper().lstrip("0") or "0"


def check_once(opts: dict, creds: Credentials | None, result: Result) -> None:
    """Run every requested check once; raise OSError/RuntimeError on the first failure."""
    ctx = tls_context(creds, opts.get("ca_file"))
    status, body, peer = request(result.server, ctx, "GET", "/readyz")
    served = serial_of(peer)
    result.checks["served_serial"] = served
    if opts.get("serving_cert"):
        expected = serial_of(pem_file_der(opts["serving_cert"]))
        result.checks["expected_serial"] = expected
        if served != expected:
            raise RuntimeError(
                f"{result.server} still serves serial {served}, not {expected} "
                f"from {opts['serving_cert']}"
            )
    result.checks["readyz"] = status
    if status != 200:
        raise RuntimeError(f"{result.server}/readyz answered {status}: {body.strip()[:300]}")
    if opts.get("whoami"):
        status, body = request(
            result.server, ctx, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            SELF_SUBJECT_REVIEW,
        )[:2]  # fmt: skip
        if status not in (200, 201):
            raise RuntimeError(f"authentication as {opts.get('kubeconfig')} failed: {status}")
        user = json.loads(body)["status"]["userInfo"]
        result.checks["user"] = user.get("username")
        result.checks["groups"] = user.get("groups", [])
        expect = opts.get("expect_user")
        if expect and user.get("username") != expect:
            raise RuntimeError(f"authenticated as {user.get('username')!r}, expected {expect!r}")
    if opts.get("etcd"):
        etcd_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        pki = opts["etcd_pki_dir"]
        etcd_ctx.load_verify_locations(cafile=os.path.join(pki, "ca.crt"))
        etcd_ctx.load_cert_chain(
            os.path.join(pki, "healthcheck-client.crt"), os.path.join(pki, "healthcheck-client.key")
        )
        status, body = request(opts["etcd_url"], etcd_ctx, "GET", "/health")[:2]
        healthy = status == 200 and json.loads(body).get("health") in ("true", True)
        result.checks["etcd"] = "healthy" if healthy else f"{status} {body.strip()[:200]}"
        if not healthy:
            raise RuntimeError(f"etcd at {opts['etcd_url']} is not healthy: {body.strip()[:200]}")


def wait_healthy(opts: dict) -> Result:
    """Retry every check until all pass or ``timeout`` seconds have gone by."""
    result = Result(server=opts.get("server") or "")
    creds = load_credentials(opts["kubeconfig"]) if opts.get("kubeconfig") else None
    try:
        if not result.server:
            result.server = creds.server if creds and opts.get("use_kubeconfig_server") else ""
        result.server = result.server or local_apiserver_url()
        start = time.monotonic()
        deadline = start + float(opts.get("timeout", 180))
        while True:
            result.attempts += 1
            try:
                check_once(opts, creds, result)
                result.ok = True
                result.last_error = ""
                break
            except (OSError, RuntimeError, ValueError, KeyError, ssl.SSLError) as exc:
                result.last_error = str(exc) or exc.__class__.__name__
            if time.monotonic() >= deadline:
                break
            time.sleep(float(opts.get("delay", 2)))
        result.elapsed = time.monotonic() - start
        return result
    finally:
        if creds:
            creds.cleanup()


def require_healthy(opts: dict, host: str | None = None) -> dict:
    """``wait_healthy`` as a result dict; raises CheckError (with that dict) when not healthy."""
    try:
        result = wait_healthy(opts).as_dict()
    except CheckError as exc:
        exc.host = exc.host or host
        raise
    if not result["healthy"]:
        raise CheckError(
            f"not healthy after {result['elapsed']}s ({result['attempts']} attempts): "
            f"{result['last_error']}",
            host=host,
            obj=result["server"],
            details=result,
        )
    return result
