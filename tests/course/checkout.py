"""A git checkout holding a copy of the course's files, for tests that must not touch the real ones."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from dataops.config import DATA_DIR
from dataops.course.reset import COURSE_FILES


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def course_checkout(root: Path) -> Path:
    """``root/data/…``: the real course files, committed in a fresh repository at ``root``."""
    for name in COURSE_FILES:
        shutil.copytree(DATA_DIR / name, root / "data" / name)
    git(root.parent, "init", "-q", str(root))
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "course")
    return root / "data"
