"""``dataops release DIR``: write the learner's edition of the course.

The learner's edition is the project as git tracks it, minus everything that gives an answer
away: the instructor masters (their solutions and hidden tests), the right and wrong answers
(``tests/course/answers.py``), the hidden grading cases (:mod:`dataops.course.hidden`), the
mutation benchmark that is built from the masters, the instructor's guide and the tests and
benchmarks that need any of them. The learner versions stay where a learner opens them
(``notebooks/learner/``); an ``EDITION`` file tells the library it is the learner's edition
(:mod:`dataops.course.edition`), so ``make run`` executes the learner versions and the
self-checks judge on the visible formative cases. The Makefile's ``run``, ``lab`` and ``test``
are rewritten for it, the README is the learner's (``data/course/README_alumno.md``, Spanish),
and the edition is a git repository of one commit (``dataops reset`` and block 6 need one).

The release is checked before it is handed out: no file may hold a solution or hidden-test
region (:func:`leaks`).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from pathlib import Path

from dataops.config import PROJECT_ROOT
from dataops.course.edition import EDITION_FILE, LEARNER
from dataops.errors import ConfigError, DataOpsError

# Paths (relative, with /) that stay in the instructor's edition; fnmatch patterns.
INSTRUCTOR_ONLY: tuple[str, ...] = (
    "notebooks/[0-9][0-9]_*.ipynb",  # the masters: solutions and hidden tests
    "GUIA_INSTRUCTOR.md",
    "lib/dataops/course/hidden/*",  # the hidden grading cases
    "lib/dataops/course/mutants.py",  # the mutation benchmark: wrong answers made from the masters' solutions
    "lib/dataops/course/mutation.py",
    "lib/dataops/course/mutation_registry.py",
    "lib/dataops/course/offline.py",
    "data/course/equivalent_mutants.yaml",
    "benchmarks/checks.py",  # need the masters or the answers
    "benchmarks/course.py",
    "benchmarks/grade.py",
    "tests/course/*",  # right and wrong answers
    "tests/integration/*",  # against the stack, and some with the answers
    "tests/first_run/*",
    "tests/notebooks/*",  # run the masters under the grader
    ".ci/*",  # the course's CI runs the instructor's suite (.github/workflows/dataops.yml stays: block 6 runs it in a clone)
    # unit tests of the instructor's edition: the masters, the answers, the hidden cases, the guide,
    # the README's layout and the CI that the release leaves out, the suite's ports, the class's monitor
    # read as another user (who cannot reach a release made in root's temporary folder)
    *(f"tests/unit/{name}.py" for name in (
        "test_architecture", "test_bad_inputs", "test_block4_extras", "test_block5", "test_block5_known_wrong", "test_ci",
        "test_course_checks", "test_gradebook", "test_grading", "test_grading_honesty", "test_instructor_guide",
        "test_monitor_many", "test_mutants", "test_packaging", "test_parallel_suite", "test_quality_custom", "test_readme_layout", "test_release",
        "test_reset_files", "test_skips_in_ci", "test_suite_ports", "test_timing",
    )),
)  # fmt: skip

# A solution or hidden-test region as nbgrader marks it: the marker alone on its line (in a notebook's
# JSON, a source string that starts with it). Prose that names the markers (the README) is no region.
_REGION = re.compile(r'^\s*"?\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)', re.MULTILINE)
_SKIP_DIRS = {".git", ".venv", ".stack", "build", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache", "node_modules"}

# The learner's Makefile: these targets' recipes (None: the target is left out).
_LEARNER_TARGETS: dict[str, str | None] = {
    "run": "\t$(BIN)/dataops notebooks",
    "lab": "\t$(BIN)/jupyter lab --notebook-dir=notebooks/learner",
    "learner": None,  # needs the masters
    "grade": None,  # needs the hidden cases
    "release": None,  # the instructor's
    "test": "\t$(BIN)/python -m pytest -m unit tests/unit",
    "test-unit": "\t$(BIN)/python -m pytest -m unit tests/unit",
}
_LEARNER_HELP = {
    "run": "the main job: start the pipeline, execute the learner notebooks headless into build/",
    "lab": "start the pipeline, then JupyterLab on your notebooks (notebooks/learner)",
    "test": "the library's unit tests (no services)",
}

# The learner's README (Spanish: a learner reads it), which replaces the project's in the release.
LEARNER_README = Path("data") / "course" / "README_alumno.md"


def is_instructor_only(path: str) -> bool:
    """True when the project file ``path`` (relative, with /) stays out of the learner's edition."""
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in INSTRUCTOR_ONLY)


