"""Issue 27, "every bad input answered in one line": the bad inputs, in one list.

Every ``dataops`` sub-command that takes a file or a value, and every notebook call that takes
user input, against each class of bad input: a missing file, an empty one, non-UTF-8 bytes,
invalid YAML/JSON, wrong types, NaN/Infinity/1e999, negative and zero numbers, unknown names
(faults, coins, metrics, layers, jobs, components…), the stack down, a port taken. The answer is
one line naming the input and the fix, exit status 2 (``pipeline plan``'s errors are 1: 2 means
"changes pending" there), and no traceback.

The unit test ``tests/unit/test_bad_inputs.py`` runs them in-process, the benchmark
``benchmarks/bad_inputs.py`` as subprocesses of the real ``dataops`` command. Each run gets a
folder of bad files (:func:`make_files`) and settings of a stack that is down (:func:`stack_down_env`:
a temp state folder, every port one nothing listens on), so nothing here touches a running stack.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]

# ---- the bad files -----------------------------------------------------------------------------------
# what -> (file name pattern, argv templates taking the file as {f}); {kind} is the bad-input class.
LATIN1 = "# réglages écrits en Latin-1\n".encode("latin-1")
_GENERIC = {"empty_file": b"", "not_utf8": LATIN1 + b"x: 1\n", "invalid_syntax": b"key: [unclosed\n  other: {\n"}
_RULE = "rules:\n  - name: r\n    metric: throughput\n    condition: rate\n    agg: mean\n    window_s: {w}\n    op: '>'\n    value: {v}\n    severity: HIGH\n"
_SUITE = "price_ranges: {{}}\nraw_poll:\n  - name: f\n    type: freshness\n    params: {{field: last_updated_at, max_age_s: {v}}}\n"
_TOPIC = "topics:\n  - name: t\n    partitions: {v}\n"
_SCENARIO = "name: s\nduration_s: {v}\nincidents: []\n"
NUMBERS = {"not_finite": ".nan", "infinite": ".inf", "huge": "1.0e+999", "negative": "-5", "zero": "0"}
SPECIFIC: dict[str, dict[str, bytes]] = {
    "rules": {"wrong_type": b"rules: 5\n", **{k: _RULE.format(w=60, v=v).encode() for k, v in NUMBERS.items() if k != "zero"},
              "negative": _RULE.format(w=-60, v=1).encode(), "zero": _RULE.format(w=0, v=1).encode()},
    "suite": {"wrong_type": b"raw_poll: 5\n", **{k: _SUITE.format(v=v).encode() for k, v in NUMBERS.items()}},
    "pipeline": {"wrong_type": _TOPIC.format(v="many").encode(), **{k: _TOPIC.format(v=v).encode() for k, v in NUMBERS.items()}},
    "scenario": {"wrong_type": _SCENARIO.format(v="soon").encode(), **{k: _SCENARIO.format(v=v).encode() for k, v in NUMBERS.items()}},
    "workflow": {"wrong_type": b"jobs: [lint, test]\n"},
    "replay": {"wrong_type": b"[1, 2]\n"},
    "notebook": {"wrong_type": b'{"cells": 5}\n'},
    "roster": {"wrong_type": b"learners: 5\n", **{k: f"learners: [{v}]\n".encode() for k, v in NUMBERS.items()}},
}
_JSON_BROKEN = {"replay": b'{"coin_id": "bitcoin", "entry": {\n', "notebook": b'{"cells": [\n'}
# what -> the file's path in the folder, for a bad-input class
PATHS = {
    "rules": "rules-{kind}.yaml", "suite": "suite-{kind}.yaml", "pipeline": "pipeline-{kind}.yaml",
    "scenario": "scenario-{kind}.yaml", "workflow": "repo-{kind}/.github/workflows/dataops.yml",
    "replay": "replay-{kind}.jsonl", "notebook": "nb-{kind}/03_automatizacion.ipynb", "roster": "roster-{kind}.yaml",
}  # fmt: skip
FILE_KINDS = ("missing_file", *_GENERIC, "wrong_type", *NUMBERS)


def file_content(what: str, kind: str) -> bytes | None:
    """The bytes of ``what``'s bad file of class ``kind`` (None: no such case, or the file is missing)."""
    if kind == "invalid_syntax" and what in _JSON_BROKEN:
        return _JSON_BROKEN[what]
    return _GENERIC.get(kind, SPECIFIC[what].get(kind))


