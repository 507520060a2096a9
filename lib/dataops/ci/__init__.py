"""CI/CD for the pipeline: the checks the workflow's jobs run, and a local runner of the
workflow (``dataops ci``). See :mod:`~dataops.ci.checks` and :mod:`~dataops.ci.workflow`."""

from dataops.ci.checks import config_problems, incompatible, lint_workflow, sample_quality, schema_problems
from dataops.ci.workflow import load, order, run

__all__ = ["config_problems", "incompatible", "lint_workflow", "load", "order", "run", "sample_quality", "schema_problems"]
