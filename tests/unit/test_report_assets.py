"""mermaid's build for the offline reports is fetched with `npm pack` and used only when its tarball
has the pinned integrity (npm's dist.integrity of that exact version)."""

from __future__ import annotations

import base64
import io
import sys
import tarfile

import pytest

from dataops import report_assets
from dataops.errors import DataOpsError
from dataops.paths import StatePaths

pytestmark = pytest.mark.unit


def tarball(js: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo(report_assets.MERMAID_FILE)
        info.size = len(js)
        tar.addfile(info, io.BytesIO(js))
    return out.getvalue()


@pytest.fixture()
def npm(tmp_path, monkeypatch):
    """A fake `npm` whose `pack` writes the bytes of ``npm.serves`` as the tarball and counts its calls."""
    served, calls = tmp_path / "served.tgz", tmp_path / "calls"
    script = tmp_path / "npm"
    script.write_text(f"#!{sys.executable}\nimport shutil\nopen({str(calls)!r}, 'a').write('pack\\n')\n"
                      f"shutil.copy({str(served)!r}, 'mermaid-{report_assets.MERMAID[1]}.tgz')\n")  # fmt: skip
    script.chmod(0o755)
    monkeypatch.setattr(report_assets.shutil, "which", lambda name: str(script) if name == "npm" else None)

    class Npm:
        def serves(self, data: bytes) -> None:
            served.write_bytes(data)

        @property
        def calls(self) -> int:
            return len(calls.read_text().splitlines()) if calls.exists() else 0

    return Npm()


def pin(monkeypatch, data: bytes, js: bytes) -> None:
    import hashlib

    monkeypatch.setattr(report_assets, "MERMAID_INTEGRITY", report_assets.integrity(data))
    monkeypatch.setattr(report_assets, "MERMAID_JS_SHA256", hashlib.sha256(js).hexdigest())


def test_the_pin_is_npm_s_sha512_integrity_of_one_version():
    algorithm, digest = report_assets.MERMAID_INTEGRITY.split("-", 1)
    assert algorithm == "sha512" and len(base64.b64decode(digest, validate=True)) == 64
    assert report_assets.integrity(b"") == ("sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==")
    assert len(report_assets.MERMAID_JS_SHA256) == 64 and report_assets.MERMAID == ("mermaid", "12.3.0")


def test_a_tarball_that_does_not_match_the_pin_is_one_line_and_never_used(tmp_path, npm):
    paths = StatePaths(tmp_path / "state")
    npm.serves(tarball(b"window.mermaid = 'not the pinned build';"))
    with pytest.raises(DataOpsError, match=r"el tarball de mermaid@12\.3\.0 que descargó npm no coincide con su integridad fijada") as err:
        report_assets.mermaid_js(paths)
    assert "\n" not in str(err.value) and "npm config get registry" in str(err.value)
    assert not paths.lib.exists() or not any(paths.lib.iterdir())  # nothing kept


def test_the_matching_tarball_is_used_and_kept_and_a_kept_copy_that_changed_is_fetched_again(tmp_path, npm, monkeypatch):
    paths = StatePaths(tmp_path / "state")
    js = b"window.mermaid = {initialize() {}};"
    data = tarball(js)
    npm.serves(data)
    pin(monkeypatch, data, js)
    target = report_assets.mermaid_js(paths)
    assert target is not None and target.read_bytes() == js and npm.calls == 1
    assert report_assets.mermaid_js(paths) == target and npm.calls == 1  # kept: no second download
    target.write_bytes(b"tampered")
    assert report_assets.mermaid_js(paths).read_bytes() == js and npm.calls == 2


def test_pins_that_disagree_are_named(tmp_path, npm, monkeypatch):
    data = tarball(b"window.mermaid = {};")
    npm.serves(data)
    monkeypatch.setattr(report_assets, "MERMAID_INTEGRITY", report_assets.integrity(data))  # the file digest left as it was
    with pytest.raises(DataOpsError, match="ponlo en MERMAID_JS_SHA256"):
        report_assets.mermaid_js(StatePaths(tmp_path / "state"))


def test_without_npm_the_reports_go_on_without_diagrams(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(report_assets.shutil, "which", lambda name: None)
    assert report_assets.mermaid_js(StatePaths(tmp_path / "state")) is None
    assert "npm is missing" in caplog.text
