"""The pipeline declaration (``data/pipeline/pipeline.yaml``): read, filled in, checked.

``${name}`` placeholders are settings (or ``price_url`` / ``source_api_url``); the rest is
the pipeline's shape. A declaration that is wrong (unknown key, wrong type, negative
partitions, a connector on a topic nobody declares) is refused with the file, the line and
what is expected, before anything is touched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from dataops.classroom.namespace import own_prefix, resolve
from dataops.config import DATA_DIR, Settings
from dataops.errors import DataOpsError, DeclarationError
from dataops.userfiles import read_text

DECLARATION_PATH = DATA_DIR / "pipeline" / "pipeline.yaml"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_DERIVED = ("price_url", "source_api_url", "bootstrap_servers", "simulator_url", "connect_url", "flink_url")


def _text(value: Any) -> Any:
    """Config values are strings for Kafka and Connect; a YAML number or boolean is accepted as one."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, (int, float)) else value


Configs = dict[str, Annotated[str, BeforeValidator(_text)]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Topic(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    partitions: int = Field(ge=1, le=64)
    config: Configs = Field(default_factory=dict)


class Connector(_Strict):
    """The HTTP source connector: polls ``url`` into ``topic``."""

    name: str = Field(min_length=1)
    kind: Literal["http_source"]
    url: str = Field(min_length=1)
    topic: str
    poll_interval_s: float = Field(default=5.0, gt=0)
    config: Configs = Field(default_factory=dict)


class Job(_Strict):
    """The Flink explode job: ``source`` polls → one row per coin in ``sink``; bad ones to ``dead_letter``."""

    name: str = Field(min_length=1)
    kind: Literal["explode"]
    source: str
    sink: str
    dead_letter: str


class Table(_Strict):
    name: str = Field(pattern=r"^[\w-]+\.[\w-]+$")  # namespace.table; Tableflow names a table after its topic


class Sink(_Strict):
    """The Iceberg sink connector ("Tableflow"): ``topic`` → ``table``, exactly once."""

    name: str = Field(min_length=1)
    kind: Literal["iceberg"]
    topic: str
    table: str
    control_topic: str
    commit_interval_s: float = Field(default=1.0, gt=0, le=60)
    dead_letter: str | None = None  # where a record the sink cannot convert goes, with its reason


class Check(_Strict):
    """One pre-flight or validation check.

    Kinds: ``http`` (``url`` answers ``status``), ``tcp`` (``host``:``port`` accepts a
    connection), ``topic_flowing`` (new messages on ``topic`` within ``within_s``),
    ``table_fresh`` (a poll newer than the check seen as rows of ``table`` in DuckDB),
    ``connector_running``, ``job_running`` (by ``name`` of the resource: ``target``).
    """

    name: str = Field(min_length=1)
    kind: Literal["http", "tcp", "topic_flowing", "table_fresh", "connector_running", "job_running"]
    url: str | None = None
    status: int = Field(default=200, ge=100, le=599)
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    topic: str | None = None
    table: str | None = None
    target: str | None = None
    within_s: float = Field(default=30.0, gt=0, le=600)
    timeout_s: float = Field(default=3.0, gt=0, le=60)


_NEEDS = {"http": ("url",), "tcp": ("host", "port"), "topic_flowing": ("topic",), "table_fresh": ("table",),
          "connector_running": ("target",), "job_running": ("target",)}  # fmt: skip


class Declaration(_Strict):
    """The whole pipeline: what ``plan`` compares and ``apply`` creates."""

    topics: list[Topic] = Field(default_factory=list)
    connectors: list[Connector] = Field(default_factory=list)
    jobs: list[Job] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    sinks: list[Sink] = Field(default_factory=list)
    preflight: list[Check] = Field(default_factory=list)
    validation: list[Check] = Field(default_factory=list)
    source: str = Field(default="", exclude=True)  # where it was read from (for messages)

    def topic(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name), None)

    def extended(self, other: Declaration) -> Declaration:
        """This declaration with ``other``'s resources added (same kind and name: ``other`` wins)."""
        merged: dict[str, Any] = {}
        for section in SECTIONS:
            mine, theirs = getattr(self, section), getattr(other, section)
            replacing = {item.name: item for item in theirs}
            names = {item.name for item in mine}
            merged[section] = [replacing.get(item.name, item) for item in mine] + [t for t in theirs if t.name not in names]
        return Declaration(**merged, source=f"{self.source} + {other.source}")


SECTIONS = ("topics", "connectors", "jobs", "tables", "sinks", "preflight", "validation")


def values(settings: Settings) -> dict[str, str]:
    """What ``${name}`` can stand for: every setting (secrets excluded) and a few derived addresses.

    A derived address the settings cannot give (the bootstrap of a profile missing its settings)
    is left out; :func:`_fill` says why when a declaration uses it."""
    out = {k.removeprefix("DATAOPS_").lower(): v for k, v in settings.as_env().items()}
    for name in _DERIVED:
        try:
            out[name] = _derived(settings, name)
        except Exception:  # noqa: BLE001 - reported by _fill with its cause, only if it is used
            continue
    return out


def _derived(settings: Settings, name: str) -> str:
    return str(getattr(settings, name) if name != "price_url" else settings.price_url())


def _fill(node: Any, known: dict[str, str], where: str, root: yaml.Node | None = None, loc: tuple[Any, ...] = (),
          settings: Settings | None = None) -> Any:  # fmt: skip
    if isinstance(node, dict):
        return {str(k): _fill(v, known, where, root, (*loc, k), settings) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, known, where, root, (*loc, i), settings) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name not in known and name in _DERIVED and settings is not None:
            try:
                return _derived(settings, name)
            except DataOpsError as exc:  # e.g. DATAOPS_KAFKA_BOOTSTRAP not set: say that, not "unknown"
                raise DeclarationError(f"{where} línea {_line_of(root, loc)}: el placeholder ${{{name}}} no tiene valor: {exc.message}",
                                       exc.hint) from None  # fmt: skip
        if name not in known:
            raise DeclarationError(f"{where} línea {_line_of(root, loc)}: placeholder desconocido ${{{name}}}",
                                   "usa el nombre de un ajuste de `dataops config` (en minúsculas)")  # fmt: skip
        return known[name]

    return _PLACEHOLDER.sub(one, node)


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (keys and list indexes), or its nearest parent."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == str(part)), None)
            key = next((k for k, v in node.value if k.value == str(part)), None)
            if nxt is None:
                break
            node, line = nxt, key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse(text: str, settings: Settings, source: str = "<text>", base: Declaration | None = None) -> Declaration:
    """Parse declaration text; every problem is one :class:`DeclarationError` with the line.

    Args:
        base: The declaration this text extends: its topics and tables may be referred to.
    """
    try:
        root = yaml.compose(text)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" línea {mark.line + 1}" if mark else ""
        raise DeclarationError(f"{source}{line}: YAML mal formado ({getattr(exc, 'problem', None) or 'sintaxis'})",
                               "corrige la sangría o las comillas de esa línea (escribe los placeholders entre comillas: \"${name}\")") from None  # fmt: skip
    doc = doc if doc is not None else {}
    if not isinstance(doc, dict):
        raise DeclarationError(f"{source} línea 1: una declaración es un mapping", f"empieza por una de estas secciones: {', '.join(SECTIONS)}")
    unknown = [k for k in doc if k not in SECTIONS]
    if unknown:
        line = _line_of(root, (unknown[0],))
        raise DeclarationError(f"{source} línea {line}: clave desconocida {unknown[0]!r}", f"las secciones válidas son: {', '.join(SECTIONS)}")
    filled = _fill(doc, values(settings), source, root, settings=settings)
    try:
        decl = Declaration(**{k: v or [] for k, v in filled.items()}, source=source)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        path = ".".join(str(p) for p in loc)
        what = err["msg"] if err["type"] != "extra_forbidden" else "clave desconocida"
        got = "" if err["type"] == "missing" else f" (recibido {err.get('input')!r})"
        raise DeclarationError(f"{source} línea {_line_of(root, loc)}: {path}: {what}{got}"[:300],
                               _expected(loc)) from None  # fmt: skip
    decl = _in_namespace(decl, settings)
    _check_references(decl, root, base)
    return decl


#: Each section's fields that name a topic, connector or job (a table's name carries its namespace).
_NAMED = {"topics": ("name",), "connectors": ("name", "topic"), "jobs": ("name", "source", "sink", "dead_letter"),
          "sinks": ("name", "topic", "control_topic", "dead_letter"), "preflight": ("topic", "target"), "validation": ("topic", "target")}  # fmt: skip


def _in_namespace(decl: Declaration, settings: Settings) -> Declaration:
    """Every name as the active learner's in a class (``crypto-alerts`` is ``ana.crypto-alerts``,
    :func:`dataops.classroom.namespace.resolve`), so a notebook's declaration runs unchanged in a
    namespace; the declaration itself outside a class."""
    if not own_prefix(settings):
        return decl
    update = {}
    for section, fields in _NAMED.items():
        update[section] = [item.model_copy(update={f: resolve(settings, v) for f in fields if isinstance(v := getattr(item, f), str)})
                           for item in getattr(decl, section)]  # fmt: skip
    return decl.model_copy(update=update)


def _expected(loc: tuple[Any, ...]) -> str:
    section = str(loc[0]) if loc else ""
    model = {"topics": Topic, "connectors": Connector, "jobs": Job, "tables": Table, "sinks": Sink,
             "preflight": Check, "validation": Check}.get(section)  # fmt: skip
    if model is None:
        return f"las secciones válidas son: {', '.join(SECTIONS)}"
    return f"una entrada de `{section}` tiene: {', '.join(model.model_fields)}"


def _check_references(decl: Declaration, root: yaml.Node | None, base: Declaration | None = None) -> None:
    """Every topic a connector, job or sink names is declared (here or in ``base``); names are
    unique; checks have what they need."""
    topics = {t.name for t in (*decl.topics, *(base.topics if base else ()))}
    tables = {t.name for t in (*decl.tables, *(base.tables if base else ()))}

    def refuse(loc: tuple[Any, ...], message: str, hint: str) -> None:
        raise DeclarationError(f"{decl.source} línea {_line_of(root, loc)}: {message}", hint)

    for section in SECTIONS:
        names = [item.name for item in getattr(decl, section)]
        for i, name in enumerate(names):
            if names.index(name) != i:
                refuse((section, i, "name"), f"{section}: {name!r} está declarado dos veces", "da a cada entrada su propio nombre")
    refs: list[tuple[tuple[Any, ...], str]] = []
    for i, c in enumerate(decl.connectors):
        refs.append((("connectors", i, "topic"), c.topic))
    for i, j in enumerate(decl.jobs):
        refs += [(("jobs", i, f), getattr(j, f)) for f in ("source", "sink", "dead_letter")]
    for i, s in enumerate(decl.sinks):
        refs += [(("sinks", i, f), getattr(s, f)) for f in ("topic", "control_topic", "dead_letter") if getattr(s, f) is not None]
        if s.table not in tables:
            refuse(("sinks", i, "table"), f"el sink {s.name} escribe la tabla {s.table!r}, que no está declarada", "añádela en `tables:`")
    for loc, name in refs:
        if name not in topics:
            refuse(loc, f"{loc[0][:-1]} {getattr(decl, loc[0])[loc[1]].name} usa el topic {name!r}, que no está declarado",
                   f"decláralo en `topics:` o usa uno de estos: {', '.join(sorted(topics))}")  # fmt: skip
    for section in ("preflight", "validation"):
        for i, check in enumerate(getattr(decl, section)):
            missing = [f for f in _NEEDS[check.kind] if getattr(check, f) is None]
            if missing:
                refuse((section, i), f"el check {check.name} ({check.kind}) necesita {', '.join(missing)}", f"añádele `{missing[0]}:`")


def load(settings: Settings, path: str | Path | None = None, extra: str | Path | None = None) -> Declaration:
    """The project's declaration (or ``path``), extended by ``extra`` (YAML text or a file).

    Raises:
        DeclarationError: The file is missing or wrong; the message has the file and the line.
    """
    path = Path(path) if path else DECLARATION_PATH
    empty = f"declara sus recursos en {', '.join(SECTIONS[:5])} (mira data/pipeline/pipeline.yaml)"
    text = read_text(path, "la declaración del pipeline", DeclarationError, empty_hint=empty)
    decl = parse(text, settings, path.name)
    if extra is None:
        return decl
    if isinstance(extra, Path) or (isinstance(extra, str) and "\n" not in extra and extra.endswith((".yaml", ".yml"))):
        extra_path = Path(extra)
        extra_text, name = read_text(extra_path, "la extensión de la declaración", DeclarationError, empty_hint=empty), extra_path.name
    else:
        extra_text, name = str(extra), "extensión"
    return decl.extended(parse(extra_text, settings, name, base=decl))
