"""``dataops doctor``: everything a learner's machine needs, one row each with ✔/✘ and the one command that fixes it.

:func:`~dataops.doctor.report.diagnose` (``p.doctor()`` in a notebook) measures the machine; the
rows are judged by :mod:`.checks` and :mod:`.ports`; the sub-command is :mod:`.cli`.
"""

from dataops.doctor.checks import Check
from dataops.doctor.report import COLUMNS, DoctorTable, diagnose

__all__ = ["COLUMNS", "Check", "DoctorTable", "diagnose"]