def make_files(tmp: Path) -> None:
    """Write every bad file into ``tmp`` (the ``missing_file`` ones are, of course, not written)."""
    for what, pattern in PATHS.items():
        for kind in FILE_KINDS:
            content = file_content(what, kind)
            if content is not None:
                path = tmp / pattern.format(kind=kind)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
    (tmp / "env-not_utf8.env").write_bytes(b"DATAOPS_PROFILE=local\nDATAOPS_COINS=bitcoin," + LATIN1)
    (tmp / "env-invalid_syntax.env").write_bytes(b"DATAOPS_PROFILE=local\nthis line is no setting\n")


# ---- the settings of a stack that is down ---------------------------------------------------------------
PORTS = ("simulator", "kafka", "kafka_controller", "connect", "flink", "flink_rpc", "flink_blob", "flink_taskmanager",
         "monitor", "prometheus")  # fmt: skip


def stack_down_env(tmp: Path) -> dict[str, str]:
    """``DATAOPS_*`` variables of a stack that is down: a state folder in ``tmp``, no ``.env``, and
    every port one nothing listens on (free when asked)."""
    env = {"DATAOPS_STATE_DIR": str(tmp / "state"), "DATAOPS_ENV_FILE": os.devnull, "DATAOPS_PROFILE": "local"}
    env.update({f"DATAOPS_{name.upper()}_PORT": str(free_port()) for name in PORTS})
    return env


