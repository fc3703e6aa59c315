"""Drive Debian's headless ``chromium`` over the DevTools protocol (loopback only) for the HTML tests."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)

# Runs in the page after load: what each chart drew, as laid out by the browser. Every <text> of a
# chart comes with its box (the axis-aligned box of its glyphs, rotation applied) and the chart's.
_CHARTS_JS = """
JSON.stringify(Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const bars = Array.from(svg.querySelectorAll('rect.bar')).filter(r => {
    const b = r.getBoundingClientRect(); return b.width > 0 && b.height > 0;
  });
  const texts = Array.from(svg.querySelectorAll('text')).map(t => {
    const b = t.getBoundingClientRect();
    return {text: t.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom};
  });
  return {name: svg.dataset.chart, width: box.width, height: box.height, bars: bars.length,
          values: bars.map(r => Number(r.dataset.value)),
          fills: Array.from(new Set(bars.map(r => getComputedStyle(r).fill))),
          box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom}, texts: texts};
}))
"""


def clipped_labels(chart: dict[str, Any], tolerance: float = 0.5) -> list[str]:
    """The texts of *chart* (from :func:`load_page`) whose box is not inside the chart's SVG box."""
    box = chart["box"]
    return [
        f"{text['text']!r} {text['left']:.1f}..{text['right']:.1f} x {text['top']:.1f}..{text['bottom']:.1f}"
        for text in chart["texts"]
        if text["left"] < box["left"] - tolerance
        or text["right"] > box["right"] + tolerance
        or text["top"] < box["top"] - tolerance
        or text["bottom"] > box["bottom"] + tolerance
    ]


@dataclasses.dataclass
class PageReport:
    """What the browser saw: console messages and errors, charts as laid out, a screenshot."""

    problems: list[str]
    charts: list[dict[str, Any]]
    screenshot: Path
    title: str
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The value of each expression given to :func:`load_page`, by name."""


class _Session:
    def __init__(self, url: str) -> None:
        self._ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message["result"])
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript *expression* in the page."""
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"]["value"]

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(method)
            self.events.append(json.loads(self._ws.recv()))

    def close(self) -> None:
        self._ws.close()


def _problems(events: list[dict[str, Any]]) -> list[str]:
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            problems.append(f"console.{params.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            problems.append(f"exception: {details.get('exception', {}).get('description', details.get('text'))}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            problems.append(f"log {params['entry']['level']}: {params['entry']['text']}")
    return problems


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop chromium and all its helper processes, so none still writes into the profile folder."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the helpers exit a moment after the browser
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def load_page(
    page: Path,
    screenshot: Path,
    width: int = 1280,
    height: int = 900,
    *,
    evaluate: dict[str, str] | None = None,
) -> PageReport:
    """Open *page* in headless chromium; report console output, charts, a full-page screenshot and
    the value of each JavaScript expression of *evaluate* (by name)."""
    binary = shutil.which("chromium")
    if binary is None:
        raise RuntimeError("chromium is not installed: apt-get install -y chromium (see .ci/run)")
    with tempfile.TemporaryDirectory(prefix="otel-audit-chromium-") as profile:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopping it stops every child too
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.is_file() or not port_file.read_text().strip():
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("chromium did not open its DevTools port")
                time.sleep(0.05)
            port = int(port_file.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                targets = json.load(response)
            target = next(t for t in targets if t["type"] == "page")
            session = _Session(target["webSocketDebuggerUrl"])
            try:
                for domain in ("Runtime", "Log", "Page"):
                    session.call(f"{domain}.enable")
                session.call(
                    "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
                )
                session.call("Page.navigate", url=page.resolve().as_uri())
                session.wait_for("Page.loadEventFired")
                charts = json.loads(session.evaluate(_CHARTS_JS))
                title = session.evaluate("document.title")
                values = {name: session.evaluate(expression) for name, expression in (evaluate or {}).items()}
                shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                time.sleep(0.2)  # let late console events arrive
                with contextlib.suppress(Exception):
                    session.call("Runtime.evaluate", expression="1")
                problems = _problems(session.events)
            finally:
                session.close()
        finally:
            _stop_group(process)
    return PageReport(problems=problems, charts=charts, screenshot=screenshot, title=title, values=values)
