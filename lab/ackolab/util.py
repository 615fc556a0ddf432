"""Running commands, waiting, durations: what every part of the lab uses."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time


class LabError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[lab] {msg}", file=sys.stderr, flush=True)


def run(
    argv: list[str], check: bool = True, capture: bool = True, **kw
) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, text=True, capture_output=capture, **kw)
    if check and proc.returncode != 0:
        raise LabError(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n{(proc.stderr or '').strip()}"
        )
    return proc


def wait_for(pred, timeout: float, what: str, diagnose=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.3)
    extra = f"\n{diagnose()}" if diagnose else ""
    raise LabError(f"timed out after {timeout:.0f}s waiting for {what}{extra}")


def port_open(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.5):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def kill_pids(pids: list[int], sig=signal.SIGTERM) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def parse_duration(text: str) -> dt.timedelta:
    units = {"h": 3600, "m": 60, "s": 1, "d": 86400}
    total, num = 0.0, ""
    for ch in text:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in units and num:
            total += float(num) * units[ch]
            num = ""
        else:
            raise LabError(f"bad duration {text!r}: use e.g. 72h, 90m, 30d")
    if num:
        raise LabError(f"bad duration {text!r}: a unit (h, m, s, d) is missing")
    return dt.timedelta(seconds=total)


def to_kubeadm_duration(text: str) -> str:
    return f"{int(parse_duration(text).total_seconds())}s"