# ---- the cases ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One bad input to one sub-command: ``dataops *argv`` must print one ``error:`` line naming ``named``.

    ``argv``, ``named`` and ``env`` values are templates: ``{tmp}`` is the folder of bad files, ``{root}``
    the project, ``{<component>_port}`` the port the stack-down settings give that component.
    """

    kind: str
    argv: tuple[str, ...]
    named: str
    exit_code: int = 2
    env: tuple[tuple[str, str], ...] = ()
    port_taken: str = ""  # a component whose port is held by a listening socket during the run

    @property
    def id(self) -> str:
        return f"{self.kind}: dataops {' '.join(self.argv)}"

    def fill(self, text: str, tmp: Path, env: dict[str, str]) -> str:
        ports = {f"{name}_port": env.get(f"DATAOPS_{name.upper()}_PORT", "") for name in PORTS}
        return text.format(tmp=tmp, root=ROOT, **ports)


@dataclass(frozen=True)
class CallCase:
    """One bad input to a notebook call: ``code`` must raise a DataOpsError, one line naming ``named``.

    The code runs with ``dataops`` imported, ``p = dataops.connect()`` (stack-down settings) and ``tmp``.
    """

    kind: str
    code: str
    named: str

    @property
    def id(self) -> str:
        return f"{self.kind}: {self.code}"


# what -> the sub-commands reading that file ({f}: the file), and their exit status on an error
FILE_COMMANDS: dict[str, tuple[tuple[tuple[str, ...], int], ...]] = {
    "rules": ((("alerts", "--rules", "{f}"), 2), (("prometheus-rules", "--rules", "{f}"), 2),
              (("scenario", "api_outage", "--rules", "{f}"), 2)),
    "suite": ((("quality", "--samples", "--suite", "{f}"), 2),),
    "scenario": ((("scenario", "{f}"), 2),),
    "pipeline": ((("pipeline", "plan", "--file", "{f}"), 1), (("pipeline", "apply", "--file", "{f}"), 2),
                 (("pipeline", "validate", "--extra", "{f}"), 2)),
    "workflow": ((("check-config", "--workflow", "{f}"), 2), (("ci", "--repo", "{repo}"), 2)),
    "replay": ((("dlq", "replay", "{f}"), 2),),
    "notebook": ((("notebooks", "{f}", "--no-html", "--output", "{tmp}/out"), 2), (("grade", "{f}"), 2)),
    "roster": ((("class", "up", "--roster", "{f}"), 2),),  # refused before anything starts
}  # fmt: skip


def _file_cases() -> list[Case]:
    cases = []
    for what, commands in FILE_COMMANDS.items():
        for kind in FILE_KINDS:
            if kind != "missing_file" and file_content(what, kind) is None:
                continue
            rel = PATHS[what].format(kind=kind)
            for argv, code in commands:
                repo = rel.split("/.github")[0]
                args = tuple(a.replace("{f}", f"{{tmp}}/{rel}").replace("{repo}", f"{{tmp}}/{repo}") for a in argv)
                cases.append(Case(kind, args, repo if "{repo}" in argv else rel, code))
    return cases


VALUES = {"not_finite": "nan", "infinite": "inf", "huge": "1e999", "negative": "-5", "zero": "0", "wrong_type": "abc"}
# (argv before the value, the option named in the error, the classes that are wrong for it)
VALUE_OPTIONS: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("alerts", "--minutes"), "--minutes", tuple(VALUES)),
    (("alerts", "--watch"), "--watch", tuple(VALUES)),
    (("scenario", "api_outage", "--speed"), "--speed", tuple(VALUES)),
    (("scenario", "api_outage", "--seed"), "--seed", ("not_finite", "negative", "wrong_type")),
    (("quality", "--samples", "--min-success"), "--min-success", ("not_finite", "infinite", "huge", "negative", "wrong_type")),
    (("quality", "--polls"), "--polls", ("not_finite", "negative", "zero", "wrong_type")),
    (("quality", "--minutes"), "--minutes", tuple(VALUES)),
    (("dlq", "--minutes"), "--minutes", tuple(VALUES)),
    (("dlq", "replay", "--wait"), "--wait", ("not_finite", "infinite", "huge", "negative", "wrong_type")),
    (("maintain", "--keep-s"), "--keep-s", ("not_finite", "infinite", "huge", "negative", "wrong_type")),
    (("monitor", "--interval"), "--interval", tuple(VALUES)),
    (("monitor", "--count"), "--count", ("not_finite", "negative", "zero", "wrong_type")),
    (("fault", "latency", "--duration"), "--duration", tuple(VALUES)),
    (("logs", "simulator", "-n"), "-n", ("not_finite", "negative", "zero", "wrong_type")),
    (("up", "--ready-timeout"), "--ready-timeout", ("not_finite", "infinite", "huge", "negative", "wrong_type")),
    (("class", "fault", "outage", "--all", "--duration"), "--duration", tuple(VALUES)),
)  # fmt: skip
FACTORS = {"not_finite": "NaN", "infinite": "Infinity", "huge": "1e999", "negative": "-1", "zero": "0", "wrong_type": "big"}


def _value_cases() -> list[Case]:
    cases = [Case(kind, (*argv, VALUES[kind]), named) for argv, named, kinds in VALUE_OPTIONS for kind in kinds]
    cases += [Case(kind, ("fault", "spike", "--param", f"factor={value}"), "factor") for kind, value in FACTORS.items()]
    return cases


NAME_CASES = [
    Case("unknown_name", ("fault", "nosuchfault"), "nosuchfault"),
    Case("unknown_name", ("fault", "spike", "--param", "coin=nosuchcoin"), "nosuchcoin"),
    Case("unknown_name", ("fault", "latency", "--param", "bogus=1"), "bogus"),
    Case("unknown_name", ("fault", "latency", "--param", "duration_s=5"), "duration_s"),
    Case("unknown_name", ("fault", "latency", "--param", "name=spike"), "name=spike"),
    Case("wrong_type", ("fault", "latency", "--param", "delay_s=slow"), "delay_s"),
    Case("wrong_type", ("fault", "latency", "--param", "delay_s"), "delay_s"),
    Case("unknown_name", ("scenario", "nosuchscenario"), "nosuchscenario"),
    Case("unknown_name", ("ci", "nosuchjob", "--repo", "{root}"), "nosuchjob"),
    Case("unknown_name", ("ci", "--skip", "nosuchjob", "--repo", "{root}"), "nosuchjob"),
    Case("unknown_name", ("logs", "nosuchcomponent"), "nosuchcomponent"),
    Case("unknown_name", ("up", "nosuchcomponent"), "nosuchcomponent"),
    Case("unknown_name", ("up", "--with", "nosuchcomponent"), "nosuchcomponent"),
    Case("unknown_name", ("quality", "--layer", "nosuchlayer"), "nosuchlayer"),
    Case("unknown_name", ("alerts", "--fail-on", "NOSUCHLEVEL"), "NOSUCHLEVEL"),
    Case("unknown_name", ("maintain", "--table", "nosuch.table"), "nosuch.table"),
    Case("unknown_name", ("schemas", "--against", "nosuchref"), "nosuchref"),
    Case("unknown_name", ("--profile", "nosuchprofile", "status"), "nosuchprofile"),
    Case("unknown_name", ("nosuchcommand",), "nosuchcommand"),
    Case("unknown_name", ("pipeline", "nosuchaction"), "nosuchaction"),
    Case("unknown_name", ("status", "--nosuchoption"), "--nosuchoption"),
    Case("unknown_name", ("class", "nosuchaction"), "nosuchaction"),
    Case("unknown_name", ("class", "fault", "outage"), "--learner"),  # nobody named: whom?
]
STACK_CASES = [
    Case("stack_down", ("fault", "latency"), "{simulator_port}"),
    Case("stack_down", ("fault", "--clear"), "{simulator_port}"),
    Case("stack_down", ("dlq",), "{kafka_port}"),
    Case("stack_down", ("dlq", "export", "{tmp}/export.jsonl"), "{kafka_port}"),
    Case("stack_down", ("quality",), "{kafka_port}"),
    Case("stack_down", ("pipeline", "plan"), "no responde", exit_code=1),
    Case("stack_down", ("reset", "--keep-files"), "{simulator_port}"),
    Case("stack_down", ("sql", "SELECT 1"), "crypto_prices_exploded"),
    Case("stack_down", ("maintain",), "crypto_prices_exploded"),
    Case("stack_down", ("class", "status"), "dataops class up --roster"),
    Case("stack_down", ("class", "reset", "ana"), "dataops class up --roster"),
    Case("port_taken", ("up", "simulator"), "{simulator_port}", port_taken="simulator"),
    Case("not_utf8", ("config",), "env-not_utf8.env", env=(("DATAOPS_ENV_FILE", "{tmp}/env-not_utf8.env"),)),
    Case("invalid_syntax", ("config",), "env-invalid_syntax.env", env=(("DATAOPS_ENV_FILE", "{tmp}/env-invalid_syntax.env"),)),
    Case("not_finite", ("config",), "DATAOPS_POLL_INTERVAL_S", env=(("DATAOPS_POLL_INTERVAL_S", "nan"),)),
    Case("infinite", ("config",), "DATAOPS_POLL_INTERVAL_S", env=(("DATAOPS_POLL_INTERVAL_S", "inf"),)),
    Case("negative", ("config",), "DATAOPS_POLL_INTERVAL_S", env=(("DATAOPS_POLL_INTERVAL_S", "-5"),)),
    Case("wrong_type", ("config",), "DATAOPS_TOPIC_PARTITIONS", env=(("DATAOPS_TOPIC_PARTITIONS", "three"),)),
]
CLI_CASES: list[Case] = [*_file_cases(), *_value_cases(), *NAME_CASES, *STACK_CASES]


def _call_cases() -> list[CallCase]:
    loaders = {"rules": "dataops.alerts.load_rules", "suite": "dataops.quality.load_suite",
               "scenario": "dataops.scenarios.load_scenario", "replay": "p.dlq.replay"}  # fmt: skip
    cases = []
    for what, call in loaders.items():
        for kind in FILE_KINDS:
            if kind == "missing_file" or file_content(what, kind) is not None:
                rel = PATHS[what].format(kind=kind)
                cases.append(CallCase(kind, f"{call}(tmp / {rel!r})", rel))
    cases += [CallCase(kind, f"dataops.automation.load(p.settings, tmp / 'pipeline-{kind}.yaml')", f"pipeline-{kind}.yaml")
              for kind in FILE_KINDS if kind == "missing_file" or file_content("pipeline", kind) is not None]
    return cases + [
        CallCase("unknown_name", "p.source.inject_fault('nosuchfault')", "nosuchfault"),
        CallCase("unknown_name", "p.source.inject_fault('spike', coin='nosuchcoin')", "nosuchcoin"),
        CallCase("unknown_name", "p.source.inject_fault('latency', bogus=1)", "bogus"),
        CallCase("not_finite", "p.source.inject_fault('spike', factor=float('nan'))", "factor"),
        CallCase("infinite", "p.source.inject_fault('spike', factor=float('inf'))", "factor"),
        CallCase("huge", "p.source.inject_fault('spike', factor=1e999)", "factor"),
        CallCase("negative", "p.source.inject_fault('latency', duration_s=-1)", "duration_s"),
        CallCase("zero", "p.source.inject_fault('latency', duration_s=0)", "duration_s"),
        CallCase("wrong_type", "p.source.inject_fault('latency', delay_s='slow')", "delay_s"),
        CallCase("stack_down", "p.source.inject_fault('latency')", "no responde"),
        CallCase("unknown_name", "p.source.price('nosuchcoin')", "nosuchcoin"),
        CallCase("unknown_name", "p.metrics('nosuchmetric')", "nosuchmetric"),
        CallCase("not_finite", "p.metrics('throughput', minutes=float('nan'))", "minutes"),
        CallCase("negative", "p.metrics('throughput', minutes=-5)", "minutes"),
        CallCase("zero", "p.metrics('throughput', minutes=0)", "minutes"),
        CallCase("unknown_name", "dataops.quality.run_on_layer(p, 'nosuchlayer', dataops.quality.load_suite())", "nosuchlayer"),
        CallCase("unknown_name", "p.logs('nosuchcomponent')", "nosuchcomponent"),
        CallCase("unknown_name", "p.iceberg.table('nosuch.table')", "nosuch.table"),
        CallCase("unknown_name", "dataops.scenarios.load_scenario('nosuchscenario')", "nosuchscenario"),
        CallCase("wrong_type", "dataops.alerts.parse_rules('rules: 5')", "rules"),
        CallCase("stack_down", "p.kafka.topic_names()", "no responde"),
    ]


CALL_CASES: list[CallCase] = _call_cases()


def run_call(code: str, tmp: Path) -> None:
    """Run a notebook call as a notebook would: ``dataops`` imported, ``p = dataops.connect()``."""
    import dataops
    import dataops.alerts
    import dataops.automation
    import dataops.quality
    import dataops.scenarios

    scope: dict[str, Any] = {"dataops": dataops, "p": dataops.connect(), "tmp": Path(tmp)}
    exec(code, scope)  # noqa: S102 - the case list's own code


def call_main(argv: list[str] | None = None) -> int:
    """``python -c '...call_main()' CODE TMP``: a notebook call's DataOpsError as one ``error:`` line
    and exit 2 (a notebook shows it as one line); anything else escapes with its traceback."""
    from dataops.errors import DataOpsError

    code, tmp = (argv or sys.argv[1:])[:2]
    try:
        run_call(code, Path(tmp))
    except DataOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("error: no error was raised", file=sys.stderr)
    return 0
