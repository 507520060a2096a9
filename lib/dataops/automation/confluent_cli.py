"""The ``confluent`` CLI as its reference pages document it: a table of flags per command, and a checker.

The commands of :mod:`dataops.automation.cloud_commands` cannot run here (no cloud account on the
course machine); :func:`check` keeps them honest as text: the command is one of :data:`CLI`, every
``--flag`` is one its page documents, the required ones and the positional arguments are there,
and the quoting of :func:`render` survives ``shlex.split``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

__all__ = ["CLI", "CliSpec", "HTTP_SOURCE_V2_KEYS", "SHELL_VAR", "check", "quote", "render"]

DOCS = "https://docs.confluent.io/confluent-cli/current/command-reference"


@dataclass(frozen=True)
class CliSpec:
    """One ``confluent`` command as its reference page documents it.

    ``positional``: the names of its required positional arguments; ``optional_positional``: how
    many more it accepts (``flink statement create [name]``); ``flags``: every ``--flag`` of the
    page (``boolean`` ones take no value); ``required``: the flags marked REQUIRED.
    """

    url: str
    positional: tuple[str, ...] = ()
    optional_positional: int = 0
    flags: frozenset[str] = frozenset()
    boolean: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    short: dict[str, str] = field(default_factory=dict)


# Global flags of every command (each page's "Global Flags").
GLOBAL_FLAGS = frozenset({"--help", "--unsafe-trace", "--verbose"})
GLOBAL_BOOLEAN = frozenset({"--help", "--unsafe-trace", "--verbose"})

# The flags each command documents (Confluent CLI 4.x, the "current" reference pages).
CLI: dict[str, CliSpec] = {
    # {DOCS}/environment/confluent_environment_use.html: `confluent environment use <id>`, global flags only
    "environment use": CliSpec(f"{DOCS}/environment/confluent_environment_use.html", positional=("id",)),
    # {DOCS}/kafka/cluster/confluent_kafka_cluster_use.html: `confluent kafka cluster use <id>`, global flags only
    "kafka cluster use": CliSpec(f"{DOCS}/kafka/cluster/confluent_kafka_cluster_use.html", positional=("id",)),
    # {DOCS}/kafka/topic/confluent_kafka_topic_create.html (Cloud flags)
    "kafka topic create": CliSpec(
        f"{DOCS}/kafka/topic/confluent_kafka_topic_create.html", positional=("topic",),
        flags=frozenset({"--partitions", "--config", "--kafka-endpoint", "--dry-run", "--if-not-exists", "--cluster", "--context",
                         "--environment"}),
        boolean=frozenset({"--dry-run", "--if-not-exists"})),  # fmt: skip
    # {DOCS}/connect/cluster/confluent_connect_cluster_create.html
    "connect cluster create": CliSpec(
        f"{DOCS}/connect/cluster/confluent_connect_cluster_create.html",
        flags=frozenset({"--config-file", "--cluster", "--context", "--environment", "--output"}),
        required=frozenset({"--config-file"}), short={"-o": "--output"}),  # fmt: skip
    # {DOCS}/flink/artifact/confluent_flink_artifact_create.html: `confluent flink artifact create <unique-name>`
    "flink artifact create": CliSpec(
        f"{DOCS}/flink/artifact/confluent_flink_artifact_create.html", positional=("unique-name",),
        flags=frozenset({"--artifact-file", "--cloud", "--region", "--environment", "--runtime-language", "--description",
                         "--documentation-link", "--context", "--output"}),
        required=frozenset({"--artifact-file", "--cloud", "--region"}), short={"-o": "--output"}),  # fmt: skip
    # {DOCS}/flink/statement/confluent_flink_statement_create.html (Cloud flags): `confluent flink statement create [name]`
    "flink statement create": CliSpec(
        f"{DOCS}/flink/statement/confluent_flink_statement_create.html", optional_positional=1,
        flags=frozenset({"--sql", "--compute-pool", "--service-account", "--database", "--wait", "--property", "--environment",
                         "--context", "--output", "--cloud", "--region"}),
        boolean=frozenset({"--wait"}), required=frozenset({"--sql"}), short={"-o": "--output"}),  # fmt: skip
    # {DOCS}/tableflow/topic/confluent_tableflow_topic_enable.html: `confluent tableflow topic enable <name>`
    "tableflow topic enable": CliSpec(
        f"{DOCS}/tableflow/topic/confluent_tableflow_topic_enable.html", positional=("name",),
        flags=frozenset({"--cluster", "--retention-ms", "--storage-type", "--provider-integration", "--bucket-name", "--table-formats",
                         "--storage-account-name", "--container-name", "--error-handling", "--log-target", "--context",
                         "--environment", "--output", "--record-failure-strategy"}),
        short={"-o": "--output"}),  # fmt: skip
}

# The HTTP Source V2 managed connector's configuration keys this module writes
# (https://docs.confluent.io/cloud/current/connectors/cc-http-source-v2.html, "Configuration properties";
# `apiN.` keys are per API path, N from 1 to apis.num).
HTTP_SOURCE_V2_KEYS = frozenset({
    "name", "connector.class", "kafka.auth.mode", "kafka.api.key", "kafka.api.secret", "output.data.format", "tasks.max",
    "http.api.base.url", "apis.num", "api1.http.api.path", "api1.http.request.method", "api1.topics", "api1.request.interval.ms",
    "api1.http.offset.mode", "api1.http.initial.offset",
})  # fmt: skip

# ${NAME} in an argument: a shell variable the script sets or the user exports (never a literal value).
SHELL_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def quote(arg: str) -> str:
    """Shell quoting that keeps ``${NAME}`` for bash to fill in and everything else literal."""
    parts, last = [], 0
    for m in SHELL_VAR.finditer(arg):
        if m.start() > last:
            parts.append(shlex.quote(arg[last:m.start()]))
        parts.append(f'"{m.group(0)}"')
        last = m.end()
    if last < len(arg) or not parts:
        parts.append(shlex.quote(arg[last:]))
    return "".join(parts)


def render(argv: tuple[str, ...] | list[str]) -> str:
    """One command line; ``shlex.split`` of it gives ``argv`` back."""
    return " ".join(quote(a) for a in argv)


# ---- the checker ------------------------------------------------------------------


def check(argv: tuple[str, ...] | list[str]) -> list[str]:
    """What is wrong with one command line, against :data:`CLI` (empty: nothing)."""
    argv = list(argv)
    if not argv or argv[0] != "confluent":
        return [f"no es un comando de confluent: {argv[:1]}"]
    spec_name = next((name for name in sorted(CLI, key=len, reverse=True) if argv[1:1 + len(name.split())] == name.split()), None)
    if spec_name is None:
        return [f"comando no documentado: confluent {' '.join(argv[1:4])}"]
    spec = CLI[spec_name]
    rest = argv[1 + len(spec_name.split()):]
    problems: list[str] = []
    positional: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(rest):
        token = rest[i]
        if token.startswith("-") and token != "-":
            flag, _, inline = token.partition("=")
            flag = spec.short.get(flag, flag)
            if flag not in spec.flags | GLOBAL_FLAGS:
                problems.append(f"confluent {spec_name}: flag no documentado {flag} ({spec.url})")
                i += 1
                continue
            seen.add(flag)
            if flag in spec.boolean | GLOBAL_BOOLEAN:
                i += 1
                continue
            if not inline:
                if i + 1 >= len(rest) or (rest[i + 1].startswith("--")):
                    problems.append(f"confluent {spec_name}: {flag} necesita un valor")
                    i += 1
                    continue
                i += 1
            i += 1
        else:
            positional.append(token)
            i += 1
    if len(positional) < len(spec.positional):
        missing = spec.positional[len(positional)]
        problems.append(f"confluent {spec_name}: falta el argumento <{missing}>")
    if len(positional) > len(spec.positional) + spec.optional_positional:
        problems.append(f"confluent {spec_name}: argumentos de más: {positional[len(spec.positional) + spec.optional_positional:]}")
    for flag in sorted(spec.required - seen):
        problems.append(f"confluent {spec_name}: falta {flag} (obligatorio)")
    if shlex.split(render(argv)) != argv:
        problems.append(f"confluent {spec_name}: las comillas no sobreviven a shlex.split")
    return problems
