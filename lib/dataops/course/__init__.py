"""The course around the notebooks: the course map, the exercises' self-checks, the learner
versions generated from the instructor masters (nbgrader), grading by the rubric, how many
mechanically wrong answers the self-checks catch, and the learner's edition of the course.

One module per concern: :mod:`~dataops.course.catalog` (blocks, minutes, rubric),
:mod:`~dataops.course.timing` (the time model: modelled minutes per block, «Para ir más lejos»),
:mod:`~dataops.course.selfcheck` (the ✔/✘ result), :mod:`~dataops.course.block1` and
:mod:`~dataops.course.block2` (each block's exercises), :mod:`~dataops.course.assignments`
(learner versions), :mod:`~dataops.course.grading` (``dataops grade``),
:mod:`~dataops.course.mutants` (wrong answers made from a master's solution) and
:mod:`~dataops.course.mutation` (the self-checks run on them, ``benchmarks/checks.py``),
:mod:`~dataops.course.cases` (hidden grading cases, :mod:`~dataops.course.hidden`, or visible
formative ones), :mod:`~dataops.course.edition` and :mod:`~dataops.course.release` (``dataops
release``: the learner's edition, without masters, answers or hidden cases).
"""

from dataops.course.catalog import Block, Course, load_course
from dataops.course.selfcheck import SelfCheck

__all__ = ["Block", "Course", "SelfCheck", "load_course"]
