"""The course's commands of the ``dataops`` CLI: course, learner, reset, grade, release (``notebooks`` is
:mod:`dataops.runner`'s)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from dataops.cli_registry import CliContext, SubParsers, positive_int


def cmd_course(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.course import load_course
    from dataops.course.timing import compare_sections

    course = load_course()
    table = course.table()
    ctx.print_frame(table.drop(columns=["deliverable"]))
    over = [f"{b.notebook} {t:.1f} > {b.minutes}" for b, t in zip(course.blocks, table["modelled"]) if b.minutes and t > b.minutes]
    print("\nminutes: los previstos; modelled: el recorrido básico según el modelo de tiempos; with_optional: con «Para ir más lejos»")
    print(f"✘ se pasa de sus minutos: {', '.join(over)}" if over else "✔ el recorrido básico de cada bloque cabe en sus minutos")
    if args.sections:
        for block in course.blocks:
            if block.timed.exists() and block.minutes:
                print(f"\n{block.notebook} ({block.minutes} min)")
                ctx.print_frame(compare_sections(block.timed, course.time_model))
    return 1 if over and args.check else 0


def cmd_learner(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.course import assignments
    from dataops.course.edition import is_learner_edition
    from dataops.errors import ConfigError

    if is_learner_edition():
        raise ConfigError("los cuadernos del alumno se generan desde los másteres, que solo tiene la edición del instructor",
                          "tus cuadernos están en notebooks/learner")  # fmt: skip
    if args.check:
        stale = assignments.stale()
        if stale:
            print(f"error: cuadernos del alumno desactualizados: {', '.join(stale)}: ejecuta `make learner` y haz commit de notebooks/learner", file=sys.stderr)
            return 1
        print("learner notebooks are up to date")
        return 0
    for path in assignments.generate():
        print(f"  ✔ {path.relative_to(path.parents[2])}")
    return 0


def cmd_reset(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.config import DATA_DIR
    from dataops.course.reset import reset

    ctx.print_frame(reset(ctx.pipeline(args), data_dir=None if args.keep_files else DATA_DIR))
    return 0


def cmd_grade(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.course.edition import is_learner_edition
    from dataops.course.grading import grade
    from dataops.errors import ConfigError

    if is_learner_edition():
        raise ConfigError("la corrección necesita la edición del instructor del curso (esta es la del alumno: sin casos ocultos)",
                          "entrega tus cuadernos al instructor o ejecuta la autocomprobación de cada ejercicio en tu cuaderno")  # fmt: skip
    if args.class_dir:
        if args.notebooks:
            raise ConfigError("da cuadernos o --class DIR, no las dos cosas", "corrige a un alumno con `dataops grade RUTA` y a una clase con `dataops grade --class DIR`")
        return _grade_class(args, ctx)
    if not args.notebooks:
        raise ConfigError("no hay ningún cuaderno que corregir", "pasa los cuadernos del alumno (o su carpeta), o --class DIR para una clase entera")
    if args.in_class:
        raise ConfigError("--in-class corrige una clase entera", "usa `dataops grade --class DIR --in-class` en el servidor de la clase")
    report = grade(args.notebooks, student=args.student, demos=args.demos, keep=args.keep, timeout_s=args.timeout)
    ctx.print_frame(report.exercises)
    print()
    ctx.print_frame(report.rubric)
    if len(report.crashes):
        print("\nCeldas que fallaron fuera de los ejercicios (no restan puntos, pero algo del cuaderno no funcionó):")
        ctx.print_frame(report.crashes)
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
        print(f"\n(also in {args.json})")
    return 0


def _grade_class(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.config import DATA_DIR
    from dataops.course.gradebook import grade_class, learner_folders
    from dataops.course.reset import reset
    from dataops.errors import ConfigError

    if args.jobs is not None and not args.in_class:
        raise ConfigError("--jobs solo vale con --in-class (en un portátil los alumnos se corrigen uno tras otro)",
                          "añade --in-class en el servidor de la clase, o quita --jobs")  # fmt: skip
    if args.in_class and os.geteuid() != 0:
        raise ConfigError("--in-class corre los cuadernos de cada alumno como su usuario, y eso solo lo puede hacer root",
                          "ejecútalo como root en el servidor de la clase (`sudo .venv/bin/dataops grade --class …`)")  # fmt: skip
    folders = learner_folders(args.class_dir)  # a wrong folder is one line before anything starts
    if args.in_class:
        args.jobs = args.jobs or 3
        from dataops.classroom.cli import server_settings
        from dataops.classroom.grading import grader

        print(f"Corrigiendo {len(folders)} alumnos de {args.class_dir} en sus espacios del servidor de la clase, {args.jobs} a la vez, "
              f"cada uno como su usuario" + ("" if args.no_reset else " (antes, su espacio vaciado)"))  # fmt: skip
        one = grader(server_settings(), timeout_s=args.timeout, demos=args.demos, reset=not args.no_reset)
        book = grade_class(args.class_dir, out_dir=args.out, demos=args.demos, grade_one=one, jobs=args.jobs)
        return _gradebook_said(book, ctx)
    print(f"Corrigiendo {len(folders)} alumnos de {args.class_dir} (uno tras otro; antes de cada uno, `dataops reset`)")
    again = None
    if not args.no_reset:
        p = ctx.pipeline(args)
        again = lambda: reset(p, data_dir=None if args.keep_files else DATA_DIR)  # noqa: E731
    book = grade_class(args.class_dir, out_dir=args.out, reset=again, demos=args.demos, timeout_s=args.timeout)
    return _gradebook_said(book, ctx)


def _gradebook_said(book, ctx: CliContext) -> int:
    print()
    ctx.print_frame(book.table.drop(columns=["error"]) if not book.table["error"].any() else book.table)
    print(f"\n  ✔ {book.csv}\n  ✔ {book.html}")
    failed = book.table[book.table["error"] != ""]
    if len(failed):
        print(f"error: no se pudo corregir a {len(failed)} alumno(s): {', '.join(failed['learner'])}: lee su columna error y vuelve a corregirlos con `dataops grade DIR/<alumno>`", file=sys.stderr)
        return 1
    return 0


def cmd_release(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.course.edition import is_learner_edition
    from dataops.course.release import release
    from dataops.errors import ConfigError

    if is_learner_edition():
        raise ConfigError("esta ya es la edición del alumno", "ejecuta `dataops release DIR` en la edición del instructor (el repositorio)")
    files = release(args.folder)
    print(f"  ✔ {args.folder}: the learner's edition, {len(files)} files (no masters, answers or hidden cases)")
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``course``, ``learner``, ``reset``, ``grade`` and ``release`` to ``sub``."""
    p = sub.add_parser("course", help="the course map: each block's minutes, planned and modelled by the time model (data/course/course.yaml)")
    p.add_argument("--sections", action="store_true", help="also each notebook's table of minutes per section beside the model")
    p.add_argument("--check", action="store_true", help="exit with 1 when a block's core path is over its minutes")
    p.set_defaults(func=cmd_course)

    p = sub.add_parser("learner", help="generate the learner notebooks (notebooks/learner) from the masters with nbgrader")
    p.add_argument("--check", action="store_true", help="only check that the committed learner notebooks are up to date")
    p.set_defaults(func=cmd_learner)

    p = sub.add_parser("reset", help="start the next class clean: clear faults, resume connectors, drop learners' topics and metrics, "
                                     "restore the rules, suite and declaration under data/ (edits copied to .stack/reset/), set up again")
    p.add_argument("--keep-files", action="store_true", help="leave the files under data/ as they are (an instructor's uncommitted edits)")
    p.set_defaults(func=cmd_reset)

    p = sub.add_parser("grade", help="grade a learner's notebooks, or a whole class (--class DIR), by the course rubric (nbgrader autograde, running pipeline)")
    p.add_argument("notebooks", nargs="*", help="the learner's notebooks, or a folder holding them")
    p.add_argument("--student", default="alumno", help="the learner's id (default alumno)")
    p.add_argument("--json", metavar="FILE", help="also write the grades as JSON")
    p.add_argument("--class", dest="class_dir", metavar="DIR",
                   help="grade every learner of a class: DIR/<learner>/ holds each learner's notebooks (nbgrader's submitted/ layout); "
                        "writes DIR/_gradebook/gradebook.csv and gradebook.html")  # fmt: skip
    p.add_argument("--out", metavar="DIR", help="with --class: where the gradebook goes (default DIR/_gradebook)")
    p.add_argument("--keep-files", action="store_true", help="with --class: the reset between learners leaves data/ as it is")
    p.add_argument("--demos", action="store_true", help="also run the masters' demo cells and the notebooks with no exercise, "
                                                        "as in class (about five minutes a learner instead of one)")
    p.add_argument("--no-reset", action="store_true", help="with --class: no reset between learners (not recommended: one learner's topics can fail the next)")
    p.add_argument("--in-class", action="store_true", help="with --class, on a class server (dataops class up, as root): each learner "
                                                          "in their own namespace, their notebooks run as their own Unix user, several at once")  # fmt: skip
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N", help="with --in-class: learners graded at once (default 3)")
    p.add_argument("--keep", metavar="DIR", help="copy the notebooks as the grader executed them into DIR (what each cell printed)")
    p.add_argument("--timeout", type=positive_int, default=600, metavar="S", help="longest a notebook cell may run, in seconds (default 600)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("release", help="write the learner's edition of the course into DIR: learner notebooks, library, data, "
                                       "no masters, answers or hidden grading cases")
    p.add_argument("folder", metavar="DIR", help="a new or empty folder outside the project")
    p.set_defaults(func=cmd_release)
