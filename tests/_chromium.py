"""A tiny headless-Chromium driver for the browser tests: the DevTools protocol over a pipe.

No extra download: Debian's /usr/bin/chromium started with --remote-debugging-pipe (fds 3 and 4),
JSON messages separated by NUL bytes. The network is cut off (every host resolves to nothing, any
proxied request goes to a dead port), and each browser gets a fresh profile folder.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str | None:
    """Path of a Chromium binary, $REPORTLIB_CHROMIUM first."""
    env = os.environ.get("REPORTLIB_CHROMIUM")
    if env and Path(env).exists():
        return env
    for c in CHROMIUM_CANDIDATES:
        if Path(c).exists():
            return c
    return shutil.which("chromium")


def require_chromium() -> str:
    """The Chromium binary a browser test needs: fails the test in CI (or with REPORTLIB_REQUIRE_BROWSER=1), where
    a missing browser is a broken install, and skips it elsewhere, saying why."""
    import pytest

    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI") or os.environ.get("REPORTLIB_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return exe


class CDPError(RuntimeError):
    """The browser answered a command with an error."""


class Chromium:
    """One headless browser; use as a context manager."""

    def __init__(self, executable: str | None = None, width: int = 1280, height: int = 900):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise FileNotFoundError("chromium not found")
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="rl-chromium-")
        self._next_id = 0
        self._pending: dict[int, queue.Queue] = {}
        self._events: list[dict] = []
        self._lock = threading.Lock()
        self._start()

    # -- process and pipe --
    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()

        def preexec() -> None:  # put the pipe ends on fds 3 and 4 (what --remote-debugging-pipe reads)
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [
            self.executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--mute-audio",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={self.profile}",
            f"--window-size={self.width},{self.height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            preexec_fn=preexec,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._w = os.fdopen(to_child_w, "wb", buffering=0)
        self._r = os.fdopen(from_child_r, "rb", buffering=0)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def _read_loop(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self._r.read(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if "id" in msg:
                    q = self._pending.get(msg["id"])
                    if q is not None:
                        q.put(msg)
                else:
                    with self._lock:
                        self._events.append(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30.0) -> dict:
        """Send one command and wait for its result."""
        with self._lock:
            self._next_id += 1
            mid = self._next_id
        q: queue.Queue = queue.Queue()
        self._pending[mid] = q
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._w.write(json.dumps(msg).encode() + b"\0")
        try:
            reply = q.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer to {method} within {timeout} s") from None
        finally:
            self._pending.pop(mid, None)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def events(self, session: str | None = None, method: str | None = None) -> list[dict]:
        """Events received so far (optionally for one session / of one kind)."""
        with self._lock:
            evs = list(self._events)
        return [
            e
            for e in evs
            if (session is None or e.get("sessionId") == session) and (method is None or e.get("method") == method)
        ]

    def close(self) -> None:
        """Close the browser and remove its profile."""
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for f in (self._w, self._r):
            try:
                f.close()
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- pages --
    def open(self, url: str, timeout: float = 30.0) -> Page:
        """Open a new tab at url and wait for its load event."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        self.send("Page.navigate", {"url": url}, session=session)
        page.wait_event("Page.loadEventFired", timeout)
        return page


class Page:
    """One tab: evaluate JavaScript, collect console errors and requests, take screenshots."""

    def __init__(self, browser: Chromium, target: str, session: str):
        self.browser, self.target, self.session = browser, target, session

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            evs = self.browser.events(self.session, method)
            if evs:
                return evs[-1]
            time.sleep(0.05)
        raise TimeoutError(f"{method} did not happen within {timeout} s")

    def eval(self, expression: str, timeout: float = 30.0) -> Any:
        """The value of a JavaScript expression (promises awaited)."""
        res = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
            timeout=timeout,
        )
        if "exceptionDetails" in res:
            raise CDPError(f"evaluation failed: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.1) -> Any:
        """Poll a JavaScript expression until it is truthy; its last value either way."""
        end = time.monotonic() + timeout
        value = None
        while time.monotonic() < end:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(interval)
        return value

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for e in self.browser.events(self.session, "Runtime.consoleAPICalled"):
            p = e["params"]
            if p.get("type") in ("error", "assert"):
                out.append(
                    "console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                )
        for e in self.browser.events(self.session, "Runtime.exceptionThrown"):
            d = e["params"]["exceptionDetails"]
            out.append("exception: " + str(d.get("exception", {}).get("description") or d.get("text")))
        for e in self.browser.events(self.session, "Log.entryAdded"):
            entry = e["params"]["entry"]
            if entry.get("level") == "error":
                out.append(f"log: {entry.get('text')} {entry.get('url', '')}")
        return out

    def requests(self) -> list[str]:
        """URLs the page asked for."""
        return [e["params"]["request"]["url"] for e in self.browser.events(self.session, "Network.requestWillBeSent")]

    def screenshot(self, path: str | Path) -> Path:
        """Save the first screen as PNG."""
        data = self.browser.send("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(base64.b64decode(data))
        return p

    def close(self) -> None:
        try:
            self.browser.send("Target.closeTarget", {"targetId": self.target}, timeout=5)
        except Exception:
            pass


# JavaScript probe: how many figures the page declares, how many plotly drew (an SVG with traces).
FIGURE_PROBE = """(() => {
  const blocks = document.querySelectorAll('script[type="application/vnd.reportlib.plotly+json"]');
  const plots = Array.from(document.querySelectorAll('.rl-plot'));
  const drawn = plots.filter(el => el.getAttribute('data-rl-drawn') === '1'
      && el.querySelector('svg.main-svg') && el._fullLayout);
  const failed = plots.filter(el => el.getAttribute('data-rl-drawn') === 'failed').map(el => el.id);
  const pending = plots.filter(el => !el.getAttribute('data-rl-drawn')).map(el => el.id);
  return {declared: blocks.length, plots: plots.length, drawn: drawn.length, failed, pending,
          plotly: typeof Plotly !== 'undefined' ? Plotly.version : null};
})()"""