def project_files(root: Path = PROJECT_ROOT) -> list[str]:
    """The project's files as git sees them: tracked, and new ones it does not ignore (relative paths
    with /). Without git, a walk that skips state and build folders."""
    try:
        git = ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
        out = subprocess.run(git, capture_output=True, check=True, timeout=60).stdout
        files = [f for f in out.decode("utf-8").split("\0") if f]
        if files:
            return [f for f in files if (root / f).is_symlink() or (root / f).is_file()]
    except (OSError, subprocess.SubprocessError):
        pass
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        found += [(Path(folder) / n).relative_to(root).as_posix() for n in sorted(names) if n != ".env"]
    return found


def learner_makefile(text: str) -> str:
    """The project's Makefile for the learner's edition: ``run``, ``lab`` and ``test`` on the learner
    notebooks and the shipped unit tests, no ``learner`` or ``grade`` target."""
    lines, out, seen = text.splitlines(), [], set()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^([a-z-]+):(?!=)", line)
        if m and m.group(1) in _LEARNER_TARGETS:
            name = m.group(1)
            seen.add(name)
            recipe = _LEARNER_TARGETS[name]
            i += 1
            while i < len(lines) and lines[i].startswith("\t"):
                i += 1
            if recipe is not None:
                head = line.split("##")[0].rstrip()
                out += [f"{head}  ## {_LEARNER_HELP.get(name, line.split('## ', 1)[-1])}", recipe]
            continue
        if line.startswith(".PHONY:"):
            line = " ".join(w for w in line.split() if _LEARNER_TARGETS.get(w, "") is not None)
        if line.startswith("TEST_WORKERS ?="):  # the instructor's suite in processes: not the learner's unit tests
            while out and out[-1].startswith("#"):
                out.pop()
            i += 2 if i + 1 < len(lines) and not lines[i + 1].strip() else 1
            continue
        out.append(line)
        i += 1
    missing = set(_LEARNER_TARGETS) - seen
    if missing:
        raise DataOpsError(f"el Makefile no tiene el target {', '.join(sorted(missing))}", "actualiza dataops.course.release._LEARNER_TARGETS")
    return "\n".join(out) + "\n"


def leaks(folder: Path) -> list[str]:
    """Files under ``folder`` that hold a solution or hidden-test region (relative paths)."""
    found = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not path.is_symlink():
            text = path.read_bytes().decode("utf-8", errors="ignore")
            if _REGION.search(text):
                found.append(path.relative_to(folder).as_posix())
    return found


def release(target: str | Path, root: Path = PROJECT_ROOT) -> list[str]:
    """Write the learner's edition of the project at ``root`` into ``target`` (absent or empty).

    Returns:
        The files written (relative paths with /).

    Raises:
        ConfigError: ``target`` is not empty, is a file, or lies inside the project.
        DataOpsError: a written file holds a solution or hidden-test region (the release is removed).
    """
    target = Path(target).expanduser().resolve()
    root = Path(root).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} no es una carpeta vacía", "da una carpeta nueva o vacía para la edición del alumno")
    if target == root or root in target.parents:
        raise ConfigError(f"{target} está dentro del proyecto", "escribe la edición del alumno fuera de la carpeta del proyecto")
    files = [f for f in project_files(root) if not is_instructor_only(f)]
    target.mkdir(parents=True, exist_ok=True)
    for rel in files:
        src, dst = root / rel, target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    (target / EDITION_FILE).write_text(f"{LEARNER}\n", encoding="utf-8")
    if (target / "Makefile").exists():
        (target / "Makefile").write_text(learner_makefile((root / "Makefile").read_text(encoding="utf-8")), encoding="utf-8")
    if (root / LEARNER_README).exists():
        shutil.copy2(root / LEARNER_README, target / "README.md")
    leaked = leaks(target)
    if leaked:
        shutil.rmtree(target)
        raise DataOpsError(f"la edición del alumno llevaría soluciones o tests ocultos: {', '.join(leaked)}",
                           "añádelos a dataops.course.release.INSTRUCTOR_ONLY")  # fmt: skip
    _commit(target)
    return sorted([*files, EDITION_FILE])


def _commit(target: Path) -> None:
    """Make the edition a git repository of one commit: `dataops reset` restores data/ from it, and
    block 6 clones the course from it. Without git, the edition still works up to those two."""
    git = shutil.which("git")
    if git is None:
        return
    who = ["-c", "user.name=dataops release", "-c", "user.email=release@dataops.invalid", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*who, "commit", "-q", "-m", "Learner's edition of the course"]):
        subprocess.run([git, "-C", str(target), *args], check=True, capture_output=True)
