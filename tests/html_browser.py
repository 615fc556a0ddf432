"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol, stdlib only.

The report pages are checked the way a person sees them: Chromium loads the
file, runs its script, and the test reads the DOM and the computed colours,
clicks a column header and types into the filter box with real input events
(Input.dispatchMouseEvent / Input.insertText), and keeps a screenshot.

The protocol runs over --remote-debugging-pipe: Chromium reads commands from
fd 3 and writes answers and events to fd 4, one JSON message per NUL byte.
No network port, no websocket package.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Screenshots of every checked page: kept as test artifacts.
ARTIFACTS = Path(os.environ.get("ACKOPS_TEST_ARTIFACTS", REPO / "build" / "test-artifacts")) / (
    "html-reports"
)

# As the machine notes say: without the background-networking flags Chromium
# keeps trying to reach Google's hosts, which this closed network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserError(AssertionError):
    pass


class Browser:
    """One headless Chromium and one page (tab) in it."""

    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 30):
        binary = chromium_binary()
        if binary is None:
            raise BrowserError(
                "chromium is not installed: the HTML report checks need Debian's chromium "
                "(apt-get install --no-install-recommends chromium)"
            )
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="ackops-chromium-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Above 4, so the dup2 onto 3 and 4 in the child cannot clobber one of them.
        fds = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child_r, from_child_w)]
        for fd in (to_child_r, from_child_w):
            os.close(fd)
        child_in, child_out = fds

        def plumb():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=plumb,
            pass_fds=(3, 4),
        )
        os.close(child_in)
        os.close(child_out)
        self._out = to_child_w
        self._in = from_child_r
        self._buffer = b""
        self._next = 0
        self._events: list[dict] = []
        self.session = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    # ---- the protocol

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("chromium did not answer in time")
            ready, _, _ = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 65536)
                if not chunk:
                    raise BrowserError(f"chromium exited ({self.proc.poll()})")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, **params):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for index, event in enumerate(self._events):
                if event.get("method") == method:
                    return self._events.pop(index)
            self._events.append(self._read(deadline))

    # ---- what a test does with a page

    def open(self, path: Path) -> None:
        self._events.clear()
        self.call("Page.navigate", url=Path(path).resolve().as_uri())
        self.wait_event("Page.loadEventFired")

    def js(self, expression: str):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real left click in the middle of the first element ``selector`` matches."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
        )
        if box is None:
            raise BrowserError(f"nothing matches {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left",
                clickCount=1,
            )

    def type_into(self, selector: str, text: str) -> None:
        """Click the field and type ``text`` into it, as keystrokes would."""
        self.click(selector)
        self.js(f"document.querySelector({json.dumps(selector)}).select()")
        self.call("Input.insertText", text=text)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = ARTIFACTS / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        print(f"screenshot: {path}")
        return path

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._out, self._in):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)


# ---- reading a report page

ROWS_JS = """
Array.from(document.querySelectorAll('table.report')).map(t => ({
  title: (t.previousElementSibling && t.previousElementSibling.tagName === 'H2')
    ? t.previousElementSibling.textContent : '',
  headers: Array.from(t.tHead.rows[0].cells).map(c => c.textContent),
  rows: Array.from(t.tBodies[0].rows).map(r => ({
    cells: Array.from(r.cells).map(c => c.textContent),
    severity: r.dataset.severity,
    visible: !r.hidden && getComputedStyle(r).display !== 'none',
    background: getComputedStyle(r).backgroundColor,
  })),
}))
"""


def tables(browser: Browser) -> list[dict]:
    """Every report table as the page shows it now: headers, rows, severity, colour, visibility."""
    return browser.js(ROWS_JS)


def column(table: dict, header: str, visible_only: bool = True) -> list[str]:
    index = table["headers"].index(header)
    return [r["cells"][index] for r in table["rows"] if r["visible"] or not visible_only]
