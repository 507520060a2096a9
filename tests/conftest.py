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


# A test's folder says what it needs: unit (nothing running), first_run and integration (the
# real stack), notebooks (the stack and a kernel). `make test-unit` (-m unit) runs every unit test.
FOLDER_MARKERS = {"unit": "unit", "first_run": "integration", "integration": "integration", "notebooks": "notebooks"}


def pytest_collection_modifyitems(items):
    """Each test carries its folder's marker; notebook cells collected by nbval carry ``notebooks``."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
            continue
        folder = item.path.parent.name
        if folder in FOLDER_MARKERS and not any(item.iter_markers(FOLDER_MARKERS[folder])):
            item.add_marker(getattr(pytest.mark, FOLDER_MARKERS[folder]))
