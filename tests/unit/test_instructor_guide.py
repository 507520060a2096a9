"""GUIA_INSTRUCTOR.md says only what exists: every ``dataops`` command it gives parses with the real
CLI, every ``make`` target is in the Makefile, every ``DATAOPS_`` setting is a setting, every block's
minutes are the course map's, and the README links to it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from dataops.cli import build_parser
from dataops.config import Settings
from dataops.course import load_course

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "GUIA_INSTRUCTOR.md").read_text(encoding="utf-8")


def _commands(tool: str) -> list[str]:
    """The commands starting with ``tool`` in the guide's code spans and code blocks, one per command."""
    spans = re.findall(r"`([^`\n]+)`", GUIDE) + [line for block in re.findall(r"```bash\n(.*?)```", GUIDE, re.S)
                                                 for line in block.splitlines()]  # fmt: skip
    out = []
    for span in spans:
        for part in re.split(r"&&|;|\|\||\|", span.split("#")[0]):
            part = part.strip().removeprefix("for d in entregas/*/; do").strip()
            part = re.sub(r"^(\.venv/bin/)?", "", part)
            if part.startswith(tool + " "):
                out.append(part)
    return out


def test_every_dataops_command_in_the_guide_parses():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command" or getattr(a, "choices", None) and "up" in a.choices)
    commands = _commands("dataops")
    assert len(commands) > 20
    for command in commands:
        argv = shlex.split(command.replace('"$d"', "carpeta").replace('"notas/$a.json"', "notas.json").replace('"$a"', "ana"))[1:]
        if len(argv) == 1:  # the prose naming a sub-command (`dataops grade` corrige...): it exists
            assert argv[0] in sub.choices, command
            continue
        try:
            parser.parse_args(argv)
        except (SystemExit, Exception) as exc:  # argparse's exit, or the CLI's one-line usage error
            pytest.fail(f"the guide gives a command the CLI refuses: {command} ({exc})")


def test_every_make_target_in_the_guide_exists():
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.M))
    used = {shlex.split(c)[1] for c in _commands("make")}
    assert used and used <= targets, used - targets


def test_every_setting_in_the_guide_is_a_setting():
    from dataops.pack import PACK_ENV

    env_only = {PACK_ENV.removeprefix("DATAOPS_")}  # read before any settings load: the class pack
    names = set(re.findall(r"\bDATAOPS_([A-Z_]+)\b", GUIDE)) - env_only
    assert names and {n.lower() for n in names} <= set(Settings.model_fields), names


def test_the_guide_times_every_block_as_the_course_map_does():
    course = load_course()
    for block in course.blocks:
        if not block.minutes:
            continue
        assert re.search(rf"^## Bloque {block.block} · .*\({block.minutes} min", GUIDE, re.M), block.notebook
        assert re.search(rf"\| `{block.notebook}` \| {block.minutes} \|", GUIDE), block.notebook
    assert sum(b.minutes for b in course.blocks) == 120


def test_the_readme_links_the_guide_from_the_course_section():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    course = readme.split("## The course", 1)[1].split("\n## ", 1)[0]
    assert "](GUIA_INSTRUCTOR.md)" in course


def test_the_guide_times_each_section_as_its_notebooks_table_does():
    from dataops.course.timing import planned_sections

    for block in load_course().blocks:
        if not block.minutes:
            continue
        part = re.split(rf"^## Bloque {block.block} · .*$", GUIDE, flags=re.M)[1].split("\n## ", 1)[0]
        guide = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (Inicio|Margen|\d+)[^|]*\| (\d+) \|", part, re.M)}
        table = planned_sections(block.master)
        notebook = {(r.label.split(":")[0] if r.row in ("intro", "margin") else r.label.split(".")[0]): r.minutes
                    for r in table.itertuples() if r.row in ("intro", "section", "margin")}  # fmt: skip
        assert guide == notebook, block.notebook
        assert "Para ir más lejos" in part, block.notebook
