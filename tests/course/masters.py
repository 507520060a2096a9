"""What a browser draws of an executed notebook's HTML report."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    """The Chromium binary; a skip (a failure in CI) without one."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("needs chromium (Debian's `chromium` package; .ci/run installs it)")
    return browser


def drawn_figures(html: Path) -> tuple[int, int]:
    """Plotly figures and mermaid diagrams a headless Chromium drew when it opened the report (offline, file://)."""
    browser = chromium()
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
                          "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120).stdout  # fmt: skip
    return dom.count('class="main-svg"'), dom.count('class="jp-Mermaid jp-RenderedMermaid"')  # a failed diagram adds jp-mod-warning
