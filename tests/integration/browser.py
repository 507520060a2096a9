"""A real headless Chromium, driven over the DevTools protocol (the ``websocket-client`` Jupyter's
server already brings): what a learner's browser does in class, from log-in to a running notebook.

JupyterLab is driven as its own UI tests (Galata) drive it: through ``window.jupyterapp``, which a
learner's server exposes (``LabApp.expose_app_in_browser``, :mod:`dataops.classroom.hub_config`).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

from tests.course.masters import chromium
from tests.ports import free_port


class Chromium:
    """One browser with a profile of its own (its own cookies: one learner), one page."""

    def __init__(self, profile: Path) -> None:
        import websocket

        binary = chromium()
        port = free_port()
        self.proc = subprocess.Popen([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                      "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile}",
                                      f"--remote-debugging-port={port}", "--remote-allow-origins=*", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        pages: list[dict[str, Any]] = []
        while not pages:
            try:
                pages = [t for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json() if t.get("type") == "page"]
            except (requests.RequestException, ValueError):
                pass
            if not pages:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.close()
                    raise AssertionError(f"Chromium did not open its DevTools port {port} in 60 s")
                time.sleep(0.5)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=300, suppress_origin=True)
        self.calls = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events in between are skipped)."""
        self.calls += 1
        self.ws.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.calls:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str, timeout_s: float = 60) -> Any:
        """The value of a JavaScript expression in the page (a promise awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True, timeout=timeout_s * 1000)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise AssertionError(f"{expression[:80]}…: {details.get('exception', {}).get('description') or details.get('text')}")
        return result.get("result", {}).get("value")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout_s: float, what: str) -> Any:
        """Evaluate ``expression`` until it is truthy; on time out, fail saying where the page is."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = self.evaluate(expression, timeout_s=10)
            except AssertionError:  # a page between two loads
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                where = self.evaluate("location.href + ' | ' + (document.body ? document.body.innerText.slice(-600) : '')")
                raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}; the page: {where}")
            time.sleep(1)

    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''"))

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing what may never have opened
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def log_in_to_lab(browser: Chromium, hub_url: str, user: str, password: str, timeout_s: float = 180) -> None:
    """The hub's log-in form filled and sent, as a learner does; back when their JupyterLab is restored."""
    browser.goto(f"{hub_url}/hub/login")
    browser.wait_for("!!document.querySelector('input[name=username]')", 60, "the hub's log-in form")
    browser.evaluate(f"document.querySelector('input[name=username]').value = {json.dumps(user)};"
                     f"document.querySelector('input[name=password]').value = {json.dumps(password)};"
                     "document.querySelector('form').submit(); true")  # fmt: skip
    browser.wait_for(f"location.pathname.startsWith('/user/{user}/lab') && !!window.jupyterapp", timeout_s, f"{user}'s JupyterLab")
    browser.evaluate("window.jupyterapp.restored.then(() => true)", timeout_s=timeout_s)


def run_notebook(browser: Chromium, path: str, timeout_s: float = 180) -> None:
    """Open ``path`` (from the server's root) in JupyterLab, wait for its kernel, run all its cells."""
    browser.evaluate(f"""(async () => {{
        const app = window.jupyterapp;
        const panel = await app.commands.execute('docmanager:open', {{path: {json.dumps(path)}, factory: 'Notebook'}});
        await panel.context.ready;
        await panel.sessionContext.ready;
        await app.commands.execute('notebook:run-all-cells');
        return true;
    }})()""", timeout_s=timeout_s)  # fmt: skip
