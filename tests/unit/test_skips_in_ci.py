"""In CI no test may skip (tests/conftest.py): a skip there is a failure with its reason, xfail is
untouched, deselected tests are not run at all, and every run ends with ``skipped: N``."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
TESTS = """
import shutil
import pytest

def test_passes():
    pass

def test_needs_a_binary():
    if shutil.which("no-such-binary-dataops") is None:
        pytest.skip("needs no-such-binary-dataops")

@pytest.mark.skipif(True, reason="needs a marked thing")
def test_marked():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False

@pytest.mark.slow
def test_deselected():
    pytest.skip("never runs: deselected")
"""


@pytest.fixture()
def project(pytester, monkeypatch):
    """A folder with the project's conftest and a few tests; no CI variable set."""
    monkeypatch.delenv("DATAOPS_CI", raising=False)
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makeini("[pytest]\nmarkers =\n    slow: a marker to deselect by\n")
    pytester.makepyfile(test_some=TESTS)
    return pytester


def test_outside_ci_a_skip_is_a_skip_and_the_run_counts_them(project):
    result = project.runpytest("-m", "not slow")
    result.assert_outcomes(passed=1, skipped=2, xfailed=1, deselected=1)
    assert result.ret == 0
    assert result.outlines[-1] == "skipped: 2"  # the run's last line


@pytest.mark.parametrize("variable, value", [("DATAOPS_CI", "1"), ("CI", "true")])
def test_in_ci_a_skip_fails_with_its_reason(project, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    result = project.runpytest("-m", "not slow", "-rfE")
    result.assert_outcomes(passed=1, failed=1, errors=1, xfailed=1, deselected=1)  # a skip mark skips in setup: an error
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "skipped in CI (*test_some.py:11): needs a marked thing; in CI no test may skip: make .ci/run provide what it needs",
        "skipped in CI (*test_some.py:9): needs no-such-binary-dataops; in CI no test may skip: *",
        "FAILED *test_needs_a_binary - skipped in CI*",
        "ERROR *test_marked - skipped in CI*",
    ])  # fmt: skip
    assert result.outlines[-1] == "skipped: 0 (2 skips failed: in CI no test may skip)"
    assert "never runs" not in result.stdout.str()


@pytest.mark.parametrize("variable, value", [("DATAOPS_CI", "0"), ("DATAOPS_CI", ""), ("CI", "false")])
def test_a_variable_that_says_no_is_not_ci(project, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    project.runpytest("-m", "not slow").assert_outcomes(passed=1, skipped=2, xfailed=1, deselected=1)


def test_in_ci_a_module_that_skips_as_it_is_collected_fails(project, monkeypatch):
    project.makepyfile(test_optional="import pytest\npytest.importorskip('no_such_module_dataops')\n\ndef test_x():\n    pass\n")
    project.runpytest("test_optional.py").assert_outcomes(skipped=1)  # outside CI: a skipped module
    monkeypatch.setenv("DATAOPS_CI", "1")
    result = project.runpytest("test_optional.py")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*skipped in CI*no_such_module_dataops*"])


def test_the_project_registers_it(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("dataops-skips-fail-in-ci")


def test_ci_run_provides_every_binary_a_test_looks_for():
    """Each binary a test (or the library code a test relies on for it) looks up with shutil.which is
    one `.ci/run` installs, so the test cannot skip in CI."""
    import re

    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "tests").rglob("*.py"), root / "lib/dataops/report_assets.py", root / "lib/dataops/stack/prometheus.py"]
    looked_for = {b for f in sources for b in re.findall(r"""shutil\.which\(["']([\w.-]+)["']\)""", f.read_text())}
    looked_for -= {"no-such-binary-dataops"}  # this file's own example
    script = (root / ".ci" / "run").read_text()
    provided = {b for line in re.findall(r"(?m)^\s*need (\S+(?: [\w.-]+)+)", script) for b in line.split()[1:]}
    assert {"chromium", "promtool", "prometheus", "npm"} <= looked_for, looked_for  # the scan finds them
    assert looked_for <= provided, looked_for - provided
    assert "export DATAOPS_CI=1" in script and script.rstrip().endswith("make test")
