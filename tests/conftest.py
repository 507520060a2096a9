"""Shared fixtures: the real local stack, started once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PLOTLY_RENDERER", "plotly_mimetype")


@pytest.fixture(scope="session")
def pipeline():
    """The local pipeline, up and set up; stops at the end only what this session started."""
    import dataops

    p = dataops.connect(profile="local")
    already = {name for name in p.stack.names if p.stack.process(name)}

    def stop_what_we_started():
        for name in reversed(p.stack.names):
            if name not in already:
                p.stack.stop(name)

    try:
        p.up(progress=False)
    except BaseException:
        stop_what_we_started()  # a failed start leaves no orphan process behind
        raise
    yield p
    stop_what_we_started()


def pytest_collection_modifyitems(items):
    """Notebook cells collected by nbval carry the ``notebooks`` marker."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
