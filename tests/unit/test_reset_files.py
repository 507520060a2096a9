"""`dataops reset` puts the course's files back as committed, and keeps a copy of every edit."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dataops.config import DATA_DIR
from dataops.course.reset import restore_course_files
from tests.course.checkout import course_checkout, git


@pytest.fixture()
def checkout(tmp_path):
    """A git checkout holding a copy of the course's data/ (the real files, committed)."""
    data = course_checkout(tmp_path / "course")
    (data / "samples").mkdir()
    (data / "samples" / "mine.jsonl").write_text("{}\n")  # not a course file: never touched
    git(data.parent, "add", "-A")
    git(data.parent, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "samples")
    return data.parent


def test_edits_additions_and_deletions_are_undone_with_a_copy_kept(checkout, tmp_path):
    data = checkout / "data"
    rules = data / "alerts" / "rules.yaml"
    committed_rules = rules.read_text()
    rules.write_text(committed_rules + "\n  - name: alerta_del_alumno\n")  # edited
    (data / "quality" / "mis_checks.yaml").write_text("exploded_row: []\n")  # added
    (data / "pipeline" / "pipeline.yaml").unlink()  # deleted by hand
    git(checkout, "rm", "-q", "data/scenarios/api_outage.yaml")  # deleted with git
    (data / "samples" / "mine.jsonl").write_text("{\"edited\": true}\n")

    changed, backup = restore_course_files(data, tmp_path / "state" / "reset")

    assert changed == ["data/alerts/rules.yaml", "data/pipeline/pipeline.yaml", "data/quality/mis_checks.yaml",
                       "data/scenarios/api_outage.yaml"]
    assert rules.read_text() == committed_rules
    assert (data / "pipeline" / "pipeline.yaml").is_file() and (data / "scenarios" / "api_outage.yaml").is_file()
    assert not (data / "quality" / "mis_checks.yaml").exists()
    assert git(checkout, "status", "--porcelain", "--", "data/alerts", "data/quality", "data/pipeline", "data/scenarios") == ""
    assert "alerta_del_alumno" in (backup / "data" / "alerts" / "rules.yaml").read_text()  # nothing lost
    assert (backup / "data" / "quality" / "mis_checks.yaml").read_text() == "exploded_row: []\n"
    assert "edited" in (data / "samples" / "mine.jsonl").read_text()  # outside the course files


def test_a_clean_checkout_is_left_alone(checkout, tmp_path):
    assert restore_course_files(checkout / "data", tmp_path / "reset") == ([], None)
    assert not (tmp_path / "reset").exists()


def test_a_copy_outside_git_is_reported_not_guessed(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR / "alerts", data / "alerts")
    with pytest.raises(subprocess.CalledProcessError):
        restore_course_files(data, tmp_path / "reset")


def test_a_staged_rename_is_undone_not_mistaken_for_no_checkout(checkout, tmp_path):
    data = checkout / "data"
    committed = (data / "alerts" / "rules.yaml").read_text()
    git(checkout, "mv", "data/alerts/rules.yaml", "data/alerts/mis_reglas.yaml")  # `R  new\0old\0` in status -z
    (data / "quality" / "nuevo.yaml").write_text("raw_poll: []\n")
    git(checkout, "add", "data/quality/nuevo.yaml")  # staged, never committed

    changed, backup = restore_course_files(data, tmp_path / "reset")

    assert changed == ["data/alerts/mis_reglas.yaml", "data/alerts/rules.yaml", "data/quality/nuevo.yaml"]
    assert (data / "alerts" / "rules.yaml").read_text() == committed
    assert not (data / "alerts" / "mis_reglas.yaml").exists() and not (data / "quality" / "nuevo.yaml").exists()
    assert git(checkout, "status", "--porcelain", "--", "data/alerts", "data/quality") == ""
    assert (backup / "data" / "alerts" / "mis_reglas.yaml").read_text() == committed


def test_status_paths_reads_renames_and_copies():
    from dataops.course.reset import status_paths

    assert status_paths("R  data/b.yaml\0data/a.yaml\0 M data/c.yaml\0?? data/d.yaml\0") == [
        "data/b.yaml", "data/a.yaml", "data/c.yaml", "data/d.yaml"]
    assert status_paths("C  x/copy.yaml\0x/orig.yaml\0") == ["x/copy.yaml", "x/orig.yaml"]
    assert status_paths("") == []


def test_a_git_failure_is_reported_in_gits_words(tmp_path):
    from dataops.course.reset import _git_failure

    outside = subprocess.CalledProcessError(128, ["git", "-C", "/x", "rev-parse", "--show-toplevel"],
                                            stderr="fatal: not a git repository (or any of the parent directories): .git\n")
    assert _git_failure(outside, tmp_path) == f"{tmp_path} no está en un checkout de git (usa --keep-files)"
    locked = subprocess.CalledProcessError(128, ["git", "-C", "/x", "checkout", "HEAD", "--", "a"],
                                           stderr="fatal: Unable to create '/x/.git/index.lock': File exists.\n")
    assert _git_failure(locked, tmp_path) == "`git checkout HEAD` falló: fatal: Unable to create '/x/.git/index.lock': File exists."
