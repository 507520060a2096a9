"""The pipeline as code: one declaration, planned, applied and validated.

``plan`` compares ``data/pipeline/pipeline.yaml`` with what runs, ``apply`` makes it so
with the course's step report, ``validate`` runs the checks alone.
"""

from dataops.automation.checks import init_env
from dataops.automation.declaration import DECLARATION_PATH, Declaration, load, parse
from dataops.automation.engine import apply, destroy, plan, repaired, scratch_settings, validate
from dataops.automation.manual import ManualSetup, automated, cleanup, compare, scratch_declaration

__all__ = ["DECLARATION_PATH", "Declaration", "ManualSetup", "apply", "automated", "cleanup", "compare", "destroy", "init_env", "load",
           "parse", "plan", "repaired", "scratch_declaration", "scratch_settings", "validate"]
