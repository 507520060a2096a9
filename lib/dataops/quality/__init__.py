"""Data-quality checks of the crypto pipeline (course block 2, "Data Quality").

Checks are data (``data/quality/suite.yaml``); this package only evaluates them.
Vocabulary borrowed from pandera and Soda: a :class:`Check` has a name, a type,
parameters and a readable failure message; :func:`run_suite` runs EVERY check
(it never stops at the first failure) and collects the results in one table.

Modules: ``suite`` (model and YAML loading), ``schema`` (JSON-schema validator),
``polls`` (parsing and exploding raw polls), ``checks`` (one runner per check type),
``run`` (running a suite on data, a topic or the table, or a layer: raw, exploded, table),
``custom_model`` (a test of your own and :func:`custom_test`, its decorator), ``custom``
(running them), ``report`` (the JSON report and the course's success bands).

Example::

    suite = load_suite()
    report = run_suite(suite, polls=kafka.read("crypto-prices"))
    report.score, report.failures()
"""

from dataops.errors import SchemaError, SuiteError
from dataops.quality.checks import frozen_runs, runs_for_check
from dataops.quality.polls import TimedPoll, explode_polls, parse_poll
from dataops.quality.custom import CustomTest, custom_test
from dataops.quality.report import band, compare_layers, history, read_json
from dataops.quality.run import LAYERS, run_on_layer, run_on_table, run_on_topic, run_suite
from dataops.quality.schema import validate
from dataops.quality.suite import (
    CHECK_TYPES,
    DATASETS,
    Check,
    CheckResult,
    QualityReport,
    Suite,
    files_stamp,
    load_suite,
)

__all__ = [
    "LAYERS",
    "CustomTest",
    "band",
    "compare_layers",
    "custom_test",
    "history",
    "read_json",
    "run_on_layer",
    "CHECK_TYPES",
    "DATASETS",
    "Check",
    "CheckResult",
    "QualityReport",
    "SchemaError",
    "Suite",
    "SuiteError",
    "TimedPoll",
    "explode_polls",
    "frozen_runs",
    "files_stamp",
    "load_suite",
    "parse_poll",
    "run_on_table",
    "run_on_topic",
    "run_suite",
    "runs_for_check",
    "validate",
]
